/* SPDX-License-Identifier: MIT */
/*
 * The firmware table builders (libvm/fw: ACPI RSDP/RSDT/XSDT/FADT/FACS/
 * DSDT/MADT and the Intel MP table) with fuzzed options: CPU counts, table
 * addresses (RAM, ROM, the edges of memory, unmapped), ports, IRQs, IOAPIC
 * fields and DSDT byte code from the input.
 *
 * Invariants: every write lands in mapped memory (RAM or ROM, where
 * firmware may live); a refused build wrote nothing; an accepted ACPI
 * build has an RSDP with valid checksums whose RSDT and XSDT point only to
 * tables inside the area, each with a valid checksum; an accepted MP table
 * has a valid floating pointer and configuration table checksum.
 */
#include <errno.h>

#include "fuzz.h"

static struct fmem mem;

static const uint8_t *rd(uint64_t gpa, uint64_t len)
{
	bool rom;
	const uint8_t *p;

	if (len > SIZE_MAX)
		return NULL;
	p = fm_host(&mem, gpa, (size_t)len, &rom);
	return p;
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	for (size_t i = 0; i < n; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

/* An ACPI table header at @gpa, inside [lo, hi), with a valid checksum. */
static void check_table(uint64_t gpa, uint64_t lo, uint64_t hi, const char *from)
{
	const uint8_t *h = rd(gpa, 36);
	uint32_t len;

	if (!h || gpa < lo || gpa + 36 > hi)
		fuzz_fail("%s points to 0x%llx, outside the tables", from, (unsigned long long)gpa);
	len = libvm__le32(h + 4);
	if (len < 36 || gpa + len > hi || !rd(gpa, len))
		fuzz_fail("table %.4s at 0x%llx: length %u", (const char *)h,
			  (unsigned long long)gpa, len);
	if (sum(h, len))
		fuzz_fail("table %.4s at 0x%llx: bad checksum", (const char *)h,
			  (unsigned long long)gpa);
}

static void check_acpi(uint64_t rsdp, uint64_t base)
{
	const uint8_t *r = rd(rsdp, 36);
	uint64_t hi = base + LIBVM_ACPI_MAX_SIZE, rsdt, xsdt;
	const uint8_t *t;

	if (!r || memcmp(r, "RSD PTR ", 8) || sum(r, 20) || sum(r, 36))
		fuzz_fail("no valid RSDP at 0x%llx", (unsigned long long)rsdp);
	rsdt = libvm__le32(r + 16);
	xsdt = libvm__le64(r + 24);
	check_table(rsdt, base, hi, "RSDP");
	check_table(xsdt, base, hi, "RSDP (XSDT)");
	t = rd(rsdt, 36);
	for (uint32_t off = 36; off + 4 <= libvm__le32(t + 4); off += 4)
		check_table(libvm__le32(rd(rsdt + off, 4)), base, hi, "RSDT");
	t = rd(xsdt, 36);
	for (uint32_t off = 36; off + 8 <= libvm__le32(t + 4); off += 8)
		check_table(libvm__le64(rd(xsdt + off, 8)), base, hi, "XSDT");
}

static void check_mp(uint64_t fp)
{
	const uint8_t *p = rd(fp, 16), *c;
	uint64_t cfg;

	if (!p || memcmp(p, "_MP_", 4) || sum(p, 16))
		fuzz_fail("no valid MP floating pointer at 0x%llx", (unsigned long long)fp);
	cfg = libvm__le32(p + 4);
	c = rd(cfg, 44);
	if (!c || memcmp(c, "PCMP", 4) || !rd(cfg, libvm__le16(c + 4)) ||
	    sum(c, libvm__le16(c + 4)))
		fuzz_fail("no valid MP configuration table at 0x%llx", (unsigned long long)cfg);
}

static uint64_t pick_gpa(struct fin *f)
{
	uint32_t r = fin_u32(f);

	switch (fin_u8(f) % 6) {
	case 0:
		return 0; /* the default */
	case 1:
		return FM_ROM + (r % FM_ROM_LEN); /* firmware in ROM */
	case 2:
		return FM_LOW - (r % 0x20000); /* at the end of RAM */
	case 3:
		return (uint64_t)r << (fin_u8(f) % 33); /* anywhere */
	default:
		return r % FM_LOW;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	libvm_acpi_options ao = LIBVM_ACPI_OPTIONS_INIT;
	libvm_mptable_options mo = LIBVM_MPTABLE_OPTIONS_INIT;
	struct fin f = { data, size };
	uint8_t which = fin_u8(&f);
	uint64_t out = 0x5a5a;
	int err;

	fm_setup(&mem, which & 2, which & 4);
	mem.rom_writable = true;
	if (which & 1) {
		mo.nr_cpus = fin_u16(&f) % 300;
		mo.ioapic_id = fin_u8(&f);
		mo.ioapic_addr = fin_u32(&f);
		mo.gpa = pick_gpa(&f);
		err = libvm__mptable_build(&out, &mem.gm, &mo);
	} else {
		size_t n;

		ao.nr_cpus = fin_u16(&f) % 1100;
		ao.flags = fin_u8(&f) % 4;
		ao.pm1a_evt_port = fin_u16(&f);
		ao.pm1a_cnt_port = fin_u16(&f);
		ao.pm_timer_port = fin_u16(&f);
		ao.sci_irq = fin_u8(&f);
		ao.ioapic_id = fin_u8(&f);
		ao.ioapic_addr = fin_u32(&f);
		ao.gpa = pick_gpa(&f);
		ao.dsdt_aml = fin_take(&f, fin_u16(&f), &n);
		ao.dsdt_aml_size = n;
		if (which & 8)
			ao.dsdt_aml_size = (uint64_t)fin_u32(&f) << 8; /* a lie */
		if (ao.dsdt_aml_size > n)
			ao.dsdt_aml = NULL; /* never read past the input */
		err = libvm__acpi_build(&out, &mem.gm, &ao);
	}
	if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "%s: %d %s\n", which & 1 ? "mptable" : "acpi", err,
			err ? libvm_error_message() : "");
	if (err > 0)
		fuzz_fail("builder returned %d", err);
	if (err) {
		if (mem.writes)
			fuzz_fail("a refused build (%d) wrote %u times", err, mem.writes);
		if (out != 0x5a5a)
			fuzz_fail("a refused build set its result");
		return 0;
	}
	if (which & 1)
		check_mp(out);
	else
		check_acpi(out, ao.gpa ? ao.gpa : LIBVM_ACPI_DEFAULT_GPA);
	return 0;
}
