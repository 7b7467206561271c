// SPDX-License-Identifier: GPL-2.0
/*
 * irqfd and ioeventfd (KVM_IRQFD, KVM_IOEVENTFD): eventfds wired straight
 * to the irqchip and from guest writes, so that another thread or process
 * raises an interrupt, or hears a doorbell, without a trip through the
 * vCPU's userspace.
 *
 * irqfd: our wait-queue entry sits (first, exclusively, as KVM's) on the
 * eventfd; a write wakes it in the writer's context with the queue's lock
 * held and interrupts off, and since every interrupt path of the irqchip
 * is spinlock-only the interrupt is raised right there (MSI routes
 * included: no worker between the write and the target vCPU's kick).
 * Without RESAMPLE the GSI is pulsed; with it the line is held high until
 * the guest's EOI reaches the irqchip, then lowered and the resamplefd
 * signalled (one resampler per GSI, shared by its irqfds).  An irqfd goes
 * away on KVM_IRQFD_FLAG_DEASSIGN, when its eventfd is closed (EPOLLHUP)
 * or with the VM; the unhooking runs on a workqueue, because the wake-up
 * cannot sleep, and the VM waits for it before it goes.
 *
 * ioeventfd: a device on the in-kernel port or MMIO bus that signals its
 * eventfd on a matching write (address, length or any length, value or
 * any value) and completes the guest's instruction in the kernel.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "vmm.h"
#include "vmm_irqchip.h"

/* Per VM: no more irqfds than this (each is kernel memory). */
#define VMM_MAX_IRQFDS	4096

static struct workqueue_struct *vmm_irqfd_wq;

struct vmm_irqfd_resampler {
	struct vmm_vm *vm;
	struct list_head irqfds;	/* RCU; writers hold irqfd_mutex */
	struct list_head link;		/* vm->resamplers */
	struct vmm_ack_notifier notifier;
};

struct vmm_irqfd {
	struct vmm_vm *vm;
	struct eventfd_ctx *eventfd;
	u32 gsi;
	wait_queue_entry_t wait;
	poll_table pt;
	struct list_head list;		/* vm->irqfds, under irqfd_lock */
	struct work_struct shutdown;
	struct vmm_irqfd_resampler *resampler;
	struct eventfd_ctx *resamplefd;
	struct list_head resampler_link;
};

static void irqfd_inject(struct vmm_irqfd *irqfd)
{
	struct vmm_vm *vm = irqfd->vm;

	if (irqfd->resampler) {
		vmm_irq_line(vm, VMM_IRQ_SRC_RESAMPLE, irqfd->gsi, true);
	} else {
		vmm_irq_line(vm, VMM_IRQ_SRC_USER, irqfd->gsi, true);
		vmm_irq_line(vm, VMM_IRQ_SRC_USER, irqfd->gsi, false);
	}
}

/* The guest acknowledged the GSI: lower it, tell every resamplefd. */
static void resampler_acked(struct vmm_ack_notifier *an)
{
	struct vmm_irqfd_resampler *r =
		container_of(an, struct vmm_irqfd_resampler, notifier);
	struct vmm_irqfd *irqfd;

	vmm_irq_line(r->vm, VMM_IRQ_SRC_RESAMPLE, an->gsi, false);
	rcu_read_lock();
	list_for_each_entry_rcu(irqfd, &r->irqfds, resampler_link)
		eventfd_signal(irqfd->resamplefd, 1);
	rcu_read_unlock();
}

/* Workqueue: unhook from the eventfd (waits for a running wake-up), free. */
static void irqfd_shutdown(struct work_struct *work)
{
	struct vmm_irqfd *irqfd = container_of(work, struct vmm_irqfd,
					       shutdown);
	struct vmm_irqfd_resampler *r = irqfd->resampler;
	struct vmm_vm *vm = irqfd->vm;
	u64 cnt;

	eventfd_ctx_remove_wait_queue(irqfd->eventfd, &irqfd->wait, &cnt);
	if (r) {
		mutex_lock(&vm->irqfd_mutex);
		list_del_rcu(&irqfd->resampler_link);
		synchronize_rcu();
		if (list_empty(&r->irqfds)) {
			list_del(&r->link);
			vmm_unregister_ack_notifier(vm, &r->notifier);
			vmm_irq_line(vm, VMM_IRQ_SRC_RESAMPLE, r->notifier.gsi,
				     false);
			kfree(r);
		}
		mutex_unlock(&vm->irqfd_mutex);
		eventfd_ctx_put(irqfd->resamplefd);
	}
	eventfd_ctx_put(irqfd->eventfd);
	kfree(irqfd);
	atomic_dec(&vm->nr_irqfds);
}

/* Take it off the VM's list and have it freed; irqfd_lock held. */
static void irqfd_deactivate(struct vmm_irqfd *irqfd)
{
	list_del_init(&irqfd->list);
	queue_work(vmm_irqfd_wq, &irqfd->shutdown);
}

/* Called by the eventfd with its wait-queue lock held, IRQs off. */
static int irqfd_wakeup(wait_queue_entry_t *wait, unsigned int mode,
			int sync, void *key)
{
	struct vmm_irqfd *irqfd = container_of(wait, struct vmm_irqfd, wait);
	__poll_t flags = key_to_poll(key);
	struct vmm_vm *vm = irqfd->vm;
	unsigned long lflags;
	int ret = 0;
	u64 cnt;

	if (flags & EPOLLIN) {
		eventfd_ctx_do_read(irqfd->eventfd, &cnt);
		irqfd_inject(irqfd);
		ret = 1;
	}
	if (flags & EPOLLHUP) {
		/* The eventfd is going away: so does the irqfd. */
		spin_lock_irqsave(&vm->irqfd_lock, lflags);
		if (!list_empty(&irqfd->list))
			irqfd_deactivate(irqfd);
		spin_unlock_irqrestore(&vm->irqfd_lock, lflags);
	}
	return ret;
}

static void irqfd_queue(struct file *file, wait_queue_head_t *wqh,
			poll_table *pt)
{
	struct vmm_irqfd *irqfd = container_of(pt, struct vmm_irqfd, pt);

	add_wait_queue_priority(wqh, &irqfd->wait);
}

/* Join (or start) the resampler of irqfd->gsi; irqfd_mutex held. */
static int irqfd_resampler_join(struct vmm_vm *vm, struct vmm_irqfd *irqfd)
{
	struct vmm_irqfd_resampler *r;

	list_for_each_entry(r, &vm->resamplers, link)
		if (r->notifier.gsi == irqfd->gsi)
			goto found;
	r = kzalloc(sizeof(*r), GFP_KERNEL_ACCOUNT);
	if (!r)
		return -ENOMEM;
	r->vm = vm;
	INIT_LIST_HEAD(&r->irqfds);
	r->notifier.gsi = irqfd->gsi;
	r->notifier.acked = resampler_acked;
	list_add(&r->link, &vm->resamplers);
	vmm_register_ack_notifier(vm, &r->notifier);
found:
	irqfd->resampler = r;
	list_add_rcu(&irqfd->resampler_link, &r->irqfds);
	return 0;
}

static bool irqfd_taken(struct vmm_vm *vm, struct eventfd_ctx *ctx)
{
	struct vmm_irqfd *tmp;
	unsigned long flags;
	bool taken = false;

	spin_lock_irqsave(&vm->irqfd_lock, flags);
	list_for_each_entry(tmp, &vm->irqfds, list)
		taken |= tmp->eventfd == ctx;
	spin_unlock_irqrestore(&vm->irqfd_lock, flags);
	return taken;
}

static int irqfd_assign(struct vmm_vm *vm, const struct kvm_irqfd *args)
{
	struct vmm_irqfd *irqfd;
	struct eventfd_ctx *ctx;
	unsigned long flags;
	__poll_t events;
	struct fd f;
	int ret;

	if (atomic_inc_return(&vm->nr_irqfds) > VMM_MAX_IRQFDS) {
		atomic_dec(&vm->nr_irqfds);
		return -ENOSPC;
	}
	ret = -ENOMEM;
	irqfd = kzalloc(sizeof(*irqfd), GFP_KERNEL_ACCOUNT);
	if (!irqfd)
		goto err_count;
	irqfd->vm = vm;
	irqfd->gsi = args->gsi;
	INIT_LIST_HEAD(&irqfd->list);
	INIT_WORK(&irqfd->shutdown, irqfd_shutdown);
	init_waitqueue_func_entry(&irqfd->wait, irqfd_wakeup);
	init_poll_funcptr(&irqfd->pt, irqfd_queue);

	ret = -EBADF;
	f = fdget(args->fd);
	if (!f.file)
		goto err_free;
	ctx = eventfd_ctx_fileget(f.file);
	if (IS_ERR(ctx)) {
		ret = PTR_ERR(ctx);
		goto err_fd;
	}
	irqfd->eventfd = ctx;
	if (args->flags & KVM_IRQFD_FLAG_RESAMPLE) {
		ctx = eventfd_ctx_fdget(args->resamplefd);
		if (IS_ERR(ctx)) {
			ret = PTR_ERR(ctx);
			goto err_ctx;
		}
		irqfd->resamplefd = ctx;
	}

	/* Assignments serialize here: the duplicate check holds. */
	mutex_lock(&vm->irqfd_mutex);
	ret = -EBUSY;
	if (irqfd_taken(vm, irqfd->eventfd))
		goto err_unlock;
	if (irqfd->resamplefd) {
		ret = irqfd_resampler_join(vm, irqfd);
		if (ret)
			goto err_unlock;
	}
	spin_lock_irqsave(&vm->irqfd_lock, flags);
	list_add_tail(&irqfd->list, &vm->irqfds);
	spin_unlock_irqrestore(&vm->irqfd_lock, flags);
	/*
	 * Hook on (under the mutex: a deassign cannot unhook an entry that
	 * is not hooked yet); a count already in the eventfd raises the
	 * interrupt now.
	 */
	events = vfs_poll(f.file, &irqfd->pt);
	mutex_unlock(&vm->irqfd_mutex);
	if (events & EPOLLIN)
		irqfd_inject(irqfd);
	fdput(f);
	return 0;

err_unlock:
	mutex_unlock(&vm->irqfd_mutex);
	if (irqfd->resamplefd)
		eventfd_ctx_put(irqfd->resamplefd);
err_ctx:
	eventfd_ctx_put(irqfd->eventfd);
err_fd:
	fdput(f);
err_free:
	kfree(irqfd);
err_count:
	atomic_dec(&vm->nr_irqfds);
	return ret;
}

static int irqfd_deassign(struct vmm_vm *vm, const struct kvm_irqfd *args)
{
	struct vmm_irqfd *irqfd, *tmp;
	struct eventfd_ctx *ctx;
	unsigned long flags;

	ctx = eventfd_ctx_fdget(args->fd);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	mutex_lock(&vm->irqfd_mutex);
	spin_lock_irqsave(&vm->irqfd_lock, flags);
	list_for_each_entry_safe(irqfd, tmp, &vm->irqfds, list)
		if (irqfd->eventfd == ctx && irqfd->gsi == args->gsi)
			irqfd_deactivate(irqfd);
	spin_unlock_irqrestore(&vm->irqfd_lock, flags);
	mutex_unlock(&vm->irqfd_mutex);
	eventfd_ctx_put(ctx);
	/* Gone when we return: no interrupt from it after this. */
	flush_workqueue(vmm_irqfd_wq);
	return 0;
}

int vmm_irqfd(struct vmm_vm *vm, const struct kvm_irqfd *args)
{
	if (args->flags & ~(KVM_IRQFD_FLAG_DEASSIGN | KVM_IRQFD_FLAG_RESAMPLE))
		return -EINVAL;
	if (args->flags & KVM_IRQFD_FLAG_DEASSIGN)
		return irqfd_deassign(vm, args);
	if (!vm->irqchip || args->gsi >= VMM_MAX_GSI)
		return -EINVAL;
	return irqfd_assign(vm, args);
}

/* VM teardown: every irqfd unhooked and freed before this returns. */
void vmm_irqfd_release(struct vmm_vm *vm)
{
	struct vmm_irqfd *irqfd, *tmp;
	unsigned long flags;

	mutex_lock(&vm->irqfd_mutex);
	spin_lock_irqsave(&vm->irqfd_lock, flags);
	list_for_each_entry_safe(irqfd, tmp, &vm->irqfds, list)
		irqfd_deactivate(irqfd);
	spin_unlock_irqrestore(&vm->irqfd_lock, flags);
	mutex_unlock(&vm->irqfd_mutex);
	flush_workqueue(vmm_irqfd_wq);
}

/* ---- ioeventfd ---- */

struct vmm_ioeventfd {
	struct list_head list;		/* vm->ioeventfds, under vm->lock */
	struct vmm_io_device dev;
	struct eventfd_ctx *eventfd;
	enum vmm_bus bus;
	u64 addr;
	u32 len;			/* 0: any length */
	bool wildcard;			/* any value */
	u64 datamatch;
};

static int ioeventfd_write(struct vmm_io_device *dev, struct vmm_vcpu *vcpu,
			   u64 addr, unsigned int len, const void *val)
{
	struct vmm_ioeventfd *p = container_of(dev, struct vmm_ioeventfd, dev);
	u64 v = 0;

	if (addr != p->addr || (p->len && len != p->len))
		return -EOPNOTSUPP;
	if (!p->wildcard) {
		memcpy(&v, val, min_t(unsigned int, len, sizeof(v)));
		if (v != p->datamatch)
			return -EOPNOTSUPP;
	}
	eventfd_signal(p->eventfd, 1);
	return 0;
}

static int ioeventfd_read(struct vmm_io_device *dev, struct vmm_vcpu *vcpu,
			  u64 addr, unsigned int len, void *val)
{
	return -EOPNOTSUPP;
}

static const struct vmm_io_ops vmm_ioeventfd_ops = {
	.read = ioeventfd_read,
	.write = ioeventfd_write,
};

static bool ioeventfd_same(const struct vmm_ioeventfd *a,
			   const struct vmm_ioeventfd *b)
{
	return a->bus == b->bus && a->addr == b->addr &&
	       (!a->len || !b->len ||
		(a->len == b->len && (a->wildcard || b->wildcard ||
				      a->datamatch == b->datamatch)));
}

static void ioeventfd_free(struct vmm_ioeventfd *p)
{
	eventfd_ctx_put(p->eventfd);
	kfree(p);
}

int vmm_ioeventfd(struct vmm_vm *vm, const struct kvm_ioeventfd *args)
{
	struct vmm_ioeventfd want = {
		.bus = args->flags & KVM_IOEVENTFD_FLAG_PIO ? VMM_PIO_BUS :
							      VMM_MMIO_BUS,
		.addr = args->addr,
		.len = args->len,
		.wildcard = !(args->flags & KVM_IOEVENTFD_FLAG_DATAMATCH),
		.datamatch = args->datamatch,
	};
	struct vmm_ioeventfd *p, *tmp;
	struct eventfd_ctx *ctx;
	int ret;

	if (args->flags & ~(KVM_IOEVENTFD_FLAG_DATAMATCH |
			    KVM_IOEVENTFD_FLAG_PIO |
			    KVM_IOEVENTFD_FLAG_DEASSIGN))
		return -EINVAL;
	if (args->len != 0 && args->len != 1 && args->len != 2 &&
	    args->len != 4 && args->len != 8)
		return -EINVAL;
	if (!args->len && !want.wildcard)
		return -EINVAL;		/* a value needs a length */
	if (args->addr + args->len < args->addr ||
	    (want.bus == VMM_PIO_BUS && args->addr + args->len > 0x10000))
		return -EINVAL;
	if (!want.wildcard && args->len < 8 &&
	    args->datamatch >> (8 * args->len))
		return -EINVAL;

	ctx = eventfd_ctx_fdget(args->fd);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	want.eventfd = ctx;

	mutex_lock(&vm->lock);
	if (args->flags & KVM_IOEVENTFD_FLAG_DEASSIGN) {
		ret = -ENOENT;
		list_for_each_entry_safe(p, tmp, &vm->ioeventfds, list) {
			if (p->eventfd != ctx || p->bus != want.bus ||
			    p->addr != want.addr || p->len != want.len ||
			    p->wildcard != want.wildcard ||
			    (!p->wildcard && p->datamatch != want.datamatch))
				continue;
			list_del(&p->list);
			vmm_io_bus_unregister(vm, p->bus, &p->dev);
			ioeventfd_free(p);
			ret = 0;
			break;
		}
		goto out;
	}
	ret = -EEXIST;
	list_for_each_entry(p, &vm->ioeventfds, list)
		if (ioeventfd_same(p, &want))
			goto out;
	ret = -ENOMEM;
	p = kmemdup(&want, sizeof(want), GFP_KERNEL_ACCOUNT);
	if (!p)
		goto out;
	p->dev.ops = &vmm_ioeventfd_ops;
	ret = vmm_io_bus_register(vm, p->bus, p->addr, p->len ? p->len : 1,
				  &p->dev);
	if (ret) {
		kfree(p);
		goto out;
	}
	list_add_tail(&p->list, &vm->ioeventfds);
	ctx = NULL;		/* the ioeventfd keeps the reference */
out:
	mutex_unlock(&vm->lock);
	if (ctx)
		eventfd_ctx_put(ctx);
	return ret;
}

/* VM teardown: the buses go with the VM; only the eventfds are ours. */
void vmm_ioeventfd_release(struct vmm_vm *vm)
{
	struct vmm_ioeventfd *p, *tmp;

	list_for_each_entry_safe(p, tmp, &vm->ioeventfds, list) {
		list_del(&p->list);
		ioeventfd_free(p);
	}
}

int vmm_eventfd_init(void)
{
	vmm_irqfd_wq = alloc_workqueue("vmm-irqfd", 0, 0);
	return vmm_irqfd_wq ? 0 : -ENOMEM;
}

void vmm_eventfd_exit(void)
{
	destroy_workqueue(vmm_irqfd_wq);
}
