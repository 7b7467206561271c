/* SPDX-License-Identifier: MIT */
/*
 * Dirty-page logging on a real VM: a real-mode guest writes a few pages,
 * libvm_mem_write() writes others, and each fetch reports exactly the
 * pages written since the previous one, in the right region and bit; a
 * region mapped while logging logs too; libvm_mem_mark_dirty() adds pages
 * and refuses ranges outside memory; misuse gets a clear error.
 *
 * Exit: 0 pass, 1 fail, 77 no usable KVM device (or one without a dirty
 * log: says so).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvm/libvm.h>

#include "host_test.h"

#define CODE_GPA 0x1000
#define HIGH_GPA 0x100000ull

/*
 * mov ax, 0x2000; mov ds, ax     (DS base 0x20000: page 0x20)
 * mov byte [0x0000], 1           page 0x20
 * mov byte [0x5000], 1           page 0x25
 * hlt
 * mov byte [0x3000], 2           page 0x23
 * hlt
 * mov byte [0x0000], 3           page 0x20 again
 * hlt
 */
static const unsigned char code[] = {
	0xb8, 0x00, 0x20, 0x8e, 0xd8,
	0xc6, 0x06, 0x00, 0x00, 0x01,
	0xc6, 0x06, 0x00, 0x50, 0x01,
	0xf4,
	0xc6, 0x06, 0x00, 0x30, 0x02,
	0xf4,
	0xc6, 0x06, 0x00, 0x00, 0x03,
	0xf4,
};

/* The dirty pages of @r as a list "p1 p2 ..." for messages and checks. */
static const char *dirty_list(libvm_region *r, int64_t *count)
{
	static char buf[512];
	uint64_t bitmap[16] = { 0 };
	size_t used = 0;

	*count = libvm_region_dirty_log(r, bitmap, 16);
	buf[0] = '\0';
	for (unsigned p = 0; *count > 0 && p < 16 * 64; p++)
		if (bitmap[p / 64] & (1ull << (p % 64)))
			used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%#x",
						 used ? " " : "", p);
	return buf;
}

/*
 * @want exactly, or with @also in front: a backend may report a page the
 * vCPU only fetched code from (kvm-amd under QEMU's TCG SVM model maps the
 * code page writable on its first fetch); reporting too much is allowed
 * by a dirty log, too little never.
 */
static void expect_or(libvm_region *r, const char *want, const char *also, const char *when)
{
	char with[128];
	int64_t n;
	const char *got = dirty_list(r, &n);

	snprintf(with, sizeof(with), "%s%s%s", also ? also : "", also && *want ? " " : "", want);
	REPORT(n >= 0 && (!strcmp(got, want) || (also && !strcmp(got, with))),
	       "%s: region '%s' dirty pages [%s] (expected [%s]%s%s%s)", when,
	       libvm_region_name(r), got, want, also ? " or [" : "", also ? with : "",
	       also ? "]" : "");
}

static void expect(libvm_region *r, const char *want, const char *when)
{
	expect_or(r, want, NULL, when);
}

static int run_to_hlt(libvm_vcpu *v)
{
	libvm_exit ex;
	int err = libvm_vcpu_run(v, &ex);

	return err ? err : ex.reason == LIBVM_EXIT_HLT ? 0 : -EIO;
}

int main(void)
{
	libvm_region *low, *high, *late;
	libvm_region_options o = LIBVM_REGION_OPTIONS_INIT;
	libvm_vcpu *v;
	libvm_vm *vm;
	uint64_t small[1];
	int err;

	err = libvm_vm_create(&vm, NULL);
	if (err) {
		printf("SKIP: no usable KVM device: %s (%s)\n", libvm_strerror(err),
		       libvm_error_message());
		return 77;
	}
	if (libvm_has(vm, LIBVM_CAP_DIRTY_LOG) != 1) {
		printf("SKIP: %s has no dirty-page log\n", libvm_vm_device_path(vm));
		libvm_vm_destroy(vm);
		return 77;
	}
	printf("backend %s: KVM_CLEAR_DIRTY_LOG %s\n", libvm_vm_device_path(vm),
	       libvm_has(vm, LIBVM_CAP_DIRTY_LOG_CLEAR) == 1 ? "yes" : "no");
	o.gpa = 0;
	o.length = 0x40000;
	o.name = "low";
	CHECK(libvm_region_map(&low, vm, &o) == 0, "map low RAM");
	o.gpa = HIGH_GPA;
	o.length = 0x10000;
	o.name = "high";
	CHECK(libvm_region_map(&high, vm, &o) == 0, "map high RAM");
	CHECK(libvm_mem_write(vm, CODE_GPA, code, sizeof(code)) == 0, "write the code");
	CHECK(libvm_vcpu_create(&v, vm, 0) == 0 && start_at(v, CODE_GPA) == 0, "create the vCPU");
	if (failures)
		return 1;

	/* Misuse before the start. */
	REPORT(libvm_region_dirty_log(low, small, 1) == -EINVAL, "fetch without logging: -EINVAL");
	REPORT(libvm_vm_dirty_log_stop(vm) == -EINVAL, "stop without logging: -EINVAL");
	REPORT(libvm_vm_dirty_log_start(vm) == 0, "start logging");
	REPORT(libvm_vm_dirty_log_start(vm) == -EBUSY, "a second start: -EBUSY");
	REPORT(libvm_region_dirty_log(low, small, 0) == -EINVAL &&
	       strstr(libvm_error_message(), "needs 1 words"), "too small a bitmap: -EINVAL");

	/* Writes before the start are not in the log. */
	expect(low, "", "nothing written yet");
	expect(high, "", "nothing written yet");

	/* The guest's writes and libvm's own. */
	CHECK(run_to_hlt(v) == 0, "first run to HLT");
	CHECK(libvm_mem_write(vm, HIGH_GPA + 0x3000, "x", 1) == 0, "libvm_mem_write");
	CHECK(libvm_mem_write(vm, HIGH_GPA + 0x7ffe, "yyyy", 4) == 0, "libvm_mem_write across pages");
	expect_or(low, "0x20 0x25", "0x1", "first run");
	expect(high, "0x3 0x7 0x8", "libvm_mem_write");
	expect(low, "", "fetched again");

	/* Only what the next run wrote. */
	CHECK(run_to_hlt(v) == 0, "second run to HLT");
	expect(low, "0x23", "second run");
	CHECK(run_to_hlt(v) == 0, "third run to HLT");
	expect(low, "0x20", "third run (page 0x20 written again after its fetch)");

	/* A region mapped while logging logs too. */
	o.gpa = 0x200000;
	o.length = 0x4000;
	o.name = "late";
	CHECK(libvm_region_map(&late, vm, &o) == 0, "map a region while logging");
	CHECK(libvm_mem_write(vm, 0x200000 + 0x2000, "z", 1) == 0, "write it");
	expect(late, "0x2", "a region mapped while logging");

	/* Marks for writes made through the volatile pointer. */
	((char *)libvm_region_volatile_ptr(high))[0x5000] = 1;
	REPORT(libvm_mem_mark_dirty(vm, HIGH_GPA + 0x5000, 1) == 0, "mark a page");
	REPORT(libvm_mem_mark_dirty(vm, HIGH_GPA + 0xf000, 0x2000) == -EFAULT,
	       "marking past the region's end: -EFAULT");
	expect(high, "0x5", "marked by hand (and nothing from the refused mark)");
	REPORT(libvm_mem_mark_dirty(vm, 0x3f000, 0x2000) == -EFAULT, "marking into a hole: -EFAULT");

	REPORT(libvm_vm_dirty_log_stop(vm) == 0, "stop logging");
	REPORT(libvm_region_dirty_log(low, small, 1) == -EINVAL, "fetch after the stop: -EINVAL");
	REPORT(libvm_mem_mark_dirty(vm, HIGH_GPA, 1) == 0, "marking while not logging is a no-op");
	/* And logging can start again, fresh. */
	REPORT(libvm_vm_dirty_log_start(vm) == 0, "start again");
	expect(low, "", "after a restart");
	libvm_vm_destroy(vm);
	printf("%s\n", failures ? "FAIL" : "PASS: dirty logging");
	return failures ? 1 : 0;
}
