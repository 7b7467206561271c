// SPDX-License-Identifier: GPL-2.0
/*
 * Dual 8259A PIC (Intel 8259A datasheet) as in a PC: master at 0x20-0x21,
 * slave at 0xa0-0xa1 cascaded on the master's IRQ 2, and the PIIX edge /
 * level control registers (ELCR) at 0x4d0-0x4d1.  Initialization words,
 * IMR, OCW2 EOIs and rotations, OCW3 register reads, poll mode, special
 * mask, auto-EOI and special fully nested mode.  The master's INTR goes to
 * the vCPUs whose LAPIC takes ExtINT on LINT0 (or is disabled); the vCPU
 * acknowledges it when it injects (vmm_pic_ack).
 *
 * The state of each chip is KVM's struct kvm_pic_state; both chips share
 * pic->lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include "vmm.h"
#include "vmm_irqchip.h"

#define PIC_MASTER	0
#define PIC_SLAVE	1

static struct kvm_pic_state *chip_of(struct vmm_pic *pic, int i)
{
	return &pic->chip[i];
}

/* Drive line @irq of one chip: edge detection through last_irr. */
static void chip_set_line(struct kvm_pic_state *c, int irq, bool level)
{
	u8 bit = BIT(irq);

	if (c->elcr & bit) {
		if (level) {
			c->irr |= bit;
			c->last_irr |= bit;
		} else {
			c->irr &= ~bit;
			c->last_irr &= ~bit;
		}
	} else if (level) {
		if (!(c->last_irr & bit))
			c->irr |= bit;
		c->last_irr |= bit;
	} else {
		c->last_irr &= ~bit;
	}
}

/* Priority 0 (highest) to 7 of the first set bit after rotation, or 8. */
static int chip_priority(struct kvm_pic_state *c, u8 mask)
{
	int p;

	if (!mask)
		return 8;
	for (p = 0; !(mask & BIT((p + c->priority_add) & 7)); p++)
		;
	return p;
}

/* The IRQ this chip asks the CPU (or the master) for, or -1. */
static int chip_pending(struct kvm_pic_state *c, bool master)
{
	int prio = chip_priority(c, c->irr & ~c->imr), cur;
	u8 isr = c->isr;

	if (prio == 8)
		return -1;
	/* Nested slave interrupts may go on in special fully nested mode. */
	if (master && c->special_fully_nested_mode)
		isr &= ~BIT(2);
	if (c->special_mask)
		isr &= ~c->imr;
	cur = chip_priority(c, isr);
	return prio < cur ? (prio + c->priority_add) & 7 : -1;
}

/* Recompute the cascade and the master's output; lock held. */
static bool pic_update(struct vmm_pic *pic)
{
	struct kvm_pic_state *m = chip_of(pic, PIC_MASTER);
	bool was = pic->output;

	chip_set_line(m, 2, chip_pending(chip_of(pic, PIC_SLAVE), false) >= 0);
	pic->output = chip_pending(m, true) >= 0;
	return pic->output && !was;
}

static void chip_intack(struct kvm_pic_state *c, int irq)
{
	if (c->auto_eoi) {
		if (c->rotate_on_auto_eoi)
			c->priority_add = (irq + 1) & 7;
	} else {
		c->isr |= BIT(irq);
	}
	/* A level request stays until its line drops. */
	if (!(c->elcr & BIT(irq)))
		c->irr &= ~BIT(irq);
}

/*
 * Line @irq (0-15) from @src.  Returns 1 requested, 0 coalesced (already
 * pending), -1 masked.
 */
int vmm_pic_set_irq(struct vmm_pic *pic, u32 irq, int src, bool level)
{
	struct kvm_pic_state *c;
	unsigned long flags;
	bool rise;
	int ret;
	u8 bit;

	if (irq >= 16)
		return -1;
	c = chip_of(pic, irq >> 3);
	bit = BIT(irq & 7);
	spin_lock_irqsave(&pic->lock, flags);
	level = vmm_irq_source_level(&pic->pin_src[irq], src, level);
	ret = (c->imr & bit) ? -1 : (level && (c->irr & bit)) ? 0 : 1;
	chip_set_line(c, irq & 7, level);
	rise = pic_update(pic);
	spin_unlock_irqrestore(&pic->lock, flags);
	if (rise)
		vmm_pic_kick(pic->vm);
	return ret;
}

bool vmm_pic_has_output(struct vmm_pic *pic)
{
	return READ_ONCE(pic->output);
}

/* INTA cycle: the vector the CPU takes (spurious IRQ 7/15 if none). */
int vmm_pic_ack(struct vmm_pic *pic)
{
	struct kvm_pic_state *m = chip_of(pic, PIC_MASTER);
	struct kvm_pic_state *s = chip_of(pic, PIC_SLAVE);
	unsigned long flags;
	int irq, irq2, vec;

	spin_lock_irqsave(&pic->lock, flags);
	irq = chip_pending(m, true);
	if (irq < 0) {
		vec = m->irq_base + 7;
	} else {
		chip_intack(m, irq);
		if (irq == 2) {
			irq2 = chip_pending(s, false);
			if (irq2 >= 0)
				chip_intack(s, irq2);
			else
				irq2 = 7;
			vec = s->irq_base + irq2;
		} else {
			vec = m->irq_base + irq;
		}
	}
	pic_update(pic);
	spin_unlock_irqrestore(&pic->lock, flags);
	return vec;
}

/* The guest ended @irq's service (EOI): irqfd resamplers hear of it. */
static void chip_eoi_notify(struct vmm_pic *pic, int chip, int irq)
{
	vmm_irq_acked(pic->vm, chip == PIC_MASTER ? KVM_IRQCHIP_PIC_MASTER :
		      KVM_IRQCHIP_PIC_SLAVE, irq);
}

/* Returns the IRQ whose service an EOI ended, or -1.  Lock held. */
static int chip_write_cmd(struct kvm_pic_state *c, u8 val)
{
	int irq = -1, prio;

	if (val & 0x10) {			/* ICW1 */
		c->last_irr = 0;
		c->irr &= c->elcr;
		c->imr = 0;
		c->isr = 0;
		c->priority_add = 0;
		c->read_reg_select = 0;
		c->poll = 0;
		c->special_mask = 0;
		c->auto_eoi = 0;
		c->rotate_on_auto_eoi = 0;
		c->special_fully_nested_mode = 0;
		c->init4 = val & 1;
		c->init_state = 1;
		return -1;
	}
	if (val & 0x08) {			/* OCW3 */
		if (val & 0x04)
			c->poll = 1;
		if (val & 0x02)
			c->read_reg_select = val & 1;
		if (val & 0x40)
			c->special_mask = (val >> 5) & 1;
		return -1;
	}
	switch (val >> 5) {			/* OCW2 */
	case 0:
	case 4:
		c->rotate_on_auto_eoi = val >> 7;
		break;
	case 1:					/* non-specific EOI */
	case 5:					/* ... and rotate */
		prio = chip_priority(c, c->isr);
		if (prio == 8)
			break;
		irq = (prio + c->priority_add) & 7;
		c->isr &= ~BIT(irq);
		if ((val >> 5) == 5)
			c->priority_add = (irq + 1) & 7;
		break;
	case 3:					/* specific EOI */
		irq = val & 7;
		c->isr &= ~BIT(irq);
		break;
	case 6:					/* set priority */
		c->priority_add = (val + 1) & 7;
		break;
	case 7:					/* rotate on specific EOI */
		irq = val & 7;
		c->isr &= ~BIT(irq);
		c->priority_add = (irq + 1) & 7;
		break;
	}
	return irq;
}

static void chip_write_data(struct kvm_pic_state *c, u8 val)
{
	switch (c->init_state) {
	case 0:					/* OCW1 */
		c->imr = val;
		break;
	case 1:					/* ICW2 */
		c->irq_base = val & 0xf8;
		c->init_state = 2;		/* cascade: ICW3 follows */
		break;
	case 2:					/* ICW3 */
		c->init_state = c->init4 ? 3 : 0;
		break;
	case 3:					/* ICW4 */
		c->special_fully_nested_mode = (val >> 4) & 1;
		c->auto_eoi = (val >> 1) & 1;
		c->init_state = 0;
		break;
	}
}

/* Poll: like an INTA, but the answer is the IRQ number, bit 7 set. */
static u8 chip_poll(struct vmm_pic *pic, int chip)
{
	struct kvm_pic_state *c = chip_of(pic, chip);
	int irq = chip_pending(c, chip == PIC_MASTER);

	c->poll = 0;
	if (irq < 0)
		return 0;
	chip_intack(c, irq);
	return 0x80 | irq;
}

static int pic_port(u64 addr, int *chip)
{
	switch (addr) {
	case 0x20: case 0x21: case 0x4d0:
		*chip = PIC_MASTER;
		return 0;
	case 0xa0: case 0xa1: case 0x4d1:
		*chip = PIC_SLAVE;
		return 0;
	}
	return -EOPNOTSUPP;
}

static int pic_read(struct vmm_io_device *dev, struct vmm_vcpu *vcpu,
		    u64 addr, unsigned int len, void *val)
{
	struct vmm_pic *pic = container_of(dev, struct vmm_pic, dev);
	struct kvm_pic_state *c;
	unsigned long flags;
	int chip;
	u8 v;

	if (len != 1 || pic_port(addr, &chip))
		return -EOPNOTSUPP;
	c = chip_of(pic, chip);
	spin_lock_irqsave(&pic->lock, flags);
	if (addr >= 0x4d0)
		v = c->elcr;
	else if (c->poll)
		v = chip_poll(pic, chip);
	else if (addr & 1)
		v = c->imr;
	else
		v = c->read_reg_select ? c->isr : c->irr;
	pic_update(pic);
	spin_unlock_irqrestore(&pic->lock, flags);
	*(u8 *)val = v;
	return 0;
}

static int pic_write(struct vmm_io_device *dev, struct vmm_vcpu *vcpu,
		     u64 addr, unsigned int len, const void *val)
{
	struct vmm_pic *pic = container_of(dev, struct vmm_pic, dev);
	u8 v = *(const u8 *)val;
	struct kvm_pic_state *c;
	unsigned long flags;
	int chip, eoi = -1;
	bool rise;

	if (len != 1 || pic_port(addr, &chip))
		return -EOPNOTSUPP;
	c = chip_of(pic, chip);
	spin_lock_irqsave(&pic->lock, flags);
	if (addr >= 0x4d0)
		c->elcr = v & c->elcr_mask;
	else if (addr & 1)
		chip_write_data(c, v);
	else
		eoi = chip_write_cmd(c, v);
	rise = pic_update(pic);
	spin_unlock_irqrestore(&pic->lock, flags);
	if (eoi >= 0)
		chip_eoi_notify(pic, chip, eoi);
	if (rise)
		vmm_pic_kick(pic->vm);
	return 0;
}

const struct vmm_io_ops vmm_pic_ops = {
	.read = pic_read,
	.write = pic_write,
};

void vmm_pic_init(struct vmm_pic *pic, struct vmm_vm *vm)
{
	pic->vm = vm;
	pic->dev.ops = &vmm_pic_ops;
	spin_lock_init(&pic->lock);
	memset(pic->chip, 0, sizeof(pic->chip));
	/* IRQ 0-2 and 8, 13 are edge only on the PIIX. */
	pic->chip[PIC_MASTER].elcr_mask = 0xf8;
	pic->chip[PIC_SLAVE].elcr_mask = 0xde;
}

void vmm_pic_get_state(struct vmm_pic *pic, int chip,
		       struct kvm_pic_state *s)
{
	unsigned long flags;

	spin_lock_irqsave(&pic->lock, flags);
	*s = pic->chip[chip];
	spin_unlock_irqrestore(&pic->lock, flags);
}

int vmm_pic_set_state(struct vmm_pic *pic, int chip,
		      const struct kvm_pic_state *s)
{
	unsigned long flags;
	bool rise;
	int i;

	if (s->init_state > 3)
		return -EINVAL;
	spin_lock_irqsave(&pic->lock, flags);
	pic->chip[chip] = *s;
	/* Lines held high by the saved state belong to userspace now. */
	for (i = 0; i < 8; i++)
		pic->pin_src[chip * 8 + i] = s->last_irr & BIT(i) ?
					     BIT(VMM_IRQ_SRC_USER) : 0;
	rise = pic_update(pic);
	spin_unlock_irqrestore(&pic->lock, flags);
	if (rise)
		vmm_pic_kick(pic->vm);
	return 0;
}
