/* SPDX-License-Identifier: MIT */
/*
 * What the host-side tests share: a failure count, CHECK (says only what
 * failed, for checks inside loops) and REPORT (says PASS or FAIL),
 * start_at() for real-mode guests at physical addresses below 64 KiB, and
 * vm_or_skip() for the skip where no VM can be made.
 */
#ifndef LIBVM_TESTS_HOST_TEST_H
#define LIBVM_TESTS_HOST_TEST_H

#include <stdio.h>
#include <stdlib.h>

#include <libvm/libvm.h>

static int failures;

#define CHECK(cond, ...)                                                     \
	do {                                                                 \
		if (!(cond)) {                                               \
			failures++;                                          \
			printf("FAIL: " __VA_ARGS__);                        \
			printf(" [%s]\n", libvm_error_message());            \
		}                                                            \
	} while (0)

#define REPORT(cond, ...)                                                    \
	do {                                                                 \
		if (cond) {                                                  \
			printf("PASS: " __VA_ARGS__);                        \
			printf("\n");                                        \
		} else {                                                     \
			CHECK(0, __VA_ARGS__);                               \
		}                                                            \
	} while (0)

/* A VM on the default device, or the test skips (exit 77) saying why. */
static inline libvm_vm *vm_or_skip(void)
{
	libvm_vm *vm;
	int err = libvm_vm_create(&vm, NULL);

	if (err) {
		printf("SKIP: cannot create a VM: %s (%s)\n", libvm_strerror(err),
		       libvm_error_message());
		exit(77);
	}
	return vm;
}

/* Real mode, CS base 0, RIP = @rip. */
static inline int start_at(libvm_vcpu *v, uint64_t rip)
{
	libvm_sregs s;
	libvm_regs r = { .rip = rip, .rflags = 2 };
	int err = libvm_vcpu_get_sregs(v, &s);

	if (err)
		return err;
	s.cs.base = 0;
	s.cs.selector = 0;
	err = libvm_vcpu_set_sregs(v, &s);
	return err ? err : libvm_vcpu_set_regs(v, &r);
}

#endif
