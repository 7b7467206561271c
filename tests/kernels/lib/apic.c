/*
 * The local APIC in xAPIC mode (MMIO, 32-bit accesses only, SDM vol. 3
 * ch. 10), the IOAPIC through its index/data window (82093AA data sheet)
 * and the legacy PIC, which is only ever masked.
 */
#include "kernel.h"

static uint64_t lapic_base = LAPIC_DEFAULT_BASE;

uint32_t lapic_read(uint32_t reg)
{
	return mmio_read32(lapic_base + reg);
}

void lapic_write(uint32_t reg, uint32_t v)
{
	mmio_write32(lapic_base + reg, v);
}

uint32_t lapic_id(void)
{
	return lapic_read(APIC_ID) >> 24;
}

void lapic_eoi(void)
{
	lapic_write(APIC_EOI, 0);
}

void lapic_init(void)
{
	uint64_t base = rdmsr(MSR_IA32_APIC_BASE);

	/* Global enable (bit 11) is set at reset; keep xAPIC mode. */
	lapic_base = base & 0xffffff000ull;
	/* Software enable with the spurious vector; accept every priority. */
	lapic_write(APIC_SVR, 0x100 | APIC_SPURIOUS_VECTOR);
	lapic_write(APIC_TPR, 0);
	lapic_write(APIC_LVT_LINT0, APIC_LVT_MASKED);
	lapic_write(APIC_LVT_ERROR, APIC_LVT_MASKED);
}

void lapic_ipi(uint32_t dest, uint32_t icr_lo)
{
	lapic_write(APIC_ICR_HI, dest << 24);
	lapic_write(APIC_ICR_LO, icr_lo);
	/* Delivery status (bit 12): the IPI has left once it reads 0. */
	while (lapic_read(APIC_ICR_LO) & (1u << 12))
		cpu_relax();
}

static uint64_t ioapic_base(void)
{
	return acpi.ioapic_addr ? acpi.ioapic_addr : IOAPIC_DEFAULT_BASE;
}

uint32_t ioapic_read(uint32_t reg)
{
	mmio_write32(ioapic_base(), reg);
	return mmio_read32(ioapic_base() + 0x10);
}

void ioapic_write(uint32_t reg, uint32_t v)
{
	mmio_write32(ioapic_base(), reg);
	mmio_write32(ioapic_base() + 0x10, v);
}

uint64_t ioapic_redir(unsigned int pin)
{
	return (uint64_t)ioapic_read(IOAPIC_REDIR(pin) + 1) << 32 | ioapic_read(IOAPIC_REDIR(pin));
}

void ioapic_set_redir(unsigned int pin, uint64_t v)
{
	/* Masked while the halves disagree, so no half-written entry fires. */
	ioapic_write(IOAPIC_REDIR(pin), (uint32_t)IOAPIC_MASKED);
	ioapic_write(IOAPIC_REDIR(pin) + 1, (uint32_t)(v >> 32));
	ioapic_write(IOAPIC_REDIR(pin), (uint32_t)v);
}

void ioapic_route(unsigned int gsi, uint8_t vector, uint32_t dest, uint64_t flags)
{
	/* Fixed delivery (000), physical destination mode. */
	ioapic_set_redir(gsi - acpi.ioapic_gsi_base, (uint64_t)dest << 56 | flags | vector);
}

void ioapic_mask(unsigned int gsi, bool masked)
{
	unsigned int pin = gsi - acpi.ioapic_gsi_base;
	uint32_t lo = ioapic_read(IOAPIC_REDIR(pin));

	ioapic_write(IOAPIC_REDIR(pin), masked ? lo | (uint32_t)IOAPIC_MASKED
					      : lo & ~(uint32_t)IOAPIC_MASKED);
}

unsigned int isa_irq_to_gsi(unsigned int irq)
{
	if (irq < 16 && acpi.madt_found)
		return acpi.isa_gsi[irq];
	return irq;
}

void pic_mask_all(void)
{
	/* OCW1 on both controllers. */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
}
