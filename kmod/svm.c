// SPDX-License-Identifier: GPL-2.0
/*
 * vmm-amd: AMD SVM backend of the vmm core.  Detects SVM with nested
 * paging, turns SVM on in every CPU (EFER.SVME plus a host save area) for
 * the module's lifetime, and owns one VMCB per vCPU.  Register state
 * conversion between the KVM ABI structures and the VMCB lives here; the
 * run loop and exit handlers are in svm_exit.c, nested paging in svm_npt.c.
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

bool svm_this_cpu_ready(void)
{
	return this_cpu_ptr(&svm_cpus)->enabled;
}

u64 svm_host_save_pa(void)
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
void svm_assign_asid(struct vmm_vcpu *vcpu, int cpu)
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
	}
	svm->asid = sd->next_asid++;
	svm->asid_gen = sd->asid_gen;
	svm->asid_cpu = cpu;
	svm->tlb_gen = gen;
	svm->vmcb->control.asid = svm->asid;
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
	sd->next_asid = 1;
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

/* Segments: VMCB attributes are descriptor bits 40-47 and 52-55. */
static void svm_seg_from_kvm(struct vmcb_seg *s, const struct kvm_segment *k)
{
	s->selector = k->selector;
	s->base = k->base;
	s->limit = k->limit;
	if (k->unusable || !k->present)
		s->attrib = 0;
	else
		s->attrib = (k->type & 0xf) | (k->s & 1) << 4 |
			    (k->dpl & 3) << 5 | (k->present & 1) << 7 |
			    (k->avl & 1) << 8 | (k->l & 1) << 9 |
			    (k->db & 1) << 10 | (k->g & 1) << 11;
}

static void svm_seg_to_kvm(struct kvm_segment *k, const struct vmcb_seg *s)
{
	memset(k, 0, sizeof(*k));
	k->selector = s->selector;
	k->base = s->base;
	k->limit = s->limit;
	k->type = s->attrib & 0xf;
	k->s = (s->attrib >> 4) & 1;
	k->dpl = (s->attrib >> 5) & 3;
	k->present = (s->attrib >> 7) & 1;
	k->avl = (s->attrib >> 8) & 1;
	k->l = (s->attrib >> 9) & 1;
	k->db = (s->attrib >> 10) & 1;
	k->g = (s->attrib >> 11) & 1;
	k->unusable = !k->present;
}

static void svm_set_seg(struct vmcb_seg *s, u16 sel, u64 base, u32 limit,
			u16 attrib)
{
	s->selector = sel;
	s->base = base;
	s->limit = limit;
	s->attrib = attrib;
}

/* Power-on state (APM vol. 2, 14.1.3), as KVM presents it. */
void svm_vcpu_reset(struct vmm_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct svm_vm *svm_vm = to_svm_vm(vcpu->vm);
	struct vmcb_control *c = &svm->vmcb->control;
	struct vmcb_save *s = &svm->vmcb->save;

	memset(svm->vmcb, 0, PAGE_SIZE);
	memset(svm->gprs, 0, sizeof(svm->gprs));

	c->intercept_dr = 0x000f000f;	/* DR0-3: not virtualized */
	c->intercept_misc1 = SVM_I1_INTR | SVM_I1_NMI | SVM_I1_SMI |
			     SVM_I1_RDPMC | SVM_I1_CPUID | SVM_I1_INVD | SVM_I1_HLT |
			     SVM_I1_INVLPGA | SVM_I1_IOIO | SVM_I1_MSR |
			     SVM_I1_SHUTDOWN;
	c->intercept_misc2 = SVM_I2_VMRUN | SVM_I2_VMMCALL | SVM_I2_VMLOAD |
			     SVM_I2_VMSAVE | SVM_I2_STGI | SVM_I2_CLGI |
			     SVM_I2_SKINIT | SVM_I2_MONITOR | SVM_I2_MWAIT |
			     SVM_I2_MWAIT_COND | SVM_I2_XSETBV | SVM_I2_RDPRU;
	c->iopm_base_pa = page_to_phys(svm_iopm);
	c->msrpm_base_pa = page_to_phys(svm_msrpm);
	c->tsc_offset = svm_vm->tsc_offset;
	c->int_ctl = SVM_V_INTR_MASKING;
	c->np_control = 1;
	c->n_cr3 = virt_to_phys(svm_vm->npt_root);
	svm->asid_cpu = -1;

	svm_set_seg(&s->cs, 0xf000, 0xffff0000, 0xffff, 0x9b);
	svm_set_seg(&s->ds, 0, 0, 0xffff, 0x93);
	s->es = s->ds;
	s->ss = s->ds;
	s->fs = s->ds;
	s->gs = s->ds;
	svm_set_seg(&s->gdtr, 0, 0, 0xffff, 0);
	svm_set_seg(&s->idtr, 0, 0, 0xffff, 0);
	svm_set_seg(&s->ldtr, 0, 0, 0xffff, 0x82);
	svm_set_seg(&s->tr, 0, 0, 0xffff, 0x8b);
	s->efer = EFER_SVME;
	s->cr0 = X86_CR0_NW | X86_CR0_CD | X86_CR0_ET;
	s->dr6 = 0xffff0ff0;
	s->dr7 = 0x400;
	s->rflags = X86_EFLAGS_FIXED;
	s->rip = 0xfff0;
	s->g_pat = 0x0007040600070406ULL;
	svm->gprs[SVM_RDX] = 0x600;	/* reset signature: family 6 */

	memset(svm->fpu, 0, sizeof(*svm->fpu));
	svm->fpu->cwd = 0x37f;
	svm->fpu->mxcsr = 0x1f80;

	svm->apic_base = 0xfee00000 | BIT(11) | (vcpu->id ? 0 : BIT(8));
	svm->misc_enable = 1;	/* fast strings */
	svm->mtrr_def_type = 0;
	vcpu->pending = VMM_PENDING_NONE;
	vcpu->pending_irq = -1;
}

static int svm_vcpu_create(struct vmm_vcpu *vcpu)
{
	struct svm_vcpu *svm;
	struct page *vmcb, *fpu;

	svm = kzalloc(sizeof(*svm), GFP_KERNEL_ACCOUNT);
	if (!svm)
		return -ENOMEM;
	vmcb = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!vmcb)
		goto err_svm;
	fpu = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!fpu)
		goto err_vmcb;
	svm->vmcb = page_address(vmcb);
	svm->vmcb_pa = page_to_phys(vmcb);
	svm->fpu = page_address(fpu);
	vcpu->arch = svm;
	svm_vcpu_reset(vcpu);
	return 0;

err_vmcb:
	__free_page(vmcb);
err_svm:
	kfree(svm);
	return -ENOMEM;
}

static void svm_vcpu_free(struct vmm_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	int cpu;

	/* A new VMCB at the same address must still get its IBPB. */
	for_each_possible_cpu(cpu)
		cmpxchg(&per_cpu_ptr(&svm_cpus, cpu)->last_vmcb, svm->vmcb, NULL);

	free_page((unsigned long)svm->fpu);
	free_page((unsigned long)svm->vmcb);
	kfree(svm);
	vcpu->arch = NULL;
}

static void svm_get_regs(struct vmm_vcpu *vcpu, struct kvm_regs *r)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb_save *s = &svm->vmcb->save;
	unsigned long *g = svm->gprs;

	r->rax = s->rax;
	r->rbx = g[SVM_RBX];
	r->rcx = g[SVM_RCX];
	r->rdx = g[SVM_RDX];
	r->rsi = g[SVM_RSI];
	r->rdi = g[SVM_RDI];
	r->rsp = s->rsp;
	r->rbp = g[SVM_RBP];
	r->r8 = g[SVM_R8];
	r->r9 = g[SVM_R9];
	r->r10 = g[SVM_R10];
	r->r11 = g[SVM_R11];
	r->r12 = g[SVM_R12];
	r->r13 = g[SVM_R13];
	r->r14 = g[SVM_R14];
	r->r15 = g[SVM_R15];
	r->rip = s->rip;
	r->rflags = s->rflags;
}

static void svm_set_regs(struct vmm_vcpu *vcpu, const struct kvm_regs *r)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb_save *s = &svm->vmcb->save;
	unsigned long *g = svm->gprs;

	s->rax = r->rax;
	g[SVM_RBX] = r->rbx;
	g[SVM_RCX] = r->rcx;
	g[SVM_RDX] = r->rdx;
	g[SVM_RSI] = r->rsi;
	g[SVM_RDI] = r->rdi;
	s->rsp = r->rsp;
	g[SVM_RBP] = r->rbp;
	g[SVM_R8] = r->r8;
	g[SVM_R9] = r->r9;
	g[SVM_R10] = r->r10;
	g[SVM_R11] = r->r11;
	g[SVM_R12] = r->r12;
	g[SVM_R13] = r->r13;
	g[SVM_R14] = r->r14;
	g[SVM_R15] = r->r15;
	/* A new RIP abandons a half-done I/O instruction (as KVM does). */
	if (s->rip != r->rip)
		vcpu->pending = VMM_PENDING_NONE;
	s->rip = r->rip;
	/* Bit 1 is fixed; VM86 mode is not supported. */
	s->rflags = (r->rflags | X86_EFLAGS_FIXED) & ~X86_EFLAGS_VM;
}

static void svm_get_sregs(struct vmm_vcpu *vcpu, struct kvm_sregs *sr)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb_save *s = &svm->vmcb->save;

	memset(sr, 0, sizeof(*sr));
	svm_seg_to_kvm(&sr->cs, &s->cs);
	svm_seg_to_kvm(&sr->ds, &s->ds);
	svm_seg_to_kvm(&sr->es, &s->es);
	svm_seg_to_kvm(&sr->fs, &s->fs);
	svm_seg_to_kvm(&sr->gs, &s->gs);
	svm_seg_to_kvm(&sr->ss, &s->ss);
	svm_seg_to_kvm(&sr->tr, &s->tr);
	svm_seg_to_kvm(&sr->ldt, &s->ldtr);
	sr->gdt.base = s->gdtr.base;
	sr->gdt.limit = s->gdtr.limit;
	sr->idt.base = s->idtr.base;
	sr->idt.limit = s->idtr.limit;
	sr->cr0 = s->cr0;
	sr->cr2 = s->cr2;
	sr->cr3 = s->cr3;
	sr->cr4 = s->cr4;
	sr->cr8 = svm->vmcb->control.int_ctl & SVM_V_TPR_MASK;
	sr->efer = s->efer & ~EFER_SVME;
	sr->apic_base = svm->apic_base;
	if (vcpu->pending_irq >= 0)
		set_bit(vcpu->pending_irq,
			(unsigned long *)sr->interrupt_bitmap);
}

#define SVM_EFER_VALID	(EFER_SCE | EFER_LME | EFER_LMA | EFER_NX)
#define SVM_CR4_VALID	(X86_CR4_VME | X86_CR4_PVI | X86_CR4_TSD | \
			 X86_CR4_DE | X86_CR4_PSE | X86_CR4_PAE | \
			 X86_CR4_MCE | X86_CR4_PGE | X86_CR4_PCE | \
			 X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT | \
			 X86_CR4_UMIP | X86_CR4_FSGSBASE | X86_CR4_PCIDE | \
			 X86_CR4_OSXSAVE | X86_CR4_SMEP | X86_CR4_SMAP)

/* Reject what the architecture forbids outright, like KVM does. */
static bool svm_sregs_valid(const struct kvm_sregs *sr)
{
	if (sr->cr0 >> 32 || sr->cr4 & ~(u64)SVM_CR4_VALID ||
	    sr->efer & ~(u64)SVM_EFER_VALID)
		return false;
	if ((sr->cr0 & X86_CR0_PG) && !(sr->cr0 & X86_CR0_PE))
		return false;
	if ((sr->cr0 & X86_CR0_NW) && !(sr->cr0 & X86_CR0_CD))
		return false;
	if ((sr->efer & EFER_LME) && (sr->cr0 & X86_CR0_PG)) {
		if (!(sr->cr4 & X86_CR4_PAE) || !(sr->efer & EFER_LMA))
			return false;
		if (sr->cr3 >> boot_cpu_data.x86_phys_bits)
			return false;
	} else if (sr->efer & EFER_LMA) {
		return false;
	}
	if (sr->cr8 > 15)
		return false;
	return true;
}

static int svm_set_sregs(struct vmm_vcpu *vcpu, const struct kvm_sregs *sr)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb_save *s = &svm->vmcb->save;
	struct vmcb_control *c = &svm->vmcb->control;
	int i;

	if (!svm_sregs_valid(sr))
		return -EINVAL;

	svm_seg_from_kvm(&s->cs, &sr->cs);
	svm_seg_from_kvm(&s->ds, &sr->ds);
	svm_seg_from_kvm(&s->es, &sr->es);
	svm_seg_from_kvm(&s->fs, &sr->fs);
	svm_seg_from_kvm(&s->gs, &sr->gs);
	svm_seg_from_kvm(&s->ss, &sr->ss);
	svm_seg_from_kvm(&s->tr, &sr->tr);
	svm_seg_from_kvm(&s->ldtr, &sr->ldt);
	s->gdtr.base = sr->gdt.base;
	s->gdtr.limit = sr->gdt.limit;
	s->idtr.base = sr->idt.base;
	s->idtr.limit = sr->idt.limit;
	s->cr0 = sr->cr0;
	s->cr2 = sr->cr2;
	s->cr3 = sr->cr3;
	s->cr4 = sr->cr4;
	s->efer = sr->efer | EFER_SVME;
	s->cpl = (sr->cr0 & X86_CR0_PE) ? sr->ss.dpl : 0;
	c->int_ctl = (c->int_ctl & ~SVM_V_TPR_MASK) | sr->cr8;
	svm->apic_base = sr->apic_base;
	/* New register state: any cached translation is stale. */
	svm->asid_cpu = -1;

	vcpu->pending_irq = -1;
	for (i = 0; i < 256; i++) {
		if (test_bit(i, (unsigned long *)sr->interrupt_bitmap)) {
			vcpu->pending_irq = i;
			break;
		}
	}
	return 0;
}

static void svm_get_fpu(struct vmm_vcpu *vcpu, struct kvm_fpu *f)
{
	struct fxregs_state *fx = to_svm(vcpu)->fpu;

	memset(f, 0, sizeof(*f));
	memcpy(f->fpr, fx->st_space, sizeof(f->fpr));
	f->fcw = fx->cwd;
	f->fsw = fx->swd;
	f->ftwx = fx->twd;
	f->last_opcode = fx->fop;
	f->last_ip = fx->rip;
	f->last_dp = fx->rdp;
	memcpy(f->xmm, fx->xmm_space, sizeof(f->xmm));
	f->mxcsr = fx->mxcsr;
}

static void svm_set_fpu(struct vmm_vcpu *vcpu, const struct kvm_fpu *f)
{
	struct fxregs_state *fx = to_svm(vcpu)->fpu;

	memcpy(fx->st_space, f->fpr, sizeof(f->fpr));
	fx->cwd = f->fcw;
	fx->swd = f->fsw;
	fx->twd = f->ftwx;
	fx->fop = f->last_opcode;
	fx->rip = f->last_ip;
	fx->rdp = f->last_dp;
	memcpy(fx->xmm_space, f->xmm, sizeof(f->xmm));
	/* A reserved MXCSR bit would make FXRSTOR fault in the host. */
	fx->mxcsr = f->mxcsr & 0xffff;
}

static int svm_get_msr(struct vmm_vcpu *vcpu, u32 index, u64 *data)
{
	return svm_guest_rdmsr(vcpu, index, data);
}

static int svm_set_msr(struct vmm_vcpu *vcpu, u32 index, u64 data)
{
	return svm_guest_wrmsr(vcpu, index, data, true);
}

static const u32 svm_msr_list[] = {
	MSR_EFER, MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SYSCALL_MASK,
	MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE,
	MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
	MSR_IA32_CR_PAT, MSR_IA32_TSC, MSR_IA32_APICBASE,
	MSR_IA32_MISC_ENABLE, VMM_MSR_MTRR_DEF_TYPE,
};

/*
 * The host's CPUID, less what the guest cannot use here: no APIC or
 * x2APIC (no in-kernel irqchip), no SVM/VMX, no MONITOR/MWAIT, no XSAVE
 * or AVX (XCR0 is x87|SSE in the guest), no machine-check, thermal,
 * performance-monitoring or speculation-control interfaces (their MSRs
 * are not in the supported subset), no RDTSCP (TSC_AUX is not switched).
 */
static void svm_cpuid_entry(struct kvm_cpuid_entry2 *e, u32 fn, u32 idx)
{
	memset(e, 0, sizeof(*e));
	e->function = fn;
	e->index = idx;
	cpuid_count(fn, idx, &e->eax, &e->ebx, &e->ecx, &e->edx);

	switch (fn) {
	case 1:
		e->ecx &= ~(BIT(3) | BIT(4) | BIT(5) | BIT(6) | BIT(7) |
			    BIT(8) | BIT(15) | BIT(18) | BIT(21) | BIT(24) |
			    BIT(26) | BIT(27) | BIT(28));
		e->ecx |= BIT(31);		/* hypervisor present */
		e->edx &= ~(BIT(7) | BIT(9) | BIT(14) | BIT(21) | BIT(22) |
			    BIT(29) | BIT(31));
		break;
	case 7:
		e->flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
		if (idx) {
			memset(&e->eax, 0, 4 * sizeof(e->eax));
			break;
		}
		e->eax = 0;
		/* FSGSBASE BMI1 SMEP BMI2 ERMS ADX SMAP CLFLUSHOPT CLWB SHA */
		e->ebx &= BIT(0) | BIT(3) | BIT(7) | BIT(8) | BIT(9) |
			  BIT(19) | BIT(20) | BIT(23) | BIT(24) | BIT(29);
		e->ecx &= BIT(2);		/* UMIP */
		e->edx = 0;
		break;
	case 0x80000001:
		/* LAHF, LZCNT, SSE4A, misaligned SSE, PREFETCHW */
		e->ecx &= BIT(0) | BIT(5) | BIT(6) | BIT(7) | BIT(8);
		e->edx &= ~(BIT(27) | BIT(30) | BIT(31));
		break;
	case 0x80000007:
		e->eax = 0;
		e->ebx = 0;
		e->ecx = 0;
		e->edx &= BIT(8);		/* invariant TSC */
		break;
	case 0x80000008:
		e->ebx = 0;
		e->ecx = 0;
		break;
	case 0x80000000:
		e->eax = min_t(u32, e->eax, 0x80000008);
		break;
	case 0:
		e->eax = min_t(u32, e->eax, 7);
		break;
	}
}

static int svm_get_supported_cpuid(struct kvm_cpuid_entry2 *e, int max)
{
	static const u32 leaves[] = {
		0, 1, 2, 7, 0x80000000, 0x80000001, 0x80000002, 0x80000003,
		0x80000004, 0x80000005, 0x80000006, 0x80000007, 0x80000008,
	};
	u32 max_basic = cpuid_eax(0), max_ext = cpuid_eax(0x80000000);
	int i, n = 0;

	for (i = 0; i < ARRAY_SIZE(leaves); i++) {
		u32 fn = leaves[i];

		if (fn < 0x80000000 ? fn > max_basic : fn > max_ext)
			continue;
		if (n >= max)
			return -E2BIG;
		svm_cpuid_entry(&e[n++], fn, 0);
	}
	return n;
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
	/* The guest's TSC counts from 0 at VM creation, on every vCPU. */
	svm_vm->tsc_offset = -rdtsc();
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

static const struct vmm_arch_ops svm_ops = {
	.owner = THIS_MODULE,
	.name = "amd-svm",
	.vm_init = svm_vm_init,
	.vm_destroy = svm_vm_destroy,
	.unmap_range = svm_npt_unmap_range,
	.vcpu_create = svm_vcpu_create,
	.vcpu_free = svm_vcpu_free,
	.vcpu_run = svm_vcpu_run,
	.get_regs = svm_get_regs,
	.set_regs = svm_set_regs,
	.get_sregs = svm_get_sregs,
	.set_sregs = svm_set_sregs,
	.get_fpu = svm_get_fpu,
	.set_fpu = svm_set_fpu,
	.get_msr = svm_get_msr,
	.set_msr = svm_set_msr,
	.msr_list = svm_msr_list,
	.nr_msrs = ARRAY_SIZE(svm_msr_list),
	.get_supported_cpuid = svm_get_supported_cpuid,
};

static void svm_check_layout(void)
{
	BUILD_BUG_ON(sizeof(struct vmcb_control) != 0x400);
	BUILD_BUG_ON(sizeof(struct vmcb) != PAGE_SIZE);
	BUILD_BUG_ON(sizeof(struct vmcb_seg) != 16);
	BUILD_BUG_ON(offsetof(struct vmcb, control.iopm_base_pa) != 0x040);
	BUILD_BUG_ON(offsetof(struct vmcb, control.asid) != 0x058);
	BUILD_BUG_ON(offsetof(struct vmcb, control.tlb_control) != 0x05c);
	BUILD_BUG_ON(offsetof(struct vmcb, control.int_ctl) != 0x060);
	BUILD_BUG_ON(offsetof(struct vmcb, control.exit_code) != 0x070);
	BUILD_BUG_ON(offsetof(struct vmcb, control.exit_int_info) != 0x088);
	BUILD_BUG_ON(offsetof(struct vmcb, control.np_control) != 0x090);
	BUILD_BUG_ON(offsetof(struct vmcb, control.event_inj) != 0x0a8);
	BUILD_BUG_ON(offsetof(struct vmcb, control.n_cr3) != 0x0b0);
	BUILD_BUG_ON(offsetof(struct vmcb, control.clean) != 0x0c0);
	BUILD_BUG_ON(offsetof(struct vmcb, control.next_rip) != 0x0c8);
	BUILD_BUG_ON(offsetof(struct vmcb, control.insn_bytes) != 0x0d1);
	BUILD_BUG_ON(offsetof(struct vmcb, save.es) != 0x400);
	BUILD_BUG_ON(offsetof(struct vmcb, save.tr) != 0x490);
	BUILD_BUG_ON(offsetof(struct vmcb, save.cpl) != 0x4cb);
	BUILD_BUG_ON(offsetof(struct vmcb, save.efer) != 0x4d0);
	BUILD_BUG_ON(offsetof(struct vmcb, save.cr4) != 0x548);
	BUILD_BUG_ON(offsetof(struct vmcb, save.rflags) != 0x570);
	BUILD_BUG_ON(offsetof(struct vmcb, save.rip) != 0x578);
	BUILD_BUG_ON(offsetof(struct vmcb, save.rsp) != 0x5d8);
	BUILD_BUG_ON(offsetof(struct vmcb, save.rax) != 0x5f8);
	BUILD_BUG_ON(offsetof(struct vmcb, save.star) != 0x600);
	BUILD_BUG_ON(offsetof(struct vmcb, save.kernel_gs_base) != 0x620);
	BUILD_BUG_ON(offsetof(struct vmcb, save.cr2) != 0x640);
	BUILD_BUG_ON(offsetof(struct vmcb, save.g_pat) != 0x668);
	BUILD_BUG_ON(offsetof(struct vmcb, save.last_excp_to) != 0x690);
}

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

	svm_check_layout();
	ret = svm_detect();
	if (ret)
		return ret;
	svm_exit_setup();

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
