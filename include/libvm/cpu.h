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

/* ------------------------------------------------------------------ */
/* Hyper-V enlightenments                                              */
/* ------------------------------------------------------------------ */

/* Hyper-V features, QEMU's hv_* names (libvm_hyperv_parse()). */
#define LIBVM_HV_RELAXED (1u << 0)       /* hv_relaxed: relaxed timing recommended */
#define LIBVM_HV_VAPIC (1u << 1)         /* hv_vapic: APIC access MSRs */
#define LIBVM_HV_TIME (1u << 2)          /* hv_time: reference counter and TSC page */
#define LIBVM_HV_VPINDEX (1u << 3)       /* hv_vpindex: VP index MSR */
#define LIBVM_HV_RUNTIME (1u << 4)       /* hv_runtime: VP runtime MSR */
#define LIBVM_HV_SYNIC (1u << 5)         /* hv_synic: synthetic interrupt controller */
#define LIBVM_HV_STIMER (1u << 6)        /* hv_stimer: synthetic timers */
#define LIBVM_HV_STIMER_DIRECT (1u << 7) /* hv_stimer_direct: timers in direct mode */
#define LIBVM_HV_RESET (1u << 8)         /* hv_reset: reset MSR */
#define LIBVM_HV_FREQUENCIES (1u << 9)   /* hv_frequencies: TSC/APIC frequency MSRs */
#define LIBVM_HV_CRASH (1u << 10)        /* hv_crash: guest crash MSRs */

/**
 * libvm_hyperv_parse() - "hv_relaxed,hv_time,..." (or "all") to LIBVM_HV_*.
 * Returns: 0; -EINVAL for NULL arguments or an unknown name (named in the
 * message). Thread: any.
 */
LIBVM_EXPORT int libvm_hyperv_parse(const char *spec, uint32_t *features);

/** libvm_hyperv_feature_name() - the @i-th hv_* name, or NULL past the last. */
LIBVM_EXPORT const char *libvm_hyperv_feature_name(uint32_t i);

/**
 * libvm_vcpu_enable_hyperv() - offer Hyper-V enlightenments to a vCPU's
 * guest. Call after its CPUID is set (libvm_vcpu_set_cpuid() replaces
 * these leaves) and before it runs; called again, the new @features
 * replace the old.
 * @vcpu:     the vCPU.
 * @features: LIBVM_HV_* flags; SynIC needs VP index, synthetic timers
 *            SynIC and hv_time, direct mode the timers.
 *
 * Leaves 0x40000000 - 0x40000007 come from the backend's supported
 * Hyper-V CPUID with the feature and recommendation bits kept to
 * @features (plus the hypercall MSRs every feature uses); KVM's own leaves
 * move to 0x40000100. With LIBVM_HV_SYNIC, SynIC is enabled on the vCPU
 * (KVM_CAP_HYPERV_SYNIC2). The guest's writes to the SynIC control MSRs
 * and the hypercalls the backend leaves to userspace (HvPostMessage,
 * HvSignalEvent without an eventfd) come back from libvm_vcpu_run() as
 * LIBVM_EXIT_HYPERV; libvm_vm_run() resumes after them, hypercalls
 * answered HV_STATUS_INVALID_HYPERCALL_CODE (2) unless the VMM set a
 * result with libvm_vcpu_hyperv_result().
 * Thread: the vCPU's. Returns: 0; -EINVAL for NULL, unknown flags or a
 * missing dependency; -ENOTSUP when the backend has no Hyper-V CPUID or
 * lacks an asked feature (the message says which bits); the backend's
 * error.
 */
LIBVM_EXPORT int libvm_vcpu_enable_hyperv(libvm_vcpu *vcpu, uint32_t features);

/**
 * libvm_vcpu_hyperv_result() - the result of the Hyper-V hypercall whose
 * LIBVM_EXIT_HYPERV (type LIBVM_HYPERV_HCALL) the last run returned; the
 * guest sees it in RAX when the vCPU runs again.
 * Returns: 0; -EINVAL for NULL or when the last exit was not a hypercall.
 */
LIBVM_EXPORT int libvm_vcpu_hyperv_result(libvm_vcpu *vcpu, uint64_t result);

#ifdef __cplusplus
}
#endif

#endif /* LIBVM_CPU_H */
