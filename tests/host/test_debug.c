/* SPDX-License-Identifier: MIT */
/*
 * Guest debugging on a real VM (include/libvm/debug.h):
 *
 * - a software breakpoint (an INT3 written over an instruction) ends the
 *   run with LIBVM_EXIT_DEBUG, exception 3, at its address, RIP on it;
 *   put the instruction back and the guest goes on;
 * - single-stepping ends each run after one instruction (DR6.BS);
 * - a hardware execution breakpoint stops before the instruction, a write
 *   watchpoint after the write (DR6 says which debug register);
 * - turning debugging off lets the guest run to its HLT;
 * - libvm_vcpu_translate() with paging off and with 4-level paging (a
 *   4 KiB and a 2 MiB page the test maps, a hole), as the backend says.
 *
 * Guests are a few bytes of real-mode code. With --traps, only the checks
 * that need the guest's INT3 and data accesses to trap (software
 * breakpoints, watchpoints). A check the KVM here is known not to support
 * (host_limits.h: QEMU TCG, kvm_pvm) skips with the reason; --limits
 * prints what is supported here for scripts (tests/vmrun/gdb.sh). A
 * backend without KVM_SET_GUEST_DEBUG (our vmm.ko) skips the whole test;
 * --unsupported instead checks that it says so properly: the capability
 * is 0, every kind of debugging is -ENOTSUP with a message, and the vCPU
 * still runs (tests/nested/bochs runs it on vmm-intel). Exit: 0 pass, 1
 * fail, 77 nothing to run here (no usable KVM device, or a host without
 * the feature).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <libvm/debug.h>
#include <libvm/libvm.h>

#include "host_limits.h"
#include "host_test.h"

#define CODE_GPA 0x1000

/*
 * 0x1000 mov ax, 1        b8 01 00
 * 0x1003 nop              90        (the software breakpoint goes here)
 * 0x1004 mov bx, 2        bb 02 00  (the hardware one here)
 * 0x1007 mov [0x2000], ax a3 00 20  (the watchpoint on 0x2000)
 * 0x100a hlt              f4
 */
static const unsigned char code[] = { 0xb8, 0x01, 0x00, 0x90, 0xbb, 0x02, 0x00,
				      0xa3, 0x00, 0x20, 0xf4 };

static int guest(libvm_vm **vm, libvm_vcpu **v)
{
	int err = libvm_vm_create(vm, NULL);

	if (err)
		return err;
	if ((err = libvm_region_map_ram(NULL, *vm, 0, 0x400000)) ||
	    (err = libvm_mem_write(*vm, CODE_GPA, code, sizeof(code))) ||
	    (err = libvm_vcpu_create(v, *vm, 0)) || (err = start_at(*v, CODE_GPA))) {
		libvm_vm_destroy(*vm);
		*vm = NULL;
	}
	return err;
}

static uint64_t rip(libvm_vcpu *v)
{
	libvm_regs r = { 0 };

	libvm_vcpu_get_regs(v, &r);
	return r.rip;
}

static int set_debug(libvm_vcpu *v, uint32_t flags, uint64_t addr, uint32_t type, uint32_t len)
{
	libvm_debug_options o = LIBVM_DEBUG_OPTIONS_INIT;

	o.flags = flags;
	if (flags & LIBVM_DEBUG_HW_BREAKPOINTS) {
		o.nr_hw = 1;
		o.hw[0] = (libvm_hw_breakpoint){ .addr = addr, .type = type, .len = len };
	}
	return libvm_vcpu_set_debug(v, &o);
}

static void test_sw_breakpoint(void)
{
	libvm_vm *vm;
	libvm_vcpu *v;
	libvm_exit ex;
	int before = failures, err;

	if (guest(&vm, &v)) {
		CHECK(0, "VM set-up");
		return;
	}
	err = set_debug(v, LIBVM_DEBUG_SW_BREAKPOINTS, 0, 0, 0);
	CHECK(err == 0, "set software breakpoints (%d)", err);
	libvm_mem_write(vm, CODE_GPA + 3, "\xcc", 1);
	CHECK(libvm_vcpu_run(v, &ex) == 0 && ex.reason == LIBVM_EXIT_DEBUG,
	      "the INT3 ends the run (reason %u)", ex.reason);
	CHECK(ex.debug.exception == 3 && ex.debug.pc == CODE_GPA + 3,
	      "exception %u at 0x%llx (3 at 0x1003 expected)", ex.debug.exception,
	      (unsigned long long)ex.debug.pc);
	CHECK(rip(v) == CODE_GPA + 3, "RIP 0x%llx stays on the INT3", (unsigned long long)rip(v));
	/* The instruction back; debugging off: the guest runs to its end. */
	libvm_mem_write(vm, CODE_GPA + 3, "\x90", 1);
	CHECK(libvm_vcpu_set_debug(v, NULL) == 0, "debugging off");
	CHECK(libvm_vcpu_run(v, &ex) == 0 && ex.reason == LIBVM_EXIT_HLT, "then runs to HLT");
	libvm_vm_destroy(vm);
	REPORT(failures == before, "software breakpoint: exit at the INT3, RIP on it, goes on after");
}

static void test_single_step(void)
{
	static const uint64_t after[] = { CODE_GPA + 3, CODE_GPA + 4, CODE_GPA + 7, CODE_GPA + 10 };
	libvm_vm *vm;
	libvm_vcpu *v;
	libvm_exit ex;
	int before = failures;

	if (guest(&vm, &v)) {
		CHECK(0, "VM set-up");
		return;
	}
	if (set_debug(v, LIBVM_DEBUG_SINGLESTEP, 0, 0, 0)) {
		CHECK(0, "set single-step");
		libvm_vm_destroy(vm);
		return;
	}
	for (int i = 0; i < 4; i++) {
		int err = libvm_vcpu_run(v, &ex);

		CHECK(err == 0 && ex.reason == LIBVM_EXIT_DEBUG && ex.debug.exception == 1 &&
		      (ex.debug.dr6 & (1u << 14)),
		      "step %d: reason %u, exception %u, DR6 0x%llx", i, ex.reason,
		      ex.debug.exception, (unsigned long long)ex.debug.dr6);
		CHECK(rip(v) == after[i], "step %d: RIP 0x%llx, 0x%llx expected", i,
		      (unsigned long long)rip(v), (unsigned long long)after[i]);
	}
	libvm_vm_destroy(vm);
	REPORT(failures == before, "single-step: one instruction per run, DR6.BS");
}

static void test_hw_breakpoint(void)
{
	libvm_vm *vm;
	libvm_vcpu *v;
	libvm_exit ex;
	int before = failures;

	if (guest(&vm, &v)) {
		CHECK(0, "VM set-up");
		return;
	}
	if (host_no_hw_breakpoints()) {
		printf("SKIP: hardware execution breakpoint: %s\n", host_no_hw_breakpoints());
		libvm_vm_destroy(vm);
		return;
	}
	CHECK(set_debug(v, LIBVM_DEBUG_HW_BREAKPOINTS, CODE_GPA + 4, LIBVM_HW_BREAKPOINT_EXEC, 1) == 0,
	      "an execution breakpoint at 0x1004");
	CHECK(libvm_vcpu_run(v, &ex) == 0 && ex.reason == LIBVM_EXIT_DEBUG &&
	      ex.debug.exception == 1 && (ex.debug.dr6 & 1) && rip(v) == CODE_GPA + 4,
	      "stops before 0x1004 (reason %u, exception %u, DR6 0x%llx, RIP 0x%llx)", ex.reason,
	      ex.debug.exception, (unsigned long long)ex.debug.dr6, (unsigned long long)rip(v));
	CHECK(libvm_vcpu_set_debug(v, NULL) == 0 && libvm_vcpu_run(v, &ex) == 0 &&
	      ex.reason == LIBVM_EXIT_HLT, "off: runs to HLT");
	libvm_vm_destroy(vm);
	REPORT(failures == before, "hardware execution breakpoint: stops before, DR6 bit 0");
}

static void test_watchpoint(void)
{
	libvm_vm *vm;
	libvm_vcpu *v;
	libvm_exit ex;
	uint16_t word = 0;
	int before = failures;

	if (guest(&vm, &v)) {
		CHECK(0, "VM set-up");
		return;
	}
	CHECK(set_debug(v, LIBVM_DEBUG_HW_BREAKPOINTS, 0x2000, LIBVM_HW_BREAKPOINT_WRITE, 2) == 0,
	      "a write watchpoint on 0x2000");
	CHECK(libvm_vcpu_run(v, &ex) == 0 && ex.reason == LIBVM_EXIT_DEBUG &&
	      ex.debug.exception == 1 && (ex.debug.dr6 & 1) && rip(v) == CODE_GPA + 10,
	      "stops after the write (reason %u, exception %u, DR6 0x%llx, RIP 0x%llx)", ex.reason,
	      ex.debug.exception, (unsigned long long)ex.debug.dr6, (unsigned long long)rip(v));
	libvm_mem_read(vm, 0x2000, &word, 2);
	CHECK(word == 1, "the write happened (0x%x)", word);
	CHECK(libvm_vcpu_set_debug(v, NULL) == 0 && libvm_vcpu_run(v, &ex) == 0 &&
	      ex.reason == LIBVM_EXIT_HLT, "off: runs to HLT");
	libvm_vm_destroy(vm);
	REPORT(failures == before, "write watchpoint: stops after the write, DR6 bit 0");
}

/* 4-level tables at 0x10000: 0x400000 -> 0x3000 (4 KiB), 0x40000000 ->
 * 0x200000 (2 MiB); CR3 = 0x10000, long mode set through the sregs. */
static void test_translate(void)
{
	uint64_t pml4 = 0x10000, pdpt = 0x11000, pd = 0x12000, pt = 0x13000, pd1 = 0x14000;
	uint64_t e;
	libvm_vm *vm;
	libvm_vcpu *v;
	libvm_sregs s;
	libvm_translation t;
	int before = failures;

	if (guest(&vm, &v)) {
		CHECK(0, "VM set-up");
		return;
	}
	CHECK(libvm_vcpu_translate(v, 0x12345, &t) == 0 && t.gpa == 0x12345,
	      "paging off: linear is physical (0x%llx)", (unsigned long long)t.gpa);
	e = pdpt | 7;
	libvm_mem_write(vm, pml4, &e, 8);
	e = pd | 7;
	libvm_mem_write(vm, pdpt, &e, 8);        /* 0 .. 1 GiB */
	e = pd1 | 7;
	libvm_mem_write(vm, pdpt + 8, &e, 8);    /* 1 .. 2 GiB */
	e = pt | 7;
	libvm_mem_write(vm, pd + 2 * 8, &e, 8);  /* 0x400000 */
	e = 0x3000 | 3;                          /* present, writable, supervisor */
	libvm_mem_write(vm, pt, &e, 8);
	e = 0x200000 | 0x80 | 7;                 /* a 2 MiB page */
	libvm_mem_write(vm, pd1, &e, 8);
	libvm_vcpu_get_sregs(v, &s);
	s.cr3 = pml4;
	s.cr4 |= 1u << 5;                        /* PAE */
	s.efer |= (1u << 8) | (1u << 10);        /* LME, LMA */
	s.cr0 |= 1u | (1u << 31);                /* PE, PG */
	s.cs.l = 1;
	s.cs.db = 0;
	CHECK(libvm_vcpu_set_sregs(v, &s) == 0, "long mode through the sregs");
	CHECK(libvm_vcpu_translate(v, 0x400123, &t) == 0 && t.gpa == 0x3123 && t.writable &&
	      !t.user, "a 4 KiB page: 0x400123 -> 0x%llx (w %u, u %u)",
	      (unsigned long long)t.gpa, t.writable, t.user);
	CHECK(libvm_vcpu_translate(v, 0x40012345, &t) == 0 && t.gpa == 0x212345 && t.user,
	      "a 2 MiB page: 0x40012345 -> 0x%llx", (unsigned long long)t.gpa);
	CHECK(libvm_vcpu_translate(v, 0x401000, &t) == -EFAULT, "a hole is -EFAULT");
	libvm_vm_destroy(vm);
	REPORT(failures == before, "GVA -> GPA with paging off and with 4-level paging");
}

/* KVM_CHECK_EXTENSION(KVM_CAP_SET_GUEST_DEBUG) on the VM's device. */
static int cap_guest_debug(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	r = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_GUEST_DEBUG);
	close(fd);
	return r < 0 ? -errno : r;
}

/*
 * A backend without guest debugging (our vmm.ko answers KVM_SET_GUEST_DEBUG
 * with -ENOTTY): the capability says 0 and libvm turns every request into
 * -ENOTSUP with a message, leaving the vCPU as it was.
 */
static void test_unsupported(void)
{
	static const uint32_t kinds[] = { LIBVM_DEBUG_SINGLESTEP, LIBVM_DEBUG_SW_BREAKPOINTS,
					  LIBVM_DEBUG_HW_BREAKPOINTS };
	libvm_vm *vm;
	libvm_vcpu *v;
	libvm_exit ex;
	int before = failures, cap;

	if (guest(&vm, &v)) {
		CHECK(0, "VM set-up");
		return;
	}
	cap = cap_guest_debug(libvm_vm_device_path(vm));
	CHECK(cap == 0, "%s: KVM_CAP_SET_GUEST_DEBUG is %d, 0 expected", libvm_vm_device_path(vm),
	      cap);
	for (unsigned int i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		int err = set_debug(v, kinds[i], CODE_GPA + 4, LIBVM_HW_BREAKPOINT_EXEC, 1);

		CHECK(err == -ENOTSUP && strstr(libvm_error_message(), "KVM_SET_GUEST_DEBUG"),
		      "debug flags 0x%x: %d (%s), -ENOTSUP expected", kinds[i], err,
		      libvm_strerror(err));
	}
	CHECK(libvm_vcpu_run(v, &ex) == 0 && ex.reason == LIBVM_EXIT_HLT,
	      "the vCPU still runs to its HLT (reason %u)", ex.reason);
	libvm_vm_destroy(vm);
	REPORT(failures == before,
	       "no guest debugging: capability 0, -ENOTSUP with a message, the vCPU unharmed");
}

/* 0 when this backend takes KVM_SET_GUEST_DEBUG, else libvm's error. */
static int debug_supported(void)
{
	libvm_vm *vm;
	libvm_vcpu *v;
	int err = guest(&vm, &v);

	if (err)
		return err;
	err = set_debug(v, LIBVM_DEBUG_SINGLESTEP, 0, 0, 0);
	libvm_vm_destroy(vm);
	return err;
}

int main(int argc, char **argv)
{
	bool traps = argc > 1 && !strcmp(argv[1], "--traps");
	bool unsupported = argc > 1 && !strcmp(argv[1], "--unsupported");

	if (argc > 1 && !strcmp(argv[1], "--limits")) {
		const char *hw = host_no_hw_breakpoints(), *t = host_no_debug_traps();

		printf("hw_breakpoints=%s%s\ntraps=%s%s\n", hw ? "no: " : "yes", hw ? hw : "",
		       t ? "no: " : "yes", t ? t : "");
		return 0;
	}

	libvm_vm *vm;
	int err = libvm_vm_create(&vm, NULL);

	if (err) {
		printf("SKIP: cannot create a VM: %s (%s)\n", libvm_strerror(err),
		       libvm_error_message());
		return 77;
	}
	libvm_vm_destroy(vm);
	if (unsupported) {
		test_unsupported();
		printf("%s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
		return failures ? 1 : 0;
	}
	err = debug_supported();
	if (err == -ENOTSUP) {
		printf("SKIP: no guest debugging here: %s\n", libvm_error_message());
		return 77;
	}
	if (traps) {
		if (host_no_debug_traps()) {
			printf("SKIP: %s\n", host_no_debug_traps());
			return 77;
		}
		test_sw_breakpoint();
		test_watchpoint();
	} else {
		test_single_step();
		test_hw_breakpoint();
		test_translate();
	}
	printf("%s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
	return failures ? 1 : 0;
}
