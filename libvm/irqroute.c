/* SPDX-License-Identifier: MIT */
/*
 * MSI routes: GSIs whose interrupt is a message (address, data) rather than
 * an irqchip pin, so that an irqfd bound to one raises an MSI from the
 * kernel (another thread or process writes the eventfd; this process is
 * not involved).
 *
 * KVM_SET_GSI_ROUTING replaces the backend's whole table, and a table is
 * not readable back. So libvm keeps the table: at libvm_irqchip_create()
 * and at every update it sends the PC's wiring of the irqchip pins --
 * GSI 0-15 (the ISA IRQs) to pin n % 8 of the master (n < 8) or slave PIC
 * and to IOAPIC pin n, except ISA IRQ 0 (the PIT), which a PC wires to
 * IOAPIC pin 2, as the MADT's and MP table's source override says, and
 * ISA IRQ 2, the PIC cascade, which reaches no IOAPIC pin; GSI 16-23 to
 * IOAPIC pin n -- followed by the MSI routes, which take GSIs from 24 up.
 *
 * Why not KVM's default table (kvm_setup_default_irq_routing: GSI n to
 * IOAPIC pin n for all n): the in-kernel PIT raises GSI 0, which would then
 * reach IOAPIC pin 0 while Linux, told by the firmware tables that the
 * timer is on pin 2, listens there. Its boot-time timer check then fails
 * ("MP-BIOS bug: 8254 timer not connected to IO-APIC") and falls back to
 * the 8259 paths, which under a slow or loaded host failed too ("IO-APIC +
 * timer doesn't work!", a panic seen in the nested Linux boot).
 *
 * The backend's KVM_CAP_IRQ_ROUTING answer bounds both the GSI numbers and
 * the number of entries (KVM_MAX_IRQ_ROUTES; KVM refuses a larger table).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* The irqchip pins' table: 23 IOAPIC entries and 16 PIC entries, and an
 * upper bound for the messages. */
#define NR_DEFAULT_ROUTES 39u
#define PIT_IOAPIC_PIN 2u
#define PIC_CASCADE_IRQ 2u

void libvm__irqroutes_init(libvm_vm *vm)
{
	pthread_mutex_init(&vm->route_lock, NULL);
}

void libvm__irqroutes_fini(libvm_vm *vm)
{
	/* The backend's table goes with the VM's fd. */
	free(vm->routes);
	vm->routes = NULL;
	vm->nr_routes = vm->routes_cap = 0;
	pthread_mutex_destroy(&vm->route_lock);
}

int libvm__has_msi_routing(const libvm_vm *vm)
{
	return vm->has_irqchip && vm->route_limit > LIBVM__FIRST_MSI_GSI &&
	       vm->route_limit > NR_DEFAULT_ROUTES;
}

static void irqchip_entry(struct kvm_irq_routing_entry *e, uint32_t gsi, uint32_t chip,
			  uint32_t pin)
{
	memset(e, 0, sizeof(*e));
	e->gsi = gsi;
	e->type = KVM_IRQ_ROUTING_IRQCHIP;
	e->u.irqchip.irqchip = chip;
	e->u.irqchip.pin = pin;
}

/* Send the pins' routes and vm->routes to the backend (route_lock held). */
static int commit(libvm_vm *vm)
{
	uint32_t n = NR_DEFAULT_ROUTES + vm->nr_routes, i = 0;
	struct kvm_irq_routing *t = calloc(1, sizeof(*t) + n * sizeof(t->entries[0]));
	int err = 0;

	if (!t)
		return libvm__fail(-ENOMEM, "MSI routes: out of memory");
	for (uint32_t gsi = 0; gsi < LIBVM__FIRST_MSI_GSI; gsi++) {
		if (gsi == 0)
			irqchip_entry(&t->entries[i++], gsi, KVM_IRQCHIP_IOAPIC, PIT_IOAPIC_PIN);
		else if (gsi != PIC_CASCADE_IRQ)
			irqchip_entry(&t->entries[i++], gsi, KVM_IRQCHIP_IOAPIC, gsi);
		if (gsi < 16)
			irqchip_entry(&t->entries[i++], gsi,
				      gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE,
				      gsi % 8);
	}
	for (uint32_t r = 0; r < vm->nr_routes; r++) {
		struct kvm_irq_routing_entry *e = &t->entries[i++];

		e->gsi = vm->routes[r].gsi;
		e->type = KVM_IRQ_ROUTING_MSI;
		e->u.msi.address_lo = (uint32_t)vm->routes[r].addr;
		e->u.msi.address_hi = (uint32_t)(vm->routes[r].addr >> 32);
		e->u.msi.data = vm->routes[r].data;
	}
	t->nr = i;
	err = libvm__bk_set_gsi_routing(vm, t);
	if (err < 0)
		libvm__fail(err, "KVM_SET_GSI_ROUTING with %u entries failed: %s", i,
			    strerror(-err));
	else
		err = 0;
	free(t);
	return err;
}

int libvm__irqroutes_install(libvm_vm *vm)
{
	int err;

	/* A backend whose table cannot even hold the pins keeps its own
	 * default table (and offers no MSI routes). */
	if (vm->route_limit < NR_DEFAULT_ROUTES)
		return 0;
	pthread_mutex_lock(&vm->route_lock);
	err = commit(vm);
	pthread_mutex_unlock(&vm->route_lock);
	return err;
}

/* -ENOTSUP with the reason when the VM cannot have MSI routes. */
static int check_vm(libvm_vm *vm, const char *fn)
{
	LIBVM__CHECK_VM(vm, fn);
	if (libvm__has_msi_routing(vm))
		return 0;
	if (!vm->has_irqchip) {
		if (libvm__check_extension(vm, KVM_CAP_IRQCHIP) <= 0)
			return libvm__fail(-ENOTSUP, "%s: %s has no in-kernel irqchip, so no MSI routes",
					   fn, vm->device_path);
		return libvm__fail(-ENOTSUP, "%s: the VM has no in-kernel irqchip yet "
				   "(libvm_irqchip_create())", fn);
	}
	return libvm__fail(-ENOTSUP, "%s: %s has no GSI routing for MSIs (KVM_CAP_IRQ_ROUTING %u)",
			   fn, vm->device_path, vm->route_limit);
}

/* Index of @gsi in vm->routes, or -1 (route_lock held). */
static long find(const libvm_vm *vm, uint32_t gsi)
{
	uint32_t lo = 0, hi = vm->nr_routes;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (vm->routes[mid].gsi == gsi)
			return mid;
		if (vm->routes[mid].gsi < gsi)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* -EINVAL for an irqchip pin, -ENOENT for a GSI that is not one of ours. */
static int unknown_gsi(uint32_t gsi, const char *fn)
{
	if (gsi < LIBVM__FIRST_MSI_GSI)
		return libvm__fail(-EINVAL, "%s: GSI %u is an irqchip pin, not an MSI route", fn, gsi);
	return libvm__fail(-ENOENT, "%s: GSI %u is not an MSI route of this VM", fn, gsi);
}

LIBVM_EXPORT int libvm_msi_route_add(uint32_t *gsi, libvm_vm *vm, uint64_t addr, uint32_t data)
{
	uint32_t want = LIBVM__FIRST_MSI_GSI, at;
	int err;

	if (!gsi)
		return libvm__fail(-EINVAL, "libvm_msi_route_add: gsi is NULL");
	err = check_vm(vm, "libvm_msi_route_add");
	if (err)
		return err;
	pthread_mutex_lock(&vm->route_lock);
	/* The lowest free GSI: the routes are sorted, so the first gap. */
	for (at = 0; at < vm->nr_routes && vm->routes[at].gsi == want; at++)
		want++;
	if (want >= vm->route_limit || NR_DEFAULT_ROUTES + vm->nr_routes + 1 > vm->route_limit) {
		err = libvm__fail(-ENOSPC, "libvm_msi_route_add: all %u MSI routes are in use "
				  "(%s takes %u routing entries, %u of them the irqchip's)",
				  vm->nr_routes, vm->device_path, vm->route_limit,
				  NR_DEFAULT_ROUTES);
		goto out;
	}
	if (vm->nr_routes == vm->routes_cap) {
		uint32_t cap = vm->routes_cap ? vm->routes_cap * 2 : 16;
		struct libvm__msi_route *r = realloc(vm->routes, cap * sizeof(*r));

		if (!r) {
			err = libvm__fail(-ENOMEM, "libvm_msi_route_add: out of memory");
			goto out;
		}
		vm->routes = r;
		vm->routes_cap = cap;
	}
	memmove(&vm->routes[at + 1], &vm->routes[at], (vm->nr_routes - at) * sizeof(vm->routes[0]));
	vm->routes[at] = (struct libvm__msi_route){ .gsi = want, .data = data, .addr = addr };
	vm->nr_routes++;
	err = commit(vm);
	if (err) {
		/* The backend kept its old table: so do we. */
		vm->nr_routes--;
		memmove(&vm->routes[at], &vm->routes[at + 1],
			(vm->nr_routes - at) * sizeof(vm->routes[0]));
		goto out;
	}
	*gsi = want;
out:
	pthread_mutex_unlock(&vm->route_lock);
	return err;
}

LIBVM_EXPORT int libvm_msi_route_update(libvm_vm *vm, uint32_t gsi, uint64_t addr, uint32_t data)
{
	struct libvm__msi_route old;
	long i;
	int err = check_vm(vm, "libvm_msi_route_update");

	if (err)
		return err;
	pthread_mutex_lock(&vm->route_lock);
	i = find(vm, gsi);
	if (i < 0) {
		err = unknown_gsi(gsi, "libvm_msi_route_update");
		goto out;
	}
	old = vm->routes[i];
	if (old.addr == addr && old.data == data)
		goto out; /* nothing changes: spare the backend a table */
	vm->routes[i].addr = addr;
	vm->routes[i].data = data;
	err = commit(vm);
	if (err)
		vm->routes[i] = old;
out:
	pthread_mutex_unlock(&vm->route_lock);
	return err;
}

int libvm__msi_routes_remove(libvm_vm *vm, const uint32_t *gsi, uint32_t n)
{
	struct libvm__msi_route *saved;
	uint32_t kept = 0;
	int err = check_vm(vm, "libvm_msi_route_remove");

	if (err)
		return err;
	if (!n)
		return 0;
	if (!gsi)
		return libvm__fail(-EINVAL, "libvm_msi_route_remove: no GSIs");
	pthread_mutex_lock(&vm->route_lock);
	for (uint32_t i = 0; i < n; i++) {
		if (find(vm, gsi[i]) < 0) {
			err = unknown_gsi(gsi[i], "libvm_msi_route_remove");
			goto out;
		}
	}
	/* Keep a copy to put back when the backend refuses the new table. */
	saved = malloc(vm->nr_routes * sizeof(*saved));
	if (!saved) {
		err = libvm__fail(-ENOMEM, "libvm_msi_route_remove: out of memory");
		goto out;
	}
	memcpy(saved, vm->routes, vm->nr_routes * sizeof(*saved));
	for (uint32_t r = 0; r < vm->nr_routes; r++) {
		bool gone = false;

		for (uint32_t i = 0; i < n && !gone; i++)
			gone = vm->routes[r].gsi == gsi[i];
		if (!gone)
			vm->routes[kept++] = vm->routes[r];
	}
	n = vm->nr_routes;
	vm->nr_routes = kept;
	err = commit(vm);
	if (err) {
		memcpy(vm->routes, saved, n * sizeof(*saved));
		vm->nr_routes = n;
	}
	free(saved);
out:
	pthread_mutex_unlock(&vm->route_lock);
	return err;
}

LIBVM_EXPORT int libvm_msi_route_remove(libvm_vm *vm, uint32_t gsi)
{
	return libvm__msi_routes_remove(vm, &gsi, 1);
}

int libvm__msi_routes_copy(libvm_vm *vm, struct libvm__msi_route **out, uint32_t *n)
{
	pthread_mutex_lock(&vm->route_lock);
	*n = vm->nr_routes;
	*out = malloc((vm->nr_routes ? vm->nr_routes : 1) * sizeof(**out));
	if (*out && vm->nr_routes)
		memcpy(*out, vm->routes, vm->nr_routes * sizeof(**out));
	pthread_mutex_unlock(&vm->route_lock);
	return *out ? 0 : libvm__fail(-ENOMEM, "MSI routes: out of memory");
}

int libvm__msi_routes_replace(libvm_vm *vm, const struct libvm__msi_route *r, uint32_t n)
{
	struct libvm__msi_route *copy, *old;
	uint32_t old_n, old_cap;
	int err;

	if (!n && !vm->nr_routes)
		return 0;
	if (n && !libvm__has_msi_routing(vm))
		return check_vm(vm, "restoring MSI routes");
	for (uint32_t i = 0; i < n; i++)
		if (r[i].gsi < LIBVM__FIRST_MSI_GSI || r[i].gsi >= vm->route_limit ||
		    (i && r[i].gsi <= r[i - 1].gsi) || NR_DEFAULT_ROUTES + i >= vm->route_limit)
			return libvm__fail(-EINVAL, "saved MSI route %u (GSI %u) is out of order or outside the backend's table of %u",
					   i, r[i].gsi, vm->route_limit);
	copy = malloc((n ? n : 1) * sizeof(*copy));
	if (!copy)
		return libvm__fail(-ENOMEM, "MSI routes: out of memory");
	if (n)
		memcpy(copy, r, n * sizeof(*copy));
	pthread_mutex_lock(&vm->route_lock);
	old = vm->routes;
	old_n = vm->nr_routes;
	old_cap = vm->routes_cap;
	vm->routes = copy;
	vm->nr_routes = vm->routes_cap = n;
	err = commit(vm);
	if (err) {
		vm->routes = old;
		vm->nr_routes = old_n;
		vm->routes_cap = old_cap;
		old = copy;
	}
	pthread_mutex_unlock(&vm->route_lock);
	free(old);
	return err;
}
