// SPDX-License-Identifier: GPL-2.0
/*
 * CPUID: the guest's answers come from KVM_SET_CPUID2 (a leaf not given
 * reads as zeros), and KVM_GET_SUPPORTED_CPUID offers the host's leaves
 * less what no backend gives the guest.  Both are the same for SVM and VMX.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bits.h>
#include <linux/string.h>
#include <asm/cpufeature.h>
#include <asm/kvm_para.h>
#include <asm/fpu/types.h>
#include <asm/processor.h>
#include <asm/processor-flags.h>

#include "vmm.h"
#include "vmm_irqchip.h"

/* CPUID executed by the guest: answer it and leave RIP to the caller. */
void vmm_emulate_cpuid(struct vmm_vcpu *vcpu)
{
	u32 fn = vcpu->gprs[VMM_RAX], idx = vcpu->gprs[VMM_RCX];
	const struct kvm_cpuid_entry2 *e = NULL;
	int i;

	for (i = 0; i < vcpu->nr_cpuid; i++) {
		const struct kvm_cpuid_entry2 *c = &vcpu->cpuid[i];

		if (c->function == fn &&
		    (!(c->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) ||
		     c->index == idx)) {
			e = c;
			break;
		}
	}
	vcpu->gprs[VMM_RAX] = e ? e->eax : 0;
	vcpu->gprs[VMM_RBX] = e ? e->ebx : 0;
	vcpu->gprs[VMM_RCX] = e ? e->ecx : 0;
	vcpu->gprs[VMM_RDX] = e ? e->edx : 0;
	if (e && fn == 0xd && idx == 0)
		/* The area size for the guest's current XCR0. */
		vcpu->gprs[VMM_RBX] = vmm_xsave_size(vcpu->xcr0);
	if (e && fn == 1) {
		u64 base = vcpu->lapic ? vcpu->lapic->base : vcpu->apic_base;
		struct vmm_cpu_mode m;

		/* OSXSAVE mirrors the guest's CR4.OSXSAVE. */
		vcpu->vm->ops->get_cpu_mode(vcpu, &m);
		vcpu->gprs[VMM_RCX] &= ~BIT(27);
		if (m.cr4 & X86_CR4_OSXSAVE)
			vcpu->gprs[VMM_RCX] |= BIT(27);

		/* APIC follows IA32_APIC_BASE.EN, as on hardware. */
		if (!(base & BIT(11)))
			vcpu->gprs[VMM_RDX] &= ~BIT(9);
		/* No x2APIC without the in-kernel LAPIC. */
		if (!vcpu->lapic)
			vcpu->gprs[VMM_RCX] &= ~BIT(21);
	}
}
EXPORT_SYMBOL_GPL(vmm_emulate_cpuid);

static void clear_regs(struct kvm_cpuid_entry2 *e)
{
	e->eax = 0;
	e->ebx = 0;
	e->ecx = 0;
	e->edx = 0;
}

/*
 * The host's CPUID, less what the guest cannot use here: APIC and x2APIC
 * as the in-kernel LAPIC offers them, XSAVE and AVX as vmm_xfeatures
 * allows, no SVM/VMX, no MONITOR/MWAIT, no machine-check, thermal,
 * performance-monitoring or speculation-control interfaces (their MSRs
 * are not in the supported subset), no RDTSCP (TSC_AUX is not switched).
 */
static void supported_entry(struct kvm_cpuid_entry2 *e, u32 fn, u32 idx)
{
	memset(e, 0, sizeof(*e));
	e->function = fn;
	e->index = idx;
	cpuid_count(fn, idx, &e->eax, &e->ebx, &e->ecx, &e->edx);

	switch (fn) {
	case 1:
		/*
		 * The in-kernel LAPIC emulates x2APIC whatever the host has;
		 * TSC-deadline is reported through KVM_CAP_TSC_DEADLINE_TIMER,
		 * as KVM does.
		 */
		e->ecx &= ~(BIT(3) | BIT(4) | BIT(5) | BIT(6) | BIT(7) |
			    BIT(8) | BIT(15) | BIT(18) | BIT(24) |
			    BIT(26) | BIT(27) | BIT(28));
		e->ecx |= BIT(21) | BIT(31);	/* x2APIC, hypervisor */
		/* XSAVE, and AVX when the guest may enable YMM state. */
		if (vmm_xfeatures)
			e->ecx |= BIT(26);
		if (vmm_xfeatures & XFEATURE_MASK_YMM)
			e->ecx |= boot_cpu_has(X86_FEATURE_AVX) ? BIT(28) : 0;
		e->edx &= ~(BIT(7) | BIT(14) | BIT(21) | BIT(22) |
			    BIT(29) | BIT(31));
		e->edx |= BIT(9);		/* APIC */
		break;
	case 7:
		e->flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
		if (idx) {
			clear_regs(e);
			break;
		}
		e->eax = 0;
		/* FSGSBASE BMI1 SMEP BMI2 ERMS ADX SMAP CLFLUSHOPT CLWB SHA */
		e->ebx &= BIT(0) | BIT(3) | BIT(7) | BIT(8) | BIT(9) |
			  BIT(19) | BIT(20) | BIT(23) | BIT(24) | BIT(29) |
			  (vmm_xfeatures & XFEATURE_MASK_YMM ? BIT(5) : 0);
		e->ecx &= BIT(2);		/* UMIP */
		e->edx = 0;
		break;
	case 0x80000001:
		/* LAHF, LZCNT, SSE4A, misaligned SSE, PREFETCHW, TOPOEXT */
		e->ecx &= BIT(0) | BIT(5) | BIT(6) | BIT(7) | BIT(8) | BIT(22);
		e->edx &= ~(BIT(27) | BIT(30) | BIT(31));
		break;
	case 0x80000007:
		e->eax = 0;
		e->ebx = 0;
		e->ecx = 0;
		e->edx &= BIT(8);		/* invariant TSC */
		break;
	case 0x80000008:
		e->ebx = 0;
		e->ecx = 0;
		break;
	case 0x80000000:
		e->eax = min_t(u32, e->eax, 0x8000001e);
		break;
	case 4:
	case 0x8000001d:
		/* Cache enumeration: the host's, as KVM gives it. */
		e->flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
		break;
	case 0xb:
		/*
		 * As KVM: no topology levels (subleaf 0 only, type 0);
		 * userspace describes its own.  Not the host's x2APIC ID.
		 */
		e->flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
		clear_regs(e);
		break;
	case 0x8000001e:
		/* As KVM: not the host's core and node IDs. */
		clear_regs(e);
		break;
	case 0:
		e->eax = min_t(u32, e->eax, 0xd);
		break;
	case 0xd:
		e->flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
		if (idx == 0) {
			e->eax = (u32)vmm_xfeatures;
			e->edx = vmm_xfeatures >> 32;
			e->ebx = vmm_xsave_size(XFEATURE_MASK_FPSSE);
			e->ecx = vmm_xsave_size(vmm_xfeatures);
		} else if (idx == 1) {
			/* XSAVEOPT, XSAVEC, XGETBV1; no XSAVES (no IA32_XSS) */
			e->eax &= BIT(0) | BIT(1) | BIT(2);
			e->ebx = 0;
			e->ecx = 0;
			e->edx = 0;
		} else if (!(vmm_xfeatures & BIT_ULL(idx))) {
			clear_regs(e);
		}
		break;
	}
}

/*
 * The cache leaves (4, 0x8000001d): subleaves up to the first with cache
 * type 0 (EAX[4:0]), that one included, as KVM gives them.
 */
static int subleaves(struct kvm_cpuid_entry2 *e, int n, int max, u32 fn)
{
	u32 i;

	for (i = 0; i < 64; i++) {
		bool last;

		if (n >= max)
			return -E2BIG;
		supported_entry(&e[n], fn, i);
		last = !(e[n].eax & 0x1f);
		n++;
		if (last)
			break;
	}
	return n;
}

/* KVM_GET_SUPPORTED_CPUID: up to @max entries into @e; count or -E2BIG. */
int vmm_supported_cpuid(struct kvm_cpuid_entry2 *e, int max)
{
	static const u32 leaves[] = {
		0, 1, 2, 4, 7, 0xb, 0x80000000, 0x80000001, 0x80000002,
		0x80000003, 0x80000004, 0x80000005, 0x80000006, 0x80000007,
		0x80000008, 0x8000001d, 0x8000001e,
	};
	u32 max_basic = cpuid_eax(0), max_ext = cpuid_eax(0x80000000);
	int i, n = 0;

	for (i = 0; i < ARRAY_SIZE(leaves); i++) {
		u32 fn = leaves[i];

		if (fn < 0x80000000 ? fn > max_basic : fn > max_ext)
			continue;
		if (fn == 4 || fn == 0x8000001d) {
			n = subleaves(e, n, max, fn);
			if (n < 0)
				return n;
			continue;
		}
		if (n >= max)
			return -E2BIG;
		supported_entry(&e[n++], fn, 0);
	}
	/* KVM's paravirtual leaves: kvmclock (vmm_pvclock.c). */
	for (i = 0; i < 2 && vmm_pvclock_available(); i++) {
		if (n >= max)
			return -E2BIG;
		vmm_pvclock_cpuid(&e[n++], KVM_CPUID_SIGNATURE + i);
	}
	/* Leaf 0xd: subleaves 0 and 1, then one per state component. */
	for (i = 0; vmm_xfeatures && i < 64 && max_basic >= 0xd; i++) {
		if (i > 1 && !(vmm_xfeatures & BIT_ULL(i)))
			continue;
		if (n >= max)
			return -E2BIG;
		supported_entry(&e[n++], 0xd, i);
	}
	return n;
}
