/* SPDX-License-Identifier: MIT */
/*
 * Dirty-page logging (include/libvm/libvm.h): the backend's log of guest
 * writes per memory slot (KVM_MEM_LOG_DIRTY_PAGES, KVM_GET_DIRTY_LOG, and
 * KVM_CLEAR_DIRTY_LOG under KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2), merged with
 * libvm's own log of the writes it makes into guest memory (a bitmap per
 * region that libvm_mem_write() marks).
 *
 * Why manual protection when there is a choice: plain KVM_GET_DIRTY_LOG
 * write-protects every page it reports at once, so pages the guest keeps
 * writing between the fetch and their copy fault again for nothing;
 * with it the fetch only reads the log and the clear that follows right
 * away re-protects just the reported pages. Either way the order is: fetch
 * (and re-protect) first, copy afterwards, so no write is lost.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/kvm.h>

#include "internal.h"

static uint64_t region_pages(const libvm_region *r)
{
	return r->length / LIBVM__PAGE_SIZE;
}

static size_t bitmap_words(const libvm_region *r)
{
	return (size_t)((region_pages(r) + 63) / 64);
}

int libvm__dirty_region_added(libvm_region *r)
{
	r->udirty = calloc(bitmap_words(r), sizeof(uint64_t));
	if (!r->udirty)
		return libvm__fail(-ENOMEM, "region '%s': out of memory for its dirty log", r->name);
	return 0;
}

void libvm__dirty_region_removed(libvm_region *r)
{
	free(r->udirty);
	r->udirty = NULL;
}

/* Does the backend implement KVM_GET_DIRTY_LOG? A slot number past any
 * backend's is refused with EINVAL (or ENOENT) where it does, ENOTTY
 * where the ioctl is unknown. */
int libvm__dirty_log_supported(libvm_vm *vm)
{
	struct kvm_dirty_log d = { .slot = 0x7fff };

	return libvm__bk_get_dirty_log(vm, &d) == -ENOTTY ? 0 : 1;
}

static bool manual_protect(libvm_vm *vm)
{
	if (vm->dirty_manual < 0) {
		struct kvm_enable_cap cap = {
			.cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
			.args = { KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE },
		};

		vm->dirty_manual = libvm__check_extension(vm, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2) > 0 &&
				   libvm__bk_vm_enable_cap(vm, &cap) == 0;
		libvm__log(vm, LIBVM_LOG_DEBUG, "dirty log: %s", vm->dirty_manual ?
			   "KVM_CLEAR_DIRTY_LOG re-protects the pages fetched" :
			   "KVM_GET_DIRTY_LOG re-protects the whole slot");
	}
	return vm->dirty_manual == 1;
}

int libvm__dirty_log_clear_supported(libvm_vm *vm)
{
	return libvm__check_extension(vm, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2) > 0;
}

/* Switch every region's logging to @on; all or nothing. mem_lock held. */
static int set_all(libvm_vm *vm, bool on)
{
	size_t i;
	int err = 0;

	for (i = 0; i < vm->regions.n; i++) {
		libvm_region *r = vm->regions.v[i].item;

		if (on && (err = libvm__dirty_region_added(r)))
			break;
		err = libvm__region_update_slot(r, on);
		if (err) {
			libvm__fail(err == -EINVAL ? -ENOTSUP : err,
				    "region '%s': %s dirty logging failed: %s", r->name,
				    on ? "starting" : "stopping", strerror(-err));
			err = err == -EINVAL ? -ENOTSUP : err;
			if (on)
				libvm__dirty_region_removed(r);
			break;
		}
		if (!on)
			libvm__dirty_region_removed(r);
	}
	if (!err)
		return 0;
	/* Put the ones done back as they were; keep the first message. */
	while (i-- > 0) {
		libvm_region *r = vm->regions.v[i].item;

		libvm__region_update_slot(r, !on);
		if (on)
			libvm__dirty_region_removed(r);
		else if (libvm__dirty_region_added(r) == 0)
			memset(r->udirty, 0xff, bitmap_words(r) * sizeof(uint64_t));
	}
	return err;
}

LIBVM_EXPORT int libvm_vm_dirty_log_start(libvm_vm *vm)
{
	int err;

	LIBVM__CHECK_VM(vm, "libvm_vm_dirty_log_start");
	pthread_rwlock_wrlock(&vm->mem_lock);
	if (vm->dirty_logging) {
		pthread_rwlock_unlock(&vm->mem_lock);
		return libvm__fail(-EBUSY, "the VM already logs dirty pages");
	}
	if (!libvm__dirty_log_supported(vm)) {
		pthread_rwlock_unlock(&vm->mem_lock);
		return libvm__fail(-ENOTSUP, "%s has no dirty-page log", vm->device_path);
	}
	/* Before the slots get their flag, so no slot logs the other way. */
	manual_protect(vm);
	err = set_all(vm, true);
	if (!err)
		vm->dirty_logging = true;
	pthread_rwlock_unlock(&vm->mem_lock);
	return err;
}

LIBVM_EXPORT int libvm_vm_dirty_log_stop(libvm_vm *vm)
{
	int err;

	LIBVM__CHECK_VM(vm, "libvm_vm_dirty_log_stop");
	pthread_rwlock_wrlock(&vm->mem_lock);
	if (!vm->dirty_logging) {
		pthread_rwlock_unlock(&vm->mem_lock);
		return libvm__fail(-EINVAL, "the VM does not log dirty pages");
	}
	err = set_all(vm, false);
	if (!err)
		vm->dirty_logging = false;
	pthread_rwlock_unlock(&vm->mem_lock);
	return err;
}

/* Fetch the backend's log of @r into @bitmap and re-protect what it
 * reports. mem_lock held (read). */
static int fetch_backend(libvm_vm *vm, libvm_region *r, uint64_t *bitmap)
{
	struct kvm_dirty_log get = { .slot = r->slot, .dirty_bitmap = bitmap };
	int err = libvm__bk_get_dirty_log(vm, &get);

	if (err < 0)
		return libvm__fail(err, "region '%s': KVM_GET_DIRTY_LOG failed: %s", r->name,
				   strerror(-err));
	if (vm->dirty_manual == 1) {
		struct kvm_clear_dirty_log clear = {
			.slot = r->slot,
			.num_pages = (uint32_t)region_pages(r),
			.first_page = 0,
			.dirty_bitmap = bitmap,
		};

		err = libvm__bk_clear_dirty_log(vm, &clear);
		if (err < 0)
			return libvm__fail(err, "region '%s': KVM_CLEAR_DIRTY_LOG failed: %s",
					   r->name, strerror(-err));
	}
	return 0;
}

int64_t libvm__dirty_fetch_locked(libvm_region *region, uint64_t *bitmap)
{
	libvm_vm *vm = region->vm;
	size_t n = bitmap_words(region);
	int64_t count = 0;
	int err;

	if (!vm->dirty_logging || !region->udirty)
		return libvm__fail(-EINVAL, "region '%s': the VM does not log dirty pages",
				   region->name);
	memset(bitmap, 0, n * sizeof(uint64_t));
	err = fetch_backend(vm, region, bitmap);
	if (err)
		return err;
	/* libvm's own writes: taken word by word, so a write marked right
	 * after its word was taken is in the next fetch. */
	for (size_t i = 0; i < n; i++)
		bitmap[i] |= __atomic_exchange_n(&region->udirty[i], 0, __ATOMIC_ACQ_REL);
	/* Bits past the last page: the backend leaves them 0; so do we. */
	if (region_pages(region) % 64)
		bitmap[n - 1] &= (1ull << (region_pages(region) % 64)) - 1;
	for (size_t i = 0; i < n; i++)
		count += __builtin_popcountll(bitmap[i]);
	return count;
}

LIBVM_EXPORT int64_t libvm_region_dirty_log(libvm_region *region, uint64_t *bitmap, size_t words)
{
	int64_t r;
	size_t n;

	LIBVM__CHECK_REGION(region, "libvm_region_dirty_log");
	if (!bitmap)
		return libvm__fail(-EINVAL, "libvm_region_dirty_log: bitmap is NULL");
	n = bitmap_words(region);
	if (words < n)
		return libvm__fail(-EINVAL, "region '%s': its dirty log needs %zu words, %zu given",
				   region->name, n, words);
	memset(bitmap, 0, words * sizeof(uint64_t));
	pthread_rwlock_rdlock(&region->vm->mem_lock);
	r = libvm__dirty_fetch_locked(region, bitmap);
	pthread_rwlock_unlock(&region->vm->mem_lock);
	return r;
}

LIBVM_EXPORT int libvm_mem_mark_dirty(libvm_vm *vm, uint64_t gpa, uint64_t len)
{
	uint64_t last, a;

	LIBVM__CHECK_VM(vm, "libvm_mem_mark_dirty");
	if (!len)
		return 0;
	if (len - 1 > UINT64_MAX - gpa)
		return libvm__fail(-EFAULT, "range 0x%llx+0x%llx wraps around the address space",
				   (unsigned long long)gpa, (unsigned long long)len);
	last = gpa + len - 1;
	pthread_rwlock_rdlock(&vm->mem_lock);
	/* The whole range must be mapped: all or nothing. */
	for (a = gpa;;) {
		const struct libvm__range *e = libvm__rangemap_find(&vm->regions, a);
		const libvm_region *r;

		if (!e) {
			pthread_rwlock_unlock(&vm->mem_lock);
			return libvm__fail(-EFAULT, "guest address 0x%llx is not backed by memory",
					   (unsigned long long)a);
		}
		r = e->item;
		if (r->gpa + r->length - 1 >= last)
			break;
		a = r->gpa + r->length;
	}
	for (a = gpa;;) {
		libvm_region *r = libvm__rangemap_find(&vm->regions, a)->item;
		uint64_t rlast = r->gpa + r->length - 1, stop = rlast < last ? rlast : last;

		libvm__dirty_mark(r, a - r->gpa, stop - a + 1);
		if (stop == last)
			break;
		a = stop + 1;
	}
	pthread_rwlock_unlock(&vm->mem_lock);
	return 0;
}
