/* SPDX-License-Identifier: MIT */
/*
 * ACPI tables for the guest platform (ACPI 6.0 layouts, chapter 5): RSDP
 * (revision 2) -> RSDT and XSDT -> FADT (revision 6) and MADT; the FADT
 * points at a FACS and a DSDT (empty, or the caller's AML). Built in a host buffer, checksummed,
 * and written in one piece once the whole range is known to be in guest
 * memory. Linux finds the RSDP by scanning 0xe0000-0xfffff on 16-byte
 * boundaries (ACPI 5.2.5.1), hence the default place.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../internal.h"
#include "../load/load_internal.h"

#define HDR_SIZE 36
#define RSDP_SIZE 36
#define FACS_SIZE 64
#define FADT_SIZE 276 /* ACPI 6.0, Table 5-34: through Hypervisor Vendor Identity */
#define MAX_CPUS 1024u

/* FADT fixed feature flags (Table 5-35) and IA-PC boot flags (5-36). */
#define FADT_WBINVD (1u << 0)
#define FADT_PROC_C1 (1u << 2)
#define FADT_PWR_BUTTON (1u << 4) /* no fixed power button */
#define FADT_SLP_BUTTON (1u << 5) /* no fixed sleep button */
#define FADT_TMR_VAL_EXT (1u << 8)
#define BOOT_LEGACY_DEVICES (1u << 0)
#define BOOT_8042 (1u << 1)
#define BOOT_VGA_NOT_PRESENT (1u << 2)

/* MADT structure types (Table 5-45). */
#define MADT_LAPIC 0
#define MADT_IOAPIC 1
#define MADT_ISO 2
#define MADT_LAPIC_NMI 4
#define MADT_X2APIC 9
#define MADT_X2APIC_NMI 10

static uint8_t checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	return (uint8_t)(0 - sum);
}

/* System description table header (5.2.6). */
static void header(uint8_t *p, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(p, sig, 4);
	libvm__put32(p + 4, len);
	p[8] = rev;
	memcpy(p + 10, "LIBVM ", 6);
	memcpy(p + 16, "LIBVMPC ", 8);
	libvm__put32(p + 24, 1);      /* OEM revision */
	memcpy(p + 28, "LBVM", 4);    /* creator id */
	libvm__put32(p + 32, 1);      /* creator revision */
}

static void seal(uint8_t *p)
{
	p[9] = 0;
	p[9] = checksum(p, libvm__le32(p + 4));
}

/* Generic Address Structure (5.2.3.2) for a system I/O register block. */
static void gas_io(uint8_t *p, uint8_t bits, uint8_t access, uint64_t port)
{
	p[0] = 1; /* system I/O */
	p[1] = bits;
	p[2] = 0;
	p[3] = access; /* 2 word, 3 dword */
	libvm__put64(p + 4, port);
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static uint32_t madt_size(uint32_t ncpus)
{
	uint32_t n = 44, x2 = ncpus > 255 ? ncpus - 255 : 0;

	n += (ncpus - x2) * 8 + x2 * 16; /* LAPIC / x2APIC */
	n += 12;                         /* IOAPIC */
	n += 2 * 10;                     /* overrides */
	n += 6;                          /* LAPIC NMI */
	if (x2)
		n += 12;                 /* x2APIC NMI */
	return n;
}

static void build_madt(uint8_t *p, const libvm_acpi_options *o)
{
	uint32_t len = madt_size(o->nr_cpus), at = 44;

	header(p, "APIC", len, 4);
	libvm__put32(p + 36, 0xfee00000u); /* local APIC address */
	libvm__put32(p + 40, 1);           /* PCAT_COMPAT: 8259s present */
	for (uint32_t i = 0; i < o->nr_cpus; i++) {
		uint8_t *e = p + at;

		/* 5.2.12.12: ids below 255 must use the xAPIC structure. */
		if (i < 255) {
			e[0] = MADT_LAPIC;
			e[1] = 8;
			e[2] = (uint8_t)i;       /* ACPI processor UID */
			e[3] = (uint8_t)i;       /* APIC id = vCPU id */
			libvm__put32(e + 4, 1);  /* enabled */
			at += 8;
		} else {
			e[0] = MADT_X2APIC;
			e[1] = 16;
			libvm__put32(e + 4, i);  /* x2APIC id */
			libvm__put32(e + 8, 1);  /* enabled */
			libvm__put32(e + 12, i); /* UID */
			at += 16;
		}
	}
	p[at] = MADT_IOAPIC;
	p[at + 1] = 12;
	p[at + 2] = o->ioapic_id;
	libvm__put32(p + at + 4, o->ioapic_addr);
	libvm__put32(p + at + 8, 0); /* GSI base */
	at += 12;
	/* ISA IRQ0 (PIT) is wired to IOAPIC pin 2; flags 0: ISA defaults. */
	p[at] = MADT_ISO;
	p[at + 1] = 10;
	p[at + 2] = 0;
	p[at + 3] = 0;
	libvm__put32(p + at + 4, 2);
	libvm__put16(p + at + 8, 0);
	at += 10;
	/* The SCI is level-triggered, active high (5.2.12.5, Table 5-50). */
	p[at] = MADT_ISO;
	p[at + 1] = 10;
	p[at + 2] = 0;
	p[at + 3] = o->sci_irq;
	libvm__put32(p + at + 4, o->sci_irq);
	libvm__put16(p + at + 8, 0x000d); /* polarity 01 high, trigger 11 level */
	at += 10;
	/* NMI on LINT1 of every processor, as on a PC. */
	p[at] = MADT_LAPIC_NMI;
	p[at + 1] = 6;
	p[at + 2] = 0xff;
	libvm__put16(p + at + 3, 0);
	p[at + 5] = 1;
	at += 6;
	if (o->nr_cpus > 255) {
		p[at] = MADT_X2APIC_NMI;
		p[at + 1] = 12;
		libvm__put16(p + at + 2, 0);
		libvm__put32(p + at + 4, 0xffffffffu);
		p[at + 8] = 1;
		at += 12;
	}
	seal(p);
}

static void build_fadt(uint8_t *p, const libvm_acpi_options *o, uint64_t facs, uint64_t dsdt)
{
	uint32_t flags = FADT_WBINVD | FADT_PROC_C1 | FADT_PWR_BUTTON | FADT_SLP_BUTTON;

	if (o->flags & LIBVM_ACPI_PM_TIMER_32BIT)
		flags |= FADT_TMR_VAL_EXT;
	header(p, "FACP", FADT_SIZE, 6);
	libvm__put32(p + 36, (uint32_t)facs);
	libvm__put32(p + 40, (uint32_t)dsdt);
	p[45] = 0;                              /* preferred PM profile: unspecified */
	libvm__put16(p + 46, o->sci_irq);
	libvm__put32(p + 48, 0);                /* SMI_CMD 0: always in ACPI mode */
	libvm__put32(p + 56, o->pm1a_evt_port);
	libvm__put32(p + 64, o->pm1a_cnt_port);
	libvm__put32(p + 76, o->pm_timer_port);
	p[88] = 4;                              /* PM1_EVT_LEN */
	p[89] = 2;                              /* PM1_CNT_LEN */
	p[91] = 4;                              /* PM_TMR_LEN */
	libvm__put16(p + 96, 101);              /* P_LVL2_LAT > 100: C2 unsupported */
	libvm__put16(p + 98, 1001);             /* P_LVL3_LAT > 1000: C3 unsupported */
	p[108] = 0x32;                          /* CMOS century register */
	libvm__put16(p + 109, BOOT_LEGACY_DEVICES | BOOT_8042 | BOOT_VGA_NOT_PRESENT);
	libvm__put32(p + 112, flags);
	p[131] = 0;                             /* FADT minor version */
	libvm__put64(p + 132, facs);            /* X_FIRMWARE_CTRL */
	libvm__put64(p + 140, dsdt);            /* X_DSDT */
	gas_io(p + 148, 32, 2, o->pm1a_evt_port);
	gas_io(p + 172, 16, 2, o->pm1a_cnt_port);
	gas_io(p + 208, 32, 3, o->pm_timer_port);
	memcpy(p + 268, "LIBVM\0\0\0", 8);     /* hypervisor vendor identity */
	seal(p);
}

int libvm__acpi_build(uint64_t *rsdp_gpa, const struct libvm__guest_mem *gm,
		      const libvm_acpi_options *opts)
{
	libvm_acpi_options o;
	uint64_t base, facs, dsdt, fadt, madt, rsdt, xsdt, total;
	uint8_t *buf;
	int err;

	if (opts) {
		err = libvm__copy_options(&o, sizeof(o), opts, "libvm_acpi_options");
		if (err)
			return err;
	} else {
		o = (libvm_acpi_options)LIBVM_ACPI_OPTIONS_INIT;
	}
	if (o.nr_cpus == 0)
		o.nr_cpus = 1; /* zero means the default */
	if (o.nr_cpus > MAX_CPUS)
		return libvm__fail(-EINVAL, "ACPI: nr_cpus %u is not in 1..%u", o.nr_cpus, MAX_CPUS);
	if (o.flags & ~LIBVM_ACPI_PM_TIMER_32BIT)
		return libvm__fail(-EINVAL, "ACPI: unknown flags 0x%x",
				   o.flags & ~LIBVM_ACPI_PM_TIMER_32BIT);
	base = o.gpa ? o.gpa : LIBVM_ACPI_DEFAULT_GPA;
	/* 64, not the RSDP's 16: the FACS at base + 64 must be 64-byte
	 * aligned in guest memory (ACPI 5.2.10). */
	if (base & 63)
		return libvm__fail(-EINVAL, "ACPI: table address 0x%llx is not 64-byte aligned",
				   (unsigned long long)base);
	if (!o.pm1a_evt_port)
		o.pm1a_evt_port = 0x600;
	if (!o.pm1a_cnt_port)
		o.pm1a_cnt_port = 0x604;
	if (!o.pm_timer_port)
		o.pm_timer_port = 0x608;
	if (!o.sci_irq)
		o.sci_irq = 9;
	if (o.sci_irq > 15)
		return libvm__fail(-EINVAL, "ACPI: SCI IRQ %u is not an ISA IRQ", o.sci_irq);
	if (!o.ioapic_addr)
		o.ioapic_addr = 0xfec00000u;

	/* Offsets from base; the FACS wants 64-byte alignment (5.2.10). */
	facs = 64;
	dsdt = facs + FACS_SIZE;
	if (o.dsdt_aml_size && !o.dsdt_aml)
		return libvm__fail(-EINVAL, "ACPI: dsdt_aml_size is %llu but dsdt_aml is NULL",
				   (unsigned long long)o.dsdt_aml_size);
	if (o.dsdt_aml_size > LIBVM_ACPI_MAX_SIZE)
		return libvm__fail(-E2BIG, "ACPI: 0x%llx bytes of DSDT AML exceed the 0x%llx-byte table area",
				   (unsigned long long)o.dsdt_aml_size,
				   (unsigned long long)LIBVM_ACPI_MAX_SIZE);
	fadt = align_up(dsdt + HDR_SIZE + o.dsdt_aml_size, 16);
	madt = align_up(fadt + FADT_SIZE, 16);
	rsdt = align_up(madt + madt_size(o.nr_cpus), 16);
	xsdt = align_up(rsdt + HDR_SIZE + 2 * 4, 16);
	total = xsdt + HDR_SIZE + 2 * 8;
	if (total > LIBVM_ACPI_MAX_SIZE)
		return libvm__fail(-E2BIG, "ACPI: the tables need 0x%llx bytes, more than 0x%llx",
				   (unsigned long long)total, (unsigned long long)LIBVM_ACPI_MAX_SIZE);
	/* The RSDT holds 32-bit pointers. */
	if (base > 0xffffffffull || total > 0x100000000ull - base)
		return libvm__fail(-EINVAL, "ACPI: tables at 0x%llx+0x%llx must lie below 4 GiB",
				   (unsigned long long)base, (unsigned long long)total);
	err = libvm__gm_check(gm, base, total, false, "ACPI tables");
	if (err)
		return err;
	buf = calloc(1, total);
	if (!buf)
		return libvm__fail(-ENOMEM, "ACPI: out of memory");

	/* FACS (5.2.10): no checksum; version 2. */
	memcpy(buf + facs, "FACS", 4);
	libvm__put32(buf + facs + 4, FACS_SIZE);
	buf[facs + 32] = 2;
	/* DSDT: a definition block, revision 2 = 64-bit AML integers. */
	header(buf + dsdt, "DSDT", (uint32_t)(HDR_SIZE + o.dsdt_aml_size), 2);
	if (o.dsdt_aml_size)
		memcpy(buf + dsdt + HDR_SIZE, o.dsdt_aml, o.dsdt_aml_size);
	seal(buf + dsdt);
	build_fadt(buf + fadt, &o, base + facs, base + dsdt);
	build_madt(buf + madt, &o);
	header(buf + rsdt, "RSDT", HDR_SIZE + 2 * 4, 1);
	libvm__put32(buf + rsdt + HDR_SIZE, (uint32_t)(base + fadt));
	libvm__put32(buf + rsdt + HDR_SIZE + 4, (uint32_t)(base + madt));
	seal(buf + rsdt);
	header(buf + xsdt, "XSDT", HDR_SIZE + 2 * 8, 1);
	libvm__put64(buf + xsdt + HDR_SIZE, base + fadt);
	libvm__put64(buf + xsdt + HDR_SIZE + 8, base + madt);
	seal(buf + xsdt);
	/* RSDP (5.2.5.3): checksum over the first 20 bytes, extended over all 36. */
	memcpy(buf, "RSD PTR ", 8);
	memcpy(buf + 9, "LIBVM ", 6);
	buf[15] = 2;
	libvm__put32(buf + 16, (uint32_t)(base + rsdt));
	libvm__put32(buf + 20, RSDP_SIZE);
	libvm__put64(buf + 24, base + xsdt);
	buf[8] = checksum(buf, 20);
	buf[32] = checksum(buf, RSDP_SIZE);

	err = libvm__gm_write(gm, base, buf, total);
	free(buf);
	if (!err && rsdp_gpa)
		*rsdp_gpa = base;
	return err;
}

LIBVM_EXPORT int libvm_acpi_build(uint64_t *rsdp_gpa, libvm_vm *vm,
				  const libvm_acpi_options *opts)
{
	struct libvm__guest_mem gm;
	int err = libvm__gm_from_vm(&gm, vm);

	if (err)
		return err;
	err = libvm__acpi_build(rsdp_gpa, &gm, opts);
	libvm__gm_fini(&gm);
	return err;
}
