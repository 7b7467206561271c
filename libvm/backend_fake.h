/* SPDX-License-Identifier: MIT */
/*
 * The fake backend's state, for unit tests (no kernel behind it).
 *
 * libvm_vm_create() with device_path "fake" (or LIBVM_DEVICE=fake) makes a
 * VM on it; "fake:KEY=VALUE,..." changes what it offers:
 *
 *   max_vcpus=N  (8)     slots=N      (32)    routing=N (4096: KVM_CAP_IRQ_ROUTING)
 *   irqchip=0|1  (1)     pit=0|1      (1)     readonly=0|1    (1)
 *   irqfd=0|1    (1)     ioeventfd=0|1 (1)    msi=0|1         (1)
 *   immediate_exit=0|1 (1)   tsc_deadline=0|1 (1)
 *   cpuid=0|1    (1: reports a small supported CPUID: leaves 0, 1, 0x80000000)
 *   hyperv=0|1   (0; 1: KVM's leaves 0x40000000-1 in that CPUID, and Hyper-V:
 *                KVM_GET_SUPPORTED_HV_CPUID, SynIC through KVM_ENABLE_CAP)
 *
 * It behaves like KVM where libvm depends on it (a slot of size 0 deletes,
 * KVM_CREATE_IRQCHIP only before vCPUs, KVM_IRQ_LINE needs the irqchip,
 * immediate_exit makes KVM_RUN return -EINTR, ...) and records what it was
 * asked so that tests can check it: memory slots, pin levels, MSIs, the
 * routing table, irqfds, ioeventfds, registers, MSRs, CPUID. Every call of
 * every operation is counted, and any operation can be made to fail.
 *
 * A vCPU's KVM_RUN calls the test's run function when one is set (it fills
 * the run struct as KVM would: libvm__fake_exit_io()/_mmio() help), else
 * exits with KVM_EXIT_HLT. No guest code ever runs.
 */
#ifndef LIBVM_BACKEND_FAKE_H
#define LIBVM_BACKEND_FAKE_H

#include <pthread.h>
#include <stdbool.h>

#include "internal.h"

/* Every operation, for the call counters and the failure switches. */
enum libvm__fake_op {
	LIBVM__FAKE_vm_open,
	LIBVM__FAKE_check_extension,
	LIBVM__FAKE_get_supported_cpuid,
	LIBVM__FAKE_set_tss_addr,
	LIBVM__FAKE_vcpu_create,
	LIBVM__FAKE_vcpu_map,
	LIBVM__FAKE_vcpu_run,
#define LIBVM__FAKE_ENUM(name, req, type) LIBVM__FAKE_##name,
	LIBVM__BACKEND_VM_OPS(LIBVM__FAKE_ENUM)
	LIBVM__BACKEND_VCPU_OPS(LIBVM__FAKE_ENUM)
#undef LIBVM__FAKE_ENUM
	LIBVM__FAKE_NR_OPS
};

struct libvm__fake_config {
	uint32_t max_vcpus;
	uint32_t slots;
	uint32_t routing;
	bool irqchip, pit, readonly, irqfd, ioeventfd, msi, immediate_exit, tsc_deadline, cpuid;
	bool hyperv;
};

#define LIBVM__FAKE_MAX_FDS 64

/* Guarded by lock: operations may come from any thread. */
struct libvm__fake_vm {
	pthread_mutex_t lock;
	struct libvm__fake_config cfg;
	/* Calls of each operation (failed ones too), and what the next calls
	 * return instead of doing it: 0 for "work normally". */
	unsigned calls[LIBVM__FAKE_NR_OPS];
	int fail[LIBVM__FAKE_NR_OPS];

	struct kvm_userspace_memory_region slot[LIBVM__MAX_SLOTS]; /* memory_size 0: free */
	uint32_t vcpus_created;
	bool irqchip, pit;
	uint64_t tss_addr;

	uint8_t irq_level[24];       /* KVM_IRQ_LINE, per GSI */
	unsigned irq_changes;        /* calls that changed a level */
	unsigned msis;               /* KVM_SIGNAL_MSI calls delivered */
	struct kvm_msi last_msi;

	struct kvm_irq_routing_entry *routes; /* the last table set */
	uint32_t nr_routes;
	struct { int fd; uint32_t gsi; } irqfd[LIBVM__FAKE_MAX_FDS];
	uint32_t nr_irqfds;
	/* Tables that dropped a GSI an irqfd was still bound to (KVM allows
	 * it, the irqfd then raises nothing: libvm should never do it). */
	unsigned routes_dropped_under_irqfd;
	struct kvm_ioeventfd ioeventfd[LIBVM__FAKE_MAX_FDS];
	uint32_t nr_ioeventfds;
};

/* A test's KVM_RUN: fill @run (exit_reason and its member), return 0 or a
 * negative errno (-EINTR when interrupted). Called on the vCPU's thread. */
typedef int (*libvm__fake_run_fn)(libvm_vcpu *vcpu, struct kvm_run *run, void *opaque);

#define LIBVM__FAKE_MAX_MSRS 64

/* Owned by the vCPU's thread. */
struct libvm__fake_vcpu {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_fpu fpu;
	struct { uint32_t index; uint64_t data; } msr[LIBVM__FAKE_MAX_MSRS];
	uint32_t nr_msrs;
	uint32_t refuse_msr;         /* get/set stop at this index (0: none) */
	struct kvm_cpuid_entry2 cpuid[LIBVM__MAX_CPUID];
	uint32_t nr_cpuid;
	struct kvm_guest_debug debug;  /* the last KVM_SET_GUEST_DEBUG */
	libvm__fake_run_fn run_fn;
	void *run_opaque;
};

/* The fake state of a VM or vCPU, or NULL when it is not on the fake. */
struct libvm__fake_vm *libvm__fake_vm(libvm_vm *vm);
struct libvm__fake_vcpu *libvm__fake_vcpu(libvm_vcpu *vcpu);

/* Describe a port access exit in @run, as KVM does (data in the page after
 * the run struct); for an OUT @data holds size * count bytes. */
void libvm__fake_exit_io(struct kvm_run *run, uint16_t port, bool out, uint8_t size,
			 uint32_t count, const void *data);
/* Describe an MMIO exit in @run; for a write @data holds @len bytes. */
void libvm__fake_exit_mmio(struct kvm_run *run, uint64_t gpa, bool write, uint32_t len,
			   const void *data);
/* The port data of the exit in @run (where a handler put an IN's bytes). */
void *libvm__fake_io_data(struct kvm_run *run);

#endif
