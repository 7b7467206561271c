/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the device tests: a VM and vCPU on the fake backend (no KVM),
 * and guest accesses dispatched through the real device bus, the way the
 * run loop dispatches an exit.
 */
#ifndef DEVTEST_H
#define DEVTEST_H

#include <libvm/devices.h>

#include "../fakevm.h"

/* A VM on the fake backend (@config: its keys, or NULL). */
static inline libvm_vm *devtest_vm_on(const char *config)
{
	return fakevm_new(config);
}

static inline libvm_vm *devtest_vm(void)
{
	return fakevm_new(NULL);
}

/* Destroying the VM releases the devices still attached and its vCPUs. */
static inline void devtest_vm_free(libvm_vm *vm)
{
	libvm_vm_destroy(vm);
}

/* vCPU 0 of @vm, for handlers that look at their vCPU or end its run. */
static inline libvm_vcpu *devtest_vcpu(libvm_vm *vm)
{
	return fakevm_vcpu(vm, 0);
}

/* A guest access; 1 handled, 0 nobody there, <0 handler error. */
static inline int devtest_io(libvm_vcpu *vcpu, enum libvm_space space, uint64_t addr,
			     void *data, uint32_t len, bool is_write)
{
	return libvm__iobus_dispatch(vcpu->vm, space, vcpu, addr, data, len, is_write);
}

static inline uint32_t devtest_in(libvm_vcpu *vcpu, uint16_t port, uint32_t len)
{
	uint32_t v = 0;

	if (devtest_io(vcpu, LIBVM_SPACE_PIO, port, &v, len, false) != 1)
		return 0xdeadbeef;
	return v;
}

static inline int devtest_out(libvm_vcpu *vcpu, uint16_t port, uint32_t v, uint32_t len)
{
	return devtest_io(vcpu, LIBVM_SPACE_PIO, port, &v, len, true);
}

#endif
