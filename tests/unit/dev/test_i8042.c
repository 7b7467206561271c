/* SPDX-License-Identifier: MIT */
/*
 * i8042: reset requests, the controller commands Linux's probe issues,
 * the keyless keyboard, and the IRQ edges.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "dev/i8042.h"
#include "devtest.h"

static struct libvm__i8042 kbc;
static int irq_raises, irq_lowers;

static void on_irq(void *opaque, bool level)
{
	if (level)
		irq_raises++;
	else
		irq_lowers++;
}

static int setup(void **state)
{
	memset(&kbc, 0, sizeof(kbc));
	kbc.set_irq = on_irq;
	libvm__i8042_reset(&kbc);
	irq_raises = irq_lowers = 0;
	return 0;
}

static int cmd(uint8_t v)
{
	return libvm__i8042_access(&kbc, LIBVM__I8042_CMD, &v, 1, true);
}

static int data_out(uint8_t v)
{
	return libvm__i8042_access(&kbc, LIBVM__I8042_DATA, &v, 1, true);
}

static uint8_t status(void)
{
	uint8_t v = 0;

	libvm__i8042_access(&kbc, LIBVM__I8042_CMD, &v, 1, false);
	return v;
}

static uint8_t data_in(void)
{
	uint8_t v = 0;

	libvm__i8042_access(&kbc, LIBVM__I8042_DATA, &v, 1, false);
	return v;
}

static void test_fe_resets(void **state)
{
	/* Linux's reboot: wait for IBF clear, then 0xFE to 0x64. */
	assert_false(status() & LIBVM__I8042_STR_IBF);
	assert_int_equal(cmd(0xfe), 1);
	/* Other pulses: only those that pull bit 0 low reset. */
	assert_int_equal(cmd(0xff), 0);
	assert_int_equal(cmd(0xfc), 1);
	assert_int_equal(cmd(0xf1), 0);
}

static void test_output_port_reset(void **state)
{
	assert_int_equal(cmd(0xd0), 0);
	assert_int_equal(data_in() & 0x01, 0x01); /* reset line inactive */
	assert_int_equal(cmd(0xd1), 0);
	assert_int_equal(data_out(0x03), 0); /* A20 on, no reset */
	assert_int_equal(cmd(0xd1), 0);
	assert_int_equal(data_out(0x02), 1); /* bit 0 low: reset */
}

static void test_status_bits(void **state)
{
	uint8_t s = status();

	assert_int_equal(s & LIBVM__I8042_STR_OBF, 0);
	assert_true(s & LIBVM__I8042_STR_SYS);
	assert_true(s & LIBVM__I8042_STR_UNLOCKED);
	cmd(0xaa);
	assert_true(status() & LIBVM__I8042_STR_CMD);
	assert_true(status() & LIBVM__I8042_STR_OBF);
	assert_int_equal(data_in(), 0x55);
	assert_false(status() & LIBVM__I8042_STR_OBF);
	data_out(0xf4);
	assert_false(status() & LIBVM__I8042_STR_CMD);
}

static void test_configuration_byte(void **state)
{
	cmd(0x20);
	assert_int_equal(data_in(), 0x65); /* KBDINT SYS AUXDIS XLATE */
	cmd(0x60);
	data_out(0x44);
	cmd(0x20);
	assert_int_equal(data_in(), 0x44);
	cmd(0xae);
	cmd(0xad);
	cmd(0x20);
	assert_int_equal(data_in(), 0x54);
	/* The AUX port: 0xa7/0xa8 set and clear AUXDIS, its test passes. */
	cmd(0xa7);
	cmd(0x20);
	assert_true(data_in() & LIBVM__I8042_CTR_AUXDIS);
	cmd(0xa8);
	cmd(0x20);
	assert_false(data_in() & LIBVM__I8042_CTR_AUXDIS);
	cmd(0xa9);
	assert_int_equal(data_in(), 0x00);
	cmd(0xab);
	assert_int_equal(data_in(), 0x00);
}

static int aux_raises, aux_lowers;

static void on_aux_irq(void *opaque, bool level)
{
	if (level)
		aux_raises++;
	else
		aux_lowers++;
}

/* Linux's AUX checks: the loopback byte comes back marked as the mouse's
 * and raises IRQ 12 when AUXINT is on; the mouse answers reset, identify
 * and status, and keeps its settings. */
static void test_aux_port(void **state)
{
	kbc.set_aux_irq = on_aux_irq;
	aux_raises = aux_lowers = 0;
	cmd(0xd3);
	data_out(0x5a);
	assert_int_equal(status() & (LIBVM__I8042_STR_OBF | LIBVM__I8042_STR_AUXDATA),
			 LIBVM__I8042_STR_OBF | LIBVM__I8042_STR_AUXDATA);
	assert_int_equal(aux_raises, 0); /* AUXINT is off at reset */
	assert_int_equal(data_in(), 0x5a);
	assert_false(status() & LIBVM__I8042_STR_AUXDATA);
	cmd(0x60);
	data_out(0x47); /* KBDINT AUXINT SYS XLATE */
	cmd(0xd3);
	data_out(0xa5);
	assert_int_equal(aux_raises, 1);
	assert_int_equal(irq_raises, 0);
	assert_int_equal(data_in(), 0xa5);
	assert_int_equal(aux_lowers, 1);
	cmd(0xd4);
	data_out(0xff);
	assert_int_equal(data_in(), 0xfa);
	assert_int_equal(data_in(), 0xaa);
	assert_int_equal(data_in(), 0x00);
	cmd(0xd4);
	data_out(0xf2);
	assert_int_equal(data_in(), 0xfa);
	assert_int_equal(data_in(), 0x00);
	cmd(0xd4);
	data_out(0xf3);
	assert_int_equal(data_in(), 0xfa);
	cmd(0xd4);
	data_out(40);
	assert_int_equal(data_in(), 0xfa);
	cmd(0xd4);
	data_out(0xf4);
	assert_int_equal(data_in(), 0xfa);
	cmd(0xd4);
	data_out(0xe9);
	assert_int_equal(data_in(), 0xfa);
	assert_int_equal(data_in(), 0x20); /* reporting on */
	assert_int_equal(data_in(), 2);
	assert_int_equal(data_in(), 40);
	cmd(0xd4);
	data_out(0x12);
	assert_int_equal(data_in(), 0xfe);
	/* A keyboard byte after them goes to IRQ 1, not 12. */
	data_out(0xee);
	assert_false(status() & LIBVM__I8042_STR_AUXDATA);
	assert_int_equal(irq_raises, 1);
	assert_int_equal(data_in(), 0xee);
	kbc.set_aux_irq = NULL;
}

static void test_keyboard_answers(void **state)
{
	data_out(0xff);
	assert_int_equal(data_in(), 0xfa);
	assert_int_equal(data_in(), 0xaa);
	data_out(0xf2);
	assert_int_equal(data_in(), 0xfa);
	assert_int_equal(data_in(), 0xab);
	assert_int_equal(data_in(), 0x83);
	data_out(0xed); /* LEDs, then their byte */
	assert_int_equal(data_in(), 0xfa);
	data_out(0x07);
	assert_int_equal(data_in(), 0xfa);
	data_out(0xf0); /* ask for the scan code set */
	data_out(0x00);
	assert_int_equal(data_in(), 0xfa);
	assert_int_equal(data_in(), 0xfa);
	assert_int_equal(data_in(), 0x02);
	data_out(0xee);
	assert_int_equal(data_in(), 0xee);
	data_out(0x12);
	assert_int_equal(data_in(), 0xfe);
	/* An empty buffer repeats the last byte. */
	assert_int_equal(data_in(), 0xfe);
	/* 0xD2 writes the keyboard's output buffer. */
	cmd(0xd2);
	data_out(0x1c);
	assert_int_equal(data_in(), 0x1c);
}

static void test_irq_edges(void **state)
{
	data_out(0xf2); /* three bytes queued */
	assert_int_equal(irq_raises, 1);
	data_in();
	data_in();
	/* A new edge per byte: low then high again while bytes remain. */
	assert_int_equal(irq_raises, 3);
	assert_int_equal(irq_lowers, 2);
	data_in();
	assert_int_equal(irq_lowers, 3);
	assert_int_equal(irq_raises, 3);
	/* With KBDINT clear, nothing is signalled. */
	cmd(0x60);
	data_out(0x64);
	irq_raises = 0;
	data_out(0xee);
	assert_int_equal(irq_raises, 0);
}

static void test_through_bus(void **state)
{
	libvm_vm *vm = devtest_vm();
	libvm_vcpu *vcpu = devtest_vcpu(vm);
	libvm_i8042_options o = LIBVM_I8042_OPTIONS_INIT;
	libvm_i8042 *k = NULL;

	o.irq = 24;
	assert_int_equal(libvm_i8042_attach(&k, vm, &o), -EINVAL);
	assert_int_equal(libvm_i8042_attach(&k, vm, NULL), 0);
	assert_int_equal(devtest_in(vcpu, 0x64, 1) & 0x01, 0);
	/* 0x61-0x63 stay free for the PIT and others. */
	assert_int_equal(devtest_io(vcpu, LIBVM_SPACE_PIO, 0x61, &(uint32_t){ 0 }, 1, false), 0);
	devtest_out(vcpu, 0x64, 0xaa, 1);
	assert_int_equal(devtest_in(vcpu, 0x60, 1), 0x55);
	assert_int_equal(vcpu->end_reason, 0);
	assert_int_equal(devtest_out(vcpu, 0x64, 0xfe, 1), 1);
	assert_int_equal(vcpu->end_reason, LIBVM_EXIT_RESET);
	libvm_i8042_detach(k);
	devtest_vm_free(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_fe_resets, setup),
		cmocka_unit_test_setup(test_output_port_reset, setup),
		cmocka_unit_test_setup(test_status_bits, setup),
		cmocka_unit_test_setup(test_configuration_byte, setup),
		cmocka_unit_test_setup(test_aux_port, setup),
		cmocka_unit_test_setup(test_keyboard_answers, setup),
		cmocka_unit_test_setup(test_irq_edges, setup),
		cmocka_unit_test(test_through_bus),
	};

	return cmocka_run_group_tests_name("i8042", tests, NULL, NULL);
}
