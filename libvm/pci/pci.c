/* SPDX-License-Identifier: MIT */
/*
 * PCI host bridge and bus 0: configuration mechanism #1 (PCI Local Bus
 * 3.0, 3.2.2.3.2), type 0 headers with write masks, 32-bit memory BARs
 * served from one claimed MMIO window, INTx swizzled onto four GSIs
 * (wired-OR per GSI, since several slots share one), and the device
 * interface of include/libvm/pci.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pci_internal.h"

/* Host bridge identity: Red Hat's ID for a generic virtual host bridge. */
#define HOST_VENDOR 0x1b36
#define HOST_DEVICE 0x0008
#define CLASS_HOST_BRIDGE 0x060000


uint64_t libvm__pci_bar_addr(const libvm_pci_dev *d, uint32_t i)
{
	if (i >= 6 || !d->bar_size[i])
		return 0;
	if (d->bar_io & (1u << i))
		return libvm__le32(d->cfg + PCI_BAR0 + 4 * i) & 0xfffcu;
	return libvm__le32(d->cfg + PCI_BAR0 + 4 * i) & ~0xfu;
}

uint32_t libvm__pci_cfg_read(libvm_pci_dev *d, uint32_t reg, uint32_t len)
{
	uint32_t v = 0;

	for (uint32_t i = 0; i < len && reg + i < 256; i++)
		v |= (uint32_t)d->cfg[reg + i] << (8 * i);
	return v;
}

static void intx_update(libvm_pci_dev *d);

void libvm__pci_cfg_write(libvm_pci_dev *d, uint32_t reg, uint32_t val, uint32_t len)
{
	bool msix_touched = false;

	for (uint32_t i = 0; i < len && reg + i < 256; i++) {
		uint32_t o = reg + i;
		uint8_t m = d->wmask[o], b = (uint8_t)(val >> (8 * i));

		d->cfg[o] = (uint8_t)((d->cfg[o] & ~m) | (b & m));
		if (d->msix_cap && o >= d->msix_cap + 2u && o < d->msix_cap + 4u)
			msix_touched = true;
	}
	/* Command register: INTx Disable may hide or reveal the pin. */
	if (reg < PCI_COMMAND + 2 && reg + len > PCI_COMMAND)
		intx_update(d);
	/* Memory Space or a BAR address changed: ioeventfds follow the BARs. */
	if ((reg < PCI_COMMAND + 2 && reg + len > PCI_COMMAND) ||
	    (reg < PCI_BAR0 + 24 && reg + len > PCI_BAR0))
		libvm__pci_ioeventfd_sync(d);
	if (msix_touched)
		libvm__msix_control_changed(d);
}

/* Recompute the GSI this device's pin feeds (bus lock held). */
static void intx_update(libvm_pci_dev *d)
{
	libvm_pci_bus *bus = d->bus;
	uint8_t pin = d->cfg[PCI_INTERRUPT_PIN];
	unsigned idx;
	bool level = false;

	if (!pin || !bus)
		return;
	/* Interrupt Status reflects the device's condition regardless of the disable bit (6.2.3). */
	d->cfg[PCI_STATUS] = (uint8_t)((d->cfg[PCI_STATUS] & ~PCI_STATUS_INTX) |
				       (d->intx_level ? PCI_STATUS_INTX : 0));
	idx = (d->slot + pin - 1u) % 4u;
	/* Wired-OR: the GSI is high while any pin routed to it is. */
	for (unsigned s = 1; s < LIBVM__PCI_SLOTS; s++) {
		libvm_pci_dev *o = bus->slots[s];
		uint16_t ocmd;

		if (!o || !o->cfg[PCI_INTERRUPT_PIN] ||
		    (o->slot + o->cfg[PCI_INTERRUPT_PIN] - 1u) % 4u != idx)
			continue;
		ocmd = (uint16_t)libvm__pci_cfg_read(o, PCI_COMMAND, 2);
		if (o->intx_level && !(ocmd & PCI_CMD_INTX_DISABLE))
			level = true;
	}
	if (level != bus->gsi_level[idx]) {
		bus->gsi_level[idx] = level;
		libvm__dev_irq(bus->vm, bus->irq_base + (int)idx, level);
	}
}

static libvm_pci_dev *addressed(libvm_pci_bus *bus, uint32_t *reg)
{
	uint32_t a = bus->config_address;
	uint32_t busno = (a >> 16) & 0xff, dev = (a >> 11) & 0x1f, fn = (a >> 8) & 7;

	if (!(a & 0x80000000u) || busno != 0 || fn != 0)
		return NULL;
	*reg = a & 0xfc;
	return dev == 0 ? &bus->host : bus->slots[dev];
}

/* Ports @port .. @port + 7: CONFIG_ADDRESS (32-bit only) and CONFIG_DATA. */
static int config_io(libvm_vcpu *vcpu, uint64_t addr, void *data, uint32_t len, bool is_write,
		     void *opaque)
{
	libvm_pci_bus *bus = opaque;
	uint32_t off = (uint32_t)(addr - bus->ranges[0].base), reg = 0, v = 0;
	uint8_t *d = data;
	libvm_pci_dev *dev;

	(void)vcpu;
	pthread_mutex_lock(&bus->lock);
	if (off < 4) {
		/* Only a dword access at CONFIG_ADDRESS latches it (3.2.2.3.2);
		 * byte accesses there belong to other mechanisms: ignored. */
		if (off == 0 && len == 4) {
			if (is_write)
				bus->config_address = libvm__le32(d) & 0x80fffffcu;
			else
				libvm__put32(d, bus->config_address);
		}
		pthread_mutex_unlock(&bus->lock);
		return 0;
	}
	dev = addressed(bus, &reg);
	reg += off - 4;
	if (is_write) {
		for (uint32_t i = 0; i < len; i++)
			v |= (uint32_t)d[i] << (8 * i);
		if (dev && reg + len <= 256)
			libvm__pci_cfg_write(dev, reg, v, len);
	} else {
		/* Nothing there: all-ones, which the caller preset. */
		if (dev && reg + len <= 256) {
			v = libvm__pci_cfg_read(dev, reg, len);
			for (uint32_t i = 0; i < len; i++)
				d[i] = (uint8_t)(v >> (8 * i));
		}
	}
	pthread_mutex_unlock(&bus->lock);
	return 0;
}

/* A window (MMIO, or the I/O ports of I/O BARs): find the BAR among the
 * devices that decode that space, then let MSI-X or the device answer. */
static int bar_access(libvm_pci_bus *bus, bool io, uint64_t addr, void *data, uint32_t len,
		      bool is_write)
{
	uint16_t enable = io ? PCI_CMD_IO : PCI_CMD_MEMORY;
	libvm_pci_dev *hit = NULL;
	uint32_t bar = 0;
	uint64_t off = 0;

	pthread_mutex_lock(&bus->lock);
	for (unsigned s = 1; s < LIBVM__PCI_SLOTS && !hit; s++) {
		libvm_pci_dev *d = bus->slots[s];

		if (!d || !(libvm__pci_cfg_read(d, PCI_COMMAND, 2) & enable))
			continue;
		for (uint32_t i = 0; i < 6; i++) {
			uint64_t base = libvm__pci_bar_addr(d, i);

			if (!!(d->bar_io & (1u << i)) != io)
				continue;
			if (base && addr >= base && addr - base < d->bar_size[i] &&
			    len <= d->bar_size[i] - (addr - base)) {
				hit = d;
				bar = i;
				off = addr - base;
				break;
			}
		}
	}
	if (hit && !io && libvm__msix_bar_access(hit, bar, off, data, len, is_write)) {
		pthread_mutex_unlock(&bus->lock);
		return 0;
	}
	pthread_mutex_unlock(&bus->lock);
	if (hit && hit->bar_fn)
		return hit->bar_fn(hit, bar, off, data, len, is_write, hit->opaque);
	return 0; /* no BAR decodes it: reads all-ones, writes dropped */
}

static int window_io(libvm_vcpu *vcpu, uint64_t addr, void *data, uint32_t len, bool is_write,
		     void *opaque)
{
	(void)vcpu;
	return bar_access(opaque, false, addr, data, len, is_write);
}

static int ioport_io(libvm_vcpu *vcpu, uint64_t addr, void *data, uint32_t len, bool is_write,
		     void *opaque)
{
	(void)vcpu;
	return bar_access(opaque, true, addr, data, len, is_write);
}

static void bus_release(void *bus)
{
	libvm_pci_bus_detach(bus);
}

LIBVM_EXPORT int libvm_pci_bus_attach(libvm_pci_bus **out, libvm_vm *vm,
				      const libvm_pci_bus_options *opts)
{
	libvm_pci_bus_options o = LIBVM_PCI_BUS_OPTIONS_INIT;
	libvm_pci_bus *bus;
	libvm_pci_dev *h;
	int err;

	if (!out)
		return libvm__fail(-EINVAL, "libvm_pci_bus_attach: out is NULL");
	LIBVM__CHECK_VM(vm, "libvm_pci_bus_attach");
	err = libvm__dev_options(&o, sizeof(o), opts, "libvm_pci_bus_attach");
	if (err)
		return err;
	/* Zero means the default (pci.h). */
	if (!o.port)
		o.port = 0xcf8;
	if (!o.irq_base)
		o.irq_base = 16;
	if (!o.mmio_base)
		o.mmio_base = 0xc0000000ull;
	if (!o.mmio_size)
		o.mmio_size = 0x20000000ull;
	if (!libvm__dev_ports_ok(o.port, 8))
		return libvm__fail(-EINVAL, "pci: ports 0x%x+8 go past 0xffff", o.port);
	if (o.irq_base > 20)
		return libvm__fail(-EINVAL, "pci: GSIs %u..%u are not all IOAPIC pins", o.irq_base,
				   o.irq_base + 3);
	if (!o.mmio_size || (o.mmio_base & 0xfff) || (o.mmio_size & 0xfff) ||
	    o.mmio_base > 0x100000000ull || o.mmio_size > 0x100000000ull - o.mmio_base)
		return libvm__fail(-EINVAL, "pci: window 0x%llx+0x%llx is not 4 KiB aligned below 4 GiB",
				   (unsigned long long)o.mmio_base, (unsigned long long)o.mmio_size);
	bus = calloc(1, sizeof(*bus));
	if (!bus)
		return libvm__fail(-ENOMEM, "pci: out of memory");
	bus->magic = LIBVM__MAGIC_PCI_BUS;
	bus->vm = vm;
	pthread_mutex_init(&bus->lock, NULL);
	pthread_mutex_init(&bus->io_window_lock, NULL);
	bus->irq_base = o.irq_base;
	bus->mmio_base = bus->mmio_next = o.mmio_base;
	bus->mmio_size = o.mmio_size;
	bus->io_next = LIBVM__PCI_IO_BASE;
	bus->msix_irqfd = -1;
	h = &bus->host;
	h->bus = bus;
	snprintf(h->name, sizeof(h->name), "pci-host");
	libvm__put16(h->cfg + PCI_VENDOR_ID, HOST_VENDOR);
	libvm__put16(h->cfg + PCI_VENDOR_ID + 2, HOST_DEVICE);
	libvm__put32(h->cfg + PCI_REVISION, CLASS_HOST_BRIDGE << 8);
	libvm__put16(h->wmask + PCI_COMMAND, PCI_CMD_MEMORY | PCI_CMD_MASTER);
	bus->ranges[0] = (struct libvm__devrange){ LIBVM_SPACE_PIO, o.port, 8, "pci-config",
						   config_io };
	bus->ranges[1] = (struct libvm__devrange){ LIBVM_SPACE_MMIO, o.mmio_base, o.mmio_size,
						   "pci-window", window_io };
	/* Claimed with the first I/O BAR (claim_io_window()): a bus without
	 * one leaves those ports to the VMM, as before I/O BARs existed. */
	bus->ranges[2] = (struct libvm__devrange){ LIBVM_SPACE_PIO, LIBVM__PCI_IO_BASE,
						   LIBVM__PCI_IO_SIZE, "pci-io-window", ioport_io };
	err = libvm__dev_register(vm, bus->ranges, 2, bus, bus_release);
	if (err) {
		pthread_mutex_destroy(&bus->io_window_lock);
		pthread_mutex_destroy(&bus->lock);
		free(bus);
		return err;
	}
	*out = bus;
	return 0;
}

LIBVM_EXPORT void libvm_pci_bus_detach(libvm_pci_bus *bus)
{
	if (!libvm__live(bus, LIBVM__MAGIC_PCI_BUS) ||
	    !libvm__dev_unregister(bus->vm, bus->ranges, bus->io_window ? 3 : 2, bus))
		return;
	/* Devices of libvm's own on the bus (virtio) are detached first, as
	 * their owners would: they hold their slots and run threads that
	 * still use them. Then the embedder's devices, freed as documented. */
	libvm__vm_release_children(bus->vm, bus);
	for (unsigned s = 1; s < LIBVM__PCI_SLOTS; s++) {
		if (!bus->slots[s])
			continue;
		pthread_mutex_lock(&bus->lock);
		libvm__pci_ioeventfd_fini(bus->slots[s]);
		libvm__msix_fini(bus->slots[s]);
		pthread_mutex_unlock(&bus->lock);
		libvm__bury(bus->slots[s], sizeof(*bus->slots[s]));
	}
	pthread_mutex_destroy(&bus->io_window_lock);
	pthread_mutex_destroy(&bus->lock);
	libvm__bury(bus, sizeof(*bus));
}

libvm_pci_bus *libvm__pci_dev_bus(const libvm_pci_dev *dev)
{
	return dev->bus;
}

LIBVM_EXPORT libvm_vm *libvm_pci_bus_vm(const libvm_pci_bus *bus)
{
	return libvm__live(bus, LIBVM__MAGIC_PCI_BUS) ? bus->vm : NULL;
}

static int check_dev_options(const libvm_pci_dev_options *o)
{
	bool any_bar = false;

	if (o->slot >= LIBVM__PCI_SLOTS)
		return libvm__fail(-EINVAL, "pci: slot %u; bus 0 has 1 .. 31", o->slot);
	if (o->interrupt_pin > 4)
		return libvm__fail(-EINVAL, "pci: interrupt pin %u; 0 none, 1 .. 4 INTA .. INTD",
				   o->interrupt_pin);
	if (o->class_code > 0xffffff)
		return libvm__fail(-EINVAL, "pci: class code 0x%x is wider than 24 bits",
				   o->class_code);
	for (int i = 0; i < 6; i++) {
		uint32_t s = o->bar_size[i];

		if (!s)
			continue;
		if ((o->bar_io & (1u << i)) && (s < 4 || s > 0x100 || (s & (s - 1))))
			return libvm__fail(-EINVAL,
					   "pci: I/O BAR %d size 0x%x is not a power of two of 4 .. 256 bytes",
					   i, s);
		if (!(o->bar_io & (1u << i)) && (s < 0x1000 || s > 0x10000000 || (s & (s - 1))))
			return libvm__fail(-EINVAL,
					   "pci: BAR %d size 0x%x is not a power of two of 4 KiB .. 256 MiB",
					   i, s);
		any_bar = true;
	}
	if (o->bar_io & ~0x3fu)
		return libvm__fail(-EINVAL, "pci: bar_io 0x%x names BARs beyond 5", o->bar_io);
	if (o->msix_vectors && (o->bar_io & (1u << o->msix_bar)))
		return libvm__fail(-EINVAL, "pci: the MSI-X BAR %u must be a memory BAR", o->msix_bar);
	if (any_bar && !o->bar_fn)
		return libvm__fail(-EINVAL, "pci: BARs without a bar_fn");
	if (o->msix_vectors > LIBVM__PCI_MSIX_MAX)
		return libvm__fail(-EINVAL, "pci: %u MSI-X vectors; at most %u", o->msix_vectors,
				   LIBVM__PCI_MSIX_MAX);
	if (o->msix_vectors && (o->msix_bar >= 6 || !o->bar_size[o->msix_bar]))
		return libvm__fail(-EINVAL, "pci: the MSI-X table's BAR %u does not exist",
				   o->msix_bar);
	if (o->nr_caps > LIBVM__PCI_CAP_MAX || (o->nr_caps && !o->caps))
		return libvm__fail(-EINVAL, "pci: %u capabilities; at most %u, and caps non-NULL",
				   o->nr_caps, LIBVM__PCI_CAP_MAX);
	for (uint32_t i = 0; i < o->nr_caps; i++)
		if (!o->caps[i].data || o->caps[i].len < 2 || o->caps[i].len > 64)
			return libvm__fail(-EINVAL, "pci: capability %u: length %u, want 2 .. 64", i,
					   o->caps[i].len);
	return 0;
}

/* The I/O window's ports, for the first device with an I/O BAR. */
static int claim_io_window(libvm_pci_bus *bus)
{
	int err = 0;

	pthread_mutex_lock(&bus->io_window_lock);
	if (!bus->io_window) {
		err = libvm_io_register(bus->vm, bus->ranges[2].space, bus->ranges[2].base,
					bus->ranges[2].length, bus->ranges[2].name,
					bus->ranges[2].fn, bus);
		if (err) {
			char why[256]; /* the message is the buffer libvm__fail() fills */

			snprintf(why, sizeof(why), "%s", libvm_error_message());
			libvm__fail(err, "pci: the I/O window 0x%x-0x%x for I/O BARs: %s",
				    LIBVM__PCI_IO_BASE, LIBVM__PCI_IO_BASE + LIBVM__PCI_IO_SIZE - 1,
				    why);
		} else {
			bus->io_window = true;
		}
	}
	pthread_mutex_unlock(&bus->io_window_lock);
	return err;
}

LIBVM_EXPORT int libvm_pci_dev_add(libvm_pci_dev **out, libvm_pci_bus *bus,
				   const libvm_pci_dev_options *opts)
{
	libvm_pci_dev_options o;
	libvm_pci_dev *d;
	uint64_t next;
	uint32_t io_next;
	uint8_t slot, *prev;
	uint32_t at = 0x40; /* wide: a full space must not wrap to 0 */
	int err;

	if (!out || !opts)
		return libvm__fail(-EINVAL, "libvm_pci_dev_add: %s is NULL", out ? "opts" : "out");
	LIBVM__CHECK_PCI_BUS(bus, "libvm_pci_dev_add");
	memset(&o, 0, sizeof(o));
	err = libvm__copy_options(&o, sizeof(o), opts, "libvm_pci_dev_add");
	if (err)
		return err;
	err = check_dev_options(&o);
	if (err)
		return err;
	for (int i = 0; i < 6; i++)
		if (o.bar_size[i] && (o.bar_io & (1u << i)) && (err = claim_io_window(bus)))
			return err;
	d = calloc(1, sizeof(*d));
	if (!d)
		return libvm__fail(-ENOMEM, "pci: out of memory");
	d->magic = LIBVM__MAGIC_PCI_DEV;
	d->bus = bus;
	snprintf(d->name, sizeof(d->name), "%s", o.name ? o.name : "pci-device");
	libvm__put16(d->cfg + PCI_VENDOR_ID, o.vendor_id);
	libvm__put16(d->cfg + PCI_VENDOR_ID + 2, o.device_id);
	libvm__put32(d->cfg + PCI_REVISION, o.class_code << 8 | o.revision);
	libvm__put16(d->cfg + PCI_SUBSYSTEM_VENDOR, o.subsystem_vendor_id);
	libvm__put16(d->cfg + PCI_SUBSYSTEM_VENDOR + 2, o.subsystem_id);
	d->cfg[PCI_INTERRUPT_PIN] = o.interrupt_pin;
	d->wmask[PCI_INTERRUPT_LINE] = 0xff;
	d->wmask[0x0c] = 0xff; /* cache line size: scratch */
	libvm__put16(d->wmask + PCI_COMMAND,
		     PCI_CMD_IO | PCI_CMD_MEMORY | PCI_CMD_MASTER | PCI_CMD_INTX_DISABLE);
	memcpy(d->bar_size, o.bar_size, sizeof(d->bar_size));
	d->bar_io = o.bar_io;
	d->bar_fn = o.bar_fn;
	d->opaque = o.opaque;
	/* Capabilities: MSI-X first, then the device's own, dword aligned. */
	prev = &d->cfg[PCI_CAP_PTR];
	if (o.msix_vectors) {
		*prev = (uint8_t)at;
		libvm__msix_init(d, o.msix_vectors, o.msix_bar, (uint8_t)at);
		prev = &d->cfg[at + 1];
		at += 12;
	}
	for (uint32_t i = 0; i < o.nr_caps; i++) {
		uint32_t len = o.caps[i].len;

		if (at + len > 256) {
			free(d);
			return libvm__fail(-EINVAL, "pci: capabilities do not fit configuration space");
		}
		*prev = (uint8_t)at;
		memcpy(d->cfg + at, o.caps[i].data, len);
		d->cfg[at + 1] = 0;
		prev = &d->cfg[at + 1];
		at = (at + len + 3) & ~3u;
	}
	if (d->cfg[PCI_CAP_PTR])
		libvm__put16(d->cfg + PCI_STATUS, PCI_STATUS_CAP_LIST);

	pthread_mutex_lock(&bus->lock);
	slot = o.slot;
	if (!slot) {
		for (slot = 1; slot < LIBVM__PCI_SLOTS && bus->slots[slot]; slot++)
			;
		if (slot == LIBVM__PCI_SLOTS) {
			pthread_mutex_unlock(&bus->lock);
			free(d);
			return libvm__fail(-ENOSPC, "pci: all 31 slots are taken");
		}
	} else if (bus->slots[slot]) {
		pthread_mutex_unlock(&bus->lock);
		free(d);
		return libvm__fail(-EEXIST, "pci: slot %u is taken by %s", slot,
				   bus->slots[slot]->name);
	}
	/* I/O BARs: naturally aligned in the I/O window (bit 0 says I/O). */
	io_next = bus->io_next;
	for (int i = 0; i < 6; i++) {
		uint32_t s = o.bar_size[i];

		if (!s || !(o.bar_io & (1u << i)))
			continue;
		io_next = (io_next + s - 1) & ~(s - 1);
		if (io_next + s > LIBVM__PCI_IO_BASE + LIBVM__PCI_IO_SIZE) {
			pthread_mutex_unlock(&bus->lock);
			free(d);
			return libvm__fail(-ENOSPC, "pci: I/O BAR %d of 0x%x ports does not fit the I/O window",
					   i, s);
		}
		libvm__put32(d->cfg + PCI_BAR0 + 4 * i, io_next | 1);
		libvm__put32(d->wmask + PCI_BAR0 + 4 * i, 0xffffu & ~(s - 1) & ~0x3u);
		io_next += s;
	}
	/* Memory BARs: naturally aligned, in the window, in order. */
	next = bus->mmio_next;
	for (int i = 0; i < 6; i++) {
		uint64_t s = o.bar_size[i];

		if (!s || (o.bar_io & (1u << i)))
			continue;
		next = (next + s - 1) & ~(s - 1);
		if (next + s > bus->mmio_base + bus->mmio_size) {
			pthread_mutex_unlock(&bus->lock);
			free(d);
			return libvm__fail(-ENOSPC, "pci: BAR %d of 0x%llx bytes does not fit the window",
					   i, (unsigned long long)s);
		}
		libvm__put32(d->cfg + PCI_BAR0 + 4 * i, (uint32_t)next); /* 32-bit, non-prefetchable */
		libvm__put32(d->wmask + PCI_BAR0 + 4 * i, ~(uint32_t)(s - 1) & ~0xfu);
		next += s;
	}
	bus->mmio_next = next;
	bus->io_next = io_next;
	d->slot = slot;
	bus->slots[slot] = d;
	pthread_mutex_unlock(&bus->lock);
	*out = d;
	return 0;
}

LIBVM_EXPORT void libvm_pci_dev_remove(libvm_pci_dev *dev)
{
	libvm_pci_bus *bus;

	if (!libvm__live(dev, LIBVM__MAGIC_PCI_DEV))
		return;
	bus = dev->bus;
	pthread_mutex_lock(&bus->lock);
	dev->intx_level = false;
	intx_update(dev);
	libvm__pci_ioeventfd_fini(dev);
	libvm__msix_fini(dev);
	bus->slots[dev->slot] = NULL;
	pthread_mutex_unlock(&bus->lock);
	libvm__bury(dev, sizeof(*dev));
}

LIBVM_EXPORT int libvm_pci_dev_slot(const libvm_pci_dev *dev)
{
	LIBVM__CHECK_PCI_DEV(dev, "libvm_pci_dev_slot");
	return dev->slot;
}

LIBVM_EXPORT uint64_t libvm_pci_dev_bar_addr(libvm_pci_dev *dev, uint32_t bar)
{
	uint64_t a;

	if (!libvm__live(dev, LIBVM__MAGIC_PCI_DEV))
		return 0;
	pthread_mutex_lock(&dev->bus->lock);
	a = libvm__pci_bar_addr(dev, bar);
	pthread_mutex_unlock(&dev->bus->lock);
	return a;
}

LIBVM_EXPORT int libvm_pci_dev_set_irq(libvm_pci_dev *dev, bool level)
{
	LIBVM__CHECK_PCI_DEV(dev, "libvm_pci_dev_set_irq");
	if (!dev->cfg[PCI_INTERRUPT_PIN])
		return libvm__fail(-EINVAL, "libvm_pci_dev_set_irq: the device has no interrupt pin");
	pthread_mutex_lock(&dev->bus->lock);
	dev->intx_level = level;
	intx_update(dev);
	pthread_mutex_unlock(&dev->bus->lock);
	return 0;
}
