/* SPDX-License-Identifier: MIT */
/*
 * Hand-assembled AML (ACPI 6.0 chapter 20; resource descriptors 6.4.2) for
 * the PC's ISA devices, so that an ACPI OS finds them through the
 * namespace instead of probing: the i8042's keyboard (PNP0303: ports 0x60
 * and 0x64, IRQ 1) and PS/2 mouse (PNP0F13: IRQ 12), the CMOS RTC
 * (PNP0B00: ports 0x70-0x71, IRQ 8), and the \_S3 sleep package for
 * suspend to RAM. Without the i8042 devices Linux logs "PNP: No PS/2
 * controller found" and probes the ports by hand, which costs it a second
 * or more of boot on an emulated host.
 */
#include <errno.h>
#include <string.h>

#include <libvm/load.h>

#include "../internal.h"

struct out {
	uint8_t *p;
	size_t len, cap;
};

static void put(struct out *o, const void *b, size_t n)
{
	if (o->len + n <= o->cap)
		memcpy(o->p + o->len, b, n);
	o->len += n; /* counts on past the end, to report the size needed */
}

static void put8(struct out *o, uint8_t v)
{
	put(o, &v, 1);
}

/* PkgLength (20.2.4) of a body of @n bytes; it counts its own bytes. */
static void pkglen(struct out *o, size_t n)
{
	if (n + 1 < 0x40) {
		put8(o, (uint8_t)(n + 1));
	} else {
		n += 2; /* bodies here stay below 4 KiB */
		put8(o, (uint8_t)(0x40 | (n & 0xf)));
		put8(o, (uint8_t)(n >> 4));
	}
}

/* Name (@seg, EisaId) with the compressed id (6.1.5) given as a dword. */
static void name_eisaid(struct out *o, const char *seg, uint32_t id)
{
	uint8_t b[] = { 0x08, 0, 0, 0, 0, 0x0c, (uint8_t)id, (uint8_t)(id >> 8),
			(uint8_t)(id >> 16), (uint8_t)(id >> 24) };

	memcpy(b + 1, seg, 4);
	put(o, b, sizeof(b));
}

/* Name (_CRS, ResourceTemplate () { @res ... EndTag }) */
static void name_crs(struct out *o, const uint8_t *res, size_t n)
{
	static const uint8_t head[] = { 0x08, '_', 'C', 'R', 'S', 0x11 };
	static const uint8_t end[] = { 0x79, 0x00 }; /* end tag, checksum 0: none */

	put(o, head, sizeof(head));
	pkglen(o, 2 + n + sizeof(end)); /* BufferSize (ByteConst), then the bytes */
	put8(o, 0x0a);
	put8(o, (uint8_t)(n + sizeof(end)));
	put(o, res, n);
	put(o, end, sizeof(end));
}

/* Device (@seg) { _HID, _CRS } */
static void device(struct out *o, const char *seg, uint32_t hid, const uint8_t *res, size_t n)
{
	uint8_t body[64];
	struct out b = { body, 0, sizeof(body) };

	name_eisaid(&b, "_HID", hid);
	name_crs(&b, res, n);
	put8(o, 0x5b);
	put8(o, 0x82);
	pkglen(o, 4 + b.len);
	put(o, seg, 4);
	put(o, body, b.len);
}

/* IO (Decode16, port, port, 1, len) (6.4.2.5) */
#define IO16(port, n) 0x47, 0x01, (port) & 0xff, (port) >> 8, (port) & 0xff, (port) >> 8, 1, (n)
/* IRQNoFlags () { irq } (6.4.2.1): edge, active high, exclusive */
#define IRQ(n) 0x22, (1u << (n)) & 0xff, (1u << (n)) >> 8

LIBVM_EXPORT int libvm_acpi_isa_aml(void *buf, size_t *len, uint32_t flags)
{
	static const uint8_t kbd[] = { IO16(0x60, 1), IO16(0x64, 1), IRQ(1) };
	static const uint8_t mou[] = { IRQ(12) };
	static const uint8_t rtc[] = { IO16(0x70, 2), IRQ(8) };
	const uint32_t known = LIBVM_ACPI_AML_I8042 | LIBVM_ACPI_AML_RTC | LIBVM_ACPI_AML_S3;
	uint8_t scope[256];
	struct out s = { scope, 0, sizeof(scope) }, o;

	if (!len || (!buf && *len))
		return libvm__fail(-EINVAL, "libvm_acpi_isa_aml: %s is NULL", len ? "buf" : "len");
	if (flags & ~known)
		return libvm__fail(-EINVAL, "libvm_acpi_isa_aml: unknown flags 0x%x", flags & ~known);
	o = (struct out){ buf, 0, *len };
	if (flags & LIBVM_ACPI_AML_S3) {
		/* Name (_S3, Package (4) { 1, 1, 0, 0 }): SLP_TYPa/b 1 (7.4.2),
		 * what libvm_acpipm_attach() takes as s3_typ by default. */
		static const uint8_t s3[] = { 0x08, '_', 'S', '3', '_', 0x12, 0x06, 0x04,
					      0x01, 0x01, 0x00, 0x00 };

		put(&o, s3, sizeof(s3));
	}
	if (flags & LIBVM_ACPI_AML_I8042) {
		device(&s, "KBD_", 0x0303d041u, kbd, sizeof(kbd)); /* EisaId ("PNP0303") */
		device(&s, "MOU_", 0x130fd041u, mou, sizeof(mou)); /* EisaId ("PNP0F13") */
	}
	if (flags & LIBVM_ACPI_AML_RTC)
		device(&s, "RTC_", 0x000bd041u, rtc, sizeof(rtc)); /* EisaId ("PNP0B00") */
	if (s.len) {
		put8(&o, 0x10); /* Scope (\_SB) */
		pkglen(&o, 5 + s.len);
		put(&o, "\\_SB_", 5);
		put(&o, scope, s.len);
	}
	if (o.len > *len) {
		size_t cap = *len;

		*len = o.len;
		return libvm__fail(-E2BIG, "libvm_acpi_isa_aml: %zu bytes needed, room for %zu",
				   o.len, cap);
	}
	*len = o.len;
	return 0;
}
