/*
 * The 16550A UART at 0x3f8 and its interrupt through IOAPIC pin 4: the
 * scratch register, LSR's transmitter bits that polling guests spin on,
 * the FIFO signature in IIR, receive in loopback, and then the receive and
 * transmitter-empty interrupts routed through the IOAPIC. Loopback output
 * does not reach the IRQ line on a PC (OUT2 is looped back), so the RX
 * interrupt is taken after leaving loopback with the byte still waiting.
 * Last, a line of output is sent one byte per THRE interrupt: each byte
 * written must latch THRE again and raise one more interrupt.
 *
 * By default the next byte is written from the main loop once the
 * handler has taken the interrupt. With the argument "from-handler" the
 * handler itself writes it, as Linux's 8250 driver does: the new THRE
 * interrupt then becomes pending while the handler runs with IF clear, and
 * the hypervisor must deliver it after IRET. Our build machines' nested
 * KVM does not always do that (docs/test-kernels.md), so that variant is a
 * test of its own in a host-bug suite; when the chain stalls it prints the
 * LAPIC state that tells a lost edge from an undelivered one.
 *
 * The kernel prints nothing else while the UART is in loopback or has
 * IER.ETBEI set.
 */
#include "kernel.h"

#define UART_RBR 0
#define UART_THR 0
#define UART_IER 1
#define UART_IIR 2
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_SCR 7

#define IER_RX		0x01
#define IER_THRE	0x02
#define MCR_DTR		0x01
#define MCR_RTS		0x02
#define MCR_OUT2	0x08
#define MCR_LOOP	0x10
#define LSR_DR		0x01
#define LSR_THRE	0x20
#define LSR_TEMT	0x40
#define IIR_ID(v)	((v) & 0x0f)
#define IIR_NONE	0x01
#define IIR_THRI	0x02
#define IIR_RDI		0x04
#define IIR_TIMEOUT	0x0c

#define VECTOR 0x34

static volatile uint32_t rx_irqs, thre_irqs, other_irqs;
static volatile uint8_t rx_byte, rx_iir, thre_iir;

/* Interrupt-driven output: the THRE handler sends the next byte. */
static const char tx_line[] = "serial-irq: this line was sent one byte per THRE interrupt\n";
static volatile uint32_t tx_pos, tx_done;
static volatile bool tx_active, tx_from_handler;

static void uart_irq(struct irq_frame *f)
{
	uint8_t iir = inb(COM1_PORT + UART_IIR);

	if (IIR_ID(iir) == IIR_RDI || IIR_ID(iir) == IIR_TIMEOUT) {
		rx_iir = iir;
		rx_byte = inb(COM1_PORT + UART_RBR);
		rx_irqs++;
	} else if (IIR_ID(iir) == IIR_THRI) {
		/* Reading IIR while it shows THRE acknowledged it. */
		thre_iir = iir;
		thre_irqs++;
		if (tx_active && tx_from_handler) {
			if (tx_line[tx_pos]) {
				outb(COM1_PORT + UART_THR, (uint8_t)tx_line[tx_pos++]);
			} else {
				outb(COM1_PORT + UART_IER, 0);
				tx_active = false;
				tx_done = 1;
			}
		}
	} else {
		other_irqs++;
	}
	lapic_eoi();
}

/* Wait with interrupts on (they stay on) until *count reaches n. */
static bool wait_count(volatile uint32_t *count, uint32_t n, unsigned int timeout_ms)
{
	uint64_t start = pmtimer_now();

	while (*count < n && pmtimer_us_since(start) < timeout_ms * 1000ull)
		cpu_relax();
	return *count >= n;
}

/*
 * The main loop writes each byte, with interrupts on, once the handler
 * has taken the THRE interrupt of the previous one (or of enabling ETBEI).
 */
static void send_from_main_loop(void)
{
	thre_irqs = 0;
	tx_pos = 0;
	irq_enable();
	outb(COM1_PORT + UART_IER, IER_THRE);
	while (wait_count(&thre_irqs, tx_pos + 1, 1000) && tx_line[tx_pos])
		outb(COM1_PORT + UART_THR, (uint8_t)tx_line[tx_pos++]);
	irq_disable();
	outb(COM1_PORT + UART_IER, 0);
}

/* The handler writes each byte (tx_from_handler); wait for the end. */
static void send_from_handler(void)
{
	thre_irqs = 0;
	tx_pos = 0;
	tx_active = true;
	outb(COM1_PORT + UART_IER, IER_THRE);
	irq_wait(&tx_done, 1, 5000);
	if (!tx_done) {
		/* Set in IRR, clear in ISR, PPR below it, and interrupts were
		 * on while waiting: the hypervisor did not deliver a pending
		 * interrupt. Clear in IRR: the edge never reached the LAPIC. */
		uint32_t bit = 1u << (VECTOR % 32);
		uint32_t irr = lapic_read(APIC_IRR + 0x10 * (VECTOR / 32)) & bit;
		uint32_t isr = lapic_read(APIC_ISR + 0x10 * (VECTOR / 32)) & bit;

		printf("serial-irq: stalled after %u bytes: vector 0x%x %s in IRR, %s in ISR, PPR 0x%x, LSR 0x%02x\n",
		       tx_pos, VECTOR, irr ? "set" : "clear", isr ? "set" : "clear",
		       lapic_read(APIC_PPR), inb(COM1_PORT + UART_LSR));
	}
	outb(COM1_PORT + UART_IER, 0);
	tx_active = false;
}

int main(int argc, char **argv)
{
	uint8_t lsr, iir, loop_lsr, loop_iir, loop_iir_rx;
	unsigned int gsi;
	bool rx_ok, thre_ok;

	acpi_init();
	lapic_init();
	outb(COM1_PORT + UART_IER, 0);

	outb(COM1_PORT + UART_SCR, 0x5a);
	iir = inb(COM1_PORT + UART_SCR);
	outb(COM1_PORT + UART_SCR, 0xa5);
	report(iir == 0x5a && inb(COM1_PORT + UART_SCR) == 0xa5, "scratch register holds 0x5a and 0xa5");
	lsr = inb(COM1_PORT + UART_LSR);
	report((lsr & (LSR_THRE | LSR_TEMT)) == (LSR_THRE | LSR_TEMT),
	       "LSR 0x%02x: transmitter empty (THRE and TEMT), so polling guests go on", lsr);
	report(inb(COM1_PORT + UART_LCR) != 0xff, "LCR reads as a register, not an empty bus");

	/* FIFOs on and cleared: a 16550A shows 11b in IIR bits 7:6. */
	outb(COM1_PORT + UART_FCR, 0x07);
	iir = inb(COM1_PORT + UART_IIR);
	report((iir & 0xc0) == 0xc0, "IIR 0x%02x: FIFOs enabled (a 16550A)", iir);
	report(IIR_ID(iir) == IIR_NONE, "no interrupt pending with IER 0");

	/* Loopback: the byte comes back to the receiver. No printing here. */
	outb(COM1_PORT + UART_MCR, MCR_LOOP);
	outb(COM1_PORT + UART_THR, 'Z');
	loop_lsr = inb(COM1_PORT + UART_LSR);
	loop_iir = inb(COM1_PORT + UART_IIR);
	outb(COM1_PORT + UART_IER, IER_RX);
	loop_iir_rx = inb(COM1_PORT + UART_IIR);
	outb(COM1_PORT + UART_IER, 0);
	/* Out of loopback with the byte still in the FIFO, OUT2 gating the
	 * IRQ line on as PC boards wire it. */
	outb(COM1_PORT + UART_MCR, MCR_DTR | MCR_RTS | MCR_OUT2);
	report(loop_lsr & LSR_DR, "loopback: LSR 0x%02x shows data ready", loop_lsr);
	report(IIR_ID(loop_iir) == IIR_NONE, "loopback: IIR 0x%02x, no interrupt with IER 0", loop_iir);
	report(IIR_ID(loop_iir_rx) == IIR_RDI || IIR_ID(loop_iir_rx) == IIR_TIMEOUT,
	       "loopback: IIR 0x%02x, receive data available once IER.RX is set", loop_iir_rx);

	gsi = isa_irq_to_gsi(COM1_IRQ);
	report(acpi.madt_found && gsi == COM1_IRQ, "IRQ 4 is GSI %u (no MADT override)", gsi);
	set_handler(VECTOR, uart_irq);
	ioapic_route(gsi, VECTOR, lapic_id(), 0);

	outb(COM1_PORT + UART_IER, IER_RX);
	rx_ok = irq_wait(&rx_irqs, 1, 1000);
	outb(COM1_PORT + UART_IER, 0);
	report(rx_ok, "RX interrupt through IOAPIC pin %u to vector 0x%x", gsi, VECTOR);
	report(rx_byte == 'Z', "the interrupt handler read the looped-back byte 0x%02x", rx_byte);
	report(IIR_ID(rx_iir) == IIR_RDI || IIR_ID(rx_iir) == IIR_TIMEOUT,
	       "IIR 0x%02x in the handler: receive data", rx_iir);
	report(!(inb(COM1_PORT + UART_LSR) & LSR_DR), "receiver empty after the handler's read");

	/* THRE interrupt: the holding register is empty, so enabling it
	 * raises one at once. No printing until IER is 0 again. */
	outb(COM1_PORT + UART_IER, IER_THRE);
	thre_ok = irq_wait(&thre_irqs, 1, 1000);
	outb(COM1_PORT + UART_IER, 0);
	report(thre_ok, "THRE interrupt through IOAPIC pin %u (%u taken)", gsi, thre_irqs);
	report(IIR_ID(thre_iir) == IIR_THRI, "IIR 0x%02x in the handler: transmitter empty", thre_iir);

	/* A whole line, one THRE interrupt per byte. */
	tx_from_handler = argc > 1 && !strcmp(argv[1], "from-handler");
	if (tx_from_handler)
		send_from_handler();
	else
		send_from_main_loop();
	report(tx_pos == sizeof(tx_line) - 1 && thre_irqs == sizeof(tx_line),
	       "interrupt-driven output%s: %u of %u bytes, %u THRE interrupts (one per byte and one at the end)",
	       tx_from_handler ? " from the handler" : "", tx_pos,
	       (unsigned int)sizeof(tx_line) - 1, thre_irqs);
	report(other_irqs == 0, "no interrupt with another cause (%u)", other_irqs);
	ioapic_mask(gsi, true);
	return 0;
}
