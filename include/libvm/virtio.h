/* SPDX-License-Identifier: MIT */
/*
 * libvm virtio devices: virtio 1.x over PCI, modern interface only
 * (vendor 0x1af4, device 0x1040 + type, revision 1), on a libvm_pci_bus.
 * Split virtqueues with VIRTIO_F_EVENT_IDX and VIRTIO_F_INDIRECT_DESC.
 *
 * Common rules for the devices below:
 *
 * - libvm_virtio_<dev>_attach(&dev, bus, opts) plugs the device into @bus
 *   (see include/libvm/pci.h) and hands out a handle the caller owns. Start
 *   @opts from LIBVM_VIRTIO_<DEV>_OPTIONS_INIT; fields are only ever
 *   appended. Returns 0; -EINVAL for NULL or bad options; -EEXIST/-ENOSPC
 *   from the bus; -ENOMEM; or what opening the backend failed with.
 * - libvm_virtio_<dev>_detach(dev) unplugs and frees it; NULL is a no-op.
 *   A device still attached when the VM is destroyed is released by the
 *   VM. Detach only while no vCPU runs.
 * - Everything the guest driver puts in a queue is hostile input: a
 *   malformed ring (loops, out-of-range indices, rings or descriptor
 *   tables outside guest RAM, misused indirect tables) puts the device in
 *   DEVICE_NEEDS_RESET and it stops processing until the driver resets it;
 *   a request whose buffers point outside guest RAM fails with an I/O
 *   error status. Nothing is ever read or written outside guest RAM.
 * - Requests are processed on the vCPU thread that notifies the queue
 *   (virtio-net's receive side also on a thread of its own); interrupts are
 *   MSI-X messages through the in-kernel irqchip, or INTx when the driver
 *   did not enable MSI-X.
 */
#ifndef LIBVM_VIRTIO_H
#define LIBVM_VIRTIO_H

#include <libvm/pci.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* virtio-rng (entropy from getrandom())                               */
/* ------------------------------------------------------------------ */

typedef struct libvm_virtio_rng libvm_virtio_rng;

/**
 * struct libvm_virtio_rng_options - an entropy device (virtio 1.x, 5.4).
 * @size: sizeof(struct libvm_virtio_rng_options); set by the INIT macro.
 * @slot: PCI slot 1 .. 31, or 0 for the first free one.
 *
 * Each request's writable buffers are filled from getrandom(2), at most
 * 64 KiB per request.
 */
typedef struct libvm_virtio_rng_options {
	size_t size;
	uint8_t slot;
	uint8_t reserved0[7];
} libvm_virtio_rng_options;

#define LIBVM_VIRTIO_RNG_OPTIONS_INIT { .size = sizeof(libvm_virtio_rng_options) }

/** libvm_virtio_rng_attach() - add a virtio-rng. Returns: see the common rules. */
LIBVM_EXPORT int libvm_virtio_rng_attach(libvm_virtio_rng **out, libvm_pci_bus *bus,
					 const libvm_virtio_rng_options *opts);

/** libvm_virtio_rng_detach() - remove and free it. */
LIBVM_EXPORT void libvm_virtio_rng_detach(libvm_virtio_rng *rng);

#ifdef __cplusplus
}
#endif

#endif /* LIBVM_VIRTIO_H */
