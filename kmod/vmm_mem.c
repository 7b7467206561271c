// SPDX-License-Identifier: GPL-2.0
/*
 * Guest memory slots (KVM_SET_USER_MEMORY_REGION).
 *
 * Guest memory is pinned when a slot is created and unpinned when it is
 * deleted.  Pinning keeps the backend simple and the fault path short: a
 * nested page fault on RAM only looks the page up, it never sleeps in
 * get_user_pages, and no MMU notifier has to invalidate nested page tables
 * behind a running vCPU.  The price is that guest RAM cannot be swapped,
 * migrated or ballooned; it is charged to RLIMIT_MEMLOCK (unless the caller
 * has CAP_IPC_LOCK), capped per VM by VMM_MAX_VM_PAGES and, over all VMs,
 * at half of the host's RAM.
 *
 * The slot array is copied on update and published under SRCU; a deletion
 * waits for every reader (including vCPUs in guest mode, which hold the
 * SRCU read lock across VMRUN) before the pages are released.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "vmm.h"

static struct vmm_slots *vmm_slots_locked(struct vmm_vm *vm)
{
	return rcu_dereference_protected(vm->slots,
					 lockdep_is_held(&vm->lock));
}

struct vmm_slot *vmm_find_slot(struct vmm_vm *vm, u64 gpa)
{
	struct vmm_slots *slots = srcu_dereference_check(vm->slots, &vm->srcu,
						lockdep_is_held(&vm->lock));
	int i;

	for (i = 0; i < slots->nr; i++) {
		struct vmm_slot *s = &slots->slot[i];

		if (gpa >= s->gpa && gpa - s->gpa < (s->npages << PAGE_SHIFT))
			return s;
	}
	return NULL;
}
EXPORT_SYMBOL_GPL(vmm_find_slot);

struct page *vmm_gpa_to_page(struct vmm_vm *vm, u64 gpa, bool write,
			     bool *readonly)
{
	struct vmm_slot *s = vmm_find_slot(vm, gpa);

	if (!s)
		return NULL;
	if (readonly)
		*readonly = s->flags & KVM_MEM_READONLY;
	if (write && (s->flags & KVM_MEM_READONLY))
		return NULL;
	return s->pages[(gpa - s->gpa) >> PAGE_SHIFT];
}
EXPORT_SYMBOL_GPL(vmm_gpa_to_page);

int vmm_read_guest(struct vmm_vm *vm, u64 gpa, void *buf, unsigned int len)
{
	u8 *dst = buf;

	while (len) {
		unsigned int off = offset_in_page(gpa);
		unsigned int n = min_t(unsigned int, len, PAGE_SIZE - off);
		struct page *page = vmm_gpa_to_page(vm, gpa, false, NULL);
		void *src;

		if (!page)
			return -EFAULT;
		src = kmap_local_page(page);
		memcpy(dst, src + off, n);
		kunmap_local(src);
		dst += n;
		gpa += n;
		len -= n;
	}
	return 0;
}
EXPORT_SYMBOL_GPL(vmm_read_guest);

int vmm_write_guest(struct vmm_vm *vm, u64 gpa, const void *buf,
		    unsigned int len)
{
	const u8 *src = buf;

	while (len) {
		unsigned int off = offset_in_page(gpa);
		unsigned int n = min_t(unsigned int, len, PAGE_SIZE - off);
		struct page *page = vmm_gpa_to_page(vm, gpa, true, NULL);
		void *dst;

		if (!page)
			return -EFAULT;
		dst = kmap_local_page(page);
		memcpy(dst + off, src, n);
		kunmap_local(dst);
		src += n;
		gpa += n;
		len -= n;
	}
	return 0;
}
EXPORT_SYMBOL_GPL(vmm_write_guest);

/* All pinned guest memory, all VMs: never more than half of RAM. */
static atomic64_t vmm_pinned_total = ATOMIC64_INIT(0);

static void vmm_slot_unpin(struct vmm_vm *vm, struct vmm_slot *s)
{
	/* The guest wrote through nested paging: the pages are dirty. */
	unpin_user_pages_dirty_lock(s->pages, s->npages,
				    !(s->flags & KVM_MEM_READONLY));
	account_locked_vm(vm->mm, s->npages, false);
	vm->pinned_pages -= s->npages;
	atomic64_sub(s->npages, &vmm_pinned_total);
	kvfree(s->pages);
	s->pages = NULL;
	atomic64_dec(&vmm_live_objects);
}

static int vmm_slot_pin(struct vmm_vm *vm, struct vmm_slot *s)
{
	unsigned int flags = FOLL_LONGTERM | FOLL_WRITE;
	u64 done = 0;
	int ret;

	if (atomic64_add_return(s->npages, &vmm_pinned_total) >
	    totalram_pages() / 2) {
		atomic64_sub(s->npages, &vmm_pinned_total);
		return -ENOMEM;
	}
	ret = -ENOMEM;
	s->pages = kvcalloc(s->npages, sizeof(*s->pages), GFP_KERNEL_ACCOUNT);
	if (!s->pages)
		goto err_total;
	ret = account_locked_vm(vm->mm, s->npages, true);
	if (ret)
		goto err_free;

	while (done < s->npages) {
		int chunk = min_t(u64, s->npages - done, 512);

		ret = pin_user_pages_fast(s->uaddr + (done << PAGE_SHIFT),
					  chunk, flags, s->pages + done);
		/* A read-only slot may be backed by a read-only mapping. */
		if (ret == -EFAULT && !done && (flags & FOLL_WRITE) &&
		    (s->flags & KVM_MEM_READONLY)) {
			flags &= ~FOLL_WRITE;
			continue;
		}
		if (ret <= 0) {
			ret = ret ? ret : -EFAULT;
			goto err_unpin;
		}
		done += ret;
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			goto err_unpin;
		}
		cond_resched();
	}
	vm->pinned_pages += s->npages;
	atomic64_inc(&vmm_live_objects);
	return 0;

err_unpin:
	unpin_user_pages(s->pages, done);
	account_locked_vm(vm->mm, s->npages, false);
err_free:
	kvfree(s->pages);
	s->pages = NULL;
err_total:
	atomic64_sub(s->npages, &vmm_pinned_total);
	return ret;
}

static bool vmm_region_valid(const struct kvm_userspace_memory_region *r)
{
	u64 end;

	if (r->flags & ~KVM_MEM_READONLY)
		return false;
	if ((r->slot >> 16) || (r->slot & 0xffff) >= VMM_MAX_SLOTS)
		return false;
	if (!PAGE_ALIGNED(r->guest_phys_addr) || !PAGE_ALIGNED(r->memory_size) ||
	    !PAGE_ALIGNED(r->userspace_addr))
		return false;
	if (!r->memory_size)
		return true;
	if (check_add_overflow(r->guest_phys_addr, r->memory_size, &end) ||
	    end > VMM_MAX_GPA)
		return false;
	if ((r->memory_size >> PAGE_SHIFT) > VMM_MAX_VM_PAGES)
		return false;
	if (check_add_overflow(r->userspace_addr, r->memory_size, &end) ||
	    !access_ok((void __user *)(unsigned long)r->userspace_addr,
		       r->memory_size))
		return false;
	return true;
}

static int vmm_slot_delete(struct vmm_vm *vm, struct vmm_slots *old, int idx)
{
	struct vmm_slots *new;
	struct vmm_slot victim = old->slot[idx];

	new = kmemdup(old, sizeof(*old), GFP_KERNEL_ACCOUNT);
	if (!new)
		return -ENOMEM;
	new->slot[idx] = new->slot[new->nr - 1];
	new->nr--;
	rcu_assign_pointer(vm->slots, new);
	/* Nobody can look the slot up any more, nor map it anew ... */
	synchronize_srcu_expedited(&vm->srcu);
	kfree(old);
	vm->ops->unmap_range(vm, victim.gpa, victim.npages << PAGE_SHIFT);
	/* ... and no vCPU still runs on a stale TLB entry for it. */
	atomic_inc(&vm->tlb_gen);
	vmm_kick_vm_cpus(vm);
	synchronize_srcu_expedited(&vm->srcu);
	vmm_slot_unpin(vm, &victim);
	return 0;
}

int vmm_mem_set_region(struct vmm_vm *vm,
		       const struct kvm_userspace_memory_region *r)
{
	struct vmm_slots *old, *new;
	struct vmm_slot s = { 0 };
	u64 end;
	int i, ret;

	if (!vmm_region_valid(r))
		return -EINVAL;

	mutex_lock(&vm->lock);
	old = vmm_slots_locked(vm);
	for (i = 0; i < old->nr; i++)
		if (old->slot[i].id == r->slot)
			break;

	if (i < old->nr) {
		struct vmm_slot *cur = &old->slot[i];

		if (!r->memory_size)
			ret = vmm_slot_delete(vm, old, i);
		else if (cur->gpa == r->guest_phys_addr &&
			 cur->npages << PAGE_SHIFT == r->memory_size &&
			 cur->uaddr == r->userspace_addr &&
			 cur->flags == r->flags)
			ret = 0;
		else
			ret = -EINVAL;	/* moving or resizing: delete first */
		goto out;
	}
	ret = -EINVAL;
	if (!r->memory_size)
		goto out;

	end = r->guest_phys_addr + r->memory_size;
	ret = -EEXIST;
	for (i = 0; i < old->nr; i++) {
		struct vmm_slot *o = &old->slot[i];

		if (r->guest_phys_addr < o->gpa + (o->npages << PAGE_SHIFT) &&
		    o->gpa < end)
			goto out;
	}
	ret = -ENOMEM;
	if (vm->pinned_pages + (r->memory_size >> PAGE_SHIFT) >
	    VMM_MAX_VM_PAGES)
		goto out;

	s.id = r->slot;
	s.flags = r->flags;
	s.gpa = r->guest_phys_addr;
	s.npages = r->memory_size >> PAGE_SHIFT;
	s.uaddr = r->userspace_addr;
	new = kmemdup(old, sizeof(*old), GFP_KERNEL_ACCOUNT);
	if (!new)
		goto out;
	ret = vmm_slot_pin(vm, &s);
	if (ret) {
		kfree(new);
		goto out;
	}
	new->slot[new->nr++] = s;
	rcu_assign_pointer(vm->slots, new);
	synchronize_srcu_expedited(&vm->srcu);
	kfree(old);
	ret = 0;
out:
	mutex_unlock(&vm->lock);
	return ret;
}

/* VM teardown: no vCPU runs and no file refers to the VM any more. */
void vmm_mem_free_all(struct vmm_vm *vm)
{
	struct vmm_slots *slots = rcu_dereference_protected(vm->slots, 1);
	int i;

	for (i = 0; i < slots->nr; i++)
		vmm_slot_unpin(vm, &slots->slot[i]);
	kfree(slots);
}
