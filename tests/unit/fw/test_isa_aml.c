/* SPDX-License-Identifier: MIT */
/*
 * The ISA devices' AML: each flag adds its object (checked by the encoded
 * EisaIds and resources, which iasl -d disassembles to the devices named
 * in docs/linux.md), sizes are reported, bad arguments refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include <libvm/load.h>

static bool has(const uint8_t *b, size_t n, const void *pat, size_t m)
{
	for (size_t i = 0; i + m <= n; i++)
		if (!memcmp(b + i, pat, m))
			return true;
	return false;
}

static void test_objects(void **state)
{
	static const uint8_t pnp0303[] = { 0x0c, 0x41, 0xd0, 0x03, 0x03 };
	static const uint8_t pnp0f13[] = { 0x0c, 0x41, 0xd0, 0x0f, 0x13 };
	static const uint8_t pnp0b00[] = { 0x0c, 0x41, 0xd0, 0x0b, 0x00 };
	static const uint8_t io64[] = { 0x47, 0x01, 0x64, 0x00, 0x64, 0x00, 0x01, 0x01 };
	static const uint8_t irq12[] = { 0x22, 0x00, 0x10 };
	static const uint8_t s3[] = { 0x08, '_', 'S', '3', '_', 0x12, 0x06, 0x04, 1, 1, 0, 0 };
	uint8_t b[512];
	size_t n = sizeof(b);

	assert_int_equal(libvm_acpi_isa_aml(b, &n, LIBVM_ACPI_AML_I8042), 0);
	assert_int_equal(b[0], 0x10); /* Scope */
	assert_true(has(b, n, "\\_SB_", 5));
	assert_true(has(b, n, pnp0303, sizeof(pnp0303)));
	assert_true(has(b, n, pnp0f13, sizeof(pnp0f13)));
	assert_true(has(b, n, io64, sizeof(io64)));
	assert_true(has(b, n, irq12, sizeof(irq12)));
	assert_false(has(b, n, pnp0b00, sizeof(pnp0b00)));
	assert_false(has(b, n, s3, sizeof(s3)));
	n = sizeof(b);
	assert_int_equal(libvm_acpi_isa_aml(b, &n, LIBVM_ACPI_AML_RTC | LIBVM_ACPI_AML_S3), 0);
	assert_true(has(b, n, pnp0b00, sizeof(pnp0b00)));
	assert_true(has(b, n, s3, sizeof(s3)));
	assert_false(has(b, n, pnp0303, sizeof(pnp0303)));
	n = sizeof(b);
	assert_int_equal(libvm_acpi_isa_aml(b, &n, 0), 0);
	assert_int_equal(n, 0);
}

static void test_sizes_and_errors(void **state)
{
	uint8_t b[16];
	size_t n = 0, need;

	assert_int_equal(libvm_acpi_isa_aml(NULL, &n, 7), -E2BIG);
	need = n;
	assert_true(need > 100);
	n = sizeof(b);
	assert_int_equal(libvm_acpi_isa_aml(b, &n, 7), -E2BIG);
	assert_int_equal(n, need);
	assert_int_equal(libvm_acpi_isa_aml(b, NULL, 1), -EINVAL);
	n = 4;
	assert_int_equal(libvm_acpi_isa_aml(NULL, &n, 1), -EINVAL);
	n = sizeof(b);
	assert_int_equal(libvm_acpi_isa_aml(b, &n, 0x80), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_objects),
		cmocka_unit_test(test_sizes_and_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
