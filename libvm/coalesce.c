/* SPDX-License-Identifier: MIT */
/*
 * Coalesced I/O: ranges whose guest writes the backend queues in a ring
 * shared with userspace (KVM_REGISTER_COALESCED_MMIO, KVM_CAP_COALESCED_MMIO
 * and _PIO) instead of exiting for each one. The run loop hands the queued
 * writes to the ranges' handlers, in order, whenever any vCPU of the VM
 * comes out of KVM_RUN, before that exit itself is handled, so a read that
 * follows the writes (a UART's LSR after its THR) sees them done. What
 * suits it: writes that need no answer and whose effects the guest only
 * looks for through a later exit.
 */
#include <errno.h>
#include <string.h>

#include <linux/kvm.h>

#include "internal.h"

static int zone(libvm_vm *vm, enum libvm_space space, uint64_t addr, uint32_t len, bool add)
{
	const char *fn = add ? "libvm_io_coalesce_add" : "libvm_io_coalesce_remove";
	struct kvm_coalesced_mmio_zone z = { .addr = addr, .size = len };

	LIBVM__CHECK_VM(vm, fn);
	if (space != LIBVM_SPACE_PIO && space != LIBVM_SPACE_MMIO)
		return libvm__fail(-EINVAL, "%s: unknown address space %d", fn, (int)space);
	if (!len || addr + len < addr || (space == LIBVM_SPACE_PIO && addr + len > 0x10000))
		return libvm__fail(-EINVAL, "%s: range 0x%llx+0x%x is empty or too large", fn,
				   (unsigned long long)addr, len);
	if (!vm->coalesced_page ||
	    (space == LIBVM_SPACE_PIO && libvm__check_extension(vm, KVM_CAP_COALESCED_PIO) <= 0))
		return libvm__fail(-ENOTSUP, "%s: %s has no coalesced %s", fn, vm->device_path,
				   space == LIBVM_SPACE_PIO ? "port I/O" : "MMIO");
	z.pio = space == LIBVM_SPACE_PIO;
	{
		int err = add ? libvm__bk_register_coalesced_mmio(vm, &z) :
				libvm__bk_unregister_coalesced_mmio(vm, &z);

		if (err < 0)
			return libvm__fail(err == -ENOTTY ? -ENOTSUP : err, "%s: %s", fn,
					   strerror(-err));
	}
	return 0;
}

LIBVM_EXPORT int libvm_io_coalesce_add(libvm_vm *vm, enum libvm_space space, uint64_t addr,
				       uint32_t len)
{
	return zone(vm, space, addr, len, true);
}

LIBVM_EXPORT int libvm_io_coalesce_remove(libvm_vm *vm, enum libvm_space space, uint64_t addr,
					  uint32_t len)
{
	return zone(vm, space, addr, len, false);
}

void libvm__coalesced_drain(libvm_vcpu *vcpu)
{
	libvm_vm *vm = vcpu->vm;
	struct kvm_coalesced_mmio_ring *ring = vcpu->coalesced_ring;
	uint32_t max = (uint32_t)((LIBVM__PAGE_SIZE - sizeof(*ring)) /
				  sizeof(struct kvm_coalesced_mmio));

	if (!ring || __atomic_load_n(&ring->first, __ATOMIC_ACQUIRE) ==
			     __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE))
		return;
	/* One ring per VM: vCPUs drain it one at a time, in order. */
	pthread_mutex_lock(&vm->coalesced_lock);
	while (ring->first != __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE)) {
		struct kvm_coalesced_mmio e = ring->coalesced_mmio[ring->first % max];
		uint32_t len = e.len > 8 ? 8 : e.len;
		int r = libvm__iobus_dispatch(vm, e.pio ? LIBVM_SPACE_PIO : LIBVM_SPACE_MMIO, vcpu,
					      e.phys_addr, e.data, len, true);

		if (r < 0)
			libvm__log(vm, LIBVM_LOG_WARN, "coalesced write to 0x%llx: handler failed: %s",
				   (unsigned long long)e.phys_addr, libvm_error_message());
		__atomic_store_n(&ring->first, (ring->first + 1) % max, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&vm->coalesced_lock);
}
