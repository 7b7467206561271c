/*
 * ACPI table discovery for test kernels (ACPI 6.x chapter 5): the RSDP
 * scan of the EBDA's first KiB and 0xe0000-0xfffff, the RSDT or XSDT, the
 * MADT (CPUs, the IOAPIC, ISA interrupt overrides) and the FADT's PM timer
 * block, plus the PM timer itself. Tables are read in place through the
 * identity map and every checksum is verified before a table is used.
 */
#include "kernel.h"

struct acpi_platform acpi;
static bool acpi_done;

struct sdt_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	uint32_t creator_id;
	uint32_t creator_revision;
} __attribute__((packed));

bool acpi_checksum_ok(const void *p, uint32_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return sum == 0;
}

/* "RSD PTR " as one little-endian quadword: one compare per 16 bytes,
 * which matters when every instruction is emulated. */
#define RSDP_SIG 0x2052545020445352ull

static uint64_t scan_rsdp(uint64_t start, uint64_t end)
{
	for (uint64_t a = start; a < end; a += 16) {
		const uint8_t *p = (const uint8_t *)(uintptr_t)a;

		if (*(const volatile uint64_t *)p != RSDP_SIG || !acpi_checksum_ok(p, 20))
			continue;
		/* Revision 2+: the extended checksum covers the 36-byte form. */
		if (p[15] >= 2 && !acpi_checksum_ok(p, 36))
			continue;
		return a;
	}
	return 0;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

const void *acpi_find_table(const char *sig)
{
	const uint8_t *rsdp = (const uint8_t *)(uintptr_t)acpi.rsdp;
	const struct sdt_header *root;
	unsigned int width = 4;

	if (!acpi.found)
		return NULL;
	if (rsdp[15] >= 2 && rd64(rsdp + 24)) {
		root = (const struct sdt_header *)(uintptr_t)rd64(rsdp + 24);
		width = 8;
	} else {
		root = (const struct sdt_header *)(uintptr_t)rd32(rsdp + 16);
	}
	if (!acpi_checksum_ok(root, root->length))
		return NULL;
	for (uint32_t off = sizeof(*root); off + width <= root->length; off += width) {
		const uint8_t *e = (const uint8_t *)root + off;
		const struct sdt_header *t = (const struct sdt_header *)(uintptr_t)
			(width == 8 ? rd64(e) : rd32(e));

		if (!memcmp(t->signature, sig, 4) && acpi_checksum_ok(t, t->length))
			return t;
	}
	return NULL;
}

static void parse_madt(const struct sdt_header *madt)
{
	const uint8_t *p = (const uint8_t *)madt + 44, *end = (const uint8_t *)madt + madt->length;

	acpi.madt_found = true;
	acpi.lapic_addr = rd32((const uint8_t *)madt + 36);
	for (; p + 2 <= end && p[1] >= 2 && p + p[1] <= end; p += p[1]) {
		uint32_t id = 0, flags = 0;

		switch (p[0]) {
		case 0: /* processor local APIC */
			id = p[3];
			flags = rd32(p + 4);
			break;
		case 9: /* processor local x2APIC */
			id = rd32(p + 4);
			flags = rd32(p + 8);
			break;
		case 1: /* IOAPIC: the first one serves the ISA IRQs */
			if (acpi.nr_ioapics++ == 0) {
				acpi.ioapic_id = p[2];
				acpi.ioapic_addr = rd32(p + 4);
				acpi.ioapic_gsi_base = rd32(p + 8);
			}
			continue;
		case 2: /* interrupt source override, ISA bus */
			if (p[2] == 0 && p[3] < 16) {
				acpi.isa_gsi[p[3]] = rd32(p + 4);
				acpi.isa_flags[p[3]] = (uint16_t)(p[8] | p[9] << 8);
			}
			continue;
		default:
			continue;
		}
		/* Bit 0: enabled. A processor that is only "online capable"
		 * is not running, so nobody would answer its SIPI. */
		if (!(flags & 1))
			continue;
		if (acpi.nr_cpus < MAX_CPUS)
			acpi.apic_ids[acpi.nr_cpus++] = id;
		else
			acpi.too_many_cpus = true;
	}
}

static void parse_fadt(const struct sdt_header *fadt)
{
	const uint8_t *f = (const uint8_t *)fadt;

	acpi.fadt_found = true;
	acpi.fadt_revision = fadt->revision;
	acpi.pm_tmr_port = rd32(f + 76);
	acpi.pm_tmr_len = f[91];
	acpi.pm_tmr_32bit = fadt->length >= 116 && (rd32(f + 112) & (1u << 8));
	/* X_PM_TMR_BLK (offset 208) wins when present and in I/O space. */
	if (fadt->length >= 220 && f[208] == 1 && rd64(f + 212))
		acpi.pm_tmr_port = (uint32_t)rd64(f + 212);
}

/* A read from the BIOS data area. gcc takes a constant address below
 * 4 KiB for a NULL dereference; hiding the constant keeps it quiet. */
uint16_t low_read16(uintptr_t a)
{
	asm("" : "+r"(a));
	return *(volatile uint16_t *)a;
}

bool acpi_init(void)
{
	const void *t;
	uint64_t ebda;

	if (acpi_done)
		return acpi.found;
	acpi_done = true;
	for (unsigned int i = 0; i < 16; i++)
		acpi.isa_gsi[i] = i;
	/* The EBDA segment is at 0x40e in the BIOS data area (ACPI 5.2.5.1). */
	ebda = (uint64_t)low_read16(0x40e) << 4;
	if (ebda >= 0x80000 && ebda < 0xa0000)
		acpi.rsdp = scan_rsdp(ebda, ebda + 1024);
	if (!acpi.rsdp)
		acpi.rsdp = scan_rsdp(0xe0000, 0x100000);
	if (!acpi.rsdp)
		return false;
	acpi.found = true;
	acpi.revision = ((const uint8_t *)(uintptr_t)acpi.rsdp)[15];
	if ((t = acpi_find_table("APIC")))
		parse_madt(t);
	if ((t = acpi_find_table("FACP")))
		parse_fadt(t);
	return true;
}

uint32_t pmtimer_read(void)
{
	return inl((uint16_t)acpi.pm_tmr_port);
}

uint64_t pmtimer_now(void)
{
	static uint32_t last;
	static uint64_t total;
	uint32_t now, mask = acpi.pm_tmr_32bit ? 0xffffffffu : 0xffffffu;
	uint64_t flags = read_rflags(), v;

	/* Interrupts off: a handler that reads the clock between our read
	 * and the update would make our older value look a wrap ahead. */
	irq_disable();
	now = pmtimer_read();
	total += (now - last) & mask;
	last = now;
	v = total;
	if (flags & (1u << 9))
		irq_enable();
	return v;
}

uint64_t pmtimer_us_since(uint64_t start)
{
	return (pmtimer_now() - start) * 1000000 / PMTIMER_HZ;
}

void delay_us(uint64_t us)
{
	uint64_t start = pmtimer_now();

	while (pmtimer_us_since(start) < us)
		cpu_relax();
}

bool irq_wait(volatile uint32_t *count, uint32_t n, unsigned int timeout_ms)
{
	uint64_t start = pmtimer_now();
	bool reached;

	irq_enable();
	while (!(reached = *count >= n) && pmtimer_us_since(start) < timeout_ms * 1000ull)
		cpu_relax();
	irq_disable();
	return reached || *count >= n;
}
