/* SPDX-License-Identifier: MIT */
/*
 * Entry states and shared pieces: the registers libvm_boot_apply() would
 * load for each mode, the identity page tables, format detection, the
 * memory map handed to guests and the guest-memory range checks.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "testmem.h"

static libvm_sregs reset_sregs(void)
{
	/* Roughly what KVM reports at reset: real mode, CD/NW set. */
	libvm_sregs s = { .cr0 = 0x60000010, .efer = 0 };

	s.cs = (libvm_segment){ .base = 0xffff0000, .limit = 0xffff, .selector = 0xf000,
				.type = 0xb, .present = 1, .s = 1 };
	return s;
}

static void assert_flat(const libvm_segment *s, uint16_t sel, uint8_t type, uint8_t db,
			uint8_t l)
{
	assert_int_equal(s->base, 0);
	assert_int_equal(s->limit, 0xffffffff);
	assert_int_equal(s->selector, sel);
	assert_int_equal(s->type, type);
	assert_int_equal(s->present, 1);
	assert_int_equal(s->s, 1);
	assert_int_equal(s->g, 1);
	assert_int_equal(s->db, db);
	assert_int_equal(s->l, l);
	assert_int_equal(s->dpl, 0);
}

static void test_state_protected32_multiboot(void **state)
{
	libvm_boot b;
	libvm_regs r;
	libvm_sregs s = reset_sregs();
	uint64_t gdt[LIBVM__GDT_ENTRIES];

	libvm__boot_init_prot32(&b, 0x100000, LIBVM_BOOT_GDT_GPA);
	b.rax = LIBVM_MULTIBOOT_BOOTLOADER_MAGIC;
	b.rbx = 0x7000;
	assert_int_equal(libvm__boot_state(&b, &r, &s), 0);
	assert_int_equal(r.rip, 0x100000);
	assert_int_equal(r.rax, 0x2BADB002);
	assert_int_equal(r.rbx, 0x7000);
	assert_int_equal(r.rflags, 0x2);
	assert_flat(&s.cs, 0x08, 0xb, 1, 0);
	assert_flat(&s.ds, 0x10, 0x3, 1, 0);
	assert_flat(&s.ss, 0x10, 0x3, 1, 0);
	assert_flat(&s.es, 0x10, 0x3, 1, 0);
	assert_int_equal(s.cr0 & 1, 1);                  /* PE */
	assert_int_equal(s.cr0 & 0x80000000u, 0);        /* PG off */
	assert_int_equal(s.efer & 0x500, 0);
	assert_int_equal(s.gdt.base, LIBVM_BOOT_GDT_GPA);
	assert_int_equal(s.tr.type, 0xb);
	assert_int_equal(s.tr.present, 1);
	/* The hidden state matches the descriptors the loader writes. */
	libvm__boot_gdt(gdt);
	assert_true(gdt[s.cs.selector / 8] == 0x00cf9b000000ffffull);
	assert_true(gdt[s.ds.selector / 8] == 0x00cf93000000ffffull);
}

static void test_state_long64(void **state)
{
	libvm_boot b;
	libvm_regs r;
	libvm_sregs s = reset_sregs();
	uint64_t gdt[LIBVM__GDT_ENTRIES];

	libvm__boot_init_long64(&b, 0x200000, LIBVM_BOOT_GDT_GPA, LIBVM_BOOT_PAGETABLE_GPA);
	assert_int_equal(libvm__boot_state(&b, &r, &s), 0);
	assert_flat(&s.cs, 0x18, 0xb, 0, 1);
	assert_flat(&s.ds, 0x10, 0x3, 1, 0);
	assert_int_equal(s.cr0 & 0x80000001u, 0x80000001u);
	assert_int_equal(s.cr4 & 0x20, 0x20);
	assert_int_equal(s.efer & 0x500, 0x500);
	assert_int_equal(s.cr3, LIBVM_BOOT_PAGETABLE_GPA);
	libvm__boot_gdt(gdt);
	assert_true(gdt[s.cs.selector / 8] == 0x00af9b000000ffffull);
}

static void test_state_real16(void **state)
{
	libvm_boot b = { .mode = LIBVM_BOOT_REAL16, .code_selector = 0x1000,
			 .data_selector = 0x2000, .entry = 0x10, .rsi = 3 };
	libvm_regs r;
	libvm_sregs s = reset_sregs();

	assert_int_equal(libvm__boot_state(&b, &r, &s), 0);
	assert_int_equal(s.cs.base, 0x10000);
	assert_int_equal(s.cs.limit, 0xffff);
	assert_int_equal(s.ds.base, 0x20000);
	assert_int_equal(s.cr0 & 1, 0);
	assert_int_equal(r.rip, 0x10);
	assert_int_equal(r.rsi, 3);
	b.entry = 0x10000;
	assert_int_equal(libvm__boot_state(&b, &r, &s), -EINVAL);
}

static void test_state_bad_mode(void **state)
{
	libvm_boot b = { .mode = 42 };
	libvm_regs r;
	libvm_sregs s = reset_sregs();

	assert_int_equal(libvm__boot_state(&b, &r, &s), -EINVAL);
	assert_int_equal(libvm_boot_apply(NULL, &b), -EINVAL);
}

static void test_page_tables(void **state)
{
	struct testmem *t = tm_new(0x100000, 0);
	libvm_boot b;

	libvm__boot_init_long64(&b, 0x100000, LIBVM_BOOT_GDT_GPA, LIBVM_BOOT_PAGETABLE_GPA);
	assert_int_equal(libvm__boot_write_tables(&t->gm, &b), 0);
	assert_true(tm_le64(t, 0x9000) == (0xa000 | 3));
	for (uint64_t i = 0; i < 4; i++)
		assert_true(tm_le64(t, 0xa000 + 8 * i) == ((0xb000 + 0x1000 * i) | 3));
	/* 2 MiB identity pages up to 4 GiB: first, one in the middle, last. */
	assert_true(tm_le64(t, 0xb000) == 0x83);
	assert_true(tm_le64(t, 0xb000 + 8 * 1000) == ((1000ull << 21) | 0x83));
	assert_true(tm_le64(t, 0xb000 + 8 * 2047) == ((2047ull << 21) | 0x83));
	/* Nothing beyond the GDT and the tables. */
	assert_true(tm_fill_between(t, 0, LIBVM_BOOT_GDT_GPA));
	assert_true(tm_fill_between(t, LIBVM_BOOT_GDT_GPA + 32, 0x9000));
	assert_true(tm_fill_between(t, 0xf000, t->size));
	tm_free(t);
}

static void test_tables_need_ram(void **state)
{
	struct testmem *t = tm_new(0x1000, 0); /* the page tables do not fit */
	libvm_boot b;

	libvm__boot_init_long64(&b, 0x100000, LIBVM_BOOT_GDT_GPA, LIBVM_BOOT_PAGETABLE_GPA);
	assert_int_equal(libvm__boot_write_tables(&t->gm, &b), -EFAULT);
	assert_true(tm_untouched(t));
	tm_free(t);
}

static void test_detect(void **state)
{
	uint8_t img[0x3000] = { 0 };
	uint32_t mb[3] = { 0x1BADB002, 0x10003, 0 };

	assert_int_equal(libvm_load_detect(img, sizeof(img)), LIBVM_FORMAT_UNKNOWN);
	assert_int_equal(libvm_load_detect(NULL, 4), -EINVAL);
	memcpy(img, "\177ELF\001", 5);
	assert_int_equal(libvm_load_detect(img, sizeof(img)), LIBVM_FORMAT_ELF32);
	img[4] = 2;
	assert_int_equal(libvm_load_detect(img, sizeof(img)), LIBVM_FORMAT_ELF64);
	assert_int_equal(libvm_load_detect(img, 4), LIBVM_FORMAT_UNKNOWN);
	/* A multiboot header wins over ELF; its checksum must hold. */
	mb[2] = 0u - mb[0] - mb[1];
	memcpy(img + 0x1000, mb, sizeof(mb));
	assert_int_equal(libvm_load_detect(img, sizeof(img)), LIBVM_FORMAT_MULTIBOOT);
	img[0x1008] ^= 1;
	assert_int_equal(libvm_load_detect(img, sizeof(img)), LIBVM_FORMAT_ELF64);
	img[0x1008] ^= 1;
	/* Beyond the first 8 KiB or misaligned: not a header. */
	memset(img, 0, sizeof(img));
	memcpy(img + 0x2000, mb, sizeof(mb));
	assert_int_equal(libvm_load_detect(img, sizeof(img)), LIBVM_FORMAT_UNKNOWN);
	memset(img, 0, sizeof(img));
	memcpy(img + 0x102, mb, sizeof(mb));
	assert_int_equal(libvm_load_detect(img, sizeof(img)), LIBVM_FORMAT_UNKNOWN);
	/* A header cut by the end of the file is not found. */
	memcpy(img + 0x100, mb, sizeof(mb));
	assert_int_equal(libvm_load_detect(img, 0x108), LIBVM_FORMAT_UNKNOWN);
	assert_int_equal(libvm_load_detect(img, 0x10c), LIBVM_FORMAT_MULTIBOOT);
	memset(img, 0, sizeof(img));
	memcpy(img + 0x202, "HdrS", 4);
	assert_int_equal(libvm_load_detect(img, sizeof(img)), LIBVM_FORMAT_BZIMAGE);
}

static void test_memory_map(void **state)
{
	struct testmem *t = tm_new(0x2000000, 0x10000);
	struct libvm__mmap_entry mm[8];
	int n = libvm__memory_map(&t->gm, mm, 8);

	assert_int_equal(n, 4);
	assert_true(mm[0].addr == 0 && mm[0].len == 0x9fc00 && mm[0].type == 1);
	assert_true(mm[1].addr == 0x9fc00 && mm[1].len == 0x100000 - 0x9fc00 && mm[1].type == 2);
	assert_true(mm[2].addr == 0x100000 && mm[2].len == 0x2000000 - 0x100000 && mm[2].type == 1);
	assert_true(mm[3].addr == 0x2100000 && mm[3].len == 0x10000 && mm[3].type == 2);
	assert_int_equal(libvm__memory_map(&t->gm, mm, 3), -E2BIG);
	tm_free(t);
}

static void test_inside(void **state)
{
	libvm_mem_range r[3] = {
		{ .gpa = 0, .length = 0x1000 },
		{ .gpa = 0x1000, .length = 0x1000 },        /* adjacent */
		{ .gpa = 0x3000, .length = 0x1000, .flags = LIBVM_REGION_READONLY },
	};
	struct libvm__guest_mem gm = { .ranges = r, .nranges = 3 };

	assert_true(libvm__gm_inside(&gm, 0, 0x2000, true));
	assert_true(libvm__gm_inside(&gm, 0xfff, 2, true));
	assert_false(libvm__gm_inside(&gm, 0x1fff, 2, true));
	assert_false(libvm__gm_inside(&gm, 0x3000, 1, true));  /* ROM is not RAM */
	assert_true(libvm__gm_inside(&gm, 0x3000, 1, false));
	assert_false(libvm__gm_inside(&gm, UINT64_MAX, 2, false));
	assert_true(libvm__gm_inside(&gm, 0x2000, 0, true));   /* empty, at the end */
	assert_false(libvm__gm_inside(&gm, 0x2001, 0, true));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_protected32_multiboot),
		cmocka_unit_test(test_state_long64),
		cmocka_unit_test(test_state_real16),
		cmocka_unit_test(test_state_bad_mode),
		cmocka_unit_test(test_page_tables),
		cmocka_unit_test(test_tables_need_ram),
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_memory_map),
		cmocka_unit_test(test_inside),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
