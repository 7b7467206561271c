// SPDX-License-Identifier: GPL-2.0
/*
 * Extended page tables (SDM vol. 3C, 29.3): 4-level tables with 4 KiB
 * leaves of write-back memory type, filled on demand from the memory slots
 * when the guest first touches a page (an EPT violation).  Read-only slots
 * get leaves without W: a write is an EPT violation and becomes an MMIO
 * exit.  The EPT walk is independent of the host's paging mode, so four
 * levels (48-bit guest-physical addresses) do on every host.  Removing
 * mappings bumps the VM's TLB generation (the core does that); each vCPU
 * then INVEPTs before its next entry (vmx.c).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/mm.h>

#include "vmx.h"

#define EPT_LEVELS	4
#define EPT_TABLE	(EPT_R | EPT_W | EPT_X)

static unsigned int ept_index(u64 gpa, int level)
{
	return (gpa >> (12 + 9 * level)) & 511;
}

int vmx_ept_init(struct vmx_vm *vmx_vm)
{
	mutex_init(&vmx_vm->ept_lock);
	vmx_vm->ept_root = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!vmx_vm->ept_root)
		return -ENOMEM;
	vmx_vm->eptp = virt_to_phys(vmx_vm->ept_root) | EPTP_WB | EPTP_WALK4;
	return 0;
}

static void ept_free_level(u64 *table, int level)
{
	int i;

	if (level > 0) {
		for (i = 0; i < 512; i++)
			if (table[i] & EPT_TABLE)
				ept_free_level(phys_to_virt(table[i] & EPT_ADDR),
					       level - 1);
	}
	free_page((unsigned long)table);
}

void vmx_ept_free(struct vmx_vm *vmx_vm)
{
	ept_free_level(vmx_vm->ept_root, EPT_LEVELS - 1);
	vmx_vm->ept_root = NULL;
}

/* Map one 4 KiB guest page; tables are allocated as needed. */
int vmx_ept_map(struct vmx_vm *vmx_vm, u64 gpa, u64 hpa, bool writable)
{
	u64 *table = vmx_vm->ept_root;
	int level, ret = 0;

	mutex_lock(&vmx_vm->ept_lock);
	for (level = EPT_LEVELS - 1; level > 0; level--) {
		u64 *e = &table[ept_index(gpa, level)];

		if (!(*e & EPT_TABLE)) {
			u64 *next = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);

			if (!next) {
				ret = -ENOMEM;
				goto out;
			}
			WRITE_ONCE(*e, virt_to_phys(next) | EPT_TABLE);
		}
		table = phys_to_virt(*e & EPT_ADDR);
	}
	WRITE_ONCE(table[ept_index(gpa, 0)], (hpa & EPT_ADDR) | EPT_R |
		   EPT_X | EPT_MT_WB | (writable ? EPT_W : 0));
out:
	mutex_unlock(&vmx_vm->ept_lock);
	return ret;
}

/*
 * Clear the leaves of [gpa, gpa + size).  Tables stay until the VM dies;
 * the caller makes every vCPU flush before the pages go.
 */
void vmx_ept_unmap_range(struct vmm_vm *vm, u64 gpa, u64 size)
{
	struct vmx_vm *vmx_vm = to_vmx_vm(vm);
	u64 end = gpa + size;

	mutex_lock(&vmx_vm->ept_lock);
	while (gpa < end) {
		u64 *table = vmx_vm->ept_root;
		int level;

		for (level = EPT_LEVELS - 1; level > 0; level--) {
			u64 e = table[ept_index(gpa, level)];

			if (!(e & EPT_TABLE))
				break;
			table = phys_to_virt(e & EPT_ADDR);
		}
		if (level == 0) {
			WRITE_ONCE(table[ept_index(gpa, 0)], 0);
			gpa += PAGE_SIZE;
		} else {
			/* Skip the whole range this missing entry covers. */
			u64 span = 1ULL << (12 + 9 * level);

			gpa = (gpa + span) & ~(span - 1);
		}
		cond_resched();
	}
	mutex_unlock(&vmx_vm->ept_lock);
}
