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
 *
 * Dirty logging (KVM_MEM_LOG_DIRTY_PAGES, KVM_GET_DIRTY_LOG) write-protects
 * through the nested/extended page tables: a logged slot's pages are mapped
 * read-only on a read fault and writable only on a write fault, which sets
 * the page's bit.  KVM_GET_DIRTY_LOG drops the slot's mappings and takes the
 * bits under vm->dirty_lock (which the fault holds while it maps), then
 * flushes every vCPU's TLB before it returns, so that each later write faults
 * again.  Writes by the module itself (vmm_write_guest) set the bit too.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/io.h>

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

/* After the module wrote the page at @gpa: its bit, if logged. */
static void vmm_mark_dirty(struct vmm_vm *vm, u64 gpa)
{
	struct vmm_slot *s = vmm_find_slot(vm, gpa);

	if (s && s->dirty)
		set_bit((gpa - s->gpa) >> PAGE_SHIFT, s->dirty);
}

/*
 * A guest access faulted at @gpa (nested paging, EPT; caller holds the
 * SRCU): 1 when it is RAM for this access and now mapped, 0 when it is
 * not (no slot, or a write to a read-only slot: MMIO), or an error.
 */
int vmm_map_gpa(struct vmm_vm *vm, u64 gpa, bool write)
{
	struct vmm_slot *s = vmm_find_slot(vm, gpa);
	bool ro;
	u64 rel;
	int ret;

	if (!s)
		return 0;
	ro = s->flags & KVM_MEM_READONLY;
	if (write && ro)
		return 0;
	rel = (gpa - s->gpa) >> PAGE_SHIFT;
	if (!s->dirty) {
		ret = vm->ops->map_page(vm, gpa & PAGE_MASK,
					page_to_phys(s->pages[rel]), !ro);
		return ret ? ret : 1;
	}
	/* Logged: writable only for a write, which marks the page. */
	mutex_lock(&vm->dirty_lock);
	if (write)
		set_bit(rel, s->dirty);
	ret = vm->ops->map_page(vm, gpa & PAGE_MASK,
				page_to_phys(s->pages[rel]), write);
	mutex_unlock(&vm->dirty_lock);
	return ret ? ret : 1;
}
EXPORT_SYMBOL_GPL(vmm_map_gpa);

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
		/* After the data: a harvest in between reports it next time. */
		vmm_mark_dirty(vm, gpa);
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
	kvfree(s->dirty);
	s->dirty = NULL;
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

	if (r->flags & ~(KVM_MEM_READONLY | KVM_MEM_LOG_DIRTY_PAGES))
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

/*
 * Drop the mappings of @s and make every vCPU forget them before its next
 * entry (caller holds vm->lock): each later access faults again.
 */
static void vmm_slot_unmap(struct vmm_vm *vm, const struct vmm_slot *s)
{
	vm->ops->unmap_range(vm, s->gpa, s->npages << PAGE_SHIFT);
	atomic_inc(&vm->tlb_gen);
	vmm_kick_vm_cpus(vm);
}

/* KVM_MEM_LOG_DIRTY_PAGES switched on or off on slot @idx. */
static int vmm_slot_set_logging(struct vmm_vm *vm, struct vmm_slots *old,
				int idx, u32 flags)
{
	struct vmm_slot *cur = &old->slot[idx];
	unsigned long *bitmap = NULL, *gone = cur->dirty;
	struct vmm_slots *new;

	if (flags & KVM_MEM_LOG_DIRTY_PAGES) {
		bitmap = kvcalloc(BITS_TO_LONGS(cur->npages), sizeof(long),
				  GFP_KERNEL_ACCOUNT);
		if (!bitmap)
			return -ENOMEM;
	}
	new = kmemdup(old, sizeof(*old), GFP_KERNEL_ACCOUNT);
	if (!new) {
		kvfree(bitmap);
		return -ENOMEM;
	}
	new->slot[idx].flags = flags;
	new->slot[idx].dirty = bitmap;
	rcu_assign_pointer(vm->slots, new);
	/* Every fault from now on sees the new slot ... */
	synchronize_srcu_expedited(&vm->srcu);
	kfree(old);
	/* ... and with logging on, no page stays writable from before. */
	if (bitmap)
		vmm_slot_unmap(vm, &new->slot[idx]);
	kvfree(gone);
	return 0;
}

/*
 * KVM_GET_DIRTY_LOG: the slot's bitmap (one bit a page, in 64-bit words)
 * to userspace, cleared, the slot write-protected again.
 */
int vmm_get_dirty_log(struct vmm_vm *vm, const struct kvm_dirty_log *log)
{
	struct vmm_slots *slots;
	struct vmm_slot *s = NULL;
	unsigned long *copy;
	size_t i, words, bytes;
	int ret;

	mutex_lock(&vm->lock);
	slots = vmm_slots_locked(vm);
	for (i = 0; i < slots->nr; i++)
		if (slots->slot[i].id == log->slot)
			s = &slots->slot[i];
	ret = -ENOENT;
	if (!s || !s->dirty)
		goto out;
	words = BITS_TO_LONGS(s->npages);
	bytes = ALIGN(s->npages, 64) / 8;
	ret = -ENOMEM;
	copy = kvcalloc(words, sizeof(long), GFP_KERNEL_ACCOUNT);
	if (!copy)
		goto out;
	mutex_lock(&vm->dirty_lock);
	vm->ops->unmap_range(vm, s->gpa, s->npages << PAGE_SHIFT);
	for (i = 0; i < words; i++)
		copy[i] = xchg(&s->dirty[i], 0);
	mutex_unlock(&vm->dirty_lock);
	/*
	 * Writes through TLB entries from before the unmap end here (every
	 * vCPU in guest mode is out, the others flush at entry); their pages
	 * were mapped writable, so their bits were taken above.
	 */
	atomic_inc(&vm->tlb_gen);
	vmm_kick_vm_cpus(vm);
	ret = copy_to_user(u64_to_user_ptr((u64)(unsigned long)log->dirty_bitmap),
			   copy, bytes) ? -EFAULT : 0;
	kvfree(copy);
out:
	mutex_unlock(&vm->lock);
	return ret;
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
		else if (cur->gpa != r->guest_phys_addr ||
			 cur->npages << PAGE_SHIFT != r->memory_size ||
			 cur->uaddr != r->userspace_addr ||
			 (cur->flags ^ r->flags) & ~KVM_MEM_LOG_DIRTY_PAGES)
			ret = -EINVAL;	/* moving or resizing: delete first */
		else if (cur->flags != r->flags)
			ret = vmm_slot_set_logging(vm, old, i, r->flags);
		else
			ret = 0;
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
	if (s.flags & KVM_MEM_LOG_DIRTY_PAGES) {
		s.dirty = kvcalloc(BITS_TO_LONGS(s.npages), sizeof(long),
				   GFP_KERNEL_ACCOUNT);
		if (!s.dirty)
			goto out;
	}
	new = kmemdup(old, sizeof(*old), GFP_KERNEL_ACCOUNT);
	if (!new) {
		kvfree(s.dirty);
		goto out;
	}
	ret = vmm_slot_pin(vm, &s);
	if (ret) {
		kvfree(s.dirty);
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
