// SPDX-License-Identifier: GPL-2.0
/*
 * Guest page walk: guest linear to guest physical addresses through the
 * guest's own page tables (legacy 32-bit with PSE, PAE, 4-level long
 * mode), for instruction fetch and string I/O emulation.  Both backends
 * use it; what paging mode the guest is in comes from the backend's
 * hardware state (struct vmm_cpu_mode).  No access-rights checks: the
 * hardware already executed (or faulted on) what is emulated here.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bits.h>
#include <linux/mm.h>
#include <asm/processor-flags.h>
#include <asm/msr-index.h>

#include "vmm.h"

#define PTE_P		BIT_ULL(0)
#define PTE_PS		BIT_ULL(7)
#define PTE_ADDR	GENMASK_ULL(51, 12)

static int read_pte(struct vmm_vm *vm, u64 gpa, unsigned int size, u64 *pte)
{
	*pte = 0;
	return vmm_read_guest(vm, gpa, pte, size);
}

/*
 * Walk 64-bit entries from @table down @levels levels (level numbers
 * levels-1 .. 0); large pages are allowed from @max_ps_level down.
 */
static int walk64(struct vmm_vm *vm, u64 table, u64 gva, int levels,
		  int max_ps_level, u64 *gpa)
{
	u64 pte;
	int level;

	for (level = levels - 1; level >= 0; level--) {
		if (read_pte(vm, table + ((gva >> (12 + 9 * level)) & 511) * 8,
			     8, &pte) || !(pte & PTE_P))
			return -EFAULT;
		if (level == 0 || (level <= max_ps_level && (pte & PTE_PS))) {
			u64 span = 1ULL << (12 + 9 * level);

			*gpa = (pte & PTE_ADDR & ~(span - 1)) | (gva & (span - 1));
			return 0;
		}
		table = pte & PTE_ADDR;
	}
	return -EFAULT;
}

int vmm_gva_to_gpa(struct vmm_vcpu *vcpu, const struct vmm_cpu_mode *m,
		   u64 gva, u64 *gpa)
{
	struct vmm_vm *vm = vcpu->vm;
	u64 pte;

	if (!(m->cr0 & X86_CR0_PG)) {
		*gpa = gva & 0xffffffff;
		return 0;
	}
	if (m->efer & EFER_LMA)
		return walk64(vm, m->cr3 & PTE_ADDR, gva, 4, 2, gpa);
	if (m->cr4 & X86_CR4_PAE) {
		/* The four PDPTEs, then a 2-level walk with 2 MiB pages. */
		if (read_pte(vm, (m->cr3 & 0xffffffe0) + ((gva >> 30) & 3) * 8,
			     8, &pte) || !(pte & PTE_P))
			return -EFAULT;
		return walk64(vm, pte & PTE_ADDR, gva, 2, 1, gpa);
	}
	/* Legacy 32-bit paging, 4 MiB pages with CR4.PSE. */
	if (read_pte(vm, (m->cr3 & 0xfffff000) + ((gva >> 22) & 1023) * 4, 4,
		     &pte) || !(pte & PTE_P))
		return -EFAULT;
	if ((pte & PTE_PS) && (m->cr4 & X86_CR4_PSE)) {
		*gpa = (pte & 0xffc00000) | (gva & 0x3fffff);
		return 0;
	}
	if (read_pte(vm, (pte & 0xfffff000) + ((gva >> 12) & 1023) * 4, 4,
		     &pte) || !(pte & PTE_P))
		return -EFAULT;
	*gpa = (pte & 0xfffff000) | (gva & 0xfff);
	return 0;
}
EXPORT_SYMBOL_GPL(vmm_gva_to_gpa);

/* Copy to or from guest linear memory, page by page. */
int vmm_copy_linear(struct vmm_vcpu *vcpu, const struct vmm_cpu_mode *m,
		    u64 lin, void *buf, unsigned int len, bool write)
{
	u8 *p = buf;

	while (len) {
		unsigned int n = min_t(unsigned int, len,
				       PAGE_SIZE - offset_in_page(lin));
		u64 gpa;
		int ret;

		if (vmm_gva_to_gpa(vcpu, m, lin, &gpa))
			return -EFAULT;
		ret = write ? vmm_write_guest(vcpu->vm, gpa, p, n) :
			      vmm_read_guest(vcpu->vm, gpa, p, n);
		if (ret)
			return ret;
		p += n;
		lin += n;
		len -= n;
	}
	return 0;
}
EXPORT_SYMBOL_GPL(vmm_copy_linear);
