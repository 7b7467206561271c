/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the device tests: a VM with only its device buses (no
 * backend, no KVM), a vCPU shell for handlers that end a run, and guest
 * port accesses dispatched through the real bus.
 */
#ifndef DEVTEST_H
#define DEVTEST_H

#include <stdlib.h>

#include <libvm/devices.h>

#include "internal.h"

static inline libvm_vm *devtest_vm(void)
{
	libvm_vm *vm = calloc(1, sizeof(*vm));

	if (!vm)
		abort();
	vm->sys_fd = vm->vm_fd = -1;
	libvm__iobus_init(vm);
	return vm;
}

static inline void devtest_vm_free(libvm_vm *vm)
{
	/* As libvm_vm_destroy() does: release devices still attached. */
	while (vm->owned) {
		struct libvm__owned *o = vm->owned;

		vm->owned = o->next;
		o->release(o->obj);
		free(o);
	}
	libvm__iobus_fini(vm);
	free(vm);
}

/* A vCPU that only a handler's libvm_vcpu_end_run() will touch. */
static inline libvm_vcpu *devtest_vcpu(libvm_vm *vm)
{
	libvm_vcpu *vcpu = calloc(1, sizeof(*vcpu));

	if (!vcpu)
		abort();
	vcpu->vm = vm;
	return vcpu;
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
