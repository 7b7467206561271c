/* SPDX-License-Identifier: MIT */
/*
 * Glue shared by the built-in devices (see common.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../state.h"
#include "common.h"

int libvm__dev_options(void *dst, size_t dst_size, const void *src, const char *what)
{
	/* Fields an older, shorter caller struct lacks become zero, as the
	 * append-only rule promises; defaults come from the INIT macro. */
	if (!src)
		return 0;
	return libvm__copy_options(dst, dst_size, src, what);
}

int libvm__dev_register(libvm_vm *vm, const struct libvm__devrange *r, unsigned int n,
			void *opaque, void (*release)(void *opaque))
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		int err = libvm_io_register(vm, r[i].space, r[i].base, r[i].length, r[i].name,
					    r[i].fn, opaque);

		if (err) {
			/* Keep the message of the failure, not of the undo. */
			char msg[256];

			snprintf(msg, sizeof(msg), "%s", libvm_error_message());
			while (i-- > 0)
				libvm_io_unregister(vm, r[i].space, r[i].base);
			return libvm__fail(err, "%s", msg);
		}
	}
	/* The VM detaches the device itself if the caller never does. */
	if (libvm__vm_own(vm, opaque, release)) {
		while (i-- > 0)
			libvm_io_unregister(vm, r[i].space, r[i].base);
		return libvm__fail(-ENOMEM, "out of memory");
	}
	return 0;
}

bool libvm__dev_unregister(libvm_vm *vm, const struct libvm__devrange *r, unsigned int n,
			   void *opaque)
{
	bool ok = true;

	for (unsigned int i = 0; i < n; i++) {
		int err = libvm_io_unregister(vm, r[i].space, r[i].base);

		/* -ENOENT: already gone, which is what we want. */
		if (err && err != -ENOENT)
			ok = false;
	}
	if (ok) {
		libvm__vm_disown(vm, opaque);
		libvm__state_remove(vm, opaque);
	}
	return ok;
}

void libvm__dev_irq(libvm_vm *vm, int irq, bool level)
{
	int err;

	/* has_irqchip is set once, before any vCPU exists, so reading it
	 * here races with nothing. Checking it first also keeps this
	 * thread's error message intact for polling-only VMs. */
	if (irq < 0 || !vm->has_irqchip)
		return;
	err = libvm_irq_set(vm, (uint32_t)irq, level);
	if (err)
		libvm__log(vm, LIBVM_LOG_WARN, "device IRQ %d: %s", irq, libvm_error_message());
}
