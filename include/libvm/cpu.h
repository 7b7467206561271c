/* SPDX-License-Identifier: MIT */
/*
 * libvm CPU models: the CPUID a guest sees, built from a named model plus
 * features added or removed by name, checked against what the VM's backend
 * supports. Every vCPU libvm creates already gets the "host" model (all
 * the backend supports, the hypervisor bit, the backend's KVM paravirtual
 * leaves); call these to give it something else. docs/cpu.md lists the
 * models and feature names.
 */
#ifndef LIBVM_CPU_H
#define LIBVM_CPU_H

#include <libvm/libvm.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * libvm_cpuid_build() - the CPUID table of a CPU model.
 * @vm:      the VM; its backend's supported CPUID is the ceiling.
 * @spec:    "MODEL[,FEATURE]...": a model name ("host", "baseline",
 *           "x86-64-v2", "x86-64-v3"; libvm_cpu_model_name() lists them),
 *           then features by name, each "+name" or "name" or "name=on" to
 *           add it and "-name" or "name=off" to remove it, applied left to
 *           right. NULL or "" means "host".
 * @entries: array to fill, or NULL to ask for the count.
 * @count:   in: capacity of @entries; out: the number of entries.
 *
 * The table starts from the backend's supported CPUID. A model other than
 * "host" keeps only its own features in the feature leaves (1, 7, 0xd.1,
 * 0x80000001) and a conservative set of the KVM paravirtual features; the
 * vendor, family and cache leaves stay the host's. Every model sets the
 * hypervisor bit (CPUID.1:ECX[31]) and, when the VM has an in-kernel LAPIC
 * that emulates it, TSC-deadline; "-hypervisor" removes the bit. Features
 * a model needs, and features added, must be ones the backend supports
 * (or libvm provides, like "hypervisor"). The result can be given to
 * libvm_vcpu_set_cpuid() for each vCPU (which sets each one's APIC id).
 * Feature dependencies are not resolved: "-xsave" leaves "avx" as it is.
 *
 * Thread: any. Returns: 0; -EINVAL for NULL @vm/@count, an unknown model
 * or feature name, or bad syntax (the message names it); -ENOTSUP when the
 * backend does not report its CPUID, or lacks a feature the model needs or
 * the spec adds (the message names it); -E2BIG when @entries is too small
 * (@count holds the number needed); -ENOMEM.
 */
LIBVM_EXPORT int libvm_cpuid_build(libvm_vm *vm, const char *spec, libvm_cpuid_entry *entries,
				   uint32_t *count);

/**
 * libvm_cpu_model_name() - the @i-th model name, for help texts.
 * Returns: a static string, or NULL past the last one. Thread: any.
 */
LIBVM_EXPORT const char *libvm_cpu_model_name(uint32_t i);

/**
 * libvm_cpu_feature_name() - the @i-th feature name libvm_cpuid_build()
 * knows, for help texts. Returns: a static string, or NULL past the last.
 */
LIBVM_EXPORT const char *libvm_cpu_feature_name(uint32_t i);

#ifdef __cplusplus
}
#endif

#endif /* LIBVM_CPU_H */
