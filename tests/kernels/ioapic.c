/*
 * IOAPIC-routed interrupts from the pc-testdev IRQ ports (an outb of v to
 * 0x2000 + n sets ISA IRQ n's level to v != 0): an edge-triggered pin
 * (IRQ 5) and a level-triggered one (IRQ 3), masking and Remote IRR.
 * With the argument "eoi" it also checks that the EOI of a level interrupt
 * whose line was lowered clears Remote IRR and brings no second interrupt:
 * a separate test, because our nested /dev/kvm gets that wrong (QEMU with
 * -accel kvm fails it there too; QEMU TCG passes). Both IRQs are free on
 * QEMU's pc machine and on vmrun.
 */
#include "kernel.h"

#define EDGE_IRQ	5
#define LEVEL_IRQ	3
#define EDGE_VECTOR	0x40
#define LEVEL_VECTOR	0x41

static volatile uint32_t edge_irqs, level_irqs;
static volatile uint64_t level_redir_in_handler;
static unsigned int level_pin;

static void edge_irq(struct irq_frame *f)
{
	edge_irqs++;
	lapic_eoi();
}

static void level_irq(struct irq_frame *f)
{
	level_irqs++;
	level_redir_in_handler = ioapic_redir(level_pin);
	/* Lower the line before the EOI, or the pin fires again at once. */
	outb(TESTDEV_IRQ_PORT(LEVEL_IRQ), 0);
	lapic_eoi();
}

int main(int argc, char **argv)
{
	unsigned int edge_gsi, level_gsi, pins;
	bool eoi_checks = argc > 1 && !strcmp(argv[1], "eoi");
	uint32_t self, n;

	acpi_init();
	lapic_init();
	self = lapic_id();
	report(acpi.madt_found && acpi.nr_ioapics >= 1, "MADT lists %u IOAPIC(s), the first at 0x%x",
	       acpi.nr_ioapics, acpi.ioapic_addr);
	pins = ((ioapic_read(IOAPIC_VERSION) >> 16) & 0xff) + 1;
	report(pins >= 24, "IOAPIC has %u pins", pins);
	report(((ioapic_read(IOAPIC_ID) >> 24) & 0xf) == acpi.ioapic_id,
	       "IOAPIC id register matches the MADT's id %u", acpi.ioapic_id);
	edge_gsi = isa_irq_to_gsi(EDGE_IRQ);
	level_gsi = isa_irq_to_gsi(LEVEL_IRQ);
	level_pin = level_gsi - acpi.ioapic_gsi_base;
	set_handler(EDGE_VECTOR, edge_irq);
	set_handler(LEVEL_VECTOR, level_irq);

	/* Edge-triggered, active high: one interrupt per rising edge. */
	ioapic_route(edge_gsi, EDGE_VECTOR, self, 0);
	outb(TESTDEV_IRQ_PORT(EDGE_IRQ), 1);
	report(irq_wait(&edge_irqs, 1, 1000), "edge: raising IRQ %u delivers vector 0x%x",
	       EDGE_IRQ, EDGE_VECTOR);
	report(!irq_wait(&edge_irqs, 2, 20), "edge: a line held high interrupts once");
	outb(TESTDEV_IRQ_PORT(EDGE_IRQ), 0);
	outb(TESTDEV_IRQ_PORT(EDGE_IRQ), 1);
	report(irq_wait(&edge_irqs, 2, 1000), "edge: the next rising edge interrupts again");
	outb(TESTDEV_IRQ_PORT(EDGE_IRQ), 0);
	ioapic_mask(edge_gsi, true);
	outb(TESTDEV_IRQ_PORT(EDGE_IRQ), 1);
	report(!irq_wait(&edge_irqs, 3, 20), "edge: a masked pin ignores the edge");
	outb(TESTDEV_IRQ_PORT(EDGE_IRQ), 0);

	/* Level-triggered, active high, masked while the line goes up. */
	ioapic_route(level_gsi, LEVEL_VECTOR, self, IOAPIC_LEVEL | IOAPIC_MASKED);
	outb(TESTDEV_IRQ_PORT(LEVEL_IRQ), 1);
	report(!irq_wait(&level_irqs, 1, 20), "level: nothing arrives while the pin is masked");
	ioapic_mask(level_gsi, false);
	report(irq_wait(&level_irqs, 1, 1000),
	       "level: unmasking the pin with the line high delivers vector 0x%x", LEVEL_VECTOR);
	report(level_redir_in_handler & IOAPIC_REMOTE_IRR,
	       "level: Remote IRR is set while the interrupt is in service");
	if (eoi_checks) {
		report(!(ioapic_redir(level_pin) & IOAPIC_REMOTE_IRR),
		       "level: the EOI cleared Remote IRR");
		report(!irq_wait(&level_irqs, 2, 20), "level: a lowered line does not interrupt again");
	} else {
		/* Whatever the EOI did, wait until the pin can fire again. */
		irq_wait(&level_irqs, 2, 20);
		for (uint64_t start = pmtimer_now();
		     ioapic_redir(level_pin) & IOAPIC_REMOTE_IRR && pmtimer_us_since(start) < 1000000;)
			cpu_relax();
		report_skip("level: Remote IRR after EOI (run with \"eoi\" to check)");
	}
	n = level_irqs;
	outb(TESTDEV_IRQ_PORT(LEVEL_IRQ), 1);
	report(irq_wait(&level_irqs, n + 1, 1000), "level: raising the line again interrupts again");
	ioapic_mask(level_gsi, true);
	outb(TESTDEV_IRQ_PORT(LEVEL_IRQ), 0);
	report(edge_irqs == 2 && (level_irqs == 2 || !eoi_checks),
	       "%u edge and %u level interrupts in all", edge_irqs, level_irqs);
	return 0;
}
