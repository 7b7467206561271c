/* SPDX-License-Identifier: MIT */
/*
 * Guest RAM that libvm allocates can be backed by 2 MiB pages: from 2 MiB
 * up, its host address agrees with its guest address modulo 2 MiB (KVM
 * maps a guest page with a huge page only then) and the kernel is advised
 * MADV_HUGEPAGE ("hg" in the mapping's VmFlags in /proc/self/smaps);
 * LIBVM_REGION_NO_HUGEPAGE gives "nh" instead; a region below 2 MiB gets
 * neither; unknown flags are refused. A guest then writes to every 2 MiB
 * of a region and the host reads it back through the same mapping.
 *
 * Exit: 0 pass, 1 fail, 77 no usable KVM device.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvm/libvm.h>

#include "host_test.h"

#define MIB (1ull << 20)

/* The VmFlags line of the smaps entry that starts at @addr, or "" if none. */
static const char *vm_flags(const void *addr, char *buf, size_t len)
{
	char line[512];
	unsigned long start, end;
	bool in_entry = false;
	FILE *f = fopen("/proc/self/smaps", "r");

	buf[0] = '\0';
	if (!f)
		return buf;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			in_entry = start == (uintptr_t)addr;
			continue;
		}
		if (in_entry && strncmp(line, "VmFlags:", 8) == 0) {
			snprintf(buf, len, "%s", line + 8);
			buf[strcspn(buf, "\n")] = '\0';
			break;
		}
	}
	fclose(f);
	return buf;
}

static bool has_flag(const char *flags, const char *flag)
{
	char word[8];

	snprintf(word, sizeof(word), " %s", flag);
	return strstr(flags, word) != NULL;
}

static void check_region(libvm_vm *vm, uint64_t gpa, uint64_t len, uint32_t flags,
			 bool want_huge)
{
	libvm_region_options o = LIBVM_REGION_OPTIONS_INIT;
	libvm_region *r;
	char buf[512];
	const char *vmf;
	uint8_t *p;
	int err;

	o.gpa = gpa;
	o.length = len;
	o.flags = flags;
	o.name = "ram";
	err = libvm_region_map(&r, vm, &o);
	CHECK(err == 0, "map 0x%llx+0x%llx flags 0x%x: %d", (unsigned long long)gpa,
	      (unsigned long long)len, flags, err);
	if (err)
		return;
	p = libvm_region_volatile_ptr(r);
	vmf = vm_flags(p, buf, sizeof(buf));
	if (want_huge) {
		REPORT(((uintptr_t)p - gpa) % (2 * MIB) == 0 && has_flag(vmf, "hg"),
		       "RAM at 0x%llx (%llu MiB): host %p congruent mod 2 MiB, MADV_HUGEPAGE",
		       (unsigned long long)gpa, (unsigned long long)(len / MIB), (void *)p);
	} else if (flags & LIBVM_REGION_NO_HUGEPAGE) {
		REPORT(has_flag(vmf, "nh") && !has_flag(vmf, "hg"),
		       "RAM at 0x%llx with LIBVM_REGION_NO_HUGEPAGE: MADV_NOHUGEPAGE (VmFlags:%s)",
		       (unsigned long long)gpa, vmf);
	} else {
		REPORT(!has_flag(vmf, "hg"), "RAM at 0x%llx below 2 MiB: not advised (VmFlags:%s)",
		       (unsigned long long)gpa, vmf);
	}
	CHECK(libvm_region_unmap(r) == 0, "unmap");
}

/* A real-mode guest writes a marker at every 2 MiB of a 16 MiB region:
 * one run per address, through FS, whose base the host sets beyond what a
 * real-mode selector could give (the hidden base is what the CPU uses). */
static void guest_touches_memory(void)
{
	/* mov byte [fs:0], 0xa5 ; hlt */
	static const uint8_t code[] = { 0x64, 0xc6, 0x06, 0x00, 0x00, 0xa5, 0xf4 };
	libvm_vm *vm;
	libvm_vcpu *v;
	libvm_region *r;
	libvm_exit ex;
	uint8_t *p;
	int err, bad = 0;

	if ((err = libvm_vm_create(&vm, NULL))) {
		CHECK(0, "vm create: %d", err);
		return;
	}
	err = libvm_region_map_ram(&r, vm, 0, 16 * MIB);
	if (!err)
		err = libvm_mem_write(vm, 0x1000, code, sizeof(code));
	if (!err)
		err = libvm_vcpu_create(&v, vm, 0);
	CHECK(err == 0, "set-up: %d", err);
	for (uint64_t at = 2 * MIB; !err && at < 16 * MIB; at += 2 * MIB) {
		libvm_sregs s;

		if ((err = start_at(v, 0x1000)) || (err = libvm_vcpu_get_sregs(v, &s)))
			break;
		s.fs.base = at;
		s.fs.selector = 0;
		if ((err = libvm_vcpu_set_sregs(v, &s)) || (err = libvm_vcpu_run(v, &ex)))
			break;
		if (ex.reason != LIBVM_EXIT_HLT)
			bad++;
	}
	p = libvm_region_volatile_ptr(r);
	for (uint64_t at = 2 * MIB; !err && p && at < 16 * MIB; at += 2 * MIB)
		bad += p[at] != 0xa5;
	REPORT(!err && !bad, "a guest writes each 2 MiB page of a huge-page region; the host reads it");
	libvm_vm_destroy(vm);
}

int main(void)
{
	libvm_region_options o = LIBVM_REGION_OPTIONS_INIT;
	libvm_vm *vm = vm_or_skip();
	int err;

	check_region(vm, 0, 64 * MIB, 0, true);
	check_region(vm, 0x100000, 8 * MIB, 0, true);        /* guest side not 2 MiB aligned */
	check_region(vm, 0x40000000, 2 * MIB + 0x3000, 0, true);
	check_region(vm, 0, 64 * MIB, LIBVM_REGION_NO_HUGEPAGE, false);
	check_region(vm, 0, 1 * MIB, 0, false);

	o.length = 2 * MIB;
	o.flags = 1u << 7;
	err = libvm_region_map(NULL, vm, &o);
	REPORT(err == -EINVAL && strstr(libvm_error_message(), "unknown flags"),
	       "an unknown region flag is refused: %d (%s)", err, libvm_error_message());
	libvm_vm_destroy(vm);

	guest_touches_memory();
	return failures ? 1 : 0;
}
