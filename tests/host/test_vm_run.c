/* SPDX-License-Identifier: MIT */
/*
 * libvm_vm_run() and libvm_vm_stop() on a real VM: a stop racing the end of
 * a run is consumed by that run and leaves nothing pending for the next
 * one, and a device handler's own error message reaches the caller of
 * libvm_vm_run() through the vCPU thread that hit it.
 *
 * Guests are a few bytes of real-mode code, so the test needs nothing but
 * a usable KVM device. Exit: 0 pass, 1 fail, 77 no device.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libvm/libvm.h>

#include "host_test.h"

/* Many vCPUs make the stop's walk over them long enough to overlap the
 * end of the run it stops (the race this checks for). */
#define NR_VCPUS 32
#define ROUNDS 300
#define SPIN_GPA 0x1000 /* jmp $ */
#define EXIT_GPA 0x2000 /* out 0xf4, al */
#define FAIL_GPA 0x3000 /* out 0x99, al */

static int exit_port(libvm_vcpu *v, uint64_t a, void *d, uint32_t l, bool w, void *o)
{
	return libvm_vcpu_end_run(v, LIBVM_EXIT_GUEST_EXIT, 1);
}

static int failing_port(libvm_vcpu *v, uint64_t a, void *d, uint32_t l, bool w, void *o)
{
	/* A handler that explains itself, through the library's own message. */
	return libvm_mem_read(libvm_vcpu_vm(v), 0xdead0000, d, 1);
}

struct stopper {
	libvm_vm *vm;
	long delay_us;
};

static void *stopper_main(void *arg)
{
	struct stopper *s = arg;
	struct timespec ts = { 0, s->delay_us * 1000 };

	nanosleep(&ts, NULL);
	libvm_vm_stop(s->vm);
	return NULL;
}

int main(void)
{
	static const unsigned char spin[] = { 0xeb, 0xfe };
	static const unsigned char out_f4[] = { 0xe6, 0xf4, 0xf4 };
	static const unsigned char out_99[] = { 0xe6, 0x99, 0xf4 };
	libvm_vcpu *cpu[NR_VCPUS];
	libvm_vm *vm;
	libvm_exit ex;
	uint32_t id;
	int err = libvm_vm_create(&vm, NULL);

	if (err == -ENOENT || err == -EACCES) {
		printf("SKIP: %s\n", libvm_error_message());
		return 77;
	}
	if (err || libvm_region_map_ram(NULL, vm, 0, 0x10000) ||
	    libvm_mem_write(vm, SPIN_GPA, spin, sizeof(spin)) ||
	    libvm_mem_write(vm, EXIT_GPA, out_f4, sizeof(out_f4)) ||
	    libvm_mem_write(vm, FAIL_GPA, out_99, sizeof(out_99)) ||
	    libvm_io_register(vm, LIBVM_SPACE_PIO, 0xf4, 1, "exit", exit_port, NULL) ||
	    libvm_io_register(vm, LIBVM_SPACE_PIO, 0x99, 1, "failing", failing_port, NULL) ||
	    /* With the irqchip the other vCPUs wait for SIPI inside the
	     * kernel, so the run ends quickly after the first stop. */
	    libvm_irqchip_create(vm, 0)) {
		printf("FAIL: setup: %s\n", libvm_error_message());
		return 1;
	}
	for (int i = 0; i < NR_VCPUS; i++) {
		if (libvm_vcpu_create(&cpu[i], vm, (uint32_t)i)) {
			printf("FAIL: vCPU %d: %s\n", i, libvm_error_message());
			return 1;
		}
	}

	srand(42);
	for (int round = 0; round < ROUNDS && !failures; round++) {
		struct stopper s = { vm, rand() % 3000 };
		pthread_t t;

		/* vCPU 0 spins (the others wait for a SIPI): only the stop
		 * ends this run. */
		start_at(cpu[0], SPIN_GPA);
		pthread_create(&t, NULL, stopper_main, &s);
		err = libvm_vm_run(vm, NULL, &ex, &id);
		pthread_join(t, NULL);
		CHECK(err == 0 && ex.reason == LIBVM_EXIT_STOPPED,
		      "round %d: a stopped run returned %d, reason %u", round, err, ex.reason);
		/* vCPU 0 now leaves through the exit port: a stop left pending
		 * on any vCPU would end this run as STOPPED instead. */
		start_at(cpu[0], EXIT_GPA);
		err = libvm_vm_run(vm, NULL, &ex, &id);
		CHECK(err == 0 && ex.reason == LIBVM_EXIT_GUEST_EXIT && id == 0,
		      "round %d: the run after a stop returned %d, reason %u from vCPU %u "
		      "(a stop was left pending)", round, err, ex.reason, id);
	}
	if (!failures)
		printf("PASS: %d rounds of libvm_vm_stop racing libvm_vm_run, no stop left over\n",
		       ROUNDS);

	/* A failing handler: the error and its detail come back. */
	start_at(cpu[0], FAIL_GPA);
	err = libvm_vm_run(vm, NULL, &ex, &id);
	CHECK(err == -EFAULT && id == 0, "failing handler: run returned %d from vCPU %u", err, id);
	CHECK(ex.reason == LIBVM_EXIT_DEVICE_ERROR && ex.io.addr == 0x99,
	      "failing handler: exit reason %u at 0x%llx", ex.reason,
	      (unsigned long long)ex.io.addr);
	CHECK(strstr(libvm_error_message(), "vCPU 0") &&
	      strstr(libvm_error_message(), "port 0x99") &&
	      strstr(libvm_error_message(), "0xdead0000"),
	      "failing handler: the message lost the handler's detail: '%s'",
	      libvm_error_message());
	if (!failures)
		printf("PASS: the handler's message reached libvm_vm_run's caller: %s\n",
		       libvm_error_message());

	libvm_vm_destroy(vm);
	return failures ? 1 : 0;
}
