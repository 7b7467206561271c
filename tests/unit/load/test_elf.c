/* SPDX-License-Identifier: MIT */
/*
 * ELF loader: segments at their physical addresses with bss zeroed, the
 * entry translated from virtual to physical, 64-bit entry with identity
 * page tables, the PVH note and its start_info, and crafted images
 * (truncated, overlapping, huge sizes, bad magic, entry outside the image)
 * rejected with a clear error and guest memory untouched.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "elfimg.h"
#include "testmem.h"

#define RAM (32ull << 20)

static uint8_t img[EI_SIZE];

/* A PVH note (8-byte descriptor) after an unrelated GNU note. */
static uint64_t pvh_notes(uint8_t *p, uint64_t pvh_entry, uint32_t descsz)
{
	uint8_t gnu[16] = { 1, 2, 3 };
	uint64_t off = 0x1400;

	off = elf_note(p, off, "GNU", 4, 3, gnu, 16);
	off = elf_note(p, off, "Xen", 4, 18, &pvh_entry, descsz);
	return off - 0x1400;
}

static void test_elf32_segments_and_entry(void **state)
{
	struct testmem *t = tm_new(RAM, 0);
	struct elf_desc d;
	libvm_boot b;

	elf_default(&d, 1, 0);
	elf_write(img, &d);
	assert_int_equal(libvm__load_elf(&b, &t->gm, img, sizeof(img), NULL), 0);
	assert_memory_equal(t->buf + 0x100000, img + 0x1000, 0x200);
	for (uint64_t a = 0x100200; a < 0x101000; a++)
		assert_int_equal(t->buf[a], 0); /* bss */
	assert_true(tm_fill_between(t, 0x101000, 0x200000));
	assert_memory_equal(t->buf + 0x200000, img + 0x1200, 0x100);
	assert_true(tm_fill_between(t, 0x200100, RAM));
	assert_int_equal(b.format, LIBVM_FORMAT_ELF32);
	assert_int_equal(b.mode, LIBVM_BOOT_PROT32);
	assert_int_equal(b.entry, 0x100010); /* 0xc0100010 through segment 0 */
	assert_int_equal(b.code_selector, 0x08);
	assert_int_equal(b.kernel_start, 0x100000);
	assert_int_equal(b.kernel_end, 0x200100);
	assert_int_equal(b.info_gpa, 0);
	/* GDT written; no boot info without PVH. */
	assert_true(tm_le64(t, LIBVM_BOOT_GDT_GPA + 8) == 0x00cf9b000000ffffull);
	assert_true(tm_fill_between(t, LIBVM_BOOT_INFO_GPA, LIBVM_BOOT_INFO_GPA + LIBVM_BOOT_INFO_SIZE));
	tm_free(t);
}

static void test_elf64_long_mode(void **state)
{
	struct testmem *t = tm_new(RAM, 0);
	struct elf_desc d;
	libvm_boot b;

	elf_default(&d, 2, 0);
	elf_write(img, &d);
	assert_int_equal(libvm__load_elf(&b, &t->gm, img, sizeof(img), NULL), 0);
	assert_int_equal(b.format, LIBVM_FORMAT_ELF64);
	assert_int_equal(b.mode, LIBVM_BOOT_LONG64);
	assert_int_equal(b.entry, 0x100010);
	assert_int_equal(b.code_selector, 0x18);
	assert_int_equal(b.cr3, LIBVM_BOOT_PAGETABLE_GPA);
	assert_true(tm_le64(t, 0x9000) == (0xa000 | 3));
	assert_true(tm_le64(t, LIBVM_BOOT_GDT_GPA + 0x18) == 0x00af9b000000ffffull);
	assert_memory_equal(t->buf + 0x200000, img + 0x1200, 0x100);
	tm_free(t);
}

/* Linux's vmlinux: virtual segments, but e_entry physical (phys_startup_64). */
static void test_elf64_physical_entry(void **state)
{
	struct testmem *t = tm_new(RAM, 0);
	struct elf_desc d;
	libvm_boot b;

	elf_default(&d, 2, 0);
	d.entry = 0x100020;
	elf_write(img, &d);
	assert_int_equal(libvm__load_elf(&b, &t->gm, img, sizeof(img), NULL), 0);
	assert_int_equal(b.entry, 0x100020);
	/* Neither virtual nor physical: still refused. */
	d.entry = 0x300000;
	elf_write(img, &d);
	assert_int_equal(libvm__load_elf(&b, &t->gm, img, sizeof(img), NULL), -EFAULT);
	tm_free(t);
}

static void test_elf64_pvh_start_info(void **state)
{
	struct testmem *t = tm_new(RAM, 0);
	static const char env[] = "NR_CPUS=2\nMEMSIZE=32\n";
	libvm_load_module mod = { .data = env, .size = sizeof(env) - 1, .string = "env" };
	libvm_load_options o = LIBVM_LOAD_OPTIONS_INIT;
	struct elf_desc d;
	libvm_boot b;
	uint64_t si = LIBVM_BOOT_INFO_GPA, mm, ml;

	elf_default(&d, 2, 1);
	elf_write(img, &d);
	d.ph[2].filesz = d.ph[2].memsz = pvh_notes(img, 0x100100, 8);
	elf_write(img, &d);
	pvh_notes(img, 0x100100, 8);
	o.cmdline = "console=ttyS0 root=/dev/vda";
	o.modules = &mod;
	o.nr_modules = 1;
	o.rsdp_gpa = 0xe0000;
	assert_int_equal(libvm_load_detect(img, sizeof(img)), LIBVM_FORMAT_PVH);
	assert_int_equal(libvm__load_elf(&b, &t->gm, img, sizeof(img), &o), 0);
	assert_int_equal(b.format, LIBVM_FORMAT_PVH);
	assert_int_equal(b.mode, LIBVM_BOOT_PROT32);
	assert_int_equal(b.entry, 0x100100);
	assert_int_equal(b.rbx, si);
	assert_int_equal(b.info_gpa, si);
	assert_int_equal(tm_le32(t, si), LIBVM_PVH_START_INFO_MAGIC);
	assert_int_equal(tm_le32(t, si + 4), 1);
	assert_int_equal(tm_le32(t, si + 12), 1);
	assert_string_equal((char *)t->buf + tm_le64(t, si + 24), "console=ttyS0 root=/dev/vda");
	assert_int_equal(tm_le64(t, si + 32), 0xe0000);
	/* The memory map: low RAM, the legacy hole, RAM from 1 MiB. */
	mm = tm_le64(t, si + 40);
	assert_int_equal(tm_le32(t, si + 48), 3);
	assert_int_equal(tm_le64(t, mm), 0);
	assert_int_equal(tm_le64(t, mm + 8), 0x9fc00);
	assert_int_equal(tm_le32(t, mm + 16), 1);
	assert_int_equal(tm_le64(t, mm + 24 + 24), 0x100000);
	assert_int_equal(tm_le64(t, mm + 24 + 32), RAM - 0x100000);
	/* The module: page aligned after the kernel's end (0x200100). */
	ml = tm_le64(t, si + 16);
	assert_int_equal(tm_le64(t, ml), 0x201000);
	assert_int_equal(tm_le64(t, ml + 8), sizeof(env) - 1);
	assert_string_equal((char *)t->buf + tm_le64(t, ml + 16), "env");
	assert_memory_equal(t->buf + 0x201000, env, sizeof(env) - 1);
	assert_int_equal(b.modules_end, 0x201000 + sizeof(env) - 1);
	/* A 4-byte descriptor works too; LIBVM_LOAD_NO_PVH ignores the note. */
	pvh_notes(img, 0x100200, 4);
	assert_int_equal(libvm__load_elf(&b, &t->gm, img, sizeof(img), NULL), 0);
	assert_int_equal(b.entry, 0x100200);
	o = (libvm_load_options)LIBVM_LOAD_OPTIONS_INIT;
	o.flags = LIBVM_LOAD_NO_PVH;
	assert_int_equal(libvm__load_elf(&b, &t->gm, img, sizeof(img), &o), 0);
	assert_int_equal(b.format, LIBVM_FORMAT_ELF64);
	assert_int_equal(b.mode, LIBVM_BOOT_LONG64);
	assert_int_equal(b.entry, 0x100010);
	tm_free(t);
}

/*
 * Entered at e_entry, an ELF has no way to receive a command line or
 * modules: asking for them is refused, not silently dropped, and nothing
 * is written. With the note ignored (LIBVM_LOAD_NO_PVH) the same holds.
 */
static void test_elf_without_pvh_refuses_cmdline_and_modules(void **state)
{
	struct testmem *t = tm_new(RAM, 0);
	static const char env[] = "X=1\n";
	libvm_load_module mod = { .data = env, .size = sizeof(env) - 1, .string = "env" };
	libvm_load_options o = LIBVM_LOAD_OPTIONS_INIT;
	struct elf_desc d;
	libvm_boot b;

	elf_default(&d, 2, 0);
	elf_write(img, &d);
	assert_int_equal(libvm_load_detect(img, sizeof(img)), LIBVM_FORMAT_ELF64);
	o.cmdline = "console=ttyS0";
	assert_int_equal(libvm__load_elf(&b, &t->gm, img, sizeof(img), &o), -EINVAL);
	assert_non_null(strstr(libvm_error_message(), "no PVH note"));
	assert_non_null(strstr(libvm_error_message(), "command line"));
	o.cmdline = NULL;
	o.modules = &mod;
	o.nr_modules = 1;
	assert_int_equal(libvm__load_elf(&b, &t->gm, img, sizeof(img), &o), -EINVAL);
	assert_non_null(strstr(libvm_error_message(), "modules"));
	assert_true(tm_untouched(t));

	/* A PVH kernel told to ignore its note: the same refusal. */
	elf_default(&d, 2, 1);
	elf_write(img, &d);
	d.ph[2].filesz = d.ph[2].memsz = pvh_notes(img, 0x100100, 8);
	elf_write(img, &d);
	pvh_notes(img, 0x100100, 8);
	o = (libvm_load_options)LIBVM_LOAD_OPTIONS_INIT;
	o.flags = LIBVM_LOAD_NO_PVH;
	o.cmdline = "console=ttyS0";
	assert_int_equal(libvm__load_elf(&b, &t->gm, img, sizeof(img), &o), -EINVAL);
	assert_non_null(strstr(libvm_error_message(), "LIBVM_LOAD_NO_PVH"));
	assert_true(tm_untouched(t));
	/* Without them it loads. */
	o.cmdline = NULL;
	assert_int_equal(libvm__load_elf(&b, &t->gm, img, sizeof(img), &o), 0);
	assert_int_equal(b.format, LIBVM_FORMAT_ELF64);
	tm_free(t);
}

static void test_elf32_pvh(void **state)
{
	struct testmem *t = tm_new(RAM, 0);
	struct elf_desc d;
	libvm_boot b;

	elf_default(&d, 1, 1);
	elf_write(img, &d);
	d.ph[2].filesz = d.ph[2].memsz = pvh_notes(img, 0x100040, 4);
	elf_write(img, &d);
	pvh_notes(img, 0x100040, 4);
	assert_int_equal(libvm_load_detect(img, sizeof(img)), LIBVM_FORMAT_PVH);
	assert_int_equal(libvm__load_elf(&b, &t->gm, img, sizeof(img), NULL), 0);
	assert_int_equal(b.format, LIBVM_FORMAT_PVH);
	assert_int_equal(b.mode, LIBVM_BOOT_PROT32);
	assert_int_equal(b.entry, 0x100040);
	assert_int_equal(tm_le32(t, b.rbx), LIBVM_PVH_START_INFO_MAGIC);
	assert_int_equal(tm_le64(t, b.rbx + 24), 0); /* no command line */
	assert_int_equal(tm_le32(t, b.rbx + 12), 0); /* no modules */
	tm_free(t);
}

static void test_elf32_may_use_page_table_area(void **state)
{
	struct testmem *t = tm_new(RAM, 0);
	struct elf_desc d;
	libvm_boot b;

	/* Only 64-bit entry writes page tables: an ELF32 may load there... */
	elf_default(&d, 1, 0);
	d.ph[0].paddr = 0x9000;
	d.ph[0].vaddr = 0xc0009000;
	d.entry = 0xc0009000;
	elf_write(img, &d);
	assert_int_equal(libvm__load_elf(&b, &t->gm, img, sizeof(img), NULL), 0);
	assert_int_equal(b.entry, 0x9000);
	tm_free(t);
	/* ...and so may an ELF64 entered in long mode: its page tables and
	 * GDT go where the kernel is not. */
	t = tm_new(RAM, 0);
	elf_default(&d, 2, 0);
	d.ph[0].paddr = 0x400;
	d.ph[0].vaddr = 0x400;
	d.ph[0].memsz = 0xf000;
	d.entry = 0x400;
	elf_write(img, &d);
	assert_int_equal(libvm__load_elf(&b, &t->gm, img, sizeof(img), NULL), 0);
	assert_true(b.cr3 >= 0x400 + 0xf000 && (b.cr3 & 0xfff) == 0);
	assert_true(b.gdt_base >= 0x400 + 0xf000);
	assert_true(b.cr3 + LIBVM_BOOT_PAGETABLE_SIZE <= 0x200000 || b.cr3 >= 0x200100);
	assert_true(tm_le64(t, b.cr3) == ((b.cr3 + 0x1000) | 3));
	assert_true(t->buf[0x400] == img[0x1000]);
	tm_free(t);
}

/* One crafted image: a mutation of the default ELF64 and the error it must get. */
struct bad_case {
	const char *name;
	int cls;
	void (*desc)(struct elf_desc *d);  /* before serializing */
	void (*bytes)(uint8_t *p);         /* after serializing */
	size_t size;                       /* 0: the whole buffer */
	int err;
	const char *msg;                   /* substring of the detail message */
};

static void bad_magic(uint8_t *p) { p[1] = 'X'; }
static void bad_class(uint8_t *p) { p[4] = 3; }
static void big_endian(uint8_t *p) { p[5] = 2; }
static void bad_version(uint8_t *p) { p[6] = 0; }
static void et_dyn(struct elf_desc *d) { d->type = 3; }
static void wrong_machine(struct elf_desc *d) { d->machine = 3; }
static void no_phdrs(struct elf_desc *d) { d->phnum = 0; }
static void pn_xnum(struct elf_desc *d) { d->phnum = 0xffff; }
static void small_phentsize(struct elf_desc *d) { d->phentsize = 32; }
static void phoff_wraps(struct elf_desc *d) { d->phoff = UINT64_MAX - 8; }
static void phdrs_past_file(struct elf_desc *d) { d->phoff = EI_SIZE - 60; }
static void offset_past_file(struct elf_desc *d) { d->ph[1].offset = EI_SIZE - 0x10; }
static void offset_wraps(struct elf_desc *d) { d->ph[1].offset = UINT64_MAX - 0x10; }
static void filesz_past_file(struct elf_desc *d) { d->ph[0].filesz = d->ph[0].memsz = 0x10000000; }
static void filesz_gt_memsz(struct elf_desc *d) { d->ph[1].memsz = 0x10; }
static void memsz_wraps(struct elf_desc *d) { d->ph[1].memsz = UINT64_MAX - 0x100; }
static void huge_memsz(struct elf_desc *d) { d->ph[1].memsz = 0xfff00000u; }
static void paddr_outside(struct elf_desc *d) { d->ph[1].paddr = 0x80000000; }
static void paddr_straddles_end(struct elf_desc *d) { d->ph[1].paddr = RAM - 0x80; }
static void overlapping(struct elf_desc *d) { d->ph[1].paddr = 0x100800; }
static void on_firmware(struct elf_desc *d) { d->ph[1].paddr = 0xeff80; }
static void entry_outside(struct elf_desc *d) { d->entry = 0xffffffff80300000ull; }
static void entry_in_gap(struct elf_desc *d) { d->entry = d->ph[0].vaddr + 0x1000; }
static void nothing_to_load(struct elf_desc *d) { d->ph[0].type = d->ph[1].type = 6; }

static const struct bad_case bad_cases[] = {
	{ "bad magic", 2, NULL, bad_magic, 0, -ENOEXEC, "magic" },
	{ "bad class", 2, NULL, bad_class, 0, -EINVAL, "class" },
	{ "big endian", 2, NULL, big_endian, 0, -EINVAL, "little-endian" },
	{ "bad version", 2, NULL, bad_version, 0, -EINVAL, "version" },
	{ "truncated header", 2, NULL, NULL, 40, -EINVAL, "truncated" },
	{ "tiny file", 2, NULL, NULL, 3, -ENOEXEC, "magic" },
	{ "ET_DYN", 2, et_dyn, NULL, 0, -EINVAL, "ET_EXEC" },
	{ "wrong machine", 2, wrong_machine, NULL, 0, -EINVAL, "x86-64" },
	{ "no program headers", 2, no_phdrs, NULL, 0, -EINVAL, "no program headers" },
	{ "PN_XNUM", 2, pn_xnum, NULL, 0, -EINVAL, "PN_XNUM" },
	{ "small e_phentsize", 2, small_phentsize, NULL, 0, -EINVAL, "e_phentsize" },
	{ "e_phoff wraps", 2, phoff_wraps, NULL, 0, -EINVAL, "past the file size" },
	{ "headers past the file", 2, phdrs_past_file, NULL, 0, -EINVAL, "past the file size" },
	{ "truncated segment", 2, NULL, NULL, 0x1280, -EINVAL, "beyond file size 0x1280" },
	{ "p_offset past the file", 2, offset_past_file, NULL, 0, -EINVAL, "ELF segment 1: p_offset+p_filesz" },
	{ "p_offset wraps", 2, offset_wraps, NULL, 0, -EINVAL, "beyond file size" },
	{ "p_filesz past the file", 2, filesz_past_file, NULL, 0, -EINVAL, "beyond file size" },
	{ "p_filesz > p_memsz", 2, filesz_gt_memsz, NULL, 0, -EINVAL, "exceeds p_memsz" },
	{ "p_memsz wraps", 2, memsz_wraps, NULL, 0, -EFAULT, "wraps" },
	{ "huge p_memsz", 1, huge_memsz, NULL, 0, -EFAULT, "outside guest RAM" },
	{ "segment outside RAM", 2, paddr_outside, NULL, 0, -EFAULT, "outside guest RAM" },
	{ "segment past the end of RAM", 2, paddr_straddles_end, NULL, 0, -EFAULT, "outside guest RAM" },
	{ "overlapping segments", 2, overlapping, NULL, 0, -EINVAL, "overlaps segment 0" },
	{ "segment on the firmware area", 1, on_firmware, NULL, 0, -EEXIST, "firmware" },
	{ "entry outside the image", 2, entry_outside, NULL, 0, -EFAULT, "entry point" },
	{ "entry in no segment", 1, entry_in_gap, NULL, 0, -EFAULT, "entry point" },
	{ "nothing to load", 2, nothing_to_load, NULL, 0, -EINVAL, "no PT_LOAD" },
};

static void test_elf_crafted_images_rejected(void **state)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct testmem *t = tm_new(RAM, 0);
		struct elf_desc d;
		libvm_boot b;
		int err;

		elf_default(&d, c->cls, 0);
		if (c->desc)
			c->desc(&d);
		elf_write(img, &d);
		if (c->bytes)
			c->bytes(img);
		memset(&b, 0x5a, sizeof(b));
		err = libvm__load_elf(&b, &t->gm, img, c->size ? c->size : sizeof(img), NULL);
		if (err != c->err || !strstr(libvm_error_message(), c->msg))
			fail_msg("%s: got %d (%s), want %d with \"%s\"", c->name, err,
				 libvm_error_message(), c->err, c->msg);
		if (!tm_untouched(t))
			fail_msg("%s: guest memory was written", c->name);
		assert_int_equal(b.mode, 0x5a5a5a5au);
		tm_free(t);
	}
}

static void test_elf_bad_notes(void **state)
{
	struct testmem *t = tm_new(RAM, 0);
	struct elf_desc d;
	libvm_boot b;

	/* A PVH descriptor of 6 bytes. */
	elf_default(&d, 2, 1);
	elf_write(img, &d);
	d.ph[2].filesz = d.ph[2].memsz = pvh_notes(img, 0x100100, 6);
	elf_write(img, &d);
	pvh_notes(img, 0x100100, 6);
	assert_int_equal(libvm__load_elf(&b, &t->gm, img, sizeof(img), NULL), -EINVAL);
	assert_non_null(strstr(libvm_error_message(), "expected 4 or 8"));
	/* The PVH entry outside every segment. */
	pvh_notes(img, 0x300000, 8);
	assert_int_equal(libvm__load_elf(&b, &t->gm, img, sizeof(img), NULL), -EFAULT);
	assert_non_null(strstr(libvm_error_message(), "PVH entry"));
	/* A note whose name size runs past its segment. */
	libvm__put32(img + 0x1400, 0xfffffff0u);
	assert_int_equal(libvm__load_elf(&b, &t->gm, img, sizeof(img), NULL), -EINVAL);
	assert_non_null(strstr(libvm_error_message(), "runs past"));
	/* A descriptor size that runs past its segment. */
	libvm__put32(img + 0x1400, 4);
	libvm__put32(img + 0x1404, 0x1000);
	assert_int_equal(libvm__load_elf(&b, &t->gm, img, sizeof(img), NULL), -EINVAL);
	/* The PT_NOTE itself past the file. */
	d.ph[2].filesz = 0x10000;
	elf_write(img, &d);
	assert_int_equal(libvm__load_elf(&b, &t->gm, img, sizeof(img), NULL), -EINVAL);
	assert_true(tm_untouched(t));
	tm_free(t);
}

static void test_elf_bad_options(void **state)
{
	struct testmem *t = tm_new(RAM, 0);
	static char longline[LIBVM_BOOT_INFO_SIZE + 16];
	libvm_load_module mods[LIBVM__MAX_MODULES + 1] = { { 0 } };
	libvm_load_module big = { .data = img, .size = RAM };
	libvm_load_options o = LIBVM_LOAD_OPTIONS_INIT;
	struct elf_desc d;
	libvm_boot b;

	elf_default(&d, 2, 1);
	elf_write(img, &d);
	d.ph[2].filesz = d.ph[2].memsz = pvh_notes(img, 0x100100, 8);
	elf_write(img, &d);
	pvh_notes(img, 0x100100, 8);

	o.size = sizeof(o) + 8;
	assert_int_equal(libvm__load_elf(&b, &t->gm, img, sizeof(img), &o), -EINVAL);
	o = (libvm_load_options)LIBVM_LOAD_OPTIONS_INIT;
	o.modules = mods;
	o.nr_modules = LIBVM__MAX_MODULES + 1;
	assert_int_equal(libvm__load_elf(&b, &t->gm, img, sizeof(img), &o), -E2BIG);
	o.nr_modules = 1;
	o.modules = NULL;
	assert_int_equal(libvm__load_elf(&b, &t->gm, img, sizeof(img), &o), -EINVAL);
	/* A module that does not fit in RAM after the kernel. */
	o.modules = &big;
	assert_int_equal(libvm__load_elf(&b, &t->gm, img, sizeof(img), &o), -EFAULT);
	assert_non_null(strstr(libvm_error_message(), "module 0"));
	/* A command line larger than the boot information area. */
	memset(longline, 'a', sizeof(longline) - 1);
	o = (libvm_load_options)LIBVM_LOAD_OPTIONS_INIT;
	o.cmdline = longline;
	assert_int_equal(libvm__load_elf(&b, &t->gm, img, sizeof(img), &o), -E2BIG);
	o.cmdline = NULL;
	o.flags = 0x80;
	assert_int_equal(libvm__load_elf(&b, &t->gm, img, sizeof(img), &o), -EINVAL);
	assert_true(tm_untouched(t));
	tm_free(t);
}

static void test_elf_needs_low_ram_for_tables(void **state)
{
	/* RAM only from 1 MiB: the GDT goes after the kernel's first segment. */
	struct testmem *t = tm_new(RAM, 0);
	struct elf_desc d;
	libvm_boot b;

	t->ranges[0] = (libvm_mem_range){ .gpa = 0x100000, .length = RAM - 0x100000 };
	elf_default(&d, 1, 0);
	elf_write(img, &d);
	assert_int_equal(libvm__load_elf(&b, &t->gm, img, sizeof(img), NULL), 0);
	assert_int_equal(b.gdt_base, 0x101000);
	tm_free(t);
	/* RAM that is exactly the kernel's two segments: no room anywhere. */
	t = tm_new(RAM, 0);
	t->gm.nranges = 2;
	t->ranges[0] = (libvm_mem_range){ .gpa = 0x100000, .length = 0x1000 };
	t->ranges[1] = (libvm_mem_range){ .gpa = 0x200000, .length = 0x100 };
	assert_int_equal(libvm__load_elf(&b, &t->gm, img, sizeof(img), NULL), -ENOSPC);
	assert_non_null(strstr(libvm_error_message(), "GDT"));
	assert_true(tm_untouched(t));
	tm_free(t);
}

/* 65534 program headers (the most e_phnum can say): checked in n log n. */
static void test_elf_many_segments(void **state)
{
	const uint32_t n = 65534;
	size_t size = 64 + (size_t)n * 56;
	uint8_t *big = calloc(1, size);
	struct testmem *t = tm_new(RAM, 0);
	libvm_boot b;

	memcpy(big, "\177ELF\002\001\001", 7);
	libvm__put16(big + 16, 2);
	libvm__put16(big + 18, 62);
	libvm__put64(big + 24, 0x100000);
	libvm__put64(big + 32, 64);
	libvm__put16(big + 54, 56);
	libvm__put16(big + 56, (uint16_t)n);
	for (uint32_t i = 0; i < n; i++) {
		uint8_t *ph = big + 64 + (size_t)i * 56;

		libvm__put32(ph, 1);
		libvm__put64(ph + 16, 0x100000 + 0x10ull * i);
		libvm__put64(ph + 24, 0x100000 + 0x10ull * i);
		libvm__put64(ph + 40, 0x10);
	}
	/* The last one lands on segment 7. */
	libvm__put64(big + 64 + (size_t)(n - 1) * 56 + 24, 0x100078);
	assert_int_equal(libvm__load_elf(&b, &t->gm, big, size, NULL), -EINVAL);
	assert_non_null(strstr(libvm_error_message(), "segment 65533 at 0x100078+0x10 overlaps segment 7"));
	assert_true(tm_untouched(t));
	/* Without the overlap every segment is zeroed in place. */
	libvm__put64(big + 64 + (size_t)(n - 1) * 56 + 24, 0x100000 + 0x10ull * (n - 1));
	assert_int_equal(libvm__load_elf(&b, &t->gm, big, size, NULL), 0);
	assert_int_equal(b.kernel_end, 0x100000 + 0x10ull * n);
	assert_int_equal(t->buf[0x100000 + 0x10ull * n - 1], 0);
	assert_int_equal(t->buf[0x100000 + 0x10ull * n], TM_FILL);
	free(big);
	tm_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_elf32_segments_and_entry),
		cmocka_unit_test(test_elf64_long_mode),
		cmocka_unit_test(test_elf64_physical_entry),
		cmocka_unit_test(test_elf64_pvh_start_info),
		cmocka_unit_test(test_elf_without_pvh_refuses_cmdline_and_modules),
		cmocka_unit_test(test_elf32_pvh),
		cmocka_unit_test(test_elf32_may_use_page_table_area),
		cmocka_unit_test(test_elf_crafted_images_rejected),
		cmocka_unit_test(test_elf_bad_notes),
		cmocka_unit_test(test_elf_bad_options),
		cmocka_unit_test(test_elf_needs_low_ram_for_tables),
		cmocka_unit_test(test_elf_many_segments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
