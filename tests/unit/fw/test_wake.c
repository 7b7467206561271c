/* SPDX-License-Identifier: MIT */
/*
 * libvm_acpi_waking_vector(): from the RSDP through the XSDT and FADT to
 * the FACS the guest wrote its waking vector into, as real mode CS:IP;
 * refused when the guest asked for a protected-mode wake, left the vector
 * 0 or above 1 MiB, or when the tables are broken.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include <libvm/load.h>

#include "../fakevm.h"

static void test_waking_vector(void **state)
{
	libvm_vm *vm = fakevm_new(NULL);
	uint64_t rsdp = 0, facs;
	uint32_t vec = 0x3000;
	uint64_t xvec = 0x123000;
	libvm_boot b;

	(void)state;
	fakevm_ram(vm, 0, 1 << 20, "ram");
	assert_int_equal(libvm_acpi_build(&rsdp, vm, NULL), 0);
	facs = rsdp + 64; /* where libvm_acpi_build() puts it */
	/* The guest has not set one yet. */
	assert_int_equal(libvm_acpi_waking_vector(&b, vm, rsdp), -EINVAL);
	assert_int_equal(libvm_mem_write(vm, facs + 12, &vec, 4), 0);
	assert_int_equal(libvm_acpi_waking_vector(&b, vm, rsdp), 0);
	assert_int_equal(b.mode, LIBVM_BOOT_REAL16);
	assert_int_equal(b.code_selector, 0x300);
	assert_int_equal(b.entry, 0);
	vec = 0x12345;
	libvm_mem_write(vm, facs + 12, &vec, 4);
	assert_int_equal(libvm_acpi_waking_vector(&b, vm, rsdp), 0);
	assert_int_equal(b.code_selector, 0x1234);
	assert_int_equal(b.entry, 5);
	/* A protected-mode wake is not offered. */
	libvm_mem_write(vm, facs + 24, &xvec, 8);
	assert_int_equal(libvm_acpi_waking_vector(&b, vm, rsdp), -ENOTSUP);
	assert_non_null(strstr(libvm_error_message(), "X_Firmware_Waking_Vector"));
	xvec = 0;
	libvm_mem_write(vm, facs + 24, &xvec, 8);
	/* Broken tables: no RSDP there, no FACS signature. */
	assert_int_equal(libvm_acpi_waking_vector(&b, vm, rsdp + 16), -EINVAL);
	assert_int_equal(libvm_acpi_waking_vector(&b, vm, 0xfffffff0), -EFAULT);
	libvm_mem_write(vm, facs, "XXXX", 4);
	assert_int_equal(libvm_acpi_waking_vector(&b, vm, rsdp), -EINVAL);
	assert_int_equal(libvm_acpi_waking_vector(NULL, vm, rsdp), -EINVAL);
	assert_int_equal(libvm_acpi_waking_vector(&b, NULL, rsdp), -EINVAL);
	libvm_vm_destroy(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_waking_vector),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
