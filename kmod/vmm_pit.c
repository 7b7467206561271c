// SPDX-License-Identifier: GPL-2.0
/*
 * 8254 PIT (Intel 82C54 datasheet) at ports 0x40-0x43, 1.193182 MHz, as
 * a PC wires it: channel 0 raises IRQ 0 (an hrtimer pulses the line: one
 * pulse per period in modes 2 and 3, one at terminal count in modes 0, 1
 * and 4), channel 2's gate and output are bits 0 and 5 of port 0x61 (with
 * KVM_PIT_SPEAKER_DUMMY, as KVM), which is what guests calibrate their
 * TSC with.  Counters are computed from the time of the last load, so
 * reading one costs no timer.  Periodic rates above 5 kHz are slowed to
 * that (KVM does the same).  A missed tick is dropped, not reinjected.
 *
 * The state is KVM's struct kvm_pit_state2 (times in host monotonic ns),
 * under pit->lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/math64.h>
#include <linux/slab.h>

#include "vmm.h"
#include "vmm_irqchip.h"

#define PIT_FREQ		1193182
#define PIT_MIN_PERIOD_NS	(200 * NSEC_PER_USEC)
#define PIT_BASE		0x40
#define PIT_SPEAKER		0x61

enum { RW_LSB = 1, RW_MSB, RW_WORD0, RW_WORD1 };

static struct kvm_pit_channel_state *chan(struct vmm_pit *pit, int i)
{
	return &pit->s.channels[i];
}

/* Input clock ticks since the count was loaded. */
static u64 pit_ticks(struct kvm_pit_channel_state *c)
{
	s64 ns = ktime_get_ns() - c->count_load_time;

	return ns > 0 ? mul_u64_u32_div(ns, PIT_FREQ, NSEC_PER_SEC) : 0;
}

static u64 ticks_mod(u64 d, u32 count)
{
	u64 rem;

	div64_u64_rem(d, count, &rem);
	return rem;
}

static u32 pit_count_now(struct kvm_pit_channel_state *c)
{
	u64 d = pit_ticks(c);

	switch (c->mode) {
	case 2:
		return c->count - ticks_mod(d, c->count);
	case 3:
		/* Square wave: counts down by two, twice a period. */
		return c->count - ticks_mod(2 * d, c->count);
	default:
		return (c->count - d) & 0xffff;
	}
}

static bool pit_out(struct kvm_pit_channel_state *c)
{
	u64 d = pit_ticks(c);

	switch (c->mode) {
	case 1:
		return d < c->count;
	case 2:
		return d && !ticks_mod(d, c->count);
	case 3:
		return ticks_mod(d, c->count) < ((c->count + 1) >> 1);
	case 4:
	case 5:
		return d == c->count;
	default:
		return d >= c->count;
	}
}

static u64 count_to_ns(u32 count)
{
	return mul_u64_u32_div(count, NSEC_PER_SEC, PIT_FREQ);
}

static enum hrtimer_restart vmm_pit_timer_fn(struct hrtimer *t)
{
	struct vmm_pit *pit = container_of(t, struct vmm_pit, timer);
	u64 period = READ_ONCE(pit->period_ns);

	vmm_irq_line(pit->vm, VMM_IRQ_SRC_PIT, 0, true);
	vmm_irq_line(pit->vm, VMM_IRQ_SRC_PIT, 0, false);
	if (!period)
		return HRTIMER_NORESTART;
	hrtimer_forward_now(t, ns_to_ktime(period));
	return HRTIMER_RESTART;
}

/*
 * Channel 0 after a load (or a restored state): the next interrupt.
 * Called without pit->lock: hrtimer_cancel waits for the callback.
 */
static void pit_restart_timer(struct vmm_pit *pit)
{
	struct kvm_pit_channel_state c;
	unsigned long flags;
	u64 interval, period = 0, first;
	s64 since;

	hrtimer_cancel(&pit->timer);
	spin_lock_irqsave(&pit->lock, flags);
	c = *chan(pit, 0);
	spin_unlock_irqrestore(&pit->lock, flags);
	if (pit->s.flags & KVM_PIT_FLAGS_HPET_LEGACY)
		return;
	interval = count_to_ns(c.count);
	switch (c.mode) {
	case 2:
	case 3:
		period = interval;
		if (period < PIT_MIN_PERIOD_NS) {
			pr_info_ratelimited("PIT period %llu ns raised to %llu ns\n",
					    period, (u64)PIT_MIN_PERIOD_NS);
			period = PIT_MIN_PERIOD_NS;
		}
		fallthrough;
	case 0:
	case 1:
	case 4:
		break;
	default:
		return;
	}
	WRITE_ONCE(pit->period_ns, period);
	since = ktime_get_ns() - c.count_load_time;
	if (since < 0)
		since = 0;
	if (period) {
		/* The first tick of the current period still to come. */
		first = period - ticks_mod(since, period);
	} else {
		if (since >= interval)
			return;		/* terminal count already passed */
		first = interval - since;
	}
	hrtimer_start(&pit->timer, ktime_add_ns(ktime_get(), first),
		      HRTIMER_MODE_ABS_HARD);
}

/* Load a new count (0 is 65536); channel 0 restarts its timer. */
static bool pit_load(struct vmm_pit *pit, int ch, u32 val)
{
	struct kvm_pit_channel_state *c = chan(pit, ch);

	c->count = val ? val : 0x10000;
	c->count_load_time = ktime_get_ns();
	return ch == 0;
}

static void pit_latch_count(struct kvm_pit_channel_state *c)
{
	if (c->count_latched)
		return;
	c->latched_count = pit_count_now(c);
	c->count_latched = c->rw_mode;
}

static void pit_latch_status(struct kvm_pit_channel_state *c)
{
	if (c->status_latched)
		return;
	c->status = pit_out(c) << 7 | c->rw_mode << 4 | c->mode << 1 | c->bcd;
	c->status_latched = 1;
}

static int pit_write(struct vmm_io_device *dev, struct vmm_vcpu *vcpu,
		     u64 addr, unsigned int len, const void *val)
{
	struct vmm_pit *pit = container_of(dev, struct vmm_pit, dev);
	u8 v = *(const u8 *)val;
	struct kvm_pit_channel_state *c;
	unsigned long flags;
	bool restart = false;
	int ch;

	if (addr < PIT_BASE || addr > PIT_BASE + 3)
		return -EOPNOTSUPP;
	spin_lock_irqsave(&pit->lock, flags);
	if (addr == PIT_BASE + 3) {
		ch = v >> 6;
		if (ch == 3) {				/* read-back */
			for (ch = 0; ch < 3; ch++) {
				if (!(v & (2 << ch)))
					continue;
				if (!(v & 0x20))
					pit_latch_count(chan(pit, ch));
				if (!(v & 0x10))
					pit_latch_status(chan(pit, ch));
			}
		} else if (!(v & 0x30)) {		/* counter latch */
			pit_latch_count(chan(pit, ch));
		} else {				/* mode set */
			c = chan(pit, ch);
			c->rw_mode = (v >> 4) & 3;
			c->read_state = c->rw_mode;
			c->write_state = c->rw_mode;
			c->mode = (v >> 1) & 7;
			if (c->mode > 5)
				c->mode -= 4;	/* 6, 7 are 2, 3 */
			c->bcd = v & 1;
		}
	} else {
		ch = addr - PIT_BASE;
		c = chan(pit, ch);
		switch (c->write_state) {
		case RW_MSB:
			restart = pit_load(pit, ch, v << 8);
			break;
		case RW_WORD0:
			c->write_latch = v;
			c->write_state = RW_WORD1;
			break;
		case RW_WORD1:
			restart = pit_load(pit, ch, c->write_latch | v << 8);
			c->write_state = RW_WORD0;
			break;
		default:
			restart = pit_load(pit, ch, v);
			break;
		}
	}
	spin_unlock_irqrestore(&pit->lock, flags);
	if (restart)
		pit_restart_timer(pit);
	return 0;
}

static int pit_read(struct vmm_io_device *dev, struct vmm_vcpu *vcpu,
		    u64 addr, unsigned int len, void *val)
{
	struct vmm_pit *pit = container_of(dev, struct vmm_pit, dev);
	struct kvm_pit_channel_state *c;
	unsigned long flags;
	u32 v, count;

	if (addr < PIT_BASE || addr > PIT_BASE + 3)
		return -EOPNOTSUPP;
	memset(val, 0, len);
	if (addr == PIT_BASE + 3)
		return 0;		/* the control word cannot be read */
	c = chan(pit, addr - PIT_BASE);
	spin_lock_irqsave(&pit->lock, flags);
	if (c->status_latched) {
		c->status_latched = 0;
		v = c->status;
	} else if (c->count_latched) {
		if (c->count_latched == RW_MSB) {
			v = c->latched_count >> 8;
			c->count_latched = 0;
		} else if (c->count_latched == RW_WORD0) {
			v = c->latched_count & 0xff;
			c->count_latched = RW_MSB;
		} else {
			v = c->latched_count & 0xff;
			c->count_latched = 0;
		}
	} else {
		count = pit_count_now(c);
		switch (c->read_state) {
		case RW_MSB:
			v = count >> 8;
			break;
		case RW_WORD0:
			v = count & 0xff;
			c->read_state = RW_WORD1;
			break;
		case RW_WORD1:
			v = count >> 8;
			c->read_state = RW_WORD0;
			break;
		default:
			v = count & 0xff;
			break;
		}
	}
	spin_unlock_irqrestore(&pit->lock, flags);
	*(u8 *)val = v;
	return 0;
}

static const struct vmm_io_ops vmm_pit_ops = {
	.read = pit_read,
	.write = pit_write,
};

/* Port 0x61: channel 2's gate (bit 0) and output (bit 5), speaker data. */
static int speaker_read(struct vmm_io_device *dev, struct vmm_vcpu *vcpu,
			u64 addr, unsigned int len, void *val)
{
	struct vmm_pit *pit = container_of(dev, struct vmm_pit, speaker);
	struct kvm_pit_channel_state *c2 = chan(pit, 2);
	unsigned long flags;
	u8 v;

	if (addr != PIT_SPEAKER)
		return -EOPNOTSUPP;
	spin_lock_irqsave(&pit->lock, flags);
	/* Bit 4 is the DRAM refresh toggle, every 15 us or so. */
	v = c2->gate | !!(pit->s.flags & KVM_PIT_FLAGS_SPEAKER_DATA_ON) << 1 |
	    ((ktime_get_ns() >> 14) & 1) << 4 | pit_out(c2) << 5;
	spin_unlock_irqrestore(&pit->lock, flags);
	memset(val, 0, len);
	*(u8 *)val = v;
	return 0;
}

static int speaker_write(struct vmm_io_device *dev, struct vmm_vcpu *vcpu,
			 u64 addr, unsigned int len, const void *val)
{
	struct vmm_pit *pit = container_of(dev, struct vmm_pit, speaker);
	struct kvm_pit_channel_state *c2 = chan(pit, 2);
	u8 v = *(const u8 *)val;
	unsigned long flags;

	if (addr != PIT_SPEAKER)
		return -EOPNOTSUPP;
	spin_lock_irqsave(&pit->lock, flags);
	if (v & 2)
		pit->s.flags |= KVM_PIT_FLAGS_SPEAKER_DATA_ON;
	else
		pit->s.flags &= ~KVM_PIT_FLAGS_SPEAKER_DATA_ON;
	/* A rising gate restarts the count in modes 1, 2, 3 and 5. */
	if ((v & 1) && !c2->gate && c2->mode != 0 && c2->mode != 4)
		c2->count_load_time = ktime_get_ns();
	c2->gate = v & 1;
	spin_unlock_irqrestore(&pit->lock, flags);
	return 0;
}

static const struct vmm_io_ops vmm_speaker_ops = {
	.read = speaker_read,
	.write = speaker_write,
};

static void pit_reset(struct vmm_pit *pit)
{
	int i;

	memset(&pit->s, 0, sizeof(pit->s));
	for (i = 0; i < 3; i++) {
		struct kvm_pit_channel_state *c = chan(pit, i);

		c->gate = i != 2;	/* only channel 2's gate is wired */
		c->count = 0x10000;
		c->count_load_time = ktime_get_ns();
	}
}

int vmm_pit_create(struct vmm_vm *vm, const struct kvm_pit_config *cfg)
{
	struct vmm_irqchip *chip = vm->irqchip;
	struct vmm_pit *pit;
	int ret;

	if (cfg->flags & ~KVM_PIT_SPEAKER_DUMMY)
		return -EINVAL;
	if (!chip)
		return -ENXIO;
	if (chip->pit)
		return -EEXIST;
	pit = kzalloc(sizeof(*pit), GFP_KERNEL_ACCOUNT);
	if (!pit)
		return -ENOMEM;
	pit->vm = vm;
	spin_lock_init(&pit->lock);
	hrtimer_init(&pit->timer, CLOCK_MONOTONIC, HRTIMER_MODE_ABS_HARD);
	pit->timer.function = vmm_pit_timer_fn;
	pit->dev.ops = &vmm_pit_ops;
	pit->speaker.ops = &vmm_speaker_ops;
	pit_reset(pit);

	ret = vmm_io_bus_register(vm, VMM_PIO_BUS, PIT_BASE, 4, &pit->dev);
	if (ret)
		goto err;
	if (cfg->flags & KVM_PIT_SPEAKER_DUMMY) {
		ret = vmm_io_bus_register(vm, VMM_PIO_BUS, PIT_SPEAKER, 1,
					  &pit->speaker);
		if (ret) {
			vmm_io_bus_unregister(vm, VMM_PIO_BUS, &pit->dev);
			goto err;
		}
	}
	chip->pit = pit;
	return 0;
err:
	kfree(pit);
	return ret;
}

/* VM teardown (no vCPU runs) or failure paths; vm->lock held. */
void vmm_pit_destroy(struct vmm_vm *vm)
{
	struct vmm_pit *pit = vm->irqchip ? vm->irqchip->pit : NULL;

	if (!pit)
		return;
	hrtimer_cancel(&pit->timer);
	vm->irqchip->pit = NULL;
	kfree(pit);
}

int vmm_pit_get_state(struct vmm_vm *vm, struct kvm_pit_state2 *s)
{
	struct vmm_pit *pit = vm->irqchip ? vm->irqchip->pit : NULL;
	unsigned long flags;

	if (!pit)
		return -ENXIO;
	spin_lock_irqsave(&pit->lock, flags);
	*s = pit->s;
	spin_unlock_irqrestore(&pit->lock, flags);
	return 0;
}

/*
 * KVM_SET_PIT2: the state as given, load times included (one in the
 * future means now), and channel 0's timer from its load time on.
 */
int vmm_pit_set_state(struct vmm_vm *vm, const struct kvm_pit_state2 *s)
{
	struct vmm_pit *pit = vm->irqchip ? vm->irqchip->pit : NULL;
	s64 now = ktime_get_ns();
	unsigned long flags;
	int i;

	if (!pit)
		return -ENXIO;
	if (s->flags & ~(KVM_PIT_FLAGS_HPET_LEGACY |
			 KVM_PIT_FLAGS_SPEAKER_DATA_ON))
		return -EINVAL;
	for (i = 0; i < 3; i++) {
		const struct kvm_pit_channel_state *c = &s->channels[i];

		if (c->mode > 5 || c->rw_mode > 3 || c->read_state > 4 ||
		    c->write_state > 4 || c->count_latched > 4 ||
		    !c->count || c->count > 0x10000 || c->gate > 1)
			return -EINVAL;
	}
	spin_lock_irqsave(&pit->lock, flags);
	pit->s = *s;
	memset(pit->s.reserved, 0, sizeof(pit->s.reserved));
	for (i = 0; i < 3; i++)
		if (chan(pit, i)->count_load_time > now)
			chan(pit, i)->count_load_time = now;
	spin_unlock_irqrestore(&pit->lock, flags);
	pit_restart_timer(pit);
	return 0;
}
