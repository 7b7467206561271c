/* SPDX-License-Identifier: MIT */
/*
 * Waking from ACPI S3 without firmware: what the BIOS does after the
 * platform reset, a launcher does with this call. It follows the tables
 * (RSDP -> XSDT or RSDT -> FADT -> FACS, ACPI 6.0 5.2) to the waking
 * vector the OS stored in the FACS before sleeping (5.2.10), and returns
 * the entry state: real mode with CS:IP = (vector >> 4):(vector & 0xf),
 * as 4.8.3.3 describes the transfer. Every table address and length comes
 * from guest memory and is checked before use.
 */
#include <errno.h>
#include <string.h>

#include "../internal.h"
#include "../load/load_internal.h"

static int rd(libvm_vm *vm, uint64_t gpa, void *buf, size_t len, const char *what)
{
	int err = libvm_mem_read(vm, gpa, buf, len);

	if (err)
		return libvm__fail(err, "S3 wake: %s at 0x%llx is outside guest memory", what,
				   (unsigned long long)gpa);
	return 0;
}

/* The FADT's address through the XSDT (or RSDT), or 0. */
static int find_fadt(libvm_vm *vm, uint64_t rsdp, uint64_t *fadt)
{
	uint8_t r[36], h[36], e[8];
	bool x;
	uint64_t sdt;
	uint32_t len;
	int err = rd(vm, rsdp, r, sizeof(r), "the RSDP");

	if (err)
		return err;
	if (memcmp(r, "RSD PTR ", 8))
		return libvm__fail(-EINVAL, "S3 wake: no RSDP signature at 0x%llx",
				   (unsigned long long)rsdp);
	x = r[15] >= 2 && libvm__le64(r + 24);
	sdt = x ? libvm__le64(r + 24) : libvm__le32(r + 16);
	if ((err = rd(vm, sdt, h, sizeof(h), x ? "the XSDT" : "the RSDT")))
		return err;
	len = libvm__le32(h + 4);
	if (len < 36 || len > 0x10000)
		return libvm__fail(-EINVAL, "S3 wake: the %s's length %u is implausible",
				   x ? "XSDT" : "RSDT", len);
	for (uint32_t off = 36; off + (x ? 8u : 4u) <= len; off += x ? 8 : 4) {
		uint64_t t;
		uint8_t sig[4];

		if ((err = rd(vm, sdt + off, e, x ? 8 : 4, "a table pointer")))
			return err;
		t = x ? libvm__le64(e) : libvm__le32(e);
		if ((err = rd(vm, t, sig, 4, "a table")))
			return err;
		if (!memcmp(sig, "FACP", 4)) {
			*fadt = t;
			return 0;
		}
	}
	return libvm__fail(-ENOENT, "S3 wake: no FADT in the %s", x ? "XSDT" : "RSDT");
}

LIBVM_EXPORT int libvm_acpi_waking_vector(libvm_boot *boot, libvm_vm *vm, uint64_t rsdp_gpa)
{
	uint8_t f[148], facs[40];
	uint64_t fadt = 0, facs_gpa, xvec;
	uint32_t vec, flen;
	int err;

	if (!boot)
		return libvm__fail(-EINVAL, "libvm_acpi_waking_vector: boot is NULL");
	LIBVM__CHECK_VM(vm, "libvm_acpi_waking_vector");
	if ((err = find_fadt(vm, rsdp_gpa, &fadt)))
		return err;
	if ((err = rd(vm, fadt, f, 36, "the FADT")))
		return err;
	flen = libvm__le32(f + 4);
	if ((err = rd(vm, fadt, f, flen < sizeof(f) ? (flen < 40 ? 40 : flen) : sizeof(f),
		      "the FADT")))
		return err;
	facs_gpa = flen >= 140 && libvm__le64(f + 132) ? libvm__le64(f + 132) : libvm__le32(f + 36);
	if (!facs_gpa)
		return libvm__fail(-ENOENT, "S3 wake: the FADT names no FACS");
	if ((err = rd(vm, facs_gpa, facs, sizeof(facs), "the FACS")))
		return err;
	if (memcmp(facs, "FACS", 4))
		return libvm__fail(-EINVAL, "S3 wake: no FACS signature at 0x%llx",
				   (unsigned long long)facs_gpa);
	vec = libvm__le32(facs + 12);
	xvec = libvm__le64(facs + 24);
	if (xvec)
		return libvm__fail(-ENOTSUP,
				   "S3 wake: the guest set X_Firmware_Waking_Vector 0x%llx (protected-mode wake), which libvm does not do",
				   (unsigned long long)xvec);
	if (!vec || vec >= 0x100000)
		return libvm__fail(-EINVAL, "S3 wake: Firmware_Waking_Vector 0x%x is not a real-mode address",
				   vec);
	memset(boot, 0, sizeof(*boot));
	boot->mode = LIBVM_BOOT_REAL16;
	boot->code_selector = (uint16_t)(vec >> 4);
	boot->data_selector = (uint16_t)(vec >> 4);
	boot->entry = vec & 0xf;
	return 0;
}
