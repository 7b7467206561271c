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
#define TICKS		20u
/*
 * 20 ticks at 100 Hz take 200 ms. A loaded host hands them over late (KVM
 * queues the ticks a vCPU missed and delivers them later; 575 ms was seen
 * on our busy machines' kvm_pvm), so only a PIT clearly too fast, far too
 * slow or not reaching the pin fails; the routing is the point here.
 */
#define MIN_MS		150u
#define MAX_MS		2000u

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
	uint32_t self, n;
	uint64_t start, took_us;
	bool arrived;

	acpi_init();
	lapic_init();
	pic_mask_all();
	self = lapic_id();
	gsi = isa_irq_to_gsi(0);
	report(acpi.madt_found && gsi == 2, "MADT: ISA IRQ 0 (the PIT) is GSI %u (want 2)", gsi);
	set_handler(PIT_VECTOR, pit_irq);
	ioapic_route(gsi, PIT_VECTOR, self, 0);
	irq_enable();

	start = pmtimer_now();
	pit_start(TICK_HZ);
	arrived = irq_wait(&ticks, TICKS, 2 * MAX_MS);
	took_us = pmtimer_us_since(start);
	report(arrived && took_us >= MIN_MS * 1000ull && took_us <= MAX_MS * 1000ull,
	       "PIT at %u Hz through IOAPIC pin %u: %u ticks in %lu ms (want %u in %u..%u ms)",
	       TICK_HZ, gsi, ticks, (unsigned long)(took_us / 1000), TICKS, MIN_MS, MAX_MS);
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
