// SPDX-License-Identifier: GPL-2.0
/*
 * kvmclock, the KVM paravirtual clock (Documentation/virt/kvm/x86/msr.rst
 * and cpuid.rst), for guests that look for it: CPUID leaf 0x40000000 says
 * "KVMKVMKVM", leaf 0x40000001 offers the clock (both MSR ranges) and the
 * no-op I/O delay; the wall-clock MSR writes the real time at which the
 * clock read 0, the system-time MSR a pvclock structure per vCPU.
 *
 * The clock counts nanoseconds of the host TSC since VM creation (when the
 * guest TSC was 0).  The structure is written when the guest enables it
 * and again when the vCPU's TSC is set; the host TSC runs at a fixed rate
 * (tsc_khz), so nothing else needs it refreshed.  We do not offer the
 * "stable" bit: the guest keeps its own cross-vCPU monotonicity guard.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bits.h>
#include <linux/math64.h>
#include <linux/ktime.h>
#include <linux/timekeeping.h>
#include <asm/kvm_para.h>
#include <asm/msr.h>
#include <asm/pvclock-abi.h>
#include <asm/tsc.h>

#include "vmm.h"

/* TSC ticks to nanoseconds, pvclock style: ((delta << shift) * mul) >> 32 */
static u32 pvclock_mul;
static s8 pvclock_shift;

void vmm_pvclock_setup(void)
{
	u64 hz = (u64)tsc_khz * 1000;
	int shift = 0;

	if (!hz)
		return;
	/* Scale the frequency into (1 GHz, 2 GHz]: mul then fits 32 bits. */
	while (hz > 2 * NSEC_PER_SEC) {
		hz >>= 1;
		shift--;
	}
	while (hz <= NSEC_PER_SEC) {
		hz <<= 1;
		shift++;
	}
	pvclock_mul = div64_u64((u64)NSEC_PER_SEC << 32, hz);
	pvclock_shift = shift;
}

bool vmm_pvclock_available(void)
{
	return pvclock_mul;
}

static u64 pvclock_scale(u64 delta)
{
	if (pvclock_shift < 0)
		delta >>= -pvclock_shift;
	else
		delta <<= pvclock_shift;
	return mul_u64_u32_shr(delta, pvclock_mul, 32);
}

/* Nanoseconds of the VM's clock now. */
static u64 pvclock_now(struct vmm_vm *vm)
{
	return pvclock_scale(rdtsc() + vm->tsc_offset);
}

/* Leaves 0x40000000 and 0x40000001 for KVM_GET_SUPPORTED_CPUID. */
void vmm_pvclock_cpuid(struct kvm_cpuid_entry2 *e, u32 fn)
{
	memset(e, 0, sizeof(*e));
	e->function = fn;
	if (fn == KVM_CPUID_SIGNATURE) {
		e->eax = KVM_CPUID_FEATURES;
		e->ebx = 0x4b4d564b;	/* "KVMK" */
		e->ecx = 0x564b4d56;	/* "VMKV" */
		e->edx = 0x4d;		/* "M\0\0\0" */
	} else {
		e->eax = BIT(KVM_FEATURE_CLOCKSOURCE) |
			 BIT(KVM_FEATURE_NOP_IO_DELAY) |
			 BIT(KVM_FEATURE_CLOCKSOURCE2);
	}
}

/* Write @len bytes at @gpa, the version odd around the rest (msr.rst). */
static void pvclock_publish(struct vmm_vm *vm, u64 gpa, u32 *version,
			    void *body, unsigned int len)
{
	u32 v = *version + 1;
	int idx = srcu_read_lock(&vm->srcu);

	/* Outside guest RAM: nothing is written, as KVM does. */
	if (vmm_write_guest(vm, gpa, &v, sizeof(v)))
		goto out;
	/* The odd version before the body: a reader retries. */
	smp_wmb();
	vmm_write_guest(vm, gpa + sizeof(v), (u8 *)body + sizeof(v),
			len - sizeof(v));
	/* The whole body before the even version. */
	smp_wmb();
	v++;
	vmm_write_guest(vm, gpa, &v, sizeof(v));
	*version = v;
out:
	srcu_read_unlock(&vm->srcu, idx);
}

/* The vCPU's pvclock structure, if enabled, for the TSC it has now. */
void vmm_pvclock_update(struct vmm_vcpu *vcpu)
{
	struct pvclock_vcpu_time_info t = { 0 };
	u64 guest_tsc, host_tsc;

	if (!(vcpu->pv_system_time & 1) || !pvclock_mul)
		return;
	if (vcpu->vm->ops->get_msr(vcpu, MSR_IA32_TSC, &guest_tsc))
		return;
	host_tsc = rdtsc();
	t.tsc_timestamp = guest_tsc;
	t.system_time = pvclock_scale(host_tsc + vcpu->vm->tsc_offset);
	t.tsc_to_system_mul = pvclock_mul;
	t.tsc_shift = pvclock_shift;
	pvclock_publish(vcpu->vm, vcpu->pv_system_time & ~1ULL,
			&vcpu->pv_time_version, &t, sizeof(t));
}

static void pvclock_wall_clock(struct vmm_vcpu *vcpu, u64 gpa)
{
	struct pvclock_wall_clock w = { 0 };
	u64 boot = ktime_get_real_ns() - pvclock_now(vcpu->vm);
	u32 rem;

	w.sec = div_u64_rem(boot, NSEC_PER_SEC, &rem);
	w.nsec = rem;
	pvclock_publish(vcpu->vm, gpa, &vcpu->vm->pv_wall_version, &w,
			sizeof(w));
}

/* Is @index one of ours? */
bool vmm_pvclock_msr(u32 index)
{
	return index == MSR_KVM_WALL_CLOCK || index == MSR_KVM_SYSTEM_TIME ||
	       index == MSR_KVM_WALL_CLOCK_NEW ||
	       index == MSR_KVM_SYSTEM_TIME_NEW;
}

int vmm_pvclock_rdmsr(struct vmm_vcpu *vcpu, u32 index, u64 *data)
{
	if (!pvclock_mul)
		return -EINVAL;
	if (index == MSR_KVM_WALL_CLOCK || index == MSR_KVM_WALL_CLOCK_NEW)
		*data = vcpu->pv_wall_clock;
	else
		*data = vcpu->pv_system_time;
	return 0;
}

int vmm_pvclock_wrmsr(struct vmm_vcpu *vcpu, u32 index, u64 data)
{
	if (!pvclock_mul)
		return -EINVAL;
	if (index == MSR_KVM_WALL_CLOCK || index == MSR_KVM_WALL_CLOCK_NEW) {
		vcpu->pv_wall_clock = data;
		pvclock_wall_clock(vcpu, data);
		return 0;
	}
	vcpu->pv_system_time = data;
	vmm_pvclock_update(vcpu);
	return 0;
}
