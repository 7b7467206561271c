// SPDX-License-Identifier: GPL-2.0
/*
 * SVM exit dispatch: what each #VMEXIT code (APM vol. 2, appendix C) means
 * for the guest, with the work itself done by the core (port I/O, MMIO,
 * CPUID, MSRs, instruction stepping: vmm_emulate.c, vmm_cpuid.c,
 * vmm_msr.c) or by the nested page tables (svm_npt.c).
 *
 * The CPUs we run on may lack NRIP save and decode assists (QEMU's SVM
 * model has neither), so the next RIP comes from EXITINFO2 for I/O and
 * from the decoder (vmm_skip_insn) for everything else.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/io.h>
#include <linux/moduleparam.h>

#include "svm.h"
#include "vmm_irqchip.h"

#define X86_VEC_UD	6
#define X86_VEC_GP	13

static bool trace_exits;
module_param(trace_exits, bool, 0644);
MODULE_PARM_DESC(trace_exits, "log every guest exit (debugging)");

void svm_inject_exc(struct vmm_vcpu *vcpu, unsigned int vec, bool has_err,
		    u32 err)
{
	struct vmcb *v = to_svm(vcpu)->vmcb;
	u64 ev = vec | SVM_EVT_TYPE_EXC | SVM_EVT_VALID;

	/* Real mode has no error codes; VMRUN rejects them there. */
	if (has_err && (v->save.cr0 & X86_CR0_PE))
		ev |= SVM_EVT_EV | (u64)err << 32;
	v->control.event_inj = ev;
}

/* IOIO: EXITINFO1 has port, size and kind (APM 15.10.2), EXITINFO2 nRIP. */
static int svm_exit_io(struct vmm_vcpu *vcpu)
{
	struct vmcb_control *c = &to_svm(vcpu)->vmcb->control;
	u32 info = c->exit_info1;
	unsigned int size = (info >> SVM_IO_SIZE_SHIFT) & 7;
	struct vmm_io io = {
		.port = info >> 16,
		.size = size & 4 ? 4 : size & 2 ? 2 : 1,
		.in = info & SVM_IO_IN,
		.string = info & SVM_IO_STR,
		.rep = info & SVM_IO_REP,
		.next_rip = c->exit_info2,
	};

	return vmm_emulate_io(vcpu, &io);
}

static int svm_exit_msr(struct vmm_vcpu *vcpu)
{
	int ret;

	if (to_svm(vcpu)->vmcb->control.exit_info1)
		ret = vmm_emulate_wrmsr(vcpu);
	else
		ret = vmm_emulate_rdmsr(vcpu);
	if (ret) {
		svm_inject_exc(vcpu, X86_VEC_GP, true, 0);
		return VMM_EXIT_CONTINUE;
	}
	return vmm_skip_insn(vcpu);
}

/*
 * The CPU faulted on guest-physical memory outside RAM while it delivered
 * an event (@vectoring: EXITINTINFO): the IDT, GDT or stack it needed is
 * MMIO.  The instruction at RIP did not cause the access, so emulating it
 * would be wrong; like mainline KVM, give up with a delivery error.
 */
static int svm_delivery_error(struct vmm_vcpu *vcpu, u64 vectoring)
{
	struct vmcb_control *c = &to_svm(vcpu)->vmcb->control;
	struct kvm_run *run = vcpu->run;

	run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
	run->internal.suberror = KVM_INTERNAL_ERROR_DELIVERY_EV;
	run->internal.ndata = 4;
	run->internal.data[0] = vectoring;
	run->internal.data[1] = c->exit_code;
	run->internal.data[2] = c->exit_info1;
	run->internal.data[3] = c->exit_info2;
	return VMM_EXIT_USER;
}

/*
 * MOV to CR4, intercepted so that a guest cannot switch on what the
 * module cannot follow (LA57: the emulator's page walk has 4 levels) or
 * the CPU lacks.  Without decode assists the source register comes from
 * the decoder; the checks are the core's.
 */
#define SVM_CR4_TLB_BITS	(X86_CR4_PGE | X86_CR4_PAE | X86_CR4_PSE | \
				 X86_CR4_PCIDE | X86_CR4_SMEP | X86_CR4_SMAP)

static int svm_exit_write_cr4(struct vmm_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb_save *s = &svm->vmcb->save;
	struct vmm_cpu_mode m;
	struct vmm_insn insn;
	u64 val, old = s->cr4;

	vmcb_get_cpu_mode(vcpu, &m);
	if (vmm_fetch_decode(vcpu, &m, &insn) || insn.map != 1 ||
	    insn.opcode != 0x22)
		return vmm_emulation_failed(vcpu);
	if (((insn.modrm >> 3) & 7) != 4 || (insn.rex & 4)) {
		svm_inject_exc(vcpu, X86_VEC_UD, false, 0);
		return VMM_EXIT_CONTINUE;
	}
	val = vcpu->gprs[(insn.modrm & 7) | (insn.rex & 1 ? 8 : 0)];
	if (vmm_code_size(&m) != 8)
		val &= 0xffffffff;
	if (vmm_cr4_write_check(&m, s->cpl, val)) {
		svm_inject_exc(vcpu, X86_VEC_GP, true, 0);
		return VMM_EXIT_CONTINUE;
	}
	s->cr4 = val;
	/* The write did not reach the CPU: do the flush it implies. */
	if ((old ^ val) & SVM_CR4_TLB_BITS)
		svm_flush_guest_tlb(svm);
	vmm_retire_insn(vcpu, (vcpu->rip + insn.len) &
			(vmm_code_size(&m) == 8 ? ~0ULL : 0xffffffffULL));
	return VMM_EXIT_CONTINUE;
}

/* XSETBV: #UD without CR4.OSXSAVE, the checks and XCR0 the core's. */
static int svm_exit_xsetbv(struct vmm_vcpu *vcpu)
{
	struct vmcb_save *s = &to_svm(vcpu)->vmcb->save;

	if (!(s->cr4 & X86_CR4_OSXSAVE) || !vmm_xfeatures) {
		svm_inject_exc(vcpu, X86_VEC_UD, false, 0);
		return VMM_EXIT_CONTINUE;
	}
	if (vmm_emulate_xsetbv(vcpu, s->cpl)) {
		svm_inject_exc(vcpu, X86_VEC_GP, true, 0);
		return VMM_EXIT_CONTINUE;
	}
	return vmm_skip_insn(vcpu);
}

/* Step over the decoded instruction (an emulated MOV to CR or DR). */
static int svm_retire_decoded(struct vmm_vcpu *vcpu,
			      const struct vmm_cpu_mode *m,
			      const struct vmm_insn *insn)
{
	vmm_retire_insn(vcpu, (vcpu->rip + insn->len) &
			(vmm_code_size(m) == 8 ? ~0ULL : 0xffffffffULL));
	return VMM_EXIT_CONTINUE;
}

/*
 * MOV to CR8 with the LAPIC in the kernel: CR8 is TPR[7:4].  Encoded as
 * MOV CR8 (REX.R) or, on AMD, LOCK MOV CR0.
 */
static int svm_exit_write_cr8(struct vmm_vcpu *vcpu)
{
	struct vmcb_save *s = &to_svm(vcpu)->vmcb->save;
	struct vmm_cpu_mode m;
	struct vmm_insn insn;
	u64 val;

	vmcb_get_cpu_mode(vcpu, &m);
	if (vmm_fetch_decode(vcpu, &m, &insn) || insn.map != 1 ||
	    insn.opcode != 0x22 || ((insn.modrm >> 3) & 7) ||
	    (!(insn.rex & 4) && !insn.lock))
		return vmm_emulation_failed(vcpu);
	val = vcpu->gprs[(insn.modrm & 7) | (insn.rex & 1 ? 8 : 0)];
	if (s->cpl || val > 15) {
		svm_inject_exc(vcpu, X86_VEC_GP, true, 0);
		return VMM_EXIT_CONTINUE;
	}
	if (vcpu->lapic)
		vmm_lapic_set_tpr(vcpu, val << 4);
	return svm_retire_decoded(vcpu, &m, &insn);
}

/*
 * MOV to or from DR0-3 (only those are intercepted; DR6 and DR7 live in
 * the VMCB).  The guest's values are kept in svm->db and loaded into the
 * CPU only around entries while the guest's DR7 enables a breakpoint.
 */
static int svm_exit_dr(struct vmm_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmm_cpu_mode m;
	struct vmm_insn insn;
	unsigned int dr, reg;
	bool wide;

	vmcb_get_cpu_mode(vcpu, &m);
	if (vmm_fetch_decode(vcpu, &m, &insn) || insn.map != 1 ||
	    (insn.opcode != 0x21 && insn.opcode != 0x23))
		return vmm_emulation_failed(vcpu);
	dr = ((insn.modrm >> 3) & 7) | (insn.rex & 4 ? 8 : 0);
	reg = (insn.modrm & 7) | (insn.rex & 1 ? 8 : 0);
	if (dr > 3) {
		svm_inject_exc(vcpu, X86_VEC_UD, false, 0);
		return VMM_EXIT_CONTINUE;
	}
	if (svm->vmcb->save.cpl) {
		svm_inject_exc(vcpu, X86_VEC_GP, true, 0);
		return VMM_EXIT_CONTINUE;
	}
	wide = vmm_code_size(&m) == 8;
	if (insn.opcode == 0x23)
		svm->db[dr] = vcpu->gprs[reg] & (wide ? ~0ULL : 0xffffffffULL);
	else
		vcpu->gprs[reg] = wide ? svm->db[dr] : (u32)svm->db[dr];
	return svm_retire_decoded(vcpu, &m, &insn);
}

/* Nested page fault: RAM gets mapped, anything else is MMIO. */
static int svm_exit_npf(struct vmm_vcpu *vcpu, u64 vectoring)
{
	struct vmcb_control *c = &to_svm(vcpu)->vmcb->control;
	u64 err = c->exit_info1, gpa = c->exit_info2;
	bool write = err & SVM_NPF_WRITE;
	int ret;

	/* RAM: map it; an event cut short is delivered again (see caller). */
	ret = vmm_map_gpa(vcpu->vm, gpa, write);
	if (ret < 0)
		return ret;
	if (ret)
		return VMM_EXIT_CONTINUE;
	if (vectoring & SVM_EVT_VALID)
		return svm_delivery_error(vcpu, vectoring);
	/* Code or guest page tables outside RAM cannot be emulated. */
	if (err & (SVM_NPF_FETCH | SVM_NPF_GUEST_PT))
		return vmm_emulation_failed(vcpu);
	return vmm_emulate_mmio(vcpu, gpa);
}

int svm_handle_exit(struct vmm_vcpu *vcpu)
{
	struct vmcb_control *c = &to_svm(vcpu)->vmcb->control;
	u64 code = c->exit_code;
	u64 vectoring = c->exit_int_info;
	int ret;

	if (trace_exits)
		pr_info("exit %#llx info1 %#llx info2 %#llx rip %#llx\n", code,
			c->exit_info1, c->exit_info2, vcpu->rip);

	/* An event cut short by the exit is delivered again. */
	if (vectoring & SVM_EVT_VALID) {
		c->event_inj = vectoring;
		c->exit_int_info = 0;
	}

	switch (code) {
	case SVM_EXIT_INTR:
	case SVM_EXIT_NMI:
	case SVM_EXIT_SMI:
		return VMM_EXIT_CONTINUE;	/* the host takes it after STGI */
	case SVM_EXIT_VINTR:
		return VMM_EXIT_CONTINUE;	/* window logic runs before entry */
	case SVM_EXIT_IOIO:
		return svm_exit_io(vcpu);
	case SVM_EXIT_HLT:
		ret = vmm_skip_insn(vcpu);
		if (ret != VMM_EXIT_CONTINUE)
			return ret;
		return vmm_vcpu_halt(vcpu);
	case SVM_EXIT_IRET:
		return svm_exit_iret(vcpu);
	case SVM_EXIT_WRITE_CR8:
		return svm_exit_write_cr8(vcpu);
	case SVM_EXIT_WRITE_CR4:
		return svm_exit_write_cr4(vcpu);
	case SVM_EXIT_XSETBV:
		return svm_exit_xsetbv(vcpu);
	case SVM_EXIT_CPUID:
		vmm_emulate_cpuid(vcpu);
		return vmm_skip_insn(vcpu);
	case SVM_EXIT_MSR:
		return svm_exit_msr(vcpu);
	case SVM_EXIT_INVD:
		return vmm_skip_insn(vcpu);	/* keep the caches */
	case SVM_EXIT_RDPMC:
		/* No virtual PMU: the host's counters stay the host's. */
		svm_inject_exc(vcpu, X86_VEC_GP, true, 0);
		return VMM_EXIT_CONTINUE;
	case SVM_EXIT_NPF:
		return svm_exit_npf(vcpu, vectoring);
	case SVM_EXIT_SHUTDOWN:
		/* The VMCB is undefined after a shutdown: start afresh. */
		vmm_vcpu_reset(vcpu);
		vcpu->run->exit_reason = KVM_EXIT_SHUTDOWN;
		return VMM_EXIT_USER;
	case SVM_EXIT_INVALID:
		vcpu->run->exit_reason = KVM_EXIT_FAIL_ENTRY;
		vcpu->run->fail_entry.hardware_entry_failure_reason = code;
		vcpu->run->fail_entry.cpu = vcpu->cpu;
		return VMM_EXIT_USER;
	case SVM_EXIT_VMRUN:
	case SVM_EXIT_VMMCALL:
	case SVM_EXIT_VMLOAD:
	case SVM_EXIT_VMSAVE:
	case SVM_EXIT_STGI:
	case SVM_EXIT_CLGI:
	case SVM_EXIT_SKINIT:
	case SVM_EXIT_INVLPGA:
	case SVM_EXIT_MONITOR:
	case SVM_EXIT_MWAIT:
	case SVM_EXIT_MWAIT_COND:
	case SVM_EXIT_RDPRU:
		/* No nested SVM, no MONITOR/MWAIT. */
		svm_inject_exc(vcpu, X86_VEC_UD, false, 0);
		return VMM_EXIT_CONTINUE;
	default:
		if (code >= SVM_EXIT_READ_DR0 && code <= SVM_EXIT_WRITE_DR7)
			return svm_exit_dr(vcpu);
		return vmm_emulation_failed(vcpu);
	}
}
