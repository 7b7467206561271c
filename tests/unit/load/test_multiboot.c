/* SPDX-License-Identifier: MIT */
/*
 * Multiboot v1 loader: a.out-kludge and ELF kernels, the exact contents of
 * the info struct (mem_lower/mem_upper, memory map, "name args" command
 * line, boot loader name, modules with their strings), the entry state,
 * and crafted headers rejected with guest memory untouched.
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
#define HDR 0x40 /* header offset in the a.out-kludge image */

static uint8_t img[0x4000];

struct mbh {
	uint32_t flags, header_addr, load_addr, load_end, bss_end, entry;
};

/* A kernel linked at 1 MiB: 0x3000 bytes of text, bss to 0x105000. */
static struct mbh mbh_default(void)
{
	return (struct mbh){ 0x10003, 0x100000 + HDR, 0x100000, 0x103000, 0x105000, 0x100080 };
}

static void mb_write(uint8_t *p, size_t off, const struct mbh *h)
{
	libvm__put32(p + off, 0x1BADB002);
	libvm__put32(p + off + 4, h->flags);
	libvm__put32(p + off + 8, 0u - 0x1BADB002u - h->flags);
	libvm__put32(p + off + 12, h->header_addr);
	libvm__put32(p + off + 16, h->load_addr);
	libvm__put32(p + off + 20, h->load_end);
	libvm__put32(p + off + 24, h->bss_end);
	libvm__put32(p + off + 28, h->entry);
}

static void aout_image(const struct mbh *h)
{
	for (size_t i = 0; i < sizeof(img); i++)
		img[i] = (uint8_t)(i * 13 + 5);
	mb_write(img, HDR, h);
}

static void test_multiboot_info_struct(void **state)
{
	struct testmem *t = tm_new(RAM, 0);
	static const char env[] = "NR_CPUS=2\nMEMSIZE=32\n";
	static uint8_t blob[0x1800];
	libvm_load_module mods[2] = {
		{ .data = env, .size = sizeof(env) - 1, .string = "env" },
		{ .data = blob, .size = sizeof(blob), .string = "blob extra args" },
	};
	libvm_load_options o = LIBVM_LOAD_OPTIONS_INIT;
	struct mbh h = mbh_default();
	uint64_t info, mmap, mods_addr;
	libvm_boot b;

	memset(blob, 0x3c, sizeof(blob));
	aout_image(&h);
	o.kernel_name = "x86/smptest.flat";
	o.cmdline = "-smp 2 foo";
	o.modules = mods;
	o.nr_modules = 2;
	assert_int_equal(libvm__load_multiboot(&b, &t->gm, img, sizeof(img), &o), 0);

	/* Entry state (Multiboot 3.2). */
	assert_int_equal(b.format, LIBVM_FORMAT_MULTIBOOT);
	assert_int_equal(b.mode, LIBVM_BOOT_PROT32);
	assert_int_equal(b.entry, 0x100080);
	assert_int_equal(b.rax, 0x2BADB002);
	assert_int_equal(b.rbx, LIBVM_BOOT_INFO_GPA);
	assert_int_equal(b.code_selector, 0x08);
	assert_int_equal(b.data_selector, 0x10);
	assert_true(tm_le64(t, LIBVM_BOOT_GDT_GPA + 8) == 0x00cf9b000000ffffull);
	assert_true(tm_le64(t, LIBVM_BOOT_GDT_GPA + 16) == 0x00cf93000000ffffull);

	/* The kernel: text from file offset 0, then zeroed bss. */
	assert_memory_equal(t->buf + 0x100000, img, 0x3000);
	for (uint64_t a = 0x103000; a < 0x105000; a++)
		assert_int_equal(t->buf[a], 0);
	assert_int_equal(b.kernel_start, 0x100000);
	assert_int_equal(b.kernel_end, 0x105000);

	/* The info struct. */
	info = b.rbx;
	assert_int_equal(tm_le32(t, info), 0x1 | 0x4 | 0x8 | 0x40 | 0x200);
	assert_int_equal(tm_le32(t, info + 4), 639);                   /* mem_lower */
	assert_int_equal(tm_le32(t, info + 8), (RAM - 0x100000) / 1024); /* mem_upper */
	assert_string_equal((char *)t->buf + tm_le32(t, info + 16), "x86/smptest.flat -smp 2 foo");
	assert_string_equal((char *)t->buf + tm_le32(t, info + 64), "libvm");

	/* Memory map: size 20 per entry, then base, length, type. */
	assert_int_equal(tm_le32(t, info + 44), 3 * 24);
	mmap = tm_le32(t, info + 48);
	assert_int_equal(tm_le32(t, mmap), 20);
	assert_int_equal(tm_le64(t, mmap + 4), 0);
	assert_int_equal(tm_le64(t, mmap + 12), 0x9fc00);
	assert_int_equal(tm_le32(t, mmap + 20), 1);
	assert_int_equal(tm_le64(t, mmap + 24 + 4), 0x9fc00);
	assert_int_equal(tm_le64(t, mmap + 24 + 12), 0x100000 - 0x9fc00);
	assert_int_equal(tm_le32(t, mmap + 24 + 20), 2);
	assert_int_equal(tm_le64(t, mmap + 48 + 4), 0x100000);
	assert_int_equal(tm_le64(t, mmap + 48 + 12), RAM - 0x100000);
	assert_int_equal(tm_le32(t, mmap + 48 + 20), 1);

	/* Modules: page aligned right after the bss, in order, with strings. */
	assert_int_equal(tm_le32(t, info + 20), 2);
	mods_addr = tm_le32(t, info + 24);
	assert_int_equal(tm_le32(t, mods_addr), 0x105000);
	assert_int_equal(tm_le32(t, mods_addr + 4), 0x105000 + sizeof(env) - 1);
	assert_string_equal((char *)t->buf + tm_le32(t, mods_addr + 8), "env");
	assert_memory_equal(t->buf + 0x105000, env, sizeof(env) - 1);
	assert_int_equal(tm_le32(t, mods_addr + 16), 0x106000);
	assert_int_equal(tm_le32(t, mods_addr + 20), 0x107800);
	assert_string_equal((char *)t->buf + tm_le32(t, mods_addr + 24), "blob extra args");
	assert_memory_equal(t->buf + 0x106000, blob, sizeof(blob));
	assert_int_equal(b.modules_end, 0x107800);
	assert_true(tm_fill_between(t, 0x107800, RAM));

	/* Everything else in the info area is within it. */
	assert_in_range(mmap, LIBVM_BOOT_INFO_GPA, LIBVM_BOOT_INFO_GPA + LIBVM_BOOT_INFO_SIZE - 72);
	assert_true(tm_fill_between(t, LIBVM_BOOT_INFO_GPA + LIBVM_BOOT_INFO_SIZE, 0x100000));
	tm_free(t);
}

static void test_multiboot_defaults(void **state)
{
	struct testmem *t = tm_new(RAM, 0);
	struct mbh h = mbh_default();
	libvm_boot b;

	/* load_end 0: the rest of the file; bss_end 0: no bss. Video flag ignored. */
	h.flags |= 4;
	h.load_end = 0;
	h.bss_end = 0;
	aout_image(&h);
	assert_int_equal(libvm__load_multiboot(&b, &t->gm, img, sizeof(img), NULL), 0);
	assert_memory_equal(t->buf + 0x100000, img, sizeof(img));
	assert_int_equal(b.kernel_end, 0x100000 + sizeof(img));
	assert_string_equal((char *)t->buf + tm_le32(t, b.rbx + 16), "kernel");
	assert_int_equal(tm_le32(t, b.rbx + 20), 0);
	assert_int_equal(b.modules_end, 0);
	tm_free(t);
}

static void test_multiboot_elf_kernel(void **state)
{
	struct testmem *t = tm_new(RAM, 0);
	struct mbh h = { .flags = 3 };
	struct elf_desc d;
	libvm_boot b;

	/* An ELF32 kernel whose header (inside its first segment) has no address fields. */
	elf_default(&d, 1, 0);
	memset(img, 0, sizeof(img));
	elf_write(img, &d);
	libvm__put32(img + 0x1020, 0x1BADB002);
	libvm__put32(img + 0x1024, h.flags);
	libvm__put32(img + 0x1028, 0u - 0x1BADB002u - h.flags);
	assert_int_equal(libvm__load_multiboot(&b, &t->gm, img, sizeof(img), NULL), 0);
	assert_int_equal(b.entry, 0x100010);
	assert_int_equal(b.rax, 0x2BADB002);
	assert_memory_equal(t->buf + 0x100000, img + 0x1000, 0x200);
	assert_memory_equal(t->buf + 0x200000, img + 0x1200, 0x100);
	assert_int_equal(b.kernel_end, 0x200100);
	tm_free(t);

	/* A corrupt segment in that ELF is still caught. */
	t = tm_new(RAM, 0);
	libvm__put32(img + 52 + 32 + 4, 0x10000); /* segment 1 p_offset past the file */
	assert_int_equal(libvm__load_multiboot(&b, &t->gm, img, sizeof(img), NULL), -EINVAL);
	assert_non_null(strstr(libvm_error_message(), "beyond file size"));
	assert_true(tm_untouched(t));
	tm_free(t);
}

struct mb_case {
	const char *name;
	void (*hdr)(struct mbh *h);
	void (*bytes)(uint8_t *p);
	size_t size;
	int err;
	const char *msg;
};

static void no_magic(uint8_t *p) { p[HDR] = 0; }
static void bad_sum(uint8_t *p) { p[HDR + 8] ^= 1; }
static void too_far(uint8_t *p)
{
	memmove(p + 0x2000, p + HDR, 32);
	memset(p + HDR, 0, 32);
}
static void required_bit(struct mbh *h) { h->flags |= 1u << 5; }
static void elf_less(struct mbh *h) { h->flags &= ~0x10000u; }
static void load_above_header(struct mbh *h) { h->load_addr = h->header_addr + 4; }
static void text_before_file(struct mbh *h) { h->header_addr = h->load_addr + HDR + 4; }
static void load_end_low(struct mbh *h) { h->load_end = h->load_addr; }
static void load_end_past(struct mbh *h) { h->load_end = h->load_addr + 0x4001; }
static void bss_below(struct mbh *h) { h->bss_end = h->load_end - 1; }
static void entry_before(struct mbh *h) { h->entry = h->load_addr - 1; }
static void entry_in_bss(struct mbh *h) { h->entry = h->load_end; }
static void shift(struct mbh *h, uint32_t to)
{
	uint32_t d = to - h->load_addr;

	h->header_addr += d;
	h->load_addr += d;
	h->load_end += d;
	h->bss_end += d;
	h->entry += d;
}
static void outside_ram(struct mbh *h) { shift(h, 0x80000000u); }
static void at_ram_end(struct mbh *h) { shift(h, (uint32_t)RAM - 0x4000); }
static void on_firmware(struct mbh *h) { shift(h, 0xe8000); }
static void huge_bss(struct mbh *h) { h->bss_end = 0xfffff000u; }

static const struct mb_case mb_cases[] = {
	{ "no header", NULL, no_magic, 0, -ENOEXEC, "no multiboot header" },
	{ "bad checksum", NULL, bad_sum, 0, -ENOEXEC, "no multiboot header" },
	{ "header beyond 8 KiB", NULL, too_far, 0, -ENOEXEC, "first 8 KiB" },
	{ "header cut by the file", NULL, NULL, HDR + 8, -ENOEXEC, "no multiboot header" },
	{ "address fields truncated", NULL, NULL, HDR + 20, -EINVAL, "truncated" },
	{ "unknown required flag", required_bit, NULL, 0, -ENOTSUP, "0x20" },
	{ "no address fields, not ELF", elf_less, NULL, 0, -ENOEXEC, "not ELF" },
	{ "load_addr above header_addr", load_above_header, NULL, 0, -EINVAL, "header_addr" },
	{ "text starts before the file", text_before_file, NULL, 0, -EINVAL, "before the file" },
	{ "load_end_addr not above load_addr", load_end_low, NULL, 0, -EINVAL, "load_end_addr" },
	{ "load_end_addr past the file", load_end_past, NULL, 0, -EINVAL, "past the file size" },
	{ "bss_end_addr below the text", bss_below, NULL, 0, -EINVAL, "bss_end_addr" },
	{ "entry before the text", entry_before, NULL, 0, -EFAULT, "entry_addr" },
	{ "entry in the bss", entry_in_bss, NULL, 0, -EFAULT, "entry_addr" },
	{ "kernel outside RAM", outside_ram, NULL, 0, -EFAULT, "outside guest RAM" },
	{ "bss past the end of RAM", at_ram_end, NULL, 0, -EFAULT, "outside guest RAM" },
	{ "huge bss", huge_bss, NULL, 0, -EFAULT, "outside guest RAM" },
	{ "kernel on the firmware area", on_firmware, NULL, 0, -EEXIST, "firmware" },
};

static void test_multiboot_crafted_headers_rejected(void **state)
{
	for (size_t i = 0; i < sizeof(mb_cases) / sizeof(mb_cases[0]); i++) {
		const struct mb_case *c = &mb_cases[i];
		struct testmem *t = tm_new(RAM, 0);
		struct mbh h = mbh_default();
		libvm_boot b;
		int err;

		if (c->hdr)
			c->hdr(&h);
		aout_image(&h);
		if (c->bytes)
			c->bytes(img);
		memset(&b, 0x5a, sizeof(b));
		err = libvm__load_multiboot(&b, &t->gm, img, c->size ? c->size : sizeof(img), NULL);
		if (err != c->err || !strstr(libvm_error_message(), c->msg))
			fail_msg("%s: got %d (%s), want %d with \"%s\"", c->name, err,
				 libvm_error_message(), c->err, c->msg);
		if (!tm_untouched(t))
			fail_msg("%s: guest memory was written", c->name);
		assert_int_equal(b.mode, 0x5a5a5a5au);
		tm_free(t);
	}
}

static void test_multiboot_options_rejected(void **state)
{
	struct testmem *t = tm_new(RAM, 0);
	static char longline[LIBVM_BOOT_INFO_SIZE];
	uint8_t *big = calloc(1, RAM);
	libvm_load_module mod = { .data = big, .size = RAM - 0x105000 + 1 };
	libvm_load_module many[LIBVM__MAX_MODULES];
	libvm_load_options o = LIBVM_LOAD_OPTIONS_INIT;
	struct mbh h = mbh_default();
	libvm_boot b;

	aout_image(&h);
	/* A module one byte too large for the RAM after the kernel. */
	o.modules = &mod;
	o.nr_modules = 1;
	assert_int_equal(libvm__load_multiboot(&b, &t->gm, img, sizeof(img), &o), -EFAULT);
	assert_non_null(strstr(libvm_error_message(), "module 0"));
	mod.size--;
	/* ...fits exactly; but not with a command line beyond the info area. */
	memset(longline, 'x', sizeof(longline) - 1);
	o.cmdline = longline;
	assert_int_equal(libvm__load_multiboot(&b, &t->gm, img, sizeof(img), &o), -E2BIG);
	assert_non_null(strstr(libvm_error_message(), "boot information area"));
	/* Module strings count against the same area. */
	o.cmdline = NULL;
	for (unsigned i = 0; i < LIBVM__MAX_MODULES; i++)
		many[i] = (libvm_load_module){ .data = img, .size = 1, .string = longline + 0x1f00 };
	o.modules = many;
	o.nr_modules = LIBVM__MAX_MODULES;
	assert_int_equal(libvm__load_multiboot(&b, &t->gm, img, sizeof(img), &o), -E2BIG);
	o.size = 4;
	assert_int_equal(libvm__load_multiboot(&b, &t->gm, img, sizeof(img), &o), -EINVAL);
	assert_int_equal(libvm__load_multiboot(&b, &t->gm, NULL, 1, NULL), -EINVAL);
	assert_true(tm_untouched(t));
	/* The exact fit loads, and the module ends at the end of RAM. */
	o = (libvm_load_options)LIBVM_LOAD_OPTIONS_INIT;
	o.modules = &mod;
	o.nr_modules = 1;
	assert_int_equal(libvm__load_multiboot(&b, &t->gm, img, sizeof(img), &o), 0);
	assert_int_equal(b.modules_end, RAM);
	assert_int_equal(t->outside, 0);
	free(big);
	tm_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_multiboot_info_struct),
		cmocka_unit_test(test_multiboot_defaults),
		cmocka_unit_test(test_multiboot_elf_kernel),
		cmocka_unit_test(test_multiboot_crafted_headers_rejected),
		cmocka_unit_test(test_multiboot_options_rejected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
