/* SPDX-License-Identifier: MIT */
/*
 * The smallest complete libvm program: one page of RAM, a few bytes of
 * real-mode code that print "Hello" through port 0x3f8, and a HLT.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <libvm/libvm.h>

/* Prints each byte the guest writes to the port. */
static int console(libvm_vcpu *vcpu, uint64_t port, void *data, uint32_t len,
		   bool is_write, void *opaque)
{
	if (is_write)
		fputc(*(const char *)data, stdout);
	return 0;
}

static int check(int err, const char *what)
{
	if (err < 0) {
		fprintf(stderr, "hello: %s: %s (%s)\n", what, libvm_strerror(err),
			libvm_error_message());
		exit(err == -ENOENT || err == -EACCES ? 77 : 1);
	}
	return err;
}

int main(void)
{
	/* mov dx,0x3f8; mov si,msg; lodsb; test al,al; jz done; out dx,al;
	 * jmp loop; done: hlt; msg: "Hello from the guest\n\0" (at 0x1000) */
	static const unsigned char code[] = {
		0xba, 0xf8, 0x03, 0xbe, 0x0f, 0x10, 0xac, 0x84, 0xc0, 0x74,
		0x03, 0xee, 0xeb, 0xf8, 0xf4, 'H', 'e', 'l', 'l', 'o', ' ',
		'f', 'r', 'o', 'm', ' ', 't', 'h', 'e', ' ', 'g', 'u', 'e',
		's', 't', '\n', 0,
	};
	libvm_vm *vm;
	libvm_vcpu *vcpu;
	libvm_sregs sregs;
	libvm_regs regs = { .rip = 0x1000, .rflags = 0x2 };
	libvm_exit exit_info;

	check(libvm_vm_create(&vm, NULL), "create VM");
	check(libvm_region_map_ram(NULL, vm, 0, 0x10000), "map RAM");
	check(libvm_mem_write(vm, 0x1000, code, sizeof(code)), "load code");
	check(libvm_io_register(vm, LIBVM_SPACE_PIO, 0x3f8, 1, "console", console, NULL),
	      "register console");
	check(libvm_vcpu_create(&vcpu, vm, 0), "create vCPU");
	/* Real mode with CS base 0, so IP is the physical address. */
	check(libvm_vcpu_get_sregs(vcpu, &sregs), "get sregs");
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	check(libvm_vcpu_set_sregs(vcpu, &sregs), "set sregs");
	check(libvm_vcpu_set_regs(vcpu, &regs), "set regs");
	check(libvm_vcpu_run(vcpu, &exit_info), "run");
	if (exit_info.reason != LIBVM_EXIT_HLT) {
		fprintf(stderr, "hello: unexpected exit reason %u\n", exit_info.reason);
		return 1;
	}
	libvm_vm_destroy(vm);
	return 0;
}
