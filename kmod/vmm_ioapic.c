// SPDX-License-Identifier: GPL-2.0
/*
 * IOAPIC (82093AA datasheet; version 0x11, 24 pins, as KVM's): MMIO
 * IOREGSEL/IOWIN at 0xfec00000 plus the EOI register of later versions,
 * the redirection table, edge and level pins with Remote IRR, and the EOI
 * broadcast from the local APICs.  Interrupts go out as APIC bus messages
 * (vmm_apic_deliver).  A level interrupt still asserted at its EOI is sent
 * again at once, except when that happens 10000 times in a row: then the
 * next one waits 10 ms, so a guest that never quiets its device still
 * makes progress and the host is not stormed (KVM does the same).
 *
 * The state is KVM's struct kvm_ioapic_state, under ioapic->lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/nospec.h>

#include "vmm.h"
#include "vmm_irqchip.h"

#define IOAPIC_VERSION		0x11
#define IOAPIC_REG_ID		0x00
#define IOAPIC_REG_VERSION	0x01
#define IOAPIC_REG_ARB		0x02
#define IOAPIC_REG_TABLE	0x10

#define IOAPIC_OFF_SEL		0x00
#define IOAPIC_OFF_WIN		0x10
#define IOAPIC_OFF_EOI		0x40

/* Redirection entry bits. */
#define RTE_VECTOR		0xffULL
#define RTE_DM_SHIFT		8
#define RTE_LOGICAL		BIT_ULL(11)
#define RTE_DELIV_STATUS	BIT_ULL(12)
#define RTE_REMOTE_IRR		BIT_ULL(14)
#define RTE_LEVEL		BIT_ULL(15)
#define RTE_MASKED		BIT_ULL(16)
#define RTE_DEST_SHIFT		56

#define IOAPIC_STORM_LIMIT	10000

static u64 *rte(struct vmm_ioapic *io, u32 pin)
{
	return &io->s.redirtbl[pin].bits;
}

/* Send pin's interrupt if its entry allows; caller holds the lock. */
static int ioapic_service(struct vmm_ioapic *io, u32 pin)
{
	u64 e = *rte(io, pin);
	struct vmm_apic_irq irq = {
		.dest = e >> RTE_DEST_SHIFT,
		.vector = e & RTE_VECTOR,
		.delivery_mode = (e >> RTE_DM_SHIFT) & 7,
		.logical = e & RTE_LOGICAL,
		.level = true,
		.trig_level = e & RTE_LEVEL,
	};
	int ret;

	if ((e & RTE_MASKED) || ((e & RTE_LEVEL) && (e & RTE_REMOTE_IRR)))
		return -1;
	ret = vmm_apic_deliver(io->vm, NULL, &irq);
	if (ret > 0 && (e & RTE_LEVEL))
		*rte(io, pin) |= RTE_REMOTE_IRR;
	return ret;
}

/*
 * A line changed.  Level pins follow the line (IRR) and send while it is
 * high and no EOI is outstanding; edge pins send on a rising edge.
 * Returns 1 sent (or line lowered), 0 coalesced, -1 masked or nobody.
 */
int vmm_ioapic_set_irq(struct vmm_ioapic *io, u32 pin, int src, bool level)
{
	unsigned long flags;
	u32 bit = BIT(pin), old;
	int ret;

	if (pin >= VMM_IOAPIC_PINS)
		return -1;
	spin_lock_irqsave(&io->lock, flags);
	level = vmm_irq_source_level(&io->pin_src[pin], src, level);
	old = io->s.irr;
	if (!level) {
		io->s.irr &= ~bit;
		ret = 1;
	} else {
		io->s.irr |= bit;
		if (!(*rte(io, pin) & RTE_LEVEL) && (old & bit))
			ret = 0;	/* no new edge */
		else if ((*rte(io, pin) & RTE_LEVEL) &&
			 (*rte(io, pin) & RTE_REMOTE_IRR))
			ret = 0;	/* waits for the EOI */
		else
			ret = ioapic_service(io, pin);
	}
	spin_unlock_irqrestore(&io->lock, flags);
	return ret;
}

static void ioapic_storm_work(struct work_struct *work)
{
	struct vmm_ioapic *io = container_of(to_delayed_work(work),
					     struct vmm_ioapic, storm_work);
	unsigned long flags;
	u32 pin;

	spin_lock_irqsave(&io->lock, flags);
	for (pin = 0; pin < VMM_IOAPIC_PINS; pin++)
		if ((*rte(io, pin) & RTE_LEVEL) && (io->s.irr & BIT(pin)))
			ioapic_service(io, pin);
	spin_unlock_irqrestore(&io->lock, flags);
}

/*
 * EOI of @vector by a local APIC (or through the EOI register): the pins
 * with that vector are acknowledged (notifiers first, without the lock, so
 * that an irqfd resampler can lower its line), then level pins clear
 * Remote IRR and send again if their line is still high.
 */
static void ioapic_eoi(struct vmm_ioapic *io, u8 vector)
{
	unsigned long flags, pins = 0;
	u32 pin;

	spin_lock_irqsave(&io->lock, flags);
	for (pin = 0; pin < VMM_IOAPIC_PINS; pin++)
		if ((*rte(io, pin) & RTE_VECTOR) == vector)
			pins |= BIT(pin);
	spin_unlock_irqrestore(&io->lock, flags);
	if (!pins)
		return;

	for_each_set_bit(pin, &pins, VMM_IOAPIC_PINS)
		vmm_irq_acked(io->vm, KVM_IRQCHIP_IOAPIC, pin);

	spin_lock_irqsave(&io->lock, flags);
	for_each_set_bit(pin, &pins, VMM_IOAPIC_PINS) {
		u64 *e = rte(io, pin);

		if (!(*e & RTE_LEVEL) || (*e & RTE_VECTOR) != vector)
			continue;
		*e &= ~RTE_REMOTE_IRR;
		if ((*e & RTE_MASKED) || !(io->s.irr & BIT(pin))) {
			io->eoi_storm[pin] = 0;
			continue;
		}
		if (++io->eoi_storm[pin] >= IOAPIC_STORM_LIMIT) {
			io->eoi_storm[pin] = 0;
			schedule_delayed_work(&io->storm_work, HZ / 100);
		} else {
			ioapic_service(io, pin);
		}
	}
	spin_unlock_irqrestore(&io->lock, flags);
}

void vmm_ioapic_eoi(struct vmm_vm *vm, u8 vector, bool level)
{
	struct vmm_irqchip *chip = READ_ONCE(vm->irqchip);

	if (chip && level)
		ioapic_eoi(&chip->ioapic, vector);
}

static u32 ioapic_read_win(struct vmm_ioapic *io)
{
	u32 sel = io->s.ioregsel, idx;

	switch (sel) {
	case IOAPIC_REG_ID:
	case IOAPIC_REG_ARB:
		return (io->s.id & 0xf) << 24;
	case IOAPIC_REG_VERSION:
		return ((VMM_IOAPIC_PINS - 1) << 16) | IOAPIC_VERSION;
	}
	idx = (sel - IOAPIC_REG_TABLE) >> 1;
	if (sel < IOAPIC_REG_TABLE || idx >= VMM_IOAPIC_PINS)
		return 0xffffffff;
	idx = array_index_nospec(idx, VMM_IOAPIC_PINS);
	return sel & 1 ? *rte(io, idx) >> 32 : (u32)*rte(io, idx);
}

static void ioapic_write_win(struct vmm_ioapic *io, u32 val)
{
	u32 sel = io->s.ioregsel, idx;
	u64 *e, keep;

	if (sel == IOAPIC_REG_ID) {
		io->s.id = (val >> 24) & 0xf;
		return;
	}
	idx = (sel - IOAPIC_REG_TABLE) >> 1;
	if (sel < IOAPIC_REG_TABLE || idx >= VMM_IOAPIC_PINS)
		return;
	idx = array_index_nospec(idx, VMM_IOAPIC_PINS);
	e = rte(io, idx);
	keep = *e & (RTE_REMOTE_IRR | RTE_DELIV_STATUS);
	if (sel & 1)
		*e = (*e & 0xffffffffULL) | (u64)val << 32;
	else
		*e = (*e & ~0xffffffffULL) | val;
	*e = (*e & ~(RTE_REMOTE_IRR | RTE_DELIV_STATUS)) | keep;
	/*
	 * An edge entry has no Remote IRR: guests (Linux among them) switch
	 * a pin to edge and back to clear it on IOAPICs without EOI register.
	 */
	if (!(*e & RTE_LEVEL))
		*e &= ~RTE_REMOTE_IRR;
	else if (io->s.irr & BIT(idx))
		ioapic_service(io, idx);	/* unmasked with the line high */
}

static bool ioapic_range(struct vmm_ioapic *io, u64 addr, unsigned int len)
{
	return addr >= io->s.base_address &&
	       addr + len <= io->s.base_address + VMM_IOAPIC_SIZE;
}

static int ioapic_mmio_read(struct vmm_io_device *dev, struct vmm_vcpu *vcpu,
			    u64 addr, unsigned int len, void *val)
{
	struct vmm_ioapic *io = container_of(dev, struct vmm_ioapic, dev);
	unsigned long flags;
	u32 off, v = 0;

	if (!ioapic_range(io, addr, len))
		return -EOPNOTSUPP;
	off = addr - io->s.base_address;
	spin_lock_irqsave(&io->lock, flags);
	switch (off & ~3U) {
	case IOAPIC_OFF_SEL:
		v = io->s.ioregsel;
		break;
	case IOAPIC_OFF_WIN:
		v = ioapic_read_win(io);
		break;
	}
	spin_unlock_irqrestore(&io->lock, flags);
	v >>= (off & 3) * 8;
	memset(val, 0, len);
	memcpy(val, &v, min(len, 4U));
	return 0;
}

static int ioapic_mmio_write(struct vmm_io_device *dev,
			     struct vmm_vcpu *vcpu, u64 addr,
			     unsigned int len, const void *val)
{
	struct vmm_ioapic *io = container_of(dev, struct vmm_ioapic, dev);
	unsigned long flags;
	u32 off, v = 0;

	if (!ioapic_range(io, addr, len))
		return -EOPNOTSUPP;
	off = addr - io->s.base_address;
	memcpy(&v, val, min(len, 4U));
	if (off == IOAPIC_OFF_EOI) {
		ioapic_eoi(io, v & 0xff);
		return 0;
	}
	spin_lock_irqsave(&io->lock, flags);
	if (off == IOAPIC_OFF_SEL)
		io->s.ioregsel = v & 0xff;
	else if (off == IOAPIC_OFF_WIN)
		ioapic_write_win(io, v);
	spin_unlock_irqrestore(&io->lock, flags);
	return 0;
}

const struct vmm_io_ops vmm_ioapic_ops = {
	.read = ioapic_mmio_read,
	.write = ioapic_mmio_write,
};

void vmm_ioapic_reset(struct vmm_ioapic *io)
{
	unsigned long flags;
	u32 pin;

	spin_lock_irqsave(&io->lock, flags);
	memset(&io->s, 0, sizeof(io->s));
	io->s.base_address = VMM_IOAPIC_BASE;
	for (pin = 0; pin < VMM_IOAPIC_PINS; pin++)
		*rte(io, pin) = RTE_MASKED;
	memset(io->pin_src, 0, sizeof(io->pin_src));
	memset(io->eoi_storm, 0, sizeof(io->eoi_storm));
	spin_unlock_irqrestore(&io->lock, flags);
}

void vmm_ioapic_init(struct vmm_ioapic *io, struct vmm_vm *vm)
{
	io->vm = vm;
	io->dev.ops = &vmm_ioapic_ops;
	spin_lock_init(&io->lock);
	INIT_DELAYED_WORK(&io->storm_work, ioapic_storm_work);
	vmm_ioapic_reset(io);
}

void vmm_ioapic_destroy(struct vmm_ioapic *io)
{
	cancel_delayed_work_sync(&io->storm_work);
}

void vmm_ioapic_get_state(struct vmm_ioapic *io, struct kvm_ioapic_state *s)
{
	unsigned long flags;

	spin_lock_irqsave(&io->lock, flags);
	*s = io->s;
	spin_unlock_irqrestore(&io->lock, flags);
}

/*
 * KVM_SET_IRQCHIP: the state as given; lines whose IRR bit is set count
 * as driven by userspace (KVM_IRQ_LINE lowers them), and level pins
 * whose line is high and EOI done send again, as after a real assertion.
 */
int vmm_ioapic_set_state(struct vmm_ioapic *io,
			 const struct kvm_ioapic_state *s)
{
	unsigned long flags;
	u32 pin;

	spin_lock_irqsave(&io->lock, flags);
	io->s = *s;
	io->s.pad = 0;
	for (pin = 0; pin < VMM_IOAPIC_PINS; pin++) {
		io->pin_src[pin] = io->s.irr & BIT(pin) ?
				   BIT(VMM_IRQ_SRC_USER) : 0;
		io->eoi_storm[pin] = 0;
		if ((*rte(io, pin) & RTE_LEVEL) && (io->s.irr & BIT(pin)))
			ioapic_service(io, pin);
	}
	spin_unlock_irqrestore(&io->lock, flags);
	return 0;
}
