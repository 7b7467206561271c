/* SPDX-License-Identifier: MIT */
/*
 * MSI-X (PCI Local Bus 3.0, 6.8.2): the capability, the vector table and
 * the pending bit array, kept by the bus for every device. A vector that
 * fires while it or the whole function is masked sets its pending bit; the
 * message goes out when the guest unmasks. Messages are sent with
 * libvm_msi_send() (KVM_SIGNAL_MSI), which needs no GSI routing table.
 * Everything here runs with the bus lock held.
 */
#include <errno.h>
#include <string.h>

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

static int send(libvm_pci_dev *d, uint16_t v)
{
	const uint8_t *e = d->msix_table + v * ENTRY_SIZE;
	uint64_t addr = rd32(e) | (uint64_t)rd32(e + 4) << 32;

	if (!d->bus->send_msi)
		return 0;
	return d->bus->send_msi(d->bus->vm, addr, rd32(e + 8));
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
	flush_pending(d);
	return true;
}

LIBVM_EXPORT int libvm_pci_dev_msix_enabled(libvm_pci_dev *dev)
{
	int on;

	if (!dev)
		return libvm__fail(-EINVAL, "libvm_pci_dev_msix_enabled: dev is NULL");
	pthread_mutex_lock(&dev->bus->lock);
	on = dev->msix_cap && (control(dev) & PCI_MSIX_ENABLE);
	pthread_mutex_unlock(&dev->bus->lock);
	return on;
}

LIBVM_EXPORT int libvm_pci_dev_msix_notify(libvm_pci_dev *dev, uint16_t vector)
{
	int err;

	if (!dev)
		return libvm__fail(-EINVAL, "libvm_pci_dev_msix_notify: dev is NULL");
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
