/* SPDX-License-Identifier: MIT */
/*
 * Flat binary loader: real-mode entry below 1 MiB, flat 32-bit entry with
 * a GDT above it, and images that do not fit guest RAM rejected with
 * nothing written.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "testmem.h"

static const uint8_t code[] = { 0xba, 0xf8, 0x03, 0xb0, 'x', 0xee, 0xf4 };

static void test_flat_real_mode(void **state)
{
	struct testmem *t = tm_new(0x400000, 0);
	libvm_boot b;

	assert_int_equal(libvm__load_flat(&b, &t->gm, code, sizeof(code), 0x10000), 0);
	assert_memory_equal(t->buf + 0x10000, code, sizeof(code));
	/* Only the image was written: no GDT in real mode. */
	assert_true(tm_fill_between(t, 0, 0x10000));
	assert_true(tm_fill_between(t, 0x10000 + sizeof(code), t->size));
	assert_int_equal(b.mode, LIBVM_BOOT_REAL16);
	assert_int_equal(b.code_selector, 0x1000);
	assert_int_equal(b.data_selector, 0x1000);
	assert_int_equal(b.entry, 0);
	assert_int_equal(b.kernel_start, 0x10000);
	assert_int_equal(b.kernel_end, 0x10000 + sizeof(code));
	tm_free(t);
}

static void test_flat_unaligned_real_mode(void **state)
{
	struct testmem *t = tm_new(0x400000, 0);
	libvm_boot b;

	assert_int_equal(libvm__load_flat(&b, &t->gm, code, sizeof(code), 0x7c05), 0);
	assert_int_equal(b.code_selector, 0x7c0);
	assert_int_equal(b.entry, 5);
	tm_free(t);
}

static void test_flat_protected_mode_above_1mib(void **state)
{
	struct testmem *t = tm_new(0x400000, 0);
	libvm_boot b;
	uint64_t gdt[LIBVM__GDT_ENTRIES];

	assert_int_equal(libvm__load_flat(&b, &t->gm, code, sizeof(code), 0x200000), 0);
	assert_memory_equal(t->buf + 0x200000, code, sizeof(code));
	assert_int_equal(b.mode, LIBVM_BOOT_PROT32);
	assert_int_equal(b.entry, 0x200000);
	assert_int_equal(b.code_selector, 0x08);
	assert_int_equal(b.data_selector, 0x10);
	assert_int_equal(b.gdt_base, LIBVM_BOOT_GDT_GPA);
	assert_int_equal(b.gdt_limit, 8 * LIBVM__GDT_ENTRIES - 1);
	libvm__boot_gdt(gdt);
	for (int i = 0; i < LIBVM__GDT_ENTRIES; i++)
		assert_true(tm_le64(t, LIBVM_BOOT_GDT_GPA + 8 * (uint64_t)i) == gdt[i]);
	tm_free(t);
}

static void test_flat_outside_ram(void **state)
{
	struct testmem *t = tm_new(0x400000, 0);
	libvm_boot b;

	memset(&b, 0x77, sizeof(b));
	/* Runs past the end of RAM by one byte. */
	assert_int_equal(libvm__load_flat(&b, &t->gm, code, sizeof(code), 0x400000 - 6), -EFAULT);
	assert_non_null(strstr(libvm_error_message(), "outside guest RAM"));
	/* Wholly outside, and wrapping around the address space. */
	assert_int_equal(libvm__load_flat(&b, &t->gm, code, sizeof(code), 0x10000000), -EFAULT);
	assert_int_equal(libvm__load_flat(&b, &t->gm, code, sizeof(code), UINT64_MAX - 2), -EFAULT);
	assert_true(tm_untouched(t));
	assert_int_equal(b.mode, 0x77777777u); /* boot untouched on failure */
	tm_free(t);
}

static void test_flat_bad_arguments(void **state)
{
	struct testmem *t = tm_new(0x100000, 0);
	libvm_boot b;

	assert_int_equal(libvm__load_flat(&b, &t->gm, code, 0, 0x1000), -EINVAL);
	assert_int_equal(libvm__load_flat(&b, &t->gm, NULL, 1, 0x1000), -EINVAL);
	assert_int_equal(libvm__load_flat(NULL, &t->gm, code, 1, 0x1000), -EINVAL);
	assert_true(tm_untouched(t));
	/* The public wrapper rejects a NULL VM. */
	assert_int_equal(libvm_load_flat(&b, NULL, code, sizeof(code), 0), -EINVAL);
	tm_free(t);
}

static void test_flat_gdt_moves_off_the_image(void **state)
{
	static uint8_t big[0x200000];
	struct testmem *t = tm_new(0x400000, 0);
	libvm_boot b;

	/* Ends above 1 MiB, so protected mode, and covers 0x500, where the
	 * GDT usually goes: the GDT moves above the image instead. */
	assert_int_equal(libvm__load_flat(&b, &t->gm, big, sizeof(big), 0), 0);
	assert_true(b.gdt_base >= sizeof(big));
	assert_true(tm_le64(t, b.gdt_base + 8) == 0x00cf9b000000ffffull);
	tm_free(t);
	/* An image that fills RAM leaves no room for it. */
	t = tm_new(sizeof(big), 0);
	assert_int_equal(libvm__load_flat(&b, &t->gm, big, sizeof(big), 0), -ENOSPC);
	assert_non_null(strstr(libvm_error_message(), "GDT"));
	assert_true(tm_untouched(t));
	tm_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flat_real_mode),
		cmocka_unit_test(test_flat_unaligned_real_mode),
		cmocka_unit_test(test_flat_protected_mode_above_1mib),
		cmocka_unit_test(test_flat_outside_ram),
		cmocka_unit_test(test_flat_bad_arguments),
		cmocka_unit_test(test_flat_gdt_moves_off_the_image),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
