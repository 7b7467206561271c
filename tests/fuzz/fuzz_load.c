/* SPDX-License-Identifier: MIT */
/*
 * Loaders on hostile images: built once per loader (FUZZ_LOADER is 1 ELF,
 * 2 multiboot, 3 bzImage, 0 format detection followed by the loader the
 * format names, flat for an unknown one). The input is a 16-byte header
 * choosing the memory map (ROM, RAM above 4 GiB), the options (command
 * line length, up to three modules, NO_PVH, an RSDP) and the flat load
 * address, then the image.
 *
 * Invariants: every write lands in RAM (ROM and unmapped addresses abort
 * in fm_write()); a refused image wrote nothing and left *boot as it was;
 * an accepted one describes a kernel that starts and ends in RAM, an entry the mode can
 * reach, and a state libvm__boot_state() can turn into registers.
 */
#include <errno.h>

#include "fuzz.h"

#ifndef FUZZ_LOADER
#define FUZZ_LOADER 0
#endif

#define HDR 16

static struct fmem mem;
static int verbose = -1; /* FUZZ_VERBOSE=1: say what each input did */
static uint8_t module_bytes[0x10000];

static int load(libvm_boot *b, const uint8_t *img, size_t size, const libvm_load_options *o,
		uint64_t flat_gpa, int *format)
{
	*format = -1;
	switch (FUZZ_LOADER) {
	case 1:
		return libvm__load_elf(b, &mem.gm, img, size, o);
	case 2:
		return libvm__load_multiboot(b, &mem.gm, img, size, o);
	case 3:
		return libvm__load_bzimage(b, &mem.gm, img, size, o);
	default:
		break;
	}
	*format = libvm_load_detect(img, size);
	switch (*format) {
	case LIBVM_FORMAT_ELF32:
	case LIBVM_FORMAT_ELF64:
	case LIBVM_FORMAT_PVH:
		return libvm__load_elf(b, &mem.gm, img, size, o);
	case LIBVM_FORMAT_MULTIBOOT:
		return libvm__load_multiboot(b, &mem.gm, img, size, o);
	case LIBVM_FORMAT_BZIMAGE:
		return libvm__load_bzimage(b, &mem.gm, img, size, o);
	case LIBVM_FORMAT_UNKNOWN:
		return libvm__load_flat(b, &mem.gm, img, size, flat_gpa);
	default:
		fuzz_fail("libvm_load_detect returned %d", *format);
	}
}

static void check_accepted(const libvm_boot *b, int format)
{
	libvm_regs regs;
	libvm_sregs sregs;

	memset(&regs, 0, sizeof(regs));
	memset(&sregs, 0, sizeof(sregs));
	/* The span of all pieces: they are in RAM (the loader checks each), its
	 * ends are, but segments in RAM below and above a hole span the hole. */
	if (b->kernel_end < b->kernel_start || !libvm__gm_inside(&mem.gm, b->kernel_start, 0, true) ||
	    !libvm__gm_inside(&mem.gm, b->kernel_end, 0, true))
		fuzz_fail("kernel 0x%llx..0x%llx does not start and end in RAM",
			  (unsigned long long)b->kernel_start, (unsigned long long)b->kernel_end);
	switch (b->mode) {
	case LIBVM_BOOT_REAL16:
		if (((uint64_t)b->code_selector << 4) + b->entry > 0x10ffef)
			fuzz_fail("real-mode entry %x:%llx", b->code_selector,
				  (unsigned long long)b->entry);
		break;
	case LIBVM_BOOT_PROT32:
	case LIBVM_BOOT_LONG64:
		/* 32-bit entry, or 64-bit entry inside the 4 GiB identity map. */
		if (b->entry > 0xffffffffull)
			fuzz_fail("entry 0x%llx past 4 GiB (mode %u)", (unsigned long long)b->entry,
				  b->mode);
		break;
	default:
		fuzz_fail("boot mode %u", b->mode);
	}
	/* Modules follow the kernel (the initrd goes high): their end is RAM's. */
	if (b->modules_end && (b->modules_end < b->kernel_end ||
			       !libvm__gm_inside(&mem.gm, b->modules_end, 0, true)))
		fuzz_fail("modules end 0x%llx outside RAM", (unsigned long long)b->modules_end);
	if (format == LIBVM_FORMAT_BZIMAGE && b->format != LIBVM_FORMAT_BZIMAGE)
		fuzz_fail("detected bzImage loaded as format %u", b->format);
	if (libvm__boot_state(b, &regs, &sregs))
		fuzz_fail("an accepted boot state cannot be applied");
	if (regs.rip != b->entry)
		fuzz_fail("rip 0x%llx for entry 0x%llx", (unsigned long long)regs.rip,
			  (unsigned long long)b->entry);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char words[] = "console=ttyS0 root=/dev/vda rw init=/bin/sh quiet ";
	libvm_load_options o = LIBVM_LOAD_OPTIONS_INIT;
	libvm_load_module mods[3];
	libvm_boot b, before;
	char cmdline[256];
	struct fin f = { data, size };
	uint8_t flags, cmdlen;
	uint64_t flat_gpa;
	int err, format;

	if (verbose < 0)
		verbose = getenv("FUZZ_VERBOSE") != NULL;
	if (size < HDR)
		return 0;
	flags = fin_u8(&f);
	cmdlen = fin_u8(&f);
	fm_setup(&mem, flags & 1, flags & 2);
	if (flags & 4) {
		for (unsigned i = 0; i < cmdlen; i++)
			cmdline[i] = words[i % (sizeof(words) - 1)];
		cmdline[cmdlen] = 0;
		o.cmdline = cmdline;
	}
	o.nr_modules = (flags >> 3) & 3;
	for (unsigned i = 0; i < 3; i++) {
		mods[i] = (libvm_load_module){ .data = module_bytes, .size = fin_u16(&f),
					       .string = i == 1 ? "module-string" : NULL };
	}
	o.modules = o.nr_modules ? mods : NULL;
	if (flags & 0x20)
		o.flags = LIBVM_LOAD_NO_PVH;
	if (flags & 0x80)
		o.kernel_name = "fuzz-kernel";
	flat_gpa = fin_u64(&f);
	if (flags & 0x40)
		o.rsdp_gpa = flat_gpa & 0xfffff;
	data += HDR;
	size -= HDR;

	memset(&b, 0x5a, sizeof(b));
	before = b;
	err = load(&b, data, size, &o, flat_gpa, &format);
	if (verbose)
		fprintf(stderr, "format %d: %d %s\n", format, err, err ? libvm_error_message() : "");
	if (err > 0)
		fuzz_fail("loader returned %d", err);
	if (err) {
		if (mem.writes)
			fuzz_fail("a refused image (error %d) wrote %u times", err, mem.writes);
		if (memcmp(&b, &before, sizeof(b)))
			fuzz_fail("a refused image (error %d) changed *boot", err);
		return 0;
	}
	check_accepted(&b, format);
	return 0;
}
