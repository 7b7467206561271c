// SPDX-License-Identifier: GPL-2.0
/*
 * Local APIC, one per vCPU (Intel SDM vol. 3 ch. 10/11, AMD APM vol. 2
 * ch. 16): xAPIC registers through MMIO at IA32_APIC_BASE, x2APIC through
 * MSRs 0x800-0x8ff, interrupt acceptance (IRR/ISR/TMR, TPR/PPR), EOI with
 * the broadcast to the IOAPIC for level interrupts, IPIs including NMI,
 * INIT and SIPI, and the timer (one-shot, periodic and TSC-deadline) on an
 * hrtimer.  The register file is kept in the layout of KVM_GET_LAPIC, so
 * the state ioctls copy it; the bus runs at 1 GHz as KVM's does (one timer
 * count per nanosecond before the divider).
 *
 * Only the vCPU's own thread (vcpu->mutex) writes registers; senders,
 * the timer and readers of destinations from other contexts meet under
 * lapic->lock, or read single words that they tolerate to be stale.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/slab.h>
#include <asm/msr-index.h>
#include <asm/tsc.h>

#include "vmm.h"
#include "vmm_irqchip.h"

#define VAPIC_VERSION		0x14
#define VAPIC_NR_LVT		6		/* timer ... error */
#define VAPIC_SVR_ENABLE	BIT(8)
#define VAPIC_ICR_DS		BIT(12)		/* delivery status, read-only */
#define VAPIC_TIMER_ONESHOT	0
#define VAPIC_TIMER_PERIODIC	1
#define VAPIC_TIMER_TSCDEADLINE	2
/* Periodic timers faster than this are slowed down (KVM does the same). */
#define VAPIC_MIN_PERIOD_NS	(200 * NSEC_PER_USEC)

static const u32 vapic_lvt_regs[VAPIC_NR_LVT] = {
	VAPIC_LVTT, VAPIC_LVTTHMR, VAPIC_LVTPC, VAPIC_LVT0, VAPIC_LVT1,
	VAPIC_LVTERR,
};

/* Writable bits of each LVT, in vapic_lvt_regs order. */
static const u32 vapic_lvt_mask[VAPIC_NR_LVT] = {
	0x000700ff,	/* timer: vector, mask, mode */
	0x000107ff,	/* thermal: vector, delivery mode, mask */
	0x000107ff,	/* perf */
	0x0001a7ff,	/* LINT0: + polarity, trigger */
	0x0001a7ff,	/* LINT1 */
	0x000100ff,	/* error */
};

static u32 lreg(struct vmm_lapic *l, u32 off)
{
	return READ_ONCE(*(u32 *)(l->regs + off));
}

static void lset(struct vmm_lapic *l, u32 off, u32 val)
{
	WRITE_ONCE(*(u32 *)(l->regs + off), val);
}

/* IRR, ISR and TMR: 256 bits in eight words 16 bytes apart. */
static u32 *vec_word(struct vmm_lapic *l, u32 base, u8 vec)
{
	return (u32 *)(l->regs + base + (vec >> 5) * 0x10);
}

static void vec_set(struct vmm_lapic *l, u32 base, u8 vec)
{
	*vec_word(l, base, vec) |= BIT(vec & 31);
}

static void vec_clear(struct vmm_lapic *l, u32 base, u8 vec)
{
	*vec_word(l, base, vec) &= ~BIT(vec & 31);
}

static bool vec_test(struct vmm_lapic *l, u32 base, u8 vec)
{
	return *vec_word(l, base, vec) & BIT(vec & 31);
}

static int vec_highest(struct vmm_lapic *l, u32 base)
{
	int i;

	for (i = 7; i >= 0; i--) {
		u32 w = lreg(l, base + i * 0x10);

		if (w)
			return i * 32 + fls(w) - 1;
	}
	return -1;
}

static bool hw_enabled(struct vmm_lapic *l)
{
	return READ_ONCE(l->base) & VAPIC_BASE_EN;
}

static bool sw_enabled(struct vmm_lapic *l)
{
	return lreg(l, VAPIC_SVR) & VAPIC_SVR_ENABLE;
}

static bool x2apic(struct vmm_lapic *l)
{
	return (READ_ONCE(l->base) & (VAPIC_BASE_EN | VAPIC_BASE_EXTD)) ==
	       (VAPIC_BASE_EN | VAPIC_BASE_EXTD);
}

static u32 apic_id(struct vmm_lapic *l)
{
	return x2apic(l) ? lreg(l, VAPIC_ID) : lreg(l, VAPIC_ID) >> 24;
}

static u32 x2apic_ldr(u32 id)
{
	return ((id >> 4) << 16) | BIT(id & 0xf);
}

/* Processor priority: TPR, or the class of the highest in-service vector. */
static u32 apic_ppr(struct vmm_lapic *l)
{
	u32 tpr = lreg(l, VAPIC_TPR) & 0xff;
	int isr = vec_highest(l, VAPIC_ISR);
	u32 isrv = isr < 0 ? 0 : isr;

	return (tpr & 0xf0) >= (isrv & 0xf0) ? tpr : isrv & 0xf0;
}

/* Highest IRR vector the PPR lets through, or -1.  Caller holds lock. */
static int apic_deliverable(struct vmm_lapic *l)
{
	int irr = vec_highest(l, VAPIC_IRR);

	if (irr < 0 || (irr & 0xf0) <= (apic_ppr(l) & 0xf0))
		return -1;
	return irr;
}

/* ---- timer ---- */

static u32 timer_mode(struct vmm_lapic *l)
{
	return (lreg(l, VAPIC_LVTT) >> 17) & 3;
}

/* Nanoseconds per count: the 1 GHz bus clock through the divider. */
static u32 timer_div(struct vmm_lapic *l)
{
	u32 tdcr = lreg(l, VAPIC_TDCR);
	u32 v = (tdcr & 3) | ((tdcr & 8) >> 1);

	return 1U << ((v + 1) & 7);
}

static enum hrtimer_restart vmm_lapic_timer_fn(struct hrtimer *t)
{
	struct vmm_lapic *l = container_of(t, struct vmm_lapic, timer);
	enum hrtimer_restart restart = HRTIMER_NORESTART;
	unsigned long flags;
	bool fire = false;
	u32 lvtt;

	spin_lock_irqsave(&l->lock, flags);
	if (!l->timer_armed)
		goto out;
	lvtt = lreg(l, VAPIC_LVTT);
	if (!(lvtt & VAPIC_LVT_MASKED) && sw_enabled(l) && hw_enabled(l) &&
	    (lvtt & 0xff) >= 16) {
		vec_set(l, VAPIC_IRR, lvtt & 0xff);
		vec_clear(l, VAPIC_TMR, lvtt & 0xff);
		fire = true;
	}
	if (timer_mode(l) == VAPIC_TIMER_PERIODIC && l->period_ns) {
		ktime_t now = hrtimer_cb_get_time(t);
		ktime_t next = ktime_add_ns(l->expiry, l->period_ns);

		/* Ticks the host could not deliver in time are dropped. */
		if (ktime_before(next, now))
			next = ktime_add_ns(now, l->period_ns);
		l->expiry = next;
		hrtimer_set_expires(t, next);
		restart = HRTIMER_RESTART;
	} else {
		l->timer_armed = false;
		if (timer_mode(l) == VAPIC_TIMER_TSCDEADLINE)
			l->tsc_deadline = 0;
	}
out:
	spin_unlock_irqrestore(&l->lock, flags);
	if (fire)
		vmm_vcpu_kick(l->vcpu);
	return restart;
}

/*
 * Stop the timer.  The owner thread calls this without l->lock (the
 * callback takes it), before it changes what the timer depends on.
 */
static void timer_stop(struct vmm_lapic *l)
{
	unsigned long flags;

	spin_lock_irqsave(&l->lock, flags);
	l->timer_armed = false;
	spin_unlock_irqrestore(&l->lock, flags);
	hrtimer_cancel(&l->timer);
}

/* Arm for @ns from now (owner thread, timer stopped). */
static void timer_arm_in(struct vmm_lapic *l, u64 ns, u64 period)
{
	unsigned long flags;
	ktime_t expiry = ktime_add_ns(ktime_get(), ns);

	spin_lock_irqsave(&l->lock, flags);
	l->expiry = expiry;
	l->period_ns = period;
	l->timer_armed = true;
	spin_unlock_irqrestore(&l->lock, flags);
	hrtimer_start(&l->timer, expiry, HRTIMER_MODE_ABS_HARD);
}

/* One-shot or periodic count from TMICT (owner thread). */
static void timer_start_count(struct vmm_lapic *l, u64 counts)
{
	u64 period = (u64)lreg(l, VAPIC_TMICT) * timer_div(l);
	u64 ns = counts * timer_div(l);

	timer_stop(l);
	if (!period || timer_mode(l) == VAPIC_TIMER_TSCDEADLINE)
		return;
	if (timer_mode(l) == VAPIC_TIMER_PERIODIC) {
		if (period < VAPIC_MIN_PERIOD_NS) {
			pr_info_ratelimited("LAPIC timer period %llu ns raised to %llu ns\n",
					    period, (u64)VAPIC_MIN_PERIOD_NS);
			period = VAPIC_MIN_PERIOD_NS;
		}
		ns = min(max_t(u64, ns, 1), period);
		timer_arm_in(l, ns, period);
	} else {
		timer_arm_in(l, ns, 0);
	}
}

static u64 guest_tsc(struct vmm_vcpu *vcpu)
{
	u64 tsc = 0;

	vcpu->vm->ops->get_msr(vcpu, MSR_IA32_TSC, &tsc);
	return tsc;
}

/* IA32_TSC_DEADLINE: fire when the guest TSC reaches @deadline. */
static void timer_set_deadline(struct vmm_lapic *l, u64 deadline)
{
	u64 now, ns = 0;

	timer_stop(l);
	l->tsc_deadline = deadline;
	if (!deadline || timer_mode(l) != VAPIC_TIMER_TSCDEADLINE)
		return;
	now = guest_tsc(l->vcpu);
	if (deadline > now && tsc_khz)
		ns = mul_u64_u32_div(deadline - now, USEC_PER_SEC, tsc_khz);
	timer_arm_in(l, ns, 0);
}

static u64 div64_u64_rem_only(u64 a, u64 b)
{
	u64 rem;

	div64_u64_rem(a, b, &rem);
	return rem;
}

/* Current count: what is left of this period, in counts. */
static u32 timer_current(struct vmm_lapic *l)
{
	unsigned long flags;
	s64 left;
	u32 div = timer_div(l);

	if (timer_mode(l) == VAPIC_TIMER_TSCDEADLINE)
		return 0;
	spin_lock_irqsave(&l->lock, flags);
	if (!l->timer_armed) {
		spin_unlock_irqrestore(&l->lock, flags);
		return 0;
	}
	left = ktime_to_ns(ktime_sub(l->expiry, ktime_get()));
	/* Past the end: a periodic count has reloaded meanwhile. */
	if (left < 0 && l->period_ns)
		left = l->period_ns - div64_u64_rem_only(-left, l->period_ns);
	else if (left < 0)
		left = 0;
	spin_unlock_irqrestore(&l->lock, flags);
	return min_t(u64, div_u64(left, div), lreg(l, VAPIC_TMICT));
}

/* ---- acceptance and delivery ---- */

/* Offer one message to this APIC: 1 accepted, 0 dropped. */
static int apic_accept(struct vmm_lapic *l, const struct vmm_apic_irq *irq)
{
	struct vmm_vcpu *vcpu = l->vcpu;
	unsigned long flags;

	switch (irq->delivery_mode) {
	case VMM_DM_FIXED:
	case VMM_DM_LOWEST:
		if (!sw_enabled(l) || irq->vector < 16)
			return 0;
		spin_lock_irqsave(&l->lock, flags);
		vec_set(l, VAPIC_IRR, irq->vector);
		if (irq->trig_level)
			vec_set(l, VAPIC_TMR, irq->vector);
		else
			vec_clear(l, VAPIC_TMR, irq->vector);
		spin_unlock_irqrestore(&l->lock, flags);
		break;
	case VMM_DM_NMI:
		atomic_inc(&vcpu->nmi_queued);
		break;
	case VMM_DM_INIT:
		/* The de-assert message of level INIT does nothing. */
		if (irq->trig_level && !irq->level)
			return 0;
		set_bit(VMM_APIC_INIT, &l->pending);
		break;
	case VMM_DM_SIPI:
		WRITE_ONCE(l->sipi_vector, irq->vector);
		/* The vector before the flag: the receiver reads them so. */
		smp_wmb();
		set_bit(VMM_APIC_SIPI, &l->pending);
		break;
	default:
		return 0;	/* SMI (no SMM), ExtINT through LINT0 only */
	}
	vmm_vcpu_kick(vcpu);
	return 1;
}

static bool apic_match(struct vmm_lapic *t, struct vmm_lapic *src,
		       const struct vmm_apic_irq *irq)
{
	u32 ldr, mda;

	if (!hw_enabled(t))
		return false;
	switch (irq->shorthand) {
	case 1:
		return t == src;
	case 2:
		return true;
	case 3:
		return t != src;
	}
	if (!irq->logical) {
		if (irq->x2apic_dest)
			return irq->dest == 0xffffffff || irq->dest == apic_id(t);
		return irq->dest == 0xff || irq->dest == apic_id(t);
	}
	ldr = lreg(t, VAPIC_LDR);
	if (x2apic(t)) {
		if (irq->dest == 0xffffffff || (!irq->x2apic_dest &&
						irq->dest == 0xff))
			return true;
		return (irq->dest >> 16) == (ldr >> 16) &&
		       (irq->dest & ldr & 0xffff);
	}
	mda = irq->dest & 0xff;
	if (mda == 0xff)
		return true;
	ldr >>= 24;
	if ((lreg(t, VAPIC_DFR) >> 28) == 0xf)		/* flat model */
		return mda & ldr;
	return (mda >> 4) == (ldr >> 4) && (mda & ldr & 0xf);	/* cluster */
}

/*
 * Deliver one message to the APICs it names: the number that accepted it,
 * or -1 when it names none.  Lowest-priority messages go to one of the
 * matching APICs, picked by vector (KVM's vector hashing), so a given
 * interrupt keeps its CPU.  Any context.
 */
int vmm_apic_deliver(struct vmm_vm *vm, struct vmm_vcpu *src,
		     const struct vmm_apic_irq *irq)
{
	/* Pairs with the release in vmm_vcpu_create(): vcpus[] is set. */
	int n = smp_load_acquire(&vm->nr_vcpus), i, matched = 0, ret = 0;
	struct vmm_lapic *from = src ? src->lapic : NULL;
	bool lowest = irq->delivery_mode == VMM_DM_LOWEST;

	for (i = 0; i < n; i++) {
		struct vmm_lapic *l = vm->vcpus[i]->lapic;

		if (!l || !apic_match(l, from, irq))
			continue;
		if (!lowest)
			ret += apic_accept(l, irq);
		matched++;
	}
	if (!matched)
		return -1;
	if (!lowest)
		return ret;
	/* Second pass: the (vector mod matched)-th of them. */
	matched = irq->vector % matched;
	for (i = 0; i < n; i++) {
		struct vmm_lapic *l = vm->vcpus[i]->lapic;

		if (l && apic_match(l, from, irq) && !matched--)
			return apic_accept(l, irq);
	}
	return 0;
}

/* An MSI (address 0xfeeXXXXX, data) as an APIC bus message. */
void vmm_msi_to_apic_irq(u64 addr, u32 data, struct vmm_apic_irq *irq)
{
	memset(irq, 0, sizeof(*irq));
	irq->dest = (addr >> 12) & 0xff;
	irq->logical = addr & BIT(2);
	irq->vector = data & 0xff;
	irq->delivery_mode = (data >> 8) & 7;
	irq->level = data & BIT(14);
	irq->trig_level = data & BIT(15);
}

/* ICR write: the IPI (@dest in the format of the current mode). */
static void apic_send_ipi(struct vmm_lapic *l, u32 icr, u32 dest)
{
	struct vmm_apic_irq irq = {
		.dest = dest,
		.vector = icr & 0xff,
		.delivery_mode = (icr >> 8) & 7,
		.logical = icr & BIT(11),
		.level = icr & BIT(14),
		.trig_level = icr & BIT(15),
		.shorthand = (icr >> 18) & 3,
		.x2apic_dest = x2apic(l),
	};

	vmm_apic_deliver(l->vcpu->vm, l->vcpu, &irq);
}

static void apic_eoi(struct vmm_lapic *l)
{
	unsigned long flags;
	bool level = false;
	int vec;

	spin_lock_irqsave(&l->lock, flags);
	vec = vec_highest(l, VAPIC_ISR);
	if (vec >= 0) {
		vec_clear(l, VAPIC_ISR, vec);
		level = vec_test(l, VAPIC_TMR, vec);
	}
	spin_unlock_irqrestore(&l->lock, flags);
	/* Level interrupts: the IOAPIC learns of the EOI (Remote IRR). */
	if (level)
		vmm_ioapic_eoi(l->vcpu->vm, vec, true);
}

/* ---- registers ---- */

static u32 apic_reg_read(struct vmm_lapic *l, u32 off)
{
	switch (off) {
	case VAPIC_PPR: {
		unsigned long flags;
		u32 ppr;

		spin_lock_irqsave(&l->lock, flags);
		ppr = apic_ppr(l);
		spin_unlock_irqrestore(&l->lock, flags);
		return ppr;
	}
	case VAPIC_TMCCT:
		return timer_current(l);
	case VAPIC_APR:
	case VAPIC_EOI:
	case VAPIC_RRD:
	case VAPIC_SELF_IPI:
		return 0;
	default:
		return lreg(l, off);
	}
}

static bool reg_readable(struct vmm_lapic *l, u32 off)
{
	switch (off) {
	case VAPIC_ID: case VAPIC_LVR: case VAPIC_TPR: case VAPIC_PPR:
	case VAPIC_LDR: case VAPIC_SVR: case VAPIC_ESR: case VAPIC_ICR:
	case VAPIC_LVTT: case VAPIC_LVTTHMR: case VAPIC_LVTPC:
	case VAPIC_LVT0: case VAPIC_LVT1: case VAPIC_LVTERR:
	case VAPIC_TMICT: case VAPIC_TMCCT: case VAPIC_TDCR:
		return true;
	case VAPIC_APR: case VAPIC_RRD: case VAPIC_DFR: case VAPIC_ICR2:
		return !x2apic(l);
	}
	return off >= VAPIC_ISR && off < VAPIC_ESR;	/* ISR, TMR, IRR */
}

static void set_lvt(struct vmm_lapic *l, int i, u32 val)
{
	val &= vapic_lvt_mask[i];
	if (!sw_enabled(l))
		val |= VAPIC_LVT_MASKED;
	lset(l, vapic_lvt_regs[i], val);
}

/* A register write: 0, or -EINVAL (x2APIC: #GP; xAPIC: ignored). */
static int apic_reg_write(struct vmm_lapic *l, u32 off, u32 val)
{
	bool x2 = x2apic(l);
	int i;

	switch (off) {
	case VAPIC_ID:
		if (x2)
			return -EINVAL;
		lset(l, VAPIC_ID, val & 0xff000000);
		break;
	case VAPIC_TPR:
		lset(l, VAPIC_TPR, val & 0xff);
		break;
	case VAPIC_EOI:
		if (x2 && val)
			return -EINVAL;
		apic_eoi(l);
		break;
	case VAPIC_LDR:
		if (x2)
			return -EINVAL;
		lset(l, VAPIC_LDR, val & 0xff000000);
		break;
	case VAPIC_DFR:
		if (x2)
			return -EINVAL;
		lset(l, VAPIC_DFR, val | 0x0fffffff);
		break;
	case VAPIC_SVR:
		lset(l, VAPIC_SVR, val & 0x3ff);
		if (!(val & VAPIC_SVR_ENABLE))
			for (i = 0; i < VAPIC_NR_LVT; i++)
				lset(l, vapic_lvt_regs[i],
				     lreg(l, vapic_lvt_regs[i]) |
				     VAPIC_LVT_MASKED);
		break;
	case VAPIC_ESR:
		if (x2 && val)
			return -EINVAL;
		lset(l, VAPIC_ESR, 0);
		break;
	case VAPIC_ICR:
		lset(l, VAPIC_ICR, val & ~VAPIC_ICR_DS);
		apic_send_ipi(l, val, x2 ? lreg(l, VAPIC_ICR2) :
			      lreg(l, VAPIC_ICR2) >> 24);
		break;
	case VAPIC_ICR2:
		if (x2)
			return -EINVAL;
		lset(l, VAPIC_ICR2, val & 0xff000000);
		break;
	case VAPIC_LVTT: {
		u32 old = timer_mode(l);

		if (((val >> 17) & 3) == 3)
			val &= ~(3U << 17);	/* reserved mode */
		set_lvt(l, 0, val);
		if (timer_mode(l) != old) {
			/* A mode change stops the timer and clears it. */
			timer_stop(l);
			lset(l, VAPIC_TMICT, 0);
			l->tsc_deadline = 0;
		}
		break;
	}
	case VAPIC_LVTTHMR:
	case VAPIC_LVTPC:
	case VAPIC_LVT0:
	case VAPIC_LVT1:
	case VAPIC_LVTERR:
		for (i = 1; i < VAPIC_NR_LVT; i++)
			if (vapic_lvt_regs[i] == off)
				set_lvt(l, i, val);
		break;
	case VAPIC_TMICT:
		if (timer_mode(l) == VAPIC_TIMER_TSCDEADLINE)
			break;
		lset(l, VAPIC_TMICT, val);
		timer_start_count(l, val);
		break;
	case VAPIC_TDCR: {
		u32 left = timer_current(l);

		lset(l, VAPIC_TDCR, val & 0xb);
		/* A running count goes on at the new rate. */
		if (left)
			timer_start_count(l, left);
		break;
	}
	case VAPIC_SELF_IPI:
		if (!x2)
			return -EINVAL;
		apic_send_ipi(l, (val & 0xff) | (1U << 18), 0);
		break;
	default:
		return -EINVAL;		/* read-only or reserved */
	}
	return 0;
}

/* ---- xAPIC MMIO ---- */

bool vmm_lapic_mmio_hit(struct vmm_vcpu *vcpu, u64 gpa)
{
	struct vmm_lapic *l = vcpu->lapic;

	return l && hw_enabled(l) && !x2apic(l) &&
	       (gpa & PAGE_MASK) == (READ_ONCE(l->base) & PAGE_MASK &
				     GENMASK_ULL(51, 0));
}
EXPORT_SYMBOL_GPL(vmm_lapic_mmio_hit);

int vmm_lapic_mmio_read(struct vmm_vcpu *vcpu, u64 gpa, unsigned int len,
			void *val)
{
	struct vmm_lapic *l = vcpu->lapic;
	u32 off = gpa & 0xfff, reg = off & ~0xfU, shift = (off & 0xf) * 8;
	u64 v = 0;

	/* Within one register's first 4 bytes; anything else reads 0. */
	if (reg < KVM_APIC_REG_SIZE && (off & 0xf) + len <= 4 &&
	    reg_readable(l, reg))
		v = apic_reg_read(l, reg) >> shift;
	memset(val, 0, len);
	memcpy(val, &v, min(len, 4U));
	return 0;
}
EXPORT_SYMBOL_GPL(vmm_lapic_mmio_read);

int vmm_lapic_mmio_write(struct vmm_vcpu *vcpu, u64 gpa, unsigned int len,
			 const void *val)
{
	struct vmm_lapic *l = vcpu->lapic;
	u32 off = gpa & 0xfff, v;

	/* Only aligned 32-bit writes do anything (as on hardware). */
	if (len != 4 || (off & 0xf) || off >= KVM_APIC_REG_SIZE)
		return 0;
	memcpy(&v, val, 4);
	apic_reg_write(l, off, v);
	return 0;
}
EXPORT_SYMBOL_GPL(vmm_lapic_mmio_write);

/* ---- MSRs: x2APIC, TSC deadline ---- */

/* 0 done, -EINVAL #GP, -ENOENT not an APIC MSR. */
int vmm_lapic_rdmsr(struct vmm_vcpu *vcpu, u32 index, u64 *data)
{
	struct vmm_lapic *l = vcpu->lapic;
	u32 off = (index - 0x800) << 4;

	if (index == MSR_IA32_TSC_DEADLINE) {
		if (!l)
			return -EINVAL;
		*data = timer_mode(l) == VAPIC_TIMER_TSCDEADLINE ?
			l->tsc_deadline : 0;
		return 0;
	}
	if (index < 0x800 || index > 0x8ff)
		return -ENOENT;
	if (!l || !x2apic(l) || off >= KVM_APIC_REG_SIZE ||
	    !reg_readable(l, off))
		return -EINVAL;
	*data = apic_reg_read(l, off);
	if (off == VAPIC_ICR)
		*data |= (u64)lreg(l, VAPIC_ICR2) << 32;
	return 0;
}
EXPORT_SYMBOL_GPL(vmm_lapic_rdmsr);

int vmm_lapic_wrmsr(struct vmm_vcpu *vcpu, u32 index, u64 data, bool host)
{
	struct vmm_lapic *l = vcpu->lapic;
	u32 off = (index - 0x800) << 4;

	if (index == MSR_IA32_TSC_DEADLINE) {
		if (!l)
			return -EINVAL;
		timer_set_deadline(l, data);
		return 0;
	}
	if (index < 0x800 || index > 0x8ff)
		return -ENOENT;
	if (!l || !x2apic(l) || off >= KVM_APIC_REG_SIZE)
		return -EINVAL;
	if (off == VAPIC_ICR) {
		/* One 64-bit register in x2APIC mode, destination on top. */
		lset(l, VAPIC_ICR2, data >> 32);
		return apic_reg_write(l, VAPIC_ICR, (u32)data);
	}
	if (data >> 32)
		return -EINVAL;
	return apic_reg_write(l, off, data);
}
EXPORT_SYMBOL_GPL(vmm_lapic_wrmsr);

/*
 * IA32_APIC_BASE.  Mode changes as the SDM allows them for a guest:
 * disabled -> xAPIC -> x2APIC -> disabled (host-initiated writes may set
 * any valid state).  Entering x2APIC mode makes the ID the vCPU id and the
 * logical ID the one derived from it.
 */
bool vmm_apic_base_valid(u64 value)
{
	u64 rsvd = 0x2ffULL | ~GENMASK_ULL(boot_cpu_data.x86_phys_bits - 1,
					   0);

	return !(value & rsvd);
}
EXPORT_SYMBOL_GPL(vmm_apic_base_valid);

int vmm_lapic_set_base(struct vmm_vcpu *vcpu, u64 value, bool host)
{
	struct vmm_lapic *l = vcpu->lapic;
	u64 old = l->base, en = VAPIC_BASE_EN | VAPIC_BASE_EXTD;

	if (!vmm_apic_base_valid(value))
		return -EINVAL;
	if ((value & en) == VAPIC_BASE_EXTD)
		return -EINVAL;				/* x2APIC without EN */
	if (!host && (old & en) == en && (value & en) == VAPIC_BASE_EN)
		return -EINVAL;				/* x2APIC -> xAPIC */
	if (!host && !(old & VAPIC_BASE_EN) && (value & en) == en)
		return -EINVAL;				/* off -> x2APIC */

	WRITE_ONCE(l->base, value);
	if ((value & en) == en && (old & en) != en) {
		lset(l, VAPIC_ID, vcpu->id);
		lset(l, VAPIC_LDR, x2apic_ldr(vcpu->id));
	} else if ((value & en) == VAPIC_BASE_EN && (old & en) == en) {
		lset(l, VAPIC_ID, vcpu->id << 24);
		lset(l, VAPIC_LDR, 0);
	}
	if ((old ^ value) & VAPIC_BASE_EN)
		vmm_pic_kick(vcpu->vm);	/* PIC routing may have changed */
	return 0;
}
EXPORT_SYMBOL_GPL(vmm_lapic_set_base);

/* ---- what the run loop asks ---- */

/* The vector the vCPU would take next, or -1. */
int vmm_lapic_pending_vector(struct vmm_vcpu *vcpu)
{
	struct vmm_lapic *l = vcpu->lapic;
	unsigned long flags;
	int vec;

	if (!hw_enabled(l))
		return -1;
	spin_lock_irqsave(&l->lock, flags);
	vec = apic_deliverable(l);
	spin_unlock_irqrestore(&l->lock, flags);
	return vec;
}

/* Take it: IRR -> ISR.  The vector, or -1 if none is deliverable. */
int vmm_lapic_ack(struct vmm_vcpu *vcpu)
{
	struct vmm_lapic *l = vcpu->lapic;
	unsigned long flags;
	int vec;

	if (!hw_enabled(l))
		return -1;
	spin_lock_irqsave(&l->lock, flags);
	vec = apic_deliverable(l);
	if (vec >= 0) {
		vec_clear(l, VAPIC_IRR, vec);
		vec_set(l, VAPIC_ISR, vec);
	}
	spin_unlock_irqrestore(&l->lock, flags);
	return vec;
}

/* The PIC's INTR reaches this CPU: LINT0 in ExtINT mode, or APIC off. */
bool vmm_lapic_accepts_pic(struct vmm_vcpu *vcpu)
{
	struct vmm_lapic *l = vcpu->lapic;
	u32 lvt0;

	if (!l)
		return false;
	if (!hw_enabled(l))
		return true;
	lvt0 = lreg(l, VAPIC_LVT0);
	return !(lvt0 & VAPIC_LVT_MASKED) &&
	       ((lvt0 >> 8) & 7) == VMM_DM_EXTINT;
}

/* CR8 is TPR[7:4]. */
void vmm_lapic_set_tpr(struct vmm_vcpu *vcpu, u8 tpr)
{
	lset(vcpu->lapic, VAPIC_TPR, tpr);
}
EXPORT_SYMBOL_GPL(vmm_lapic_set_tpr);

u8 vmm_lapic_get_tpr(struct vmm_vcpu *vcpu)
{
	return lreg(vcpu->lapic, VAPIC_TPR);
}
EXPORT_SYMBOL_GPL(vmm_lapic_get_tpr);

/* ---- reset, creation, state ---- */

/* Power-on (@init false) or INIT state (SDM 10.4.7.1); owner thread. */
void vmm_lapic_reset(struct vmm_vcpu *vcpu, bool init)
{
	struct vmm_lapic *l = vcpu->lapic;
	unsigned long flags;
	int i;

	if (!l)
		return;
	timer_stop(l);
	if (!init)
		WRITE_ONCE(l->base, VAPIC_DEFAULT_BASE | VAPIC_BASE_EN |
			   (vcpu->id ? 0 : VAPIC_BASE_BSP));
	spin_lock_irqsave(&l->lock, flags);
	memset(l->regs, 0, sizeof(l->regs));
	lset(l, VAPIC_ID, x2apic(l) ? vcpu->id : vcpu->id << 24);
	if (x2apic(l))
		lset(l, VAPIC_LDR, x2apic_ldr(vcpu->id));
	lset(l, VAPIC_LVR, VAPIC_VERSION | ((VAPIC_NR_LVT - 1) << 16));
	lset(l, VAPIC_DFR, 0xffffffff);
	lset(l, VAPIC_SVR, 0xff);
	for (i = 0; i < VAPIC_NR_LVT; i++)
		lset(l, vapic_lvt_regs[i], VAPIC_LVT_MASKED);
	/*
	 * The BSP's LINT0 is an unmasked ExtINT, as a BIOS leaves it and as
	 * KVM presents it, so the 8259 works before any APIC set-up.
	 */
	if (!vcpu->id)
		lset(l, VAPIC_LVT0, VMM_DM_EXTINT << 8);
	l->tsc_deadline = 0;
	l->period_ns = 0;
	if (!init)
		l->pending = 0;
	else
		clear_bit(VMM_APIC_INIT, &l->pending);
	spin_unlock_irqrestore(&l->lock, flags);
}

int vmm_lapic_create(struct vmm_vcpu *vcpu)
{
	struct vmm_lapic *l = kzalloc(sizeof(*l), GFP_KERNEL_ACCOUNT);

	if (!l)
		return -ENOMEM;
	l->vcpu = vcpu;
	spin_lock_init(&l->lock);
	hrtimer_init(&l->timer, CLOCK_MONOTONIC, HRTIMER_MODE_ABS_HARD);
	l->timer.function = vmm_lapic_timer_fn;
	vcpu->lapic = l;
	vmm_lapic_reset(vcpu, false);
	return 0;
}

void vmm_lapic_free(struct vmm_vcpu *vcpu)
{
	struct vmm_lapic *l = vcpu->lapic;

	if (!l)
		return;
	timer_stop(l);
	kfree(l);
	vcpu->lapic = NULL;
}

/*
 * KVM_GET_LAPIC: the register file, with the current count and PPR, and
 * in x2APIC mode the ID in xAPIC position (KVM's format without
 * KVM_CAP_X2APIC_API).
 */
int vmm_lapic_get_state(struct vmm_vcpu *vcpu, struct kvm_lapic_state *s)
{
	struct vmm_lapic *l = vcpu->lapic;
	unsigned long flags;
	u32 tmcct = timer_current(l);

	spin_lock_irqsave(&l->lock, flags);
	memcpy(s->regs, l->regs, sizeof(s->regs));
	*(u32 *)(s->regs + VAPIC_PPR) = apic_ppr(l);
	spin_unlock_irqrestore(&l->lock, flags);
	*(u32 *)(s->regs + VAPIC_TMCCT) = tmcct;
	if (x2apic(l))
		*(u32 *)(s->regs + VAPIC_ID) = vcpu->id << 24;
	return 0;
}

/*
 * KVM_SET_LAPIC: the register file as given (for the current
 * IA32_APIC_BASE, which KVM_SET_MSRS or KVM_SET_SREGS set first); the
 * timer restarts from its initial count, as KVM's does.
 */
int vmm_lapic_set_state(struct vmm_vcpu *vcpu,
			const struct kvm_lapic_state *s)
{
	struct vmm_lapic *l = vcpu->lapic;
	u32 id = *(const u32 *)(s->regs + VAPIC_ID);
	unsigned long flags;

	if (x2apic(l) && id >> 24 != vcpu->id)
		return -EINVAL;
	timer_stop(l);
	spin_lock_irqsave(&l->lock, flags);
	memcpy(l->regs, s->regs, sizeof(l->regs));
	lset(l, VAPIC_LVR, VAPIC_VERSION | ((VAPIC_NR_LVT - 1) << 16));
	lset(l, VAPIC_TMCCT, 0);
	lset(l, VAPIC_PPR, 0);
	if (x2apic(l)) {
		lset(l, VAPIC_ID, vcpu->id);
		lset(l, VAPIC_LDR, x2apic_ldr(vcpu->id));
	}
	spin_unlock_irqrestore(&l->lock, flags);
	if (timer_mode(l) == VAPIC_TIMER_TSCDEADLINE)
		timer_set_deadline(l, l->tsc_deadline);
	else
		timer_start_count(l, lreg(l, VAPIC_TMICT));
	vmm_vcpu_kick(vcpu);
	return 0;
}
