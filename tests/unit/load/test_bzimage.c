/* SPDX-License-Identifier: MIT */
/*
 * Linux boot protocol loader on crafted bzImages: the zero page (setup
 * header copied, loader fields, e820 map, command line, initrd), the
 * 64-bit entry state, and images that are truncated, carry the wrong
 * magic, absurd setup sizes, an old protocol, no 64-bit entry, or an initrd
 * or command line that cannot fit, a kernel placed past the 4 GiB identity
 * map: each refused with guest memory untouched and nothing ever written
 * outside guest RAM.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "testmem.h"

#define RAM (64ull << 20)
#define SETUP_SECTS 4
#define SETUP_SIZE ((SETUP_SECTS + 1) * 512)
#define KERNEL_SIZE 0x4000
#define INIT_SIZE 0x200000

static uint8_t img[SETUP_SIZE + KERNEL_SIZE];

/* A relocatable 64-bit bzImage of protocol 2.15 preferring 16 MiB. */
static void make_image(void)
{
	for (size_t i = 0; i < sizeof(img); i++)
		img[i] = (uint8_t)(i * 7 + 3);
	img[0x1f1] = SETUP_SECTS;
	libvm__put32(img + 0x1f4, KERNEL_SIZE / 16); /* syssize */
	libvm__put16(img + 0x1fe, 0xaa55);
	img[0x200] = 0xeb;
	img[0x201] = 0x6a; /* header ends at 0x26c */
	memcpy(img + 0x202, "HdrS", 4);
	libvm__put16(img + 0x206, 0x020f);
	img[0x210] = 0;
	img[0x211] = 0x01; /* LOADED_HIGH */
	libvm__put32(img + 0x218, 0);
	libvm__put32(img + 0x21c, 0);
	libvm__put32(img + 0x228, 0);
	libvm__put32(img + 0x22c, 0x7fffffff); /* initrd_addr_max */
	libvm__put32(img + 0x230, 0x200000);   /* kernel_alignment */
	img[0x234] = 1;                        /* relocatable */
	libvm__put16(img + 0x236, 0x0003);     /* XLF_KERNEL_64 | above 4G */
	libvm__put32(img + 0x238, 2047);       /* cmdline_size */
	libvm__put64(img + 0x258, 0x1000000);  /* pref_address */
	libvm__put32(img + 0x260, INIT_SIZE);
}

static void test_bzimage_zero_page(void **state)
{
	struct testmem *t = tm_new(RAM, 0);
	libvm_load_options o = LIBVM_LOAD_OPTIONS_INIT;
	static uint8_t initrd[0x3000];
	libvm_load_module m = { .data = initrd, .size = sizeof(initrd) };
	libvm_boot b;
	uint64_t bp = LIBVM_BOOT_INFO_GPA, rd;

	(void)state;
	make_image();
	memset(initrd, 0x5c, sizeof(initrd));
	o.cmdline = "console=ttyS0 root=/dev/vda";
	o.modules = &m;
	o.nr_modules = 1;
	o.rsdp_gpa = 0xe0000;
	assert_int_equal(libvm_load_detect(img, sizeof(img)), LIBVM_FORMAT_BZIMAGE);
	assert_int_equal(libvm__load_bzimage(&b, &t->gm, img, sizeof(img), &o), 0);
	assert_int_equal(t->outside, 0);

	/* Entry: startup_64 in 64-bit mode, RSI = boot_params, boot.rst's selectors. */
	assert_int_equal(b.mode, LIBVM_BOOT_LONG64);
	assert_int_equal(b.format, LIBVM_FORMAT_BZIMAGE);
	assert_int_equal(b.entry, 0x1000000 + 0x200);
	assert_int_equal(b.rsi, bp);
	assert_int_equal(b.code_selector, 0x10);
	assert_int_equal(b.data_selector, 0x18);
	assert_int_equal(b.cr3, LIBVM_BOOT_PAGETABLE_GPA);
	assert_int_equal(b.kernel_start, 0x1000000);
	assert_int_equal(b.kernel_end, 0x1000000 + INIT_SIZE);
	/* The GDT slots the selectors name: 64-bit code (L=1) and flat data. */
	assert_int_equal(tm_le64(t, LIBVM_BOOT_GDT_GPA + 0x10), 0x00af9b000000ffffull);
	assert_int_equal(tm_le64(t, LIBVM_BOOT_GDT_GPA + 0x18), 0x00cf93000000ffffull);

	/* The protected-mode kernel at 16 MiB, then zeroes up to init_size. */
	assert_memory_equal(t->buf + 0x1000000, img + SETUP_SIZE, KERNEL_SIZE);
	assert_int_equal(t->buf[0x1000000 + KERNEL_SIZE], 0);
	assert_int_equal(t->buf[0x1000000 + INIT_SIZE - 1], 0);
	assert_true(tm_fill_between(t, 0x1000000 + INIT_SIZE, 0x1000000 + INIT_SIZE + 0x1000));

	/* Setup header copied, loader fields set. */
	assert_memory_equal(t->buf + bp + 0x202, "HdrS", 4);
	assert_int_equal(t->buf[bp + 0x1f1], SETUP_SECTS);
	assert_int_equal(t->buf[bp + 0x210], 0xff);
	assert_int_equal(t->buf[bp + 0x211] & 1, 1);
	assert_int_equal(libvm__le16(t->buf + bp + 0x1fa), 0xffff);
	assert_int_equal(tm_le32(t, bp + 0x228), bp + 0x1000);
	assert_string_equal((char *)t->buf + bp + 0x1000, "console=ttyS0 root=/dev/vda");
	assert_int_equal(tm_le64(t, bp + 0x070), 0xe0000);
	/* Bytes of boot_params outside the header are zero. */
	assert_int_equal(t->buf[bp + 0x0], 0);
	assert_int_equal(t->buf[bp + 0x270], 0);

	/* Initrd: page aligned, as high as RAM and initrd_addr_max allow. */
	rd = tm_le32(t, bp + 0x218);
	assert_int_equal(tm_le32(t, bp + 0x21c), sizeof(initrd));
	assert_int_equal(rd & 0xfff, 0);
	assert_true(rd + sizeof(initrd) <= RAM && rd + sizeof(initrd) > RAM - 0x1000);
	assert_memory_equal(t->buf + rd, initrd, sizeof(initrd));
	assert_int_equal(b.modules_end, rd + sizeof(initrd));

	/* e820: low RAM, legacy hole, RAM from 1 MiB. */
	assert_int_equal(t->buf[bp + 0x1e8], 3);
	assert_int_equal(tm_le64(t, bp + 0x2d0), 0);
	assert_int_equal(tm_le64(t, bp + 0x2d8), 0x9fc00);
	assert_int_equal(tm_le32(t, bp + 0x2e0), 1);
	assert_int_equal(tm_le64(t, bp + 0x2e4), 0x9fc00);
	assert_int_equal(tm_le32(t, bp + 0x2f4), 2);
	assert_int_equal(tm_le64(t, bp + 0x2f8), 0x100000);
	assert_int_equal(tm_le64(t, bp + 0x300), RAM - 0x100000);
	assert_int_equal(tm_le32(t, bp + 0x308), 1);
	tm_free(t);
}

static void test_bzimage_initrd_below_max(void **state)
{
	struct testmem *t = tm_new(RAM, 0);
	libvm_load_options o = LIBVM_LOAD_OPTIONS_INIT;
	static uint8_t initrd[0x1800];
	libvm_load_module m = { .data = initrd, .size = sizeof(initrd) };
	libvm_boot b;
	uint64_t rd;

	(void)state;
	make_image();
	libvm__put32(img + 0x22c, 0x2000000 - 1); /* initrd_addr_max: 32 MiB */
	o.modules = &m;
	o.nr_modules = 1;
	assert_int_equal(libvm__load_bzimage(&b, &t->gm, img, sizeof(img), &o), 0);
	rd = tm_le32(t, LIBVM_BOOT_INFO_GPA + 0x218);
	assert_true(rd + sizeof(initrd) <= 0x2000000);
	assert_int_equal(rd, 0x2000000 - 0x2000);
	/* No command line: an empty string, still pointed to. */
	assert_int_equal(t->buf[LIBVM_BOOT_INFO_GPA + 0x1000], 0);
	tm_free(t);
}

/* Load @len bytes of the (modified) image; expect @err and no write at all. */
static void expect_refused(size_t len, const libvm_load_options *o, int err)
{
	struct testmem *t = tm_new(RAM, 0);
	libvm_boot b;

	memset(&b, 0x77, sizeof(b));
	assert_int_equal(libvm__load_bzimage(&b, &t->gm, img, len, o), err);
	assert_true(strlen(libvm_error_message()) > 0);
	assert_true(tm_untouched(t));
	assert_int_equal(b.entry, 0x7777777777777777ull); /* *boot untouched too */
	tm_free(t);
}

static void test_bzimage_crafted_rejected(void **state)
{
	(void)state;
	/* Truncated: inside the header, inside the setup code, inside the kernel. */
	make_image();
	expect_refused(0x100, NULL, -ENOEXEC);
	expect_refused(0x240, NULL, -EINVAL);
	expect_refused(SETUP_SIZE - 1, NULL, -EINVAL);
	expect_refused(SETUP_SIZE, NULL, -EINVAL);
	expect_refused(SETUP_SIZE + KERNEL_SIZE - 16, NULL, -EINVAL);
	/* Wrong magic. */
	make_image();
	memcpy(img + 0x202, "HdrZ", 4);
	expect_refused(sizeof(img), NULL, -ENOEXEC);
	make_image();
	libvm__put16(img + 0x1fe, 0x55aa);
	expect_refused(sizeof(img), NULL, -EINVAL);
	/* Absurd setup sizes: 255 sectors (past the file), a header end past the setup. */
	make_image();
	img[0x1f1] = 255;
	expect_refused(sizeof(img), NULL, -EINVAL);
	make_image();
	img[0x1f1] = 0; /* means 4, which fits */
	{
		struct testmem *t = tm_new(RAM, 0);
		libvm_boot b;

		assert_int_equal(libvm__load_bzimage(&b, &t->gm, img, sizeof(img), NULL), 0);
		tm_free(t);
	}
	make_image();
	img[0x201] = 0x10; /* header would end at 0x212, before init_size */
	expect_refused(sizeof(img), NULL, -EINVAL);
	make_image();
	libvm__put32(img + 0x1f4, 0xffffffff); /* syssize: 64 GiB */
	expect_refused(sizeof(img), NULL, -EINVAL);
	make_image();
	libvm__put32(img + 0x1f4, 0);
	expect_refused(sizeof(img), NULL, -EINVAL);
	/* Old protocol, zImage, no 64-bit entry. */
	make_image();
	libvm__put16(img + 0x206, 0x020b);
	expect_refused(sizeof(img), NULL, -ENOTSUP);
	make_image();
	img[0x211] = 0;
	expect_refused(sizeof(img), NULL, -ENOTSUP);
	make_image();
	libvm__put16(img + 0x236, 0x0002);
	expect_refused(sizeof(img), NULL, -ENOTSUP);
	/* init_size: smaller than the kernel, or past the end of RAM. */
	make_image();
	libvm__put32(img + 0x260, KERNEL_SIZE - 1);
	expect_refused(sizeof(img), NULL, -EINVAL);
	make_image();
	libvm__put32(img + 0x260, 0xfff00000);
	expect_refused(sizeof(img), NULL, -EFAULT);
	/* Alignment not a power of two; a fixed kernel at a silly address. */
	make_image();
	libvm__put32(img + 0x230, 0x300000);
	expect_refused(sizeof(img), NULL, -EINVAL);
	make_image();
	img[0x234] = 0;
	libvm__put64(img + 0x258, 0x1000);
	expect_refused(sizeof(img), NULL, -EINVAL);
	/* A fixed kernel whose preferred address is past RAM. */
	make_image();
	img[0x234] = 0;
	libvm__put64(img + 0x258, 0x80000000);
	expect_refused(sizeof(img), NULL, -EFAULT);
}

static void test_bzimage_boot_data_too_big(void **state)
{
	libvm_load_options o = LIBVM_LOAD_OPTIONS_INIT;
	libvm_load_module m[2] = { { .data = img, .size = RAM }, { .data = img, .size = 1 } };
	static char longline[3000];

	(void)state;
	make_image();
	/* An initrd as big as RAM. */
	o.modules = m;
	o.nr_modules = 1;
	expect_refused(sizeof(img), &o, -E2BIG);
	/* One that would fit only below the kernel. */
	m[0].size = RAM - 0x1000000 - INIT_SIZE + 0x1000;
	expect_refused(sizeof(img), &o, -E2BIG);
	/* initrd_addr_max below the kernel. */
	m[0].size = 0x1000;
	libvm__put32(img + 0x22c, 0xffffff);
	expect_refused(sizeof(img), &o, -E2BIG);
	make_image();
	/* Two modules: a bzImage has one initrd. */
	o.nr_modules = 2;
	expect_refused(sizeof(img), &o, -EINVAL);
	/* A command line longer than cmdline_size. */
	memset(longline, 'x', sizeof(longline) - 1);
	o = (libvm_load_options)LIBVM_LOAD_OPTIONS_INIT;
	o.cmdline = longline;
	expect_refused(sizeof(img), &o, -E2BIG);
	longline[2048] = 0;
	expect_refused(sizeof(img), &o, -E2BIG);
	longline[2047] = 0;
	{
		struct testmem *t = tm_new(RAM, 0);
		libvm_boot b;

		assert_int_equal(libvm__load_bzimage(&b, &t->gm, img, sizeof(img), &o), 0);
		assert_int_equal(strlen((char *)t->buf + LIBVM_BOOT_INFO_GPA + 0x1000), 2047);
		tm_free(t);
	}
	/* RAM too small for the boot areas' neighbour: kernel outside RAM. */
	{
		struct testmem *t = tm_new(8ull << 20, 0);
		libvm_boot b;

		assert_int_equal(libvm__load_bzimage(&b, &t->gm, img, sizeof(img), NULL), -EFAULT);
		assert_true(tm_untouched(t));
		tm_free(t);
	}
}

/*
 * Guest RAM low (RAM bytes at 0) and a window around 4 GiB
 * ([HI_BASE, HI_BASE + HI_LEN)), so that a kernel can be placed on either
 * side of the end of the 4 GiB identity map the 64-bit entry runs on.
 */
#define HI_BASE 0xfc000000ull
#define HI_LEN (128ull << 20)

struct himem {
	uint8_t *low, *high;
	libvm_mem_range ranges[2];
	struct libvm__guest_mem gm;
	unsigned writes, outside;
};

static int hm_write(void *ctx, uint64_t gpa, const void *src, size_t len)
{
	struct himem *h = ctx;

	if (gpa <= RAM && len <= RAM - gpa)
		memcpy(h->low + gpa, src, len);
	else if (gpa >= HI_BASE && gpa - HI_BASE <= HI_LEN && len <= HI_LEN - (gpa - HI_BASE))
		memcpy(h->high + (gpa - HI_BASE), src, len);
	else
		h->outside++;
	h->writes++;
	return 0;
}

static void hm_init(struct himem *h)
{
	memset(h, 0, sizeof(*h));
	h->low = calloc(1, RAM);
	h->high = calloc(1, HI_LEN);
	h->ranges[0] = (libvm_mem_range){ .gpa = 0, .length = RAM };
	h->ranges[1] = (libvm_mem_range){ .gpa = HI_BASE, .length = HI_LEN };
	h->gm = (struct libvm__guest_mem){
		.write = hm_write, .ranges = h->ranges, .nranges = 2, .ctx = h,
	};
}

static void hm_fini(struct himem *h)
{
	free(h->low);
	free(h->high);
}

/* Load the image with pref_address @pref, kernel_alignment @align, relocatable @reloc. */
static int hm_load(struct himem *h, libvm_boot *b, uint64_t pref, uint32_t align, bool reloc,
		   uint32_t init_size)
{
	make_image();
	libvm__put64(img + 0x258, pref);
	libvm__put32(img + 0x230, align);
	libvm__put32(img + 0x260, init_size);
	img[0x234] = reloc;
	memset(b, 0x77, sizeof(*b));
	hm_init(h);
	return libvm__load_bzimage(b, &h->gm, img, sizeof(img), NULL);
}

/*
 * The kernel and its init_size area must lie inside the identity map the
 * 64-bit entry runs on (boot.rst, 64-bit boot protocol): a kernel_alignment
 * that rounds pref_address up to 4 GiB, or an init_size that reaches past
 * it, is refused before anything is written, as the ELF loader refuses an
 * entry past 4 GiB; right up to the end is fine.
 */
static void test_bzimage_kernel_inside_identity_map(void **state)
{
	struct himem h;
	libvm_boot b;

	(void)state;
	/* Ends exactly at 4 GiB: loaded, entry below it. */
	assert_int_equal(hm_load(&h, &b, 0xffe00000, 0x200000, true, INIT_SIZE), 0);
	assert_int_equal(b.entry, 0xffe00200);
	assert_int_equal(b.kernel_end, 0x100000000ull);
	assert_memory_equal(h.high + (0xffe00000 - HI_BASE), img + SETUP_SIZE, KERNEL_SIZE);
	assert_int_equal(h.outside, 0);
	hm_fini(&h);
	/* Rounded up by kernel_alignment to 4 GiB (entry 0x100000200). */
	assert_int_equal(hm_load(&h, &b, 0xfff00000, 0x200000, true, INIT_SIZE), -EFAULT);
	assert_non_null(strstr(libvm_error_message(), "identity map"));
	assert_int_equal(h.writes, 0);
	assert_int_equal(b.entry, 0x7777777777777777ull);
	hm_fini(&h);
	/* The largest alignment (2 GiB) from just above 2 GiB. */
	assert_int_equal(hm_load(&h, &b, 0x80001000, 0x80000000, true, INIT_SIZE), -EFAULT);
	assert_int_equal(h.writes, 0);
	hm_fini(&h);
	/* Entry inside, init_size area past 4 GiB: relocatable or fixed. */
	assert_int_equal(hm_load(&h, &b, 0xffe00000, 0x200000, true, 2 * INIT_SIZE), -EFAULT);
	assert_int_equal(h.writes, 0);
	hm_fini(&h);
	assert_int_equal(hm_load(&h, &b, 0xffe00000, 0x200000, false, 2 * INIT_SIZE), -EFAULT);
	assert_int_equal(h.writes, 0);
	hm_fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bzimage_zero_page),
		cmocka_unit_test(test_bzimage_initrd_below_max),
		cmocka_unit_test(test_bzimage_crafted_rejected),
		cmocka_unit_test(test_bzimage_boot_data_too_big),
		cmocka_unit_test(test_bzimage_kernel_inside_identity_map),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
