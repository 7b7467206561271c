// SPDX-License-Identifier: GPL-2.0
/*
 * Event counters of the core and the backend, summed over all VMs, one
 * file each under /sys/kernel/debug/vmm/ (as KVM has /sys/kernel/debug/kvm).
 * They let a test see what no guest can observe (a full TLB flush, a halt
 * served in the kernel) and let a benchmark explain its figures.  Per-CPU,
 * so that counting costs no shared cache line on the exit path.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/percpu.h>

#include "vmm.h"

DEFINE_PER_CPU(u64[VMM_NR_STATS], vmm_stats);
EXPORT_PER_CPU_SYMBOL_GPL(vmm_stats);

static const char * const vmm_stat_names[VMM_NR_STATS] = {
	[VMM_STAT_ASID_FLUSH_ALL] = "asid_flush_all",
	[VMM_STAT_SLOT_KICK_IPIS] = "slot_kick_ipis",
	[VMM_STAT_KICK_IPIS] = "kick_ipis",
	[VMM_STAT_HALT_SLEEPS] = "halt_sleeps",
	[VMM_STAT_IRQ_INJECTED] = "irq_injected",
	[VMM_STAT_NMI_INJECTED] = "nmi_injected",
	[VMM_STAT_IO_IN_KERNEL] = "io_in_kernel",
};

static struct dentry *vmm_debugfs_root;

u64 vmm_stat_read(enum vmm_stat s)
{
	u64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += per_cpu(vmm_stats, cpu)[s];
	return sum;
}

static int vmm_stat_get(void *data, u64 *val)
{
	*val = vmm_stat_read((enum vmm_stat)(unsigned long)data);
	return 0;
}

DEFINE_DEBUGFS_ATTRIBUTE(vmm_stat_fops, vmm_stat_get, NULL, "%llu\n");

void vmm_stats_init(void)
{
	unsigned long i;

	vmm_debugfs_root = debugfs_create_dir("vmm", NULL);
	for (i = 0; i < VMM_NR_STATS; i++)
		debugfs_create_file_unsafe(vmm_stat_names[i], 0444,
					   vmm_debugfs_root, (void *)i,
					   &vmm_stat_fops);
}

void vmm_stats_exit(void)
{
	debugfs_remove_recursive(vmm_debugfs_root);
}
