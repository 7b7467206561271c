// SPDX-License-Identifier: GPL-2.0
/*
 * Nested page tables: 4 KiB leaves, 4 or 5 levels (nested paging walks
 * tables in the host's own paging mode, so a host running with LA57 needs
 * 5-level nested tables), filled on demand from the
 * memory slots when the guest first touches a page (a nested page fault).
 * Guest accesses count as user accesses for nested paging, so every
 * present entry carries U/S.  Read-only slots get leaves without R/W: a
 * write faults and becomes an MMIO exit.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "svm.h"

#define NPT_P		BIT_ULL(0)
#define NPT_RW		BIT_ULL(1)
#define NPT_US		BIT_ULL(2)
#define NPT_A		BIT_ULL(5)
#define NPT_D		BIT_ULL(6)
#define NPT_ADDR	GENMASK_ULL(51, 12)
#define NPT_TABLE	(NPT_P | NPT_RW | NPT_US | NPT_A)

/* Index of the top level: 3 for 4-level, 4 for 5-level paging. */
static int npt_top(void)
{
	return pgtable_l5_enabled() ? 4 : 3;
}

static unsigned int npt_index(u64 gpa, int level)
{
	return (gpa >> (12 + 9 * level)) & 511;
}

int svm_npt_init(struct svm_vm *svm_vm)
{
	mutex_init(&svm_vm->npt_lock);
	svm_vm->npt_root = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	return svm_vm->npt_root ? 0 : -ENOMEM;
}

static void npt_free_level(u64 *table, int level)
{
	int i;

	if (level > 0) {
		for (i = 0; i < 512; i++)
			if (table[i] & NPT_P)
				npt_free_level(phys_to_virt(table[i] & NPT_ADDR),
					       level - 1);
	}
	free_page((unsigned long)table);
}

void svm_npt_free(struct svm_vm *svm_vm)
{
	npt_free_level(svm_vm->npt_root, npt_top());
	svm_vm->npt_root = NULL;
}

/* Map one 4 KiB guest page; tables are allocated as needed. */
int svm_npt_map(struct svm_vm *svm_vm, u64 gpa, u64 hpa, bool writable)
{
	u64 *table = svm_vm->npt_root;
	int level, ret = 0;

	mutex_lock(&svm_vm->npt_lock);
	for (level = npt_top(); level > 0; level--) {
		u64 *e = &table[npt_index(gpa, level)];

		if (!(*e & NPT_P)) {
			u64 *next = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);

			if (!next) {
				ret = -ENOMEM;
				goto out;
			}
			WRITE_ONCE(*e, virt_to_phys(next) | NPT_TABLE);
		}
		table = phys_to_virt(*e & NPT_ADDR);
	}
	WRITE_ONCE(table[npt_index(gpa, 0)], (hpa & NPT_ADDR) | NPT_P |
		   NPT_US | NPT_A | (writable ? NPT_RW | NPT_D : 0));
out:
	mutex_unlock(&svm_vm->npt_lock);
	return ret;
}

/*
 * Clear the leaves of [gpa, gpa + size).  Tables stay until the VM dies;
 * the caller makes every vCPU take a fresh ASID before the pages go.
 */
void svm_npt_unmap_range(struct vmm_vm *vm, u64 gpa, u64 size)
{
	struct svm_vm *svm_vm = to_svm_vm(vm);
	u64 end = gpa + size;

	mutex_lock(&svm_vm->npt_lock);
	while (gpa < end) {
		u64 *table = svm_vm->npt_root;
		int level;

		for (level = npt_top(); level > 0; level--) {
			u64 e = table[npt_index(gpa, level)];

			if (!(e & NPT_P))
				break;
			table = phys_to_virt(e & NPT_ADDR);
		}
		if (level == 0) {
			WRITE_ONCE(table[npt_index(gpa, 0)], 0);
			gpa += PAGE_SIZE;
		} else {
			/* Skip the whole range this missing entry covers. */
			u64 span = 1ULL << (12 + 9 * level);

			gpa = (gpa + span) & ~(span - 1);
		}
		cond_resched();
	}
	mutex_unlock(&svm_vm->npt_lock);
}
