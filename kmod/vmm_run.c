// SPDX-License-Identifier: GPL-2.0
/*
 * KVM_RUN: the loop around the backend's single guest entries.  Complete
 * the userspace I/O of the last exit, honour immediate_exit and signals,
 * let the backend enter the guest and handle the exit until an exit needs
 * userspace, then fill the kvm_run fields every exit carries.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <asm/processor-flags.h>

#include "vmm.h"
#include "vmm_irqchip.h"

static void post_run(struct vmm_vcpu *vcpu)
{
	const struct vmm_arch_ops *ops = vcpu->vm->ops;
	struct kvm_run *run = vcpu->run;

	run->if_flag = !!(vcpu->rflags & X86_EFLAGS_IF);
	run->cr8 = ops->get_cr8(vcpu);
	run->apic_base = vcpu->apic_base;
	if (vcpu->lapic) {
		run->cr8 = vmm_lapic_get_tpr(vcpu) >> 4;
		run->apic_base = vcpu->lapic->base;
	}
	run->ready_for_interrupt_injection = vcpu->pending_irq < 0 &&
					     ops->interruptible(vcpu);
	run->flags = 0;
}

int vmm_vcpu_run(struct vmm_vcpu *vcpu)
{
	const struct vmm_arch_ops *ops = vcpu->vm->ops;
	struct vmm_vm *vm = vcpu->vm;
	struct kvm_run *run = vcpu->run;
	int ret = 0, idx;

	/* INS completion writes guest memory: slots must stay put. */
	idx = srcu_read_lock(&vm->srcu);
	ret = vmm_complete_pending(vcpu);
	srcu_read_unlock(&vm->srcu, idx);
	/* A read-modify-write's write goes to userspace before any entry. */
	if (ret == VMM_EXIT_USER) {
		ret = 0;
		goto out;
	}
	ret = 0;
	if (READ_ONCE(run->immediate_exit)) {
		run->exit_reason = KVM_EXIT_INTR;
		ret = -EINTR;
		goto out;
	}

	for (;;) {
		if (signal_pending(current)) {
			run->exit_reason = KVM_EXIT_INTR;
			ret = -EINTR;
			break;
		}
		cond_resched();
		/* INIT, SIPI, sleeping while halted: outside the SRCU. */
		if (vmm_vcpu_prepare(vcpu)) {
			run->exit_reason = KVM_EXIT_INTR;
			ret = -EINTR;
			break;
		}

		idx = srcu_read_lock(&vm->srcu);
		ret = ops->run_once(vcpu);
		srcu_read_unlock(&vm->srcu, idx);
		if (ret < 0)
			break;
		if (ret == VMM_EXIT_USER) {
			ret = 0;
			break;
		}
		/* Userspace asked to hear when it may inject. */
		if (run->request_interrupt_window && vcpu->pending_irq < 0 &&
		    ops->interruptible(vcpu)) {
			run->exit_reason = KVM_EXIT_IRQ_WINDOW_OPEN;
			ret = 0;
			break;
		}
	}
out:
	post_run(vcpu);
	return ret;
}
