/* SPDX-License-Identifier: MIT */
/*
 * Flat binary loader: the bytes go to one guest-physical address and the
 * first byte is the entry point. Real mode when the image fits below 1 MiB
 * (how the tiny test guests start), flat 32-bit protected mode otherwise.
 */
#include <errno.h>

#include "../internal.h"
#include "load_internal.h"

int libvm__load_flat(libvm_boot *boot, const struct libvm__guest_mem *gm, const void *image,
		     size_t size, uint64_t gpa)
{
	struct libvm__load_seg seg = { .gpa = gpa, .src = image, .filesz = size, .memsz = size };
	struct libvm__layout lay;
	libvm_boot b;
	uint64_t end;
	int err;

	if (!boot || !image)
		return libvm__fail(-EINVAL, "libvm_load_flat: %s is NULL", boot ? "image" : "boot");
	if (size == 0)
		return libvm__fail(-EINVAL, "flat image is empty");
	if (!libvm__add_ok(gpa, size, &end))
		return libvm__fail(-EFAULT, "flat image 0x%llx+0x%zx wraps around",
				   (unsigned long long)gpa, size);
	err = libvm__gm_check(gm, gpa, size, true, "flat image");
	if (err)
		return err;
	if (end <= 0x100000) {
		/* CS:IP = (gpa >> 4):(gpa & 0xf): every byte below 1 MiB is reachable. */
		b = (libvm_boot){
			.mode = LIBVM_BOOT_REAL16,
			.code_selector = (uint16_t)(gpa >> 4),
			.data_selector = (uint16_t)(gpa >> 4),
			.entry = gpa & 0xf,
		};
	} else {
		if (gpa > 0xffffffffull)
			return libvm__fail(-EFAULT, "flat image at 0x%llx: 32-bit entry must be below 4 GiB",
					   (unsigned long long)gpa);
		/* Only the GDT is written besides the image: around it. */
		err = libvm__boot_layout(gm, &seg, 1, NULL, NULL, false, false, &lay);
		if (err)
			return err;
		libvm__boot_init_prot32(&b, gpa, lay.gdt);
	}
	b.format = LIBVM_FORMAT_UNKNOWN;
	b.kernel_start = gpa;
	b.kernel_end = end;
	err = libvm__segs_write(gm, &seg, 1);
	if (!err)
		err = libvm__boot_write_tables(gm, &b);
	if (err)
		return err;
	*boot = b;
	return 0;
}

LIBVM_EXPORT int libvm_load_flat(libvm_boot *boot, libvm_vm *vm, const void *image,
				 size_t size, uint64_t gpa)
{
	struct libvm__guest_mem gm;
	int err = libvm__gm_from_vm(&gm, vm);

	if (err)
		return err;
	err = libvm__load_flat(boot, &gm, image, size, gpa);
	libvm__gm_fini(&gm);
	return err;
}
