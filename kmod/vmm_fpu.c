// SPDX-License-Identifier: GPL-2.0
/*
 * The guest's x87/SSE/AVX state, the same for every backend: its XSAVE
 * area (one page per vCPU, standard format, so KVM_GET/SET_XSAVE copy it),
 * its XCR0, and the switch around an entry.  Guests may enable in XCR0
 * what the host has of x87, SSE, AVX and AVX-512 (KVM_GET_SUPPORTED_CPUID
 * leaf 0xd says so); MPX, PKRU and the supervisor states stay the host's.
 *
 * Around an entry the guest's state is loaded and saved with the host's
 * XCR0 in place, so that every component the guest may use is switched
 * whatever the guest's XCR0 (a guest that never enabled AVX must not see
 * the host's YMM upper halves), and the guest's XCR0 is set only right
 * before the entry, as KVM does.  A host without XSAVE keeps FXSAVE and
 * offers no XSAVE.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/string.h>
#include <asm/cpufeature.h>
#include <asm/fpu/api.h>
#include <asm/fpu/xcr.h>
#include <asm/fpu/types.h>

#include "vmm.h"

/* Offsets in the XSAVE area (SDM vol. 1, 13.4). */
#define XSAVE_HDR		512
#define XSAVE_HDR_SIZE		64
#define XSAVE_MIN_SIZE		(XSAVE_HDR + XSAVE_HDR_SIZE)

#define VMM_XFEATURES_OFFERED	(XFEATURE_MASK_FPSSE | XFEATURE_MASK_YMM | \
				 XFEATURE_MASK_AVX512)

static u64 vmm_host_xcr0;
/* What guests may set in XCR0: the offered set the host has. */
u64 vmm_xfeatures;
EXPORT_SYMBOL_GPL(vmm_xfeatures);

/* Component offsets and sizes (CPUID 0xd, i) of the standard format. */
static u32 xstate_off[64], xstate_size[64];

void vmm_fpu_setup(void)
{
	unsigned int i, eax, ebx, ecx, edx;

	if (!boot_cpu_has(X86_FEATURE_XSAVE) ||
	    !boot_cpu_has(X86_FEATURE_OSXSAVE))
		return;
	vmm_host_xcr0 = xgetbv(XCR_XFEATURE_ENABLED_MASK);
	vmm_xfeatures = vmm_host_xcr0 & VMM_XFEATURES_OFFERED;
	for (i = 2; i < 64; i++) {
		if (!(vmm_xfeatures & BIT_ULL(i)))
			continue;
		cpuid_count(0xd, i, &eax, &ebx, &ecx, &edx);
		xstate_size[i] = eax;
		xstate_off[i] = ebx;
		/* The area is one page; a larger component is not offered. */
		if (ebx + eax > PAGE_SIZE)
			vmm_xfeatures &= ~BIT_ULL(i);
	}
}

/* Size of the standard-format area for the components in @xcr0. */
u32 vmm_xsave_size(u64 xcr0)
{
	u32 size = XSAVE_MIN_SIZE;
	unsigned int i;

	for (i = 2; i < 64; i++)
		if (xcr0 & vmm_xfeatures & BIT_ULL(i))
			size = max(size, xstate_off[i] + xstate_size[i]);
	return size;
}
EXPORT_SYMBOL_GPL(vmm_xsave_size);

static u64 *xstate_bv(struct vmm_vcpu *vcpu)
{
	return (u64 *)((u8 *)vcpu->fpu + XSAVE_HDR);
}

/* Power-on x87/SSE state: FINIT's control word, MXCSR's default. */
void vmm_fpu_reset(struct vmm_vcpu *vcpu)
{
	memset(vcpu->fpu, 0, PAGE_SIZE);
	vcpu->fpu->cwd = 0x37f;
	vcpu->fpu->mxcsr = 0x1f80;
	/* XRSTOR takes x87 and SSE from the area, not their init state. */
	*xstate_bv(vcpu) = XFEATURE_MASK_FPSSE;
	vcpu->xcr0 = XFEATURE_MASK_FP;
}

/*
 * The user's FPU state is saved; the guest's replaces it.  Pairs with
 * vmm_guest_fpu_exit(); interrupts off (or preemption off) in between.
 */
void vmm_guest_fpu_enter(struct vmm_vcpu *vcpu)
{
	kernel_fpu_begin();
	if (!vmm_xfeatures) {
		asm volatile("fxrstorq %0" : : "m" (*vcpu->fpu));
		return;
	}
	asm volatile("xrstor64 %0"
		     : : "m" (*vcpu->fpu), "a" ((u32)vmm_xfeatures),
		     "d" ((u32)(vmm_xfeatures >> 32)) : "memory");
	if (vcpu->xcr0 != vmm_host_xcr0)
		xsetbv(XCR_XFEATURE_ENABLED_MASK, vcpu->xcr0);
}
EXPORT_SYMBOL_GPL(vmm_guest_fpu_enter);

void vmm_guest_fpu_exit(struct vmm_vcpu *vcpu)
{
	if (!vmm_xfeatures) {
		asm volatile("fxsaveq %0" : "=m" (*vcpu->fpu));
	} else {
		/*
		 * XSETBV exits on SVM and VMX, so this is the value we set;
		 * except on CPU models that do not intercept it (QEMU's SVM
		 * model runs the guest's XSETBV as is): then it is the
		 * guest's new XCR0, which must not be lost at the next entry.
		 */
		u64 xcr0 = xgetbv(XCR_XFEATURE_ENABLED_MASK);

		vcpu->xcr0 = xcr0;
		if (xcr0 != vmm_host_xcr0)
			xsetbv(XCR_XFEATURE_ENABLED_MASK, vmm_host_xcr0);
		asm volatile("xsave64 %0"
			     : "+m" (*vcpu->fpu) : "a" ((u32)vmm_xfeatures),
			     "d" ((u32)(vmm_xfeatures >> 32)) : "memory");
	}
	kernel_fpu_end();
}
EXPORT_SYMBOL_GPL(vmm_guest_fpu_exit);

/*
 * An XCR0 value a guest may have (SDM XSETBV): x87 always, AVX only with
 * SSE, the three AVX-512 components together and only with AVX, nothing
 * the host does not offer.
 */
static bool xcr0_valid(u64 xcr0)
{
	u64 avx512 = xcr0 & XFEATURE_MASK_AVX512;

	if (!(xcr0 & XFEATURE_MASK_FP) || (xcr0 & ~vmm_xfeatures))
		return false;
	if ((xcr0 & XFEATURE_MASK_YMM) && !(xcr0 & XFEATURE_MASK_SSE))
		return false;
	if (avx512 && (avx512 != XFEATURE_MASK_AVX512 ||
		       !(xcr0 & XFEATURE_MASK_YMM)))
		return false;
	return true;
}

/* XSETBV by the guest (CR4.OSXSAVE set): 0, or -EINVAL for its #GP. */
int vmm_emulate_xsetbv(struct vmm_vcpu *vcpu, unsigned int cpl)
{
	u64 val = (vcpu->gprs[VMM_RAX] & 0xffffffff) |
		  (vcpu->gprs[VMM_RDX] & 0xffffffff) << 32;

	if (cpl || (u32)vcpu->gprs[VMM_RCX] != XCR_XFEATURE_ENABLED_MASK ||
	    !xcr0_valid(val))
		return -EINVAL;
	vcpu->xcr0 = val;
	return 0;
}
EXPORT_SYMBOL_GPL(vmm_emulate_xsetbv);

/* ---- KVM_GET/SET_FPU: the legacy region ---- */

void vmm_get_fpu(struct vmm_vcpu *vcpu, struct kvm_fpu *f)
{
	struct fxregs_state *fx = vcpu->fpu;

	memset(f, 0, sizeof(*f));
	memcpy(f->fpr, fx->st_space, sizeof(f->fpr));
	f->fcw = fx->cwd;
	f->fsw = fx->swd;
	f->ftwx = fx->twd;
	f->last_opcode = fx->fop;
	f->last_ip = fx->rip;
	f->last_dp = fx->rdp;
	memcpy(f->xmm, fx->xmm_space, sizeof(f->xmm));
	f->mxcsr = fx->mxcsr;
}

void vmm_set_fpu(struct vmm_vcpu *vcpu, const struct kvm_fpu *f)
{
	struct fxregs_state *fx = vcpu->fpu;

	memcpy(fx->st_space, f->fpr, sizeof(f->fpr));
	fx->cwd = f->fcw;
	fx->swd = f->fsw;
	fx->twd = f->ftwx;
	fx->fop = f->last_opcode;
	fx->rip = f->last_ip;
	fx->rdp = f->last_dp;
	memcpy(fx->xmm_space, f->xmm, sizeof(f->xmm));
	/* A reserved MXCSR bit would make FXRSTOR/XRSTOR fault in the host. */
	fx->mxcsr = f->mxcsr & 0xffff;
	if (vmm_xfeatures)
		*xstate_bv(vcpu) |= XFEATURE_MASK_FPSSE;
}

/* ---- KVM_GET/SET_XSAVE and KVM_GET/SET_XCRS ---- */

/*
 * The area as XSAVE left it (standard format; with a host without XSAVE,
 * the FXSAVE image and XSTATE_BV for x87|SSE, as KVM gives it).
 */
void vmm_get_xsave(struct vmm_vcpu *vcpu, struct kvm_xsave *x)
{
	memset(x, 0, sizeof(*x));
	memcpy(x->region, vcpu->fpu, PAGE_SIZE);
	if (!vmm_xfeatures)
		*(u64 *)((u8 *)x->region + XSAVE_HDR) = XFEATURE_MASK_FPSSE;
}

/*
 * Checked as XRSTOR would check it (a fault there would be the host's):
 * standard format, XSTATE_BV within what guests may have, the rest of
 * the header zero, no reserved MXCSR bit.
 */
int vmm_set_xsave(struct vmm_vcpu *vcpu, const struct kvm_xsave *x)
{
	const u8 *area = (const u8 *)x->region;
	const u64 *hdr = (const u64 *)(area + XSAVE_HDR);
	const struct fxregs_state *fx = (const void *)area;
	u64 bv = hdr[0];

	if (bv & ~(vmm_xfeatures ? vmm_xfeatures : XFEATURE_MASK_FPSSE))
		return -EINVAL;
	if (memchr_inv(hdr + 1, 0, XSAVE_HDR_SIZE - sizeof(u64)))
		return -EINVAL;
	if (fx->mxcsr >> 16)
		return -EINVAL;
	memcpy(vcpu->fpu, area, XSAVE_MIN_SIZE);
	if (vmm_xfeatures) {
		u32 size = vmm_xsave_size(vmm_xfeatures);

		memcpy((u8 *)vcpu->fpu + XSAVE_MIN_SIZE, area + XSAVE_MIN_SIZE,
		       size - XSAVE_MIN_SIZE);
	}
	return 0;
}

void vmm_get_xcrs(struct vmm_vcpu *vcpu, struct kvm_xcrs *x)
{
	memset(x, 0, sizeof(*x));
	if (!vmm_xfeatures)
		return;
	x->nr_xcrs = 1;
	x->xcrs[0].xcr = XCR_XFEATURE_ENABLED_MASK;
	x->xcrs[0].value = vcpu->xcr0;
}

int vmm_set_xcrs(struct vmm_vcpu *vcpu, const struct kvm_xcrs *x)
{
	u32 i;

	if (!vmm_xfeatures || x->nr_xcrs > KVM_MAX_XCRS || x->flags)
		return -EINVAL;
	for (i = 0; i < x->nr_xcrs; i++)
		if (x->xcrs[i].xcr != XCR_XFEATURE_ENABLED_MASK ||
		    !xcr0_valid(x->xcrs[i].value))
			return -EINVAL;
	for (i = 0; i < x->nr_xcrs; i++)
		vcpu->xcr0 = x->xcrs[i].value;
	return 0;
}
