/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The in-kernel interrupt controllers and timers of vmm.ko, shared by
 * every backend: local APIC (vmm_lapic.c), IOAPIC (vmm_ioapic.c), the
 * dual 8259 PIC (vmm_pic.c), the 8254 PIT (vmm_pit.c), GSI routing, MSIs
 * and line levels (vmm_irq.c), the in-kernel port/MMIO bus (vmm_iobus.c)
 * and irqfd/ioeventfd (vmm_eventfd.c).  Their state layouts follow the
 * KVM ioctl structures, so KVM_GET/SET_LAPIC, _IRQCHIP and _PIT2 copy them
 * as they are.
 *
 * Locking: every device has a spinlock taken with interrupts off, because
 * interrupts are raised from hrtimer callbacks (hard interrupt context)
 * and from eventfd wake-ups (spinlock held, interrupts off) as well as
 * from vCPU threads.  Order: PIT -> PIC / IOAPIC -> LAPIC.  A LAPIC EOI
 * reaches the IOAPIC only after the LAPIC lock is dropped; acknowledge
 * notifiers (irqfd resample) run with no device lock held.
 */
#ifndef VMM_IRQCHIP_H
#define VMM_IRQCHIP_H

#include <linux/hrtimer.h>
#include <linux/kvm.h>
#include <linux/rculist.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/workqueue.h>

struct vmm_vm;
struct vmm_vcpu;

/* ---- LAPIC register offsets (xAPIC MMIO; x2APIC MSR = 0x800 + off/16) */
#define VAPIC_ID	0x020
#define VAPIC_LVR	0x030
#define VAPIC_TPR	0x080
#define VAPIC_APR	0x090
#define VAPIC_PPR	0x0a0
#define VAPIC_EOI	0x0b0
#define VAPIC_RRD	0x0c0
#define VAPIC_LDR	0x0d0
#define VAPIC_DFR	0x0e0
#define VAPIC_SVR	0x0f0
#define VAPIC_ISR	0x100
#define VAPIC_TMR	0x180
#define VAPIC_IRR	0x200
#define VAPIC_ESR	0x280
#define VAPIC_ICR	0x300
#define VAPIC_ICR2	0x310
#define VAPIC_LVTT	0x320
#define VAPIC_LVTTHMR	0x330
#define VAPIC_LVTPC	0x340
#define VAPIC_LVT0	0x350
#define VAPIC_LVT1	0x360
#define VAPIC_LVTERR	0x370
#define VAPIC_TMICT	0x380
#define VAPIC_TMCCT	0x390
#define VAPIC_TDCR	0x3e0
#define VAPIC_SELF_IPI	0x3f0

#define VAPIC_BASE_BSP		BIT_ULL(8)
#define VAPIC_BASE_EXTD		BIT_ULL(10)
#define VAPIC_BASE_EN		BIT_ULL(11)
#define VAPIC_DEFAULT_BASE	0xfee00000ULL

/* Delivery modes (ICR, LVT, IOAPIC and MSI bits 8-10). */
#define VMM_DM_FIXED	0
#define VMM_DM_LOWEST	1
#define VMM_DM_SMI	2
#define VMM_DM_NMI	4
#define VMM_DM_INIT	5
#define VMM_DM_SIPI	6
#define VMM_DM_EXTINT	7

#define VAPIC_LVT_MASKED	BIT(16)

/* One interrupt message on the (virtual) APIC bus. */
struct vmm_apic_irq {
	u32 dest;		/* 8-bit xAPIC or 32-bit x2APIC id / mask */
	u8 vector;
	u8 delivery_mode;	/* VMM_DM_* */
	u8 shorthand;		/* 0 none, 1 self, 2 all, 3 all but self */
	bool logical;
	bool level;		/* asserted (INIT de-assert is level 0) */
	bool trig_level;	/* level triggered */
	bool x2apic_dest;	/* dest is a 32-bit x2APIC id */
};

/* Pending LAPIC events the vCPU thread takes (lapic->pending). */
#define VMM_APIC_INIT	0
#define VMM_APIC_SIPI	1

struct vmm_lapic {
	struct vmm_vcpu *vcpu;
	spinlock_t lock;		/* IRR/ISR/TMR, timer state */
	u8 regs[KVM_APIC_REG_SIZE] __aligned(16);	/* KVM_GET_LAPIC layout */
	u64 base;			/* IA32_APIC_BASE */
	struct hrtimer timer;
	u64 period_ns;			/* periodic mode */
	ktime_t expiry;			/* current timer's end */
	bool timer_armed;
	u64 tsc_deadline;		/* IA32_TSC_DEADLINE, 0 = off */
	unsigned long pending;		/* VMM_APIC_INIT / _SIPI */
	u8 sipi_vector;
};

/* ---- in-kernel port and MMIO bus ---- */
enum vmm_bus { VMM_PIO_BUS, VMM_MMIO_BUS, VMM_NR_BUSES };

struct vmm_io_device;

struct vmm_io_ops {
	/* 0 when handled; -EOPNOTSUPP lets the next device (or userspace) try */
	int (*read)(struct vmm_io_device *dev, struct vmm_vcpu *vcpu, u64 addr,
		    unsigned int len, void *val);
	int (*write)(struct vmm_io_device *dev, struct vmm_vcpu *vcpu,
		     u64 addr, unsigned int len, const void *val);
};

struct vmm_io_device {
	const struct vmm_io_ops *ops;
};

struct vmm_io_range {
	u64 addr;
	u32 len;
	struct vmm_io_device *dev;
};

/* ---- 8259 pair: the state is KVM's struct kvm_pic_state, per chip ---- */
struct vmm_pic {
	struct vmm_vm *vm;
	struct vmm_io_device dev;	/* 0x20-1, 0xa0-1, ELCR 0x4d0-1 */
	spinlock_t lock;
	struct kvm_pic_state chip[2];	/* master, slave */
	unsigned long pin_src[16];	/* which sources drive each line */
	bool output;			/* INTR of the master */
};

/* ---- IOAPIC ---- */
#define VMM_IOAPIC_PINS		24
#define VMM_IOAPIC_BASE		0xfec00000ULL
#define VMM_IOAPIC_SIZE		0x100

struct vmm_ioapic {
	struct vmm_vm *vm;
	struct vmm_io_device dev;	/* MMIO at VMM_IOAPIC_BASE */
	spinlock_t lock;
	struct kvm_ioapic_state s;	/* as KVM_GET_IRQCHIP gives it */
	unsigned long pin_src[VMM_IOAPIC_PINS];
	/* Level interrupts re-raised at once on EOI, to spot a storm. */
	u32 eoi_storm[VMM_IOAPIC_PINS];
	struct delayed_work storm_work;
};

/* ---- 8254 ---- */
struct vmm_pit {
	struct vmm_vm *vm;
	struct vmm_io_device dev;	/* 0x40-0x43 */
	struct vmm_io_device speaker;	/* 0x61 */
	spinlock_t lock;
	struct kvm_pit_state2 s;	/* as KVM_GET_PIT2 gives it */
	struct hrtimer timer;		/* channel 0 -> IRQ 0 */
	u64 period_ns;			/* 0: one-shot */
};

/* Sources of a line level (KVM's irq_source_id); levels are OR'ed. */
enum vmm_irq_source {
	VMM_IRQ_SRC_USER,	/* KVM_IRQ_LINE */
	VMM_IRQ_SRC_PIT,
	VMM_IRQ_SRC_RESAMPLE,	/* level irqfds */
};

/* GSI routing (KVM_SET_GSI_ROUTING), replaced as a whole under RCU. */
#define VMM_MAX_IRQ_ROUTES	1024
#define VMM_MAX_GSI		1024

struct vmm_irq_route {
	u32 gsi;
	u32 type;		/* KVM_IRQ_ROUTING_IRQCHIP / _MSI */
	union {
		struct {
			u32 chip;	/* KVM_IRQCHIP_* */
			u32 pin;
		} irqchip;
		struct {
			u64 addr;
			u32 data;
		} msi;
	};
};

struct vmm_irq_routing {
	struct rcu_head rcu;
	u32 nr;
	struct vmm_irq_route route[];		/* sorted by gsi */
};

/* Called with no device lock held when the guest acknowledges a GSI. */
struct vmm_ack_notifier {
	struct hlist_node link;
	u32 gsi;
	void (*acked)(struct vmm_ack_notifier *an);
};

struct vmm_irqchip {
	struct vmm_pic pic;
	struct vmm_ioapic ioapic;
	struct vmm_pit *pit;			/* KVM_CREATE_PIT2 */
	struct mutex lock;			/* routing and notifier updates */
	struct vmm_irq_routing __rcu *routing;
	struct hlist_head ack_notifiers;	/* RCU */
};

#define VMM_MAX_BUS_DEVS	1000

struct vmm_io_bus {
	struct rcu_head rcu;
	int nr;
	struct vmm_io_range range[];	/* sorted by addr */
};

/* vmm_lapic.c */
int vmm_lapic_create(struct vmm_vcpu *vcpu);
void vmm_lapic_free(struct vmm_vcpu *vcpu);
void vmm_lapic_reset(struct vmm_vcpu *vcpu, bool init);
int vmm_lapic_set_base(struct vmm_vcpu *vcpu, u64 value, bool host);
bool vmm_apic_base_valid(u64 value);
bool vmm_lapic_mmio_hit(struct vmm_vcpu *vcpu, u64 gpa);
int vmm_lapic_mmio_read(struct vmm_vcpu *vcpu, u64 gpa, unsigned int len,
			void *val);
int vmm_lapic_mmio_write(struct vmm_vcpu *vcpu, u64 gpa, unsigned int len,
			 const void *val);
int vmm_lapic_rdmsr(struct vmm_vcpu *vcpu, u32 index, u64 *data);
int vmm_lapic_wrmsr(struct vmm_vcpu *vcpu, u32 index, u64 data, bool host);
int vmm_lapic_pending_vector(struct vmm_vcpu *vcpu);
int vmm_lapic_ack(struct vmm_vcpu *vcpu);
bool vmm_lapic_accepts_pic(struct vmm_vcpu *vcpu);
void vmm_lapic_set_tpr(struct vmm_vcpu *vcpu, u8 tpr);
u8 vmm_lapic_get_tpr(struct vmm_vcpu *vcpu);
int vmm_lapic_get_state(struct vmm_vcpu *vcpu, struct kvm_lapic_state *s);
int vmm_lapic_set_state(struct vmm_vcpu *vcpu,
			const struct kvm_lapic_state *s);
int vmm_apic_deliver(struct vmm_vm *vm, struct vmm_vcpu *src,
		     const struct vmm_apic_irq *irq);
void vmm_msi_to_apic_irq(u64 addr, u32 data, struct vmm_apic_irq *irq);

/* vmm_ioapic.c */
void vmm_ioapic_init(struct vmm_ioapic *ioapic, struct vmm_vm *vm);
void vmm_ioapic_destroy(struct vmm_ioapic *ioapic);
void vmm_ioapic_reset(struct vmm_ioapic *ioapic);
int vmm_ioapic_set_irq(struct vmm_ioapic *ioapic, u32 pin, int src,
		       bool level);
void vmm_ioapic_eoi(struct vmm_vm *vm, u8 vector, bool level);
extern const struct vmm_io_ops vmm_ioapic_ops;
int vmm_ioapic_set_state(struct vmm_ioapic *ioapic,
			 const struct kvm_ioapic_state *s);
void vmm_ioapic_get_state(struct vmm_ioapic *ioapic,
			  struct kvm_ioapic_state *s);

/* vmm_pic.c */
void vmm_pic_init(struct vmm_pic *pic, struct vmm_vm *vm);
int vmm_pic_set_irq(struct vmm_pic *pic, u32 irq, int src, bool level);
bool vmm_pic_has_output(struct vmm_pic *pic);
int vmm_pic_ack(struct vmm_pic *pic);
extern const struct vmm_io_ops vmm_pic_ops;
void vmm_pic_get_state(struct vmm_pic *pic, int chip,
		       struct kvm_pic_state *s);
int vmm_pic_set_state(struct vmm_pic *pic, int chip,
		      const struct kvm_pic_state *s);

/* vmm_pit.c */
int vmm_pit_create(struct vmm_vm *vm, const struct kvm_pit_config *cfg);
void vmm_pit_destroy(struct vmm_vm *vm);
int vmm_pit_get_state(struct vmm_vm *vm, struct kvm_pit_state2 *s);
int vmm_pit_set_state(struct vmm_vm *vm, const struct kvm_pit_state2 *s);

/* vmm_irq.c: the chips, routing, line levels, MSIs */
int vmm_irqchip_create(struct vmm_vm *vm);
void vmm_irqchip_quiesce(struct vmm_vm *vm);
void vmm_irqchip_destroy(struct vmm_vm *vm);
int vmm_irq_line(struct vmm_vm *vm, int src, u32 gsi, bool level);
int vmm_irq_msi(struct vmm_vm *vm, u64 addr, u32 data);
int vmm_set_gsi_routing(struct vmm_vm *vm,
			const struct kvm_irq_routing_entry *e, u32 nr);
void vmm_irq_acked(struct vmm_vm *vm, u32 chip, u32 pin);
void vmm_register_ack_notifier(struct vmm_vm *vm,
			       struct vmm_ack_notifier *an);
void vmm_unregister_ack_notifier(struct vmm_vm *vm,
				 struct vmm_ack_notifier *an);
bool vmm_irq_source_level(unsigned long *srcs, int src, bool level);
int vmm_get_irqchip(struct vmm_vm *vm, struct kvm_irqchip *chip);
int vmm_set_irqchip(struct vmm_vm *vm, const struct kvm_irqchip *chip);
void vmm_pic_kick(struct vmm_vm *vm);

/* vmm_iobus.c (writers hold vm->lock; readers vm->srcu) */
int vmm_io_bus_register(struct vmm_vm *vm, enum vmm_bus bus, u64 addr,
			u32 len, struct vmm_io_device *dev);
void vmm_io_bus_unregister(struct vmm_vm *vm, enum vmm_bus bus,
			   struct vmm_io_device *dev);
int vmm_io_bus_read(struct vmm_vcpu *vcpu, enum vmm_bus bus, u64 addr,
		    unsigned int len, void *val);
int vmm_io_bus_write(struct vmm_vcpu *vcpu, enum vmm_bus bus, u64 addr,
		     unsigned int len, const void *val);
void vmm_io_bus_free_all(struct vmm_vm *vm);

/* vmm_eventfd.c */
int vmm_irqfd(struct vmm_vm *vm, const struct kvm_irqfd *args);
void vmm_irqfd_release(struct vmm_vm *vm);
int vmm_ioeventfd(struct vmm_vm *vm, const struct kvm_ioeventfd *args);
void vmm_ioeventfd_release(struct vmm_vm *vm);
int vmm_eventfd_init(void);
void vmm_eventfd_exit(void);

#endif /* VMM_IRQCHIP_H */
