/*
 * The 8254 PIT is wired as on a PC: its channel 0 output (ISA IRQ 0)
 * reaches the IOAPIC pin that the MADT's source override names (pin 2),
 * with the 8259s masked, at the rate it was programmed for. This is the
 * check Linux makes at boot (check_timer); a platform that delivers the
 * PIT to another pin makes Linux print "MP-BIOS bug: 8254 timer not
 * connected to IO-APIC" and fall back to the 8259 paths. The pc-testdev
 * line of ISA IRQ 0 reaches the same pin.
 */
#include "kernel.h"

#define PIT_VECTOR	0x50
#define PIT_HZ		1193182u
#define TICK_HZ		100u
#define WINDOW_MS	300u

static volatile uint32_t ticks;

static void pit_irq(struct irq_frame *f)
{
	ticks++;
	lapic_eoi();
}

/* Channel 0, lobyte/hibyte, mode 2 (rate generator) at @hz. */
static void pit_start(uint32_t hz)
{
	uint16_t div = (uint16_t)(PIT_HZ / hz);

	outb(0x43, 0x34);
	outb(0x40, div & 0xff);
	outb(0x40, div >> 8);
}

/* Mode 0 (interrupt on terminal count) with the longest count: the output
 * rises once, 55 ms later, and then stays high: no more edges. */
static void pit_stop(void)
{
	outb(0x43, 0x30);
	outb(0x40, 0xff);
	outb(0x40, 0xff);
}

int main(int argc, char **argv)
{
	unsigned int gsi;
	uint32_t self, n, lo = TICK_HZ * WINDOW_MS / 1000 / 2, hi = TICK_HZ * WINDOW_MS / 1000 * 2;
	uint64_t start;

	acpi_init();
	lapic_init();
	pic_mask_all();
	self = lapic_id();
	gsi = isa_irq_to_gsi(0);
	report(acpi.madt_found && gsi == 2, "MADT: ISA IRQ 0 (the PIT) is GSI %u (want 2)", gsi);
	set_handler(PIT_VECTOR, pit_irq);
	ioapic_route(gsi, PIT_VECTOR, self, 0);
	irq_enable();

	pit_start(TICK_HZ);
	start = pmtimer_now();
	while (pmtimer_us_since(start) < WINDOW_MS * 1000ull)
		cpu_relax();
	n = ticks;
	report(n >= lo && n <= hi, "PIT at %u Hz through IOAPIC pin %u: %u ticks in %u ms (want %u..%u)",
	       TICK_HZ, gsi, n, WINDOW_MS, lo, hi);
	pit_stop();
	delay_us(100000); /* past mode 0's one terminal count */
	n = ticks;
	delay_us(100000);
	report(ticks == n, "a stopped PIT raises no more ticks (%u, then %u)", n, ticks);

	/* The pin of ISA IRQ 0 is the one an ISA device on IRQ 0 reaches:
	 * pc-testdev's line for IRQ 0 arrives there too. */
	n = ticks;
	outb(TESTDEV_IRQ_PORT(0), 1);
	outb(TESTDEV_IRQ_PORT(0), 0);
	report(irq_wait(&ticks, n + 1, 1000), "pc-testdev's ISA IRQ 0 line reaches IOAPIC pin %u",
	       gsi);
	ioapic_mask(gsi, true);
	irq_disable();
	return 0;
}
