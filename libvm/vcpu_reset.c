/* SPDX-License-Identifier: MIT */
/*
 * Putting a vCPU back into its power-on/INIT state from userspace, for a
 * launcher that wakes a guest from ACPI S3 (the platform resets the CPUs
 * and the firmware jumps to the waking vector) or emulates a reset without
 * recreating the VM. KVM has no reset ioctl: the state is written piece by
 * piece as the SDM (vol. 3, 9.1.1, Table 9-1) and the AMD APM (vol. 2,
 * 14.1.3) give it.
 */
#include <errno.h>
#include <string.h>

#include <linux/kvm.h>

#include "internal.h"

/* Local APIC registers (SDM vol. 3, 10.4.1, Table 10-1) touched at INIT. */
#define APIC_TPR 0x80
#define APIC_LDR 0xd0
#define APIC_DFR 0xe0
#define APIC_SVR 0xf0
#define APIC_ISR 0x100
#define APIC_TMR 0x180
#define APIC_IRR 0x200
#define APIC_LVT_FIRST 0x320 /* timer, thermal, perf, LINT0, LINT1, error */
#define APIC_LVT_LAST 0x370
#define APIC_TIMER_ICR 0x380
#define APIC_LVT_MASKED 0x10000u

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* The LAPIC as INIT leaves it: id and version kept, everything masked. */
static int reset_lapic(libvm_vcpu *vcpu)
{
	struct kvm_lapic_state l;

	int err = libvm__bk_get_lapic(vcpu, &l);

	if (err < 0)
		return err;
	put32((uint8_t *)l.regs + APIC_TPR, 0);
	put32((uint8_t *)l.regs + APIC_LDR, 0);
	put32((uint8_t *)l.regs + APIC_DFR, 0xffffffffu);
	put32((uint8_t *)l.regs + APIC_SVR, 0xff);
	for (uint32_t r = 0; r < 0x80; r += 0x10) {
		put32((uint8_t *)l.regs + APIC_ISR + r, 0);
		put32((uint8_t *)l.regs + APIC_TMR + r, 0);
		put32((uint8_t *)l.regs + APIC_IRR + r, 0);
	}
	for (uint32_t r = APIC_LVT_FIRST; r <= APIC_LVT_LAST; r += 0x10)
		put32((uint8_t *)l.regs + r, APIC_LVT_MASKED);
	put32((uint8_t *)l.regs + APIC_TIMER_ICR, 0);
	err = libvm__bk_set_lapic(vcpu, &l);
	return err < 0 ? err : 0;
}

LIBVM_EXPORT int libvm_vcpu_reset(libvm_vcpu *vcpu, uint32_t flags)
{
	struct kvm_mp_state mp;
	struct kvm_sregs s;
	struct kvm_regs r;
	struct kvm_fpu f;
	struct kvm_segment data = { .base = 0, .limit = 0xffff, .type = 3, .present = 1, .s = 1 };
	int err;

	LIBVM__CHECK_VCPU(vcpu, "libvm_vcpu_reset");
	if (flags & ~LIBVM_VCPU_RESET_WAIT_SIPI)
		return libvm__fail(-EINVAL, "libvm_vcpu_reset: unknown flags 0x%x", flags);
	if ((err = libvm__bk_get_sregs(vcpu, &s)) < 0)
		goto fail;
	/* Real mode at 0xf000:0xfff0 with the reset CS base 0xffff0000. */
	s.cs = (struct kvm_segment){ .base = 0xffff0000ull, .limit = 0xffff, .selector = 0xf000,
				     .type = 0xb, .present = 1, .s = 1 };
	s.ds = s.es = s.fs = s.gs = s.ss = data;
	s.ldt = (struct kvm_segment){ .limit = 0xffff, .type = 2, .present = 1 };
	s.tr = (struct kvm_segment){ .limit = 0xffff, .type = 3, .present = 1 };
	s.gdt = (struct kvm_dtable){ .base = 0, .limit = 0xffff };
	s.idt = (struct kvm_dtable){ .base = 0, .limit = 0xffff };
	s.cr0 = 0x60000010ull; /* CD, NW, ET */
	s.cr2 = s.cr3 = s.cr4 = s.cr8 = 0;
	s.efer = 0;
	memset(s.interrupt_bitmap, 0, sizeof(s.interrupt_bitmap));
	if ((err = libvm__bk_set_sregs(vcpu, &s)) < 0)
		goto fail;
	memset(&r, 0, sizeof(r));
	r.rip = 0xfff0;
	r.rflags = 0x2;
	r.rdx = 0x600; /* a processor signature; CPUID tells the real one */
	if ((err = libvm__bk_set_regs(vcpu, &r)) < 0)
		goto fail;
	memset(&f, 0, sizeof(f));
	f.fcw = 0x37f;
	f.mxcsr = 0x1f80;
	if ((err = libvm__bk_set_fpu(vcpu, &f)) < 0)
		goto fail;
	if (vcpu->vm->has_irqchip) {
		err = reset_lapic(vcpu);
		if (err)
			return libvm__fail(err, "vCPU %u: resetting its LAPIC failed: %s", vcpu->id,
					   strerror(-err));
		/* An AP waits for the guest's SIPI, as after INIT. */
		mp.mp_state = (flags & LIBVM_VCPU_RESET_WAIT_SIPI) ? KVM_MP_STATE_INIT_RECEIVED :
								     KVM_MP_STATE_RUNNABLE;
		if ((err = libvm__bk_set_mp_state(vcpu, &mp)) < 0)
			goto fail;
	} else if (flags & LIBVM_VCPU_RESET_WAIT_SIPI) {
		return libvm__fail(-ENOTSUP, "vCPU %u: waiting for a SIPI needs the in-kernel LAPIC",
				   vcpu->id);
	}
	return 0;
fail:
	return libvm__fail(err == -ENOTTY ? -ENOTSUP : err, "vCPU %u: reset failed: %s", vcpu->id,
			   strerror(-err));
}
