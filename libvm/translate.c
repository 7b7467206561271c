/* SPDX-License-Identifier: MIT */
/*
 * Guest-virtual to guest-physical: a walk of the guest's page tables in
 * guest memory, by the vCPU's CR0.PG, CR4.PAE/PSE/LA57, EFER.LMA and CR3
 * (SDM vol. 3, 4.3 32-bit paging, 4.4 PAE, 4.5 4-level and 5-level
 * paging). Not KVM_TRANSLATE: it reports every page writable and none
 * user-accessible (Linux's kvm_arch_vcpu_ioctl_translate fills in
 * constants), our /dev/vmm has no such call, and the walk is the same on
 * every backend, the fake one included. Accessed and dirty bits are left
 * alone: a debugger's look must not change the guest.
 */
#include <errno.h>
#include <string.h>

#include <libvm/debug.h>

#include "internal.h"

#define CR0_PG (1ull << 31)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_LA57 (1ull << 12)
#define EFER_LMA (1ull << 10)
#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_US (1ull << 2)
#define PTE_PS (1ull << 7)
#define ADDR_MASK 0x000ffffffffff000ull /* bits 51:12 of a 64-bit entry */

struct walk {
	libvm_vm *vm;
	uint64_t gva;
	libvm_translation *t;
};

static int read_entry(struct walk *w, uint64_t gpa, unsigned int size, uint64_t *entry,
		      int level)
{
	*entry = 0;
	if (libvm_mem_read(w->vm, gpa, entry, size))
		return libvm__fail(-EFAULT, "0x%llx: the level-%d table entry at 0x%llx is outside "
				   "guest memory", (unsigned long long)w->gva, level,
				   (unsigned long long)gpa);
	if (!(*entry & PTE_P))
		return libvm__fail(-EFAULT, "0x%llx is not mapped (the level-%d entry at 0x%llx is "
				   "not present)", (unsigned long long)w->gva, level,
				   (unsigned long long)gpa);
	return 0;
}

/* 32-bit paging: two levels of 4-byte entries, 4 MiB pages with PSE
 * (PDE bits 20:13 give physical bits 39:32, PSE-36). */
static int walk32(struct walk *w, uint64_t cr3, bool pse)
{
	uint32_t va = (uint32_t)w->gva;
	uint64_t pde, pte;
	int err = read_entry(w, (cr3 & 0xfffff000u) + ((va >> 22) << 2), 4, &pde, 2);

	if (err)
		return err;
	w->t->writable = !!(pde & PTE_RW);
	w->t->user = !!(pde & PTE_US);
	if (pse && (pde & PTE_PS)) {
		w->t->gpa = (pde & 0xffc00000u) | ((pde >> 13) & 0xffull) << 32 | (va & 0x3fffffu);
		return 0;
	}
	err = read_entry(w, (pde & 0xfffff000u) + (((va >> 12) & 0x3ff) << 2), 4, &pte, 1);
	if (err)
		return err;
	w->t->writable &= !!(pte & PTE_RW);
	w->t->user &= !!(pte & PTE_US);
	w->t->gpa = (pte & 0xfffff000u) | (va & 0xfffu);
	return 0;
}

/*
 * PAE, 4-level and 5-level paging: 8-byte entries, 9 bits of address a
 * level below the top. PAE's top level is the 4 PDPTEs (2 bits, no R/W
 * or U/S); large pages at levels 2 (2 MiB) and 3 (1 GiB; not in PAE).
 */
static int walk64(struct walk *w, uint64_t cr3, int levels)
{
	uint64_t table = levels == 3 ? cr3 & 0xffffffe0u : cr3 & ADDR_MASK;
	uint8_t writable = 1, user = 1;

	for (int level = levels; level >= 1; level--) {
		unsigned int shift = 12 + 9 * (level - 1);
		uint64_t index = (w->gva >> shift) & (level == 3 && levels == 3 ? 3 : 0x1ff);
		uint64_t entry;
		int err = read_entry(w, table + index * 8, 8, &entry, level);

		if (err)
			return err;
		if (!(levels == 3 && level == 3)) {
			writable &= !!(entry & PTE_RW);
			user &= !!(entry & PTE_US);
		}
		if ((level == 2 || (level == 3 && levels > 3)) && (entry & PTE_PS)) {
			uint64_t page = 1ull << shift;

			w->t->gpa = (entry & ADDR_MASK & ~(page - 1)) | (w->gva & (page - 1));
			w->t->writable = writable;
			w->t->user = user;
			return 0;
		}
		table = entry & ADDR_MASK;
	}
	w->t->gpa = table | (w->gva & 0xfff);
	w->t->writable = writable;
	w->t->user = user;
	return 0;
}

/* The walk itself (the sregs as the vCPU has them now). */
static int walk(libvm_vcpu *vcpu, uint64_t gva, libvm_translation *t)
{
	struct walk w = { .vm = vcpu->vm, .gva = gva, .t = t };
	libvm_sregs s;
	int err = libvm_vcpu_get_sregs(vcpu, &s);

	if (err)
		return err;
	if (!(s.cr0 & CR0_PG)) {
		/* No paging: linear is physical (32 bits outside long mode). */
		t->gpa = (s.efer & EFER_LMA) ? gva : gva & 0xffffffffu;
		t->writable = t->user = 1;
		return 0;
	}
	if (s.efer & EFER_LMA) {
		int levels = (s.cr4 & CR4_LA57) ? 5 : 4;
		unsigned int bits = levels == 5 ? 57 : 48;
		int64_t top = (int64_t)(gva << (64 - bits)) >> (64 - bits);

		if ((uint64_t)top != gva)
			return libvm__fail(-EFAULT, "0x%llx is not canonical for %d-level paging",
					   (unsigned long long)gva, levels);
		return walk64(&w, s.cr3, levels);
	}
	if (gva > 0xffffffffu)
		return libvm__fail(-EFAULT, "0x%llx is beyond 32-bit paging",
				   (unsigned long long)gva);
	if (s.cr4 & CR4_PAE)
		return walk64(&w, s.cr3, 3);
	return walk32(&w, s.cr3, s.cr4 & CR4_PSE);
}

LIBVM_EXPORT int libvm_vcpu_translate(libvm_vcpu *vcpu, uint64_t gva, libvm_translation *out)
{
	LIBVM__CHECK_VCPU(vcpu, "libvm_vcpu_translate");
	if (!out)
		return libvm__fail(-EINVAL, "libvm_vcpu_translate: out is NULL");
	memset(out, 0, sizeof(*out));
	return walk(vcpu, gva, out);
}
