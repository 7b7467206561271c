/* SPDX-License-Identifier: MIT */
/*
 * Linux x86 boot protocol loader (Documentation/arch/x86/boot.rst): a
 * bzImage's setup header is checked field by field, its protected-mode
 * kernel is copied to its preferred address, and a boot_params "zero page"
 * is built with the setup header, an e820 map made from the VM's memory
 * layout, the command line and the initrd. The kernel is entered through
 * the 64-bit boot protocol (startup_64 at load address + 0x200, RSI =
 * boot_params), so the real-mode setup code never runs.
 *
 * Everything in the image is hostile until checked: offsets and sizes are
 * validated against the file and guest RAM first, and only then is
 * anything written.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../internal.h"
#include "load_internal.h"

/* Setup header offsets in the file and in boot_params (boot.rst, "THE REAL-MODE KERNEL HEADER"). */
#define HDR_SETUP_SECTS      0x1f1
#define HDR_SYSSIZE          0x1f4
#define HDR_VID_MODE         0x1fa
#define HDR_BOOT_FLAG        0x1fe
#define HDR_JUMP             0x200
#define HDR_HEADER           0x202
#define HDR_VERSION          0x206
#define HDR_TYPE_OF_LOADER   0x210
#define HDR_LOADFLAGS        0x211
#define HDR_RAMDISK_IMAGE    0x218
#define HDR_RAMDISK_SIZE     0x21c
#define HDR_CMD_LINE_PTR     0x228
#define HDR_INITRD_ADDR_MAX  0x22c
#define HDR_KERNEL_ALIGNMENT 0x230
#define HDR_RELOCATABLE      0x234
#define HDR_XLOADFLAGS       0x236
#define HDR_CMDLINE_SIZE     0x238
#define HDR_PREF_ADDRESS     0x258
#define HDR_INIT_SIZE        0x260
#define HDR_END_MIN          0x264 /* through init_size: what protocol 2.12 has */

/* Other boot_params fields (arch/x86 "zero-page.rst"). */
#define BP_ACPI_RSDP_ADDR    0x070
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE  0x0c4
#define BP_EXT_CMD_LINE_PTR  0x0c8
#define BP_E820_ENTRIES      0x1e8
#define BP_E820_TABLE        0x2d0
#define BP_E820_MAX          128u
#define BP_SIZE              0x1000u

#define LOADED_HIGH   0x01   /* loadflags bit 0: kernel at 1 MiB+ (bzImage) */
#define XLF_KERNEL_64 0x0001 /* xloadflags bit 0: startup_64 at +0x200 */
#define MIN_VERSION   0x020c /* 2.12: xloadflags, so the 64-bit entry can be seen */
#define ENTRY64_OFFSET 0x200

/* GDT for the 64-bit entry: boot.rst wants __BOOT_CS = 0x10 and __BOOT_DS = 0x18. */
#define BZ_SEL_CODE64 0x10
#define BZ_SEL_DATA   0x18

/* Zero page at the boot information area; the command line in its second page. */
#define CMDLINE_MAX (LIBVM_BOOT_INFO_SIZE - BP_SIZE)

#define DEFAULT_LOAD 0x1000000ull /* 16 MiB: CONFIG_PHYSICAL_START's default */

struct bz_info {
	uint64_t setup_size;   /* (setup_sects + 1) * 512 */
	uint64_t hdr_end;      /* end of the setup header in the file */
	uint16_t version;
	uint64_t load;         /* where the protected-mode kernel goes */
	uint64_t init_size;    /* memory it needs from there while booting */
	uint32_t initrd_max;   /* highest address the initrd may touch */
	uint32_t cmdline_size; /* longest command line, without the NUL */
};

static int parse_header(struct bz_info *bz, const uint8_t *p, size_t size)
{
	uint64_t setup_sects, payload, syssize, align, pref;
	uint8_t loadflags;
	uint16_t xlf;

	if (size < HDR_HEADER + 4 || memcmp(p + HDR_HEADER, "HdrS", 4) != 0)
		return libvm__fail(-ENOEXEC, "bzImage: no \"HdrS\" signature at 0x202");
	/* Every field read below lies before init_size's end. */
	if (size < HDR_END_MIN)
		return libvm__fail(-EINVAL, "bzImage: 0x%zx bytes end inside the setup header (truncated)",
				   size);
	if (libvm__le16(p + HDR_BOOT_FLAG) != 0xaa55)
		return libvm__fail(-EINVAL, "bzImage: boot_flag is 0x%04x, not 0xaa55",
				   libvm__le16(p + HDR_BOOT_FLAG));
	bz->version = libvm__le16(p + HDR_VERSION);
	if (bz->version < MIN_VERSION)
		return libvm__fail(-ENOTSUP,
				   "bzImage: boot protocol %u.%02u; libvm needs 2.12 or later",
				   bz->version >> 8, bz->version & 0xff);
	/* The header ends at 0x202 + the jump's displacement byte. */
	bz->hdr_end = HDR_HEADER + (uint64_t)p[HDR_JUMP + 1];
	if (bz->hdr_end < HDR_END_MIN)
		return libvm__fail(-EINVAL, "bzImage: setup header ends at 0x%llx, before init_size",
				   (unsigned long long)bz->hdr_end);
	setup_sects = p[HDR_SETUP_SECTS] ? p[HDR_SETUP_SECTS] : 4; /* 0 means 4 */
	bz->setup_size = (setup_sects + 1) * 512;
	if (bz->setup_size < bz->hdr_end || bz->setup_size >= size)
		return libvm__fail(-EINVAL,
				   "bzImage: setup_sects %llu gives 0x%llx bytes of setup; the file has 0x%zx (truncated?)",
				   (unsigned long long)setup_sects,
				   (unsigned long long)bz->setup_size, size);
	payload = size - bz->setup_size;
	syssize = (uint64_t)libvm__le32(p + HDR_SYSSIZE) * 16;
	if (syssize == 0 || syssize > payload)
		return libvm__fail(-EINVAL,
				   "bzImage: syssize says 0x%llx bytes of kernel, the file has 0x%llx (truncated?)",
				   (unsigned long long)syssize, (unsigned long long)payload);
	loadflags = p[HDR_LOADFLAGS];
	if (!(loadflags & LOADED_HIGH))
		return libvm__fail(-ENOTSUP, "bzImage: LOADED_HIGH is clear (a zImage)");
	xlf = libvm__le16(p + HDR_XLOADFLAGS);
	if (!(xlf & XLF_KERNEL_64))
		return libvm__fail(-ENOTSUP, "bzImage: no 64-bit entry (XLF_KERNEL_64 clear)");
	bz->init_size = libvm__le32(p + HDR_INIT_SIZE);
	if (bz->init_size < payload)
		return libvm__fail(-EINVAL, "bzImage: init_size 0x%llx is smaller than the kernel 0x%llx",
				   (unsigned long long)bz->init_size, (unsigned long long)payload);
	align = libvm__le32(p + HDR_KERNEL_ALIGNMENT);
	pref = libvm__le64(p + HDR_PREF_ADDRESS);
	if (p[HDR_RELOCATABLE] && (align == 0 || (align & (align - 1)) != 0))
		return libvm__fail(-EINVAL, "bzImage: kernel_alignment 0x%llx is not a power of two",
				   (unsigned long long)align);
	if (pref < 0x100000 || pref > 0xffffffffull) {
		if (!p[HDR_RELOCATABLE])
			return libvm__fail(-EINVAL, "bzImage: pref_address 0x%llx is not in 1 MiB .. 4 GiB",
					   (unsigned long long)pref);
		pref = DEFAULT_LOAD;
	}
	if (p[HDR_RELOCATABLE] && (pref & (align - 1)))
		pref = (pref + align - 1) & ~(align - 1);
	/*
	 * The 64-bit entry runs on our identity map of the low 4 GiB, and the
	 * boot protocol wants the kernel's whole init_size area mapped there
	 * (boot.rst, "64-bit BOOT PROTOCOL"). Rounding up to kernel_alignment
	 * can push a preferred address just below 4 GiB past it.
	 */
	if (pref + bz->init_size > 0x100000000ull)
		return libvm__fail(-EFAULT,
				   "bzImage: kernel at 0x%llx + init_size 0x%llx reaches past the 4 GiB identity map (pref_address 0x%llx, kernel_alignment 0x%llx)",
				   (unsigned long long)pref, (unsigned long long)bz->init_size,
				   (unsigned long long)libvm__le64(p + HDR_PREF_ADDRESS),
				   (unsigned long long)align);
	bz->load = pref;
	bz->initrd_max = libvm__le32(p + HDR_INITRD_ADDR_MAX);
	bz->cmdline_size = libvm__le32(p + HDR_CMDLINE_SIZE);
	return 0;
}

/*
 * The initrd goes as high as it can: below initrd_addr_max, below 4 GiB
 * (ramdisk_image is 32 bits without ext_ramdisk_image, and we do not rely
 * on XLF_CAN_BE_LOADED_ABOVE_4G), page aligned, in one RAM range, and above
 * the kernel's init_size area, which the decompressor overwrites.
 */
static int place_initrd(const struct libvm__guest_mem *gm, uint64_t size, uint64_t kernel_end,
			uint32_t initrd_max, uint64_t *gpa)
{
	uint64_t limit = (uint64_t)initrd_max + 1;

	for (uint32_t i = gm->nranges; i-- > 0;) {
		const libvm_mem_range *r = &gm->ranges[i];
		uint64_t end = r->gpa + r->length, start;

		if (r->flags & LIBVM_REGION_READONLY)
			continue;
		if (end > limit)
			end = limit;
		if (end < size || end <= r->gpa)
			continue;
		start = (end - size) & ~(LIBVM__PAGE_SIZE - 1);
		if (start >= r->gpa && start >= kernel_end) {
			*gpa = start;
			return 0;
		}
	}
	return libvm__fail(-E2BIG,
			   "initrd of 0x%llx bytes does not fit in RAM between the kernel's end 0x%llx and initrd_addr_max 0x%x",
			   (unsigned long long)size, (unsigned long long)kernel_end, initrd_max);
}

static void write_gdt(uint8_t *bytes)
{
	uint64_t gdt[LIBVM__GDT_ENTRIES];

	libvm__boot_gdt(gdt);
	/* Same flat descriptors, in the slots the boot protocol names. */
	libvm__put64(bytes, 0);
	libvm__put64(bytes + 8, gdt[LIBVM__SEL_CODE32 / 8]);
	libvm__put64(bytes + BZ_SEL_CODE64, gdt[LIBVM__SEL_CODE64 / 8]);
	libvm__put64(bytes + BZ_SEL_DATA, gdt[LIBVM__SEL_DATA / 8]);
}

int libvm__load_bzimage(libvm_boot *boot, const struct libvm__guest_mem *gm, const void *image,
			size_t size, const libvm_load_options *opts)
{
	struct libvm__mmap_entry map[BP_E820_MAX];
	const uint8_t *p = image;
	struct libvm__load_seg seg;
	struct bz_info bz = { 0 };
	struct libvm__layout lay;
	libvm_load_options o;
	uint8_t *bp = NULL, gdt[LIBVM__GDT_ENTRIES * 8];
	uint64_t start, end, initrd_gpa = 0, initrd_size = 0;
	size_t cmdlen = 0;
	libvm_boot b;
	int n, err;

	if (!boot || !image)
		return libvm__fail(-EINVAL, "libvm_load_bzimage: %s is NULL", boot ? "image" : "boot");
	err = libvm__load_options(&o, opts);
	if (err)
		return err;
	if (o.nr_modules > 1)
		return libvm__fail(-EINVAL, "bzImage: %u modules; the only one is the initrd",
				   o.nr_modules);
	err = parse_header(&bz, p, size);
	if (err)
		return err;

	/* The kernel and the space it decompresses into, as one piece. */
	seg = (struct libvm__load_seg){ .gpa = bz.load, .src = p + bz.setup_size,
					.filesz = size - bz.setup_size, .memsz = bz.init_size };
	err = libvm__segs_check(gm, &seg, 1, true, &start, &end);
	if (err)
		return err;

	if (o.cmdline) {
		cmdlen = strlen(o.cmdline);
		if (cmdlen > bz.cmdline_size || cmdlen >= CMDLINE_MAX)
			return libvm__fail(-E2BIG, "command line of %zu bytes; the kernel takes %u",
					   cmdlen, bz.cmdline_size < CMDLINE_MAX - 1 ?
					   bz.cmdline_size : (uint32_t)CMDLINE_MAX - 1);
	}
	if (o.nr_modules) {
		initrd_size = o.modules[0].size;
		err = place_initrd(gm, initrd_size, end, bz.initrd_max, &initrd_gpa);
		if (err)
			return err;
	}
	/* Kernel and initrd placed: the boot data goes where they are not. */
	{
		struct libvm__load_seg pieces[2] = { seg, { .gpa = initrd_gpa, .memsz = initrd_size } };

		err = libvm__boot_layout(gm, pieces, o.nr_modules ? 2 : 1, NULL, NULL, true, true,
					 &lay);
		if (err)
			return err;
	}

	/* boot_params: zeroes, then the setup header as the file has it. */
	bp = calloc(1, LIBVM_BOOT_INFO_SIZE);
	if (!bp)
		return libvm__fail(-ENOMEM, "out of memory for boot_params");
	memcpy(bp + HDR_SETUP_SECTS, p + HDR_SETUP_SECTS, bz.hdr_end - HDR_SETUP_SECTS);
	libvm__put16(bp + HDR_VID_MODE, 0xffff); /* "normal" text mode */
	bp[HDR_TYPE_OF_LOADER] = 0xff;            /* undefined boot loader */
	/* No real-mode code runs, so heap and segment flags do not matter; keep LOADED_HIGH. */
	bp[HDR_LOADFLAGS] = p[HDR_LOADFLAGS] & LOADED_HIGH;
	libvm__put32(bp + HDR_CMD_LINE_PTR, (uint32_t)(lay.info + BP_SIZE));
	memcpy(bp + BP_SIZE, o.cmdline ? o.cmdline : "", cmdlen + 1);
	if (o.nr_modules) {
		libvm__put32(bp + HDR_RAMDISK_IMAGE, (uint32_t)initrd_gpa);
		libvm__put32(bp + HDR_RAMDISK_SIZE, (uint32_t)initrd_size);
		libvm__put32(bp + BP_EXT_RAMDISK_IMAGE, 0);
		libvm__put32(bp + BP_EXT_RAMDISK_SIZE, (uint32_t)(initrd_size >> 32));
	}
	libvm__put32(bp + BP_EXT_CMD_LINE_PTR, 0);
	if (o.rsdp_gpa && bz.version >= 0x020e) /* acpi_rsdp_addr: protocol 2.14 */
		libvm__put64(bp + BP_ACPI_RSDP_ADDR, o.rsdp_gpa);
	n = libvm__memory_map(gm, map, BP_E820_MAX);
	if (n < 0) {
		err = n;
		goto out;
	}
	bp[BP_E820_ENTRIES] = (uint8_t)n;
	for (int i = 0; i < n; i++) {
		uint8_t *e = bp + BP_E820_TABLE + 20 * i;

		libvm__put64(e, map[i].addr);
		libvm__put64(e + 8, map[i].len);
		libvm__put32(e + 16, map[i].type);
	}

	libvm__boot_init_long64(&b, bz.load + ENTRY64_OFFSET, lay.gdt, lay.pt);
	b.code_selector = BZ_SEL_CODE64;
	b.data_selector = BZ_SEL_DATA;
	b.format = LIBVM_FORMAT_BZIMAGE;
	b.rsi = lay.info;
	b.info_gpa = lay.info;
	b.kernel_start = start;
	b.kernel_end = end;
	b.modules_end = o.nr_modules ? initrd_gpa + initrd_size : 0;

	/* All checked: write. */
	err = libvm__segs_write(gm, &seg, 1);
	if (!err && o.nr_modules)
		err = libvm__gm_write(gm, initrd_gpa, o.modules[0].data, initrd_size);
	if (!err)
		err = libvm__gm_write(gm, lay.info, bp, BP_SIZE + cmdlen + 1);
	if (!err)
		err = libvm__boot_write_tables(gm, &b);
	if (!err) {
		write_gdt(gdt);
		err = libvm__gm_write(gm, lay.gdt, gdt, sizeof(gdt));
	}
	if (!err)
		*boot = b;
out:
	free(bp);
	return err;
}

LIBVM_EXPORT int libvm_load_bzimage(libvm_boot *boot, libvm_vm *vm, const void *image,
				    size_t size, const libvm_load_options *opts)
{
	return libvm__load_on_vm(libvm__load_bzimage, boot, vm, image, size, opts);
}
