// SPDX-License-Identifier: GPL-2.0
/*
 * vmm-amd: AMD SVM backend of the vmm core.  Detects SVM with nested
 * paging, turns SVM on in every CPU (EFER.SVME plus a host save area) for
 * the module's lifetime, hands out ASIDs, owns one VMCB per vCPU and
 * enters the guest (event injection, one VMRUN).  VMCB state is in
 * vmcb.c, MSRs in svm_msr.c, exit dispatch in svm_exit.c, nested paging
 * in svm_npt.c; the run loop and emulation are the core's.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/reboot.h>
#include <linux/slab.h>
#include <asm/cpufeature.h>
#include <asm/debugreg.h>
#include <asm/msr.h>
#include <asm/nospec-branch.h>
#include <asm/processor.h>

#include "svm.h"

struct svm_cpu {
	struct page *hsave;		/* MSR_VM_HSAVE_PA: VMRUN's host area */
	struct page *host_vmsave;	/* VMSAVE/VMLOAD of host state */
	bool enabled;
	struct vmcb *last_vmcb;		/* for IBPB between vCPUs */
	u32 next_asid;
	u64 asid_gen;
};

static DEFINE_PER_CPU(struct svm_cpu, svm_cpus);
static u32 svm_max_asid;

/* Shared permission maps: every I/O port and MSR access is intercepted. */
static struct page *svm_iopm;
static struct page *svm_msrpm;

#define SVM_IOPM_ORDER	2	/* 12 KiB used */
#define SVM_MSRPM_ORDER	1	/* 8 KiB used */

/* CPUID Fn8000_000A EDX */
#define SVM_FEATURE_NPT	BIT(0)
/* MSR_VM_CR */
#define SVM_VM_CR_SVMDIS	BIT(4)

static bool svm_this_cpu_ready(void)
{
	return this_cpu_ptr(&svm_cpus)->enabled;
}

static u64 svm_host_save_pa(void)
{
	return page_to_phys(this_cpu_ptr(&svm_cpus)->host_vmsave);
}

/*
 * Give the vCPU an ASID on @cpu.  Each CPU hands out ASIDs in generations;
 * when they run out it starts a new generation and flushes every ASID, so a
 * vCPU never meets TLB entries of an earlier owner of its ASID.  A vCPU that
 * moved CPUs, or whose VM lost mappings (tlb_gen), takes a fresh ASID too.
 * Called with interrupts disabled.
 */
static void svm_assign_asid(struct vmm_vcpu *vcpu, int cpu)
{
	struct svm_cpu *sd = per_cpu_ptr(&svm_cpus, cpu);
	struct svm_vcpu *svm = to_svm(vcpu);
	int gen = atomic_read(&vcpu->vm->tlb_gen);

	/* Another vCPU ran here last: its branch predictions must not. */
	if (sd->last_vmcb != svm->vmcb) {
		sd->last_vmcb = svm->vmcb;
		indirect_branch_prediction_barrier();
	}
	if (svm->asid_cpu == cpu && svm->asid_gen == sd->asid_gen &&
	    svm->tlb_gen == gen)
		return;
	if (sd->next_asid > svm_max_asid) {
		sd->asid_gen++;
		sd->next_asid = 1;
		svm->vmcb->control.tlb_control = 1;	/* flush all ASIDs */
		vmm_stat_inc(VMM_STAT_ASID_FLUSH_ALL);
	}
	svm->asid = sd->next_asid++;
	svm->asid_gen = sd->asid_gen;
	svm->asid_cpu = cpu;
	svm->tlb_gen = gen;
	svm->vmcb->control.asid = svm->asid;
}

/* The guest's own TLB entries (this vCPU's ASID) go at the next VMRUN. */
void svm_flush_guest_tlb(struct svm_vcpu *svm)
{
	struct vmcb_control *c = &svm->vmcb->control;

	if (c->tlb_control != SVM_TLB_FLUSH_ALL)
		c->tlb_control = boot_cpu_has(X86_FEATURE_FLUSHBYASID) ?
				 SVM_TLB_FLUSH_ASID : SVM_TLB_FLUSH_ALL;
}

/*
 * CPU hotplug callbacks, also run on every online CPU at load and unload:
 * SVM is on exactly while the CPU is online and the module loaded.
 */
static int svm_cpu_online(unsigned int cpu)
{
	struct svm_cpu *sd = this_cpu_ptr(&svm_cpus);
	u64 efer;

	rdmsrl(MSR_EFER, efer);
	if (efer & EFER_SVME) {
		pr_err("CPU %u: SVM is already in use (EFER.SVME set): another hypervisor such as kvm-amd owns it; unload it first\n",
		       cpu);
		return -EBUSY;
	}
	wrmsrl(MSR_VM_HSAVE_PA, page_to_phys(sd->hsave));
	wrmsrl(MSR_EFER, efer | EFER_SVME);
	/*
	 * The TLB may still hold translations tagged with any ASID by an
	 * earlier hypervisor on this CPU (kvm-amd, or this module before a
	 * reload or an offline), for pages that may be the host's by now.
	 * ASIDs "run out" at once, so the first VMRUN here starts a new
	 * generation and flushes them all.
	 */
	sd->next_asid = svm_max_asid + 1;
	sd->asid_gen++;
	sd->enabled = true;
	return 0;
}

static void svm_disable_this_cpu(void *unused)
{
	struct svm_cpu *sd = this_cpu_ptr(&svm_cpus);
	u64 efer;

	if (!sd->enabled)
		return;
	sd->enabled = false;
	rdmsrl(MSR_EFER, efer);
	wrmsrl(MSR_EFER, efer & ~EFER_SVME);
	wrmsrl(MSR_VM_HSAVE_PA, 0);
}

static int svm_cpu_offline(unsigned int cpu)
{
	svm_disable_this_cpu(NULL);
	return 0;
}

/* kexec and reboot must not find EFER.SVME set. */
static int svm_reboot(struct notifier_block *nb, unsigned long action,
		      void *unused)
{
	on_each_cpu(svm_disable_this_cpu, NULL, 1);
	return NOTIFY_OK;
}

static struct notifier_block svm_reboot_nb = {
	.notifier_call = svm_reboot,
};

static enum cpuhp_state svm_cpuhp_state;

static void svm_free_cpu_pages(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct svm_cpu *sd = per_cpu_ptr(&svm_cpus, cpu);

		if (sd->hsave)
			__free_page(sd->hsave);
		if (sd->host_vmsave)
			__free_page(sd->host_vmsave);
		sd->hsave = NULL;
		sd->host_vmsave = NULL;
	}
}

static int svm_alloc_cpu_pages(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct svm_cpu *sd = per_cpu_ptr(&svm_cpus, cpu);

		sd->hsave = alloc_page(GFP_KERNEL | __GFP_ZERO);
		sd->host_vmsave = alloc_page(GFP_KERNEL | __GFP_ZERO);
		if (!sd->hsave || !sd->host_vmsave) {
			svm_free_cpu_pages();
			return -ENOMEM;
		}
	}
	return 0;
}

/* Power-on or INIT state of what the backend owns; the core did the rest. */
static void svm_vcpu_reset(struct vmm_vcpu *vcpu, bool init)
{
	struct svm_vcpu *svm = to_svm(vcpu);

	vmcb_reset(vcpu, page_to_phys(svm_iopm), page_to_phys(svm_msrpm),
		   init);
	memset(svm->db, 0, sizeof(svm->db));
	svm->nmi_masked = false;
	svm->iret_seen = false;
}

static int svm_vcpu_create(struct vmm_vcpu *vcpu)
{
	struct svm_vcpu *svm;
	struct page *vmcb;

	svm = kzalloc(sizeof(*svm), GFP_KERNEL_ACCOUNT);
	if (!svm)
		return -ENOMEM;
	vmcb = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!vmcb) {
		kfree(svm);
		return -ENOMEM;
	}
	svm->vmcb = page_address(vmcb);
	svm->vmcb_pa = page_to_phys(vmcb);
	svm->asid_cpu = -1;
	vcpu->arch = svm;
	return 0;
}

static void svm_vcpu_free(struct vmm_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	int cpu;

	/* A new VMCB at the same address must still get its IBPB. */
	for_each_possible_cpu(cpu)
		cmpxchg(&per_cpu_ptr(&svm_cpus, cpu)->last_vmcb, svm->vmcb, NULL);

	free_page((unsigned long)svm->vmcb);
	kfree(svm);
	vcpu->arch = NULL;
}

/*
 * One VMRUN.  RAX, RSP, RIP and RFLAGS go through the VMCB, the other
 * GPRs through svm_vmrun_asm; all of them are the core's again after.
 */
static void svm_enter_guest(struct vmm_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb_save *s = &svm->vmcb->save;
	bool guest_dr;

	s->rax = vcpu->gprs[VMM_RAX];
	s->rsp = vcpu->gprs[VMM_RSP];
	s->rip = vcpu->rip;
	s->rflags = vcpu->rflags;
	vmm_guest_fpu_enter(vcpu);
	/* The guest's breakpoints, when its DR7 enables one. */
	guest_dr = s->dr7 & 0xff;
	if (guest_dr) {
		set_debugreg(svm->db[0], 0);
		set_debugreg(svm->db[1], 1);
		set_debugreg(svm->db[2], 2);
		set_debugreg(svm->db[3], 3);
	}

	asm volatile("clgi" : : : "memory");
	svm_vmrun_asm(svm->vmcb_pa, vcpu->gprs, svm_host_save_pa());
	asm volatile("stgi" : : : "memory");

	svm->vmcb->control.tlb_control = 0;
	if (guest_dr || hw_breakpoint_active())
		hw_breakpoint_restore();
	vmm_guest_fpu_exit(vcpu);
	vcpu->gprs[VMM_RAX] = s->rax;
	vcpu->gprs[VMM_RSP] = s->rsp;
	vcpu->rip = s->rip;
	vcpu->rflags = s->rflags;
}

static int svm_run_once(struct vmm_vcpu *vcpu)
{
	int cpu;

	local_irq_disable();
	cpu = smp_processor_id();
	if (!svm_this_cpu_ready()) {
		local_irq_enable();
		pr_warn_once("CPU %d has no SVM enabled\n", cpu);
		return -EIO;
	}
	vmm_guest_mode_enter(vcpu, cpu);
	vmm_inject_events(vcpu);
	svm_assign_asid(vcpu, cpu);
	to_svm(vcpu)->vmcb->control.clean = 0;
	svm_enter_guest(vcpu);
	vmm_guest_mode_exit(vcpu);
	local_irq_enable();
	return svm_handle_exit(vcpu);
}

static int svm_vm_init(struct vmm_vm *vm)
{
	struct svm_vm *svm_vm;
	int ret;

	svm_vm = kzalloc(sizeof(*svm_vm), GFP_KERNEL_ACCOUNT);
	if (!svm_vm)
		return -ENOMEM;
	ret = svm_npt_init(svm_vm);
	if (ret) {
		kfree(svm_vm);
		return ret;
	}
	vm->arch = svm_vm;
	return 0;
}

static void svm_vm_destroy(struct vmm_vm *vm)
{
	struct svm_vm *svm_vm = to_svm_vm(vm);

	svm_npt_free(svm_vm);
	kfree(svm_vm);
	vm->arch = NULL;
}

static int svm_map_page(struct vmm_vm *vm, u64 gpa, u64 hpa, bool writable)
{
	return svm_npt_map(to_svm_vm(vm), gpa, hpa, writable);
}

static const struct vmm_arch_ops svm_ops = {
	.owner = THIS_MODULE,
	.name = "amd-svm",
	.vm_init = svm_vm_init,
	.vm_destroy = svm_vm_destroy,
	.unmap_range = svm_npt_unmap_range,
	.map_page = svm_map_page,
	.vcpu_create = svm_vcpu_create,
	.vcpu_free = svm_vcpu_free,
	.vcpu_reset = svm_vcpu_reset,
	.run_once = svm_run_once,
	.interruptible = svm_interruptible,
	.get_cr8 = vmcb_get_cr8,
	.get_sregs = vmcb_get_sregs,
	.set_sregs = vmcb_set_sregs,
	.get_cpu_mode = vmcb_get_cpu_mode,
	.clear_int_shadow = vmcb_clear_int_shadow,
	.get_exit_info = vmcb_get_exit_info,
	.get_msr = svm_get_msr,
	.set_msr = svm_set_msr,
	.nmi_allowed = svm_nmi_allowed,
	.inject_irq = svm_inject_irq,
	.inject_nmi = svm_inject_nmi,
	.set_windows = svm_set_windows,
	.sipi = svm_sipi,
	.get_events = svm_get_events,
	.set_events = svm_set_events,
	.get_debugregs = vmcb_get_debugregs,
	.set_debugregs = vmcb_set_debugregs,
};

static int svm_detect(void)
{
	u64 vm_cr;

	if (boot_cpu_data.x86_vendor != X86_VENDOR_AMD &&
	    boot_cpu_data.x86_vendor != X86_VENDOR_HYGON) {
		pr_err("not an AMD CPU\n");
		return -ENODEV;
	}
	if (!boot_cpu_has(X86_FEATURE_SVM)) {
		pr_err("CPU has no SVM\n");
		return -ENODEV;
	}
	if (!(cpuid_edx(0x8000000a) & SVM_FEATURE_NPT)) {
		pr_err("CPU has SVM but no nested paging\n");
		return -ENODEV;
	}
	rdmsrl(MSR_VM_CR, vm_cr);
	if (vm_cr & SVM_VM_CR_SVMDIS) {
		pr_err("SVM is disabled by the firmware (VM_CR.SVMDIS)\n");
		return -ENODEV;
	}
	svm_max_asid = cpuid_ebx(0x8000000a) - 1;
	if (!svm_max_asid) {
		pr_err("no ASIDs available\n");
		return -ENODEV;
	}
	return 0;
}

static int __init svm_init(void)
{
	int ret;

	ret = svm_detect();
	if (ret)
		return ret;

	svm_iopm = alloc_pages(GFP_KERNEL, SVM_IOPM_ORDER);
	svm_msrpm = alloc_pages(GFP_KERNEL, SVM_MSRPM_ORDER);
	ret = -ENOMEM;
	if (!svm_iopm || !svm_msrpm)
		goto err_maps;
	memset(page_address(svm_iopm), 0xff, PAGE_SIZE << SVM_IOPM_ORDER);
	memset(page_address(svm_msrpm), 0xff, PAGE_SIZE << SVM_MSRPM_ORDER);

	ret = svm_alloc_cpu_pages();
	if (ret)
		goto err_maps;

	/* Runs svm_cpu_online() on every CPU; undoes them all on failure. */
	ret = cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, "vmm/svm:online",
				svm_cpu_online, svm_cpu_offline);
	if (ret < 0)
		goto err_cpu;
	svm_cpuhp_state = ret;
	register_reboot_notifier(&svm_reboot_nb);

	ret = vmm_register_backend(&svm_ops);
	if (ret) {
		pr_err("cannot register with vmm core: %d\n", ret);
		goto err_disable;
	}
	pr_info("SVM with nested paging enabled on %u CPUs, %u ASIDs\n",
		num_online_cpus(), svm_max_asid);
	return 0;

err_disable:
	unregister_reboot_notifier(&svm_reboot_nb);
	cpuhp_remove_state(svm_cpuhp_state);
err_cpu:
	svm_free_cpu_pages();
err_maps:
	if (svm_iopm)
		__free_pages(svm_iopm, SVM_IOPM_ORDER);
	if (svm_msrpm)
		__free_pages(svm_msrpm, SVM_MSRPM_ORDER);
	return ret;
}

static void __exit svm_exit(void)
{
	vmm_unregister_backend(&svm_ops);
	unregister_reboot_notifier(&svm_reboot_nb);
	cpuhp_remove_state(svm_cpuhp_state);
	svm_free_cpu_pages();
	__free_pages(svm_iopm, SVM_IOPM_ORDER);
	__free_pages(svm_msrpm, SVM_MSRPM_ORDER);
	pr_info("SVM disabled\n");
}

module_init(svm_init);
module_exit(svm_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("libvm hypervisor: AMD SVM backend");
MODULE_AUTHOR("libvm developers");
