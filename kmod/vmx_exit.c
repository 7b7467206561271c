// SPDX-License-Identifier: GPL-2.0
/*
 * VMX exit dispatch: what each basic exit reason (SDM vol. 3C, appendix C)
 * means for the guest, with the work itself done by the core (port I/O,
 * MMIO, CPUID, MSRs: vmm_emulate.c, vmm_cpuid.c, vmm_msr.c), by the EPT
 * (vmx_ept.c) or by the VMCS state code (vmx_vmcs.c).  The same guest
 * sees the same exits as on vmm-amd: what SVM intercepts and we emulate
 * is emulated alike, what SVM makes #UD is #UD here.
 *
 * Unlike the SVM CPUs we test on, VMX reports the length of the exiting
 * instruction (28.2.5), so instructions are stepped without decoding.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/io.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <asm/processor-flags.h>

#include "vmx.h"
#include "vmm_irqchip.h"

#define X86_VEC_UD	6
#define X86_VEC_GP	13

static bool trace_exits;
module_param(trace_exits, bool, 0644);
MODULE_PARM_DESC(trace_exits, "log every guest exit (debugging)");

void vmx_inject_exc(struct vmm_vcpu *vcpu, unsigned int vec, bool has_err,
		    u32 err)
{
	u32 info = vec | INTR_TYPE_HW_EXC << 8 | INTR_INFO_VALID;

	/* Real mode has no error codes; VM entry rejects them (27.2.1.3). */
	if (has_err && (vmx_guest_cr0() & X86_CR0_PE)) {
		info |= INTR_INFO_ERR_VALID;
		vmcs_write(VMCS_ENTRY_EXC_ERR, err);
	}
	vmcs_write(VMCS_ENTRY_INTR_INFO, info);
}

/* Step over the exiting instruction: its length is in the VMCS. */
static int vmx_skip_insn(struct vmm_vcpu *vcpu)
{
	u64 next = vcpu->rip + vmcs_read(VMCS_EXIT_INSN_LEN);

	if (!(vmcs_read(VMCS_ENTRY_CTLS) & ENTRY_IA32E) ||
	    !(vmcs_read(VMCS_GUEST_ES_AR + 2 * VMM_SEG_CS) & SEG_AR_L))
		next &= 0xffffffff;
	vmm_retire_insn(vcpu, next);
	return VMM_EXIT_CONTINUE;
}

/* I/O instruction: exit qualification, table 28-5. */
static int vmx_exit_io(struct vmm_vcpu *vcpu)
{
	u64 q = vmcs_read(VMCS_EXIT_QUAL);
	u64 next = vcpu->rip + vmcs_read(VMCS_EXIT_INSN_LEN);
	unsigned int size = IOQ_SIZE(q);
	struct vmm_io io = {
		.port = IOQ_PORT(q),
		.size = size == 4 ? 4 : size == 2 ? 2 : 1,
		.in = q & IOQ_IN,
		.string = q & IOQ_STRING,
		.rep = q & IOQ_REP,
	};

	if (!(vmcs_read(VMCS_ENTRY_CTLS) & ENTRY_IA32E) ||
	    !(vmcs_read(VMCS_GUEST_ES_AR + 2 * VMM_SEG_CS) & SEG_AR_L))
		next &= 0xffffffff;
	io.next_rip = next;
	return vmm_emulate_io(vcpu, &io);
}

static int vmx_exit_msr(struct vmm_vcpu *vcpu, bool write)
{
	int ret = write ? vmm_emulate_wrmsr(vcpu) : vmm_emulate_rdmsr(vcpu);

	if (ret) {
		vmx_inject_exc(vcpu, X86_VEC_GP, true, 0);
		return VMM_EXIT_CONTINUE;
	}
	return vmx_skip_insn(vcpu);
}

/*
 * XSETBV exits unconditionally (26.1.3); its #UD without CR4.OSXSAVE and
 * its #GP at CPL > 0 come before the exit, the rest the core checks (the
 * guest's XCR0 is the core's, loaded around each entry).
 */
static int vmx_exit_xsetbv(struct vmm_vcpu *vcpu)
{
	u32 ss_ar = vmcs_read(VMCS_GUEST_ES_AR + 2 * VMM_SEG_SS);

	if (!(vmx_guest_cr4() & X86_CR4_OSXSAVE) || !vmm_xfeatures) {
		vmx_inject_exc(vcpu, X86_VEC_UD, false, 0);
		return VMM_EXIT_CONTINUE;
	}
	if (vmm_emulate_xsetbv(vcpu, SEG_AR_DPL(ss_ar))) {
		vmx_inject_exc(vcpu, X86_VEC_GP, true, 0);
		return VMM_EXIT_CONTINUE;
	}
	return vmx_skip_insn(vcpu);
}

/*
 * Control-register access (table 28-3): MOV to CR0/CR4 that changes a bit
 * we own, and every MOV to or from CR8 (the TPR, which the hardware must
 * not see: we use no TPR shadow).  CLTS and LMSW only exit when they touch
 * a bit we own, which CLTS never does and LMSW only through PE.
 */
static int vmx_exit_cr(struct vmm_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u64 q = vmcs_read(VMCS_EXIT_QUAL);
	unsigned int reg = CRQ_GPR(q);
	u64 val = vcpu->gprs[reg];
	int ret = 0;

	switch (CRQ_TYPE(q)) {
	case CRQ_TYPE_MOV_TO:
		switch (CRQ_CR(q)) {
		case 0:
			ret = vmx_set_cr0(vcpu, val);
			break;
		case 4:
			ret = vmx_set_cr4(vcpu, val);
			break;
		case 8:
			if (val > 15)
				ret = -EINVAL;
			else if (vcpu->lapic)
				vmm_lapic_set_tpr(vcpu, val << 4);
			else
				vmx->cr8 = val;
			break;
		default:
			return vmm_emulation_failed(vcpu);
		}
		break;
	case CRQ_TYPE_MOV_FROM:
		if (CRQ_CR(q) != 8)
			return vmm_emulation_failed(vcpu);
		vcpu->gprs[reg] = vcpu->lapic ?
				  vmm_lapic_get_tpr(vcpu) >> 4 : vmx->cr8;
		break;
	case CRQ_TYPE_LMSW: {
		u64 cr0 = vmx_guest_cr0();

		/* LMSW sets PE but never clears it. */
		val = (cr0 & ~0xeULL) | (CRQ_LMSW_DATA(q) & 0xf) |
		      (cr0 & X86_CR0_PE);
		ret = vmx_set_cr0(vcpu, val);
		break;
	}
	default:
		return vmm_emulation_failed(vcpu);
	}
	if (ret) {
		vmx_inject_exc(vcpu, X86_VEC_GP, true, 0);
		return VMM_EXIT_CONTINUE;
	}
	return vmx_skip_insn(vcpu);
}

/*
 * MOV DR (table 28-4).  As on vmm-amd: DR0-3 belong to the host and are
 * #UD; DR6 and DR7 are the guest's, emulated (DR4/DR5 alias them unless
 * CR4.DE, which makes them #UD too).
 */
static int vmx_exit_dr(struct vmm_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u64 q = vmcs_read(VMCS_EXIT_QUAL);
	unsigned int dr = DRQ_DR(q), reg = DRQ_GPR(q);

	if (dr == 4 || dr == 5) {
		if (vmx_guest_cr4() & X86_CR4_DE)
			dr = 0;		/* #UD below */
		else
			dr += 2;
	}
	if (dr < 4) {
		vmx_inject_exc(vcpu, X86_VEC_UD, false, 0);
		return VMM_EXIT_CONTINUE;
	}
	if (q & DRQ_FROM_DR) {
		vcpu->gprs[reg] = dr == 6 ? vmx->dr6 :
				  vmcs_read(VMCS_GUEST_DR7);
	} else {
		u64 val = vcpu->gprs[reg];

		if (val >> 32) {
			vmx_inject_exc(vcpu, X86_VEC_GP, true, 0);
			return VMM_EXIT_CONTINUE;
		}
		if (dr == 6)
			vmx->dr6 = (val & 0x0001e00fULL) | 0xffff0ff0ULL;
		else
			vmcs_write(VMCS_GUEST_DR7, (val & 0xffff2fffULL) |
				   0x400);
	}
	return vmx_skip_insn(vcpu);
}

/* EPT violation (table 28-7): RAM gets mapped, anything else is MMIO. */
static int vmx_exit_ept(struct vmm_vcpu *vcpu)
{
	u64 q = vmcs_read(VMCS_EXIT_QUAL);
	u64 gpa = vmcs_read(VMCS_GUEST_PHYS_ADDR);
	u32 vectoring = vmcs_read(VMCS_IDT_VECTORING_INFO);
	bool write = q & EPTQ_WRITE;
	int ret;

	/*
	 * The guest's IRET of an NMI handler faulted (qualification bit 12,
	 * 28.2.1): with virtual NMIs the blocking it ended comes back for
	 * the IRET's retry (27.2.3).
	 */
	if (vmx_caps.events && (q & BIT(12)) && !(vectoring & INTR_INFO_VALID))
		vmcs_set_bits(VMCS_GUEST_INTERRUPTIBILITY, INTERRUPTIBILITY_NMI);
	ret = vmm_map_gpa(vcpu->vm, gpa, write);
	if (ret < 0)
		return ret;
	if (ret)
		return VMM_EXIT_CONTINUE;
	/*
	 * Outside RAM while the CPU delivered an event (IDT-vectoring
	 * information valid, 28.2.4): the IDT, GDT or stack it needed is
	 * MMIO, and the instruction at RIP did not make the access.  As on
	 * vmm-amd (issue 14 K2) and mainline KVM: a delivery error.
	 */
	if (vectoring & INTR_INFO_VALID) {
		struct kvm_run *run = vcpu->run;

		run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
		run->internal.suberror = KVM_INTERNAL_ERROR_DELIVERY_EV;
		run->internal.ndata = 4;
		run->internal.data[0] = vectoring;
		run->internal.data[1] = EXIT_EPT_VIOLATION;
		run->internal.data[2] = q;
		run->internal.data[3] = gpa;
		return VMM_EXIT_USER;
	}
	/* Code or guest page tables outside RAM cannot be emulated. */
	if ((q & EPTQ_FETCH) ||
	    ((q & EPTQ_LINEAR_VALID) && !(q & EPTQ_LINEAR_IS_FINAL)))
		return vmm_emulation_failed(vcpu);
	return vmm_emulate_mmio(vcpu, gpa);
}

static int vmx_exit_exception(struct vmm_vcpu *vcpu)
{
	u32 info = vmcs_read(VMCS_EXIT_INTR_INFO);

	if ((info & INTR_INFO_VALID) && INTR_INFO_TYPE(info) == INTR_TYPE_NMI)
		return VMM_EXIT_CONTINUE;	/* handled right after exit */
	/* The exception bitmap is empty: nothing else exits here. */
	return vmm_emulation_failed(vcpu);
}

static int vmx_fail_entry(struct vmm_vcpu *vcpu, u32 reason)
{
	vcpu->run->exit_reason = KVM_EXIT_FAIL_ENTRY;
	vcpu->run->fail_entry.hardware_entry_failure_reason = reason;
	vcpu->run->fail_entry.cpu = vcpu->cpu;
	return VMM_EXIT_USER;
}

/*
 * An event the exit interrupted (IDT-vectoring information, 28.2.4) is
 * injected again with the next entry (27.6), unless the exit itself has
 * something to inject.
 */
static void vmx_redeliver(void)
{
	u32 idt = vmcs_read(VMCS_IDT_VECTORING_INFO);
	unsigned int type = INTR_INFO_TYPE(idt);

	if (!(idt & INTR_INFO_VALID))
		return;
	vmcs_write(VMCS_ENTRY_INTR_INFO, idt & ~INTR_INFO_NMI_UNBLOCK);
	if (idt & INTR_INFO_ERR_VALID)
		vmcs_write(VMCS_ENTRY_EXC_ERR,
			   vmcs_read(VMCS_IDT_VECTORING_ERR));
	if (type == INTR_TYPE_SW_INT || type == INTR_TYPE_PRIV_SW_EXC ||
	    type == INTR_TYPE_SW_EXC)
		vmcs_write(VMCS_ENTRY_INSN_LEN,
			   vmcs_read(VMCS_EXIT_INSN_LEN));
}

/* Called with interrupts off, right after the exit: NMIs first. */
void vmx_exit_irqoff(u32 reason)
{
	if ((reason & EXIT_REASON_MASK) == EXIT_EXCEPTION_NMI) {
		u32 info = vmcs_read(VMCS_EXIT_INTR_INFO);

		if ((info & INTR_INFO_VALID) &&
		    INTR_INFO_TYPE(info) == INTR_TYPE_NMI)
			vmx_host_nmi_asm();
	}
}

int vmx_handle_exit(struct vmm_vcpu *vcpu, u32 reason)
{
	int ret;

	if (trace_exits)
		pr_info("exit %u qual %#llx gpa %#llx rip %#llx\n", reason,
			vmcs_read(VMCS_EXIT_QUAL),
			vmcs_read(VMCS_GUEST_PHYS_ADDR), vcpu->rip);

	if (reason & EXIT_REASON_ENTRY_FAIL)
		return vmx_fail_entry(vcpu, reason);
	vmcs_write(VMCS_ENTRY_INTR_INFO, 0);
	vmx_redeliver();

	switch (reason & EXIT_REASON_MASK) {
	case EXIT_EXCEPTION_NMI:
		return vmx_exit_exception(vcpu);
	case EXIT_EXT_INTR:		/* the host takes it once IF is set */
	case EXIT_INTR_WINDOW:		/* window logic runs before entry */
	case EXIT_NMI_WINDOW:
	case EXIT_PREEMPT_TIMER:	/* exit_every_us: nothing else to do */
		return VMM_EXIT_CONTINUE;
	case EXIT_TRIPLE_FAULT:
		/* As on vmm-amd: shutdown, the vCPU back at power-on. */
		vmm_vcpu_reset(vcpu);
		vcpu->run->exit_reason = KVM_EXIT_SHUTDOWN;
		return VMM_EXIT_USER;
	case EXIT_IO:
		return vmx_exit_io(vcpu);
	case EXIT_HLT:
		ret = vmx_skip_insn(vcpu);
		if (ret != VMM_EXIT_CONTINUE)
			return ret;
		/* In the kernel with the irqchip there, else KVM_EXIT_HLT. */
		return vmm_vcpu_halt(vcpu);
	case EXIT_CPUID:
		vmm_emulate_cpuid(vcpu);
		return vmx_skip_insn(vcpu);
	case EXIT_XSETBV:
		return vmx_exit_xsetbv(vcpu);
	case EXIT_RDMSR:
		return vmx_exit_msr(vcpu, false);
	case EXIT_WRMSR:
		return vmx_exit_msr(vcpu, true);
	case EXIT_INVD:
		return vmx_skip_insn(vcpu);	/* keep the caches */
	case EXIT_RDPMC:
		/* No virtual PMU: the host's counters stay the host's. */
		vmx_inject_exc(vcpu, X86_VEC_GP, true, 0);
		return VMM_EXIT_CONTINUE;
	case EXIT_CR_ACCESS:
		return vmx_exit_cr(vcpu);
	case EXIT_DR_ACCESS:
		return vmx_exit_dr(vcpu);
	case EXIT_EPT_VIOLATION:
		return vmx_exit_ept(vcpu);
	case EXIT_VMCALL:
	case EXIT_VMCLEAR:
	case EXIT_VMLAUNCH:
	case EXIT_VMPTRLD:
	case EXIT_VMPTRST:
	case EXIT_VMREAD:
	case EXIT_VMRESUME:
	case EXIT_VMWRITE:
	case EXIT_VMXOFF:
	case EXIT_VMXON:
	case EXIT_INVEPT:
	case EXIT_INVVPID:
	case EXIT_VMFUNC:
	case EXIT_GETSEC:
	case EXIT_MONITOR:
	case EXIT_MWAIT:
	case EXIT_ENCLS:
		/* No nested VMX, no MONITOR/MWAIT. */
		vmx_inject_exc(vcpu, X86_VEC_UD, false, 0);
		return VMM_EXIT_CONTINUE;
	case EXIT_EPT_MISCONFIG:	/* a bug of ours in vmx_ept.c */
	case EXIT_TASK_SWITCH:		/* not emulated */
	default:
		return vmm_emulation_failed(vcpu);
	}
}
