/* SPDX-License-Identifier: MIT */
/*
 * What the KVM under a test is known not to do for guest debugging, seen
 * on our machines (docs/debugging.md), so that such a check skips with the
 * reason there instead of failing, and runs everywhere else:
 *
 * - QEMU TCG (the emulated KVM host, scripts/kvmhost; CPUID 0x40000000
 *   says "TCGTCGTCGTCG"): with mainline kvm-amd in it, a breakpoint in
 *   DR0-3 never fires in the nested guest (QEMU 7.2's helper_vmrun()
 *   loads the VMCB's DR7 without arming TCG's breakpoints) and an INT3 is
 *   not intercepted (raise_interrupt2() checks only the INTn intercept for
 *   it: the guest takes it through its own IDT); single-stepping works.
 * - kvm_pvm (our machines' paravirtual KVM, module kvm_pvm): it emulates
 *   guest kernel code, so an INT3 comes back as an emulation failure and
 *   data breakpoints never fire; execution breakpoints and single-stepping
 *   work.
 *
 * The tests that need the traps (meson suite debug-traps) run in the Bochs
 * tier on kvm-intel, which delivers them.
 */
#ifndef LIBVM_TESTS_HOST_LIMITS_H
#define LIBVM_TESTS_HOST_LIMITS_H

#include <cpuid.h>
#include <string.h>
#include <unistd.h>

static inline int host_is_tcg(void)
{
	unsigned int a, b, c, d;
	char sig[13] = { 0 };

	__cpuid(0x40000000, a, b, c, d);
	memcpy(sig, &b, 4);
	memcpy(sig + 4, &c, 4);
	memcpy(sig + 8, &d, 4);
	return !strcmp(sig, "TCGTCGTCGTCG");
}

/* Why hardware breakpoints (DR0-3) do not fire here, or NULL. */
static inline const char *host_no_hw_breakpoints(void)
{
	if (host_is_tcg())
		return "QEMU TCG (the emulated KVM host) fires no DR0-3 breakpoint of a nested guest";
	return NULL;
}

/* Why INT3 and data-breakpoint traps do not reach libvm here, or NULL. */
static inline const char *host_no_debug_traps(void)
{
	if (host_is_tcg())
		return "QEMU TCG (the emulated KVM host) neither intercepts a nested guest's INT3 "
		       "nor fires its data breakpoints";
	if (access("/sys/module/kvm_pvm", F_OK) == 0)
		return "kvm_pvm emulates guest kernel code: an INT3 is an emulation failure, data "
		       "breakpoints never fire";
	return NULL;
}

#endif
