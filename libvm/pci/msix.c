/* SPDX-License-Identifier: MIT */
/*
 * MSI-X (PCI Local Bus 3.0, 6.8.2): the capability, the vector table and
 * the pending bit array, kept by the bus for every device. A vector that
 * fires while it or the whole function is masked sets its pending bit; the
 * message goes out when the guest unmasks. Everything here runs with the
 * bus lock held.
 *
 * How a message goes out: where the VM has MSI routes and irqfd
 * (LIBVM_CAP_MSI_ROUTING, LIBVM_CAP_IRQFD), each vector the guest has
 * programmed and unmasked gets a route (libvm_msi_route_add()) carrying
 * its address and data, and an eventfd bound to that GSI; the route
 * follows the guest's rewrites of the entry, and a message is one write to
 * the eventfd. Otherwise, or for a vector whose binding failed, the message
 * goes out with libvm_msi_send() (KVM_SIGNAL_MSI), which needs no route.
 * Masking and the PBA are the same either way: the bus decides here
 * whether to send, and only then writes the eventfd.
 */
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "../state.h"
#include "pci_internal.h"

#define ENTRY_SIZE 16
#define VECTOR_CTRL 12
#define VECTOR_MASKED 1u

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void libvm__msix_init(libvm_pci_dev *d, uint16_t n, uint8_t bar, uint8_t cap)
{
	d->msix_cap = cap;
	d->msix_bar = bar;
	d->msix_n = n;
	d->cfg[cap] = PCI_CAP_ID_MSIX;
	d->cfg[cap + 2] = (uint8_t)(n - 1);
	d->cfg[cap + 3] = (uint8_t)((n - 1) >> 8);
	/* Table at offset 0, PBA at 0x800, both in BAR @bar (BIR in bits 2:0). */
	d->cfg[cap + 4] = bar;
	d->cfg[cap + 8] = bar;
	d->cfg[cap + 9] = LIBVM__PCI_MSIX_PBA >> 8;
	d->wmask[cap + 3] = (PCI_MSIX_ENABLE | PCI_MSIX_MASKALL) >> 8;
	/* Each vector's Mask bit is set after reset (6.8.2.9). */
	memset(d->msix_table, 0, sizeof(d->msix_table));
	for (uint16_t v = 0; v < n; v++)
		d->msix_table[v * ENTRY_SIZE + VECTOR_CTRL] = VECTOR_MASKED;
	memset(d->msix_pba, 0, sizeof(d->msix_pba));
}

static uint16_t control(const libvm_pci_dev *d)
{
	return (uint16_t)(d->cfg[d->msix_cap + 2] | d->cfg[d->msix_cap + 3] << 8);
}

static bool deliverable(const libvm_pci_dev *d, uint16_t v)
{
	uint16_t c = control(d);

	return (c & PCI_MSIX_ENABLE) && !(c & PCI_MSIX_MASKALL) &&
	       !(d->msix_table[v * ENTRY_SIZE + VECTOR_CTRL] & VECTOR_MASKED);
}

static uint64_t entry_addr(const libvm_pci_dev *d, uint16_t v)
{
	const uint8_t *e = d->msix_table + v * ENTRY_SIZE;

	return rd32(e) | (uint64_t)rd32(e + 4) << 32;
}

static uint32_t entry_data(const libvm_pci_dev *d, uint16_t v)
{
	return rd32(d->msix_table + v * ENTRY_SIZE + 8);
}

/* Does this bus deliver through irqfd? Asked of the VM once, when the first
 * vector is unmasked: the irqchip exists by then (it comes before vCPUs). */
static bool use_irqfd(libvm_pci_bus *bus)
{
	if (bus->msix_irqfd < 0) {
		bus->msix_irqfd = libvm_has(bus->vm, LIBVM_CAP_MSI_ROUTING) == 1 &&
				  libvm_has(bus->vm, LIBVM_CAP_IRQFD) == 1;
		libvm__log(bus->vm, LIBVM_LOG_DEBUG, "pci: MSI-X messages go out %s",
			   bus->msix_irqfd ? "through MSI routes and irqfds" :
					     "with KVM_SIGNAL_MSI (no MSI routing or irqfd)");
	}
	return bus->msix_irqfd == 1;
}

static void binding_failed(libvm_pci_dev *d, uint16_t v, const char *what, int err)
{
	d->msix_irqfd[v].failed = true;
	if (d->msix_warned)
		return;
	d->msix_warned = true;
	libvm__log(d->bus->vm, LIBVM_LOG_WARN,
		   "pci %s: MSI-X vector %u: %s failed (%s: %s); it and any other that fails "
		   "use KVM_SIGNAL_MSI", d->name, v, what, libvm_strerror(err),
		   libvm_error_message());
}

/* Give vector @v a route and a bound eventfd carrying its message. */
static void bind_vector(libvm_pci_dev *d, uint16_t v, uint64_t addr, uint32_t data)
{
	struct libvm__msix_irqfd *b = &d->msix_irqfd[v];
	uint32_t gsi;
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), err;

	if (fd < 0) {
		err = -errno;
		libvm__fail(err, "eventfd: %s", strerror(-err));
		binding_failed(d, v, "eventfd", err);
		return;
	}
	err = libvm_msi_route_add(&gsi, d->bus->vm, addr, data);
	if (err) {
		close(fd);
		binding_failed(d, v, "libvm_msi_route_add", err);
		return;
	}
	err = libvm_irqfd_add(d->bus->vm, fd, gsi);
	if (err) {
		binding_failed(d, v, "libvm_irqfd_add", err);
		libvm__msi_routes_remove(d->bus->vm, &gsi, 1);
		close(fd);
		return;
	}
	*b = (struct libvm__msix_irqfd){ .gsi = gsi, .fd = fd, .addr = addr, .data = data };
	libvm__log(d->bus->vm, LIBVM_LOG_DEBUG, "pci %s: MSI-X vector %u -> GSI %u (irqfd)",
		   d->name, v, gsi);
}

/*
 * Vector @v as the guest has it now: once it is programmed and unmasked,
 * it has a route with its current address and data (a rewrite updates it).
 * A masked vector keeps its route as it is until it is unmasked again.
 */
static void sync_vector(libvm_pci_dev *d, uint16_t v)
{
	struct libvm__msix_irqfd *b = &d->msix_irqfd[v];
	uint64_t addr;
	uint32_t data;
	int err;

	if (b->failed || !deliverable(d, v) || !use_irqfd(d->bus))
		return;
	addr = entry_addr(d, v);
	data = entry_data(d, v);
	if (!b->gsi) {
		bind_vector(d, v, addr, data);
		return;
	}
	if (b->addr == addr && b->data == data)
		return;
	err = libvm_msi_route_update(d->bus->vm, b->gsi, addr, data);
	if (err) {
		/* The route still carries the old message: stop using it. */
		uint32_t gsi = b->gsi;

		libvm_irqfd_remove(d->bus->vm, b->fd, gsi);
		libvm__msi_routes_remove(d->bus->vm, &gsi, 1);
		close(b->fd);
		b->gsi = 0;
		binding_failed(d, v, "libvm_msi_route_update", err);
		return;
	}
	b->addr = addr;
	b->data = data;
}

static int send(libvm_pci_dev *d, uint16_t v)
{
	struct libvm__msix_irqfd *b = &d->msix_irqfd[v];

	/* Normally a no-op: table writes and unmasking synced the route. */
	sync_vector(d, v);
	if (b->gsi) {
		uint64_t one = 1;

		/* Non-blocking, and the kernel drains the counter at once:
		 * it cannot be full. */
		if (write(b->fd, &one, sizeof(one)) == sizeof(one)) {
			d->msix_sent_irqfd++;
			return 0;
		}
	}
	d->msix_sent_msi++;
	return libvm_msi_send(d->bus->vm, entry_addr(d, v), entry_data(d, v));
}

void libvm__msix_fini(libvm_pci_dev *d)
{
	uint32_t gsi[LIBVM__PCI_MSIX_MAX];
	uint32_t n = 0;

	for (uint16_t v = 0; v < d->msix_n; v++) {
		struct libvm__msix_irqfd *b = &d->msix_irqfd[v];

		if (!b->gsi)
			continue;
		libvm_irqfd_remove(d->bus->vm, b->fd, b->gsi);
		close(b->fd);
		gsi[n++] = b->gsi;
		b->gsi = 0;
	}
	/* One table update for all of them. */
	if (n)
		libvm__msi_routes_remove(d->bus->vm, gsi, n);
	if (d->msix_sent_irqfd || d->msix_sent_msi)
		libvm__log(d->bus->vm, LIBVM_LOG_INFO,
			   "pci %s: %llu MSI-X messages through irqfd, %llu with KVM_SIGNAL_MSI",
			   d->name, (unsigned long long)d->msix_sent_irqfd,
			   (unsigned long long)d->msix_sent_msi);
}

/* Send what is pending and now deliverable. */
static void flush_pending(libvm_pci_dev *d)
{
	for (uint16_t v = 0; v < d->msix_n; v++) {
		if (!(d->msix_pba[v / 8] & (1u << (v % 8))) || !deliverable(d, v))
			continue;
		d->msix_pba[v / 8] &= (uint8_t)~(1u << (v % 8));
		send(d, v);
	}
}

void libvm__msix_control_changed(libvm_pci_dev *d)
{
	/* Enabling the function or clearing its mask may unmask vectors. */
	for (uint16_t v = 0; v < d->msix_n; v++)
		sync_vector(d, v);
	flush_pending(d);
}

int libvm__msix_notify_locked(libvm_pci_dev *d, uint16_t vector)
{
	if (!d->msix_cap || !(control(d) & PCI_MSIX_ENABLE))
		return -ENOENT;
	if (vector >= d->msix_n)
		return -EINVAL;
	if (!deliverable(d, vector)) {
		d->msix_pba[vector / 8] |= (uint8_t)(1u << (vector % 8));
		return 0;
	}
	return send(d, vector);
}

bool libvm__msix_bar_access(libvm_pci_dev *d, uint32_t bar, uint64_t off, void *data,
			    uint32_t len, bool is_write)
{
	uint64_t table_end = (uint64_t)d->msix_n * ENTRY_SIZE;
	uint64_t pba_end = LIBVM__PCI_MSIX_PBA + ((d->msix_n + 63u) / 64u) * 8u;
	uint8_t *p = data;

	if (!d->msix_cap || bar != d->msix_bar || off >= pba_end ||
	    (off >= table_end && off < LIBVM__PCI_MSIX_PBA))
		return false;
	if (off + len > pba_end || (off < table_end && off + len > table_end))
		return true; /* straddles the end: dropped, reads all-ones */
	if (off >= LIBVM__PCI_MSIX_PBA) {
		/* The PBA is read-only (6.8.2.10). */
		if (!is_write)
			for (uint32_t i = 0; i < len; i++) {
				uint64_t b = off - LIBVM__PCI_MSIX_PBA + i;

				p[i] = b < sizeof(d->msix_pba) ? d->msix_pba[b] : 0;
			}
		return true;
	}
	if (!is_write) {
		memcpy(p, d->msix_table + off, len);
		return true;
	}
	for (uint32_t i = 0; i < len; i++) {
		uint64_t o = off + i;

		if (o % ENTRY_SIZE == VECTOR_CTRL)
			d->msix_table[o] = p[i] & VECTOR_MASKED; /* other bits reserved */
		else if (o % ENTRY_SIZE < VECTOR_CTRL)
			d->msix_table[o] = p[i];
	}
	/* The entries written: a route for an unmasked one, or its new message. */
	for (uint64_t v = off / ENTRY_SIZE; v <= (off + len - 1) / ENTRY_SIZE; v++)
		sync_vector(d, (uint16_t)v);
	flush_pending(d);
	return true;
}

void libvm__msix_save(const libvm_pci_dev *d, struct libvm_state_writer *w)
{
	libvm__enc_bytes(w, d->msix_table, (size_t)d->msix_n * ENTRY_SIZE);
	libvm__enc_bytes(w, d->msix_pba, (d->msix_n + 7u) / 8u);
	/* The irqfd bindings: their routes are in the VM's saved table, so a
	 * restored vector keeps its GSI. */
	for (uint16_t v = 0; v < d->msix_n; v++) {
		const struct libvm__msix_irqfd *b = &d->msix_irqfd[v];

		libvm__enc_u32(w, b->gsi);
		libvm__enc_u64(w, b->gsi ? b->addr : 0);
		libvm__enc_u32(w, b->gsi ? b->data : 0);
		libvm__enc_bool(w, b->failed);
	}
}

void libvm__msix_decode(const libvm_pci_dev *d, struct libvm__dec *dec,
			struct libvm__msix_saved *s)
{
	memset(s, 0, sizeof(*s));
	libvm__dec_bytes(dec, s->table, (size_t)d->msix_n * ENTRY_SIZE);
	libvm__dec_bytes(dec, s->pba, (d->msix_n + 7u) / 8u);
	for (uint16_t v = 0; v < d->msix_n; v++) {
		s->bind[v].gsi = libvm__dec_u32(dec);
		s->bind[v].addr = libvm__dec_u64(dec);
		s->bind[v].data = libvm__dec_u32(dec);
		s->bind[v].failed = libvm__dec_bool(dec);
		/* Reserved bits of Vector Control read 0 (6.8.2.9); a route
		 * is never one of the irqchip's pins. */
		if ((s->table[v * ENTRY_SIZE + VECTOR_CTRL] & ~VECTOR_MASKED) ||
		    s->table[v * ENTRY_SIZE + VECTOR_CTRL + 1] ||
		    s->table[v * ENTRY_SIZE + VECTOR_CTRL + 2] ||
		    s->table[v * ENTRY_SIZE + VECTOR_CTRL + 3] ||
		    (s->bind[v].gsi && s->bind[v].gsi < LIBVM__FIRST_MSI_GSI))
			dec->short_read = true;
	}
	/* PBA bits past the last vector are reserved. */
	if (d->msix_n % 8 && (s->pba[d->msix_n / 8] >> (d->msix_n % 8)))
		dec->short_read = true;
}

void libvm__msix_restore(libvm_pci_dev *d, const struct libvm__msix_saved *s)
{
	libvm__msix_fini(d);
	memcpy(d->msix_table, s->table, (size_t)d->msix_n * ENTRY_SIZE);
	memset(d->msix_pba, 0, sizeof(d->msix_pba));
	memcpy(d->msix_pba, s->pba, (d->msix_n + 7u) / 8u);
	for (uint16_t v = 0; v < d->msix_n; v++) {
		struct libvm__msix_irqfd *b = &d->msix_irqfd[v];
		int fd, err;

		*b = (struct libvm__msix_irqfd){ .failed = s->bind[v].failed };
		if (!s->bind[v].gsi || b->failed || !use_irqfd(d->bus))
			continue;
		fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (fd < 0) {
			binding_failed(d, v, "eventfd", -errno);
			continue;
		}
		err = libvm_irqfd_add(d->bus->vm, fd, s->bind[v].gsi);
		if (err) {
			/* The route is not there (another backend): it goes out
			 * with send_msi from now on. */
			close(fd);
			binding_failed(d, v, "libvm_irqfd_add", err);
			continue;
		}
		*b = (struct libvm__msix_irqfd){ .gsi = s->bind[v].gsi, .fd = fd,
						 .addr = s->bind[v].addr, .data = s->bind[v].data };
	}
	/* A vector that is unmasked now and has no route yet gets one; one
	 * whose table entry differs from its route follows the table. */
	for (uint16_t v = 0; v < d->msix_n; v++)
		sync_vector(d, v);
}

LIBVM_EXPORT int libvm_pci_dev_msix_enabled(libvm_pci_dev *dev)
{
	int on;

	LIBVM__CHECK_PCI_DEV(dev, "libvm_pci_dev_msix_enabled");
	pthread_mutex_lock(&dev->bus->lock);
	on = dev->msix_cap && (control(dev) & PCI_MSIX_ENABLE);
	pthread_mutex_unlock(&dev->bus->lock);
	return on;
}

LIBVM_EXPORT int libvm_pci_dev_msix_notify(libvm_pci_dev *dev, uint16_t vector)
{
	int err;

	LIBVM__CHECK_PCI_DEV(dev, "libvm_pci_dev_msix_notify");
	pthread_mutex_lock(&dev->bus->lock);
	err = libvm__msix_notify_locked(dev, vector);
	pthread_mutex_unlock(&dev->bus->lock);
	if (err == -ENOENT)
		return libvm__fail(err, "pci %s: MSI-X is not enabled", dev->name);
	if (err == -EINVAL)
		return libvm__fail(err, "pci %s: MSI-X vector %u of %u", dev->name, vector,
				   dev->msix_n);
	return err;
}
