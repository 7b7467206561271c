/* SPDX-License-Identifier: MIT */
/*
 * The misuse cases of issue 13 on a real VM (the unit test
 * tests/unit/core/test_misuse.c has each on the fake backend too), where
 * each of them used to end in a use-after-free:
 *
 * - libvm_vm_destroy() twice, libvm_vcpu_destroy() twice, running a
 *   destroyed vCPU, libvm_region_unmap() twice, libvm_uart_detach() after
 *   the VM's destroy: -EBADF or nothing, never freed memory;
 * - libvm_vm_destroy() from inside a device handler: -EDEADLK, and the run
 *   goes on;
 * - libvm_vm_destroy() while another thread runs the VM's vCPU (guest in
 *   a tight loop in the kernel): -EBUSY; after a stop it works;
 * - an MMIO device over RAM, and RAM over a device: -EEXIST.
 *
 * Guests are a few bytes of real-mode code. Exit: 0 pass, 1 fail, 77 no
 * usable KVM device. Run it under ASan for the proof (the test command's
 * sanitizer build does).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <libvm/devices.h>
#include <libvm/libvm.h>

#include "host_test.h"

#define CODE_GPA 0x1000

static int guest(libvm_vm **vm, libvm_vcpu **v, const void *code, size_t len)
{
	int err = libvm_vm_create(vm, NULL);

	if (err)
		return err;
	if ((err = libvm_region_map_ram(NULL, *vm, 0, 0x10000)) ||
	    (err = libvm_mem_write(*vm, CODE_GPA, code, len)) ||
	    (err = libvm_vcpu_create(v, *vm, 0)) || (err = start_at(*v, CODE_GPA))) {
		libvm_vm_destroy(*vm);
		*vm = NULL;
	}
	return err;
}

static void test_destroyed_handles(void)
{
	static const unsigned char hlt[] = { 0xf4 };
	libvm_vm *vm;
	libvm_vcpu *v;
	libvm_region *r;
	libvm_uart *u;
	libvm_exit ex;
	int before = failures;

	if (guest(&vm, &v, hlt, sizeof(hlt))) {
		CHECK(0, "VM set-up");
		return;
	}
	CHECK(libvm_region_map_ram(&r, vm, 0x100000, 0x1000) == 0, "map a region");
	CHECK(libvm_region_unmap(r) == 0, "unmap it");
	CHECK(libvm_region_unmap(r) == -EBADF, "a second unmap: -EBADF");
	CHECK(libvm_uart_attach(&u, vm, NULL) == 0, "attach a UART");
	CHECK(libvm_vcpu_run(v, &ex) == 0 && ex.reason == LIBVM_EXIT_HLT, "run to HLT");
	CHECK(libvm_vcpu_destroy(v) == 0, "destroy the vCPU");
	CHECK(libvm_vcpu_destroy(v) == -EBADF, "destroy it again: -EBADF");
	CHECK(libvm_vcpu_run(v, &ex) == -EBADF, "run the destroyed vCPU: -EBADF");
	CHECK(libvm_vm_destroy(vm) == 0, "destroy the VM");
	libvm_uart_detach(u); /* was: use after free */
	CHECK(libvm_uart_input(u, "x", 1) == -EBADF, "input to the UART of a destroyed VM");
	CHECK(libvm_vm_destroy(vm) == -EBADF, "destroy the VM again: -EBADF");
	REPORT(failures == before, "double destroy/unmap/detach and runs of destroyed vCPUs are refused");
}

static int destroy_own_vm(libvm_vcpu *v, uint64_t a, void *d, uint32_t l, bool w, void *o)
{
	*(int *)o = libvm_vm_destroy(libvm_vcpu_vm(v));
	return 0;
}

static void test_destroy_from_handler(void)
{
	static const unsigned char code[] = { 0xe6, 0x10, 0xf4 }; /* out 0x10, al; hlt */
	libvm_vm *vm;
	libvm_vcpu *v;
	libvm_exit ex;
	int err = 1, before = failures;

	if (guest(&vm, &v, code, sizeof(code))) {
		CHECK(0, "VM set-up");
		return;
	}
	CHECK(libvm_io_register(vm, LIBVM_SPACE_PIO, 0x10, 1, "destroyer", destroy_own_vm,
				&err) == 0, "register the handler");
	CHECK(libvm_vcpu_run(v, &ex) == 0 && ex.reason == LIBVM_EXIT_HLT,
	      "the run goes on to HLT (reason %u)", ex.reason);
	CHECK(libvm_vm_destroy(vm) == 0, "destroy after the run");
	REPORT(err == -EDEADLK && failures == before,
	       "libvm_vm_destroy() from the VM's own handler: %d (-EDEADLK expected)", err);
}

struct runner {
	libvm_vcpu *v;
	atomic_int err;
	libvm_exit ex;
	atomic_bool done;
};

static void *run(void *arg)
{
	struct runner *r = arg;

	atomic_store(&r->err, libvm_vcpu_run(r->v, &r->ex));
	atomic_store(&r->done, true);
	return NULL;
}

static void test_destroy_while_running(void)
{
	static const unsigned char spin[] = { 0xeb, 0xfe }; /* jmp $ */
	struct runner r = { 0 };
	libvm_vm *vm;
	pthread_t t;
	int err, before = failures;

	if (guest(&vm, &r.v, spin, sizeof(spin))) {
		CHECK(0, "VM set-up");
		return;
	}
	pthread_create(&t, NULL, run, &r);
	nanosleep(&(struct timespec){ 0, 50 * 1000 * 1000 }, NULL);
	err = libvm_vm_destroy(vm);
	CHECK(!atomic_load(&r.done), "the guest spins (it stopped with %d)", atomic_load(&r.err));
	CHECK(libvm_vcpu_destroy(r.v) == -EBUSY, "vCPU destroy while it runs: -EBUSY");
	libvm_vcpu_stop(r.v);
	pthread_join(t, NULL);
	CHECK(atomic_load(&r.err) == 0 && r.ex.reason == LIBVM_EXIT_STOPPED, "stopped");
	CHECK(libvm_vm_destroy(vm) == 0, "destroy after the stop");
	REPORT(err == -EBUSY && failures == before,
	       "libvm_vm_destroy() while another thread runs its vCPU: %d (-EBUSY expected)", err);
}

static int nop(libvm_vcpu *v, uint64_t a, void *d, uint32_t l, bool w, void *o)
{
	return 0;
}

static void test_mmio_over_ram(void)
{
	libvm_vm *vm;
	int a, b;

	if (libvm_vm_create(&vm, NULL) || libvm_region_map_ram(NULL, vm, 0, 0x10000)) {
		CHECK(0, "VM set-up");
		return;
	}
	a = libvm_io_register(vm, LIBVM_SPACE_MMIO, 0x8000, 0x1000, "dev", nop, NULL);
	CHECK(libvm_io_register(vm, LIBVM_SPACE_MMIO, 0x20000, 0x1000, "dev", nop, NULL) == 0,
	      "a device next to RAM");
	b = libvm_region_map_ram(NULL, vm, 0x20000, 0x1000);
	REPORT(a == -EEXIST && b == -EEXIST,
	       "an MMIO device over RAM (%d) and RAM over a device (%d): -EEXIST", a, b);
	libvm_vm_destroy(vm);
}

int main(void)
{
	libvm_vm_destroy(vm_or_skip());
	test_destroyed_handles();
	test_destroy_from_handler();
	test_destroy_while_running();
	test_mmio_over_ram();
	printf("%s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
	return failures ? 1 : 0;
}
