/* SPDX-License-Identifier: MIT */
/*
 * pc-testdev: scratch register, sink, IRQ level ports and the RAM-like
 * MMIO window, as kvm-unit-tests style kernels use them.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "dev/testdev.h"
#include "devtest.h"

static uint32_t last_irq;
static bool last_level;
static int irq_calls;

static void on_irq(void *opaque, uint32_t irq, bool level)
{
	last_irq = irq;
	last_level = level;
	irq_calls++;
}

static void test_scratch_register(void **state)
{
	struct libvm__testdev t = { 0 };
	uint32_t v = 0x12345678;
	uint8_t b = 0xaa;
	uint16_t w = 0;

	libvm__testdev_scratch(&t, 0, &v, 4, true);
	libvm__testdev_scratch(&t, 1, &b, 1, true); /* byte lanes are separate */
	assert_int_equal(t.scratch, 0x1234aa78);
	libvm__testdev_scratch(&t, 2, &w, 2, false);
	assert_int_equal(w, 0x1234);
	v = 0;
	libvm__testdev_scratch(&t, 0, &v, 4, false);
	assert_int_equal(v, 0x1234aa78);
}

static void test_irq_ports(void **state)
{
	struct libvm__testdev t = { .set_irq = on_irq };
	uint8_t v = 1;

	irq_calls = 0;
	libvm__testdev_irq(&t, 10, &v, 1, true);
	assert_int_equal(last_irq, 10);
	assert_true(last_level);
	v = 0;
	libvm__testdev_irq(&t, 10, &v, 1, true);
	assert_false(last_level);
	v = 0x80; /* any non-zero value raises */
	libvm__testdev_irq(&t, 23, &v, 1, true);
	assert_true(last_level);
	assert_int_equal(last_irq, 23);
	libvm__testdev_irq(&t, 24, &v, 1, true);
	assert_int_equal(irq_calls, 3);
}

static void test_iomem_is_ram_like(void **state)
{
	uint8_t mem[64] = { 0 };
	struct libvm__testdev t = { .iomem = mem, .iomem_size = sizeof(mem) };
	uint64_t q = 0x1122334455667788ull, r = 0;
	uint32_t d = 0;

	libvm__testdev_iomem(&t, 8, &q, 8, true);
	libvm__testdev_iomem(&t, 8, &r, 8, false);
	assert_true(r == q);
	libvm__testdev_iomem(&t, 10, &d, 4, false);
	assert_int_equal(d, 0x33445566);
	/* Past the end: nothing written, reads keep the all-ones preset. */
	q = ~0ull;
	libvm__testdev_iomem(&t, 60, &q, 8, false);
	assert_int_equal(q >> 32, 0xffffffff);
	libvm__testdev_iomem(&t, 64, &q, 8, true);
}

static void test_through_bus(void **state)
{
	libvm_vm *vm = devtest_vm();
	libvm_vcpu *vcpu = devtest_vcpu(vm);
	libvm_testdev *t = NULL;
	uint64_t q = 0xfeedfacecafebeefull, r = 0;

	assert_int_equal(libvm_testdev_attach(&t, vm, NULL), 0);
	assert_int_equal(devtest_out(vcpu, 0xe0, 0xdeadbeef, 4), 1);
	assert_int_equal(devtest_in(vcpu, 0xe0, 4), 0xdeadbeef);
	assert_int_equal(devtest_in(vcpu, 0xe2, 2), 0xdead);
	assert_int_equal(devtest_out(vcpu, 0xe4, 0x1000, 4), 1);
	assert_int_equal(devtest_in(vcpu, 0xe0, 4), 0xdeadbeef);
	/* No irqchip on this VM: the line change is dropped, not an error. */
	assert_int_equal(devtest_out(vcpu, 0x2004, 1, 1), 1);
	assert_int_equal(devtest_io(vcpu, LIBVM_SPACE_MMIO, 0xff000100, &q, 8, true), 1);
	assert_int_equal(devtest_io(vcpu, LIBVM_SPACE_MMIO, 0xff000100, &r, 8, false), 1);
	assert_true(r == q);
	assert_int_equal(devtest_io(vcpu, LIBVM_SPACE_MMIO, 0xff00fff8, &r, 8, false), 1);
	assert_true(r == 0); /* starts zeroed */
	assert_int_equal(devtest_io(vcpu, LIBVM_SPACE_MMIO, 0xff010000, &r, 8, false), 0);
	libvm_testdev_detach(t);
	assert_int_equal(devtest_io(vcpu, LIBVM_SPACE_MMIO, 0xff000100, &r, 8, false), 0);
	devtest_vm_free(vm);
}

static int other_device(libvm_vcpu *vcpu, uint64_t addr, void *data, uint32_t len,
			bool is_write, void *opaque)
{
	return 0;
}

static void test_options(void **state)
{
	libvm_vm *vm = devtest_vm();
	libvm_testdev_options o = LIBVM_TESTDEV_OPTIONS_INIT;
	libvm_testdev *t = NULL;

	o.irq_port = 0xfff0;
	assert_int_equal(libvm_testdev_attach(&t, vm, &o), -EINVAL);
	o = (libvm_testdev_options)LIBVM_TESTDEV_OPTIONS_INIT;
	o.mmio_size = 32u << 20;
	assert_int_equal(libvm_testdev_attach(&t, vm, &o), -EINVAL);
	o.mmio_size = 0x1000;
	o.mmio_base = ~0ull - 0x800;
	assert_int_equal(libvm_testdev_attach(&t, vm, &o), -EINVAL);
	/* A clash on the last range leaves nothing registered. */
	assert_int_equal(libvm_io_register(vm, LIBVM_SPACE_MMIO, 0xff008000, 1, "other",
					   other_device, NULL), 0);
	assert_int_equal(libvm_testdev_attach(&t, vm, NULL), -EEXIST);
	assert_null(t);
	assert_int_equal(libvm_io_unregister(vm, LIBVM_SPACE_PIO, 0xe0), -ENOENT);
	/* Without the window, only the ports. */
	o = (libvm_testdev_options)LIBVM_TESTDEV_OPTIONS_INIT;
	o.flags = 2;
	assert_int_equal(libvm_testdev_attach(&t, vm, &o), -EINVAL);
	o.flags = LIBVM_TESTDEV_NO_MMIO;
	assert_int_equal(libvm_testdev_attach(&t, vm, &o), 0);
	libvm_testdev_detach(t);
	devtest_vm_free(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scratch_register),
		cmocka_unit_test(test_irq_ports),
		cmocka_unit_test(test_iomem_is_ram_like),
		cmocka_unit_test(test_through_bus),
		cmocka_unit_test(test_options),
	};

	return cmocka_run_group_tests_name("testdev", tests, NULL, NULL);
}
