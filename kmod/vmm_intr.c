// SPDX-License-Identifier: GPL-2.0
/*
 * What happens to a vCPU between two guest entries when the irqchip is in
 * the kernel, the same for every backend: kicks (an IPI to a vCPU in guest
 * mode, a wake-up for one that sleeps), halted and waiting-for-SIPI vCPUs
 * sleeping in KVM_RUN, INIT and SIPI, the NMI queue, and the choice of
 * the next event to inject (NMI first, then the PIC's ExtINT, then the
 * LAPIC's highest vector above PPR) through the backend's hooks, with an
 * interrupt or NMI window when the guest cannot take it yet.  Also the
 * state ioctls of these: KVM_GET/SET_MP_STATE, KVM_NMI and the core's part
 * of KVM_GET/SET_VCPU_EVENTS.
 *
 * The kick protocol: an event is published first (IRR bit, pending flag,
 * NMI count), then vmm_vcpu_kick() looks at vcpu->mode after a full
 * barrier; the vCPU sets its mode with a full barrier before it looks for
 * events, with interrupts off until VMRUN.  Either the vCPU sees the event
 * or the kicker sees it in guest mode and interrupts it (the IPI ends
 * VMRUN at once, or is taken right at entry).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/rcuwait.h>
#include <linux/sched/signal.h>
#include <linux/smp.h>
#include <asm/processor-flags.h>

#include "vmm.h"
#include "vmm_irqchip.h"

void vmm_vcpu_kick(struct vmm_vcpu *vcpu)
{
	int cpu, me;

	/* Pairs with smp_store_mb(vcpu->mode) before the entry. */
	smp_mb();
	if (rcuwait_wake_up(&vcpu->wait))
		return;
	cpu = READ_ONCE(vcpu->cpu);
	me = get_cpu();
	if (READ_ONCE(vcpu->mode) == VMM_IN_GUEST_MODE && cpu != me &&
	    cpu >= 0 && cpu_online(cpu)) {
		vmm_stat_inc(VMM_STAT_KICK_IPIS);
		smp_send_reschedule(cpu);
	}
	put_cpu();
}
EXPORT_SYMBOL_GPL(vmm_vcpu_kick);

static bool vmm_is_bsp(struct vmm_vcpu *vcpu)
{
	return READ_ONCE(vcpu->lapic->base) & VAPIC_BASE_BSP;
}

/* NMIs sent become pending; one may wait behind one being handled. */
static void vmm_take_nmis(struct vmm_vcpu *vcpu)
{
	unsigned int n = atomic_xchg(&vcpu->nmi_queued, 0);

	vcpu->nmi_pending = min(vcpu->nmi_pending + n, 2U);
}

/* An external interrupt is waiting (PIC ExtINT or LAPIC vector). */
static bool vmm_irq_waiting(struct vmm_vcpu *vcpu)
{
	struct vmm_irqchip *chip = vcpu->vm->irqchip;

	if (vmm_lapic_accepts_pic(vcpu) && vmm_pic_has_output(&chip->pic))
		return true;
	return vmm_lapic_pending_vector(vcpu) >= 0;
}

/* Would this sleeping vCPU have something to do? */
static bool vmm_vcpu_runnable(struct vmm_vcpu *vcpu)
{
	const struct vmm_arch_ops *ops = vcpu->vm->ops;
	unsigned long pending = READ_ONCE(vcpu->lapic->pending);

	if (pending & BIT(VMM_APIC_INIT))
		return true;
	if (vcpu->mp_state == KVM_MP_STATE_INIT_RECEIVED)
		return pending & BIT(VMM_APIC_SIPI);
	if (vcpu->mp_state != KVM_MP_STATE_HALTED)
		return false;	/* UNINITIALIZED waits for INIT */
	if ((atomic_read(&vcpu->nmi_queued) || vcpu->nmi_pending) &&
	    ops->nmi_allowed(vcpu))
		return true;
	return (vcpu->rflags & X86_EFLAGS_IF) && vmm_irq_waiting(vcpu);
}

/* INIT and SIPI, in that order (both may be pending). */
static void vmm_accept_init_sipi(struct vmm_vcpu *vcpu)
{
	struct vmm_lapic *l = vcpu->lapic;

	if (test_and_clear_bit(VMM_APIC_INIT, &l->pending)) {
		vmm_vcpu_reset_init(vcpu);
		vmm_lapic_reset(vcpu, true);
		vcpu->nmi_pending = 0;
		atomic_set(&vcpu->nmi_queued, 0);
		vcpu->mp_state = vmm_is_bsp(vcpu) ? KVM_MP_STATE_RUNNABLE :
				 KVM_MP_STATE_INIT_RECEIVED;
	}
	if (test_and_clear_bit(VMM_APIC_SIPI, &l->pending) &&
	    vcpu->mp_state == KVM_MP_STATE_INIT_RECEIVED) {
		/* The vector was written before the flag. */
		smp_rmb();
		vcpu->rip = 0;
		vcpu->vm->ops->sipi(vcpu, READ_ONCE(l->sipi_vector));
		vcpu->mp_state = KVM_MP_STATE_RUNNABLE;
	}
}

/*
 * Before an entry, without the VM's SRCU (we may sleep): take INIT/SIPI,
 * and sleep while halted or waiting for a SIPI.  0 to enter the guest,
 * -EINTR for a signal (the caller returns KVM_EXIT_INTR).
 */
int vmm_vcpu_prepare(struct vmm_vcpu *vcpu)
{
	int ret;

	if (!vcpu->lapic)
		return 0;
	for (;;) {
		vmm_accept_init_sipi(vcpu);
		if (vcpu->mp_state == KVM_MP_STATE_RUNNABLE)
			return 0;
		if (vmm_vcpu_runnable(vcpu)) {
			if (vcpu->mp_state == KVM_MP_STATE_HALTED)
				vcpu->mp_state = KVM_MP_STATE_RUNNABLE;
			continue;
		}
		vmm_stat_inc(VMM_STAT_HALT_SLEEPS);
		ret = rcuwait_wait_event(&vcpu->wait, vmm_vcpu_runnable(vcpu),
					 TASK_INTERRUPTIBLE);
		if (ret)
			return -EINTR;
	}
}
EXPORT_SYMBOL_GPL(vmm_vcpu_prepare);

/*
 * HLT with the irqchip in the kernel (RIP already past it): sleep in the
 * kernel until an interrupt can wake the vCPU, as KVM does.  Without it,
 * userspace hears of it (KVM_EXIT_HLT).
 */
int vmm_vcpu_halt(struct vmm_vcpu *vcpu)
{
	if (!vcpu->lapic) {
		vcpu->run->exit_reason = KVM_EXIT_HLT;
		return VMM_EXIT_USER;
	}
	vcpu->mp_state = KVM_MP_STATE_HALTED;
	return VMM_EXIT_CONTINUE;
}
EXPORT_SYMBOL_GPL(vmm_vcpu_halt);

/*
 * Right before the entry, interrupts off, in guest mode: inject the next
 * event if the guest can take it, else ask for an exit when it can.
 */
void vmm_inject_events(struct vmm_vcpu *vcpu)
{
	const struct vmm_arch_ops *ops = vcpu->vm->ops;
	struct vmm_irqchip *chip = vcpu->vm->irqchip;
	bool irq_window = false, nmi_window = false;
	int vec;

	vmm_take_nmis(vcpu);
	if (vcpu->nmi_pending) {
		if (ops->nmi_allowed(vcpu)) {
			ops->inject_nmi(vcpu);
			vcpu->nmi_pending--;
			vmm_stat_inc(VMM_STAT_NMI_INJECTED);
		}
		nmi_window = vcpu->nmi_pending;
	}
	if (vcpu->lapic && vmm_irq_waiting(vcpu)) {
		if (ops->interruptible(vcpu)) {
			vec = -1;
			if (vmm_lapic_accepts_pic(vcpu) &&
			    vmm_pic_has_output(&chip->pic))
				vec = vmm_pic_ack(&chip->pic);
			if (vec < 0)
				vec = vmm_lapic_ack(vcpu);
			if (vec >= 0) {
				ops->inject_irq(vcpu, vec);
				vmm_stat_inc(VMM_STAT_IRQ_INJECTED);
			}
		}
		irq_window = vmm_irq_waiting(vcpu);
	}
	ops->set_windows(vcpu, irq_window, nmi_window);
}
EXPORT_SYMBOL_GPL(vmm_inject_events);

/* ---- state ioctls ---- */

int vmm_get_mp_state(struct vmm_vcpu *vcpu, struct kvm_mp_state *mp)
{
	if (vcpu->lapic)
		vmm_accept_init_sipi(vcpu);
	mp->mp_state = vcpu->mp_state;
	return 0;
}

int vmm_set_mp_state(struct vmm_vcpu *vcpu, const struct kvm_mp_state *mp)
{
	switch (mp->mp_state) {
	case KVM_MP_STATE_RUNNABLE:
		break;
	case KVM_MP_STATE_UNINITIALIZED:
	case KVM_MP_STATE_INIT_RECEIVED:
	case KVM_MP_STATE_HALTED:
		if (!vcpu->lapic)
			return -EINVAL;
		break;
	case KVM_MP_STATE_SIPI_RECEIVED:
		/* Old userspace: a SIPI still to take, as KVM reads it. */
		if (!vcpu->lapic)
			return -EINVAL;
		vcpu->mp_state = KVM_MP_STATE_INIT_RECEIVED;
		set_bit(VMM_APIC_SIPI, &vcpu->lapic->pending);
		return 0;
	default:
		return -EINVAL;
	}
	vcpu->mp_state = mp->mp_state;
	return 0;
}

int vmm_vcpu_nmi(struct vmm_vcpu *vcpu)
{
	atomic_inc(&vcpu->nmi_queued);
	vmm_vcpu_kick(vcpu);
	return 0;
}

#define VMM_EVENTS_FLAGS	(KVM_VCPUEVENT_VALID_NMI_PENDING | \
				 KVM_VCPUEVENT_VALID_SIPI_VECTOR | \
				 KVM_VCPUEVENT_VALID_SHADOW | \
				 KVM_VCPUEVENT_VALID_SMM)

int vmm_get_vcpu_events(struct vmm_vcpu *vcpu, struct kvm_vcpu_events *e)
{
	memset(e, 0, sizeof(*e));
	vcpu->vm->ops->get_events(vcpu, e);
	vmm_take_nmis(vcpu);
	e->nmi.pending = vcpu->nmi_pending;
	if (vcpu->lapic)
		e->sipi_vector = vcpu->lapic->sipi_vector;
	e->flags = KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SHADOW;
	return 0;
}

int vmm_set_vcpu_events(struct vmm_vcpu *vcpu,
			const struct kvm_vcpu_events *e)
{
	int ret;

	if (e->flags & ~VMM_EVENTS_FLAGS)
		return -EINVAL;
	/* No SMM here: only "not in SMM, nothing pending" can be set. */
	if ((e->flags & KVM_VCPUEVENT_VALID_SMM) &&
	    (e->smi.smm || e->smi.pending || e->smi.smm_inside_nmi ||
	     e->smi.latched_init))
		return -EINVAL;
	if (e->exception.injected && e->exception.pending)
		return -EINVAL;
	if ((e->exception.injected || e->exception.pending) &&
	    e->exception.nr >= 32)
		return -EINVAL;
	if (e->nmi.pending > 2)
		return -EINVAL;
	ret = vcpu->vm->ops->set_events(vcpu, e);
	if (ret)
		return ret;
	if (e->flags & KVM_VCPUEVENT_VALID_NMI_PENDING) {
		atomic_set(&vcpu->nmi_queued, 0);
		vcpu->nmi_pending = e->nmi.pending;
	}
	if ((e->flags & KVM_VCPUEVENT_VALID_SIPI_VECTOR) && vcpu->lapic)
		vcpu->lapic->sipi_vector = e->sipi_vector;
	return 0;
}
