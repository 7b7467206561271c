/* SPDX-License-Identifier: MIT */
/*
 * Guest debugging: software and hardware breakpoints, single-stepping, and
 * the translation of guest-virtual addresses to guest-physical ones, for
 * debuggers and tracers built on libvm (vmrun's GDB stub is one).
 *
 * A debug event ends libvm_vcpu_run() (and libvm_vm_run()) with
 * LIBVM_EXIT_DEBUG; exit->debug says which: exception 3 for an INT3 the
 * guest executed (a software breakpoint: write 0xCC at the instruction's
 * physical address, found with libvm_vcpu_translate(); the vCPU's RIP
 * stays on the INT3), exception 1 for a single step (DR6.BS, bit 14) or a
 * hardware breakpoint (DR6 bit n for breakpoint n; an execution breakpoint
 * stops before the instruction, a data one after the access).
 */
#ifndef LIBVM_DEBUG_H
#define LIBVM_DEBUG_H

#include <libvm/libvm.h>

#ifdef __cplusplus
extern "C" {
#endif

/* libvm_debug_options.flags */
#define LIBVM_DEBUG_SINGLESTEP     (1u << 0) /* a debug exit after each instruction */
#define LIBVM_DEBUG_SW_BREAKPOINTS (1u << 1) /* INT3 exits instead of reaching the guest */
#define LIBVM_DEBUG_HW_BREAKPOINTS (1u << 2) /* arm @hw[0 .. nr_hw - 1] */

/* libvm_hw_breakpoint.type: what the debug register watches. */
enum libvm_hw_breakpoint_type {
	LIBVM_HW_BREAKPOINT_EXEC = 0,   /* executing the instruction at @addr (len 1) */
	LIBVM_HW_BREAKPOINT_WRITE = 1,  /* writes to [@addr, @addr + len) */
	LIBVM_HW_BREAKPOINT_ACCESS = 3, /* reads or writes */
};

/**
 * struct libvm_hw_breakpoint - one debug register.
 * @addr: the linear address (CS/DS base + offset; with paging, virtual).
 * @type: enum libvm_hw_breakpoint_type.
 * @len:  1, 2, 4 or 8 bytes, @addr aligned to it; 0 means 1. Execution
 *        breakpoints take 1.
 */
typedef struct libvm_hw_breakpoint {
	uint64_t addr;
	uint32_t type;
	uint32_t len;
} libvm_hw_breakpoint;

#define LIBVM_MAX_HW_BREAKPOINTS 4

/**
 * struct libvm_debug_options - a vCPU's debugging state.
 * @size:  sizeof(libvm_debug_options); set by the INIT macro.
 * @flags: LIBVM_DEBUG_* flags; 0 turns debugging off.
 * @nr_hw: breakpoints in @hw, 0 .. LIBVM_MAX_HW_BREAKPOINTS.
 * @hw:    the hardware breakpoints (with LIBVM_DEBUG_HW_BREAKPOINTS).
 */
typedef struct libvm_debug_options {
	size_t size;
	uint32_t flags;
	uint32_t nr_hw;
	libvm_hw_breakpoint hw[LIBVM_MAX_HW_BREAKPOINTS];
} libvm_debug_options;

#define LIBVM_DEBUG_OPTIONS_INIT LIBVM__OPTIONS_INIT(libvm_debug_options, libvm_debug_options_init)

/** libvm_debug_options_init() - the defaults (debugging off); see libvm_vm_options_init(). */
LIBVM_EXPORT int libvm_debug_options_init(libvm_debug_options *opts, size_t size);

/**
 * libvm_vcpu_set_debug() - set what makes @vcpu's runs end with
 * LIBVM_EXIT_DEBUG (KVM_SET_GUEST_DEBUG). It replaces the previous state;
 * each vCPU has its own.
 * @vcpu: the vCPU, not running.
 * @opts: the state, or NULL to turn debugging off.
 *
 * While hardware breakpoints are set the guest's own debug registers are
 * not in effect (the debugger owns them). Thread: the vCPU's.
 * Returns: 0; -EINVAL for unknown flags or types, a bad length or
 * alignment, more than 4 breakpoints, or @nr_hw without the flag;
 * -ENOTSUP when the backend cannot debug guests; the backend's error.
 */
LIBVM_EXPORT int libvm_vcpu_set_debug(libvm_vcpu *vcpu, const libvm_debug_options *opts);

/**
 * struct libvm_translation - where a guest-virtual address leads.
 * @gpa:      the guest-physical address.
 * @writable: the guest may write there (every level's R/W bit).
 * @user:     user mode may access it (every level's U/S bit).
 */
typedef struct libvm_translation {
	uint64_t gpa;
	uint8_t writable;
	uint8_t user;
	uint8_t reserved[6];
} libvm_translation;

/**
 * libvm_vcpu_translate() - translate linear address @gva the way @vcpu's
 * MMU would now (its CR0, CR3, CR4 and EFER): no paging, 32-bit paging
 * (4 MiB pages with PSE), PAE, 4- and 5-level paging with large pages.
 * @vcpu: the vCPU (not running).
 * @gva:  the linear address.
 * @out:  receives the translation.
 *
 * libvm walks the guest's page tables in guest memory itself (KVM's
 * KVM_TRANSLATE reports no permissions; the walk is the same on every
 * backend). Thread: the vCPU's.
 * Returns: 0; -EFAULT when @gva is not mapped (not present, not canonical,
 * or a table outside guest memory; the message says where the walk
 * stopped); -EINVAL for NULL arguments.
 */
LIBVM_EXPORT int libvm_vcpu_translate(libvm_vcpu *vcpu, uint64_t gva, libvm_translation *out);

#ifdef __cplusplus
}
#endif

#endif /* LIBVM_DEBUG_H */
