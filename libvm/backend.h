/* SPDX-License-Identifier: MIT */
/*
 * The backend layer: everything libvm asks of a hypervisor goes through one
 * table of operations, struct libvm__backend, picked when the VM is
 * created. No other file of the library calls ioctl() on a hypervisor fd.
 *
 *   backend_kvm.c   the KVM ioctl ABI: /dev/kvm, and our /dev/vmm (which
 *                   speaks a subset of it)
 *   backend_fake.c  no kernel at all: answers from a configuration and
 *                   records what it was asked, so that unit tests create
 *                   VMs through the real libvm_vm_create() (device path
 *                   "fake" or "fake:KEY=VALUE,...", see backend_fake.h)
 *
 * The operations keep KVM's structs (<linux/kvm.h>) as their arguments: both
 * real backends speak that ABI, and the public API never shows them.
 *
 * Adding an operation that takes one pointer argument (most do: XSAVE,
 * LAPIC state, vCPU events, guest debug, ...) is one line in
 * LIBVM__BACKEND_VM_OPS or LIBVM__BACKEND_VCPU_OPS: X(name, KVM ioctl,
 * argument type). That declares the table entry, gives the KVM backend its
 * implementation (the ioctl on the VM or vCPU fd) and callers an inline
 * libvm__bk_NAME(vm or vcpu, arg) (internal.h). The fake answers -ENOTTY (as KVM does
 * for an ioctl it does not know) until backend_fake.c learns the operation.
 *
 * Return convention of every operation: the ioctl's result (>= 0: 0, a
 * count, a flag) or a negative errno. Operations do not set the thread's
 * error message (callers say what they were doing), except vm_open and
 * vcpu_create/vcpu_map, which have several ways to fail and say which.
 */
#ifndef LIBVM_BACKEND_H
#define LIBVM_BACKEND_H

#include <stdint.h>

#include <linux/kvm.h>

typedef struct libvm_vm libvm_vm;
typedef struct libvm_vcpu libvm_vcpu;

/* X(name, KVM request, argument type): operations on a VM. */
#define LIBVM__BACKEND_VM_OPS(X)                                                       \
	X(set_user_memory_region, KVM_SET_USER_MEMORY_REGION,                          \
	  const struct kvm_userspace_memory_region)                                    \
	X(create_irqchip, KVM_CREATE_IRQCHIP, void)                                    \
	X(create_pit2, KVM_CREATE_PIT2, const struct kvm_pit_config)                   \
	X(irq_line, KVM_IRQ_LINE, const struct kvm_irq_level)                          \
	X(signal_msi, KVM_SIGNAL_MSI, const struct kvm_msi)                            \
	X(set_gsi_routing, KVM_SET_GSI_ROUTING, const struct kvm_irq_routing)          \
	X(irqfd, KVM_IRQFD, const struct kvm_irqfd)                                    \
	X(ioeventfd, KVM_IOEVENTFD, const struct kvm_ioeventfd)                        \
	X(register_coalesced_mmio, KVM_REGISTER_COALESCED_MMIO,                        \
	  const struct kvm_coalesced_mmio_zone)                                        \
	X(unregister_coalesced_mmio, KVM_UNREGISTER_COALESCED_MMIO,                    \
	  const struct kvm_coalesced_mmio_zone)

/* X(name, KVM request, argument type): operations on a vCPU. */
#define LIBVM__BACKEND_VCPU_OPS(X)                                                     \
	X(get_regs, KVM_GET_REGS, struct kvm_regs)                                     \
	X(set_regs, KVM_SET_REGS, const struct kvm_regs)                               \
	X(get_sregs, KVM_GET_SREGS, struct kvm_sregs)                                  \
	X(set_sregs, KVM_SET_SREGS, const struct kvm_sregs)                            \
	X(get_fpu, KVM_GET_FPU, struct kvm_fpu)                                        \
	X(set_fpu, KVM_SET_FPU, const struct kvm_fpu)                                  \
	X(get_msrs, KVM_GET_MSRS, struct kvm_msrs)                                     \
	X(set_msrs, KVM_SET_MSRS, const struct kvm_msrs)                               \
	X(set_cpuid2, KVM_SET_CPUID2, const struct kvm_cpuid2)                         \
	X(get_cpuid2, KVM_GET_CPUID2, struct kvm_cpuid2)                               \
	X(get_supported_hv_cpuid, KVM_GET_SUPPORTED_HV_CPUID, struct kvm_cpuid2)       \
	X(enable_cap, KVM_ENABLE_CAP, const struct kvm_enable_cap)                     \
	X(get_lapic, KVM_GET_LAPIC, struct kvm_lapic_state)                            \
	X(set_lapic, KVM_SET_LAPIC, const struct kvm_lapic_state)                      \
	X(set_mp_state, KVM_SET_MP_STATE, const struct kvm_mp_state)                   \
	X(set_guest_debug, KVM_SET_GUEST_DEBUG, const struct kvm_guest_debug)

struct libvm__backend {
	const char *name;

	/*
	 * Open @path and create the VM: sets vm->bk (the backend's own state)
	 * and the message on failure. vm_close releases what vm_open made,
	 * also after a half-done open (vm->bk may then be NULL).
	 */
	int (*vm_open)(libvm_vm *vm, const char *path);
	void (*vm_close)(libvm_vm *vm);
	/* KVM_CHECK_EXTENSION: the answer (>= 0; 0 for "no" and unknown). */
	int (*check_extension)(const libvm_vm *vm, long ext);
	/* KVM_GET_SUPPORTED_CPUID into @c (c->nent in: capacity; -E2BIG). */
	int (*get_supported_cpuid)(const libvm_vm *vm, struct kvm_cpuid2 *c);
	/* A number naming the device, for caching its answers per device
	 * across VMs; -ENOENT when there is none (no caching). */
	int (*device_id)(const libvm_vm *vm, uint64_t *id);
	int (*set_tss_addr)(libvm_vm *vm, uint64_t addr);

	/*
	 * vcpu_create makes vCPU vcpu->id in the backend (the backend counts
	 * it from then on, even if the rest fails); vcpu_map then sets
	 * vcpu->run, the shared struct kvm_run. vcpu_destroy undoes whatever
	 * of the two was done.
	 */
	int (*vcpu_create)(libvm_vcpu *vcpu);
	int (*vcpu_map)(libvm_vcpu *vcpu);
	void (*vcpu_destroy)(libvm_vcpu *vcpu);
	/* KVM_RUN: 0 with vcpu->run describing the exit, or -EINTR/-EAGAIN
	 * (interrupted: a signal or immediate_exit), or another -errno. */
	int (*vcpu_run)(libvm_vcpu *vcpu);
	/* The VM's coalesced-I/O ring, which KVM maps at page @page of each
	 * vCPU's mapping (KVM_CAP_COALESCED_MMIO's answer), or NULL when the
	 * mapping does not reach it. May be NULL (no ring). */
	void *(*vcpu_coalesced_ring)(libvm_vcpu *vcpu, uint32_t page);

#define LIBVM__BK_VM_MEMBER(name, req, type) int (*name)(libvm_vm *vm, type *arg);
#define LIBVM__BK_VCPU_MEMBER(name, req, type) int (*name)(libvm_vcpu *vcpu, type *arg);
	LIBVM__BACKEND_VM_OPS(LIBVM__BK_VM_MEMBER)
	LIBVM__BACKEND_VCPU_OPS(LIBVM__BK_VCPU_MEMBER)
#undef LIBVM__BK_VM_MEMBER
#undef LIBVM__BK_VCPU_MEMBER
};

extern const struct libvm__backend libvm__backend_kvm;
extern const struct libvm__backend libvm__backend_fake;

#endif
