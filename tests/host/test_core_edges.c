/* SPDX-License-Identifier: MIT */
/*
 * Edges of the core library on a real VM, each one a defect found by
 * review and fixed:
 *
 * - libvm_vm_stop() racing libvm_vcpu_create() never sees a half-built
 *   vCPU (it used to write through an unmapped run page);
 * - a stop or an ending taken right after a handler served an IN leaves
 *   the instruction completed: AL holds the device's byte and RIP is past
 *   it, so a caller that saves and restores the registers loses nothing;
 * - an ending asked for by a handler that then fails does not end the
 *   next run;
 * - libvm_vcpu_set_msrs() that the backend refuses part-way changes
 *   nothing;
 * - libvm_io_register() gets in while the handlers of busy vCPUs overlap
 *   (a writer-first lock), instead of waiting for them to stop;
 * - a file-backed region longer than its file is refused, instead of
 *   libvm_mem_read() dying of SIGBUS;
 * - each vCPU finds its own initial APIC id in CPUID leaf 1.
 *
 * Guests are a few bytes of real-mode code. Exit: 0 pass, 1 fail, 77 no
 * usable KVM device.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <libvm/libvm.h>

#include "host_test.h"

#define CODE_GPA 0x1000

/* A VM with 64 KiB of RAM, @code at CODE_GPA, and vCPU 0 about to run it. */
static int guest(libvm_vm **vm, libvm_vcpu **v, const void *code, size_t len)
{
	int err = libvm_vm_create(vm, NULL);

	if (err)
		return err;
	if ((err = libvm_region_map_ram(NULL, *vm, 0, 0x10000)) ||
	    (err = libvm_mem_write(*vm, CODE_GPA, code, len)) ||
	    (v && ((err = libvm_vcpu_create(v, *vm, 0)) || (err = start_at(*v, CODE_GPA))))) {
		libvm_vm_destroy(*vm);
		*vm = NULL;
	}
	return err;
}

/* ---- libvm_vm_stop() racing libvm_vcpu_create() ---- */

static atomic_bool creating;

static void *stop_loop(void *arg)
{
	while (atomic_load(&creating))
		libvm_vm_stop(arg);
	return NULL;
}

static void test_create_vs_stop(void)
{
	int created = 0, ok = 1;

	for (int round = 0; round < 20 && ok; round++) {
		libvm_vm *vm;
		pthread_t t;
		int max;

		if (libvm_vm_create(&vm, NULL))
			break;
		max = libvm_vm_max_vcpus(vm);
		if (max > 32)
			max = 32;
		atomic_store(&creating, true);
		pthread_create(&t, NULL, stop_loop, vm);
		for (int i = 0; i < max; i++) {
			libvm_vcpu *v;

			if (libvm_vcpu_create(&v, vm, (uint32_t)i)) {
				ok = 0;
				break;
			}
			created++;
		}
		atomic_store(&creating, false);
		pthread_join(t, NULL);
		libvm_vm_destroy(vm);
	}
	/* The defect crashed the process; reaching here with all created is the check. */
	REPORT(ok && created == 20 * 32, "%d vCPUs created while another thread kept calling libvm_vm_stop()",
	      created);
}

/* ---- a stop or an ending right after a served IN ---- */

enum { STOP, END };

static int in_then_stop(libvm_vcpu *v, uint64_t a, void *d, uint32_t l, bool w, void *o)
{
	*(uint8_t *)d = 0x42;
	if (*(int *)o == STOP)
		return libvm_vcpu_stop(v);
	return libvm_vcpu_end_run(v, LIBVM_EXIT_GUEST_EXIT, 1);
}

static void test_served_in_is_completed(int how)
{
	static const unsigned char code[] = { 0xe4, 0x10, 0xf4 }; /* in al, 0x10; hlt */
	const char *name = how == STOP ? "stop" : "ending";
	const char *a_name = how == STOP ? "a stop" : "an ending";
	libvm_vm *vm;
	libvm_vcpu *v;
	libvm_exit ex;
	libvm_regs r;
	int r1;

	if (guest(&vm, &v, code, sizeof(code)) ||
	    libvm_io_register(vm, LIBVM_SPACE_PIO, 0x10, 1, "in", in_then_stop, &how)) {
		REPORT(0, "set up the %s guest", name);
		return;
	}
	r1 = libvm_vcpu_run(v, &ex);
	REPORT(r1 == 0 && ex.reason == (how == STOP ? LIBVM_EXIT_STOPPED : LIBVM_EXIT_GUEST_EXIT),
	      "%s from the handler ends the run (reason %u)", a_name, ex.reason);
	libvm_vcpu_get_regs(v, &r);
	REPORT(r.rip == CODE_GPA + 2 && (r.rax & 0xff) == 0x42,
	      "after the %s, RIP 0x%llx is past the IN and AL 0x%02llx holds the device's byte",
	      name, (unsigned long long)r.rip, (unsigned long long)(r.rax & 0xff));
	/* What a snapshot or a debugger does: save, restore, go on. */
	libvm_vcpu_set_regs(v, &r);
	r1 = libvm_vcpu_run(v, &ex);
	libvm_vcpu_get_regs(v, &r);
	REPORT(r1 == 0 && ex.reason == LIBVM_EXIT_HLT && (r.rax & 0xff) == 0x42,
	      "registers saved and restored across the %s keep the byte (HLT, AL 0x%02llx)", name,
	      (unsigned long long)(r.rax & 0xff));
	libvm_vm_destroy(vm);
}

/* ---- an ending from a handler that then fails ---- */

static int end_then_fail(libvm_vcpu *v, uint64_t a, void *d, uint32_t l, bool w, void *o)
{
	libvm_vcpu_end_run(v, LIBVM_EXIT_POWEROFF, 0);
	return -EIO;
}

static void test_failed_handler_end_not_kept(void)
{
	static const unsigned char code[] = { 0xe6, 0x10, 0xf4 }; /* out 0x10, al; hlt */
	libvm_vm *vm;
	libvm_vcpu *v;
	libvm_exit ex;
	int r;

	if (guest(&vm, &v, code, sizeof(code)) ||
	    libvm_io_register(vm, LIBVM_SPACE_PIO, 0x10, 1, "fail", end_then_fail, NULL)) {
		REPORT(0, "set up the failing-handler guest");
		return;
	}
	r = libvm_vcpu_run(v, &ex);
	REPORT(r == -EIO && ex.reason == LIBVM_EXIT_DEVICE_ERROR,
	      "the handler's error ends the run (%d, reason %u)", r, ex.reason);
	/* Resume past the OUT: the next run must reach the HLT. */
	r = libvm_vcpu_run(v, &ex);
	REPORT(r == 0 && ex.reason == LIBVM_EXIT_HLT,
	      "the ending it asked for does not end the next run (reason %u, want HLT)", ex.reason);
	libvm_vm_destroy(vm);
}

/* ---- libvm_vcpu_set_msrs() refused part-way ---- */

#define MSR_SYSENTER_CS 0x174
#define MSR_APIC_BASE 0x1b

static void test_set_msrs_all_or_nothing(void)
{
	static const unsigned char code[] = { 0xf4 };
	libvm_vm *vm;
	libvm_vcpu *v;
	libvm_msr cs = { .index = MSR_SYSENTER_CS }, apic = { .index = MSR_APIC_BASE };
	/* The second is readable but this value is not (reserved bits). */
	libvm_msr set[2] = { { .index = MSR_SYSENTER_CS, .value = 0x1234 },
			     { .index = MSR_APIC_BASE, .value = 0xfffffffffffff000ull } };
	libvm_msr unknown[2] = { { .index = MSR_SYSENTER_CS, .value = 0x5678 },
				 { .index = 0xdeadbeef, .value = 1 } };
	uint64_t before;
	int r;

	if (guest(&vm, &v, code, sizeof(code)) || libvm_vcpu_get_msrs(v, &cs, 1) ||
	    libvm_vcpu_get_msrs(v, &apic, 1)) {
		REPORT(0, "set up the MSR guest");
		if (vm)
			libvm_vm_destroy(vm);
		return;
	}
	before = cs.value;
	r = libvm_vcpu_set_msrs(v, set, 2);
	REPORT(r == -EPERM && strstr(libvm_error_message(), "0x1b") &&
		      strstr(libvm_error_message(), "put back"),
	      "a refused value for the second MSR fails the call (%d)", r);
	libvm_vcpu_get_msrs(v, &cs, 1);
	REPORT(cs.value == before, "and the first MSR keeps its value (0x%llx, was 0x%llx)",
	      (unsigned long long)cs.value, (unsigned long long)before);
	r = libvm_vcpu_set_msrs(v, unknown, 2);
	libvm_vcpu_get_msrs(v, &cs, 1);
	REPORT(r == -EPERM && cs.value == before,
	      "an MSR the backend does not know fails the call before anything is written (%d)", r);
	REPORT(libvm_vcpu_set_msrs(v, set, 1) == 0 && libvm_vcpu_get_msrs(v, &cs, 1) == 0 &&
		      cs.value == 0x1234,
	      "the first alone is accepted (0x%llx)", (unsigned long long)cs.value);
	libvm_vm_destroy(vm);
}

/* ---- libvm_io_register() while handlers overlap ---- */

#define BUSY_VCPUS 4

static atomic_bool quit;

static int slow_port(libvm_vcpu *v, uint64_t a, void *d, uint32_t l, bool w, void *o)
{
	struct timespec ts = { 0, 2 * 1000 * 1000 }; /* a device that takes 2 ms */

	nanosleep(&ts, NULL);
	if (atomic_load(&quit))
		libvm_vcpu_end_run(v, LIBVM_EXIT_GUEST_EXIT, 1);
	return 0;
}

static int nop_port(libvm_vcpu *v, uint64_t a, void *d, uint32_t l, bool w, void *o)
{
	return 0;
}

static void *busy_vcpu(void *arg)
{
	libvm_exit ex;

	libvm_vcpu_run(arg, &ex);
	return NULL;
}

static void *watchdog(void *arg)
{
	/* Without the fix the registration waits for this to end the runs. */
	for (int i = 0; i < 100 && !atomic_load(&quit); i++)
		usleep(100 * 1000);
	atomic_store(&quit, true);
	return NULL;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void test_register_while_handlers_overlap(void)
{
	static const unsigned char code[] = { 0xe6, 0x10, 0xeb, 0xfc }; /* 1: out 0x10, al; jmp 1b */
	libvm_vm *vm;
	libvm_vcpu *v[BUSY_VCPUS];
	pthread_t t[BUSY_VCPUS], w;
	double t0, took;
	bool late;
	int r, n = 0;

	if (guest(&vm, NULL, code, sizeof(code)) ||
	    libvm_io_register(vm, LIBVM_SPACE_PIO, 0x10, 1, "slow", slow_port, NULL)) {
		REPORT(0, "set up the busy guest");
		return;
	}
	atomic_store(&quit, false);
	for (; n < BUSY_VCPUS; n++) {
		if (libvm_vcpu_create(&v[n], vm, (uint32_t)n) || start_at(v[n], CODE_GPA))
			break;
		pthread_create(&t[n], NULL, busy_vcpu, v[n]);
		usleep(500); /* their handlers overlap */
	}
	usleep(100 * 1000);
	pthread_create(&w, NULL, watchdog, NULL);
	t0 = now();
	r = libvm_io_register(vm, LIBVM_SPACE_PIO, 0x20, 1, "new", nop_port, NULL);
	took = now() - t0;
	late = atomic_load(&quit);
	atomic_store(&quit, true);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	pthread_join(w, NULL);
	/* A handler takes 2 ms; 10 s is the watchdog. 3 s leaves room for a
	 * loaded machine while the defect shows as 10 s. */
	REPORT(n == BUSY_VCPUS && r == 0 && !late && took < 3.0,
	      "libvm_io_register() got in after %.3f s while %d vCPUs kept calling a 2 ms handler",
	      took, n);
	libvm_vm_destroy(vm);
}

/* ---- each vCPU's APIC ids in CPUID ---- */

static int report_port(libvm_vcpu *v, uint64_t a, void *d, uint32_t l, bool w, void *o)
{
	memcpy(o, d, 4);
	return libvm_vcpu_end_run(v, LIBVM_EXIT_GUEST_EXIT, 1);
}

/* CPUID leaf @leaf (subleaf 0) as vCPU @id sees it: @reg's value. */
static int cpuid_in_guest(uint32_t id, uint8_t leaf, uint8_t reg, uint32_t *value)
{
	/* mov eax, leaf; xor ecx, ecx; cpuid; mov eax, reg; out 0x10, eax */
	unsigned char code[] = { 0x66, 0xb8, leaf, 0, 0, 0, 0x66, 0x31, 0xc9, 0x0f, 0xa2,
				 0x66, 0x89, (unsigned char)(0xc0 | (reg << 3)), 0x66, 0xe7, 0x10,
				 0xf4 };
	libvm_vm *vm;
	libvm_vcpu *v[2];
	libvm_exit ex;
	int err = guest(&vm, NULL, code, sizeof(code));

	if (err)
		return err;
	for (uint32_t i = 0; i <= id && !err; i++)
		err = libvm_vcpu_create(&v[i], vm, i);
	if (!err)
		err = libvm_io_register(vm, LIBVM_SPACE_PIO, 0x10, 4, "report", report_port, value);
	if (!err)
		err = start_at(v[id], CODE_GPA);
	if (!err)
		err = libvm_vcpu_run(v[id], &ex);
	if (!err && ex.reason != LIBVM_EXIT_GUEST_EXIT)
		err = -EIO;
	libvm_vm_destroy(vm);
	return err;
}

#define REG_EBX 3

static void test_cpuid_apic_ids(void)
{
	uint32_t ebx = 0;

	REPORT(cpuid_in_guest(1, 1, REG_EBX, &ebx) == 0 && ebx >> 24 == 1,
	       "vCPU 1 reads initial APIC id %u in CPUID leaf 1", ebx >> 24);
}

/* ---- a file-backed region longer than its file ---- */

static void test_region_past_end_of_file(void)
{
	libvm_vm *vm;
	libvm_region_options o = LIBVM_REGION_OPTIONS_INIT;
	uint8_t byte;
	int fd = memfd_create("libvm-test", MFD_CLOEXEC), r;

	if (fd < 0 || ftruncate(fd, 0x1000) || libvm_vm_create(&vm, NULL)) {
		REPORT(0, "set up the file-backed region");
		if (fd >= 0)
			close(fd);
		return;
	}
	o.gpa = 0;
	o.length = 0x10000;
	o.fd = fd;
	r = libvm_region_map(NULL, vm, &o);
	REPORT(r == -EINVAL && strstr(libvm_error_message(), "past the end of the file"),
	      "a 64 KiB region on a 4 KiB file is refused (%d)", r);
	REPORT(libvm_mem_read(vm, 0x8000, &byte, 1) == -EFAULT,
	      "and nothing is mapped there (libvm_mem_read() gives -EFAULT, no SIGBUS)");
	o.length = 0x1000;
	r = libvm_region_map(NULL, vm, &o);
	REPORT(r == 0 && libvm_mem_read(vm, 0xfff, &byte, 1) == 0,
	      "the file's own 4 KiB map and read (%d)", r);
	libvm_vm_destroy(vm);
	close(fd);
}

int main(void)
{
	libvm_vm_destroy(vm_or_skip());
	test_create_vs_stop();
	test_served_in_is_completed(STOP);
	test_served_in_is_completed(END);
	test_failed_handler_end_not_kept();
	test_set_msrs_all_or_nothing();
	test_register_while_handlers_overlap();
	test_region_past_end_of_file();
	test_cpuid_apic_ids();
	printf("%s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
	return failures ? 1 : 0;
}
