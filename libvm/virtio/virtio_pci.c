/* SPDX-License-Identifier: MIT */
/*
 * virtio over PCI, modern interface only (virtio 1.x, 4.1): the vendor
 * capabilities pointing into BAR 0, the common configuration structure
 * (4.1.4.3), the ISR (4.1.4.5), notifications (4.1.4.4), device status and
 * feature negotiation (3.1.1), and interrupts: the MSI-X vector the driver
 * assigned, or INTx with the ISR when MSI-X is off (4.1.5.3, 4.1.5.4).
 * Queue notifications are processed by the device's worker thread when the
 * backend has ioeventfd (no exit to this process), else synchronously on the
 * notifying vCPU's thread; interrupts go out through the bus's MSI-X
 * (an irqfd per vector where the VM has MSI routing, else KVM_SIGNAL_MSI)
 * or the IOAPIC line.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "../pci/pci_internal.h"
#include "virtio_internal.h"

#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_PCI_DEVICE_BASE 0x1040 /* + device type (4.1.2.1) */
#define VIRTIO_PCI_SUBSYS 0x0040
#define NO_VECTOR 0xffff

/* virtio_pci_cap cfg_type values (4.1.4). */
#define CAP_COMMON 1
#define CAP_NOTIFY 2
#define CAP_ISR 3
#define CAP_DEVICE 4

static int vm_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	return libvm_mem_read(ctx, gpa, buf, len);
}

static int vm_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	/* A device writes as the guest's agent: never into its ROM. */
	return libvm_mem_dma_write(ctx, gpa, buf, len);
}


bool libvm__virtio_running(const struct libvm__virtio *v)
{
	return (v->status & VIRTIO_STATUS_DRIVER_OK) &&
	       !(v->status & (VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED));
}

static void interrupt(struct libvm__virtio *v, uint16_t vector, uint8_t isr_bit)
{
	v->isr |= isr_bit;
	if (libvm_pci_dev_msix_enabled(v->pci) == 1) {
		if (vector != NO_VECTOR)
			libvm_pci_dev_msix_notify(v->pci, vector);
		return;
	}
	if (!v->intx) {
		v->intx = true;
		libvm_pci_dev_set_irq(v->pci, true);
	}
}

void libvm__virtio_serve(struct libvm__virtio *v, uint16_t q, const char *what,
			 uint32_t (*handle)(struct libvm__virtio *v))
{
	struct libvm__vq *vq = &v->vq[q];
	bool used = false;
	int r;

	for (unsigned n = 0; n < vq->size && (r = libvm__vq_pop(vq, &v->mem, &v->req)) != 0; n++) {
		if (r < 0) {
			libvm__virtio_broken(v, what, r);
			break;
		}
		if (libvm__vq_push(vq, &v->mem, v->req.head, handle(v))) {
			libvm__virtio_broken(v, "used ring outside guest RAM", -EFAULT);
			break;
		}
		used = true;
	}
	if (used)
		libvm__virtio_used(v, q);
}

void libvm__virtio_used(struct libvm__virtio *v, uint16_t q)
{
	struct libvm__vq *vq = &v->vq[q];

	if (libvm__vq_should_notify(vq, &v->mem))
		interrupt(v, vq->msix_vector, 1);
}

void libvm__virtio_broken(struct libvm__virtio *v, const char *why, int err)
{
	if (v->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	libvm__log(v->vm, LIBVM_LOG_WARN, "%s: %s (%s); device needs reset", v->name, why,
		   libvm_strerror(err));
	v->status |= VIRTIO_STATUS_NEEDS_RESET;
	v->config_generation++;
	interrupt(v, v->msix_config, 2); /* a configuration change (4.1.4.5) */
}

/* Detach queue @q's eventfd from its notification address (lock held). */
static void unbind_eventfd(struct libvm__virtio *v, unsigned q)
{
	uint64_t cnt;

	if (!v->qfd_bound[q])
		return;
	libvm__pci_dev_ioeventfd_detach(v->pci, v->qfd[q]);
	v->qfd_bound[q] = false;
	if (read(v->qfd[q], &cnt, sizeof(cnt)) < 0) {
		/* nothing pending */
	}
}

/*
 * Queue @q was enabled: let its notifications bypass this process. The bus
 * keeps the eventfd where BAR 0 decodes, also after the guest moves it.
 */
static void bind_eventfd(struct libvm__virtio *v, unsigned q)
{
	if (!v->use_ioeventfd)
		return;
	/* Drivers write the 16-bit queue index (4.1.4.4); any value counts. */
	if (libvm__pci_dev_ioeventfd_attach(v->pci, 0,
					    LIBVM__VIRTIO_NOTIFY + LIBVM__VIRTIO_NOTIFY_MULT * q, 2,
					    v->qfd[q]) == 0)
		v->qfd_bound[q] = true;
	/* else: the write exits to the BAR handler, which works as well */
}

static void reset(struct libvm__virtio *v)
{
	for (unsigned q = 0; q < v->ops->num_queues; q++) {
		unbind_eventfd(v, q);
		libvm__vq_reset(&v->vq[q]);
	}
	v->status = 0;
	v->driver_features = 0;
	v->dfselect = v->gfselect = 0;
	v->isr = 0;
	v->msix_config = NO_VECTOR;
	v->queue_select = 0;
	if (v->intx) {
		v->intx = false;
		libvm_pci_dev_set_irq(v->pci, false);
	}
	if (v->ops->reset)
		v->ops->reset(v);
}

static void common_snapshot(struct libvm__virtio *v, uint8_t *c)
{
	const struct libvm__vq *vq = v->queue_select < v->ops->num_queues ?
				     &v->vq[v->queue_select] : NULL;

	memset(c, 0, LIBVM__VIRTIO_COMMON_LEN);
	libvm__put_le(c + 0x00, v->dfselect, 4);
	libvm__put_le(c + 0x04, v->dfselect < 2 ? (uint32_t)(v->offered >> (32 * v->dfselect)) : 0, 4);
	libvm__put_le(c + 0x08, v->gfselect, 4);
	libvm__put_le(c + 0x0c, v->gfselect < 2 ? (uint32_t)(v->driver_features >> (32 * v->gfselect)) : 0,
	       4);
	libvm__put_le(c + 0x10, v->msix_config, 2);
	libvm__put_le(c + 0x12, v->ops->num_queues, 2);
	c[0x14] = v->status;
	c[0x15] = v->config_generation;
	libvm__put_le(c + 0x16, v->queue_select, 2);
	if (!vq)
		return; /* queue_size 0: no such queue (4.1.4.3.2) */
	libvm__put_le(c + 0x18, vq->size, 2);
	libvm__put_le(c + 0x1a, vq->msix_vector, 2);
	libvm__put_le(c + 0x1c, vq->enabled, 2);
	libvm__put_le(c + 0x1e, v->queue_select, 2); /* queue_notify_off */
	libvm__put_le(c + 0x20, vq->desc, 8);
	libvm__put_le(c + 0x28, vq->avail, 8);
	libvm__put_le(c + 0x30, vq->used, 8);
}

static uint16_t valid_vector(const struct libvm__virtio *v, uint16_t vec)
{
	/* A vector the function lacks maps to NO_VECTOR, which the driver
	 * reads back to learn the mapping failed (4.1.5.1.2). */
	return vec < v->msix_vectors ? vec : NO_VECTOR;
}

static void enable_queue(struct libvm__virtio *v, struct libvm__vq *vq, unsigned q)
{
	if (!vq->size || (vq->size & (vq->size - 1)) || vq->size > vq->max_size) {
		libvm__virtio_broken(v, "queue size is not a power of two within the maximum",
				     -EINVAL);
		return;
	}
	/* Alignment of the three parts (2.7, Table "Virtqueue Part Alignment"). */
	if ((vq->desc & 15) || (vq->avail & 1) || (vq->used & 3)) {
		libvm__virtio_broken(v, "misaligned queue", -EINVAL);
		return;
	}
	vq->event_idx = libvm__virtio_has(v, VIRTIO_F_EVENT_IDX);
	vq->indirect = libvm__virtio_has(v, VIRTIO_F_INDIRECT_DESC);
	vq->enabled = true;
	bind_eventfd(v, q);
}

static void set_status(struct libvm__virtio *v, uint8_t s)
{
	if (s == 0) {
		reset(v);
		return;
	}
	if ((s & VIRTIO_STATUS_FEATURES_OK) && !(v->status & VIRTIO_STATUS_FEATURES_OK)) {
		/* Refuse features we did not offer, and legacy drivers (3.1.1). */
		if ((v->driver_features & ~v->offered) ||
		    !libvm__virtio_has(v, VIRTIO_F_VERSION_1))
			s &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
	}
	/* Only a reset clears status bits (2.1.2): a driver that writes some
	 * of them back as 0 does not get to renegotiate features under
	 * running queues, whose event-index and indirect settings were taken
	 * at enable time. */
	s |= v->status;
	/* DRIVER_OK without accepted features is a driver error (3.1.1). */
	if ((s & VIRTIO_STATUS_DRIVER_OK) && !(s & VIRTIO_STATUS_FEATURES_OK))
		s |= VIRTIO_STATUS_NEEDS_RESET;
	v->status = s;
}

static void common_write(struct libvm__virtio *v, uint32_t off, uint64_t val, uint32_t len)
{
	struct libvm__vq *vq = v->queue_select < v->ops->num_queues ?
			       &v->vq[v->queue_select] : NULL;

	if (len == 8 && (off == 0x20 || off == 0x28 || off == 0x30)) {
		common_write(v, off, val & 0xffffffffu, 4);
		common_write(v, off + 4, val >> 32, 4);
		return;
	}
	switch (off) {
	case 0x00:
		if (len == 4)
			v->dfselect = (uint32_t)val;
		break;
	case 0x08:
		if (len == 4)
			v->gfselect = (uint32_t)val;
		break;
	case 0x0c:
		/* Features are fixed once FEATURES_OK is set (3.1.1 step 5). */
		if (len == 4 && v->gfselect < 2 && !(v->status & VIRTIO_STATUS_FEATURES_OK)) {
			uint64_t mask = 0xffffffffull << (32 * v->gfselect);

			v->driver_features = (v->driver_features & ~mask) |
					     ((uint64_t)(uint32_t)val << (32 * v->gfselect));
		}
		break;
	case 0x10:
		if (len == 2)
			v->msix_config = valid_vector(v, (uint16_t)val);
		break;
	case 0x14:
		if (len == 1)
			set_status(v, (uint8_t)val);
		break;
	case 0x16:
		if (len == 2)
			v->queue_select = (uint16_t)val;
		break;
	case 0x18:
		if (len == 2 && vq && !vq->enabled)
			vq->size = (uint16_t)val;
		break;
	case 0x1a:
		if (len == 2 && vq)
			vq->msix_vector = valid_vector(v, (uint16_t)val);
		break;
	case 0x1c:
		/* Only 1 may be written; disabling is done by reset (4.1.4.3.2). */
		if (len == 2 && vq && val == 1 && !vq->enabled)
			enable_queue(v, vq, v->queue_select);
		break;
	case 0x20: case 0x24: case 0x28: case 0x2c: case 0x30: case 0x34:
		if (len == 4 && vq && !vq->enabled) {
			uint64_t *f = off < 0x28 ? &vq->desc : off < 0x30 ? &vq->avail : &vq->used;
			int shift = (off & 4) ? 32 : 0;

			*f = (*f & ~(0xffffffffull << shift)) | (val & 0xffffffffull) << shift;
		}
		break;
	default:
		break; /* read-only fields */
	}
}

int libvm__virtio_bar_access(struct libvm__virtio *v, uint64_t off, void *data, uint32_t len,
			     bool is_write)
{
	uint8_t *d = data;

	pthread_mutex_lock(&v->lock);
	if (off < LIBVM__VIRTIO_COMMON_LEN) {
		if (off + len > LIBVM__VIRTIO_COMMON_LEN) {
			/* straddles the end: ignored */
		} else if (is_write) {
			common_write(v, (uint32_t)off, libvm__get_le(d, (int)len), len);
		} else {
			uint8_t c[LIBVM__VIRTIO_COMMON_LEN];

			common_snapshot(v, c);
			memcpy(d, c + off, len);
		}
	} else if (off == LIBVM__VIRTIO_ISR) {
		/* Reading the ISR clears it and the INTx line (4.1.4.5.1). */
		if (!is_write) {
			memset(d, 0, len);
			d[0] = v->isr;
			v->isr = 0;
			if (v->intx) {
				v->intx = false;
				libvm_pci_dev_set_irq(v->pci, false);
			}
		}
	} else if (off >= LIBVM__VIRTIO_DEVCFG && off < LIBVM__VIRTIO_DEVCFG + v->ops->config_size) {
		uint32_t o = (uint32_t)(off - LIBVM__VIRTIO_DEVCFG);

		if (len <= v->ops->config_size - o) {
			if (!is_write && v->ops->config_read)
				v->ops->config_read(v, o, d, len);
			else if (is_write && v->ops->config_write)
				v->ops->config_write(v, o, d, len);
		}
	} else if (off >= LIBVM__VIRTIO_NOTIFY && is_write) {
		uint64_t q = (off - LIBVM__VIRTIO_NOTIFY) / LIBVM__VIRTIO_NOTIFY_MULT;

		if (q < v->ops->num_queues && v->vq[q].enabled && libvm__virtio_running(v))
			v->ops->queue_notify(v, (uint16_t)q);
	}
	pthread_mutex_unlock(&v->lock);
	return 0;
}

/* The worker: queues whose eventfd fired, processed as a notify would be. */
static void *worker_main(void *arg)
{
	struct libvm__virtio *v = arg;
	unsigned nq = v->ops->num_queues;
	bool warned = false;

	for (;;) {
		struct pollfd p[1 + LIBVM__VIRTIO_MAX_QUEUES];

		p[0] = (struct pollfd){ .fd = v->stopfd, .events = POLLIN };
		for (unsigned q = 0; q < nq; q++)
			p[1 + q] = (struct pollfd){ .fd = v->qfd[q], .events = POLLIN };
		if (poll(p, 1 + nq, -1) < 0) {
			/*
			 * With these fds only EINTR and ENOMEM can happen. Ending
			 * here would leave the guest's notifications unanswered
			 * for good, so say so once and try again shortly.
			 */
			if (errno != EINTR) {
				if (!warned)
					libvm__log(v->vm, LIBVM_LOG_WARN, "%s: poll on the queue eventfds failed: %s; retrying",
						   v->name, strerror(errno));
				warned = true;
				nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
			}
			continue;
		}
		if (p[0].revents)
			break;
		for (unsigned q = 0; q < nq; q++) {
			uint64_t cnt;

			if (!(p[1 + q].revents & POLLIN) || read(v->qfd[q], &cnt, sizeof(cnt)) < 0)
				continue;
			pthread_mutex_lock(&v->lock);
			if (v->vq[q].enabled && libvm__virtio_running(v))
				v->ops->queue_notify(v, (uint16_t)q);
			pthread_mutex_unlock(&v->lock);
		}
	}
	return NULL;
}

static void close_eventfds(struct libvm__virtio *v)
{
	for (unsigned q = 0; q < LIBVM__VIRTIO_MAX_QUEUES; q++) {
		if (v->qfd[q] >= 0)
			close(v->qfd[q]);
		v->qfd[q] = -1;
	}
	if (v->stopfd >= 0)
		close(v->stopfd);
	v->stopfd = -1;
	v->use_ioeventfd = false;
}

/* ioeventfd where the backend has it; without, notifications exit as MMIO. */
static void start_worker(struct libvm__virtio *v)
{
	if (!libvm__pci_dev_has_ioeventfd(v->pci))
		return;
	v->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	for (unsigned q = 0; q < v->ops->num_queues; q++)
		v->qfd[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	v->use_ioeventfd = v->stopfd >= 0;
	for (unsigned q = 0; q < v->ops->num_queues; q++)
		if (v->qfd[q] < 0)
			v->use_ioeventfd = false;
	if (!v->use_ioeventfd || pthread_create(&v->worker, NULL, worker_main, v) != 0)
		close_eventfds(v);
}

static int bar_fn(libvm_pci_dev *dev, uint32_t bar, uint64_t off, void *data, uint32_t len,
		  bool is_write, void *opaque)
{
	(void)dev;
	if (bar != 0)
		return 0; /* BAR 1 holds only the MSI-X table and PBA */
	return libvm__virtio_bar_access(opaque, off, data, len, is_write);
}

static void vendor_cap(uint8_t *c, uint8_t len, uint8_t type, uint32_t off, uint32_t length)
{
	/* struct virtio_pci_cap (4.1.4): vndr, next, len, cfg_type, bar, id, pad, offset, length. */
	memset(c, 0, len);
	c[0] = 0x09;
	c[2] = len;
	c[3] = type;
	c[4] = 0;
	libvm__put_le(c + 8, off, 4);
	libvm__put_le(c + 12, length, 4);
}

int libvm__virtio_init(struct libvm__virtio *v, libvm_pci_bus *bus, uint8_t slot,
		       const struct libvm__virtio_ops *ops, const char *name)
{
	libvm_pci_dev_options o = LIBVM_PCI_DEV_OPTIONS_INIT;
	uint8_t caps[4][20];
	libvm_pci_cap cap[4];
	uint32_t ncaps = 0;
	int err;

	v->ops = ops;
	v->name = name;
	v->vm = libvm_pci_bus_vm(bus);
	v->mem = (struct libvm__vmem){ vm_read, vm_write, v->vm };
	v->offered = ops->features | 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_F_EVENT_IDX |
		     1ull << VIRTIO_F_INDIRECT_DESC;
	v->msix_vectors = (uint16_t)(ops->num_queues + 1);
	for (unsigned q = 0; q < ops->num_queues; q++)
		v->vq[q].max_size = ops->queue_size;
	for (unsigned q = 0; q < LIBVM__VIRTIO_MAX_QUEUES; q++)
		v->qfd[q] = -1;
	v->stopfd = -1;
	pthread_mutex_init(&v->lock, NULL);

	vendor_cap(caps[ncaps], 16, CAP_COMMON, LIBVM__VIRTIO_COMMON, LIBVM__VIRTIO_COMMON_LEN);
	cap[ncaps] = (libvm_pci_cap){ caps[ncaps], 16, 0 };
	ncaps++;
	vendor_cap(caps[ncaps], 20, CAP_NOTIFY, LIBVM__VIRTIO_NOTIFY,
		   LIBVM__VIRTIO_NOTIFY_MULT * ops->num_queues);
	libvm__put_le(caps[ncaps] + 16, LIBVM__VIRTIO_NOTIFY_MULT, 4); /* notify_off_multiplier */
	cap[ncaps] = (libvm_pci_cap){ caps[ncaps], 20, 0 };
	ncaps++;
	vendor_cap(caps[ncaps], 16, CAP_ISR, LIBVM__VIRTIO_ISR, 1);
	cap[ncaps] = (libvm_pci_cap){ caps[ncaps], 16, 0 };
	ncaps++;
	if (ops->config_size) {
		vendor_cap(caps[ncaps], 16, CAP_DEVICE, LIBVM__VIRTIO_DEVCFG, ops->config_size);
		cap[ncaps] = (libvm_pci_cap){ caps[ncaps], 16, 0 };
		ncaps++;
	}
	o.vendor_id = VIRTIO_PCI_VENDOR;
	o.device_id = (uint16_t)(VIRTIO_PCI_DEVICE_BASE + ops->device_type);
	o.subsystem_vendor_id = VIRTIO_PCI_VENDOR;
	o.subsystem_id = VIRTIO_PCI_SUBSYS;
	o.revision = 1; /* non-transitional (4.1.2.1) */
	o.class_code = ops->class_code;
	o.slot = slot;
	o.interrupt_pin = 1;
	o.bar_size[0] = LIBVM__VIRTIO_BAR0_SIZE;
	o.bar_size[1] = 0x1000;
	o.msix_vectors = v->msix_vectors;
	o.msix_bar = 1;
	o.caps = cap;
	o.nr_caps = ncaps;
	o.bar_fn = bar_fn;
	o.opaque = v;
	o.name = name;
	err = libvm_pci_dev_add(&v->pci, bus, &o);
	if (err) {
		pthread_mutex_destroy(&v->lock);
		return err;
	}
	pthread_mutex_lock(&v->lock);
	v->status = 1; /* so that reset() runs the device's reset too */
	reset(v);
	pthread_mutex_unlock(&v->lock);
	start_worker(v);
	return 0;
}

void libvm__virtio_fini(struct libvm__virtio *v)
{
	if (v->use_ioeventfd) {
		uint64_t one = 1;

		if (write(v->stopfd, &one, sizeof(one)) < 0) {
			/* cannot fail: the counter is far from full */
		}
		pthread_join(v->worker, NULL);
		pthread_mutex_lock(&v->lock);
		for (unsigned q = 0; q < v->ops->num_queues; q++)
			unbind_eventfd(v, q);
		pthread_mutex_unlock(&v->lock);
		close_eventfds(v);
	}
	libvm_pci_dev_remove(v->pci);
	v->pci = NULL;
	pthread_mutex_destroy(&v->lock);
}
