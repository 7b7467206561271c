/* SPDX-License-Identifier: MIT */
/*
 * Glue shared by the built-in devices: option copying, registering a
 * device's ranges as one unit, and driving its interrupt line. The device
 * models themselves (the <dev>.h state structs) do not depend on it.
 */
#ifndef LIBVM_DEV_COMMON_H
#define LIBVM_DEV_COMMON_H

#include <libvm/devices.h>

#include "../internal.h"

/* One address range a device claims. */
struct libvm__devrange {
	enum libvm_space space;
	uint64_t base;
	uint64_t length;
	const char *name;
	libvm_io_fn fn;
};

/*
 * Copy the caller's options over @dst, which holds the defaults. NULL
 * keeps the defaults. -EINVAL (with a message naming @what) for a bad
 * size field.
 */
int libvm__dev_options(void *dst, size_t dst_size, const void *src, const char *what);

/*
 * Register @n ranges with @opaque; all or nothing. The VM also records
 * @release(@opaque) (the device's detach) to call at libvm_vm_destroy()
 * if the caller never detaches.
 */
int libvm__dev_register(libvm_vm *vm, const struct libvm__devrange *r, unsigned int n,
			void *opaque, void (*release)(void *opaque));

/*
 * Unregister @n ranges, and the device's saved-state entry if it has one
 * (libvm__state_add() with @opaque). False when a range could not be
 * released (called from a handler): the caller must then not free what the
 * handlers use.
 */
bool libvm__dev_unregister(libvm_vm *vm, const struct libvm__devrange *r, unsigned int n,
			   void *opaque);

/* Drive GSI @irq (<0: none). A VM without an irqchip ignores it. */
void libvm__dev_irq(libvm_vm *vm, int irq, bool level);

/* A port range [base, base + length) that stays inside 0..0xffff. */
static inline bool libvm__dev_ports_ok(uint32_t base, uint32_t length)
{
	return length > 0 && base <= 0xffff && length <= 0x10000 - base;
}

#endif
