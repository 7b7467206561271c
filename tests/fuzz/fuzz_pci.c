/* SPDX-License-Identifier: MIT */
/*
 * The PCI bus with MSI-X and MSI routes: three devices (MSI-X in its own
 * BAR, MSI-X sharing a BAR with registers, INTx only) on a VM on the fake
 * backend with an irqchip, GSI routing and irqfds (it records them, as
 * KVM keeps them), so the MSI-X route/irqfd path runs as on KVM. Operations:
 * configuration cycles (CONFIG_ADDRESS of any width, data ports), accesses
 * anywhere in the window, vector notifications, INTx levels, MSI routes
 * added, updated and removed behind the bus's back, BAR-relative
 * ioeventfds, device removal and re-adding, and the DSDT AML.
 *
 * Invariants (after every operation): never two entries for one MSI GSI in
 * the table (the backend itself refuses one past its limit); an irqfd only
 * on a GSI that is an MSI route then, never twice, and no table that drops
 * a GSI an irqfd is bound to; INTx only on the bus's four GSIs; when the
 * bus is gone every irqfd and ioeventfd is unbound.
 */
#include <errno.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "fuzz.h"
#include "fakevm.h"
#include "pci/pci_internal.h"

static uint8_t irq_base;

static bool is_msi_route(const struct libvm__fake_vm *f, uint32_t gsi)
{
	for (uint32_t i = 0; i < f->nr_routes; i++)
		if (f->routes[i].gsi == gsi && f->routes[i].type == KVM_IRQ_ROUTING_MSI)
			return true;
	return false;
}

/*
 * What the fake backend was asked, checked after every operation: no MSI
 * GSI twice in the table, every irqfd on an MSI route of it, no table that
 * dropped a GSI with an irqfd still bound, INTx only on the bus's GSIs.
 */
static void check_backend(libvm_vm *vm)
{
	struct libvm__fake_vm *f = libvm__fake_vm(vm);

	for (uint32_t i = 0; i < f->nr_routes; i++) {
		if (f->routes[i].type != KVM_IRQ_ROUTING_MSI)
			continue;
		for (uint32_t j = 0; j < i; j++)
			if (f->routes[j].gsi == f->routes[i].gsi)
				fuzz_fail("MSI GSI %u routed twice", f->routes[i].gsi);
	}
	for (uint32_t i = 0; i < f->nr_irqfds; i++) {
		for (uint32_t j = 0; j < i; j++)
			if (f->irqfd[j].fd == f->irqfd[i].fd)
				fuzz_fail("irqfd %d bound twice", f->irqfd[i].fd);
		if (!is_msi_route(f, f->irqfd[i].gsi))
			fuzz_fail("irqfd %d on GSI %u, which is no MSI route", f->irqfd[i].fd,
				  f->irqfd[i].gsi);
	}
	if (f->routes_dropped_under_irqfd)
		fuzz_fail("a routing table dropped a GSI with an irqfd bound to it");
	for (int g = 0; g < 24; g++)
		if (f->irq_level[g] && (g < irq_base || g > irq_base + 3))
			fuzz_fail("INTx raised GSI %d; the bus has %u..%u", g, irq_base, irq_base + 3);
}

/* A device's own registers: a small register file. */
static int regs_fn(libvm_pci_dev *dev, uint32_t bar, uint64_t off, void *data, uint32_t len,
		   bool is_write, void *opaque)
{
	uint8_t *regs = opaque;

	(void)dev;
	if (bar > 5 || len > 8)
		fuzz_fail("BAR %u access of %u bytes", bar, len);
	off %= 256 - 8;
	if (is_write)
		memcpy(regs + off, data, len);
	else
		memcpy(data, regs + off, len);
	return 0;
}

static uint8_t regs[3][256];

static libvm_pci_dev *add_dev(libvm_pci_bus *bus, unsigned k, uint8_t slot)
{
	libvm_pci_dev_options o = LIBVM_PCI_DEV_OPTIONS_INIT;
	static const uint8_t vendor_cap[12] = { 0x09, 0, 12, 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	libvm_pci_cap cap = { vendor_cap, sizeof(vendor_cap), 0 };
	libvm_pci_dev *d;

	o.vendor_id = 0x1af4;
	o.device_id = (uint16_t)(0x1000 + k);
	o.slot = slot;
	o.bar_fn = regs_fn;
	o.opaque = regs[k];
	switch (k) {
	case 0: /* MSI-X in BAR 1, registers in BAR 0 */
		o.bar_size[0] = 0x1000;
		o.bar_size[1] = 0x1000;
		o.msix_vectors = 8;
		o.msix_bar = 1;
		o.interrupt_pin = 1;
		break;
	case 1: /* 128 vectors sharing BAR 2 with registers */
		o.bar_size[2] = 0x4000;
		o.msix_vectors = 128;
		o.msix_bar = 2;
		o.caps = &cap;
		o.nr_caps = 1;
		break;
	default: /* INTx only */
		o.bar_size[5] = 0x10000;
		o.interrupt_pin = (uint8_t)(1 + slot % 4);
		break;
	}
	return libvm_pci_dev_add(&d, bus, &o) ? NULL : d;
}

static void io(libvm_vcpu *c, enum libvm_space s, uint64_t addr, uint64_t v, uint32_t len,
	       bool write)
{
	libvm__iobus_dispatch(c->vm, s, c, addr, &v, len, write);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t lens[4] = { 1, 2, 4, 8 };
	libvm_pci_bus_options bo = LIBVM_PCI_BUS_OPTIONS_INIT;
	struct fin f = { data, size };
	libvm_pci_dev *dev[3];
	libvm_vcpu *vcpu;
	libvm_pci_bus *bus;
	libvm_vm *vm;
	char config[64];
	uint8_t cfg = fin_u8(&f);
	unsigned steps = 0, nmine = 0;
	uint32_t mine[64];
	int evfd[8];

	/* 24 .. 144 GSIs of routing; MSI-X through routes and irqfds, or not. */
	snprintf(config, sizeof(config), "routing=%u,irqfd=%u", 24 + 8 * (cfg & 15),
		 (cfg & 0x10) ? 1 : 0);
	vm = fakevm_new(config);
	if (libvm_irqchip_create(vm, 0))
		abort();
	vcpu = fakevm_vcpu(vm, 0);
	bo.irq_base = (uint8_t)(fin_u8(&f) % 21);
	if (libvm_pci_bus_attach(&bus, vm, &bo))
		abort();
	irq_base = bus->irq_base; /* 0 asks for the default (16) */
	for (unsigned k = 0; k < 3; k++)
		dev[k] = add_dev(bus, k, 0);
	for (int i = 0; i < 8; i++)
		evfd[i] = eventfd(0, EFD_CLOEXEC);

	while (f.n && steps++ < 4096) {
		uint8_t op = fin_u8(&f);
		uint32_t len = lens[(op >> 4) & 3];
		bool wr = op & 0x80;
		libvm_pci_dev *d = dev[fin_u8(&f) % 3];
		uint32_t gsi;

		switch (op & 15) {
		case 0: /* CONFIG_ADDRESS, any width and offset */
			io(vcpu, LIBVM_SPACE_PIO, 0xcf8 + fin_u8(&f) % 4, fin_u32(&f),
			   len == 8 ? 4 : len, wr);
			break;
		case 1: /* a configuration cycle to slot 0..3 */
		case 2:
			io(vcpu, LIBVM_SPACE_PIO, 0xcf8,
			   0x80000000u | (fin_u8(&f) % 4u) << 11 | (fin_u8(&f) & 0xfc), 4, true);
			io(vcpu, LIBVM_SPACE_PIO, 0xcfc + fin_u8(&f) % 4, fin_u32(&f),
			   len == 8 ? 4 : len, wr);
			break;
		case 3: /* anywhere in the window */
			io(vcpu, LIBVM_SPACE_MMIO, bus->mmio_base + fin_u32(&f) % bus->mmio_size,
			   fin_u64(&f), len, wr);
			break;
		case 4: /* the MSI-X table and PBA of device 0 or 1 */
		case 5: {
			unsigned k = op & 1;

			if (dev[k])
				io(vcpu, LIBVM_SPACE_MMIO,
				   libvm_pci_dev_bar_addr(dev[k], k ? 2 : 1) + fin_u16(&f) % 0x1000,
				   fin_u64(&f), len, wr);
			break;
		}
		case 6:
			if (d)
				libvm_pci_dev_msix_notify(d, fin_u16(&f) % 140);
			break;
		case 7:
			if (d)
				libvm_pci_dev_set_irq(d, wr);
			break;
		case 8: /* the embedder's own routes beside the bus's */
			if (libvm_msi_route_add(&gsi, vm, 0xfee00000 | fin_u16(&f), fin_u32(&f)) == 0) {
				if (!is_msi_route(libvm__fake_vm(vm), gsi))
					fuzz_fail("route %u added but not in the table", gsi);
				if (nmine < 64)
					mine[nmine++] = gsi;
			}
			break;
		case 9:
			/* Only its own: libvm_msi_route_update/remove() also take
			 * the GSIs of the bus's vectors, and the bus's irqfd then
			 * raises nothing (reported, not the bus's doing). */
			if (nmine)
				libvm_msi_route_update(vm, mine[fin_u8(&f) % nmine], 0xfee00000,
						       fin_u32(&f));
			break;
		case 10:
			if (nmine) {
				unsigned k = fin_u8(&f) % nmine;

				libvm_msi_route_remove(vm, mine[k]);
				mine[k] = mine[--nmine];
			}
			break;
		case 11: /* the backend refuses the next routing tables */
			libvm__fake_vm(vm)->fail[LIBVM__FAKE_set_gsi_routing] = wr ? -ENOMEM : 0;
			break;
		case 12:
			if (d) {
				int fd = evfd[fin_u8(&f) % 8];

				if (wr)
					libvm__pci_dev_ioeventfd_detach(d, fd);
				else
					libvm__pci_dev_ioeventfd_attach(d, fin_u8(&f) % 6, fin_u16(&f),
									len, fd);
			}
			break;
		case 13: { /* unplug and plug again */
			unsigned k = fin_u8(&f) % 3;

			if (dev[k]) {
				libvm_pci_dev_remove(dev[k]);
				dev[k] = NULL;
			} else {
				dev[k] = add_dev(bus, k, (uint8_t)(fin_u8(&f) % 32));
			}
			break;
		}
		case 14: {
			uint8_t aml[4096];
			size_t n = fin_u8(&f) % 2 ? sizeof(aml) : fin_u16(&f) % sizeof(aml);

			libvm_pci_acpi_aml(bus, aml, &n);
			break;
		}
		default:
			(void)libvm_pci_dev_msix_enabled(d);
			break;
		}
		check_backend(vm);
	}
	libvm__fake_vm(vm)->fail[LIBVM__FAKE_set_gsi_routing] = 0;
	if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "%u MSIs signalled, %u irqfds, %u table entries, %u ioeventfds\n",
			libvm__fake_vm(vm)->msis, libvm__fake_vm(vm)->nr_irqfds,
			libvm__fake_vm(vm)->nr_routes, libvm__fake_vm(vm)->nr_ioeventfds);
	libvm_pci_bus_detach(bus);
	if (libvm__fake_vm(vm)->nr_irqfds)
		fuzz_fail("%u irqfds still bound after the bus is gone", libvm__fake_vm(vm)->nr_irqfds);
	if (libvm__fake_vm(vm)->nr_ioeventfds)
		fuzz_fail("%u ioeventfds still bound after the bus is gone",
			  libvm__fake_vm(vm)->nr_ioeventfds);
	libvm_vm_destroy(vm);
	for (int i = 0; i < 8; i++)
		close(evfd[i]);
	return 0;
}
