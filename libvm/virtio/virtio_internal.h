/* SPDX-License-Identifier: MIT */
/*
 * The virtio-over-PCI transport shared by the virtio devices (virtio 1.x,
 * 4.1, modern interface only). A device embeds struct libvm__virtio as its
 * first member, fills in the ops and calls libvm__virtio_init(). The
 * transport owns the common configuration, ISR, notification and device
 * configuration regions of BAR 0, feature negotiation, the device status
 * and the queues; the device only processes requests and owns its config.
 *
 * Locking: every entry point from the guest takes the device lock; the ops
 * run with it held. Devices with threads of their own (net's receiver) take
 * it too before touching queues. Lock order: device lock, then bus lock.
 *
 * Notifications: a guest write to a queue's notification address either
 * exits to the BAR handler, which processes the queue on the vCPU thread,
 * or, where the backend has ioeventfd, signals an eventfd in the kernel and
 * the device's worker thread processes the queue; both paths call the same
 * queue_notify op under the lock, and a queue falls back to the first when
 * binding its eventfd fails.
 */
#ifndef LIBVM_VIRTIO_INTERNAL_H
#define LIBVM_VIRTIO_INTERNAL_H

#include <pthread.h>

#include <libvm/pci.h>
#include <libvm/virtio.h>

#include "../internal.h"
#include "virtqueue.h"

/* pci.c: the bus a device sits on (virtio devices are its children). */
libvm_pci_bus *libvm__pci_dev_bus(const libvm_pci_dev *dev);

#define LIBVM__VIRTIO_MAX_QUEUES 4

/* Feature bits (virtio 1.x, 6). */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32

/* Device status bits (2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED 128

/* BAR 0 layout: one page per structure. */
#define LIBVM__VIRTIO_COMMON 0x0000
#define LIBVM__VIRTIO_COMMON_LEN 0x38
#define LIBVM__VIRTIO_ISR 0x1000
#define LIBVM__VIRTIO_DEVCFG 0x2000
#define LIBVM__VIRTIO_NOTIFY 0x3000
#define LIBVM__VIRTIO_NOTIFY_MULT 4
#define LIBVM__VIRTIO_BAR0_SIZE 0x4000

struct libvm__virtio;

struct libvm__virtio_ops {
	uint32_t device_type;   /* virtio device ID (5): 1 net, 2 blk, 3 console, 4 rng */
	uint32_t class_code;    /* PCI class for the function */
	uint64_t features;      /* device-specific features offered */
	uint16_t num_queues;
	uint16_t queue_size;
	uint32_t config_size;
	/* Device configuration space access (@off inside it, bounds checked). */
	void (*config_read)(struct libvm__virtio *v, uint32_t off, void *data, uint32_t len);
	void (*config_write)(struct libvm__virtio *v, uint32_t off, const void *data, uint32_t len);
	/* The driver notified queue @q (DRIVER_OK set, queue enabled). */
	void (*queue_notify)(struct libvm__virtio *v, uint16_t q);
	/* The driver reset the device (status 0); queues are already reset. */
	void (*reset)(struct libvm__virtio *v);
};

struct libvm__virtio {
	uint32_t magic;             /* the device's handle magic (internal.h) */
	pthread_mutex_t lock;
	const struct libvm__virtio_ops *ops;
	libvm_vm *vm;
	libvm_pci_dev *pci;
	struct libvm__vmem mem;     /* the VM's memory, for the virtqueue functions */
	uint64_t offered;           /* ops->features | transport features */
	uint64_t driver_features;
	uint32_t dfselect, gfselect;
	uint8_t status;
	uint8_t config_generation;
	uint8_t isr;
	bool intx;                  /* INTx line driven */
	uint16_t msix_config;
	uint16_t queue_select;
	uint16_t msix_vectors;
	struct libvm__vq vq[LIBVM__VIRTIO_MAX_QUEUES];
	const char *name;
	struct libvm__vq_req req;   /* scratch for chain walking (lock held) */
	/* ioeventfd (when the backend has it): one eventfd per queue, given
	 * to the bus at its notification offset of BAR 0 while the queue is
	 * enabled (the bus binds it where BAR 0 decodes, and moves it with
	 * BAR 0), and a worker thread that processes the queues they signal. */
	bool use_ioeventfd;
	int qfd[LIBVM__VIRTIO_MAX_QUEUES];
	bool qfd_bound[LIBVM__VIRTIO_MAX_QUEUES]; /* given to the bus */
	int stopfd;
	pthread_t worker;
};

/*
 * Set up @v for @vm and plug it into @bus at @slot (0: first free).
 * The caller's ops and name must outlive @v. Returns 0 or a negative errno.
 */
int libvm__virtio_init(struct libvm__virtio *v, libvm_pci_bus *bus, uint8_t slot,
		       const struct libvm__virtio_ops *ops, const char *name);
void libvm__virtio_fini(struct libvm__virtio *v);

/* A guest access to BAR 0 at @off (lock taken inside). */
int libvm__virtio_bar_access(struct libvm__virtio *v, uint64_t off, void *data, uint32_t len,
			     bool is_write);

/* Lock held: queue @q got used entries; interrupt the driver if it wants. */
void libvm__virtio_used(struct libvm__virtio *v, uint16_t q);
/*
 * Lock held: serve queue @q. Takes at most one ring's worth of requests
 * (a driver that keeps adding buffers cannot hold the caller for ever);
 * for each one @handle does the work on v->req and returns the used length;
 * the chain goes back to the used ring. A malformed ring or a used ring
 * outside RAM breaks the device (@what names the queue in the message).
 * Interrupts the driver once, if anything was used.
 */
void libvm__virtio_serve(struct libvm__virtio *v, uint16_t q, const char *what,
			 uint32_t (*handle)(struct libvm__virtio *v));
/* Lock held: the driver broke the device; set NEEDS_RESET and tell it (2.1.2). */
void libvm__virtio_broken(struct libvm__virtio *v, const char *why, int err);
/* Lock held: may the device process queues (DRIVER_OK, not NEEDS_RESET)? */
bool libvm__virtio_running(const struct libvm__virtio *v);
/* Feature @bit negotiated. */
static inline bool libvm__virtio_has(const struct libvm__virtio *v, unsigned bit)
{
	return (v->driver_features >> bit) & 1;
}

#endif
