/* SPDX-License-Identifier: MIT */
/*
 * Hand-assembled AML (ACPI 6.0, chapter 20) for the DSDT: the PCI host
 * bridge \_SB.PCI0 with its resources and interrupt routing, and the \_S5
 * sleep package. With ACPI present, Linux enumerates PCI host bridges only
 * from the namespace (acpi_pci_root), so without this the bus stays
 * invisible; and an ACPI OS powers off only through \_S5's SLP_TYP.
 *
 * Objects are built inside-out: each helper appends to a byte buffer, and
 * a package-sized object is assembled in a scratch buffer and then wrapped
 * with its opcode and PkgLength (20.2.4).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pci_internal.h"

#define AML_NAME 0x08
#define AML_BYTE 0x0a
#define AML_WORD 0x0b
#define AML_DWORD 0x0c
#define AML_ZERO 0x00
#define AML_ONE 0x01
#define AML_SCOPE 0x10
#define AML_BUFFER 0x11
#define AML_PACKAGE 0x12
#define AML_EXT 0x5b
#define AML_DEVICE 0x82
#define AML_ROOT '\\'

#define S5_SLP_TYP 5 /* LIBVM_ACPIPM_OPTIONS_INIT's s5_typ */

struct aml {
	uint8_t buf[4096];
	size_t len;
	bool overflow;
};

static void put(struct aml *a, const void *p, size_t n)
{
	if (a->overflow || n > sizeof(a->buf) - a->len) {
		a->overflow = true;
		return;
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

static void put8(struct aml *a, uint8_t v)
{
	put(a, &v, 1);
}

static void put_le(struct aml *a, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		put8(a, (uint8_t)(v >> (8 * i)));
}

/* Integer with the smallest encoding (20.2.3 ComputationalData). */
static void integer(struct aml *a, uint32_t v)
{
	if (v == 0) {
		put8(a, AML_ZERO);
	} else if (v == 1) {
		put8(a, AML_ONE);
	} else if (v <= 0xff) {
		put8(a, AML_BYTE);
		put8(a, (uint8_t)v);
	} else if (v <= 0xffff) {
		put8(a, AML_WORD);
		put_le(a, v, 2);
	} else {
		put8(a, AML_DWORD);
		put_le(a, v, 4);
	}
}

/* PkgLength counts itself: 1 byte below 64, else 2 (< 4 KiB) or 3 bytes. */
static void pkg_wrap(struct aml *out, const uint8_t *op, size_t oplen, const struct aml *body)
{
	size_t n = body->len;

	put(out, op, oplen);
	if (body->overflow) {
		out->overflow = true;
		return;
	}
	if (n + 1 < 0x40) {
		put8(out, (uint8_t)(n + 1));
	} else if (n + 2 < 0x1000) {
		n += 2;
		put8(out, (uint8_t)(0x40 | (n & 0xf)));
		put8(out, (uint8_t)(n >> 4));
	} else {
		n += 3;
		put8(out, (uint8_t)(0x80 | (n & 0xf)));
		put8(out, (uint8_t)(n >> 4));
		put8(out, (uint8_t)(n >> 12));
	}
	put(out, body->buf, body->len);
}

static void name(struct aml *a, const char seg[4])
{
	put8(a, AML_NAME);
	put(a, seg, 4);
}

/* Word Address Space Descriptor (6.4.3.5.3): bus numbers or I/O. */
static void word_space(struct aml *r, uint8_t type, uint8_t tflags, uint16_t min, uint16_t max)
{
	put8(r, 0x88);
	put_le(r, 13, 2);
	put8(r, type);
	put8(r, 0x0c); /* MinFixed | MaxFixed, producer */
	put8(r, tflags);
	put_le(r, 0, 2); /* granularity */
	put_le(r, min, 2);
	put_le(r, max, 2);
	put_le(r, 0, 2); /* translation */
	put_le(r, (uint32_t)max - min + 1, 2);
}

/* DWord Memory descriptor (6.4.3.5.2): read/write, non-cacheable. */
static void dword_memory(struct aml *r, uint32_t min, uint32_t max)
{
	put8(r, 0x87);
	put_le(r, 23, 2);
	put8(r, 0);    /* memory range */
	put8(r, 0x0c); /* MinFixed | MaxFixed */
	put8(r, 0x01); /* read-write */
	put_le(r, 0, 4);
	put_le(r, min, 4);
	put_le(r, max, 4);
	put_le(r, 0, 4);
	put_le(r, max - min + 1, 4);
}

static void build(struct aml *out, const libvm_pci_bus *bus)
{
	static const uint8_t pkg_op = AML_PACKAGE, scope_op = AML_SCOPE, buf_op = AML_BUFFER;
	static const uint8_t dev_op[] = { AML_EXT, AML_DEVICE };
	struct aml *s5 = calloc(1, sizeof(*s5)), *res = calloc(1, sizeof(*res));
	struct aml *bufbody = calloc(1, sizeof(*bufbody)), *prt = calloc(1, sizeof(*prt));
	struct aml *entry = calloc(1, sizeof(*entry)), *dev = calloc(1, sizeof(*dev));
	struct aml *devwrap = calloc(1, sizeof(*devwrap));
	uint16_t port = (uint16_t)bus->ranges[0].base;

	if (!s5 || !res || !bufbody || !prt || !entry || !dev || !devwrap) {
		out->overflow = true;
		goto out;
	}
	/* Name (_S5, Package (4) { 5, 5, 0, 0 }): SLP_TYPa, SLP_TYPb (7.4.2). */
	name(out, "_S5_");
	put8(s5, 4);
	integer(s5, S5_SLP_TYP);
	integer(s5, S5_SLP_TYP);
	integer(s5, 0);
	integer(s5, 0);
	pkg_wrap(out, &pkg_op, 1, s5);

	/* Device (PCI0) body. */
	name(dev, "_HID");
	put8(dev, AML_DWORD);
	put_le(dev, 0x030ad041, 4); /* EisaId ("PNP0A03") */
	name(dev, "_UID");
	integer(dev, 0);
	name(dev, "_BBN");
	integer(dev, 0);
	/* _CRS: bus 0, the config ports, the other I/O, the BAR window. */
	word_space(res, 2, 0, 0, 0);
	put8(res, 0x47); /* I/O port descriptor (6.4.2.5), 16-bit decode */
	put8(res, 1);
	put_le(res, port, 2);
	put_le(res, port, 2);
	put8(res, 1);
	put8(res, 8);
	if (port > 0)
		word_space(res, 1, 3, 0, (uint16_t)(port - 1));
	if (port + 8u <= 0xffff)
		word_space(res, 1, 3, (uint16_t)(port + 8), 0xffff);
	dword_memory(res, (uint32_t)bus->mmio_base, (uint32_t)(bus->mmio_base + bus->mmio_size - 1));
	put8(res, 0x79); /* End tag, checksum 0: "treated as checksummed" */
	put8(res, 0);
	name(dev, "_CRS");
	integer(bufbody, (uint32_t)res->len);
	put(bufbody, res->buf, res->len);
	pkg_wrap(dev, &buf_op, 1, bufbody);
	/* _PRT (6.2.13): Package { Address = slot << 16 | 0xffff, Pin, Source 0, GSI }. */
	put8(prt, (LIBVM__PCI_SLOTS - 1) * 4);
	for (uint32_t slot = 1; slot < LIBVM__PCI_SLOTS; slot++) {
		for (uint32_t pin = 0; pin < 4; pin++) {
			entry->len = 0;
			put8(entry, 4);
			put8(entry, AML_DWORD);
			put_le(entry, slot << 16 | 0xffff, 4);
			integer(entry, pin);
			integer(entry, 0);
			integer(entry, bus->irq_base + (slot + pin) % 4);
			pkg_wrap(prt, &pkg_op, 1, entry);
		}
	}
	name(dev, "_PRT");
	pkg_wrap(dev, &pkg_op, 1, prt);

	/* Scope (\_SB) { Device (PCI0) { ... } } */
	put(devwrap, "PCI0", 4);
	put(devwrap, dev->buf, dev->len);
	devwrap->overflow = dev->overflow;
	dev->len = 0;
	put(dev, "\\_SB_", 5);
	pkg_wrap(dev, dev_op, 2, devwrap);
	pkg_wrap(out, &scope_op, 1, dev);
out:
	free(s5);
	free(res);
	free(bufbody);
	free(prt);
	free(entry);
	free(dev);
	free(devwrap);
}

LIBVM_EXPORT int libvm_pci_acpi_aml(libvm_pci_bus *bus, void *buf, size_t *len)
{
	struct aml *a;
	int err = 0;

	LIBVM__CHECK_PCI_BUS(bus, "libvm_pci_acpi_aml");
	if (!len)
		return libvm__fail(-EINVAL, "libvm_pci_acpi_aml: len is NULL");
	a = calloc(1, sizeof(*a));
	if (!a)
		return libvm__fail(-ENOMEM, "out of memory");
	build(a, bus);
	if (a->overflow)
		err = libvm__fail(-ENOMEM, "pci: the AML does not fit its buffer");
	else if (!buf || *len < a->len)
		err = libvm__fail(-E2BIG, "pci: the AML needs %zu bytes", a->len);
	else
		memcpy(buf, a->buf, a->len);
	*len = a->len;
	free(a);
	return err;
}
