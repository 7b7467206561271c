/* SPDX-License-Identifier: MIT */
/*
 * The snapshot's encoding of a whole vCPU and of the VM's own state
 * (vmstate.c; docs/snapshot.md lists the records): tagged records of
 * KVM's structs, checked before anything is applied and applied in the
 * order the state depends on.
 */
#ifndef LIBVM_VMSTATE_H
#define LIBVM_VMSTATE_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

struct libvm_state_writer;

/* Record tags of a "vcpu" section (version 1). */
enum {
	LIBVM__VCPU_REC_REGS = 1,      /* struct kvm_regs */
	LIBVM__VCPU_REC_SREGS = 2,     /* struct kvm_sregs */
	LIBVM__VCPU_REC_FPU = 3,       /* struct kvm_fpu, without XSAVE */
	LIBVM__VCPU_REC_XSAVE = 4,     /* the XSAVE area, its backend's size */
	LIBVM__VCPU_REC_XCRS = 5,      /* struct kvm_xcrs */
	LIBVM__VCPU_REC_MSRS = 6,      /* u32 n, then n x (u32 index, u32 0, u64 value) */
	LIBVM__VCPU_REC_LAPIC = 7,     /* struct kvm_lapic_state */
	LIBVM__VCPU_REC_EVENTS = 8,    /* struct kvm_vcpu_events */
	LIBVM__VCPU_REC_MP_STATE = 9,  /* struct kvm_mp_state */
	LIBVM__VCPU_REC_DEBUGREGS = 10, /* struct kvm_debugregs */
};

/* Record tags of the "vm" section (version 1). */
enum {
	LIBVM__VM_REC_PIC_MASTER = 1,  /* struct kvm_irqchip, chip 0 */
	LIBVM__VM_REC_PIC_SLAVE = 2,   /* chip 1 */
	LIBVM__VM_REC_IOAPIC = 3,      /* chip 2 */
	LIBVM__VM_REC_PIT = 4,         /* struct kvm_pit_state2 */
	LIBVM__VM_REC_CLOCK = 5,       /* struct kvm_clock_data */
	LIBVM__VM_REC_MSI_ROUTES = 6,  /* u32 n, then n x (u32 gsi, u32 data, u64 addr) */
	LIBVM__VM_REC_PIT_DONE = 7,    /* u32: bit 0, channel 0's one-shot count has run out */
};

#define LIBVM__REC_MAX 16

/* The VM's state is applied in three steps of a restore (snapshot.c). */
enum libvm__vm_phase {
	LIBVM__VM_PHASE_ROUTES,  /* before the devices: their MSI-X vectors use them */
	LIBVM__VM_PHASE_IRQCHIP, /* after the devices have driven their lines again */
	LIBVM__VM_PHASE_CLOCK,   /* last, after the vCPUs */
};

uint32_t libvm__xsave_size(libvm_vm *vm);

int libvm__vcpu_state_save(libvm_vcpu *vcpu, struct libvm_state_writer *w);
/* Check a saved vCPU section against @vcpu's backend without applying it:
 * 0, or -EINVAL / -ENOTSUP with the message. */
int libvm__vcpu_state_check(libvm_vcpu *vcpu, const void *data, size_t len);
int libvm__vcpu_state_load(libvm_vcpu *vcpu, const void *data, size_t len);

int libvm__vm_state_save(libvm_vm *vm, struct libvm_state_writer *w);
int libvm__vm_state_check(libvm_vm *vm, const void *data, size_t len);
int libvm__vm_state_load(libvm_vm *vm, const void *data, size_t len, enum libvm__vm_phase phase);

#endif
