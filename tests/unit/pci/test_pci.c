/* SPDX-License-Identifier: MIT */
/*
 * PCI bus through its ports and window, with no KVM: configuration
 * mechanism #1 (the address latch, the host bridge Linux's sanity check
 * looks for, all-ones for empty slots), BAR sizing and placement, memory
 * decoding, MSI-X masking and pending bits (sent with libvm_msi_send() or
 * through MSI routes and irqfds), INTx swizzling with wired-OR
 * and Interrupt Disable, option checks, BAR-relative ioeventfds (the
 * binding follows the BAR, refused arguments), and the DSDT AML. The VM is
 * on the fake backend, which records the pin levels, MSIs, routes, irqfds
 * and ioeventfds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "../dev/devtest.h"
#include "pci/pci_internal.h"

/* The fake backend of the VM under test: the MSIs it was sent
 * (msis, last_msi), its pin levels, routes and irqfds. */
static struct libvm__fake_vm *fk;

/* A VM with an irqchip on the fake backend (@config: its keys or NULL). */
static libvm_vm *pci_vm(const char *config)
{
	libvm_vm *vm = devtest_vm_on(config);

	assert_int_equal(libvm_irqchip_create(vm, 0), 0);
	fk = libvm__fake_vm(vm);
	return vm;
}

static uint64_t msi_addr(void)
{
	return fk->last_msi.address_lo | (uint64_t)fk->last_msi.address_hi << 32;
}

struct bar_log {
	int n;
	uint32_t bar;
	uint64_t off;
	uint32_t len;
	bool is_write;
	uint32_t value;
};

static int bar_fn(libvm_pci_dev *dev, uint32_t bar, uint64_t off, void *data, uint32_t len,
		  bool is_write, void *opaque)
{
	struct bar_log *l = opaque;

	(void)dev;
	l->n++;
	l->bar = bar;
	l->off = off;
	l->len = len;
	l->is_write = is_write;
	if (is_write)
		memcpy(&l->value, data, len < 4 ? len : 4);
	else
		memset(data, 0x42, len);
	return 0;
}

static libvm_pci_bus *bus_new(libvm_vm *vm)
{
	libvm_pci_bus *bus;

	assert_int_equal(libvm_pci_bus_attach(&bus, vm, NULL), 0);
	return bus;
}

static uint32_t cfg_rd(libvm_vcpu *v, uint32_t slot, uint32_t reg, uint32_t len)
{
	devtest_out(v, 0xcf8, 0x80000000u | slot << 11 | (reg & 0xfc), 4);
	return devtest_in(v, (uint16_t)(0xcfc + (reg & 3)), len);
}

static void cfg_wr(libvm_vcpu *v, uint32_t slot, uint32_t reg, uint32_t val, uint32_t len)
{
	devtest_out(v, 0xcf8, 0x80000000u | slot << 11 | (reg & 0xfc), 4);
	devtest_out(v, (uint16_t)(0xcfc + (reg & 3)), val, len);
}

static uint64_t mmio_rd(libvm_vcpu *v, uint64_t addr, uint32_t len)
{
	uint64_t x = ~0ull;

	assert_int_equal(devtest_io(v, LIBVM_SPACE_MMIO, addr, &x, len, false), 1);
	if (len < 8)
		x &= (1ull << (8 * len)) - 1;
	return x;
}

static void mmio_wr(libvm_vcpu *v, uint64_t addr, uint64_t x, uint32_t len)
{
	assert_int_equal(devtest_io(v, LIBVM_SPACE_MMIO, addr, &x, len, true), 1);
}

static void test_config_mechanism_1(void **state)
{
	libvm_vm *vm = pci_vm(NULL);
	libvm_vcpu *v = devtest_vcpu(vm);
	libvm_pci_bus *bus = bus_new(vm);

	(void)state;
	(void)bus;
	/* Linux's pci_check_type1: byte write to 0xcfb ignored, dword latch reads back. */
	devtest_out(v, 0xcf8, 0x12345678, 4);
	devtest_out(v, 0xcfb, 0x01, 1);
	assert_int_equal(devtest_in(v, 0xcf8, 4), 0x12345678 & 0x80fffffc);
	devtest_out(v, 0xcf8, 0x80000000, 4);
	assert_int_equal(devtest_in(v, 0xcf8, 4), 0x80000000);
	/* 00.0 is a host bridge (class 06 00 00). */
	assert_int_equal(cfg_rd(v, 0, 0x00, 2), 0x1b36);
	assert_int_equal(cfg_rd(v, 0, 0x0a, 2), 0x0600);
	assert_int_equal(cfg_rd(v, 0, 0x0e, 1), 0);
	/* Empty slots, other functions, other buses and the disabled latch: all-ones. */
	assert_int_equal(cfg_rd(v, 5, 0x00, 4), 0xffffffff);
	devtest_out(v, 0xcf8, 0x80000100, 4);
	assert_int_equal(devtest_in(v, 0xcfc, 4), 0xffffffff);
	devtest_out(v, 0xcf8, 0x80010000, 4);
	assert_int_equal(devtest_in(v, 0xcfc, 4), 0xffffffff);
	devtest_out(v, 0xcf8, 0x00000000, 4);
	assert_int_equal(devtest_in(v, 0xcfc, 4), 0xffffffff);
	/* The host bridge's ID registers are read-only. */
	cfg_wr(v, 0, 0, 0, 4);
	assert_int_equal(cfg_rd(v, 0, 0x00, 2), 0x1b36);
	devtest_vm_free(vm);
}

static libvm_pci_dev *add_dev(libvm_pci_bus *bus, struct bar_log *log, uint8_t slot)
{
	static const uint8_t vcap[] = { 0x09, 0xee, 16, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0 };
	libvm_pci_cap cap = { .data = vcap, .len = sizeof(vcap) };
	libvm_pci_dev_options o = LIBVM_PCI_DEV_OPTIONS_INIT;
	libvm_pci_dev *d;

	o.vendor_id = 0x1af4;
	o.device_id = 0x1042;
	o.subsystem_vendor_id = 0x1af4;
	o.subsystem_id = 0x40;
	o.class_code = 0x018000;
	o.revision = 1;
	o.slot = slot;
	o.interrupt_pin = 1;
	o.bar_size[0] = 0x4000;
	o.bar_size[1] = 0x1000;
	o.msix_vectors = 3;
	o.msix_bar = 1;
	o.caps = &cap;
	o.nr_caps = 1;
	o.bar_fn = bar_fn;
	o.opaque = log;
	o.name = "test";
	assert_int_equal(libvm_pci_dev_add(&d, bus, &o), 0);
	return d;
}

static void test_header_and_bars(void **state)
{
	libvm_vm *vm = pci_vm(NULL);
	libvm_vcpu *v = devtest_vcpu(vm);
	libvm_pci_bus *bus = bus_new(vm);
	struct bar_log log = { 0 };
	libvm_pci_dev *d = add_dev(bus, &log, 0);
	uint32_t s = (uint32_t)libvm_pci_dev_slot(d), cap;
	uint64_t bar0;

	(void)state;
	assert_int_equal(s, 1);
	assert_int_equal(cfg_rd(v, s, 0x00, 4), 0x10421af4);
	assert_int_equal(cfg_rd(v, s, 0x08, 4), 0x01800001);
	assert_int_equal(cfg_rd(v, s, 0x2c, 4), 0x00401af4);
	assert_int_equal(cfg_rd(v, s, 0x3d, 1), 1);
	assert_int_equal(cfg_rd(v, s, 0x06, 2) & 0x10, 0x10);
	/* Capability list: MSI-X (table size 3 -> 2, BIR 1, PBA at 0x800), then ours. */
	cap = cfg_rd(v, s, 0x34, 1);
	assert_int_equal(cfg_rd(v, s, cap, 1), 0x11);
	assert_int_equal(cfg_rd(v, s, cap + 2, 2), 2);
	assert_int_equal(cfg_rd(v, s, cap + 4, 4), 1);
	assert_int_equal(cfg_rd(v, s, cap + 8, 4), 0x801);
	cap = cfg_rd(v, s, cap + 1, 1);
	assert_int_equal(cfg_rd(v, s, cap, 1), 0x09);
	assert_int_equal(cfg_rd(v, s, cap + 1, 1), 0);
	assert_int_equal(cfg_rd(v, s, cap + 13, 1), 0x10);
	/* Capabilities are read-only. */
	cfg_wr(v, s, cap + 12, 0xffffffff, 4);
	assert_int_equal(cfg_rd(v, s, cap + 13, 1), 0x10);
	/* BARs: placed in the window, naturally aligned; sizing by all-ones. */
	bar0 = libvm_pci_dev_bar_addr(d, 0);
	assert_int_equal(bar0, 0xc0000000);
	assert_int_equal(libvm_pci_dev_bar_addr(d, 1), 0xc0004000);
	assert_int_equal(libvm_pci_dev_bar_addr(d, 2), 0);
	cfg_wr(v, s, 0x10, 0xffffffff, 4);
	assert_int_equal(cfg_rd(v, s, 0x10, 4), 0xffffc000);
	cfg_wr(v, s, 0x18, 0xffffffff, 4);
	assert_int_equal(cfg_rd(v, s, 0x18, 4), 0); /* no BAR 2 */
	cfg_wr(v, s, 0x10, 0xc0010000, 4);
	assert_int_equal(libvm_pci_dev_bar_addr(d, 0), 0xc0010000);
	/* Memory decoding off: the window answers all-ones, the device sees nothing. */
	assert_int_equal(mmio_rd(v, 0xc0010008, 4), 0xffffffff);
	assert_int_equal(log.n, 0);
	cfg_wr(v, s, 0x04, 0x0006, 2);
	assert_int_equal(cfg_rd(v, s, 0x04, 2), 0x0006);
	assert_int_equal(mmio_rd(v, 0xc0010008, 4), 0x42424242);
	assert_int_equal(log.n, 1);
	assert_int_equal(log.bar, 0);
	assert_int_equal(log.off, 8);
	mmio_wr(v, 0xc0013ffc, 0xabcd, 2);
	assert_int_equal(log.bar, 0);
	assert_int_equal(log.off, 0x3ffc);
	assert_true(log.is_write);
	assert_int_equal(log.value & 0xffff, 0xabcd);
	/* An access straddling the BAR's end reaches nobody. */
	log.n = 0;
	assert_int_equal(mmio_rd(v, 0xc0013ffe, 4), 0xffffffff);
	assert_int_equal(log.n, 0);
	/* The old place is empty now. */
	assert_int_equal(mmio_rd(v, 0xc0000000, 4), 0xffffffff);
	assert_int_equal(log.n, 0);
	devtest_vm_free(vm); /* frees the bus and its device */
}

static void test_msix(void **state)
{
	libvm_vm *vm = pci_vm("routing=0"); /* no MSI routes: libvm_msi_send() */
	libvm_vcpu *v = devtest_vcpu(vm);
	libvm_pci_bus *bus = bus_new(vm);
	struct bar_log log = { 0 };
	libvm_pci_dev *d = add_dev(bus, &log, 3);
	uint32_t cap = cfg_rd(v, 3, 0x34, 1);
	uint64_t t = libvm_pci_dev_bar_addr(d, 1);

	(void)state;
	cfg_wr(v, 3, 0x04, 0x0006, 2);
	/* Not enabled: the caller must use INTx. */
	assert_int_equal(libvm_pci_dev_msix_enabled(d), 0);
	assert_int_equal(libvm_pci_dev_msix_notify(d, 0), -ENOENT);
	/* Vectors come out of reset masked. */
	assert_int_equal(mmio_rd(v, t + 12, 4), 1);
	cfg_wr(v, 3, cap + 2, 0x8000, 2);
	assert_int_equal(libvm_pci_dev_msix_enabled(d), 1);
	/* Program vector 1; while masked it pends. */
	mmio_wr(v, t + 16, 0xfee00000, 4);
	mmio_wr(v, t + 20, 0, 4);
	mmio_wr(v, t + 24, 0x4041, 4);
	assert_int_equal(libvm_pci_dev_msix_notify(d, 1), 0);
	assert_int_equal(fk->msis, 0);
	assert_int_equal(mmio_rd(v, t + 0x800, 8), 2);
	/* The PBA is read-only. */
	mmio_wr(v, t + 0x800, 0, 8);
	assert_int_equal(mmio_rd(v, t + 0x800, 8), 2);
	/* Unmasking delivers the pending message. */
	mmio_wr(v, t + 28, 0, 4);
	assert_int_equal(fk->msis, 1);
	assert_int_equal(msi_addr(), 0xfee00000);
	assert_int_equal(fk->last_msi.data, 0x4041);
	assert_int_equal(mmio_rd(v, t + 0x800, 8), 0);
	/* Direct delivery; function mask pends; clearing it delivers. */
	assert_int_equal(libvm_pci_dev_msix_notify(d, 1), 0);
	assert_int_equal(fk->msis, 2);
	cfg_wr(v, 3, cap + 2, 0xc000, 2);
	assert_int_equal(libvm_pci_dev_msix_notify(d, 1), 0);
	assert_int_equal(fk->msis, 2);
	cfg_wr(v, 3, cap + 2, 0x8000, 2);
	assert_int_equal(fk->msis, 3);
	/* Out of range vectors; table accesses never reach the device. */
	assert_int_equal(libvm_pci_dev_msix_notify(d, 3), -EINVAL);
	assert_int_equal(log.n, 0);
	/* Past the table and PBA, BAR 1 belongs to the device again. */
	mmio_rd(v, t + 0x400, 4);
	assert_int_equal(log.n, 1);
	assert_int_equal(log.bar, 1);
	devtest_vm_free(vm);
}

/*
 * MSI-X through routes and irqfds on the fake backend, which keeps the
 * routing table and the irqfd bindings (the eventfds are real: the test
 * reads them to count messages).
 */
#define TABLE_CALLS (fk->calls[LIBVM__FAKE_set_gsi_routing])

/* The MSI route of @gsi in the backend's table, or NULL. */
static const struct kvm_irq_routing_entry *route(uint32_t gsi)
{
	for (uint32_t i = 0; i < fk->nr_routes; i++)
		if (fk->routes[i].gsi == gsi && fk->routes[i].type == KVM_IRQ_ROUTING_MSI)
			return &fk->routes[i];
	return NULL;
}

static uint32_t nr_msi_routes(void)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < fk->nr_routes; i++)
		n += fk->routes[i].type == KVM_IRQ_ROUTING_MSI;
	return n;
}

static void assert_route(uint32_t gsi, uint32_t addr, uint32_t data)
{
	const struct kvm_irq_routing_entry *e = route(gsi);

	assert_non_null(e);
	assert_int_equal(e->u.msi.address_lo, addr);
	assert_int_equal(e->u.msi.address_hi, 0);
	assert_int_equal(e->u.msi.data, data);
}

/* The eventfd bound to @gsi, or -1. */
static int irqfd_of(uint32_t gsi)
{
	for (uint32_t i = 0; i < fk->nr_irqfds; i++)
		if (fk->irqfd[i].gsi == gsi)
			return fk->irqfd[i].fd;
	return -1;
}

/* Messages raised through GSI @g's eventfd since the last look. */
static uint64_t fired(uint32_t g)
{
	uint64_t n = 0;
	int fd = irqfd_of(g);

	assert_true(fd >= 0);
	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return 0; /* EAGAIN: none */
	return n;
}

/*
 * The MSI-X route tests' machine: device 3 with 3 vectors on a bus of a VM
 * on the fake backend (@config), memory decoding on. MSI-X itself is left
 * for the test to enable.
 */
struct msix_rig {
	libvm_vm *vm;
	libvm_vcpu *v;
	libvm_pci_bus *bus;
	struct bar_log log;
	libvm_pci_dev *d;
	uint32_t cap;
	uint64_t t; /* the MSI-X table in BAR 1 */
};

static void msix_rig_up(struct msix_rig *r, const char *config)
{
	memset(r, 0, sizeof(*r));
	r->vm = pci_vm(config);
	r->v = devtest_vcpu(r->vm);
	r->bus = bus_new(r->vm);
	r->d = add_dev(r->bus, &r->log, 3);
	r->cap = cfg_rd(r->v, 3, 0x34, 1);
	r->t = libvm_pci_dev_bar_addr(r->d, 1);
	cfg_wr(r->v, 3, 0x04, 0x0006, 2);
}

static void msix_rig_down(struct msix_rig *r)
{
	devtest_vm_free(r->vm); /* detaches the bus */
}

static void test_msix_irqfd(void **state)
{
	struct msix_rig r;
	unsigned calls;
	int fd;

	(void)state;
	msix_rig_up(&r, NULL);
	calls = TABLE_CALLS; /* the irqchip's own table */
	cfg_wr(r.v, 3, r.cap + 2, 0x8000, 2);
	/* Programmed but masked: no route yet; a message pends. */
	mmio_wr(r.v, r.t + 16, 0xfee00000, 4);
	mmio_wr(r.v, r.t + 20, 0, 4);
	mmio_wr(r.v, r.t + 24, 0x4041, 4);
	assert_int_equal(TABLE_CALLS, calls);
	assert_int_equal(nr_msi_routes(), 0);
	assert_int_equal(libvm_pci_dev_msix_notify(r.d, 1), 0);
	assert_int_equal(mmio_rd(r.v, r.t + 0x800, 8), 2);
	/* Unmasking makes the route with the entry's message, binds an
	 * eventfd and delivers the pending message through it. */
	mmio_wr(r.v, r.t + 28, 0, 4);
	assert_int_equal(nr_msi_routes(), 1);
	assert_int_equal(fk->nr_irqfds, 1);
	assert_route(24, 0xfee00000, 0x4041);
	assert_int_equal(fired(24), 1);
	assert_int_equal(fk->msis, 0);
	assert_int_equal(mmio_rd(r.v, r.t + 0x800, 8), 0);
	/* Each message is one eventfd write. */
	assert_int_equal(libvm_pci_dev_msix_notify(r.d, 1), 0);
	assert_int_equal(libvm_pci_dev_msix_notify(r.d, 1), 0);
	assert_int_equal(fired(24), 2);
	/* Masked again: the message pends, nothing is written, the route
	 * stays; rewriting the entry meanwhile does not touch the route... */
	mmio_wr(r.v, r.t + 28, 1, 4);
	assert_int_equal(libvm_pci_dev_msix_notify(r.d, 1), 0);
	assert_int_equal(fired(24), 0);
	calls = TABLE_CALLS;
	mmio_wr(r.v, r.t + 16, 0xfee01000, 4);
	mmio_wr(r.v, r.t + 24, 0x4042, 4);
	assert_int_equal(TABLE_CALLS, calls);
	assert_route(24, 0xfee00000, 0x4041);
	/* ...until the unmask, which updates it before the pending message
	 * goes out (so it carries the new one). */
	mmio_wr(r.v, r.t + 28, 0, 4);
	assert_int_equal(TABLE_CALLS, calls + 1);
	assert_route(24, 0xfee01000, 0x4042);
	assert_int_equal(fired(24), 1);
	assert_int_equal(nr_msi_routes(), 1);
	/* A rewrite while unmasked updates the route at once. */
	mmio_wr(r.v, r.t + 24, 0x4043, 4);
	assert_int_equal(TABLE_CALLS, calls + 2);
	assert_route(24, 0xfee01000, 0x4043);
	/* The function mask pends it too; clearing the mask delivers it. */
	cfg_wr(r.v, 3, r.cap + 2, 0xc000, 2);
	assert_int_equal(libvm_pci_dev_msix_notify(r.d, 1), 0);
	assert_int_equal(fired(24), 0);
	cfg_wr(r.v, 3, r.cap + 2, 0x8000, 2);
	assert_int_equal(fired(24), 1);
	assert_int_equal(fk->msis, 0);
	/* A vector whose route cannot be made uses libvm_msi_send(). */
	fk->fail[LIBVM__FAKE_set_gsi_routing] = -ENOSPC;
	mmio_wr(r.v, r.t + 0, 0xfee00000, 4);
	mmio_wr(r.v, r.t + 8, 0x4050, 4);
	mmio_wr(r.v, r.t + 12, 0, 4);
	fk->fail[LIBVM__FAKE_set_gsi_routing] = 0;
	assert_int_equal(nr_msi_routes(), 1);
	assert_int_equal(libvm_pci_dev_msix_notify(r.d, 0), 0);
	assert_int_equal(fk->msis, 1);
	assert_int_equal(fk->last_msi.data, 0x4050);
	/* ...and does not try again at every message. */
	calls = TABLE_CALLS;
	assert_int_equal(libvm_pci_dev_msix_notify(r.d, 0), 0);
	assert_int_equal(fk->msis, 2);
	assert_int_equal(TABLE_CALLS, calls);
	/* A third vector gets its own route. */
	mmio_wr(r.v, r.t + 32, 0xfee00000, 4);
	mmio_wr(r.v, r.t + 40, 0x4060, 4);
	mmio_wr(r.v, r.t + 44, 0, 4);
	assert_int_equal(nr_msi_routes(), 2);
	assert_route(25, 0xfee00000, 0x4060);
	assert_int_equal(libvm_pci_dev_msix_notify(r.d, 2), 0);
	assert_int_equal(fired(25), 1);
	/* Removing the device unbinds the eventfds, then removes the routes
	 * (never a route under a bound irqfd) and closes the eventfds. */
	fd = irqfd_of(24);
	libvm_pci_dev_remove(r.d);
	assert_int_equal(fk->nr_irqfds, 0);
	assert_int_equal(nr_msi_routes(), 0);
	assert_int_equal(fk->routes_dropped_under_irqfd, 0);
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	msix_rig_down(&r);
}

/* Bus detach (and so VM destroy) cleans up the devices still on it. */
static void test_msix_irqfd_detach(void **state)
{
	struct msix_rig r;
	int fds[3];

	(void)state;
	msix_rig_up(&r, NULL);
	cfg_wr(r.v, 3, r.cap + 2, 0x8000, 2);
	for (int i = 0; i < 3; i++) {
		mmio_wr(r.v, r.t + 16 * i, 0xfee00000, 4);
		mmio_wr(r.v, r.t + 16 * i + 8, 0x4070 + i, 4);
		mmio_wr(r.v, r.t + 16 * i + 12, 0, 4);
	}
	assert_int_equal(fk->nr_irqfds, 3);
	for (int i = 0; i < 3; i++)
		fds[i] = fk->irqfd[i].fd;
	libvm_pci_bus_detach(r.bus);
	assert_int_equal(fk->nr_irqfds, 0);
	assert_int_equal(nr_msi_routes(), 0);
	assert_int_equal(fk->routes_dropped_under_irqfd, 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(fcntl(fds[i], F_GETFD), -1);
	msix_rig_down(&r);

	/* Left to the VM's destroy, the eventfds are closed all the same. */
	msix_rig_up(&r, NULL);
	cfg_wr(r.v, 3, r.cap + 2, 0x8000, 2);
	mmio_wr(r.v, r.t, 0xfee00000, 4);
	mmio_wr(r.v, r.t + 12, 0, 4);
	assert_int_equal(fk->nr_irqfds, 1);
	fds[0] = fk->irqfd[0].fd;
	msix_rig_down(&r);
	assert_int_equal(fcntl(fds[0], F_GETFD), -1);
}

/* Without MSI routing the bus asks once and then uses libvm_msi_send(). */
static void test_msix_no_irqfd(void **state)
{
	struct msix_rig r;

	(void)state;
	msix_rig_up(&r, "routing=0");
	assert_int_equal(r.bus->msix_irqfd, -1);
	cfg_wr(r.v, 3, r.cap + 2, 0x8000, 2);
	mmio_wr(r.v, r.t, 0xfee00000, 4);
	mmio_wr(r.v, r.t + 8, 0x4080, 4);
	mmio_wr(r.v, r.t + 12, 0, 4);
	assert_int_equal(r.bus->msix_irqfd, 0);
	assert_int_equal(libvm_pci_dev_msix_notify(r.d, 0), 0);
	assert_int_equal(fk->msis, 1);
	assert_int_equal(fk->last_msi.data, 0x4080);
	assert_int_equal(TABLE_CALLS, 0);
	msix_rig_down(&r);
}

static void test_intx(void **state)
{
	libvm_vm *vm = pci_vm(NULL);
	libvm_vcpu *v = devtest_vcpu(vm);
	libvm_pci_bus *bus = bus_new(vm);
	struct bar_log log = { 0 };
	libvm_pci_dev *a = add_dev(bus, &log, 1), *b = add_dev(bus, &log, 5);

	(void)state;
	/* Slot 1 INTA and slot 5 INTA both land on GSI 16 + (1 mod 4) = 17. */
	assert_int_equal(libvm_pci_dev_set_irq(a, true), 0);
	assert_true(fk->irq_level[17]);
	assert_int_equal(cfg_rd(v, 1, 0x06, 2) & 0x08, 0x08);
	assert_int_equal(libvm_pci_dev_set_irq(b, true), 0);
	assert_int_equal(libvm_pci_dev_set_irq(a, false), 0);
	assert_true(fk->irq_level[17]); /* wired-OR: b still holds it */
	assert_int_equal(libvm_pci_dev_set_irq(b, false), 0);
	assert_false(fk->irq_level[17]);
	/* Interrupt Disable hides the pin and reveals it again. */
	assert_int_equal(libvm_pci_dev_set_irq(a, true), 0);
	cfg_wr(v, 1, 0x04, 0x0400, 2);
	assert_false(fk->irq_level[17]);
	cfg_wr(v, 1, 0x04, 0x0000, 2);
	assert_true(fk->irq_level[17]);
	libvm_pci_dev_remove(a);
	assert_false(fk->irq_level[17]);
	assert_int_equal(libvm_pci_dev_set_irq(NULL, true), -EINVAL);
	devtest_vm_free(vm);
}

/* I/O BARs: bit 0 set, placed in the I/O window, sized like memory BARs,
 * decoded only with I/O Space on, and refused with bad sizes. */
static void test_io_bars(void **state)
{
	libvm_vm *vm = pci_vm(NULL);
	libvm_vcpu *v = devtest_vcpu(vm);
	libvm_pci_bus *bus = bus_new(vm);
	libvm_pci_dev_options o = LIBVM_PCI_DEV_OPTIONS_INIT;
	struct bar_log log = { 0 };
	libvm_pci_dev *d;
	uint32_t io;

	(void)state;
	o.bar_size[0] = 0x1000;
	o.bar_size[2] = 0x40;
	o.bar_io = 1u << 2;
	o.bar_fn = bar_fn;
	o.opaque = &log;
	o.slot = 5;
	assert_int_equal(libvm_pci_dev_add(&d, bus, &o), 0);
	io = cfg_rd(v, 5, 0x18, 4);
	assert_int_equal(io & 3, 1);
	assert_true((io & ~3u) >= 0xc000 && (io & ~3u) < 0x10000 && !(io & 0x3c));
	assert_int_equal(libvm_pci_dev_bar_addr(d, 2), io & ~3u);
	cfg_wr(v, 5, 0x18, 0xffffffff, 4);
	assert_int_equal(cfg_rd(v, 5, 0x18, 4), 0xffc1); /* 64 ports, I/O */
	cfg_wr(v, 5, 0x18, 0xd000, 4);
	assert_int_equal(libvm_pci_dev_bar_addr(d, 2), 0xd000);
	/* I/O Space off: nothing decodes it. */
	assert_int_equal(devtest_in(v, 0xd004, 4), 0xffffffffu);
	assert_int_equal(log.n, 0);
	cfg_wr(v, 5, 0x04, 0x0001, 2);
	assert_int_equal(devtest_in(v, 0xd004, 4), 0x42424242u);
	assert_int_equal(log.bar, 2);
	assert_int_equal(log.off, 4);
	devtest_out(v, 0xd03c, 0x1234, 2);
	assert_true(log.is_write && log.off == 0x3c && log.value == 0x1234);
	/* The memory BAR is not decoded while only I/O Space is on. */
	log.n = 0;
	mmio_rd(v, libvm_pci_dev_bar_addr(d, 0), 4);
	assert_int_equal(log.n, 0);
	/* Bad I/O BARs. */
	o.slot = 6;
	o.bar_size[2] = 2;
	assert_int_equal(libvm_pci_dev_add(&d, bus, &o), -EINVAL);
	o.bar_size[2] = 0x200;
	assert_int_equal(libvm_pci_dev_add(&d, bus, &o), -EINVAL);
	o.bar_size[2] = 0x40;
	o.bar_io = 1u << 7;
	assert_int_equal(libvm_pci_dev_add(&d, bus, &o), -EINVAL);
	o.bar_io = 1u << 0;
	o.msix_vectors = 1;
	o.msix_bar = 0;
	assert_int_equal(libvm_pci_dev_add(&d, bus, &o), -EINVAL);
	libvm_pci_bus_detach(bus);
	devtest_vm_free(vm);
}

static int claimed_port(libvm_vcpu *vcpu, uint64_t addr, void *data, uint32_t len,
			bool is_write, void *opaque)
{
	(void)vcpu;
	(void)addr;
	(void)is_write;
	(void)opaque;
	memset(data, 0x5a, len);
	return 0;
}

/*
 * The bus claims its I/O window (ports 0xc000-0xffff) only with the first
 * device that has an I/O BAR: a VMM with ports of its own up there still
 * gets a PCI bus, as before I/O BARs existed; an I/O BAR then cannot be
 * placed (-EEXIST, saying why), and the bus's detach leaves that VMM's
 * ports alone.
 */
static void test_io_window_claimed_on_demand(void **state)
{
	libvm_vm *vm = pci_vm(NULL);
	libvm_vcpu *v = devtest_vcpu(vm);
	libvm_pci_dev_options o = LIBVM_PCI_DEV_OPTIONS_INIT;
	libvm_pci_bus *bus;
	libvm_pci_dev *d;

	(void)state;
	assert_int_equal(libvm_io_register(vm, LIBVM_SPACE_PIO, 0xc000, 0x100, "vmm-ports",
					   claimed_port, NULL), 0);
	assert_int_equal(libvm_pci_bus_attach(&bus, vm, NULL), 0);
	o.bar_size[0] = 0x1000;
	o.bar_fn = bar_fn;
	assert_int_equal(libvm_pci_dev_add(&d, bus, &o), 0); /* memory BARs only */
	o.bar_size[1] = 0x40;
	o.bar_io = 1u << 1;
	assert_int_equal(libvm_pci_dev_add(&d, bus, &o), -EEXIST);
	assert_non_null(strstr(libvm_error_message(), "vmm-ports"));
	libvm_pci_bus_detach(bus);
	assert_int_equal(devtest_in(v, 0xc000, 1), 0x5a); /* still the VMM's */
	assert_int_equal(libvm_io_unregister(vm, LIBVM_SPACE_PIO, 0xc000), 0);
	/* Free: the first I/O BAR claims the window, detach frees it. */
	assert_int_equal(libvm_pci_bus_attach(&bus, vm, NULL), 0);
	assert_int_equal(libvm_io_register(vm, LIBVM_SPACE_PIO, 0xc000, 1, "x", claimed_port,
					   NULL), 0);
	assert_int_equal(libvm_io_unregister(vm, LIBVM_SPACE_PIO, 0xc000), 0);
	assert_int_equal(libvm_pci_dev_add(&d, bus, &o), 0);
	assert_int_equal(libvm_io_register(vm, LIBVM_SPACE_PIO, 0xc000, 1, "x", claimed_port,
					   NULL), -EEXIST);
	assert_int_equal(libvm_pci_dev_add(&d, bus, &o), 0); /* claimed once */
	libvm_pci_bus_detach(bus);
	assert_int_equal(libvm_io_register(vm, LIBVM_SPACE_PIO, 0xc000, 1, "x", claimed_port,
					   NULL), 0);
	devtest_vm_free(vm);
}

static void test_bad_options(void **state)
{
	libvm_vm *vm = pci_vm(NULL);
	libvm_pci_bus *bus = bus_new(vm), *other;
	libvm_pci_bus_options bo = LIBVM_PCI_BUS_OPTIONS_INIT;
	libvm_pci_dev_options o = LIBVM_PCI_DEV_OPTIONS_INIT;
	struct bar_log log = { 0 };
	libvm_pci_dev *d;

	(void)state;
	assert_int_equal(libvm_pci_bus_attach(&other, vm, NULL), -EEXIST);
	bo.port = 0x1000;
	bo.mmio_base = 0xfffff000;
	bo.mmio_size = 0x2000;
	assert_int_equal(libvm_pci_bus_attach(&other, vm, &bo), -EINVAL);
	bo.mmio_size = 0x1000;
	bo.irq_base = 21;
	assert_int_equal(libvm_pci_bus_attach(&other, vm, &bo), -EINVAL);

	o.bar_size[0] = 0x3000;
	o.bar_fn = bar_fn;
	assert_int_equal(libvm_pci_dev_add(&d, bus, &o), -EINVAL);
	o.bar_size[0] = 0x1000;
	o.bar_fn = NULL;
	assert_int_equal(libvm_pci_dev_add(&d, bus, &o), -EINVAL);
	o.bar_fn = bar_fn;
	o.msix_vectors = 4;
	o.msix_bar = 2;
	assert_int_equal(libvm_pci_dev_add(&d, bus, &o), -EINVAL);
	o.msix_bar = 0;
	o.msix_vectors = 129;
	assert_int_equal(libvm_pci_dev_add(&d, bus, &o), -EINVAL);
	o.msix_vectors = 0;
	o.slot = 32;
	assert_int_equal(libvm_pci_dev_add(&d, bus, &o), -EINVAL);
	o.slot = 0;
	o.interrupt_pin = 5;
	assert_int_equal(libvm_pci_dev_add(&d, bus, &o), -EINVAL);
	o.interrupt_pin = 0;
	/* Window exhaustion: 512 MiB holds two 256 MiB BARs, not three. */
	o.bar_size[0] = 0x10000000;
	assert_int_equal(libvm_pci_dev_add(&d, bus, &o), 0);
	assert_int_equal(libvm_pci_dev_add(&d, bus, &o), 0);
	assert_int_equal(libvm_pci_dev_add(&d, bus, &o), -ENOSPC);
	/* Slot conflicts; all slots full. */
	o.bar_size[0] = 0;
	o.slot = 1;
	assert_int_equal(libvm_pci_dev_add(&d, bus, &o), -EEXIST);
	o.slot = 0;
	for (int i = 3; i < 32; i++)
		assert_int_equal(libvm_pci_dev_add(&d, bus, &o), 0);
	assert_int_equal(libvm_pci_dev_add(&d, bus, &o), -ENOSPC);
	(void)log;
	devtest_vm_free(vm);
}

/* PkgLength at @p: returns the length and the bytes it took. */
static uint32_t pkglen(const uint8_t *p, int *bytes)
{
	int n = p[0] >> 6;
	uint32_t len = n ? p[0] & 0xf : p[0] & 0x3f;

	for (int i = 0; i < n; i++)
		len |= (uint32_t)p[1 + i] << (4 + 8 * i);
	*bytes = n + 1;
	return len;
}

/* Where the backend has eventfd @fd bound (2-byte MMIO), or 0. */
static uint64_t bound_at(int fd)
{
	for (uint32_t i = 0; i < fk->nr_ioeventfds; i++)
		if (fk->ioeventfd[i].fd == fd)
			return fk->ioeventfd[i].addr;
	return 0;
}

/* An ioeventfd at a BAR offset follows the BAR; bad requests are refused. */
static void test_bar_ioeventfd(void **state)
{
	libvm_vm *vm = pci_vm(NULL);
	libvm_vcpu *v = devtest_vcpu(vm);
	libvm_pci_dev_options o = LIBVM_PCI_DEV_OPTIONS_INIT;
	struct bar_log log = { 0 };
	libvm_pci_bus *bus = bus_new(vm);
	libvm_pci_dev *dev;
	uint64_t base;
	int fd[9];

	(void)state;
	for (int i = 0; i < 9; i++)
		fd[i] = eventfd(0, EFD_CLOEXEC);
	o.bar_size[0] = 0x1000;
	o.bar_fn = bar_fn;
	o.opaque = &log;
	assert_int_equal(libvm_pci_dev_add(&dev, bus, &o), 0);
	base = libvm_pci_dev_bar_addr(dev, 0);
	assert_true(libvm__pci_dev_has_ioeventfd(dev));
	/* Refused: no such BAR, offset or length past it, odd length, bad fd. */
	assert_int_equal(libvm__pci_dev_ioeventfd_attach(dev, 1, 0, 4, fd[0]), -EINVAL);
	assert_int_equal(libvm__pci_dev_ioeventfd_attach(dev, 6, 0, 4, fd[0]), -EINVAL);
	assert_int_equal(libvm__pci_dev_ioeventfd_attach(dev, 0, 0x1000, 1, fd[0]), -EINVAL);
	assert_int_equal(libvm__pci_dev_ioeventfd_attach(dev, 0, 0xffe, 4, fd[0]), -EINVAL);
	assert_int_equal(libvm__pci_dev_ioeventfd_attach(dev, 0, 0, 3, fd[0]), -EINVAL);
	assert_int_equal(libvm__pci_dev_ioeventfd_attach(dev, 0, 0, 4, -1), -EINVAL);
	/* Memory Space is off: registered, not bound until the guest turns it on. */
	assert_int_equal(libvm__pci_dev_ioeventfd_attach(dev, 0, 0x10, 4, fd[0]), 0);
	assert_int_equal(fk->nr_ioeventfds, 0);
	cfg_wr(v, 1, 0x04, 0x0002, 2);
	assert_int_equal(bound_at(fd[0]), base + 0x10);
	/* Moved within the window; then below it (not decoded there); back. */
	cfg_wr(v, 1, 0x10, (uint32_t)(base + 0x8000), 4);
	assert_int_equal(bound_at(fd[0]), base + 0x8010);
	assert_int_equal(fk->nr_ioeventfds, 1);
	cfg_wr(v, 1, 0x10, 0x1000, 4);
	assert_int_equal(fk->nr_ioeventfds, 0);
	cfg_wr(v, 1, 0x10, (uint32_t)base, 4);
	assert_int_equal(bound_at(fd[0]), base + 0x10);
	/* Unrelated writes leave it alone. */
	cfg_wr(v, 1, 0x3c, 0x0b, 1);
	assert_int_equal(bound_at(fd[0]), base + 0x10);
	/* Eight per device. */
	for (int i = 1; i < 8; i++)
		assert_int_equal(libvm__pci_dev_ioeventfd_attach(dev, 0, 0x20 + 4u * i, 4, fd[i]), 0);
	assert_int_equal(fk->nr_ioeventfds, 8);
	assert_int_equal(libvm__pci_dev_ioeventfd_attach(dev, 0, 0x40, 4, fd[8]), -ENOSPC);
	libvm__pci_dev_ioeventfd_detach(dev, fd[0]);
	assert_int_equal(bound_at(fd[0]), 0);
	assert_int_equal(fk->nr_ioeventfds, 7);
	libvm__pci_dev_ioeventfd_detach(dev, fd[8]); /* unknown: no-op */
	assert_int_equal(fk->nr_ioeventfds, 7);
	/* Removing the device unbinds the rest. */
	libvm_pci_dev_remove(dev);
	assert_int_equal(fk->nr_ioeventfds, 0);
	for (int i = 0; i < 9; i++)
		close(fd[i]);
	devtest_vm_free(vm);
}

static void test_acpi_aml(void **state)
{
	libvm_vm *vm = pci_vm(NULL);
	libvm_pci_bus *bus = bus_new(vm);
	uint8_t aml[4096], small[8];
	size_t len = 0, n;
	uint8_t *scope, *dev;
	int b;

	(void)state;
	assert_int_equal(libvm_pci_acpi_aml(bus, NULL, &len), -E2BIG);
	assert_true(len > 100 && len < sizeof(aml));
	n = sizeof(small);
	assert_int_equal(libvm_pci_acpi_aml(bus, small, &n), -E2BIG);
	assert_int_equal(n, len);
	n = sizeof(aml);
	assert_int_equal(libvm_pci_acpi_aml(bus, aml, &n), 0);
	assert_int_equal(n, len);
	/* Name (_S5, Package (4) { 5, 5, 0, 0 }) */
	static const uint8_t s5[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x04,
				      0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00 };
	assert_memory_equal(aml, s5, sizeof(s5));
	/* Then Scope (\_SB) whose PkgLength covers exactly the rest. */
	scope = aml + sizeof(s5);
	assert_int_equal(scope[0], 0x10);
	assert_int_equal(pkglen(scope + 1, &b), len - sizeof(s5) - 1);
	assert_memory_equal(scope + 1 + b, "\\_SB_", 5);
	assert_int_equal(scope[1 + b + 5], 0x5b);
	assert_int_equal(scope[1 + b + 6], 0x82);
	dev = scope + 1 + b + 7;
	assert_int_equal(pkglen(dev, &b), (size_t)(aml + len - dev));
	assert_non_null(memmem(aml, len, "PCI0\x08_HID\x0c\x41\xd0\x0a\x03", 14));
	assert_non_null(memmem(aml, len, "_PRT", 4));
	assert_non_null(memmem(aml, len, "_CRS", 4));
	/* Slot 1 INTA -> GSI 17: { 0x0001ffff, 0, 0, 17 } */
	static const uint8_t prt0[] = { 0x12, 0x0b, 0x04, 0x0c, 0xff, 0xff, 0x01, 0x00,
					0x00, 0x00, 0x0a, 17 };
	assert_non_null(memmem(aml, len, prt0, sizeof(prt0)));
	devtest_vm_free(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_mechanism_1),
		cmocka_unit_test(test_header_and_bars),
		cmocka_unit_test(test_msix),
		cmocka_unit_test(test_msix_irqfd),
		cmocka_unit_test(test_msix_irqfd_detach),
		cmocka_unit_test(test_msix_no_irqfd),
		cmocka_unit_test(test_intx),
		cmocka_unit_test(test_io_bars),
		cmocka_unit_test(test_io_window_claimed_on_demand),
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_bar_ioeventfd),
		cmocka_unit_test(test_acpi_aml),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
