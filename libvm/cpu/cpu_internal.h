/* SPDX-License-Identifier: MIT */
/*
 * Private interface of the CPU models (cpuid.c): the table builder on a
 * plain supported-CPUID array, so vcpu.c's default and the unit tests use
 * the same code as libvm_cpuid_build().
 */
#ifndef LIBVM_CPU_INTERNAL_H
#define LIBVM_CPU_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <libvm/libvm.h>

/*
 * Fill @out (@nsup entries) with the CPUID of @spec over the backend's
 * supported table @sup; @deadline: the in-kernel LAPIC has TSC-deadline;
 * @backend names the device in messages. 0 or a negative errno.
 */
int libvm__cpuid_build(const libvm_cpuid_entry *sup, uint32_t nsup, bool deadline,
		       const char *spec, const char *backend, libvm_cpuid_entry *out);

/* The VM's in-kernel LAPIC offers TSC-deadline mode. */
bool libvm__cpu_deadline(libvm_vm *vm);

#endif
