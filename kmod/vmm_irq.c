// SPDX-License-Identifier: GPL-2.0
/*
 * The in-kernel irqchip as a whole (KVM_CREATE_IRQCHIP: both PICs and the
 * IOAPIC) and the way interrupts reach it: GSI routing (KVM's default
 * table, replaced by KVM_SET_GSI_ROUTING), line levels from several
 * sources OR'ed per pin (KVM_IRQ_LINE, the PIT, irqfd resamplers), MSIs
 * (KVM_SIGNAL_MSI and MSI routes), acknowledge notifiers, and
 * KVM_GET/SET_IRQCHIP.
 *
 * The routing table is replaced as a whole and read under RCU, so that a
 * line can be raised from any context (hrtimer, eventfd wake-up) without
 * sleeping.  Updates serialize on irqchip->lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bsearch.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/sort.h>

#include "vmm.h"
#include "vmm_irqchip.h"

/*
 * One source's level on a pin; returns the pin's level, the OR of all
 * sources (so a PIT pulse does not lower a line userspace holds high).
 */
bool vmm_irq_source_level(unsigned long *srcs, int src, bool level)
{
	if (level)
		__set_bit(src, srcs);
	else
		__clear_bit(src, srcs);
	return *srcs != 0;
}

/* Kick the vCPUs the PIC's output reaches (normally the BSP). */
void vmm_pic_kick(struct vmm_vm *vm)
{
	/* Pairs with the release in vmm_vcpu_create(): vcpus[] is set. */
	int n = smp_load_acquire(&vm->nr_vcpus), i;

	for (i = 0; i < n; i++)
		if (vmm_lapic_accepts_pic(vm->vcpus[i]))
			vmm_vcpu_kick(vm->vcpus[i]);
}

/* ---- routing ---- */

static int route_cmp(const void *a, const void *b)
{
	const struct vmm_irq_route *x = a, *y = b;

	return x->gsi < y->gsi ? -1 : x->gsi > y->gsi;
}

/* First route of @gsi in the sorted table, or NULL. */
static const struct vmm_irq_route *route_first(struct vmm_irq_routing *rt,
					       u32 gsi)
{
	u32 lo = 0, hi = rt->nr;

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;

		if (rt->route[mid].gsi < gsi)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < rt->nr && rt->route[lo].gsi == gsi ? &rt->route[lo] :
	       NULL;
}

static int route_check(const struct kvm_irq_routing_entry *e)
{
	if (e->gsi >= VMM_MAX_GSI || e->flags)
		return -EINVAL;
	switch (e->type) {
	case KVM_IRQ_ROUTING_IRQCHIP:
		if (e->u.irqchip.irqchip >= KVM_NR_IRQCHIPS)
			return -EINVAL;
		if (e->u.irqchip.pin >= (e->u.irqchip.irqchip ==
					 KVM_IRQCHIP_IOAPIC ?
					 VMM_IOAPIC_PINS : 8))
			return -EINVAL;
		return 0;
	case KVM_IRQ_ROUTING_MSI:
		return 0;
	default:
		return -EINVAL;
	}
}

/*
 * Replace the table.  Like KVM: a GSI goes either to one MSI or to at most
 * one pin of each irqchip.
 */
int vmm_set_gsi_routing(struct vmm_vm *vm,
			const struct kvm_irq_routing_entry *e, u32 nr)
{
	struct vmm_irqchip *chip = vm->irqchip;
	struct vmm_irq_routing *rt, *old;
	u32 i;
	int ret;

	if (!chip)
		return -ENXIO;
	if (nr > VMM_MAX_IRQ_ROUTES)
		return -EINVAL;
	rt = kvzalloc(struct_size(rt, route, nr), GFP_KERNEL_ACCOUNT);
	if (!rt)
		return -ENOMEM;
	rt->nr = nr;
	for (i = 0; i < nr; i++) {
		struct vmm_irq_route *r = &rt->route[i];

		ret = route_check(&e[i]);
		if (ret)
			goto err;
		r->gsi = e[i].gsi;
		r->type = e[i].type;
		if (r->type == KVM_IRQ_ROUTING_IRQCHIP) {
			r->irqchip.chip = e[i].u.irqchip.irqchip;
			r->irqchip.pin = e[i].u.irqchip.pin;
		} else {
			r->msi.addr = (u64)e[i].u.msi.address_hi << 32 |
				      e[i].u.msi.address_lo;
			r->msi.data = e[i].u.msi.data;
		}
	}
	sort(rt->route, nr, sizeof(rt->route[0]), route_cmp, NULL);
	ret = -EINVAL;
	for (i = 0; i < nr; ) {
		u32 j, chips = 0;

		for (j = i; j < nr && rt->route[j].gsi == rt->route[i].gsi;
		     j++) {
			struct vmm_irq_route *r = &rt->route[j];

			/* An MSI route is alone on its GSI. */
			if (r->type != KVM_IRQ_ROUTING_IRQCHIP) {
				if (j > i || (j + 1 < nr &&
					      rt->route[j + 1].gsi == r->gsi))
					goto err;
				continue;
			}
			if (chips & BIT(r->irqchip.chip))
				goto err;
			chips |= BIT(r->irqchip.chip);
		}
		i = j;
	}

	mutex_lock(&chip->lock);
	old = rcu_dereference_protected(chip->routing,
					lockdep_is_held(&chip->lock));
	rcu_assign_pointer(chip->routing, rt);
	mutex_unlock(&chip->lock);
	if (old)
		kvfree_rcu(old, rcu);
	return 0;
err:
	kvfree(rt);
	return ret;
}

/* KVM's default: GSI 0-15 to both PICs and IOAPIC pin n, 16-23 IOAPIC. */
static int vmm_default_routing(struct vmm_vm *vm)
{
	struct kvm_irq_routing_entry e[VMM_IOAPIC_PINS + 16] = {};
	u32 i, n = 0;

	for (i = 0; i < VMM_IOAPIC_PINS; i++) {
		e[n].gsi = i;
		e[n].type = KVM_IRQ_ROUTING_IRQCHIP;
		e[n].u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
		e[n++].u.irqchip.pin = i;
		if (i >= 16)
			continue;
		e[n].gsi = i;
		e[n].type = KVM_IRQ_ROUTING_IRQCHIP;
		e[n].u.irqchip.irqchip = i < 8 ? KVM_IRQCHIP_PIC_MASTER :
						 KVM_IRQCHIP_PIC_SLAVE;
		e[n++].u.irqchip.pin = i & 7;
	}
	return vmm_set_gsi_routing(vm, e, n);
}

/* ---- raising interrupts ---- */

/* An MSI: how many APICs took it (0: none, e.g. masked or no target). */
int vmm_irq_msi(struct vmm_vm *vm, u64 addr, u32 data)
{
	struct vmm_apic_irq irq;
	int ret;

	if (!vm->irqchip)
		return -ENXIO;
	vmm_msi_to_apic_irq(addr, data, &irq);
	ret = vmm_apic_deliver(vm, NULL, &irq);
	return ret < 0 ? 0 : ret;
}

static int route_fire(struct vmm_vm *vm, const struct vmm_irq_route *r,
		      int src, bool level)
{
	struct vmm_irqchip *chip = vm->irqchip;
	struct vmm_apic_irq irq;

	if (r->type == KVM_IRQ_ROUTING_MSI) {
		if (!level)
			return -1;
		vmm_msi_to_apic_irq(r->msi.addr, r->msi.data, &irq);
		return vmm_apic_deliver(vm, NULL, &irq);
	}
	switch (r->irqchip.chip) {
	case KVM_IRQCHIP_PIC_MASTER:
		return vmm_pic_set_irq(&chip->pic, r->irqchip.pin, src, level);
	case KVM_IRQCHIP_PIC_SLAVE:
		return vmm_pic_set_irq(&chip->pic, r->irqchip.pin + 8, src,
				       level);
	default:
		return vmm_ioapic_set_irq(&chip->ioapic, r->irqchip.pin, src,
					  level);
	}
}

/*
 * Set GSI @gsi to @level on behalf of @src, wherever it is routed.  As
 * KVM_IRQ_LINE_STATUS reports: < 0 nobody took it (masked, unrouted),
 * 0 coalesced, > 0 delivered.  Any context.
 */
int vmm_irq_line(struct vmm_vm *vm, int src, u32 gsi, bool level)
{
	struct vmm_irqchip *chip = READ_ONCE(vm->irqchip);
	const struct vmm_irq_route *r;
	struct vmm_irq_routing *rt;
	int ret = -1, one;

	if (!chip)
		return -1;
	rcu_read_lock();
	rt = rcu_dereference(chip->routing);
	r = rt ? route_first(rt, gsi) : NULL;
	for (; r && r < rt->route + rt->nr && r->gsi == gsi; r++) {
		one = route_fire(vm, r, src, level);
		if (one < 0)
			continue;
		ret = ret < 0 ? one : ret + one;
	}
	rcu_read_unlock();
	return ret;
}

/* ---- acknowledge notifiers (irqfd resample) ---- */

void vmm_irq_acked(struct vmm_vm *vm, u32 chipno, u32 pin)
{
	struct vmm_irqchip *chip = READ_ONCE(vm->irqchip);
	struct vmm_ack_notifier *an;
	struct vmm_irq_routing *rt;
	u32 i;

	if (!chip || hlist_empty(&chip->ack_notifiers))
		return;
	rcu_read_lock();
	rt = rcu_dereference(chip->routing);
	for (i = 0; rt && i < rt->nr; i++) {
		const struct vmm_irq_route *r = &rt->route[i];

		if (r->type != KVM_IRQ_ROUTING_IRQCHIP ||
		    r->irqchip.chip != chipno || r->irqchip.pin != pin)
			continue;
		hlist_for_each_entry_rcu(an, &chip->ack_notifiers, link)
			if (an->gsi == r->gsi)
				an->acked(an);
	}
	rcu_read_unlock();
}

void vmm_register_ack_notifier(struct vmm_vm *vm, struct vmm_ack_notifier *an)
{
	struct vmm_irqchip *chip = vm->irqchip;

	mutex_lock(&chip->lock);
	hlist_add_head_rcu(&an->link, &chip->ack_notifiers);
	mutex_unlock(&chip->lock);
}

/* After this returns, @an is not running and will not run again. */
void vmm_unregister_ack_notifier(struct vmm_vm *vm,
				 struct vmm_ack_notifier *an)
{
	struct vmm_irqchip *chip = vm->irqchip;

	mutex_lock(&chip->lock);
	hlist_del_init_rcu(&an->link);
	mutex_unlock(&chip->lock);
	synchronize_rcu();
}

/* ---- create, destroy, state ---- */

/* KVM_CREATE_IRQCHIP: PICs + IOAPIC, before any vCPU; vm->lock held. */
int vmm_irqchip_create(struct vmm_vm *vm)
{
	struct vmm_irqchip *chip;
	int ret;

	lockdep_assert_held(&vm->lock);
	if (vm->irqchip)
		return -EEXIST;
	if (vm->nr_vcpus)
		return -EINVAL;
	chip = kzalloc(sizeof(*chip), GFP_KERNEL_ACCOUNT);
	if (!chip)
		return -ENOMEM;
	mutex_init(&chip->lock);
	INIT_HLIST_HEAD(&chip->ack_notifiers);
	vmm_pic_init(&chip->pic, vm);
	vmm_ioapic_init(&chip->ioapic, vm);
	vm->irqchip = chip;	/* routing and bus need it; no reader yet */

	ret = vmm_default_routing(vm);
	if (!ret)
		ret = vmm_io_bus_register(vm, VMM_PIO_BUS, 0x20, 2,
					  &chip->pic.dev);
	if (!ret)
		ret = vmm_io_bus_register(vm, VMM_PIO_BUS, 0xa0, 2,
					  &chip->pic.dev);
	if (!ret)
		ret = vmm_io_bus_register(vm, VMM_PIO_BUS, 0x4d0, 2,
					  &chip->pic.dev);
	if (!ret)
		ret = vmm_io_bus_register(vm, VMM_MMIO_BUS, VMM_IOAPIC_BASE,
					  VMM_IOAPIC_SIZE, &chip->ioapic.dev);
	if (ret) {
		vmm_io_bus_unregister(vm, VMM_PIO_BUS, &chip->pic.dev);
		vmm_io_bus_unregister(vm, VMM_MMIO_BUS, &chip->ioapic.dev);
		kvfree(rcu_dereference_protected(chip->routing, 1));
		vm->irqchip = NULL;
		kfree(chip);
	}
	return ret;
}

/*
 * VM teardown, first half: nothing may raise an interrupt any more
 * (timers, delayed EOIs, irqfds) before the vCPUs go.
 */
void vmm_irqchip_quiesce(struct vmm_vm *vm)
{
	vmm_irqfd_release(vm);
	vmm_ioeventfd_release(vm);
	if (!vm->irqchip)
		return;
	vmm_pit_destroy(vm);
	vmm_ioapic_destroy(&vm->irqchip->ioapic);
}

/* Second half, after the vCPUs: the memory. */
void vmm_irqchip_destroy(struct vmm_vm *vm)
{
	struct vmm_irqchip *chip = vm->irqchip;

	if (!chip)
		return;
	kvfree(rcu_dereference_protected(chip->routing, 1));
	vm->irqchip = NULL;
	kfree(chip);
}

int vmm_get_irqchip(struct vmm_vm *vm, struct kvm_irqchip *c)
{
	struct vmm_irqchip *chip = vm->irqchip;

	if (!chip)
		return -ENXIO;
	switch (c->chip_id) {
	case KVM_IRQCHIP_PIC_MASTER:
	case KVM_IRQCHIP_PIC_SLAVE:
		vmm_pic_get_state(&chip->pic, c->chip_id, &c->chip.pic);
		return 0;
	case KVM_IRQCHIP_IOAPIC:
		vmm_ioapic_get_state(&chip->ioapic, &c->chip.ioapic);
		return 0;
	}
	return -EINVAL;
}

int vmm_set_irqchip(struct vmm_vm *vm, const struct kvm_irqchip *c)
{
	struct vmm_irqchip *chip = vm->irqchip;

	if (!chip)
		return -ENXIO;
	switch (c->chip_id) {
	case KVM_IRQCHIP_PIC_MASTER:
	case KVM_IRQCHIP_PIC_SLAVE:
		return vmm_pic_set_state(&chip->pic, c->chip_id, &c->chip.pic);
	case KVM_IRQCHIP_IOAPIC:
		return vmm_ioapic_set_state(&chip->ioapic, &c->chip.ioapic);
	}
	return -EINVAL;
}
