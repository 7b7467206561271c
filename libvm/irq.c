/* SPDX-License-Identifier: MIT */
/*
 * Interrupt plumbing over the backend: the in-kernel irqchip and PIT, GSI
 * lines, MSIs, irqfd and ioeventfd (MSI routes for irqfds: irqroute.c). Each call checks the backend's
 * capability first so that a backend without it gets a clear -ENOTSUP.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

/* The in-kernel IOAPIC has 24 pins; GSIs 0-23 are wired to the PICs and
 * the IOAPIC as on a PC (irqroute.c). */
#define IOAPIC_PINS 24

/* A backend operation's result as libvm's (-ENOTTY: no such operation). */
static int vm_result(int r, const char *what)
{
	if (r >= 0)
		return 0;
	return libvm__fail(r == -ENOTTY ? -ENOTSUP : r, "%s failed: %s", what, strerror(-r));
}

LIBVM_EXPORT int libvm_irqchip_create(libvm_vm *vm, uint32_t flags)
{
	int err;

	LIBVM__CHECK_VM(vm, "libvm_irqchip_create");
	if (flags & ~LIBVM_IRQCHIP_PIT)
		return libvm__fail(-EINVAL, "libvm_irqchip_create: unknown flags 0x%x",
				   flags & ~LIBVM_IRQCHIP_PIT);
	if (libvm__check_extension(vm, KVM_CAP_IRQCHIP) <= 0)
		return libvm__fail(-ENOTSUP, "%s has no in-kernel irqchip", vm->device_path);
	if ((flags & LIBVM_IRQCHIP_PIT) && libvm__check_extension(vm, KVM_CAP_PIT2) <= 0)
		return libvm__fail(-ENOTSUP, "%s has no in-kernel PIT", vm->device_path);

	pthread_mutex_lock(&vm->vcpu_lock);
	if (vm->has_irqchip || vm->nr_vcpus) {
		pthread_mutex_unlock(&vm->vcpu_lock);
		return libvm__fail(-EBUSY, "the irqchip must be created once, before any vCPU");
	}
	err = vm_result(libvm__bk_create_irqchip(vm, NULL), "KVM_CREATE_IRQCHIP");
	if (!err && (flags & LIBVM_IRQCHIP_PIT)) {
		struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };

		err = vm_result(libvm__bk_create_pit2(vm, &pit), "KVM_CREATE_PIT2");
	}
	if (!err) {
		int n = libvm__check_extension(vm, KVM_CAP_IRQ_ROUTING);

		/* The table sizes the MSI routes can grow to (irqroute.c). */
		vm->route_limit = n > 0 ? (uint32_t)n : 0;
		vm->has_irqchip = true;
		vm->has_pit = flags & LIBVM_IRQCHIP_PIT;
		/* The PC's wiring of the pins (irqroute.c says why), where the
		 * backend lets us set it; KVM's default table otherwise. */
		if (vm->route_limit)
			err = libvm__irqroutes_install(vm);
	}
	pthread_mutex_unlock(&vm->vcpu_lock);
	return err;
}

LIBVM_EXPORT int libvm_irq_set(libvm_vm *vm, uint32_t gsi, bool level)
{
	struct kvm_irq_level line = { .irq = gsi, .level = level };

	LIBVM__CHECK_VM(vm, "libvm_irq_set");
	if (!vm->has_irqchip)
		return libvm__fail(-ENOTSUP, "libvm_irq_set: the VM has no irqchip");
	if (gsi >= IOAPIC_PINS)
		return libvm__fail(-EINVAL, "libvm_irq_set: GSI %u is not in 0..%d", gsi,
				   IOAPIC_PINS - 1);
	return vm_result(libvm__bk_irq_line(vm, &line), "KVM_IRQ_LINE");
}

LIBVM_EXPORT int libvm_msi_send(libvm_vm *vm, uint64_t addr, uint32_t data)
{
	struct kvm_msi msi = {
		.address_lo = (uint32_t)addr,
		.address_hi = (uint32_t)(addr >> 32),
		.data = data,
	};
	int r;

	LIBVM__CHECK_VM(vm, "libvm_msi_send");
	if (!vm->has_irqchip || libvm__check_extension(vm, KVM_CAP_SIGNAL_MSI) <= 0)
		return libvm__fail(-ENOTSUP, "libvm_msi_send: no in-kernel MSI delivery");
	r = libvm__bk_signal_msi(vm, &msi);
	if (r < 0)
		return libvm__fail(r, "KVM_SIGNAL_MSI failed: %s", strerror(-r));
	/* 0 means the interrupt was blocked (e.g. masked), which is not an
	 * error of the caller's. */
	return 0;
}

static int irqfd(libvm_vm *vm, int fd, uint32_t gsi, bool remove)
{
	struct kvm_irqfd req = {
		.fd = (uint32_t)fd,
		.gsi = gsi,
		.flags = remove ? KVM_IRQFD_FLAG_DEASSIGN : 0,
	};
	const char *fn = remove ? "libvm_irqfd_remove" : "libvm_irqfd_add";

	LIBVM__CHECK_VM(vm, fn);
	if (fd < 0)
		return libvm__fail(-EINVAL, "%s: bad fd", fn);
	if (!vm->has_irqchip || libvm__check_extension(vm, KVM_CAP_IRQFD) <= 0)
		return libvm__fail(-ENOTSUP, "%s: no irqfd (an irqchip is needed)", fn);
	return vm_result(libvm__bk_irqfd(vm, &req), "KVM_IRQFD");
}

LIBVM_EXPORT int libvm_irqfd_add(libvm_vm *vm, int fd, uint32_t gsi)
{
	return irqfd(vm, fd, gsi, false);
}

LIBVM_EXPORT int libvm_irqfd_remove(libvm_vm *vm, int fd, uint32_t gsi)
{
	return irqfd(vm, fd, gsi, true);
}

static int ioeventfd(libvm_vm *vm, enum libvm_space space, uint64_t addr, uint32_t len, int fd,
		     uint32_t flags, uint64_t data, bool remove)
{
	const char *fn = remove ? "libvm_ioeventfd_remove" : "libvm_ioeventfd_add";
	struct kvm_ioeventfd req = {
		.datamatch = data,
		.addr = addr,
		.len = len,
		.fd = fd,
	};

	LIBVM__CHECK_VM(vm, fn);
	if (fd < 0)
		return libvm__fail(-EINVAL, "%s: bad fd", fn);
	if (space != LIBVM_SPACE_PIO && space != LIBVM_SPACE_MMIO)
		return libvm__fail(-EINVAL, "%s: unknown address space %d", fn, (int)space);
	if (flags & ~LIBVM_IOEVENTFD_DATAMATCH)
		return libvm__fail(-EINVAL, "%s: unknown flags 0x%x", fn, flags);
	if (!(len == 1 || len == 2 || len == 4 || len == 8 || (len == 0 && space == LIBVM_SPACE_MMIO)))
		return libvm__fail(-EINVAL, "%s: length %u is not 1, 2, 4 or 8", fn, len);
	if (space == LIBVM_SPACE_PIO && addr > 0xffff)
		return libvm__fail(-EINVAL, "%s: port 0x%llx is above 0xffff", fn,
				   (unsigned long long)addr);
	if (libvm__check_extension(vm, KVM_CAP_IOEVENTFD) <= 0)
		return libvm__fail(-ENOTSUP, "%s: %s has no ioeventfd", fn, vm->device_path);
	if (space == LIBVM_SPACE_PIO)
		req.flags |= KVM_IOEVENTFD_FLAG_PIO;
	if (flags & LIBVM_IOEVENTFD_DATAMATCH)
		req.flags |= KVM_IOEVENTFD_FLAG_DATAMATCH;
	if (remove)
		req.flags |= KVM_IOEVENTFD_FLAG_DEASSIGN;
	return vm_result(libvm__bk_ioeventfd(vm, &req), "KVM_IOEVENTFD");
}

LIBVM_EXPORT int libvm_ioeventfd_add(libvm_vm *vm, enum libvm_space space, uint64_t addr,
				     uint32_t len, int fd, uint32_t flags, uint64_t data)
{
	return ioeventfd(vm, space, addr, len, fd, flags, data, false);
}

LIBVM_EXPORT int libvm_ioeventfd_remove(libvm_vm *vm, enum libvm_space space, uint64_t addr,
					uint32_t len, int fd, uint32_t flags, uint64_t data)
{
	return ioeventfd(vm, space, addr, len, fd, flags, data, true);
}
