/*
 * The Intel MultiProcessor Specification 1.4 table (chapter 4), which
 * older guests read instead of the MADT: the floating pointer found by
 * scanning the EBDA's first KiB and 0xf0000-0xfffff, then the
 * configuration table's processor, bus, IOAPIC and interrupt entries.
 */
#include "kernel.h"

struct mp_platform mp;
static bool mp_done;

/* Entry sizes by type (4.3): processor 20 bytes, the others 8. */
static unsigned int entry_size(uint8_t type)
{
	return type == 0 ? 20 : 8;
}

static uint64_t scan(uint64_t start, uint64_t end)
{
	for (uint64_t a = start; a < end; a += 16) {
		const uint8_t *p = (const uint8_t *)(uintptr_t)a;

		/* "_MP_", length 1 (16 bytes), checksum over those. */
		if (*(const volatile uint32_t *)p == 0x5f504d5f && p[8] == 1 &&
		    acpi_checksum_ok(p, 16))
			return a;
	}
	return 0;
}

static void parse(const uint8_t *t)
{
	uint16_t len, count;
	const uint8_t *e;
	int isa_bus = -1;

	memcpy(&len, t + 4, 2);
	memcpy(&count, t + 34, 2);
	memcpy(&mp.lapic_addr, t + 36, 4);
	mp.config_ok = !memcmp(t, "PCMP", 4) && acpi_checksum_ok(t, len);
	if (!mp.config_ok)
		return;
	mp.irq0_pin = -1;
	/* Two passes: interrupt entries name the ISA bus by its id. */
	for (int pass = 0; pass < 2; pass++) {
		e = t + 44;
		for (uint16_t i = 0; i < count && e < t + len; i++, e += entry_size(e[0])) {
			if (pass == 0 && e[0] == 0 && (e[3] & 1)) {
				if (mp.nr_cpus < MAX_CPUS)
					mp.apic_ids[mp.nr_cpus++] = e[1];
				if (e[3] & 2) {
					mp.bsp_count++;
					mp.bsp_id = e[1];
				}
			} else if (pass == 0 && e[0] == 1 && !memcmp(e + 2, "ISA   ", 6)) {
				isa_bus = e[1];
			} else if (pass == 0 && e[0] == 2 && (e[3] & 1) && !mp.nr_ioapics++) {
				mp.ioapic_id = e[1];
				memcpy(&mp.ioapic_addr, e + 4, 4);
			} else if (pass == 1 && e[0] == 3 && e[1] == 0 && e[4] == isa_bus && e[5] == 0) {
				/* INT (vectored) for ISA IRQ 0: which pin? */
				mp.irq0_pin = e[7];
			}
		}
	}
}

bool mptable_init(void)
{
	uint64_t ebda;
	uint32_t config;

	if (mp_done)
		return mp.found;
	mp_done = true;
	ebda = (uint64_t)low_read16(0x40e) << 4;
	if (ebda >= 0x80000 && ebda < 0xa0000)
		mp.floating = scan(ebda, ebda + 1024);
	if (!mp.floating)
		mp.floating = scan(0xf0000, 0x100000);
	if (!mp.floating)
		return false;
	mp.found = true;
	memcpy(&config, (const void *)(uintptr_t)(mp.floating + 4), 4);
	mp.config = config;
	/* Feature byte 1 non-zero: a default configuration, no table. */
	if (config && !((const uint8_t *)(uintptr_t)mp.floating)[11])
		parse((const uint8_t *)(uintptr_t)config);
	return true;
}
