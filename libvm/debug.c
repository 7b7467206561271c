/* SPDX-License-Identifier: MIT */
/*
 * Guest debugging state (include/libvm/debug.h): libvm's options turned
 * into KVM_SET_GUEST_DEBUG's control word and debug registers. DR7 as the
 * SDM lays it out (vol. 3, 18.2.4): L<n> at bit 2n enables breakpoint n,
 * R/W<n> at bits 16 + 4n (00 execute, 01 write, 11 read/write) and LEN<n>
 * at 18 + 4n (00 1 byte, 01 2, 11 4, 10 8).
 */
#include <errno.h>
#include <string.h>

#include <libvm/debug.h>

#include "internal.h"

#define KNOWN_FLAGS (LIBVM_DEBUG_SINGLESTEP | LIBVM_DEBUG_SW_BREAKPOINTS | LIBVM_DEBUG_HW_BREAKPOINTS)
#define DR7_RESERVED_ONE (1u << 10)

static int dr7_len(uint32_t len)
{
	switch (len) {
	case 1:
		return 0;
	case 2:
		return 1;
	case 4:
		return 3;
	case 8:
		return 2;
	default:
		return -1;
	}
}

static int hw_breakpoints(struct kvm_guest_debug *g, const libvm_debug_options *o)
{
	uint64_t dr7 = DR7_RESERVED_ONE;

	if (o->nr_hw > LIBVM_MAX_HW_BREAKPOINTS)
		return libvm__fail(-EINVAL, "libvm_vcpu_set_debug: %u hardware breakpoints (at most %d)",
				   o->nr_hw, LIBVM_MAX_HW_BREAKPOINTS);
	if (o->nr_hw && !(o->flags & LIBVM_DEBUG_HW_BREAKPOINTS))
		return libvm__fail(-EINVAL, "libvm_vcpu_set_debug: nr_hw %u without "
				   "LIBVM_DEBUG_HW_BREAKPOINTS", o->nr_hw);
	for (uint32_t i = 0; i < o->nr_hw; i++) {
		const libvm_hw_breakpoint *b = &o->hw[i];
		uint32_t len = b->len ? b->len : 1;
		int enc = dr7_len(len);

		if (b->type != LIBVM_HW_BREAKPOINT_EXEC && b->type != LIBVM_HW_BREAKPOINT_WRITE &&
		    b->type != LIBVM_HW_BREAKPOINT_ACCESS)
			return libvm__fail(-EINVAL, "libvm_vcpu_set_debug: breakpoint %u has type %u",
					   i, b->type);
		if (enc < 0 || (b->type == LIBVM_HW_BREAKPOINT_EXEC && len != 1) ||
		    (b->addr & (len - 1)))
			return libvm__fail(-EINVAL, "libvm_vcpu_set_debug: breakpoint %u: length %u at 0x%llx "
					   "(1, 2, 4 or 8, aligned; 1 to execute)", i, len,
					   (unsigned long long)b->addr);
		g->arch.debugreg[i] = b->addr;
		dr7 |= 1ull << (2 * i);
		dr7 |= (uint64_t)b->type << (16 + 4 * i);
		dr7 |= (uint64_t)enc << (18 + 4 * i);
	}
	g->arch.debugreg[7] = dr7;
	return 0;
}

LIBVM_EXPORT int libvm_vcpu_set_debug(libvm_vcpu *vcpu, const libvm_debug_options *opts)
{
	struct kvm_guest_debug g;
	libvm_debug_options o = LIBVM_DEBUG_OPTIONS_INIT;
	int err;

	LIBVM__CHECK_VCPU(vcpu, "libvm_vcpu_set_debug");
	if (opts && (err = libvm__copy_options(&o, sizeof(o), opts, "libvm_debug_options")))
		return err;
	if (o.flags & ~KNOWN_FLAGS)
		return libvm__fail(-EINVAL, "libvm_vcpu_set_debug: unknown flags 0x%x",
				   o.flags & ~KNOWN_FLAGS);
	memset(&g, 0, sizeof(g));
	if (o.flags) {
		g.control = KVM_GUESTDBG_ENABLE;
		if (o.flags & LIBVM_DEBUG_SINGLESTEP)
			g.control |= KVM_GUESTDBG_SINGLESTEP;
		if (o.flags & LIBVM_DEBUG_SW_BREAKPOINTS)
			g.control |= KVM_GUESTDBG_USE_SW_BP;
		if (o.flags & LIBVM_DEBUG_HW_BREAKPOINTS)
			g.control |= KVM_GUESTDBG_USE_HW_BP;
	}
	err = hw_breakpoints(&g, &o);
	if (err)
		return err;
	if (!(o.flags & LIBVM_DEBUG_HW_BREAKPOINTS))
		g.arch.debugreg[7] = 0;
	err = libvm__bk_set_guest_debug(vcpu, &g);
	if (err < 0)
		return libvm__fail(err == -ENOTTY ? -ENOTSUP : err,
				   "vCPU %u: KVM_SET_GUEST_DEBUG failed: %s", vcpu->id, strerror(-err));
	return 0;
}
