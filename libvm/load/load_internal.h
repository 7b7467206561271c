/* SPDX-License-Identifier: MIT */
/*
 * Private interface of the loaders and firmware builders. They never touch
 * a libvm_vm directly: they see guest memory through struct
 * libvm__guest_mem (a write callback plus the list of mapped ranges), which
 * the public functions build from a VM and unit tests build over a plain
 * buffer. Every loader parses and checks the whole image first and only
 * then writes, so a rejected image leaves guest memory untouched.
 */
#ifndef LIBVM_LOAD_INTERNAL_H
#define LIBVM_LOAD_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libvm/load.h>
#include "../bytes.h"

struct libvm__guest_mem {
	int (*write)(void *ctx, uint64_t gpa, const void *buf, size_t len);
	const libvm_mem_range *ranges; /* ascending, non-overlapping */
	uint32_t nranges;
	void *ctx;
};

/* guestmem.c */
/* Snapshot @vm's memory map into @gm (allocates; release with _fini). */
int libvm__gm_from_vm(struct libvm__guest_mem *gm, libvm_vm *vm);
void libvm__gm_fini(struct libvm__guest_mem *gm);
/*
 * true when [gpa, gpa + len) is wholly inside mapped memory (ranges may be
 * adjacent); with @ram_only, read-only (ROM) ranges do not count. len 0 is
 * inside when gpa is (or ends) one.
 */
bool libvm__gm_inside(const struct libvm__guest_mem *gm, uint64_t gpa, uint64_t len,
		      bool ram_only);
/* -EFAULT with "@what 0x..+0x.. is outside guest RAM" unless inside. */
int libvm__gm_check(const struct libvm__guest_mem *gm, uint64_t gpa, uint64_t len,
		    bool ram_only, const char *what);
int libvm__gm_write(const struct libvm__guest_mem *gm, uint64_t gpa, const void *buf,
		    uint64_t len);
int libvm__gm_zero(const struct libvm__guest_mem *gm, uint64_t gpa, uint64_t len);

/* Overflow-safe helpers: true when a + b does not wrap (and sets *sum). */
static inline bool libvm__add_ok(uint64_t a, uint64_t b, uint64_t *sum)
{
	return !__builtin_add_overflow(a, b, sum);
}

/* [a, a + alen) and [b, b + blen) intersect (lengths non-zero, no wrap). */
static inline bool libvm__overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return alen && blen && a < b + blen && b < a + alen;
}

/* A piece of the kernel to copy: filesz bytes from src, then zeroes up to memsz. */
struct libvm__load_seg {
	uint64_t gpa;
	const uint8_t *src;
	uint64_t filesz;
	uint64_t memsz;
};

/* boot.c */
/* Fixed GDT selectors written by libvm__boot_gdt(). */
#define LIBVM__SEL_CODE32 0x08
#define LIBVM__SEL_DATA 0x10
#define LIBVM__SEL_CODE64 0x18
/* Size of the GDT written at LIBVM_BOOT_GDT_GPA. */
#define LIBVM__GDT_ENTRIES 4

/* Fill @boot for flat 32-bit protected-mode entry at @entry with the GDT
 * at @gdt. */
void libvm__boot_init_prot32(libvm_boot *boot, uint64_t entry, uint64_t gdt);
/* Fill @boot for 64-bit entry at @entry, GDT at @gdt, identity page tables
 * at @pt. */
void libvm__boot_init_long64(libvm_boot *boot, uint64_t entry, uint64_t gdt, uint64_t pt);
/* The 8-byte descriptors of the boot GDT (null, code32, data, code64). */
void libvm__boot_gdt(uint64_t gdt[LIBVM__GDT_ENTRIES]);
/* Write the GDT (and page tables for long mode) that @boot relies on. */
int libvm__boot_write_tables(const struct libvm__guest_mem *gm, const libvm_boot *boot);
/* Compute registers from @boot; @sregs holds the vCPU's current state. */
int libvm__boot_state(const libvm_boot *boot, libvm_regs *regs, libvm_sregs *sregs);

/*
 * Check the kernel pieces: each inside RAM, no two overlapping, none in the
 * firmware table area (ACPI and MP tables; @long64 is unused and kept for
 * the callers' symmetry). On success *start and *end span all of them.
 */
int libvm__segs_check(const struct libvm__guest_mem *gm, const struct libvm__load_seg *segs,
		      uint32_t n, bool long64, uint64_t *start, uint64_t *end);
int libvm__segs_write(const struct libvm__guest_mem *gm, const struct libvm__load_seg *segs,
		      uint32_t n);

/*
 * Where the boot data goes (libvm__boot_layout()): chosen after the
 * kernel's pieces and the modules are known, in RAM they leave free.
 */
struct libvm__layout {
	uint64_t gdt;  /* LIBVM_BOOT_GDT_SIZE bytes */
	uint64_t info; /* LIBVM_BOOT_INFO_SIZE bytes, or 0 when not asked for */
	uint64_t pt;   /* LIBVM_BOOT_PAGETABLE_SIZE bytes, or 0 */
};

/*
 * Place the boot GDT, the information area (with @info) and the page
 * tables (with @long64) below 4 GiB in RAM that no segment of @segs, no
 * module at @mod_gpas (sizes from @o, may be NULL) and no legacy area
 * (real-mode IVT and BDA below 0x500, the EBDA, video and BIOS hole
 * 0x9fc00-0xfffff) uses: each at its traditional address
 * (LIBVM_BOOT_*_GPA) when that is free, else at the lowest free place.
 * -ENOSPC (with a message) when RAM below 4 GiB has no room.
 */
int libvm__boot_layout(const struct libvm__guest_mem *gm, const struct libvm__load_seg *segs,
		       uint32_t nsegs, const libvm_load_options *o, const uint64_t *mod_gpas,
		       bool info, bool long64, struct libvm__layout *out);

/*
 * Boot information area builder: a host copy of [base, base +
 * LIBVM_BOOT_INFO_SIZE) filled bottom-up, written in one piece.
 */
struct libvm__info_area {
	uint8_t buf[LIBVM_BOOT_INFO_SIZE];
	uint64_t used;
	uint64_t base; /* its guest-physical address (set before allocating) */
};
/* Reserve @len bytes aligned to @align; returns the gpa or 0 when full. */
uint64_t libvm__info_alloc(struct libvm__info_area *ia, uint64_t len, uint64_t align);
void *libvm__info_ptr(struct libvm__info_area *ia, uint64_t gpa);
/* Copy a NUL-terminated string into the area; its gpa, or 0 when full. */
uint64_t libvm__info_str(struct libvm__info_area *ia, const char *s);

/*
 * The last step of the ELF and multiboot loaders, once every check has
 * passed: write the kernel's pieces, then (with @ia) the modules at
 * @mod_gpas and the boot information area, then the tables @b relies on.
 * *@boot = *@b only when all of it was written.
 */
int libvm__boot_commit(const struct libvm__guest_mem *gm, const struct libvm__load_seg *segs,
		       uint32_t nsegs, const libvm_load_options *o, const uint64_t *mod_gpas,
		       const struct libvm__info_area *ia, const libvm_boot *b, libvm_boot *boot);

/* Module placement after the kernel: page-aligned, checked against RAM. */
int libvm__modules_place(const struct libvm__guest_mem *gm, const libvm_load_options *o,
			 uint64_t kernel_end, bool long64, uint64_t *gpas, uint64_t *end);
int libvm__modules_write(const struct libvm__guest_mem *gm, const libvm_load_options *o,
			 const uint64_t *gpas);
#define LIBVM__MAX_MODULES 64u

/*
 * A memory-map entry as both multiboot and PVH (e820 types) want it:
 * 1 available, 2 reserved. Below 1 MiB only [0, 0x9fc00) is available;
 * ROM ranges are reserved.
 */
struct libvm__mmap_entry {
	uint64_t addr;
	uint64_t len;
	uint32_t type;
};
/* Fills at most @max entries; returns the count or -E2BIG. */
int libvm__memory_map(const struct libvm__guest_mem *gm, struct libvm__mmap_entry *out,
		      uint32_t max);

/* Copy caller options (NULL = defaults) and check the common fields. */
int libvm__load_options(libvm_load_options *o, const libvm_load_options *opts);

/* Internal entry points on a guest-memory interface (the public ones wrap them). */
int libvm__load_flat(libvm_boot *boot, const struct libvm__guest_mem *gm, const void *image,
		     size_t size, uint64_t gpa);
int libvm__load_elf(libvm_boot *boot, const struct libvm__guest_mem *gm, const void *image,
		    size_t size, const libvm_load_options *opts);
int libvm__load_multiboot(libvm_boot *boot, const struct libvm__guest_mem *gm,
			  const void *image, size_t size, const libvm_load_options *opts);
int libvm__load_bzimage(libvm_boot *boot, const struct libvm__guest_mem *gm, const void *image,
			size_t size, const libvm_load_options *opts);
/* Run @load over a snapshot of @vm's memory map (the public loaders). */
typedef int libvm__loader(libvm_boot *boot, const struct libvm__guest_mem *gm, const void *image,
			  size_t size, const libvm_load_options *opts);
int libvm__load_on_vm(libvm__loader *load, libvm_boot *boot, libvm_vm *vm, const void *image,
		      size_t size, const libvm_load_options *opts);
int libvm__acpi_build(uint64_t *rsdp_gpa, const struct libvm__guest_mem *gm,
		      const libvm_acpi_options *opts);
int libvm__mptable_build(uint64_t *table_gpa, const struct libvm__guest_mem *gm,
			 const libvm_mptable_options *opts);

/* Offset of a valid multiboot v1 header (magic + checksum), or -ENOEXEC. */
int libvm__multiboot_find(const uint8_t *image, size_t size, size_t *offset);

/*
 * ELF parsing shared by the ELF and multiboot loaders: the PT_LOAD pieces
 * (allocated; free *segs), the entry translated to physical, and the PVH
 * entry when a note has one (pvh_entry = UINT64_MAX otherwise).
 */
struct libvm__elf_info {
	int elf_class;        /* 1 ELF32, 2 ELF64 */
	struct libvm__load_seg *segs;
	uint32_t nsegs;
	uint64_t entry;       /* physical */
	uint64_t pvh_entry;
};
int libvm__elf_parse(struct libvm__elf_info *info, const uint8_t *image, size_t size);

#endif
