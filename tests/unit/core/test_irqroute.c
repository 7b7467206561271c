/* SPDX-License-Identifier: MIT */
/*
 * MSI routes on the fake backend: the table libvm hands the backend keeps KVM's
 * default irqchip routes in front of the MSI routes on every change; GSIs
 * are handed out from 24, lowest free first, and run out at the backend's
 * limit (on GSI numbers and on entries); unknown GSIs and irqchip pins are
 * refused; a backend that refuses a table leaves libvm's copy as it was;
 * and a VM without an irqchip or routing gets -ENOTSUP. The backend is the
 * fake one, which keeps the last table it accepted.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../fakevm.h"

/* The fake backend of the VM under test: the table it last accepted
 * (routes, nr_routes), its calls and its failure switch. */
static struct libvm__fake_vm *backend;
#define TABLE_CALLS (backend->calls[LIBVM__FAKE_set_gsi_routing])

/* A VM with an irqchip whose backend takes @limit GSIs / entries. */
static libvm_vm *routing_vm(uint32_t limit)
{
	char cfg[32];
	libvm_vm *vm;

	snprintf(cfg, sizeof(cfg), "routing=%u", limit);
	vm = fakevm_new(cfg);
	assert_int_equal(libvm_irqchip_create(vm, 0), 0);
	backend = libvm__fake_vm(vm);
	return vm;
}

/* How many entries of the last table route @gsi, and the MSI one if any. */
static int entries_for(uint32_t gsi, const struct kvm_irq_routing_entry **msi)
{
	int n = 0;

	*msi = NULL;
	for (uint32_t i = 0; i < backend->nr_routes; i++) {
		if (backend->routes[i].gsi != gsi)
			continue;
		n++;
		if (backend->routes[i].type == KVM_IRQ_ROUTING_MSI)
			*msi = &backend->routes[i];
	}
	return n;
}

static bool has_irqchip_route(uint32_t gsi, uint32_t chip, uint32_t pin)
{
	for (uint32_t i = 0; i < backend->nr_routes; i++)
		if (backend->routes[i].gsi == gsi && backend->routes[i].type == KVM_IRQ_ROUTING_IRQCHIP &&
		    backend->routes[i].u.irqchip.irqchip == chip && backend->routes[i].u.irqchip.pin == pin)
			return true;
	return false;
}

/* The PC's wiring: ISA IRQs 0-15 to a PIC pin and IOAPIC pin n, except
 * IRQ 0 (the PIT) to IOAPIC pin 2 and IRQ 2 (the cascade) to no IOAPIC pin;
 * 16-23 to the IOAPIC only; 39 entries in all, nothing else below 24. */
static void assert_default_routes(void)
{
	uint32_t below24 = 0;

	assert_true(has_irqchip_route(0, KVM_IRQCHIP_IOAPIC, 2));
	assert_false(has_irqchip_route(0, KVM_IRQCHIP_IOAPIC, 0));
	assert_false(has_irqchip_route(2, KVM_IRQCHIP_IOAPIC, 2));
	for (uint32_t gsi = 0; gsi < 24; gsi++) {
		if (gsi != 0 && gsi != 2)
			assert_true(has_irqchip_route(gsi, KVM_IRQCHIP_IOAPIC, gsi));
		if (gsi < 8)
			assert_true(has_irqchip_route(gsi, KVM_IRQCHIP_PIC_MASTER, gsi));
		else if (gsi < 16)
			assert_true(has_irqchip_route(gsi, KVM_IRQCHIP_PIC_SLAVE, gsi - 8));
	}
	for (uint32_t i = 0; i < backend->nr_routes; i++) {
		if (backend->routes[i].gsi < 24) {
			assert_int_equal(backend->routes[i].type, KVM_IRQ_ROUTING_IRQCHIP);
			below24++;
		}
	}
	assert_int_equal(below24, 39);
}

static void assert_msi_route(uint32_t gsi, uint64_t addr, uint32_t data)
{
	const struct kvm_irq_routing_entry *e;

	assert_int_equal(entries_for(gsi, &e), 1);
	assert_non_null(e);
	assert_int_equal(e->u.msi.address_lo, (uint32_t)addr);
	assert_int_equal(e->u.msi.address_hi, (uint32_t)(addr >> 32));
	assert_int_equal(e->u.msi.data, data);
	assert_int_equal(e->flags, 0);
}

static void test_defaults_kept(void **state)
{
	libvm_vm *vm = routing_vm(4096);
	const struct kvm_irq_routing_entry *e;
	uint32_t a, b;

	(void)state;
	assert_int_equal(libvm_has(vm, LIBVM_CAP_MSI_ROUTING), 1);
	assert_int_equal(libvm_msi_route_add(&a, vm, 0xfee00000, 0x4041), 0);
	assert_int_equal(a, 24);
	assert_int_equal(backend->nr_routes, 40);
	assert_default_routes();
	assert_msi_route(24, 0xfee00000, 0x4041);
	/* Every later table carries them again, the routes after them. */
	assert_int_equal(libvm_msi_route_add(&b, vm, 0x1fee01000ull, 0x42), 0);
	assert_int_equal(b, 25);
	assert_int_equal(backend->nr_routes, 41);
	assert_default_routes();
	assert_msi_route(24, 0xfee00000, 0x4041);
	assert_msi_route(25, 0x1fee01000ull, 0x42);
	assert_int_equal(libvm_msi_route_update(vm, a, 0xfee02000, 0x43), 0);
	assert_default_routes();
	assert_msi_route(24, 0xfee02000, 0x43);
	assert_msi_route(25, 0x1fee01000ull, 0x42);
	assert_int_equal(libvm_msi_route_remove(vm, b), 0);
	assert_int_equal(backend->nr_routes, 40);
	assert_default_routes();
	assert_int_equal(entries_for(25, &e), 0);
	assert_int_equal(libvm_msi_route_remove(vm, a), 0);
	/* The last route gone: the defaults alone, as libvm_irqchip_create() set it. */
	assert_int_equal(backend->nr_routes, 39);
	assert_default_routes();
	libvm_vm_destroy(vm);
}

static void test_allocation(void **state)
{
	libvm_vm *vm = routing_vm(4096);
	uint32_t g[4];
	int calls;

	(void)state;
	for (int i = 0; i < 4; i++) {
		assert_int_equal(libvm_msi_route_add(&g[i], vm, 0xfee00000, 0x50 + i), 0);
		assert_int_equal(g[i], 24 + i);
	}
	/* A freed GSI is the next one handed out; then the end again. */
	assert_int_equal(libvm_msi_route_remove(vm, 25), 0);
	assert_int_equal(libvm_msi_route_add(&g[1], vm, 0xfee00000, 0x61), 0);
	assert_int_equal(g[1], 25);
	assert_msi_route(25, 0xfee00000, 0x61);
	assert_int_equal(libvm_msi_route_add(&g[1], vm, 0xfee00000, 0x62), 0);
	assert_int_equal(g[1], 28);
	/* An update that changes nothing does not bother the backend. */
	calls = TABLE_CALLS;
	assert_int_equal(libvm_msi_route_update(vm, 26, 0xfee00000, 0x52), 0);
	assert_int_equal(TABLE_CALLS, calls);
	/* Many routes: the table grows and stays sorted. */
	for (int i = 0; i < 100; i++)
		assert_int_equal(libvm_msi_route_add(&g[0], vm, 0xfee00000, 0x100 + i), 0);
	assert_int_equal(g[0], 128);
	assert_int_equal(backend->nr_routes, 39 + 105);
	assert_int_equal(libvm__msi_routes_remove(vm, (uint32_t[]){ 30, 127, 24 }, 3), 0);
	assert_int_equal(backend->nr_routes, 39 + 102);
	assert_int_equal(libvm_msi_route_add(&g[0], vm, 0xfee00000, 1), 0);
	assert_int_equal(g[0], 24);
	libvm_vm_destroy(vm);
}

static void test_exhaustion(void **state)
{
	libvm_vm *vm = routing_vm(28);
	uint32_t g = 0;

	(void)state;
	/* 28 entries: the pins' 39 do not even fit, so no MSI routing. */
	assert_int_equal(libvm_has(vm, LIBVM_CAP_MSI_ROUTING), 0);
	assert_int_equal(libvm_msi_route_add(&g, vm, 0xfee00000, 0x41), -ENOTSUP);
	libvm_vm_destroy(vm);

	/* The limit bounds GSI numbers and entries alike, and the pins' 39
	 * make entries run out first: 43 leave room for 4 routes (24 .. 27)
	 * although GSIs up to 42 exist. */
	vm = routing_vm(43);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(libvm_msi_route_add(&g, vm, 0xfee00000, 0x41), 0);
		assert_int_equal(g, 24 + i);
	}
	g = 0;
	assert_int_equal(libvm_msi_route_add(&g, vm, 0xfee00000, 0x41), -ENOSPC);
	assert_non_null(strstr(libvm_error_message(), "all 4 MSI routes are in use"));
	assert_int_equal(g, 0);
	assert_int_equal(backend->nr_routes, 43);
	/* Removing one makes room for one. */
	assert_int_equal(libvm_msi_route_remove(vm, 25), 0);
	assert_int_equal(libvm_msi_route_add(&g, vm, 0xfee00000, 0x41), 0);
	assert_int_equal(g, 25);
	libvm_vm_destroy(vm);

	/* Mainline KVM's 4096 (KVM_MAX_IRQ_ROUTES): 4057 routes, GSIs 24 ..
	 * 4080, and the table the backend gets is full. */
	vm = routing_vm(4096);
	for (int i = 0; i < 4057; i++)
		assert_int_equal(libvm_msi_route_add(&g, vm, 0xfee00000, (uint32_t)i), 0);
	assert_int_equal(g, 24 + 4056);
	assert_int_equal(backend->nr_routes, 4096);
	assert_int_equal(libvm_msi_route_add(&g, vm, 0xfee00000, 0), -ENOSPC);
	libvm_vm_destroy(vm);
}

static void test_unknown_gsis(void **state)
{
	libvm_vm *vm = routing_vm(4096);
	uint32_t g;
	int calls;

	(void)state;
	assert_int_equal(libvm_msi_route_add(&g, vm, 0xfee00000, 0x41), 0);
	calls = TABLE_CALLS;
	assert_int_equal(libvm_msi_route_update(vm, 25, 0xfee00000, 0x41), -ENOENT);
	assert_string_equal(libvm_error_message(),
			    "libvm_msi_route_update: GSI 25 is not an MSI route of this VM");
	assert_int_equal(libvm_msi_route_remove(vm, 25), -ENOENT);
	assert_int_equal(libvm_msi_route_update(vm, 5, 0xfee00000, 0x41), -EINVAL);
	assert_string_equal(libvm_error_message(),
			    "libvm_msi_route_update: GSI 5 is an irqchip pin, not an MSI route");
	assert_int_equal(libvm_msi_route_remove(vm, 0), -EINVAL);
	assert_int_equal(libvm_msi_route_remove(vm, 23), -EINVAL);
	/* A batch with one unknown GSI removes nothing. */
	assert_int_equal(libvm__msi_routes_remove(vm, (uint32_t[]){ 24, 99 }, 2), -ENOENT);
	assert_int_equal(TABLE_CALLS, calls);
	/* Removed once, unknown the second time. */
	assert_int_equal(libvm_msi_route_remove(vm, 24), 0);
	assert_int_equal(libvm_msi_route_remove(vm, 24), -ENOENT);
	assert_int_equal(libvm_msi_route_update(vm, 24, 0xfee00000, 0x41), -ENOENT);
	/* NULL arguments. */
	assert_int_equal(libvm_msi_route_add(NULL, vm, 0xfee00000, 0x41), -EINVAL);
	assert_int_equal(libvm_msi_route_add(&g, NULL, 0xfee00000, 0x41), -EINVAL);
	assert_int_equal(libvm_msi_route_update(NULL, 24, 0xfee00000, 0x41), -EINVAL);
	assert_int_equal(libvm_msi_route_remove(NULL, 24), -EINVAL);
	libvm_vm_destroy(vm);
}

static void test_backend_refuses(void **state)
{
	libvm_vm *vm = routing_vm(4096);
	uint32_t a, b = 0;

	(void)state;
	assert_int_equal(libvm_msi_route_add(&a, vm, 0xfee00000, 0x41), 0);
	backend->fail[LIBVM__FAKE_set_gsi_routing] = -EIO;
	/* add: no GSI, and libvm's copy is as before. */
	assert_int_equal(libvm_msi_route_add(&b, vm, 0xfee00000, 0x42), -EIO);
	assert_int_equal(b, 0);
	assert_string_equal(libvm_error_message(),
			    "KVM_SET_GSI_ROUTING with 41 entries failed: Input/output error");
	/* update: the old message stays. */
	assert_int_equal(libvm_msi_route_update(vm, a, 0xfee01000, 0x43), -EIO);
	/* remove: the route stays. */
	assert_int_equal(libvm_msi_route_remove(vm, a), -EIO);
	backend->fail[LIBVM__FAKE_set_gsi_routing] = 0;
	assert_int_equal(libvm_msi_route_add(&b, vm, 0xfee00000, 0x44), 0);
	assert_int_equal(b, 25);
	assert_int_equal(backend->nr_routes, 41);
	assert_msi_route(24, 0xfee00000, 0x41);
	assert_msi_route(25, 0xfee00000, 0x44);
	libvm_vm_destroy(vm);
}

static void test_no_backend(void **state)
{
	libvm_vm *vm = fakevm_new("irqchip=0");
	uint32_t g = 7;

	(void)state;
	assert_int_equal(libvm_has(vm, LIBVM_CAP_MSI_ROUTING), 0);
	assert_int_equal(libvm_msi_route_add(&g, vm, 0xfee00000, 0x41), -ENOTSUP);
	assert_string_equal(libvm_error_message(),
			    "libvm_msi_route_add: fake:irqchip=0 has no in-kernel irqchip, so no MSI routes");
	assert_int_equal(g, 7);
	assert_int_equal(libvm_msi_route_update(vm, 24, 0xfee00000, 0x41), -ENOTSUP);
	assert_int_equal(libvm_msi_route_remove(vm, 24), -ENOTSUP);
	libvm_vm_destroy(vm);
	/* A backend with an irqchip the VM has not created yet. */
	vm = fakevm_new(NULL);
	assert_int_equal(libvm_msi_route_add(&g, vm, 0xfee00000, 0x41), -ENOTSUP);
	assert_string_equal(libvm_error_message(), "libvm_msi_route_add: the VM has no in-kernel "
			    "irqchip yet (libvm_irqchip_create())");
	libvm_vm_destroy(vm);
	/* An irqchip on a backend without KVM_CAP_IRQ_ROUTING. */
	vm = routing_vm(0);
	assert_int_equal(libvm_has(vm, LIBVM_CAP_MSI_ROUTING), 0);
	assert_int_equal(libvm_msi_route_add(&g, vm, 0xfee00000, 0x41), -ENOTSUP);
	assert_string_equal(libvm_error_message(),
			    "libvm_msi_route_add: fake:routing=0 has no GSI routing for MSIs "
			    "(KVM_CAP_IRQ_ROUTING 0)");
	assert_int_equal(TABLE_CALLS, 0);
	libvm_vm_destroy(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_kept),
		cmocka_unit_test(test_allocation),
		cmocka_unit_test(test_exhaustion),
		cmocka_unit_test(test_unknown_gsis),
		cmocka_unit_test(test_backend_refuses),
		cmocka_unit_test(test_no_backend),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
