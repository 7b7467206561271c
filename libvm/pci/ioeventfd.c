/* SPDX-License-Identifier: MIT */
/*
 * ioeventfds at BAR offsets: a device asks for an eventfd at "BAR n +
 * offset" and the bus keeps the binding where the BAR decodes, moving it
 * when the guest reprograms the BAR and dropping it while Memory Space is
 * off or the BAR lies outside the window. A binding left at an old address
 * would keep swallowing the guest's writes there, whoever owns the address
 * now (see pci_internal.h). Everything here runs under the bus lock.
 */
#include <errno.h>

#include "pci_internal.h"

/* Where BAR @bar decodes for the guest now: as window_io() finds it. */
static uint64_t decoded_at(const libvm_pci_dev *d, uint32_t bar)
{
	const libvm_pci_bus *bus = d->bus;
	uint64_t base = libvm__pci_bar_addr(d, bar);

	if (!base || !(libvm__pci_cfg_read((libvm_pci_dev *)d, PCI_COMMAND, 2) & PCI_CMD_MEMORY))
		return 0;
	if (base < bus->mmio_base || base - bus->mmio_base + d->bar_size[bar] > bus->mmio_size)
		return 0;
	return base;
}

static void unbind(libvm_pci_dev *d, struct libvm__pci_evfd *e)
{
	if (!e->bound_at)
		return;
	/* Failure would mean it was not bound: nothing left to undo. */
	libvm_ioeventfd_remove(d->bus->vm, LIBVM_SPACE_MMIO, e->bound_at, e->len, e->fd, 0, 0);
	e->bound_at = 0;
}

static void sync_one(libvm_pci_dev *d, struct libvm__pci_evfd *e)
{
	uint64_t base = decoded_at(d, e->bar), want = base ? base + e->off : 0;

	if (e->bound_at == want)
		return;
	unbind(d, e);
	if (want &&
	    libvm_ioeventfd_add(d->bus->vm, LIBVM_SPACE_MMIO, want, e->len, e->fd, 0, 0) == 0)
		e->bound_at = want;
}

void libvm__pci_ioeventfd_sync(libvm_pci_dev *d)
{
	for (unsigned i = 0; i < LIBVM__PCI_EVFD_MAX; i++)
		if (d->evfd[i].len)
			sync_one(d, &d->evfd[i]);
}

void libvm__pci_ioeventfd_fini(libvm_pci_dev *d)
{
	for (unsigned i = 0; i < LIBVM__PCI_EVFD_MAX; i++) {
		if (!d->evfd[i].len)
			continue;
		unbind(d, &d->evfd[i]);
		d->evfd[i].len = 0;
	}
}

bool libvm__pci_dev_has_ioeventfd(libvm_pci_dev *d)
{
	bool has;

	pthread_mutex_lock(&d->bus->lock);
	has = libvm_has(d->bus->vm, LIBVM_CAP_IOEVENTFD) == 1;
	pthread_mutex_unlock(&d->bus->lock);
	return has;
}

int libvm__pci_dev_ioeventfd_attach(libvm_pci_dev *d, uint32_t bar, uint64_t off, uint32_t len,
				    int fd)
{
	struct libvm__pci_evfd *e = NULL;

	if (bar >= 6 || !d->bar_size[bar] || off >= d->bar_size[bar] ||
	    len > d->bar_size[bar] - off || fd < 0 || !(len == 1 || len == 2 || len == 4 || len == 8))
		return -EINVAL;
	pthread_mutex_lock(&d->bus->lock);
	for (unsigned i = 0; i < LIBVM__PCI_EVFD_MAX && !e; i++)
		if (!d->evfd[i].len)
			e = &d->evfd[i];
	if (e) {
		*e = (struct libvm__pci_evfd){ .fd = fd, .bar = (uint8_t)bar, .len = len, .off = off };
		sync_one(d, e);
	}
	pthread_mutex_unlock(&d->bus->lock);
	return e ? 0 : -ENOSPC;
}

void libvm__pci_dev_ioeventfd_detach(libvm_pci_dev *d, int fd)
{
	pthread_mutex_lock(&d->bus->lock);
	for (unsigned i = 0; i < LIBVM__PCI_EVFD_MAX; i++) {
		struct libvm__pci_evfd *e = &d->evfd[i];

		if (e->len && e->fd == fd) {
			unbind(d, e);
			e->len = 0;
		}
	}
	pthread_mutex_unlock(&d->bus->lock);
}
