/* SPDX-License-Identifier: MIT */
/*
 * ELF32 (i386) and ELF64 (x86-64) executables: PT_LOAD segments to their
 * physical addresses, the entry point, and the Xen PVH note that names a
 * 32-bit physical entry taking a hvm_start_info in EBX (the boot protocol
 * Linux, FreeBSD and QEMU's microvm use; xen/include/public/arch-x86/hvm/
 * start_info.h). The parser is shared with the multiboot loader, which
 * loads ELF kernels whose multiboot header has no address fields.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../internal.h"
#include "load_internal.h"

/* ELF constants (System V gABI). */
#define ET_EXEC 2
#define EM_386 3
#define EM_X86_64 62
#define PT_LOAD 1
#define PT_NOTE 4
#define PN_XNUM 0xffff
/* xen/include/public/elfnote.h */
#define XEN_ELFNOTE_PHYS32_ENTRY 18

/* A program header, whatever the class. */
struct phdr {
	uint32_t type;
	uint64_t offset, vaddr, paddr, filesz, memsz;
};

static void read_phdr(struct phdr *ph, const uint8_t *p, int elf_class)
{
	if (elf_class == 2) {
		*ph = (struct phdr){
			.type = libvm__le32(p), .offset = libvm__le64(p + 8),
			.vaddr = libvm__le64(p + 16), .paddr = libvm__le64(p + 24),
			.filesz = libvm__le64(p + 32), .memsz = libvm__le64(p + 40),
		};
	} else {
		*ph = (struct phdr){
			.type = libvm__le32(p), .offset = libvm__le32(p + 4),
			.vaddr = libvm__le32(p + 8), .paddr = libvm__le32(p + 12),
			.filesz = libvm__le32(p + 16), .memsz = libvm__le32(p + 20),
		};
	}
}

/*
 * Walk the notes of one PT_NOTE segment (gABI "Note Section": namesz,
 * descsz, type, then name and desc each padded to 4 bytes) looking for
 * the PVH entry. Every size is checked against the segment.
 */
static int scan_notes(struct libvm__elf_info *info, const uint8_t *p, uint64_t len,
		      uint32_t phidx)
{
	uint64_t off = 0;

	while (len - off >= 12) {
		uint64_t namesz = libvm__le32(p + off), descsz = libvm__le32(p + off + 4);
		uint32_t type = libvm__le32(p + off + 8);
		uint64_t name_off = off + 12;
		uint64_t desc_off = name_off + ((namesz + 3) & ~3ull);
		uint64_t next = desc_off + ((descsz + 3) & ~3ull);

		/* Sizes are 32-bit, so these sums cannot wrap 64 bits. */
		if (desc_off > len || descsz > len - desc_off)
			return libvm__fail(-EINVAL,
					   "ELF program header %u: note at 0x%llx (name 0x%llx, desc 0x%llx bytes) runs past the segment's 0x%llx bytes",
					   phidx, (unsigned long long)off, (unsigned long long)namesz,
					   (unsigned long long)descsz, (unsigned long long)len);
		if (namesz == 4 && memcmp(p + name_off, "Xen", 4) == 0 &&
		    type == XEN_ELFNOTE_PHYS32_ENTRY) {
			uint64_t entry;

			if (descsz == 4)
				entry = libvm__le32(p + desc_off);
			else if (descsz == 8)
				entry = libvm__le64(p + desc_off);
			else
				return libvm__fail(-EINVAL,
						   "ELF PVH note: descriptor is %llu bytes, expected 4 or 8",
						   (unsigned long long)descsz);
			if (entry > 0xffffffffull)
				return libvm__fail(-EINVAL,
						   "ELF PVH note: entry 0x%llx is beyond 4 GiB",
						   (unsigned long long)entry);
			info->pvh_entry = entry;
		}
		if (next >= len)
			break;
		off = next;
	}
	return 0;
}

int libvm__elf_parse(struct libvm__elf_info *info, const uint8_t *image, size_t size)
{
	uint64_t entry, phoff, phentsize, phnum, phend;
	uint16_t type, machine;
	int elf_class, err;
	bool entry_found = false;

	memset(info, 0, sizeof(*info));
	info->pvh_entry = UINT64_MAX;
	if (size < 16 || memcmp(image, "\177ELF", 4) != 0)
		return libvm__fail(-ENOEXEC, "not an ELF file (no \\177ELF magic)");
	elf_class = image[4];
	if (elf_class != 1 && elf_class != 2)
		return libvm__fail(-EINVAL, "ELF class %u is neither ELF32 nor ELF64", image[4]);
	if (image[5] != 1)
		return libvm__fail(-EINVAL, "ELF data encoding %u: only little-endian is x86", image[5]);
	if (image[6] != 1)
		return libvm__fail(-EINVAL, "ELF version %u, expected 1", image[6]);
	if (size < (elf_class == 2 ? 64u : 52u))
		return libvm__fail(-EINVAL, "ELF header truncated: file is %zu bytes", size);
	type = libvm__le16(image + 16);
	machine = libvm__le16(image + 18);
	if (type != ET_EXEC)
		return libvm__fail(-EINVAL, "ELF type %u is not an executable (ET_EXEC)", type);
	if (machine != (elf_class == 2 ? EM_X86_64 : EM_386))
		return libvm__fail(-EINVAL, "ELF%d machine %u is not %s", elf_class == 2 ? 64 : 32,
				   machine, elf_class == 2 ? "x86-64" : "i386");
	if (elf_class == 2) {
		entry = libvm__le64(image + 24);
		phoff = libvm__le64(image + 32);
		phentsize = libvm__le16(image + 54);
		phnum = libvm__le16(image + 56);
	} else {
		entry = libvm__le32(image + 24);
		phoff = libvm__le32(image + 28);
		phentsize = libvm__le16(image + 42);
		phnum = libvm__le16(image + 44);
	}
	if (phnum == 0 || phnum == PN_XNUM)
		return libvm__fail(-EINVAL, "ELF has %s program headers",
				   phnum ? "extended (PN_XNUM)" : "no");
	if (phentsize < (elf_class == 2 ? 56u : 32u))
		return libvm__fail(-EINVAL, "ELF e_phentsize %llu is too small",
				   (unsigned long long)phentsize);
	/* phentsize and phnum are 16-bit: the product cannot wrap. */
	if (!libvm__add_ok(phoff, phentsize * phnum, &phend) || phend > size)
		return libvm__fail(-EINVAL,
				   "ELF program headers 0x%llx+0x%llx run past the file size 0x%zx",
				   (unsigned long long)phoff,
				   (unsigned long long)(phentsize * phnum), size);

	info->elf_class = elf_class;
	info->segs = calloc(phnum, sizeof(*info->segs));
	if (!info->segs)
		return libvm__fail(-ENOMEM, "out of memory for %llu segments",
				   (unsigned long long)phnum);
	for (uint64_t i = 0; i < phnum; i++) {
		struct phdr ph;
		uint64_t fend, vend;

		read_phdr(&ph, image + phoff + i * phentsize, elf_class);
		if (ph.type != PT_LOAD && ph.type != PT_NOTE)
			continue;
		if (!libvm__add_ok(ph.offset, ph.filesz, &fend) || fend > size) {
			err = libvm__fail(-EINVAL,
					  "ELF segment %llu: p_offset+p_filesz 0x%llx+0x%llx beyond file size 0x%zx",
					  (unsigned long long)i, (unsigned long long)ph.offset,
					  (unsigned long long)ph.filesz, size);
			goto fail;
		}
		if (ph.type == PT_NOTE) {
			err = scan_notes(info, image + ph.offset, ph.filesz, (uint32_t)i);
			if (err)
				goto fail;
			continue;
		}
		if (ph.filesz > ph.memsz) {
			err = libvm__fail(-EINVAL, "ELF segment %llu: p_filesz 0x%llx exceeds p_memsz 0x%llx",
					  (unsigned long long)i, (unsigned long long)ph.filesz,
					  (unsigned long long)ph.memsz);
			goto fail;
		}
		if (ph.memsz == 0)
			continue;
		if (!libvm__add_ok(ph.paddr, ph.memsz, &fend) ||
		    !libvm__add_ok(ph.vaddr, ph.memsz, &vend)) {
			err = libvm__fail(-EFAULT, "ELF segment %llu: address + p_memsz 0x%llx wraps around",
					  (unsigned long long)i, (unsigned long long)ph.memsz);
			goto fail;
		}
		/* The entry is virtual: translate through its segment. */
		if (!entry_found && entry >= ph.vaddr && entry < vend) {
			info->entry = ph.paddr + (entry - ph.vaddr);
			entry_found = true;
		}
		info->segs[info->nsegs++] = (struct libvm__load_seg){
			.gpa = ph.paddr, .src = image + ph.offset,
			.filesz = ph.filesz, .memsz = ph.memsz,
		};
	}
	if (info->nsegs == 0) {
		err = libvm__fail(-EINVAL, "ELF has no PT_LOAD segment with contents");
		goto fail;
	}
	/* A Linux vmlinux gives the physical address (ENTRY(phys_startup_64)),
	 * in no segment's virtual range: take it as physical then. */
	for (uint32_t i = 0; i < info->nsegs && !entry_found; i++) {
		if (entry >= info->segs[i].gpa && entry - info->segs[i].gpa < info->segs[i].memsz) {
			info->entry = entry;
			entry_found = true;
		}
	}
	if (!entry_found) {
		err = libvm__fail(-EFAULT, "ELF entry point 0x%llx is not inside any PT_LOAD segment",
				  (unsigned long long)entry);
		goto fail;
	}
	if (info->pvh_entry != UINT64_MAX) {
		bool inside = false;

		for (uint32_t i = 0; i < info->nsegs; i++)
			if (info->pvh_entry >= info->segs[i].gpa &&
			    info->pvh_entry - info->segs[i].gpa < info->segs[i].memsz)
				inside = true;
		if (!inside) {
			err = libvm__fail(-EFAULT, "ELF PVH entry 0x%llx is not inside any PT_LOAD segment",
					  (unsigned long long)info->pvh_entry);
			goto fail;
		}
	}
	return 0;

fail:
	free(info->segs);
	info->segs = NULL;
	return err;
}

/*
 * hvm_start_info version 1 (56 bytes), then the memory map
 * (hvm_memmap_table_entry, 24 bytes, e820 types), the module list
 * (hvm_modlist_entry, 32 bytes) and the strings.
 */
static int build_start_info(struct libvm__info_area *ia, const struct libvm__guest_mem *gm,
			    const libvm_load_options *o, const uint64_t *mod_gpas)
{
	struct libvm__mmap_entry mm[128];
	uint64_t si, memmap, modlist = 0, cmdline = 0;
	uint8_t *p;
	int n = libvm__memory_map(gm, mm, 128);

	if (n < 0)
		return n;
	si = libvm__info_alloc(ia, 56, 8);
	memmap = libvm__info_alloc(ia, 24ull * (uint64_t)n, 8);
	if (o->nr_modules)
		modlist = libvm__info_alloc(ia, 32ull * o->nr_modules, 8);
	if (!si || !memmap || (o->nr_modules && !modlist))
		goto full;
	if (o->cmdline && !(cmdline = libvm__info_str(ia, o->cmdline)))
		goto full;
	for (int i = 0; i < n; i++) {
		p = libvm__info_ptr(ia, memmap + 24ull * (uint64_t)i);
		libvm__put64(p, mm[i].addr);
		libvm__put64(p + 8, mm[i].len);
		libvm__put32(p + 16, mm[i].type);
	}
	for (uint32_t i = 0; i < o->nr_modules; i++) {
		uint64_t str = 0;

		if (o->modules[i].string && !(str = libvm__info_str(ia, o->modules[i].string)))
			goto full;
		p = libvm__info_ptr(ia, modlist + 32ull * i);
		libvm__put64(p, mod_gpas[i]);
		libvm__put64(p + 8, o->modules[i].size);
		libvm__put64(p + 16, str);
	}
	p = libvm__info_ptr(ia, si);
	libvm__put32(p, LIBVM_PVH_START_INFO_MAGIC);
	libvm__put32(p + 4, 1);                /* version */
	libvm__put32(p + 12, o->nr_modules);
	libvm__put64(p + 16, modlist);
	libvm__put64(p + 24, cmdline);
	libvm__put64(p + 32, o->rsdp_gpa);
	libvm__put64(p + 40, memmap);
	libvm__put32(p + 48, (uint32_t)n);
	return 0;
full:
	return libvm__fail(-E2BIG, "PVH start_info, memory map, command line and module strings exceed the 0x%llx-byte boot information area",
			   (unsigned long long)LIBVM_BOOT_INFO_SIZE);
}

int libvm__load_elf(libvm_boot *boot, const struct libvm__guest_mem *gm, const void *image,
		    size_t size, const libvm_load_options *opts)
{
	struct libvm__elf_info info;
	struct libvm__info_area *ia = NULL;
	struct libvm__layout lay;
	uint64_t mod_gpas[LIBVM__MAX_MODULES], start, end, mods_end = 0;
	libvm_load_options o;
	libvm_boot b;
	bool pvh, long64;
	int err;

	if (!boot || !image)
		return libvm__fail(-EINVAL, "libvm_load_elf: %s is NULL", boot ? "image" : "boot");
	err = libvm__load_options(&o, opts);
	if (err)
		return err;
	err = libvm__elf_parse(&info, image, size);
	if (err)
		return err;
	pvh = info.pvh_entry != UINT64_MAX && !(o.flags & LIBVM_LOAD_NO_PVH);
	long64 = !pvh && info.elf_class == 2;
	if (!pvh && (o.cmdline || o.nr_modules)) {
		err = libvm__fail(-EINVAL, "ELF entered at e_entry (%s) has no way to receive %s; pass none, or boot it as multiboot",
				  info.pvh_entry == UINT64_MAX ? "no PVH note" : "LIBVM_LOAD_NO_PVH",
				  o.cmdline ? "a command line" : "modules");
		goto out;
	}
	err = libvm__segs_check(gm, info.segs, info.nsegs, long64, &start, &end);
	if (err)
		goto out;
	if (pvh) {
		err = libvm__modules_place(gm, &o, end, false, mod_gpas, &mods_end);
		if (err)
			goto out;
	}
	if ((long64 || !pvh) && info.entry > 0xffffffffull) {
		err = libvm__fail(-EFAULT, long64 ? "ELF64 entry 0x%llx is beyond the 4 GiB identity map" :
				  "ELF entry 0x%llx is beyond 4 GiB", (unsigned long long)info.entry);
		goto out;
	}
	/* The kernel and its modules are placed: the boot data goes around them. */
	err = libvm__boot_layout(gm, info.segs, info.nsegs, &o, pvh ? mod_gpas : NULL, pvh, long64,
				 &lay);
	if (err)
		goto out;
	if (pvh) {
		libvm__boot_init_prot32(&b, info.pvh_entry, lay.gdt);
		ia = calloc(1, sizeof(*ia));
		if (!ia) {
			err = libvm__fail(-ENOMEM, "out of memory");
			goto out;
		}
		ia->base = lay.info;
		err = build_start_info(ia, gm, &o, mod_gpas);
		if (err)
			goto out;
		b.rbx = lay.info;
		b.info_gpa = lay.info;
	} else if (long64) {
		libvm__boot_init_long64(&b, info.entry, lay.gdt, lay.pt);
	} else {
		libvm__boot_init_prot32(&b, info.entry, lay.gdt);
	}
	b.format = pvh ? LIBVM_FORMAT_PVH :
		   info.elf_class == 2 ? LIBVM_FORMAT_ELF64 : LIBVM_FORMAT_ELF32;
	b.kernel_start = start;
	b.kernel_end = end;
	b.modules_end = mods_end;
	err = libvm__boot_commit(gm, info.segs, info.nsegs, &o, mod_gpas, pvh ? ia : NULL, &b, boot);
out:
	free(ia);
	free(info.segs);
	return err;
}

LIBVM_EXPORT int libvm_load_elf(libvm_boot *boot, libvm_vm *vm, const void *image,
				size_t size, const libvm_load_options *opts)
{
	return libvm__load_on_vm(libvm__load_elf, boot, vm, image, size, opts);
}
