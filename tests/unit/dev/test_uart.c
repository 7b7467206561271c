/* SPDX-License-Identifier: MIT */
/*
 * 16550A model driven directly: what polling guests and Linux's 8250
 * driver (its probe in autoconfig() and its startup tests) rely on.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "dev/uart.h"

struct probe {
	uint8_t out[64];
	size_t nout;
	int irq_changes;
	bool irq;
};

static struct probe probe;
static struct libvm__uart uart;

static void on_tx(void *opaque, uint8_t byte)
{
	struct probe *p = opaque;

	if (p->nout < sizeof(p->out))
		p->out[p->nout++] = byte;
}

static void on_irq(void *opaque, bool level)
{
	struct probe *p = opaque;

	p->irq_changes++;
	p->irq = level;
}

static int setup(void **state)
{
	memset(&probe, 0, sizeof(probe));
	memset(&uart, 0, sizeof(uart));
	uart.tx = on_tx;
	uart.set_irq = on_irq;
	uart.opaque = &probe;
	libvm__uart_reset(&uart);
	return 0;
}

static uint8_t in(uint32_t reg)
{
	uint8_t v = 0xff;

	libvm__uart_access(&uart, reg, &v, 1, false);
	return v;
}

static void out(uint32_t reg, uint8_t v)
{
	libvm__uart_access(&uart, reg, &v, 1, true);
}

static void test_reset_state(void **state)
{
	assert_int_equal(in(LIBVM__UART_LSR), 0x60); /* THRE | TEMT, no data */
	assert_int_equal(in(LIBVM__UART_IIR), 0x01); /* no interrupt, no FIFO */
	assert_int_equal(in(LIBVM__UART_IER), 0);
	assert_int_equal(in(LIBVM__UART_MSR), 0xb0); /* CTS DSR DCD, no deltas */
	assert_int_equal(probe.irq_changes, 0);
}

static void test_polling_guest_prints(void **state)
{
	const char *msg = "hi!\n";

	for (const char *c = msg; *c; c++) {
		/* The loop every tiny guest has: wait for THRE, then write. */
		assert_true(in(LIBVM__UART_LSR) & LIBVM__UART_LSR_THRE);
		out(LIBVM__UART_RBR, (uint8_t)*c);
	}
	assert_int_equal(probe.nout, strlen(msg));
	assert_memory_equal(probe.out, msg, strlen(msg));
	assert_true(in(LIBVM__UART_LSR) & LIBVM__UART_LSR_TEMT);
}

static void test_linux_probe_ier(void **state)
{
	/* autoconfig(): IER keeps the low nibble and nothing else. */
	out(LIBVM__UART_IER, 0);
	assert_int_equal(in(LIBVM__UART_IER) & 0x0f, 0);
	out(LIBVM__UART_IER, 0x0f);
	assert_int_equal(in(LIBVM__UART_IER) & 0x0f, 0x0f);
	out(LIBVM__UART_IER, 0xff);
	assert_int_equal(in(LIBVM__UART_IER), 0x0f); /* no UUE bit 6 */
}

static void test_linux_probe_loopback(void **state)
{
	/* MCR = LOOP | OUT2 | RTS: MSR must show DCD | CTS = 0x90. */
	out(LIBVM__UART_MCR, LIBVM__UART_MCR_LOOP | 0x0a);
	assert_int_equal(in(LIBVM__UART_MSR) & 0xf0, 0x90);
	out(LIBVM__UART_MCR, 0);
}

static void test_linux_probe_fifo(void **state)
{
	out(LIBVM__UART_IIR, LIBVM__UART_FCR_ENABLE);
	assert_int_equal(in(LIBVM__UART_IIR) >> 6, 3); /* 16550A */
	/* 16750 check: asking for the 64-byte FIFO must not set IIR bit 5. */
	out(LIBVM__UART_IIR, LIBVM__UART_FCR_ENABLE | 0x20);
	assert_int_equal(in(LIBVM__UART_IIR) & 0x20, 0);
	out(LIBVM__UART_IIR, 0);
	assert_int_equal(in(LIBVM__UART_IIR) & 0xc0, 0);
}

static void test_thre_interrupt(void **state)
{
	out(LIBVM__UART_MCR, LIBVM__UART_MCR_OUT2);
	out(LIBVM__UART_IIR, LIBVM__UART_FCR_ENABLE);
	/* Linux's startup test: enabling THRI with THR empty raises it at
	 * once, and again after disabling and re-enabling. */
	out(LIBVM__UART_IER, LIBVM__UART_IER_THRI);
	assert_true(probe.irq);
	assert_int_equal(in(LIBVM__UART_IIR), 0xc2);
	assert_int_equal(in(LIBVM__UART_IIR), 0xc1); /* reading IIR acknowledged it */
	assert_false(probe.irq);
	out(LIBVM__UART_IER, 0);
	out(LIBVM__UART_IER, LIBVM__UART_IER_THRI);
	assert_int_equal(in(LIBVM__UART_IIR), 0xc2);
	/* Each transmitted byte empties THR again: a new THRE interrupt. */
	out(LIBVM__UART_RBR, 'x');
	assert_true(probe.irq);
	assert_int_equal(in(LIBVM__UART_IIR) & 0x0f, LIBVM__UART_IIR_THRI);
	out(LIBVM__UART_IER, 0);
	assert_false(probe.irq);
}

static void test_irq_needs_out2(void **state)
{
	out(LIBVM__UART_IER, LIBVM__UART_IER_THRI);
	assert_int_equal(in(LIBVM__UART_IIR) & 0x0f, LIBVM__UART_IIR_THRI);
	assert_int_equal(probe.irq_changes, 0);
	out(LIBVM__UART_IER, 0);
	out(LIBVM__UART_MCR, LIBVM__UART_MCR_OUT2);
	out(LIBVM__UART_IER, LIBVM__UART_IER_THRI);
	assert_int_equal(probe.irq_changes, 1);
	assert_true(probe.irq);
	out(LIBVM__UART_MCR, 0); /* dropping OUT2 releases the line */
	assert_false(probe.irq);
}

static void test_receive_fifo(void **state)
{
	uint8_t buf[20];

	for (int i = 0; i < 20; i++)
		buf[i] = (uint8_t)('a' + i);
	out(LIBVM__UART_MCR, LIBVM__UART_MCR_OUT2);
	/* Without the FIFO the receiver holds one byte. */
	assert_int_equal(libvm__uart_receive(&uart, buf, 20), 1);
	assert_int_equal(libvm__uart_rx_room(&uart), 0);
	assert_int_equal(in(LIBVM__UART_RBR), 'a');
	/* With the FIFO, 16; the rest waits on the host side. */
	out(LIBVM__UART_IIR, LIBVM__UART_FCR_ENABLE);
	out(LIBVM__UART_IER, LIBVM__UART_IER_RDI);
	assert_false(probe.irq);
	assert_int_equal(libvm__uart_receive(&uart, buf, 20), 16);
	assert_true(probe.irq);
	assert_true(in(LIBVM__UART_LSR) & LIBVM__UART_LSR_DR);
	for (int i = 0; i < 16; i++)
		assert_int_equal(in(LIBVM__UART_RBR), 'a' + i);
	assert_false(in(LIBVM__UART_LSR) & LIBVM__UART_LSR_DR);
	assert_int_equal(in(LIBVM__UART_IIR), 0xc1);
	assert_false(probe.irq);
}

static void test_receive_trigger_level(void **state)
{
	uint8_t buf[14] = { 0 };

	out(LIBVM__UART_IIR, LIBVM__UART_FCR_ENABLE | 0xc0); /* trigger at 14 */
	out(LIBVM__UART_IER, LIBVM__UART_IER_RDI);
	libvm__uart_receive(&uart, buf, 3);
	assert_int_equal(in(LIBVM__UART_IIR), 0xcc); /* below trigger: timeout */
	libvm__uart_receive(&uart, buf, 11);
	assert_int_equal(in(LIBVM__UART_IIR), 0xc4); /* data available */
	/* FCR bit 1 empties the receive FIFO. */
	out(LIBVM__UART_IIR, LIBVM__UART_FCR_ENABLE | LIBVM__UART_FCR_CLEAR_RX);
	assert_int_equal(in(LIBVM__UART_IIR), 0xc1);
	assert_int_equal(libvm__uart_rx_room(&uart), 16);
}

static void test_loopback_and_overrun(void **state)
{
	out(LIBVM__UART_MCR, LIBVM__UART_MCR_LOOP);
	out(LIBVM__UART_RBR, 0x5a);
	assert_int_equal(probe.nout, 0); /* nothing leaves in loopback */
	assert_int_equal(in(LIBVM__UART_LSR) & LIBVM__UART_LSR_DR, LIBVM__UART_LSR_DR);
	/* FIFO off: a second byte overruns the one-byte receiver. */
	out(LIBVM__UART_IER, LIBVM__UART_IER_RLSI);
	out(LIBVM__UART_RBR, 0xa5);
	assert_int_equal(in(LIBVM__UART_IIR), 0x06);
	assert_int_equal(in(LIBVM__UART_LSR), 0x63); /* OE reported once */
	assert_int_equal(in(LIBVM__UART_LSR), 0x61);
	assert_int_equal(in(LIBVM__UART_RBR), 0x5a);
	/* Loopback keeps the IRQ pin quiet even with OUT2 set. */
	out(LIBVM__UART_MCR, LIBVM__UART_MCR_LOOP | LIBVM__UART_MCR_OUT2);
	out(LIBVM__UART_IER, LIBVM__UART_IER_THRI);
	assert_int_equal(in(LIBVM__UART_IIR) & 0x0f, LIBVM__UART_IIR_THRI);
	assert_int_equal(probe.irq_changes, 0);
}

static void test_modem_status_deltas(void **state)
{
	out(LIBVM__UART_MCR, LIBVM__UART_MCR_LOOP);
	in(LIBVM__UART_MSR); /* the switch to loopback latched deltas */
	out(LIBVM__UART_IER, LIBVM__UART_IER_MSI);
	assert_int_equal(in(LIBVM__UART_IIR), 0x01);
	out(LIBVM__UART_MCR, LIBVM__UART_MCR_LOOP | LIBVM__UART_MCR_RTS | LIBVM__UART_MCR_OUT1);
	assert_int_equal(in(LIBVM__UART_IIR), 0x00); /* modem status */
	assert_int_equal(in(LIBVM__UART_MSR), LIBVM__UART_MSR_CTS | LIBVM__UART_MSR_RI |
						     LIBVM__UART_MSR_DCTS);
	out(LIBVM__UART_MCR, LIBVM__UART_MCR_LOOP | LIBVM__UART_MCR_RTS);
	assert_int_equal(in(LIBVM__UART_MSR), LIBVM__UART_MSR_CTS | LIBVM__UART_MSR_TERI);
	assert_int_equal(in(LIBVM__UART_MSR), LIBVM__UART_MSR_CTS);
	assert_int_equal(in(LIBVM__UART_IIR), 0x01);
}

static void test_divisor_latch(void **state)
{
	out(LIBVM__UART_LCR, 0x83);
	out(LIBVM__UART_RBR, 0x0c); /* 9600 baud */
	out(LIBVM__UART_IER, 0x00);
	assert_int_equal(in(LIBVM__UART_RBR), 0x0c);
	assert_int_equal(probe.nout, 0); /* DLL is not THR */
	out(LIBVM__UART_LCR, 0x03);
	assert_int_equal(in(LIBVM__UART_LCR), 0x03);
	out(LIBVM__UART_SCR, 0x42);
	assert_int_equal(in(LIBVM__UART_SCR), 0x42);
}

static void test_wide_access_splits(void **state)
{
	uint16_t w = 0x0241; /* THR = 'A', IER = THRI */
	uint32_t d = 0xffffffff;

	libvm__uart_access(&uart, 0, &w, 2, true);
	assert_int_equal(probe.nout, 1);
	assert_int_equal(probe.out[0], 'A');
	assert_int_equal(in(LIBVM__UART_IER), LIBVM__UART_IER_THRI);
	/* A read running past register 7 leaves those bytes all-ones. */
	libvm__uart_access(&uart, 6, &d, 4, false);
	assert_int_equal(d >> 16, 0xffff);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_reset_state, setup),
		cmocka_unit_test_setup(test_polling_guest_prints, setup),
		cmocka_unit_test_setup(test_linux_probe_ier, setup),
		cmocka_unit_test_setup(test_linux_probe_loopback, setup),
		cmocka_unit_test_setup(test_linux_probe_fifo, setup),
		cmocka_unit_test_setup(test_thre_interrupt, setup),
		cmocka_unit_test_setup(test_irq_needs_out2, setup),
		cmocka_unit_test_setup(test_receive_fifo, setup),
		cmocka_unit_test_setup(test_receive_trigger_level, setup),
		cmocka_unit_test_setup(test_loopback_and_overrun, setup),
		cmocka_unit_test_setup(test_modem_status_deltas, setup),
		cmocka_unit_test_setup(test_divisor_latch, setup),
		cmocka_unit_test_setup(test_wide_access_splits, setup),
	};

	return cmocka_run_group_tests_name("uart", tests, NULL, NULL);
}
