/* SPDX-License-Identifier: MIT */
/*
 * A program built against the *installed* libvm through pkg-config: proves
 * the headers, the .pc file and the shared library work outside the tree.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libvm/libvm.h>

int main(void)
{
	libvm_vm *vm = NULL;
	libvm_vm_options o = LIBVM_VM_OPTIONS_INIT;
	int err;

	if (strcmp(libvm_version(), LIBVM_VERSION_STRING) != 0) {
		printf("FAIL: library %s, headers %s\n", libvm_version(), LIBVM_VERSION_STRING);
		return 1;
	}
	o.device_path = "/nonexistent";
	err = libvm_vm_create(&vm, &o);
	if (err != -ENOENT || vm) {
		printf("FAIL: create on a missing device returned %d\n", err);
		return 1;
	}
	printf("PASS: installed libvm %s works (%s: %s)\n", libvm_version(), libvm_strerror(err),
	       libvm_error_message());
	return 0;
}
