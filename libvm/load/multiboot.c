/* SPDX-License-Identifier: MIT */
/*
 * Multiboot v1 loader (Multiboot Specification 0.6.96): header search,
 * a.out-kludge addresses or ELF segments, modules after the kernel, and the
 * information struct with mem_lower/mem_upper, memory map, command line
 * ("name args", so a test kernel's argv[0] is its name), boot loader name
 * and module list, all in the boot information area. The entry state is
 * section 3.2's: EAX = 0x2BADB002, EBX = info, flat 32-bit, paging off.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../internal.h"
#include "load_internal.h"

/* Header flags (3.1.2). Bits 0-15 are requirements a loader must honour
 * or refuse; 16-31 optional features. */
#define MB_PAGE_ALIGN (1u << 0)  /* modules on 4 KiB boundaries: always done */
#define MB_MEMORY_INFO (1u << 1) /* mem_* fields: always given */
#define MB_VIDEO_MODE (1u << 2)  /* video info: not given (flag 11 stays clear) */
#define MB_REQUIRED_KNOWN (MB_PAGE_ALIGN | MB_MEMORY_INFO | MB_VIDEO_MODE)
#define MB_AOUT_KLUDGE (1u << 16)

/* Info flags (3.3). */
#define MBI_MEMORY (1u << 0)
#define MBI_CMDLINE (1u << 2)
#define MBI_MODS (1u << 3)
#define MBI_MMAP (1u << 6)
#define MBI_LOADER_NAME (1u << 9)

/* Info struct offsets (3.3). */
#define MBI_FLAGS 0
#define MBI_MEM_LOWER 4
#define MBI_MEM_UPPER 8
#define MBI_CMDLINE_PTR 16
#define MBI_MODS_COUNT 20
#define MBI_MODS_ADDR 24
#define MBI_MMAP_LENGTH 44
#define MBI_MMAP_ADDR 48
#define MBI_LOADER_NAME_PTR 64
#define MBI_SIZE 116 /* through the framebuffer fields, all zero */

#define MB_MAX_MMAP 128

/* The kernel's single piece from the a.out-kludge fields (3.1.3). */
static int aout_segment(struct libvm__load_seg *seg, uint64_t *entry, const uint8_t *image,
			size_t size, size_t off)
{
	const uint8_t *h = image + off;
	uint64_t header_addr, load_addr, load_end, bss_end, entry_addr, load_off, load_size;

	if (size - off < 32)
		return libvm__fail(-EINVAL,
				   "multiboot header at 0x%zx: address fields truncated by the end of the file (0x%zx)",
				   off, size);
	header_addr = libvm__le32(h + 12);
	load_addr = libvm__le32(h + 16);
	load_end = libvm__le32(h + 20);
	bss_end = libvm__le32(h + 24);
	entry_addr = libvm__le32(h + 28);
	/* header_addr - load_addr is how far into the text the header sits. */
	if (load_addr > header_addr || header_addr - load_addr > off)
		return libvm__fail(-EINVAL,
				   "multiboot header_addr 0x%llx and load_addr 0x%llx put the text start before the file (header at offset 0x%zx)",
				   (unsigned long long)header_addr, (unsigned long long)load_addr, off);
	load_off = off - (header_addr - load_addr);
	if (load_end == 0) {
		load_size = size - load_off;
	} else {
		if (load_end <= load_addr)
			return libvm__fail(-EINVAL, "multiboot load_end_addr 0x%llx is not above load_addr 0x%llx",
					   (unsigned long long)load_end, (unsigned long long)load_addr);
		load_size = load_end - load_addr;
		if (load_size > size - load_off)
			return libvm__fail(-EINVAL,
					   "multiboot load_end_addr 0x%llx: 0x%llx bytes from offset 0x%llx run past the file size 0x%zx",
					   (unsigned long long)load_end, (unsigned long long)load_size,
					   (unsigned long long)load_off, size);
	}
	seg->gpa = load_addr;
	seg->src = image + load_off;
	seg->filesz = load_size;
	seg->memsz = load_size;
	if (bss_end) {
		if (bss_end < load_addr + load_size)
			return libvm__fail(-EINVAL, "multiboot bss_end_addr 0x%llx is below the end of the loaded text 0x%llx",
					   (unsigned long long)bss_end,
					   (unsigned long long)(load_addr + load_size));
		seg->memsz = bss_end - load_addr;
	}
	if (entry_addr < load_addr || entry_addr - load_addr >= load_size)
		return libvm__fail(-EFAULT, "multiboot entry_addr 0x%llx is outside the loaded text 0x%llx+0x%llx",
				   (unsigned long long)entry_addr, (unsigned long long)load_addr,
				   (unsigned long long)load_size);
	*entry = entry_addr;
	return 0;
}

static int build_info(struct libvm__info_area *ia, const struct libvm__guest_mem *gm,
		      const libvm_load_options *o, const uint64_t *mod_gpas, uint64_t *info_gpa)
{
	struct libvm__mmap_entry mm[MB_MAX_MMAP];
	const char *name = o->kernel_name ? o->kernel_name : "kernel";
	uint64_t info, mmap, mods, cmdline, loader, mem_lower = 0, mem_upper = 0;
	size_t nlen = strlen(name), alen = o->cmdline ? strlen(o->cmdline) : 0;
	uint8_t *p;
	int n = libvm__memory_map(gm, mm, MB_MAX_MMAP);

	if (n < 0)
		return n;
	info = libvm__info_alloc(ia, MBI_SIZE, 8);
	mmap = libvm__info_alloc(ia, 24ull * (uint64_t)n, 8);
	mods = libvm__info_alloc(ia, 16ull * o->nr_modules, 8);
	loader = libvm__info_str(ia, "libvm");
	/* "name args": the first word is argv[0] for test kernels. */
	cmdline = libvm__info_alloc(ia, (uint64_t)nlen + 1 + alen + 1, 1);
	if (!info || !mmap || !mods || !loader || !cmdline)
		goto full;
	p = libvm__info_ptr(ia, cmdline);
	memcpy(p, name, nlen);
	if (o->cmdline) {
		p[nlen] = ' ';
		memcpy(p + nlen + 1, o->cmdline, alen + 1);
	} else {
		p[nlen] = 0;
	}
	for (uint32_t i = 0; i < o->nr_modules; i++) {
		uint64_t str = libvm__info_str(ia, o->modules[i].string ? o->modules[i].string : "");

		if (!str)
			goto full;
		p = libvm__info_ptr(ia, mods + 16ull * i);
		libvm__put32(p, (uint32_t)mod_gpas[i]);                          /* mod_start */
		libvm__put32(p + 4, (uint32_t)(mod_gpas[i] + o->modules[i].size)); /* mod_end */
		libvm__put32(p + 8, (uint32_t)str);
	}
	/* mmap entries: size (20, not counting itself), base, length, type. */
	for (int i = 0; i < n; i++) {
		p = libvm__info_ptr(ia, mmap + 24ull * (uint64_t)i);
		libvm__put32(p, 20);
		libvm__put64(p + 4, mm[i].addr);
		libvm__put64(p + 12, mm[i].len);
		libvm__put32(p + 20, mm[i].type);
		/* mem_lower: RAM from 0 (at most 640 KiB); mem_upper: RAM from
		 * 1 MiB up to the first hole (3.3). */
		if (mm[i].type == 1 && mm[i].addr == 0)
			mem_lower = (mm[i].len < 0xa0000 ? mm[i].len : 0xa0000) / 1024;
		if (mm[i].type == 1 && mm[i].addr == 0x100000)
			mem_upper = mm[i].len / 1024 > 0xffffffffull ? 0xffffffffull : mm[i].len / 1024;
	}
	p = libvm__info_ptr(ia, info);
	libvm__put32(p + MBI_FLAGS, MBI_MEMORY | MBI_CMDLINE | MBI_MODS | MBI_MMAP | MBI_LOADER_NAME);
	libvm__put32(p + MBI_MEM_LOWER, (uint32_t)mem_lower);
	libvm__put32(p + MBI_MEM_UPPER, (uint32_t)mem_upper);
	libvm__put32(p + MBI_CMDLINE_PTR, (uint32_t)cmdline);
	libvm__put32(p + MBI_MODS_COUNT, o->nr_modules);
	libvm__put32(p + MBI_MODS_ADDR, (uint32_t)mods);
	libvm__put32(p + MBI_MMAP_LENGTH, (uint32_t)(24 * n));
	libvm__put32(p + MBI_MMAP_ADDR, (uint32_t)mmap);
	libvm__put32(p + MBI_LOADER_NAME_PTR, (uint32_t)loader);
	*info_gpa = info;
	return 0;
full:
	return libvm__fail(-E2BIG, "multiboot info, memory map, command line and module strings exceed the 0x%llx-byte boot information area",
			   (unsigned long long)LIBVM_BOOT_INFO_SIZE);
}

int libvm__load_multiboot(libvm_boot *boot, const struct libvm__guest_mem *gm,
			  const void *image, size_t size, const libvm_load_options *opts)
{
	const uint8_t *img = image;
	struct libvm__elf_info elf = { 0 };
	struct libvm__load_seg aout;
	struct libvm__load_seg *segs;
	struct libvm__info_area *ia = NULL;
	struct libvm__layout lay;
	uint64_t mod_gpas[LIBVM__MAX_MODULES], entry = 0, start, end, mods_end = 0, info_gpa = 0;
	uint32_t nsegs, flags;
	libvm_load_options o;
	libvm_boot b;
	size_t off;
	int err;

	if (!boot || !image)
		return libvm__fail(-EINVAL, "libvm_load_multiboot: %s is NULL", boot ? "image" : "boot");
	err = libvm__load_options(&o, opts);
	if (err)
		return err;
	if (libvm__multiboot_find(img, size, &off))
		return libvm__fail(-ENOEXEC,
				   "no multiboot header (magic 0x1BADB002 with a valid checksum) in the first 8 KiB");
	flags = libvm__le32(img + off + 4);
	if (flags & 0xffffu & ~MB_REQUIRED_KNOWN)
		return libvm__fail(-ENOTSUP, "multiboot header requires features 0x%x that libvm does not offer",
				   flags & 0xffffu & ~MB_REQUIRED_KNOWN);
	if (flags & MB_AOUT_KLUDGE) {
		err = aout_segment(&aout, &entry, img, size, off);
		if (err)
			return err;
		segs = &aout;
		nsegs = 1;
	} else {
		err = libvm__elf_parse(&elf, img, size);
		if (err == -ENOEXEC)
			return libvm__fail(-ENOEXEC,
					   "multiboot header has no address fields (flag 16) and the image is not ELF");
		if (err)
			return err;
		entry = elf.entry;
		segs = elf.segs;
		nsegs = elf.nsegs;
		if (entry > 0xffffffffull) {
			err = libvm__fail(-EFAULT, "multiboot ELF entry 0x%llx is beyond 4 GiB",
					  (unsigned long long)entry);
			goto out;
		}
	}
	err = libvm__segs_check(gm, segs, nsegs, false, &start, &end);
	if (err)
		goto out;
	err = libvm__modules_place(gm, &o, end, false, mod_gpas, &mods_end);
	if (err)
		goto out;
	err = libvm__boot_layout(gm, segs, nsegs, &o, mod_gpas, true, false, &lay);
	if (err)
		goto out;
	ia = calloc(1, sizeof(*ia));
	if (!ia) {
		err = libvm__fail(-ENOMEM, "out of memory");
		goto out;
	}
	ia->base = lay.info;
	err = build_info(ia, gm, &o, mod_gpas, &info_gpa);
	if (err)
		goto out;

	libvm__boot_init_prot32(&b, entry, lay.gdt);
	b.format = LIBVM_FORMAT_MULTIBOOT;
	b.rax = LIBVM_MULTIBOOT_BOOTLOADER_MAGIC;
	b.rbx = info_gpa;
	b.info_gpa = info_gpa;
	b.kernel_start = start;
	b.kernel_end = end;
	b.modules_end = mods_end;
	err = libvm__boot_commit(gm, segs, nsegs, &o, mod_gpas, ia, &b, boot);
out:
	free(ia);
	free(elf.segs);
	return err;
}

LIBVM_EXPORT int libvm_load_multiboot(libvm_boot *boot, libvm_vm *vm, const void *image,
				      size_t size, const libvm_load_options *opts)
{
	return libvm__load_on_vm(libvm__load_multiboot, boot, vm, image, size, opts);
}
