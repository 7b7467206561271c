/* SPDX-License-Identifier: MIT */
/* See fake_vm.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "fake_vm.h"

libvm_vm *fake_vm_new(void)
{
	libvm_vm *vm = calloc(1, sizeof(*vm));

	if (!vm)
		abort();
	vm->sys_fd = vm->vm_fd = -1;
	vm->max_vcpus = 4;
	vm->nr_slots = 32;
	vm->has_readonly_mem = true;
	vm->kick_signal = SIGRTMIN;
	vm->device_path = strdup("fake");
	vm->vcpus = calloc(vm->max_vcpus, sizeof(*vm->vcpus));
	pthread_rwlock_init(&vm->mem_lock, NULL);
	pthread_mutex_init(&vm->vcpu_lock, NULL);
	libvm__iobus_init(vm);
	libvm__irqroutes_init(vm);
	return vm;
}

libvm_region *fake_vm_add_ram(libvm_vm *vm, uint64_t gpa, uint64_t length, const char *name)
{
	libvm_region *r = calloc(1, sizeof(*r));

	if (!r)
		abort();
	r->vm = vm;
	r->gpa = gpa;
	r->length = length;
	r->host = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r->host == MAP_FAILED)
		abort();
	r->owns_mapping = true;
	r->host_writable = true;
	snprintf(r->name, sizeof(r->name), "%s", name);
	if (libvm__rangemap_insert(&vm->regions, gpa, length, r, NULL))
		abort();
	return r;
}
