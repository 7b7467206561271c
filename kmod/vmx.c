// SPDX-License-Identifier: GPL-2.0
/*
 * vmm-intel: Intel VMX backend of the vmm core.  Detects VMX with EPT and
 * unrestricted guest and derives every VMCS control from the capability
 * MSRs (refusing to load, with a message that names what is missing,
 * where the CPU lacks something we need); turns VMX on in every CPU
 * (CR4.VMXE and VMXON) for the module's lifetime through a CPU-hotplug
 * state and a reboot notifier; keeps one VMCS per vCPU current on the CPU
 * its task runs on (preempt notifiers move it, VMCLEAR on the old CPU
 * first); hands out VPIDs; injects events and enters the guest.  VMCS
 * state is in vmx_vmcs.c, MSRs in vmx_msr.c, exit dispatch in vmx_exit.c,
 * EPT in vmx_ept.c; the run loop and emulation are the core's.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/gfp.h>
#include <linux/idr.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/reboot.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <asm/cpufeature.h>
#include <asm/debugreg.h>
#include <asm/desc.h>
#include <asm/msr.h>
#include <asm/nospec-branch.h>
#include <asm/processor.h>
#include <asm/special_insns.h>
#include <asm/tlbflush.h>
#include <asm/tsc.h>

#include "vmx.h"

struct vmx_caps vmx_caps;

/*
 * Bochs 2.7 re-evaluates pending interrupts only when RFLAGS.IF changes,
 * so a guest entered with IF=0 (from a host with IF=0) and spinning never
 * takes the VM exit an external interrupt must cause, and the host CPU is
 * lost.  With this set, the VMX-preemption timer (26.5.1) ends every stay
 * in the guest after at most that much time; real CPUs do not need it.
 */
static unsigned int exit_every_us;
module_param(exit_every_us, uint, 0444);
MODULE_PARM_DESC(exit_every_us,
		 "leave the guest at least every N microseconds (0: no timer; Bochs needs one)");

struct vmx_cpu {
	void *vmxon_region;
	bool enabled;
	struct list_head loaded;	/* vmx_vcpu.loaded_link */
	struct vmx_vcpu *current_vmcs;	/* the one VMPTRLD made current */
};

static DEFINE_PER_CPU(struct vmx_cpu, vmx_cpus);
static DEFINE_IDA(vmx_vpids);
static enum cpuhp_state vmx_cpuhp_state;

/* Shared by all vCPUs: every port and every MSR access exits. */
static struct page *vmx_io_bitmap;	/* A and B: two pages */
static struct page *vmx_msr_bitmap;

void vmx_insn_failed(const char *insn, unsigned long field)
{
	pr_warn_once("%s of VMCS field %#lx failed\n", insn, field);
}

/* ---- The VMX instructions this file needs (SDM vol. 3C, 31.3) ---- */

static int vmx_insn_vmxon(u64 pa)
{
	bool fail;

	asm volatile("vmxon %[pa]" : "=@ccbe" (fail) : [pa] "m" (pa)
		     : "cc", "memory");
	return fail ? -EIO : 0;
}

static void vmx_insn_vmxoff(void)
{
	asm volatile("vmxoff" : : : "cc", "memory");
}

static void vmx_insn_vmclear(u64 pa)
{
	bool fail;

	asm volatile("vmclear %[pa]" : "=@ccbe" (fail) : [pa] "m" (pa)
		     : "cc", "memory");
	if (fail)
		pr_warn_once("VMCLEAR of %#llx failed\n", pa);
}

static void vmx_insn_vmptrld(u64 pa)
{
	bool fail;

	asm volatile("vmptrld %[pa]" : "=@ccbe" (fail) : [pa] "m" (pa)
		     : "cc", "memory");
	if (fail)
		pr_warn_once("VMPTRLD of %#llx failed\n", pa);
}

static void vmx_insn_invept(unsigned long type, u64 eptp)
{
	struct {
		u64 eptp;
		u64 reserved;
	} desc = { eptp, 0 };
	bool fail;

	asm volatile("invept %[desc], %[type]" : "=@ccbe" (fail)
		     : [desc] "m" (desc), [type] "r" (type) : "cc", "memory");
	if (fail)
		pr_warn_once("INVEPT type %lu failed\n", type);
}

/* ---- VMX on and off per CPU ---- */

/*
 * CPU hotplug callbacks, also run on every online CPU at load and unload:
 * VMX is on exactly while the CPU is online and the module loaded.
 */
static int vmx_cpu_online(unsigned int cpu)
{
	struct vmx_cpu *vc = this_cpu_ptr(&vmx_cpus);
	u64 feat;
	int ret;

	if (cr4_read_shadow() & X86_CR4_VMXE) {
		pr_err("CPU %u: VMX is already in use (CR4.VMXE set): another hypervisor such as kvm-intel owns it; unload it first\n",
		       cpu);
		return -EBUSY;
	}
	rdmsrl(MSR_IA32_FEAT_CTL, feat);
	if (!(feat & VMX_FEATCTL_LOCKED) ||
	    !(feat & VMX_FEATCTL_VMXON_OUTSIDE_SMX)) {
		pr_err("CPU %u: VMX is disabled by the firmware (IA32_FEATURE_CONTROL %#llx)\n",
		       cpu, feat);
		return -ENODEV;
	}
	*(u32 *)vc->vmxon_region = vmx_caps.revision;
	INIT_LIST_HEAD(&vc->loaded);
	vc->current_vmcs = NULL;
	cr4_set_bits(X86_CR4_VMXE);
	ret = vmx_insn_vmxon(virt_to_phys(vc->vmxon_region));
	if (ret) {
		cr4_clear_bits(X86_CR4_VMXE);
		pr_err("CPU %u: VMXON failed\n", cpu);
		return ret;
	}
	/* Nothing an earlier owner of VMX left may be used by our EPTPs. */
	vmx_insn_invept(VMX_INVEPT_ALL, 0);
	vc->enabled = true;
	return 0;
}

/* VMCLEAR (28.11.3): the VMCS's data goes back to memory, launch state off. */
static void vmx_vmclear_here(struct vmx_vcpu *vmx)
{
	struct vmx_cpu *vc = this_cpu_ptr(&vmx_cpus);

	vmx_insn_vmclear(vmx->vmcs_pa);
	if (vc->current_vmcs == vmx)
		vc->current_vmcs = NULL;
	list_del(&vmx->loaded_link);
	vmx->launched = false;
	WRITE_ONCE(vmx->loaded_cpu, -1);
}

static void vmx_disable_this_cpu(void *unused)
{
	struct vmx_cpu *vc = this_cpu_ptr(&vmx_cpus);
	struct vmx_vcpu *vmx, *tmp;
	unsigned long flags;

	local_irq_save(flags);
	if (vc->enabled) {
		list_for_each_entry_safe(vmx, tmp, &vc->loaded, loaded_link)
			vmx_vmclear_here(vmx);
		vc->enabled = false;
		vmx_insn_vmxoff();
		cr4_clear_bits(X86_CR4_VMXE);
	}
	local_irq_restore(flags);
}

static int vmx_cpu_offline(unsigned int cpu)
{
	vmx_disable_this_cpu(NULL);
	return 0;
}

/* Reboot and kexec: INIT is blocked in VMX operation (vol. 3C, 24.8). */
static int vmx_reboot(struct notifier_block *nb, unsigned long action,
		      void *unused)
{
	on_each_cpu(vmx_disable_this_cpu, NULL, 1);
	return NOTIFY_OK;
}

static struct notifier_block vmx_reboot_nb = {
	.notifier_call = vmx_reboot,
};

static void vmx_free_cpu_pages(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct vmx_cpu *vc = per_cpu_ptr(&vmx_cpus, cpu);

		free_page((unsigned long)vc->vmxon_region);
		vc->vmxon_region = NULL;
	}
}

static int vmx_alloc_cpu_pages(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct vmx_cpu *vc = per_cpu_ptr(&vmx_cpus, cpu);

		vc->vmxon_region = (void *)get_zeroed_page(GFP_KERNEL);
		if (!vc->vmxon_region) {
			vmx_free_cpu_pages();
			return -ENOMEM;
		}
	}
	return 0;
}

/* ---- The VMCS on the CPU the vCPU's task runs on ---- */

static void vmx_vmclear_ipi(void *data)
{
	struct vmx_vcpu *vmx = data;

	/* It may have gone with its CPU's teardown meanwhile. */
	if (vmx->loaded_cpu == smp_processor_id())
		vmx_vmclear_here(vmx);
}

/*
 * Make the VMCS current on this CPU (preemption disabled).  A VMCS may be
 * active on one CPU only (25.11.1): one that was loaded elsewhere is
 * VMCLEARed there first and then launched afresh here.
 */
static void vmx_vmcs_load(struct vmx_vcpu *vmx, int cpu)
{
	struct vmx_cpu *vc = per_cpu_ptr(&vmx_cpus, cpu);
	int old = READ_ONCE(vmx->loaded_cpu);
	unsigned long flags;

	if (!vc->enabled)
		return;		/* run_once refuses; nothing to load into */
	if (old != cpu) {
		if (old >= 0)
			smp_call_function_single(old, vmx_vmclear_ipi, vmx, 1);
		local_irq_save(flags);
		list_add(&vmx->loaded_link, &vc->loaded);
		WRITE_ONCE(vmx->loaded_cpu, cpu);
		local_irq_restore(flags);
	}
	if (vc->current_vmcs != vmx) {
		vmx_insn_vmptrld(vmx->vmcs_pa);
		vc->current_vmcs = vmx;
		/* Another vCPU ran here last: its branch predictions must not. */
		indirect_branch_prediction_barrier();
	}
	if (old != cpu)
		vmx_vmcs_host_cpu(vmx, cpu);
}

static struct vmx_vcpu *pn_to_vmx(struct preempt_notifier *pn)
{
	return container_of(pn, struct vmx_vcpu, pn);
}

static void vmx_sched_in(struct preempt_notifier *pn, int cpu)
{
	vmx_vmcs_load(pn_to_vmx(pn), cpu);
}

static void vmx_sched_out(struct preempt_notifier *pn,
			  struct task_struct *next)
{
}

static struct preempt_ops vmx_preempt_ops = {
	.sched_in = vmx_sched_in,
	.sched_out = vmx_sched_out,
};

static void vmx_vcpu_load(struct vmm_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	int cpu = get_cpu();

	preempt_notifier_register(&vmx->pn);
	vmx_vmcs_load(vmx, cpu);
	put_cpu();
}

static void vmx_vcpu_put(struct vmm_vcpu *vcpu)
{
	preempt_disable();
	preempt_notifier_unregister(&to_vmx(vcpu)->pn);
	preempt_enable();
}

/* The next entry invalidates this VM's EPT-derived TLB entries first. */
void vmx_flush_guest_tlb(struct vmx_vcpu *vmx)
{
	vmx->flush_cpu = -1;
}

/* ---- vCPUs ---- */

/*
 * Power-on state.  An INIT (@init) comes only from the in-kernel irqchip,
 * which this backend does not offer (no event ops): the same state.
 */
static void vmx_vcpu_reset(struct vmm_vcpu *vcpu, bool init)
{
	vmx_vmcs_setup(vcpu, page_to_phys(vmx_io_bitmap),
		       page_to_phys(vmx_msr_bitmap));
	vmx_vmcs_reset(vcpu);
}

static int vmx_vcpu_create(struct vmm_vcpu *vcpu)
{
	struct vmx_vcpu *vmx;
	void *msrs;
	int ret = -ENOMEM;

	vmx = kzalloc(sizeof(*vmx), GFP_KERNEL_ACCOUNT);
	if (!vmx)
		return -ENOMEM;
	vmx->vmcs = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	msrs = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!vmx->vmcs || !msrs)
		goto err;
	vmx->guest_msrs = msrs;
	vmx->host_msrs = msrs + PAGE_SIZE / 2;
	if (vmx_caps.vpid) {
		ret = ida_alloc_range(&vmx_vpids, 1, 0xffff, GFP_KERNEL);
		if (ret < 0)
			goto err;
		vmx->vpid = ret;
	}
	*(u32 *)vmx->vmcs = vmx_caps.revision;
	vmx->vmcs_pa = virt_to_phys(vmx->vmcs);
	vmx->loaded_cpu = -1;
	vmx->flush_cpu = -1;
	INIT_LIST_HEAD(&vmx->loaded_link);
	preempt_notifier_init(&vmx->pn, &vmx_preempt_ops);
	vmx->vcpu = vcpu;
	vcpu->arch = vmx;

	/* Launch state "clear" before the first VMPTRLD (25.11.3). */
	preempt_disable();
	if (this_cpu_ptr(&vmx_cpus)->enabled)
		vmx_insn_vmclear(vmx->vmcs_pa);
	preempt_enable();
	return 0;

err:
	free_page((unsigned long)msrs);
	free_page((unsigned long)vmx->vmcs);
	kfree(vmx);
	return ret;
}

static void vmx_vcpu_free(struct vmm_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	int cpu = READ_ONCE(vmx->loaded_cpu);

	if (cpu >= 0)
		smp_call_function_single(cpu, vmx_vmclear_ipi, vmx, 1);
	if (vmx->vpid)
		ida_free(&vmx_vpids, vmx->vpid);
	free_page((unsigned long)vmx->guest_msrs);
	free_page((unsigned long)vmx->vmcs);
	kfree(vmx);
	vcpu->arch = NULL;
}

/* ---- Events ---- */

static bool vmx_interruptible(struct vmm_vcpu *vcpu)
{
	return (vcpu->rflags & X86_EFLAGS_IF) &&
	       !(vmcs_read(VMCS_GUEST_INTERRUPTIBILITY) &
		 (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS)) &&
	       !(vmcs_read(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID);
}

/*
 * Inject a KVM_INTERRUPT vector through the VM-entry interruption
 * information (27.6), or ask for an interrupt-window exit (26.7.5) when
 * the guest cannot take it yet or userspace wants to know.
 */
static void vmx_setup_irq(struct vmm_vcpu *vcpu)
{
	bool window;

	if (vcpu->pending_irq >= 0 && vmx_interruptible(vcpu)) {
		vmcs_write(VMCS_ENTRY_INTR_INFO, vcpu->pending_irq |
			   INTR_TYPE_EXT << 8 | INTR_INFO_VALID);
		vcpu->pending_irq = -1;
	}
	window = vcpu->pending_irq >= 0 || vcpu->run->request_interrupt_window;
	if (window && !vmx_interruptible(vcpu))
		vmcs_set_bits(VMCS_PROC_CTLS, PROC_INTR_WINDOW_EXIT);
	else
		vmcs_clear_bits(VMCS_PROC_CTLS, PROC_INTR_WINDOW_EXIT);
}

/*
 * Event hooks of the core's vmm_intr.c (with virtual NMIs, SDM 25.3 and
 * 26.6.1): one event per entry through the VM-entry interruption
 * information; interrupt- and NMI-window exiting when it must wait; NMI
 * blocking is the CPU's (set when an NMI is injected, cleared by IRET).
 */
static bool vmx_nmi_allowed(struct vmm_vcpu *vcpu)
{
	return !(vmcs_read(VMCS_GUEST_INTERRUPTIBILITY) &
		 (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS |
		  INTERRUPTIBILITY_NMI)) &&
	       !(vmcs_read(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID);
}

static void vmx_inject_irq(struct vmm_vcpu *vcpu, u8 vector)
{
	vmcs_write(VMCS_ENTRY_INTR_INFO, vector | INTR_TYPE_EXT << 8 |
		   INTR_INFO_VALID);
}

static void vmx_inject_nmi(struct vmm_vcpu *vcpu)
{
	vmcs_write(VMCS_ENTRY_INTR_INFO, 2 | INTR_TYPE_NMI << 8 |
		   INTR_INFO_VALID);
}

static void vmx_set_windows(struct vmm_vcpu *vcpu, bool irq, bool nmi)
{
	if (!vcpu->lapic) {
		/* KVM_INTERRUPT's vector, when the guest can take it. */
		if (vcpu->pending_irq >= 0 && vmx_interruptible(vcpu)) {
			vmx_inject_irq(vcpu, vcpu->pending_irq);
			vcpu->pending_irq = -1;
		}
		irq = vcpu->pending_irq >= 0 ||
		      (vcpu->run->request_interrupt_window &&
		       !vmx_interruptible(vcpu));
	}
	if (irq)
		vmcs_set_bits(VMCS_PROC_CTLS, PROC_INTR_WINDOW_EXIT);
	else
		vmcs_clear_bits(VMCS_PROC_CTLS, PROC_INTR_WINDOW_EXIT);
	if (nmi)
		vmcs_set_bits(VMCS_PROC_CTLS, PROC_NMI_WINDOW_EXIT);
	else
		vmcs_clear_bits(VMCS_PROC_CTLS, PROC_NMI_WINDOW_EXIT);
}

static void vmx_get_events(struct vmm_vcpu *vcpu, struct kvm_vcpu_events *e)
{
	u32 info = vmcs_read(VMCS_ENTRY_INTR_INFO);
	u32 s = vmcs_read(VMCS_GUEST_INTERRUPTIBILITY);

	if (info & INTR_INFO_VALID) {
		switch (INTR_INFO_TYPE(info)) {
		case INTR_TYPE_HW_EXC:
			e->exception.injected = 1;
			e->exception.nr = INTR_INFO_VECTOR(info);
			e->exception.has_error_code =
				!!(info & INTR_INFO_ERR_VALID);
			e->exception.error_code =
				vmcs_read(VMCS_ENTRY_EXC_ERR);
			break;
		case INTR_TYPE_NMI:
			e->nmi.injected = 1;
			break;
		case INTR_TYPE_SW_INT:
			e->interrupt.soft = 1;
			fallthrough;
		default:
			e->interrupt.injected = 1;
			e->interrupt.nr = INTR_INFO_VECTOR(info);
			break;
		}
	}
	if (s & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS))
		e->interrupt.shadow = KVM_X86_SHADOW_INT_STI |
				      KVM_X86_SHADOW_INT_MOV_SS;
	e->nmi.masked = !!(s & INTERRUPTIBILITY_NMI);
}

/* One event slot: an exception before an NMI before an interrupt. */
static int vmx_set_events(struct vmm_vcpu *vcpu,
			  const struct kvm_vcpu_events *e)
{
	u32 info = 0, s = vmcs_read(VMCS_GUEST_INTERRUPTIBILITY);

	if (e->exception.injected || e->exception.pending) {
		info = e->exception.nr | INTR_TYPE_HW_EXC << 8 |
		       INTR_INFO_VALID;
		if (e->exception.has_error_code) {
			info |= INTR_INFO_ERR_VALID;
			vmcs_write(VMCS_ENTRY_EXC_ERR, e->exception.error_code);
		}
	} else if (e->nmi.injected) {
		info = 2 | INTR_TYPE_NMI << 8 | INTR_INFO_VALID;
	} else if (e->interrupt.injected) {
		info = e->interrupt.nr | INTR_INFO_VALID |
		       (e->interrupt.soft ? INTR_TYPE_SW_INT :
					    INTR_TYPE_EXT) << 8;
		if (e->interrupt.soft)
			vmcs_write(VMCS_ENTRY_INSN_LEN, 2);
	}
	vmcs_write(VMCS_ENTRY_INTR_INFO, info);
	if (e->nmi.masked)
		s |= INTERRUPTIBILITY_NMI;
	else
		s &= ~INTERRUPTIBILITY_NMI;
	if (e->flags & KVM_VCPUEVENT_VALID_SHADOW) {
		s &= ~(INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS);
		if (e->interrupt.shadow)
			s |= INTERRUPTIBILITY_STI;
	}
	vmcs_write(VMCS_GUEST_INTERRUPTIBILITY, s);
	return 0;
}

/* ---- One guest entry ---- */

/* Host state that depends on the task and may change between entries. */
static void vmx_host_state(struct vmx_vcpu *vmx)
{
	unsigned long cr3 = __read_cr3(), cr4 = cr4_read_shadow();
	u64 fs_base;

	if (cr3 != vmx->host_cr3) {
		vmcs_write(VMCS_HOST_CR3, cr3);
		vmx->host_cr3 = cr3;
	}
	if (cr4 != vmx->host_cr4) {
		vmcs_write(VMCS_HOST_CR4, cr4);
		vmx->host_cr4 = cr4;
	}
	rdmsrl(MSR_FS_BASE, fs_base);
	if (fs_base != vmx->host_fs_base) {
		vmcs_write(VMCS_HOST_FS_BASE, fs_base);
		vmx->host_fs_base = fs_base;
	}
	rdmsrl(MSR_KERNEL_GS_BASE,
	       vmx->host_msrs[VMX_MSR_KERNEL_GS_BASE].value);
}

/*
 * What a VM exit does not restore (28.5): the task's data segment
 * selectors (the VMCS has 0 for them), the GDT limit (0xffff after an
 * exit) and the TSS limit (0x67).
 */
static void vmx_host_restore(int cpu, u16 ds, u16 es, u16 fs, u16 gs,
			     u64 fs_base, u64 kernel_gs_base)
{
	if (ds)
		loadsegment(ds, ds);
	if (es)
		loadsegment(es, es);
	if (fs) {
		loadsegment(fs, fs);
		wrmsrl(MSR_FS_BASE, fs_base);
	}
	if (gs) {
		load_gs_index(gs);
		wrmsrl(MSR_KERNEL_GS_BASE, kernel_gs_base);
	}
	load_fixmap_gdt(cpu);
	invalidate_tss_limit();
}

static int vmx_enter_guest(struct vmm_vcpu *vcpu, int cpu, u32 *reason)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	int gen = atomic_read(&vcpu->vm->tlb_gen);
	u16 ds, es, fs, gs;
	u64 debugctl;
	int fail;

	if (vmx->flush_cpu != cpu || vmx->tlb_gen != gen) {
		vmx_insn_invept(vmx_caps.invept_single ? VMX_INVEPT_SINGLE :
		       VMX_INVEPT_ALL, to_vmx_vm(vcpu->vm)->eptp);
		vmx->flush_cpu = cpu;
		vmx->tlb_gen = gen;
	}
	vmx_host_state(vmx);
	savesegment(ds, ds);
	savesegment(es, es);
	savesegment(fs, fs);
	savesegment(gs, gs);
	rdmsrl(MSR_IA32_DEBUGCTLMSR, debugctl);

	/* STI blocking with IF clear fails the entry (27.3.1.5). */
	if (!(vcpu->rflags & X86_EFLAGS_IF))
		vmx_clear_int_shadow(vcpu);
	vmcs_write(VMCS_GUEST_RSP, vcpu->gprs[VMM_RSP]);
	vmcs_write(VMCS_GUEST_RIP, vcpu->rip);
	vmcs_write(VMCS_GUEST_RFLAGS, vcpu->rflags);
	if (native_read_cr2() != vmx->cr2)
		native_write_cr2(vmx->cr2);
	vmm_guest_fpu_enter(vcpu);

	fail = vmx_vmenter_asm(vcpu->gprs, vmx->launched);

	vmx->cr2 = native_read_cr2();
	*reason = fail ? 0 : vmcs_read(VMCS_EXIT_REASON);
	vmx_host_restore(cpu, ds, es, fs, gs, vmx->host_fs_base,
			 vmx->host_msrs[VMX_MSR_KERNEL_GS_BASE].value);
	/* A VM entry that fails on guest state leaves it unlaunched (27.8). */
	if (!fail && !(*reason & EXIT_REASON_ENTRY_FAIL))
		vmx->launched = true;
	if (!fail)
		vmx_exit_irqoff(*reason);
	/* VM exits clear IA32_DEBUGCTL and set DR7 to 0x400 (28.5.1). */
	if (debugctl)
		wrmsrl(MSR_IA32_DEBUGCTLMSR, debugctl);
	if (hw_breakpoint_active())
		hw_breakpoint_restore();
	vmm_guest_fpu_exit(vcpu);
	if (!fail) {
		vcpu->gprs[VMM_RSP] = vmcs_read(VMCS_GUEST_RSP);
		vcpu->rip = vmcs_read(VMCS_GUEST_RIP);
		vcpu->rflags = vmcs_read(VMCS_GUEST_RFLAGS);
	}
	return fail;
}

static int vmx_run_once(struct vmm_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u32 reason, err;
	int cpu, fail;

	if (!vmx_caps.events)
		vmx_setup_irq(vcpu);
	local_irq_disable();
	cpu = smp_processor_id();
	if (!this_cpu_ptr(&vmx_cpus)->enabled || vmx->loaded_cpu != cpu) {
		local_irq_enable();
		pr_warn_once("CPU %d has no VMX enabled\n", cpu);
		return -EIO;
	}
	/* Kickers (slot deletion) IPI the CPUs in guest mode. */
	vmm_guest_mode_enter(vcpu, cpu);
	/* The next event (irqchip, NMI, KVM_INTERRUPT) and the windows. */
	if (vmx_caps.events)
		vmm_inject_events(vcpu);
	fail = vmx_enter_guest(vcpu, cpu, &reason);
	vmm_guest_mode_exit(vcpu);
	local_irq_enable();

	if (fail) {
		/* VMfailValid (31.4): our VMCS is wrong, not the guest. */
		err = vmcs_read(VMCS_INSN_ERROR);
		pr_warn_ratelimited("VM entry failed: VM-instruction error %u\n",
				    err);
		vcpu->run->exit_reason = KVM_EXIT_FAIL_ENTRY;
		vcpu->run->fail_entry.hardware_entry_failure_reason =
			0x100000000ULL | err;
		vcpu->run->fail_entry.cpu = cpu;
		return VMM_EXIT_USER;
	}
	return vmx_handle_exit(vcpu, reason);
}

/* ---- VMs ---- */

static int vmx_vm_init(struct vmm_vm *vm)
{
	struct vmx_vm *vmx_vm;
	int ret;

	vmx_vm = kzalloc(sizeof(*vmx_vm), GFP_KERNEL_ACCOUNT);
	if (!vmx_vm)
		return -ENOMEM;
	ret = vmx_ept_init(vmx_vm);
	if (ret) {
		kfree(vmx_vm);
		return ret;
	}
	vm->arch = vmx_vm;
	return 0;
}

static void vmx_vm_destroy(struct vmm_vm *vm)
{
	struct vmx_vm *vmx_vm = to_vmx_vm(vm);

	vmx_ept_free(vmx_vm);
	kfree(vmx_vm);
	vm->arch = NULL;
}

static int vmx_map_page(struct vmm_vm *vm, u64 gpa, u64 hpa, bool writable)
{
	return vmx_ept_map(to_vmx_vm(vm), gpa, hpa, writable);
}

static struct vmm_arch_ops vmx_ops = {
	.owner = THIS_MODULE,
	.name = "intel-vmx",
	.vm_init = vmx_vm_init,
	.vm_destroy = vmx_vm_destroy,
	.unmap_range = vmx_ept_unmap_range,
	.map_page = vmx_map_page,
	.vcpu_create = vmx_vcpu_create,
	.vcpu_free = vmx_vcpu_free,
	.vcpu_load = vmx_vcpu_load,
	.vcpu_put = vmx_vcpu_put,
	.vcpu_reset = vmx_vcpu_reset,
	.run_once = vmx_run_once,
	.interruptible = vmx_interruptible,
	.get_cr8 = vmx_get_cr8,
	.get_sregs = vmx_get_sregs,
	.set_sregs = vmx_set_sregs,
	.get_cpu_mode = vmx_get_cpu_mode,
	.clear_int_shadow = vmx_clear_int_shadow,
	.get_exit_info = vmx_get_exit_info,
	.get_msr = vmx_get_msr,
	.set_msr = vmx_set_msr,
};

/* ---- Detection: what we need, from the capability MSRs (appendix A) ---- */

/*
 * A control field from its capability MSR: bits 31:0 must be 1, bits set
 * in 63:32 may be 1.  @need must all be allowed, @want are taken where
 * allowed; the CPU's must-be-1 bits come along.
 */
static int vmx_ctls(const char *what, u32 msr, u32 need, u32 want, u32 *out)
{
	u64 cap;
	u32 must1, may1;

	rdmsrl(msr, cap);
	must1 = cap;
	may1 = cap >> 32;
	if (need & ~may1) {
		pr_err("the CPU cannot set %s controls %#x that vmm-intel needs (it allows %#x)\n",
		       what, need & ~may1, may1);
		return -ENODEV;
	}
	*out = need | (want & may1) | must1;
	return 0;
}

static int vmx_detect(void)
{
	u64 basic;
	int ret;

	if (boot_cpu_data.x86_vendor != X86_VENDOR_INTEL &&
	    boot_cpu_data.x86_vendor != X86_VENDOR_CENTAUR &&
	    boot_cpu_data.x86_vendor != X86_VENDOR_ZHAOXIN) {
		pr_err("not an Intel CPU\n");
		return -ENODEV;
	}
	if (!(cpuid_ecx(1) & BIT(5))) {
		pr_err("CPU has no VMX (CPUID.1:ECX.VMX[bit 5] is 0)\n");
		return -ENODEV;
	}
	if (!boot_cpu_has(X86_FEATURE_VMX)) {
		pr_err("VMX is disabled by the firmware (IA32_FEATURE_CONTROL) or on the kernel command line\n");
		return -ENODEV;
	}
	rdmsrl(MSR_VMX_BASIC, basic);
	if (BASIC_VMCS_SIZE(basic) > PAGE_SIZE ||
	    BASIC_MEMTYPE(basic) != BASIC_MEMTYPE_WB ||
	    (basic & BASIC_32BIT_PA)) {
		pr_err("unsupported VMCS region (IA32_VMX_BASIC %#llx): need at most 4 KiB, write-back, 64-bit addresses\n",
		       basic);
		return -ENODEV;
	}
	if (!(basic & BASIC_TRUE_CTLS)) {
		pr_err("CPU has no TRUE VMX control MSRs (IA32_VMX_BASIC bit 55): too old for vmm-intel, which needs EPT and unrestricted guest\n");
		return -ENODEV;
	}
	vmx_caps.revision = BASIC_REVISION(basic);

	ret = vmx_ctls("pin-based", MSR_VMX_TRUE_PINBASED_CTLS,
		       PIN_EXT_INTR_EXIT | PIN_NMI_EXIT |
		       (exit_every_us ? PIN_PREEMPT_TIMER : 0),
		       PIN_VIRTUAL_NMIS, &vmx_caps.pin);
	ret = ret ?: vmx_ctls("processor-based", MSR_VMX_TRUE_PROCBASED_CTLS,
			      PROC_HLT_EXIT | PROC_TSC_OFFSET |
			      PROC_RDPMC_EXIT | PROC_CR8_LOAD_EXIT |
			      PROC_CR8_STORE_EXIT | PROC_MOV_DR_EXIT |
			      PROC_IO_BITMAPS | PROC_MSR_BITMAPS |
			      PROC_MWAIT_EXIT | PROC_MONITOR_EXIT |
			      PROC_SECONDARY, 0, &vmx_caps.proc);
	ret = ret ?: vmx_ctls("secondary processor-based",
			      MSR_VMX_PROCBASED_CTLS2,
			      PROC2_EPT | PROC2_UNRESTRICTED, PROC2_VPID,
			      &vmx_caps.proc2);
	ret = ret ?: vmx_ctls("VM-exit", MSR_VMX_TRUE_EXIT_CTLS,
			      EXIT_HOST_64 | EXIT_SAVE_DEBUG | EXIT_SAVE_PAT |
			      EXIT_LOAD_PAT | EXIT_SAVE_EFER | EXIT_LOAD_EFER,
			      0, &vmx_caps.exit);
	ret = ret ?: vmx_ctls("VM-entry", MSR_VMX_TRUE_ENTRY_CTLS,
			      ENTRY_LOAD_DEBUG | ENTRY_LOAD_PAT |
			      ENTRY_LOAD_EFER, 0, &vmx_caps.entry);
	if (ret)
		return ret;
	/* Controls we handle as exits must not be forced on us either. */
	if (vmx_caps.proc & (PROC_CR3_LOAD_EXIT | PROC_CR3_STORE_EXIT |
			     PROC_INVLPG_EXIT | PROC_RDTSC_EXIT)) {
		pr_err("the CPU forces processor-based controls %#x on\n",
		       vmx_caps.proc);
		return -ENODEV;
	}
	vmx_caps.entry &= ~ENTRY_IA32E;

	/*
	 * The in-kernel irqchip needs virtual NMIs (NMI blocking tracked by
	 * the CPU) and NMI-window exiting; without them the event hooks stay
	 * out and the core refuses the irqchip.
	 */
	{
		u64 proc_cap;

		rdmsrl(MSR_VMX_TRUE_PROCBASED_CTLS, proc_cap);
		vmx_caps.events = (vmx_caps.pin & PIN_VIRTUAL_NMIS) &&
				  ((proc_cap >> 32) & PROC_NMI_WINDOW_EXIT);
	}
	if (vmx_caps.events) {
		vmx_ops.nmi_allowed = vmx_nmi_allowed;
		vmx_ops.inject_irq = vmx_inject_irq;
		vmx_ops.inject_nmi = vmx_inject_nmi;
		vmx_ops.set_windows = vmx_set_windows;
		vmx_ops.sipi = vmx_sipi;
		vmx_ops.get_events = vmx_get_events;
		vmx_ops.set_events = vmx_set_events;
	}

	rdmsrl(MSR_VMX_EPT_VPID_CAP, vmx_caps.ept_vpid);
	if (!(vmx_caps.ept_vpid & VMX_EPT_CAP_WALK4) ||
	    !(vmx_caps.ept_vpid & VMX_EPT_CAP_WB) ||
	    !(vmx_caps.ept_vpid & VMX_EPT_CAP_INVEPT) ||
	    !(vmx_caps.ept_vpid & (VMX_EPT_CAP_INVEPT_SINGLE |
				   VMX_EPT_CAP_INVEPT_ALL))) {
		pr_err("EPT lacks a 4-level walk, write-back tables or INVEPT (IA32_VMX_EPT_VPID_CAP %#llx)\n",
		       vmx_caps.ept_vpid);
		return -ENODEV;
	}
	vmx_caps.invept_single = vmx_caps.ept_vpid & VMX_EPT_CAP_INVEPT_SINGLE;
	vmx_caps.vpid = vmx_caps.proc2 & PROC2_VPID;

	if (exit_every_us) {
		u64 misc, ticks = (u64)exit_every_us * tsc_khz / 1000;

		rdmsrl(MSR_VMX_MISC, misc);
		ticks >>= VMX_MISC_PREEMPT_RATE(misc);
		vmx_caps.preempt_timer = clamp_t(u64, ticks, 1, U32_MAX);
	}

	rdmsrl(MSR_VMX_CR0_FIXED0, vmx_caps.cr0_fixed0);
	rdmsrl(MSR_VMX_CR0_FIXED1, vmx_caps.cr0_fixed1);
	rdmsrl(MSR_VMX_CR4_FIXED0, vmx_caps.cr4_fixed0);
	rdmsrl(MSR_VMX_CR4_FIXED1, vmx_caps.cr4_fixed1);
	return 0;
}

static int __init vmx_init(void)
{
	int ret;

	ret = vmx_detect();
	if (ret)
		return ret;

	ret = -ENOMEM;
	vmx_io_bitmap = alloc_pages(GFP_KERNEL, 1);
	vmx_msr_bitmap = alloc_page(GFP_KERNEL);
	if (!vmx_io_bitmap || !vmx_msr_bitmap)
		goto err_maps;
	memset(page_address(vmx_io_bitmap), 0xff, 2 * PAGE_SIZE);
	memset(page_address(vmx_msr_bitmap), 0xff, PAGE_SIZE);

	ret = vmx_alloc_cpu_pages();
	if (ret)
		goto err_maps;
	preempt_notifier_inc();

	/* Runs vmx_cpu_online() on every CPU; undoes them all on failure. */
	ret = cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, "vmm/vmx:online",
				vmx_cpu_online, vmx_cpu_offline);
	if (ret < 0)
		goto err_cpu;
	vmx_cpuhp_state = ret;
	register_reboot_notifier(&vmx_reboot_nb);

	ret = vmm_register_backend(&vmx_ops);
	if (ret) {
		pr_err("cannot register with vmm core: %d\n", ret);
		goto err_disable;
	}
	pr_info("VMX with EPT and unrestricted guest enabled on %u CPUs, %s\n",
		num_online_cpus(), vmx_caps.vpid ? "VPIDs" : "no VPIDs");
	return 0;

err_disable:
	unregister_reboot_notifier(&vmx_reboot_nb);
	cpuhp_remove_state(vmx_cpuhp_state);
err_cpu:
	preempt_notifier_dec();
	vmx_free_cpu_pages();
err_maps:
	if (vmx_io_bitmap)
		__free_pages(vmx_io_bitmap, 1);
	if (vmx_msr_bitmap)
		__free_page(vmx_msr_bitmap);
	return ret;
}

static void __exit vmx_exit(void)
{
	vmm_unregister_backend(&vmx_ops);
	unregister_reboot_notifier(&vmx_reboot_nb);
	cpuhp_remove_state(vmx_cpuhp_state);
	preempt_notifier_dec();
	vmx_free_cpu_pages();
	__free_pages(vmx_io_bitmap, 1);
	__free_page(vmx_msr_bitmap);
	ida_destroy(&vmx_vpids);
	pr_info("VMX disabled\n");
}

module_init(vmx_init);
module_exit(vmx_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("libvm hypervisor: Intel VMX backend");
MODULE_AUTHOR("libvm developers");
