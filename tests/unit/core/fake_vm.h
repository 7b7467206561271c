/* SPDX-License-Identifier: MIT */
/*
 * A libvm_vm built by hand, with no backend behind it, so that the parts of
 * the library that need no KVM (region map, memory access, device buses,
 * argument checks) can be unit-tested anywhere.
 */
#ifndef FAKE_VM_H
#define FAKE_VM_H

#include "internal.h"

libvm_vm *fake_vm_new(void);
/* Insert a region straight into the map (no memory slot); returns it. */
libvm_region *fake_vm_add_ram(libvm_vm *vm, uint64_t gpa, uint64_t length, const char *name);

#endif
