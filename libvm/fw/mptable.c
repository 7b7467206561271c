/* SPDX-License-Identifier: MIT */
/*
 * Intel MultiProcessor Specification 1.4 table: the floating pointer
 * structure (found by scanning 0xf0000-0xfffff, MP 4.) followed by the
 * configuration table (MP 4.2) with processor, bus, IOAPIC, I/O interrupt
 * and local interrupt entries. For guests that predate ACPI or ignore it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../internal.h"
#include "../load/load_internal.h"

#define MPF_SIZE 16
#define MPC_HDR 44
#define ENTRY_CPU 0
#define ENTRY_BUS 1
#define ENTRY_IOAPIC 2
#define ENTRY_IOINT 3
#define ENTRY_LINT 4
#define INT_INT 0
#define INT_NMI 1
#define INT_EXTINT 3

static uint8_t checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	return (uint8_t)(0 - sum);
}

static uint8_t *intr(uint8_t *e, uint8_t kind, uint8_t type, uint8_t irq, uint8_t dst,
		     uint8_t pin)
{
	e[0] = kind;
	e[1] = type;
	libvm__put16(e + 2, 0); /* polarity/trigger conform to the bus (ISA: high, edge) */
	e[4] = 0;               /* source bus: ISA */
	e[5] = irq;
	e[6] = dst;
	e[7] = pin;
	return e + 8;
}

int libvm__mptable_build(uint64_t *table_gpa, const struct libvm__guest_mem *gm,
			 const libvm_mptable_options *opts)
{
	libvm_mptable_options o;
	uint64_t base, total;
	uint32_t entries = 0, cfg_len;
	uint8_t *buf, *cfg, *e;
	int err;

	if (opts) {
		err = libvm__copy_options(&o, sizeof(o), opts, "libvm_mptable_options");
		if (err)
			return err;
	} else {
		o = (libvm_mptable_options)LIBVM_MPTABLE_OPTIONS_INIT;
	}
	/* xAPIC ids are 8-bit and 0xff is broadcast; the IOAPIC needs one too. */
	if (o.nr_cpus == 0)
		o.nr_cpus = 1; /* zero means the default */
	if (o.nr_cpus > 254)
		return libvm__fail(-EINVAL, "MP table: nr_cpus %u is not in 1..254", o.nr_cpus);
	if (!o.ioapic_id)
		o.ioapic_id = o.nr_cpus;
	if (o.ioapic_id > 254)
		return libvm__fail(-EINVAL, "MP table: IOAPIC id %u is above 254", o.ioapic_id);
	if (!o.ioapic_addr)
		o.ioapic_addr = 0xfec00000u;
	base = o.gpa ? o.gpa : LIBVM_MPTABLE_DEFAULT_GPA;
	if (base & 15)
		return libvm__fail(-EINVAL, "MP table: address 0x%llx is not 16-byte aligned",
				   (unsigned long long)base);
	/* cpus, bus, IOAPIC, ExtINT + 15 ISA IRQs, 2 local interrupts */
	cfg_len = MPC_HDR + o.nr_cpus * 20 + 8 + 8 + 16 * 8 + 2 * 8;
	total = MPF_SIZE + cfg_len;
	if (base > 0xffffffffull || total > 0x100000000ull - base)
		return libvm__fail(-EINVAL, "MP table at 0x%llx must lie below 4 GiB",
				   (unsigned long long)base);
	err = libvm__gm_check(gm, base, total, false, "MP table");
	if (err)
		return err;
	buf = calloc(1, total);
	if (!buf)
		return libvm__fail(-ENOMEM, "MP table: out of memory");

	cfg = buf + MPF_SIZE;
	e = cfg + MPC_HDR;
	for (uint32_t i = 0; i < o.nr_cpus; i++, entries++) {
		e[0] = ENTRY_CPU;
		e[1] = (uint8_t)i;                   /* LAPIC id = vCPU id */
		e[2] = 0x14;                         /* LAPIC version: integrated */
		e[3] = (uint8_t)(1 | (i == 0 ? 2 : 0)); /* enabled, CPU 0 is the BSP */
		libvm__put32(e + 4, 0x600);          /* family 6 */
		libvm__put32(e + 8, 0x201);          /* CPUID features: FPU, APIC */
		e += 20;
	}
	e[0] = ENTRY_BUS;
	e[1] = 0;
	memcpy(e + 2, "ISA   ", 6);
	e += 8;
	entries++;
	e[0] = ENTRY_IOAPIC;
	e[1] = (uint8_t)o.ioapic_id;
	e[2] = 0x11;                                 /* IOAPIC version */
	e[3] = 1;                                    /* enabled */
	libvm__put32(e + 4, o.ioapic_addr);
	e += 8;
	entries++;
	/* The 8259 behind pin 0; ISA IRQ0 on pin 2, the others identity (MP 5.1). */
	e = intr(e, ENTRY_IOINT, INT_EXTINT, 0, (uint8_t)o.ioapic_id, 0);
	entries++;
	for (uint8_t irq = 0; irq < 16; irq++) {
		if (irq == 2)
			continue; /* the cascade */
		e = intr(e, ENTRY_IOINT, INT_INT, irq, (uint8_t)o.ioapic_id, irq == 0 ? 2 : irq);
		entries++;
	}
	e = intr(e, ENTRY_LINT, INT_EXTINT, 0, 0xff, 0);
	e = intr(e, ENTRY_LINT, INT_NMI, 0, 0xff, 1);
	entries += 2;

	memcpy(cfg, "PCMP", 4);
	libvm__put16(cfg + 4, (uint16_t)cfg_len);
	cfg[6] = 4;                                  /* spec revision 1.4 */
	memcpy(cfg + 8, "LIBVM   ", 8);
	memcpy(cfg + 16, "LIBVM PC    ", 12);
	libvm__put16(cfg + 34, (uint16_t)entries);
	libvm__put32(cfg + 36, 0xfee00000u);
	cfg[7] = checksum(cfg, cfg_len);

	memcpy(buf, "_MP_", 4);
	libvm__put32(buf + 4, (uint32_t)(base + MPF_SIZE));
	buf[8] = 1;                                  /* length in 16-byte units */
	buf[9] = 4;
	buf[11] = 0;                                 /* a configuration table follows */
	buf[10] = checksum(buf, MPF_SIZE);

	err = libvm__gm_write(gm, base, buf, total);
	free(buf);
	if (!err && table_gpa)
		*table_gpa = base;
	return err;
}

LIBVM_EXPORT int libvm_mptable_build(uint64_t *table_gpa, libvm_vm *vm,
				     const libvm_mptable_options *opts)
{
	struct libvm__guest_mem gm;
	int err = libvm__gm_from_vm(&gm, vm);

	if (err)
		return err;
	err = libvm__mptable_build(table_gpa, &gm, opts);
	libvm__gm_fini(&gm);
	return err;
}
