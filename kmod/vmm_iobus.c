// SPDX-License-Identifier: GPL-2.0
/*
 * The in-kernel port and MMIO buses: the PICs, the PIT and the IOAPIC
 * register here, and so does every ioeventfd.  A guest access that an
 * in-kernel device claims never leaves the kernel; anything else goes to
 * userspace as before.  Each bus is an array of ranges sorted by address,
 * copied on update (writers hold vm->lock) and read under the VM's SRCU,
 * which vCPUs hold around exit handling.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/slab.h>

#include "vmm.h"
#include "vmm_irqchip.h"

/* No range is longer: lookups start this far below the address. */
#define VMM_IO_MAX_LEN	0x1000

static struct vmm_io_bus *bus_locked(struct vmm_vm *vm, enum vmm_bus bus)
{
	return rcu_dereference_protected(vm->buses[bus],
					 lockdep_is_held(&vm->lock));
}

static void bus_publish(struct vmm_vm *vm, enum vmm_bus bus,
			struct vmm_io_bus *new)
{
	struct vmm_io_bus *old = bus_locked(vm, bus);

	rcu_assign_pointer(vm->buses[bus], new);
	synchronize_srcu_expedited(&vm->srcu);
	kfree(old);
}

int vmm_io_bus_register(struct vmm_vm *vm, enum vmm_bus bus, u64 addr,
			u32 len, struct vmm_io_device *dev)
{
	struct vmm_io_bus *old, *new;
	int i, n;

	lockdep_assert_held(&vm->lock);
	if (!len || len > VMM_IO_MAX_LEN || addr + len < addr)
		return -EINVAL;
	old = bus_locked(vm, bus);
	n = old ? old->nr : 0;
	if (n >= VMM_MAX_BUS_DEVS)
		return -ENOSPC;
	new = kmalloc(struct_size(new, range, n + 1), GFP_KERNEL_ACCOUNT);
	if (!new)
		return -ENOMEM;
	for (i = 0; i < n && old->range[i].addr <= addr; i++)
		new->range[i] = old->range[i];
	new->range[i].addr = addr;
	new->range[i].len = len;
	new->range[i].dev = dev;
	for (; i < n; i++)
		new->range[i + 1] = old->range[i];
	new->nr = n + 1;
	bus_publish(vm, bus, new);
	return 0;
}

/* Remove every range of @dev (no-op when it has none). */
void vmm_io_bus_unregister(struct vmm_vm *vm, enum vmm_bus bus,
			   struct vmm_io_device *dev)
{
	struct vmm_io_bus *old, *new;
	int i, j = 0;

	lockdep_assert_held(&vm->lock);
	old = bus_locked(vm, bus);
	if (!old)
		return;
	/* Shrinking cannot be allowed to fail: reuse the size. */
	new = kmalloc(struct_size(new, range, old->nr),
		      GFP_KERNEL_ACCOUNT | __GFP_NOFAIL);
	for (i = 0; i < old->nr; i++)
		if (old->range[i].dev != dev)
			new->range[j++] = old->range[i];
	new->nr = j;
	if (j == old->nr) {
		kfree(new);
		return;
	}
	bus_publish(vm, bus, new);
}

/* Index of the first range that may contain @addr. */
static int bus_start(struct vmm_io_bus *b, u64 addr)
{
	u64 from = addr > VMM_IO_MAX_LEN ? addr - VMM_IO_MAX_LEN : 0;
	int lo = 0, hi = b->nr;

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;

		if (b->range[mid].addr < from)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int bus_access(struct vmm_vcpu *vcpu, enum vmm_bus bus, u64 addr,
		      unsigned int len, void *val, bool write)
{
	struct vmm_vm *vm = vcpu->vm;
	struct vmm_io_bus *b;
	int i;

	b = srcu_dereference(vm->buses[bus], &vm->srcu);
	if (!b)
		return -EOPNOTSUPP;
	for (i = bus_start(b, addr); i < b->nr && b->range[i].addr <= addr;
	     i++) {
		struct vmm_io_range *r = &b->range[i];
		int ret;

		if (addr - r->addr >= r->len)
			continue;
		ret = write ? r->dev->ops->write(r->dev, vcpu, addr, len, val) :
			      r->dev->ops->read(r->dev, vcpu, addr, len, val);
		if (ret != -EOPNOTSUPP)
			return ret;
	}
	return -EOPNOTSUPP;
}

/* 0 when an in-kernel device took the access; caller holds vm->srcu. */
int vmm_io_bus_read(struct vmm_vcpu *vcpu, enum vmm_bus bus, u64 addr,
		    unsigned int len, void *val)
{
	return bus_access(vcpu, bus, addr, len, val, false);
}
EXPORT_SYMBOL_GPL(vmm_io_bus_read);

int vmm_io_bus_write(struct vmm_vcpu *vcpu, enum vmm_bus bus, u64 addr,
		     unsigned int len, const void *val)
{
	return bus_access(vcpu, bus, addr, len, (void *)val, true);
}
EXPORT_SYMBOL_GPL(vmm_io_bus_write);

/* VM teardown: nobody reads the buses any more. */
void vmm_io_bus_free_all(struct vmm_vm *vm)
{
	int i;

	for (i = 0; i < VMM_NR_BUSES; i++) {
		kfree(rcu_dereference_protected(vm->buses[i], 1));
		RCU_INIT_POINTER(vm->buses[i], NULL);
	}
}
