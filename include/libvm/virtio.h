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
 * - Where the backend has ioeventfd, a queue's notifications signal an
 *   eventfd in the kernel and a worker thread per device processes the
 *   queue; otherwise (or when binding fails) the notifying vCPU thread does
 *   it during the MMIO write. virtio-net also receives on a thread of its
 *   own, and virtio-console reads its input on one. Interrupts are MSI-X
 *   messages sent through the in-kernel irqchip -- an eventfd write per
 *   message where the VM has MSI routing and irqfd, else KVM_SIGNAL_MSI
 *   (see libvm_pci_dev_msix_notify()) -- or INTx when the driver did not
 *   enable MSI-X.
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

#define LIBVM_VIRTIO_RNG_OPTIONS_INIT \
	LIBVM__OPTIONS_INIT(libvm_virtio_rng_options, libvm_virtio_rng_options_init)

/** libvm_virtio_rng_options_init() - the defaults; see libvm_vm_options_init(). */
LIBVM_EXPORT int libvm_virtio_rng_options_init(libvm_virtio_rng_options *opts, size_t size);

/** libvm_virtio_rng_attach() - add a virtio-rng. Returns: see the common rules. */
LIBVM_EXPORT int libvm_virtio_rng_attach(libvm_virtio_rng **out, libvm_pci_bus *bus,
					 const libvm_virtio_rng_options *opts);

/** libvm_virtio_rng_detach() - remove and free it. */
LIBVM_EXPORT void libvm_virtio_rng_detach(libvm_virtio_rng *rng);

/* ------------------------------------------------------------------ */
/* virtio-blk (a file as a disk)                                       */
/* ------------------------------------------------------------------ */

typedef struct libvm_virtio_blk libvm_virtio_blk;

#define LIBVM_VIRTIO_BLK_READONLY (1u << 0) /* open read-only, offer VIRTIO_BLK_F_RO */

/**
 * struct libvm_virtio_blk_options - a block device (virtio 1.x, 5.2).
 * @size:   sizeof(struct libvm_virtio_blk_options); set by the INIT macro.
 * @path:   the backing file (or block device); its size, rounded down to
 *          512-byte sectors, is the capacity. Required.
 * @flags:  LIBVM_VIRTIO_BLK_* flags.
 * @slot:   PCI slot 1 .. 31, or 0 for the first free one.
 * @serial: what VIRTIO_BLK_T_GET_ID returns (up to 20 bytes, copied), or
 *          NULL for the file's base name.
 *
 * Offers VIRTIO_BLK_F_SEG_MAX, F_BLK_SIZE (512), F_FLUSH (fdatasync(2)),
 * F_DISCARD (punching holes; -> VIRTIO_BLK_S_UNSUPP where the file system
 * cannot) unless read-only, and F_RO when read-only. Requests beyond the
 * capacity, writes to a read-only disk and failed host I/O complete with
 * VIRTIO_BLK_S_IOERR; unknown request types with VIRTIO_BLK_S_UNSUPP.
 */
typedef struct libvm_virtio_blk_options {
	size_t size;
	const char *path;
	uint32_t flags;
	uint8_t slot;
	uint8_t reserved0[3];
	const char *serial;
} libvm_virtio_blk_options;

#define LIBVM_VIRTIO_BLK_OPTIONS_INIT \
	LIBVM__OPTIONS_INIT(libvm_virtio_blk_options, libvm_virtio_blk_options_init)

/** libvm_virtio_blk_options_init() - the defaults; see libvm_vm_options_init(). */
LIBVM_EXPORT int libvm_virtio_blk_options_init(libvm_virtio_blk_options *opts, size_t size);

/**
 * libvm_virtio_blk_attach() - add a virtio-blk backed by @opts->path.
 * Returns: see the common rules; the negative errno of open(2) when the
 * file cannot be opened (the message names it).
 */
LIBVM_EXPORT int libvm_virtio_blk_attach(libvm_virtio_blk **out, libvm_pci_bus *bus,
					 const libvm_virtio_blk_options *opts);

/** libvm_virtio_blk_detach() - remove it, close the file, free it. */
LIBVM_EXPORT void libvm_virtio_blk_detach(libvm_virtio_blk *blk);

/* ------------------------------------------------------------------ */
/* virtio-net (a tap device)                                           */
/* ------------------------------------------------------------------ */

typedef struct libvm_virtio_net libvm_virtio_net;

/**
 * struct libvm_virtio_net_options - a network card (virtio 1.x, 5.1).
 * @size: sizeof(struct libvm_virtio_net_options); set by the INIT macro.
 * @tap:  name of the tap interface to attach to (it must exist, or the
 *        process must be allowed to create it). Required.
 * @mac:  the card's MAC address; all zeroes for 52:54:00:12:34:5X with X
 *        the slot.
 * @slot: PCI slot 1 .. 31, or 0 for the first free one.
 *
 * Offers VIRTIO_NET_F_MAC and F_STATUS (link up), no offloads and no
 * mergeable receive buffers: frames up to 1514 bytes plus the 12-byte
 * virtio_net_hdr travel each in one chain. A thread per device receives
 * from the tap.
 */
typedef struct libvm_virtio_net_options {
	size_t size;
	const char *tap;
	uint8_t mac[6];
	uint8_t slot;
	uint8_t reserved0;
} libvm_virtio_net_options;

#define LIBVM_VIRTIO_NET_OPTIONS_INIT \
	LIBVM__OPTIONS_INIT(libvm_virtio_net_options, libvm_virtio_net_options_init)

/** libvm_virtio_net_options_init() - the defaults; see libvm_vm_options_init(). */
LIBVM_EXPORT int libvm_virtio_net_options_init(libvm_virtio_net_options *opts, size_t size);

/**
 * libvm_virtio_net_attach() - add a virtio-net on tap @opts->tap.
 * Returns: see the common rules; -ENOENT when /dev/net/tun is missing,
 * -EPERM/-EBUSY when the tap cannot be attached (the message says why);
 * -EAGAIN when the receive thread cannot start.
 */
LIBVM_EXPORT int libvm_virtio_net_attach(libvm_virtio_net **out, libvm_pci_bus *bus,
					 const libvm_virtio_net_options *opts);

/** libvm_virtio_net_detach() - stop its thread, close the tap, free it. */
LIBVM_EXPORT void libvm_virtio_net_detach(libvm_virtio_net *net);

/* ------------------------------------------------------------------ */
/* virtio-console (one port, file descriptors)                         */
/* ------------------------------------------------------------------ */

typedef struct libvm_virtio_console libvm_virtio_console;

/**
 * struct libvm_virtio_console_options - a console (virtio 1.x, 5.3), one
 * port, no optional features (Linux calls it hvc0).
 * @size:      sizeof(struct libvm_virtio_console_options); set by the INIT macro.
 * @input_fd:  what the guest reads, or -1 for nothing (the default; 0 is
 *             stdin). Not owned (never closed); read by a thread of the
 *             device whenever the driver has receive buffers; end of file
 *             stops the reading.
 * @output_fd: where the guest's output goes, or -1 to discard it (the
 *             default; 0 is fd 0). Not owned.
 * @slot:      PCI slot 1 .. 31, or 0 for the first free one.
 */
typedef struct libvm_virtio_console_options {
	size_t size;
	int32_t input_fd;
	int32_t output_fd;
	uint8_t slot;
	uint8_t reserved0[7];
} libvm_virtio_console_options;

#define LIBVM_VIRTIO_CONSOLE_OPTIONS_INIT                                             \
	LIBVM__OPTIONS_INIT_WITH(libvm_virtio_console_options,                       \
				 libvm_virtio_console_options_init, .input_fd = -1,    \
				 .output_fd = -1)

/** libvm_virtio_console_options_init() - the defaults; see libvm_vm_options_init(). */
LIBVM_EXPORT int libvm_virtio_console_options_init(libvm_virtio_console_options *opts,
						   size_t size);

/**
 * libvm_virtio_console_attach() - add a virtio-console.
 * Returns: see the common rules; -EBADF for a descriptor that is not open;
 * -EAGAIN when the input thread cannot start.
 */
LIBVM_EXPORT int libvm_virtio_console_attach(libvm_virtio_console **out, libvm_pci_bus *bus,
					     const libvm_virtio_console_options *opts);

/** libvm_virtio_console_detach() - stop its thread and free it (the fds stay open). */
LIBVM_EXPORT void libvm_virtio_console_detach(libvm_virtio_console *console);

#ifdef __cplusplus
}
#endif

#endif /* LIBVM_VIRTIO_H */
