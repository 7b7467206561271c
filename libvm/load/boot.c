/* SPDX-License-Identifier: MIT */
/*
 * Entry states: the GDT and identity page tables a protected- or long-mode
 * entry needs in guest memory, the register values for a libvm_boot
 * (kept free of vCPU calls so unit tests can check them), and format
 * detection. Later loaders (the Linux boot protocol) reuse all of it: a
 * libvm_boot may name any selectors, and libvm__boot_state() builds the
 * hidden segment state from the mode and the selectors it is given.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../internal.h"
#include "load_internal.h"

/* Control register bits (Intel SDM vol. 3, 2.5). */
#define CR0_PE (1ull << 0)
#define CR0_ET (1ull << 4)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define CR4_PCIDE (1ull << 17)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)

/* Page-table entry bits: present, writable, 2 MiB page. */
#define PTE_P 0x1ull
#define PTE_RW 0x2ull
#define PTE_PS 0x80ull

void libvm__boot_gdt(uint64_t gdt[LIBVM__GDT_ENTRIES])
{
	/* Flat 4 GiB descriptors, G=1, P=1, DPL 0 (SDM vol. 3, 3.4.5). */
	gdt[0] = 0;
	gdt[LIBVM__SEL_CODE32 / 8] = 0x00cf9b000000ffffull; /* D=1, exec/read, accessed */
	gdt[LIBVM__SEL_DATA / 8] = 0x00cf93000000ffffull;   /* D=1, read/write, accessed */
	gdt[LIBVM__SEL_CODE64 / 8] = 0x00af9b000000ffffull; /* L=1, exec/read, accessed */
}

static void boot_init(libvm_boot *boot, uint32_t mode, uint64_t entry, uint64_t gdt)
{
	memset(boot, 0, sizeof(*boot));
	boot->mode = mode;
	boot->entry = entry;
	boot->gdt_base = gdt;
	boot->gdt_limit = LIBVM__GDT_ENTRIES * 8 - 1;
	boot->data_selector = LIBVM__SEL_DATA;
}

void libvm__boot_init_prot32(libvm_boot *boot, uint64_t entry, uint64_t gdt)
{
	boot_init(boot, LIBVM_BOOT_PROT32, entry, gdt);
	boot->code_selector = LIBVM__SEL_CODE32;
}

void libvm__boot_init_long64(libvm_boot *boot, uint64_t entry, uint64_t gdt, uint64_t pt)
{
	boot_init(boot, LIBVM_BOOT_LONG64, entry, gdt);
	boot->code_selector = LIBVM__SEL_CODE64;
	boot->cr3 = pt;
}

/*
 * PML4 -> one PDPT -> four page directories of 2 MiB pages: the low 4 GiB
 * identity-mapped, enough for a kernel entered below 4 GiB and for the
 * IOAPIC/LAPIC at 0xfec00000/0xfee00000.
 */
static void build_page_tables(uint8_t *pt, uint64_t pml4)
{
	const uint64_t pdpt = pml4 + 0x1000, pd = pml4 + 0x2000;

	libvm__put64(pt, pdpt | PTE_P | PTE_RW);
	for (uint64_t i = 0; i < 4; i++)
		libvm__put64(pt + 0x1000 + i * 8, (pd + i * 0x1000) | PTE_P | PTE_RW);
	for (uint64_t i = 0; i < 4 * 512; i++)
		libvm__put64(pt + 0x2000 + i * 8, (i << 21) | PTE_P | PTE_RW | PTE_PS);
}

int libvm__boot_write_tables(const struct libvm__guest_mem *gm, const libvm_boot *boot)
{
	uint64_t gdt[LIBVM__GDT_ENTRIES];
	uint8_t gdt_bytes[sizeof(gdt)];
	uint8_t *pt;
	int err;

	if (boot->mode == LIBVM_BOOT_REAL16)
		return 0;
	err = libvm__gm_check(gm, boot->gdt_base, sizeof(gdt), true, "the boot GDT");
	if (!err && boot->mode == LIBVM_BOOT_LONG64)
		err = libvm__gm_check(gm, boot->cr3, LIBVM_BOOT_PAGETABLE_SIZE,
				      true, "the boot page tables");
	if (err)
		return err;
	libvm__boot_gdt(gdt);
	for (int i = 0; i < LIBVM__GDT_ENTRIES; i++)
		libvm__put64(gdt_bytes + 8 * i, gdt[i]);
	err = libvm__gm_write(gm, boot->gdt_base, gdt_bytes, sizeof(gdt_bytes));
	if (err || boot->mode != LIBVM_BOOT_LONG64)
		return err;
	pt = calloc(1, LIBVM_BOOT_PAGETABLE_SIZE);
	if (!pt)
		return libvm__fail(-ENOMEM, "out of memory for page tables");
	build_page_tables(pt, boot->cr3);
	err = libvm__gm_write(gm, boot->cr3, pt, LIBVM_BOOT_PAGETABLE_SIZE);
	free(pt);
	return err;
}

int libvm__boot_commit(const struct libvm__guest_mem *gm, const struct libvm__load_seg *segs,
		       uint32_t nsegs, const libvm_load_options *o, const uint64_t *mod_gpas,
		       const struct libvm__info_area *ia, const libvm_boot *b, libvm_boot *boot)
{
	int err = libvm__segs_write(gm, segs, nsegs);

	if (!err && ia)
		err = libvm__modules_write(gm, o, mod_gpas);
	if (!err && ia)
		err = libvm__gm_write(gm, ia->base, ia->buf, ia->used);
	if (!err)
		err = libvm__boot_write_tables(gm, b);
	if (!err)
		*boot = *b;
	return err;
}

static libvm_segment flat_segment(uint16_t selector, uint8_t type, bool code64)
{
	return (libvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = selector, .type = type,
		.present = 1, .dpl = 0, .db = code64 ? 0 : 1, .s = 1, .l = code64 ? 1 : 0,
		.g = 1,
	};
}

static libvm_segment real_segment(uint16_t selector, uint8_t type)
{
	return (libvm_segment){
		.base = (uint64_t)selector << 4, .limit = 0xffff, .selector = selector,
		.type = type, .present = 1, .s = 1,
	};
}

int libvm__boot_state(const libvm_boot *b, libvm_regs *regs, libvm_sregs *s)
{
	libvm_segment code, data;

	*regs = (libvm_regs){
		.rax = b->rax, .rbx = b->rbx, .rcx = b->rcx, .rdx = b->rdx,
		.rsi = b->rsi, .rdi = b->rdi, .rbp = b->rbp, .rsp = b->rsp,
		.rip = b->entry,
		.rflags = 0x2, /* bit 1 is always set; IF clear */
	};
	switch (b->mode) {
	case LIBVM_BOOT_REAL16:
		if (b->entry > 0xffff)
			return libvm__fail(-EINVAL, "real-mode entry 0x%llx is beyond 64 KiB",
					   (unsigned long long)b->entry);
		code = real_segment(b->code_selector, 0xb);
		data = real_segment(b->data_selector, 0x3);
		s->cr0 &= ~(CR0_PE | CR0_PG);
		s->cr4 &= ~(CR4_PAE | CR4_PCIDE);
		s->efer &= ~(EFER_LME | EFER_LMA);
		break;
	case LIBVM_BOOT_PROT32:
		if (b->entry > 0xffffffffull)
			return libvm__fail(-EINVAL, "32-bit entry 0x%llx is beyond 4 GiB",
					   (unsigned long long)b->entry);
		code = flat_segment(b->code_selector, 0xb, false);
		data = flat_segment(b->data_selector, 0x3, false);
		/* Multiboot 0.6.96 3.2: PE set, PG clear; caches on (CD/NW clear). */
		s->cr0 = CR0_PE | CR0_ET;
		s->cr3 = 0;
		s->cr4 &= ~(CR4_PAE | CR4_PCIDE);
		s->efer &= ~(EFER_LME | EFER_LMA);
		break;
	case LIBVM_BOOT_LONG64:
		code = flat_segment(b->code_selector, 0xb, true);
		data = flat_segment(b->data_selector, 0x3, false);
		/* Long mode needs PAE paging with LME; LMA is what the CPU
		 * would set on enabling paging (SDM vol. 3, 9.8.5). */
		s->cr0 = CR0_PE | CR0_ET | CR0_PG;
		s->cr3 = b->cr3;
		s->cr4 = (s->cr4 & ~CR4_PCIDE) | CR4_PAE;
		s->efer |= EFER_LME | EFER_LMA;
		break;
	default:
		return libvm__fail(-EINVAL, "unknown boot mode %u", b->mode);
	}
	s->cs = code;
	s->ds = s->es = s->fs = s->gs = s->ss = data;
	s->gdt = (libvm_dtable){ .base = b->gdt_base, .limit = b->gdt_limit };
	/* VM entry wants a usable TR: a busy TSS (type 0xb, 32- or 64-bit). */
	s->tr = (libvm_segment){ .limit = 0xffff, .type = 0xb, .present = 1 };
	s->ldt = (libvm_segment){ .limit = 0xffff, .type = 0x2, .present = 1 };
	return 0;
}

LIBVM_EXPORT int libvm_boot_apply(libvm_vcpu *vcpu, const libvm_boot *boot)
{
	libvm_sregs sregs;
	libvm_regs regs;
	int err;

	if (!vcpu || !boot)
		return libvm__fail(-EINVAL, "libvm_boot_apply: %s is NULL", vcpu ? "boot" : "vcpu");
	err = libvm_vcpu_get_sregs(vcpu, &sregs);
	if (err)
		return err;
	err = libvm__boot_state(boot, &regs, &sregs);
	if (err)
		return err;
	err = libvm_vcpu_set_sregs(vcpu, &sregs);
	if (err)
		return err;
	return libvm_vcpu_set_regs(vcpu, &regs);
}

/* Multiboot 0.6.96 3.1.1: a 32-bit aligned header in the first 8192 bytes. */
int libvm__multiboot_find(const uint8_t *image, size_t size, size_t *offset)
{
	size_t limit = size < 8192 ? size : 8192;

	for (size_t off = 0; off + 12 <= limit; off += 4) {
		uint32_t magic = libvm__le32(image + off);
		uint32_t flags = libvm__le32(image + off + 4);
		uint32_t sum = libvm__le32(image + off + 8);

		if (magic == 0x1BADB002u && (uint32_t)(magic + flags + sum) == 0) {
			*offset = off;
			return 0;
		}
	}
	return -ENOEXEC;
}

LIBVM_EXPORT int libvm_load_detect(const void *image, size_t size)
{
	const uint8_t *p = image;
	size_t off;

	if (!image)
		return libvm__fail(-EINVAL, "libvm_load_detect: image is NULL");
	if (libvm__multiboot_find(p, size, &off) == 0)
		return LIBVM_FORMAT_MULTIBOOT;
	if (size >= 5 && memcmp(p, "\177ELF", 4) == 0 && (p[4] == 1 || p[4] == 2)) {
		struct libvm__elf_info info;
		bool pvh = false;

		/* A malformed ELF is still an ELF: its loader says what is wrong. */
		if (libvm__elf_parse(&info, p, size) == 0) {
			pvh = info.pvh_entry != UINT64_MAX;
			free(info.segs);
		}
		libvm__clear_error();
		if (pvh)
			return LIBVM_FORMAT_PVH;
		return p[4] == 1 ? LIBVM_FORMAT_ELF32 : LIBVM_FORMAT_ELF64;
	}
	/* Linux boot protocol: "HdrS" at 0x202 (Documentation/arch/x86/boot.rst). */
	if (size >= 0x206 && memcmp(p + 0x202, "HdrS", 4) == 0)
		return LIBVM_FORMAT_BZIMAGE;
	return LIBVM_FORMAT_UNKNOWN;
}
