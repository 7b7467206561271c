/* SPDX-License-Identifier: MIT */
/*
 * ACPI tables as a guest walks them: the RSDP found by scanning the BIOS
 * area, both checksums, RSDT and XSDT pointing at the same FADT and MADT,
 * every table's checksum, the FADT's PM timer/SCI/FACS/DSDT, and one MADT
 * entry per CPU plus the IOAPIC and the ISA overrides.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "../load/testmem.h"

#define RAM (2ull << 20)

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

/* The guest's view: scan 0xe0000-0xfffff on 16-byte boundaries (ACPI 5.2.5.1). */
static uint64_t find_rsdp(const struct testmem *t)
{
	for (uint64_t a = 0xe0000; a < 0x100000; a += 16)
		if (memcmp(t->buf + a, "RSD PTR ", 8) == 0 && sum(t->buf + a, 20) == 0)
			return a;
	return 0;
}

/* A valid table with @sig at @gpa: returns its length. */
static uint32_t check_table(const struct testmem *t, uint64_t gpa, const char *sig)
{
	uint32_t len = tm_le32(t, gpa + 4);

	assert_memory_equal(t->buf + gpa, sig, 4);
	assert_true(len >= 36 && gpa + len <= t->size);
	assert_int_equal(sum(t->buf + gpa, len), 0);
	assert_memory_equal(t->buf + gpa + 10, "LIBVM ", 6);
	return len;
}

struct madt_counts {
	unsigned lapic, x2apic, ioapic, iso, nmi, x2nmi;
	uint8_t lapic_ids[256];
	uint32_t x2apic_ids[1024];
	uint32_t iso_gsi[16];
	uint16_t iso_flags[16];
};

static void walk_madt(const struct testmem *t, uint64_t madt, struct madt_counts *c)
{
	uint32_t len = check_table(t, madt, "APIC");

	memset(c, 0, sizeof(*c));
	memset(c->iso_gsi, 0xff, sizeof(c->iso_gsi));
	assert_int_equal(tm_le32(t, madt + 36), 0xfee00000);
	assert_int_equal(tm_le32(t, madt + 40), 1);
	for (uint64_t a = madt + 44; a < madt + len;) {
		const uint8_t *e = t->buf + a;

		assert_true(e[1] >= 2 && a + e[1] <= madt + len);
		switch (e[0]) {
		case 0:
			assert_int_equal(e[1], 8);
			assert_int_equal(e[2], e[3]); /* UID = APIC id */
			assert_int_equal(libvm__le32(e + 4), 1);
			c->lapic_ids[c->lapic++] = e[3];
			break;
		case 1:
			assert_int_equal(e[1], 12);
			assert_int_equal(e[2], 0);
			assert_int_equal(libvm__le32(e + 4), 0xfec00000);
			assert_int_equal(libvm__le32(e + 8), 0);
			c->ioapic++;
			break;
		case 2:
			assert_int_equal(e[1], 10);
			assert_int_equal(e[2], 0);
			c->iso_gsi[e[3] & 15] = libvm__le32(e + 4);
			c->iso_flags[e[3] & 15] = libvm__le16(e + 8);
			c->iso++;
			break;
		case 4:
			assert_int_equal(e[1], 6);
			assert_int_equal(e[2], 0xff);
			assert_int_equal(e[5], 1);
			c->nmi++;
			break;
		case 9:
			assert_int_equal(e[1], 16);
			assert_int_equal(libvm__le32(e + 4), libvm__le32(e + 12));
			assert_true(libvm__le32(e + 4) >= 255);
			c->x2apic_ids[c->x2apic++] = libvm__le32(e + 4);
			break;
		case 10:
			assert_int_equal(e[1], 12);
			c->x2nmi++;
			break;
		default:
			fail_msg("unexpected MADT entry type %u", e[0]);
		}
		a += e[1];
	}
}

static void test_acpi_default_tables(void **state)
{
	struct testmem *t = tm_new(RAM, 0);
	libvm_acpi_options o = LIBVM_ACPI_OPTIONS_INIT;
	uint64_t rsdp = 0, rsdt, xsdt, fadt, madt, facs, dsdt;
	struct madt_counts c;

	o.nr_cpus = 4;
	assert_int_equal(libvm__acpi_build(&rsdp, &t->gm, &o), 0);
	assert_int_equal(rsdp, 0xe0000);
	assert_int_equal(find_rsdp(t), rsdp);
	/* RSDP revision 2: 36 bytes with the extended checksum. */
	assert_int_equal(t->buf[rsdp + 15], 2);
	assert_int_equal(tm_le32(t, rsdp + 20), 36);
	assert_int_equal(sum(t->buf + rsdp, 36), 0);
	rsdt = tm_le32(t, rsdp + 16);
	xsdt = tm_le64(t, rsdp + 24);
	assert_int_equal(check_table(t, rsdt, "RSDT"), 36 + 8);
	assert_int_equal(check_table(t, xsdt, "XSDT"), 36 + 16);
	assert_int_equal(t->buf[rsdt + 8], 1);
	assert_int_equal(t->buf[xsdt + 8], 1);
	fadt = tm_le32(t, rsdt + 36);
	madt = tm_le32(t, rsdt + 40);
	assert_int_equal(tm_le64(t, xsdt + 36), fadt);
	assert_int_equal(tm_le64(t, xsdt + 44), madt);

	/* FADT revision 6, 276 bytes. */
	assert_int_equal(check_table(t, fadt, "FACP"), 276);
	assert_int_equal(t->buf[fadt + 8], 6);
	facs = tm_le32(t, fadt + 36);
	dsdt = tm_le32(t, fadt + 40);
	assert_int_equal(tm_le64(t, fadt + 132), facs);
	assert_int_equal(tm_le64(t, fadt + 140), dsdt);
	assert_int_equal(facs % 64, 0);
	assert_memory_equal(t->buf + facs, "FACS", 4);
	assert_int_equal(tm_le32(t, facs + 4), 64);
	check_table(t, dsdt, "DSDT");
	assert_int_equal(libvm__le16(t->buf + fadt + 46), 9);   /* SCI_INT */
	assert_int_equal(tm_le32(t, fadt + 48), 0);             /* no SMI_CMD */
	assert_int_equal(tm_le32(t, fadt + 56), 0x600);
	assert_int_equal(tm_le32(t, fadt + 64), 0x604);
	assert_int_equal(tm_le32(t, fadt + 76), 0x608);         /* PM_TMR_BLK */
	assert_int_equal(t->buf[fadt + 91], 4);                 /* PM_TMR_LEN */
	assert_int_equal(tm_le32(t, fadt + 112) & (1u << 8), 0); /* 24-bit timer */
	/* X_PM_TMR_BLK: system I/O, 32 bits, dword access, same port. */
	assert_int_equal(t->buf[fadt + 208], 1);
	assert_int_equal(t->buf[fadt + 209], 32);
	assert_int_equal(t->buf[fadt + 211], 3);
	assert_int_equal(tm_le64(t, fadt + 212), 0x608);
	assert_int_equal(tm_le64(t, fadt + 152), 0x600);
	assert_int_equal(tm_le64(t, fadt + 176), 0x604);

	/* MADT: four LAPICs with ids 0-3, the IOAPIC, the two overrides, NMI. */
	walk_madt(t, madt, &c);
	assert_int_equal(c.lapic, 4);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(c.lapic_ids[i], i);
	assert_int_equal(c.ioapic, 1);
	assert_int_equal(c.iso, 2);
	assert_int_equal(c.iso_gsi[0], 2);
	assert_int_equal(c.iso_flags[0], 0);
	assert_int_equal(c.iso_gsi[9], 9);
	assert_int_equal(c.iso_flags[9], 0xd); /* level, active high */
	assert_int_equal(c.nmi, 1);
	assert_int_equal(c.x2apic + c.x2nmi, 0);

	/* All of it inside the ACPI part of the firmware area. */
	assert_true(xsdt + 52 <= 0xe0000 + LIBVM_ACPI_MAX_SIZE);
	assert_true(tm_fill_between(t, 0, 0xe0000));
	assert_true(tm_fill_between(t, xsdt + 52, RAM));
	assert_int_equal(t->outside, 0);
	tm_free(t);
}

static void test_acpi_options(void **state)
{
	struct testmem *t = tm_new(RAM, 0);
	libvm_acpi_options o = LIBVM_ACPI_OPTIONS_INIT;
	uint64_t rsdp, fadt, madt;
	struct madt_counts c;

	o.nr_cpus = 300;
	o.gpa = 0xf8000;
	o.pm_timer_port = 0xb008;
	o.flags = LIBVM_ACPI_PM_TIMER_32BIT;
	o.sci_irq = 10;
	assert_int_equal(libvm__acpi_build(&rsdp, &t->gm, &o), 0);
	assert_int_equal(rsdp, 0xf8000);
	assert_int_equal(find_rsdp(t), 0xf8000);
	fadt = tm_le32(t, tm_le32(t, rsdp + 16) + 36);
	madt = tm_le32(t, tm_le32(t, rsdp + 16) + 40);
	check_table(t, fadt, "FACP");
	assert_int_equal(tm_le32(t, fadt + 76), 0xb008);
	assert_int_equal(tm_le32(t, fadt + 112) & (1u << 8), 1u << 8);
	assert_int_equal(libvm__le16(t->buf + fadt + 46), 10);
	/* 255 xAPIC entries, then x2APIC entries for ids 255-299. */
	walk_madt(t, madt, &c);
	assert_int_equal(c.lapic, 255);
	assert_int_equal(c.x2apic, 45);
	assert_int_equal(c.x2apic_ids[0], 255);
	assert_int_equal(c.x2apic_ids[44], 299);
	assert_int_equal(c.x2nmi, 1);
	assert_int_equal(c.iso_gsi[10], 10);
	assert_int_equal(c.iso_flags[10], 0xd);
	/* NULL options: one CPU; the RSDP pointer may be NULL. */
	assert_int_equal(libvm__acpi_build(NULL, &t->gm, NULL), 0);
	walk_madt(t, tm_le32(t, tm_le32(t, 0xe0000 + 16) + 40), &c);
	assert_int_equal(c.lapic, 1);
	tm_free(t);
}

static void test_acpi_rejects(void **state)
{
	struct testmem *t = tm_new(RAM, 0);
	libvm_acpi_options o = LIBVM_ACPI_OPTIONS_INIT;
	uint64_t rsdp = 0x1234;

	o.nr_cpus = 1025;
	assert_int_equal(libvm__acpi_build(&rsdp, &t->gm, &o), -EINVAL);
	o.nr_cpus = 1;
	o.gpa = 0xe0008;
	assert_int_equal(libvm__acpi_build(&rsdp, &t->gm, &o), -EINVAL);
	/* 16-byte aligned is not enough: the FACS would not be on 64. */
	o.gpa = 0xe0010;
	assert_int_equal(libvm__acpi_build(&rsdp, &t->gm, &o), -EINVAL);
	/* Past the end of guest memory, and above 4 GiB. */
	o.gpa = RAM - 0x100;
	assert_int_equal(libvm__acpi_build(&rsdp, &t->gm, &o), -EFAULT);
	assert_non_null(strstr(libvm_error_message(), "outside guest memory"));
	o.gpa = 0x100000000ull;
	assert_int_equal(libvm__acpi_build(&rsdp, &t->gm, &o), -EINVAL);
	o.gpa = 0;
	o.sci_irq = 16;
	assert_int_equal(libvm__acpi_build(&rsdp, &t->gm, &o), -EINVAL);
	o.sci_irq = 0;
	o.flags = 2;
	assert_int_equal(libvm__acpi_build(&rsdp, &t->gm, &o), -EINVAL);
	o.flags = 0;
	o.size = sizeof(o) + 1;
	assert_int_equal(libvm__acpi_build(&rsdp, &t->gm, &o), -EINVAL);
	assert_int_equal(rsdp, 0x1234);
	assert_true(tm_untouched(t));
	/* The public call rejects a NULL VM. */
	assert_int_equal(libvm_acpi_build(&rsdp, NULL, NULL), -EINVAL);
	tm_free(t);
}

static void test_acpi_dsdt_aml(void **state)
{
	struct testmem *t = tm_new(RAM, 0);
	libvm_acpi_options o = LIBVM_ACPI_OPTIONS_INIT;
	/* Scope (\_SB) {}: ScopeOp, PkgLength 6 (itself + name), NameString "\_SB_" */
	static const uint8_t aml[] = { 0x10, 0x06, 0x5c, '_', 'S', 'B', '_' };
	static uint8_t huge[LIBVM_ACPI_MAX_SIZE];
	uint64_t rsdp, fadt, dsdt;

	o.dsdt_aml = aml;
	o.dsdt_aml_size = sizeof(aml);
	assert_int_equal(libvm__acpi_build(&rsdp, &t->gm, &o), 0);
	fadt = tm_le32(t, tm_le32(t, rsdp + 16) + 36);
	dsdt = tm_le64(t, fadt + 140);
	assert_int_equal(check_table(t, dsdt, "DSDT"), 36 + sizeof(aml));
	assert_memory_equal(t->buf + dsdt + 36, aml, sizeof(aml));
	/* The FADT moved up behind it and is still valid. */
	check_table(t, fadt, "FACP");
	assert_true(fadt >= dsdt + 36 + sizeof(aml));
	tm_free(t);

	t = tm_new(RAM, 0);
	o.dsdt_aml = huge;
	o.dsdt_aml_size = sizeof(huge) - 0x100;
	assert_int_equal(libvm__acpi_build(&rsdp, &t->gm, &o), -E2BIG);
	o.dsdt_aml_size = sizeof(huge) + 1;
	assert_int_equal(libvm__acpi_build(&rsdp, &t->gm, &o), -E2BIG);
	o.dsdt_aml = NULL;
	o.dsdt_aml_size = 4;
	assert_int_equal(libvm__acpi_build(&rsdp, &t->gm, &o), -EINVAL);
	assert_true(tm_untouched(t));
	tm_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_acpi_default_tables),
		cmocka_unit_test(test_acpi_options),
		cmocka_unit_test(test_acpi_rejects),
		cmocka_unit_test(test_acpi_dsdt_aml),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
