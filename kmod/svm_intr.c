// SPDX-License-Identifier: GPL-2.0
/*
 * Event injection on SVM: the backend hooks the core's vmm_intr.c calls
 * (APM vol. 2, 15.20 event injection, 15.21 virtual interrupts).
 *
 * - External interrupts and NMIs go in through EVENTINJ, one per entry.
 * - An interrupt or NMI that must wait (IF clear, interrupt shadow, an
 *   event already queued) asks for a virtual-interrupt window: V_IRQ with
 *   the VINTR intercept exits as soon as the guest could take one.
 * - NMIs stay masked from their injection until the guest's IRET has run:
 *   IRET is intercepted while an NMI is in service; the exit comes before
 *   the instruction, so the mask ends at the first exit at another RIP
 *   (a pending NMI also asks for the window, which ends soon after).
 * - Without the in-kernel irqchip, the KVM_INTERRUPT vector and
 *   request_interrupt_window are served here too.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>

#include "svm.h"
#include "vmm_irqchip.h"

#define X86_VEC_NMI		2

bool svm_interruptible(struct vmm_vcpu *vcpu)
{
	struct vmcb_control *c = &to_svm(vcpu)->vmcb->control;

	return (vcpu->rflags & X86_EFLAGS_IF) &&
	       !(c->int_state & SVM_INT_SHADOW) &&
	       !(c->event_inj & SVM_EVT_VALID);
}

/* The NMI handler's IRET has run once RIP has left the IRET. */
static void svm_nmi_unmask_check(struct vmm_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);

	if (svm->nmi_masked && svm->iret_seen && vcpu->rip != svm->iret_rip) {
		svm->nmi_masked = false;
		svm->iret_seen = false;
	}
}

bool svm_nmi_allowed(struct vmm_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb_control *c = &svm->vmcb->control;

	svm_nmi_unmask_check(vcpu);
	return !svm->nmi_masked && !(c->int_state & SVM_INT_SHADOW) &&
	       !(c->event_inj & SVM_EVT_VALID);
}

void svm_inject_irq(struct vmm_vcpu *vcpu, u8 vector)
{
	to_svm(vcpu)->vmcb->control.event_inj = vector | SVM_EVT_TYPE_INTR |
						SVM_EVT_VALID;
}

static void svm_mask_nmis(struct svm_vcpu *svm)
{
	svm->nmi_masked = true;
	svm->iret_seen = false;
	svm->vmcb->control.intercept_misc1 |= SVM_I1_IRET;
}

void svm_inject_nmi(struct vmm_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);

	svm->vmcb->control.event_inj = X86_VEC_NMI | SVM_EVT_TYPE_NMI |
				       SVM_EVT_VALID;
	svm_mask_nmis(svm);
}

/* IRET intercepted while an NMI is in service (the IRET has not run). */
int svm_exit_iret(struct vmm_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);

	svm->vmcb->control.intercept_misc1 &= ~SVM_I1_IRET;
	svm->iret_seen = true;
	svm->iret_rip = vcpu->rip;
	return VMM_EXIT_CONTINUE;
}

void svm_set_windows(struct vmm_vcpu *vcpu, bool irq, bool nmi)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb_control *c = &svm->vmcb->control;
	u64 vintr = SVM_V_IRQ | SVM_V_IGN_TPR | (0xfULL << SVM_V_INTR_PRIO_SHIFT);

	if (!vcpu->lapic) {
		/* KVM_INTERRUPT's vector, when the guest can take it. */
		if (vcpu->pending_irq >= 0 && svm_interruptible(vcpu)) {
			svm_inject_irq(vcpu, vcpu->pending_irq);
			vcpu->pending_irq = -1;
		}
		irq = vcpu->pending_irq >= 0 ||
		      (vcpu->run->request_interrupt_window &&
		       !svm_interruptible(vcpu));
	}
	if (vcpu->lapic) {
		/* CR8 reads see the LAPIC's TPR (writes are intercepted). */
		c->int_ctl = (c->int_ctl & ~SVM_V_TPR_MASK) |
			     (vmm_lapic_get_tpr(vcpu) >> 4);
	}
	if (irq || nmi) {
		c->int_ctl |= vintr;
		c->intercept_misc1 |= SVM_I1_VINTR;
	} else {
		c->int_ctl &= ~vintr;
		c->intercept_misc1 &= ~SVM_I1_VINTR;
	}
}

/* SIPI: real mode, CS = vector << 8 (the core set IP to 0; SDM 8.4.4). */
void svm_sipi(struct vmm_vcpu *vcpu, u8 vector)
{
	struct vmcb_save *s = &to_svm(vcpu)->vmcb->save;

	s->cs.selector = vector << 8;
	s->cs.base = (u64)vector << 12;
	s->cs.limit = 0xffff;
	s->cs.attrib = 0x9b;
}

void svm_get_events(struct vmm_vcpu *vcpu, struct kvm_vcpu_events *e)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb_control *c = &svm->vmcb->control;
	u64 ev = c->event_inj;

	svm_nmi_unmask_check(vcpu);
	if (ev & SVM_EVT_VALID) {
		switch (ev & SVM_EVT_TYPE_MASK) {
		case SVM_EVT_TYPE_EXC:
			e->exception.injected = 1;
			e->exception.nr = ev & 0xff;
			e->exception.has_error_code = !!(ev & SVM_EVT_EV);
			e->exception.error_code = ev >> 32;
			break;
		case SVM_EVT_TYPE_NMI:
			e->nmi.injected = 1;
			break;
		case SVM_EVT_TYPE_SOFT:
			e->interrupt.soft = 1;
			fallthrough;
		default:
			e->interrupt.injected = 1;
			e->interrupt.nr = ev & 0xff;
			break;
		}
	}
	if (c->int_state & SVM_INT_SHADOW)
		e->interrupt.shadow = KVM_X86_SHADOW_INT_STI |
				      KVM_X86_SHADOW_INT_MOV_SS;
	e->nmi.masked = svm->nmi_masked;
}

/* One event slot: an exception before an NMI before an interrupt. */
int svm_set_events(struct vmm_vcpu *vcpu, const struct kvm_vcpu_events *e)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb_control *c = &svm->vmcb->control;
	u64 ev = 0;

	if (e->exception.injected || e->exception.pending) {
		ev = e->exception.nr | SVM_EVT_TYPE_EXC | SVM_EVT_VALID;
		if (e->exception.has_error_code)
			ev |= SVM_EVT_EV | (u64)e->exception.error_code << 32;
	} else if (e->nmi.injected) {
		ev = X86_VEC_NMI | SVM_EVT_TYPE_NMI | SVM_EVT_VALID;
	} else if (e->interrupt.injected) {
		ev = e->interrupt.nr | SVM_EVT_VALID |
		     (e->interrupt.soft ? SVM_EVT_TYPE_SOFT :
					  SVM_EVT_TYPE_INTR);
	}
	c->event_inj = ev;
	if (e->nmi.masked) {
		svm_mask_nmis(svm);
	} else {
		svm->nmi_masked = false;
		svm->iret_seen = false;
		c->intercept_misc1 &= ~SVM_I1_IRET;
	}
	if (e->flags & KVM_VCPUEVENT_VALID_SHADOW) {
		if (e->interrupt.shadow)
			c->int_state |= SVM_INT_SHADOW;
		else
			c->int_state &= ~SVM_INT_SHADOW;
	}
	return 0;
}
