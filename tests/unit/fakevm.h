/* SPDX-License-Identifier: MIT */
/*
 * The unit tests' VMs: real libvm VMs on the fake backend (see
 * libvm/backend_fake.h), made by libvm_vm_create(), so that everything
 * above the backend is the production code and no KVM is needed. A test
 * looks at what the backend was asked through libvm__fake_vm().
 */
#ifndef FAKEVM_H
#define FAKEVM_H

#include <stdio.h>
#include <stdlib.h>

#include "backend_fake.h"

/* A VM on "fake" or on "fake:@config" (NULL: the defaults). */
static inline libvm_vm *fakevm_new(const char *config)
{
	libvm_vm_options o = LIBVM_VM_OPTIONS_INIT;
	char path[256];
	libvm_vm *vm;

	snprintf(path, sizeof(path), "fake%s%s", config ? ":" : "", config ? config : "");
	o.device_path = path;
	if (libvm_vm_create(&vm, &o)) {
		fprintf(stderr, "fake VM '%s': %s\n", path, libvm_error_message());
		abort();
	}
	return vm;
}

/* Fresh RAM at @gpa, named @name. */
static inline libvm_region *fakevm_ram(libvm_vm *vm, uint64_t gpa, uint64_t length,
				       const char *name)
{
	libvm_region_options o = LIBVM_REGION_OPTIONS_INIT;
	libvm_region *r;

	o.gpa = gpa;
	o.length = length;
	o.name = name;
	if (libvm_region_map(&r, vm, &o)) {
		fprintf(stderr, "fake RAM '%s': %s\n", name, libvm_error_message());
		abort();
	}
	return r;
}

static inline libvm_vcpu *fakevm_vcpu(libvm_vm *vm, uint32_t id)
{
	libvm_vcpu *v;

	if (libvm_vcpu_create(&v, vm, id)) {
		fprintf(stderr, "fake vCPU %u: %s\n", id, libvm_error_message());
		abort();
	}
	return v;
}

/* The number of regions mapped in @vm. */
static inline uint32_t fakevm_nr_regions(libvm_vm *vm)
{
	uint32_t n = 0;

	if (libvm_vm_memory_map(vm, NULL, &n))
		abort();
	return n;
}

#endif
