/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internal interface between the vmm core (vmm.ko: /dev/vmm, VM and vCPU
 * file descriptors, memory slots, the run loop, CPUID, the MSRs without
 * hardware state, and instruction emulation: guest page walk, port and
 * MMIO emulation through the decoder) and a processor backend (vmm-amd.ko,
 * vmm-intel.ko), which owns the hardware's guest state and exit dispatch.
 * The userspace ABI is the KVM one from <linux/kvm.h>; nothing here is ABI.
 */
#ifndef VMM_H
#define VMM_H

#include <linux/kvm.h>
#include <linux/bits.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/rcuwait.h>
#include <linux/spinlock.h>
#include <linux/srcu.h>
#include <linux/types.h>
#include <asm/fpu/types.h>
#include <asm/processor-flags.h>

#include "vmm_decode.h"

/* Limits that keep one user from exhausting the host. */
#define VMM_MAX_SLOTS		32
#define VMM_MAX_VCPUS		64
#define VMM_MAX_CPUID_ENTRIES	64
/* Highest guest-physical address a slot may reach (4-level NPT: 48 bits). */
#define VMM_MAX_GPA		BIT_ULL(46)
/* Per-VM cap on pinned guest memory, further limited by RLIMIT_MEMLOCK. */
#define VMM_MAX_VM_PAGES	((64ULL << 30) >> PAGE_SHIFT)

/* Offset of the PIO data page inside the vCPU mmap area. */
#define VMM_PIO_PAGE_OFFSET	1
#define VMM_VCPU_MMAP_PAGES	2

struct vmm_vm;
struct vmm_vcpu;

/* vcpu->mode */
enum {
	VMM_OUTSIDE_GUEST_MODE,
	VMM_IN_GUEST_MODE,
};

struct vmm_slot {
	u32 id;
	u32 flags;		/* KVM_MEM_READONLY, KVM_MEM_LOG_DIRTY_PAGES */
	u64 gpa;
	u64 npages;
	u64 uaddr;
	struct page **pages;	/* pinned at creation, unpinned at deletion */
	unsigned long *dirty;	/* with KVM_MEM_LOG_DIRTY_PAGES: one bit a page */
};

/* Immutable snapshot of the slots, replaced as a whole under SRCU. */
struct vmm_slots {
	int nr;
	struct vmm_slot slot[VMM_MAX_SLOTS];
};

struct vmm_vm {
	struct kref kref;
	struct mm_struct *mm;		/* creator's mm, mmgrab()ed */
	const struct vmm_arch_ops *ops;
	struct mutex lock;		/* slots and vCPU creation */
	/*
	 * Dirty logging: a fault that maps a page of a logged slot and
	 * KVM_GET_DIRTY_LOG's unmap-and-harvest exclude each other.
	 */
	struct mutex dirty_lock;
	struct srcu_struct srcu;	/* readers: slots users, guest entry */
	struct vmm_slots __rcu *slots;
	u64 pinned_pages;
	/* Bumped whenever guest-physical mappings are removed. */
	atomic_t tlb_gen;
	/* Guest TSC = host TSC + tsc_offset: 0 at VM creation, all vCPUs. */
	u64 tsc_offset;
	int nr_vcpus;			/* published with release */
	struct vmm_vcpu *vcpus[VMM_MAX_VCPUS];

	/* In-kernel irqchip (vmm_irqchip.h), set once before any vCPU. */
	struct vmm_irqchip *irqchip;
	struct vmm_io_bus __rcu *buses[2];	/* enum vmm_bus */
	spinlock_t irqfd_lock;		/* irqfds list */
	struct mutex irqfd_mutex;	/* irqfd assignment, resamplers */
	struct list_head irqfds;
	struct list_head resamplers;
	atomic_t nr_irqfds;
	struct list_head ioeventfds;	/* under lock */

	u32 pv_wall_version;		/* kvmclock wall clock (vmm_pvclock.c) */

	void *arch;			/* backend private */
};

/* General-purpose registers in ModRM numbering (REX.B/R extended). */
enum vmm_gpr {
	VMM_RAX, VMM_RCX, VMM_RDX, VMM_RBX, VMM_RSP, VMM_RBP, VMM_RSI, VMM_RDI,
	VMM_R8, VMM_R9, VMM_R10, VMM_R11, VMM_R12, VMM_R13, VMM_R14, VMM_R15,
	VMM_NR_GPRS,
};

/* What an exit handler, or a core emulation helper, asks of the loop. */
#define VMM_EXIT_USER		0	/* to userspace, run->exit_reason set */
#define VMM_EXIT_CONTINUE	1	/* enter the guest again */

/*
 * The part of the guest's control state that instruction emulation needs
 * (paging mode, code size, segment bases), read from the backend's
 * hardware state on demand.
 */
struct vmm_cpu_mode {
	u64 cr0;
	u64 cr3;
	u64 cr4;
	u64 efer;
	u64 seg_base[6];	/* enum vmm_seg order: ES CS SS DS FS GS */
	bool cs_l;		/* CS.L: 64-bit code (with EFER.LMA) */
	bool cs_db;		/* CS.D: 32-bit code */
};

/* A port I/O exit, as both backends report it (APM IOIO, SDM I/O qual). */
struct vmm_io {
	u16 port;
	u8 size;		/* 1, 2 or 4 */
	bool in;
	bool string;		/* INS or OUTS */
	bool rep;
	u64 next_rip;		/* RIP after the instruction */
	/* Strings: from the decoded instruction, filled by the core. */
	u8 addr_size;		/* 2, 4 or 8 */
	u8 seg;			/* enum vmm_seg of OUTS's source */
};

enum vmm_pending {
	VMM_PENDING_NONE,
	VMM_PENDING_PIO_IN,	/* write run->io data to rAX, skip insn */
	VMM_PENDING_PIO_INS,	/* store run->io data at ES:rDI, step */
	VMM_PENDING_PIO_OUT,	/* skip insn */
	VMM_PENDING_MMIO_READ,	/* write run->mmio.data to a register */
	VMM_PENDING_MMIO_WRITE,	/* skip insn */
	VMM_PENDING_MMIO_ALU,	/* compute with run->mmio.data, write back */
	VMM_PENDING_MMIO_STRING, /* LODS/MOVS: the element read from MMIO */
};

struct vmm_vcpu {
	struct vmm_vm *vm;
	u32 id;
	struct mutex mutex;		/* one ioctl at a time */
	struct kvm_run *run;
	struct page *run_page;
	struct page *pio_page;

	/*
	 * The CPU the vCPU last entered the guest on, and whether it is in
	 * guest mode there now (set with interrupts off before VMRUN, with
	 * a full barrier before the vCPU reads what kickers publish; cleared
	 * after the exit).  Kickers read both.
	 */
	int cpu;
	int mode;

	/*
	 * Guest state the core owns.  The backend loads GPRs, RIP and RFLAGS
	 * into the hardware right before each entry and stores them back
	 * right after the exit, so outside that window these are the truth.
	 */
	unsigned long gprs[VMM_NR_GPRS];
	u64 rip;
	u64 rflags;
	struct fxregs_state *fpu;	/* XSAVE area (FXSAVE image first), page */
	u64 xcr0;			/* the guest's XCR0 (vmm_fpu.c) */
	/* MSRs without hardware state (vmm_msr.c). */
	u64 apic_base;
	u64 misc_enable;
	u64 mtrr_def_type;
	/* kvmclock (vmm_pvclock.c): the MSRs, the structure's version. */
	u64 pv_system_time;
	u64 pv_wall_clock;
	u32 pv_time_version;

	/* Completion of a userspace I/O exit, done by the next KVM_RUN. */
	enum vmm_pending pending;
	u64 pending_rip;	/* RIP after the instruction */
	u8 pending_reg;		/* destination GPR for MMIO reads */
	bool pending_high8;	/* ... AH, CH, DH or BH */
	u8 pending_size;	/* destination width in bytes */
	u8 pending_len;		/* access width in bytes */
	u8 pending_sext;	/* sign-extend (MOVSX) */
	u32 pending_count;	/* INS: elements */
	struct vmm_io pending_io;	/* INS: the exit */
	struct vmm_insn pending_insn;	/* ALU/string MMIO: the instruction */
	u64 pending_gpa;		/* ... and its MMIO address */

	int pending_irq;	/* KVM_INTERRUPT vector, -1 if none */

	/* In-kernel irqchip only (vmm_intr.c). */
	struct vmm_lapic *lapic;
	u32 mp_state;			/* KVM_MP_STATE_* */
	atomic_t nmi_queued;		/* NMIs sent, not yet taken */
	unsigned int nmi_pending;	/* taken, not yet injected (<= 2) */
	struct rcuwait wait;		/* a sleeping (halted) vCPU */

	int nr_cpuid;
	struct kvm_cpuid_entry2 cpuid[VMM_MAX_CPUID_ENTRIES];

	void *arch;		/* backend private */
};

/*
 * Backend operations.  Every call with a vCPU holds vcpu->mutex; run_once
 * also holds the VM's SRCU read lock.  The core owns GPRs, RIP, RFLAGS,
 * the FPU state, CPUID, the soft MSRs and all emulation; the backend owns
 * everything the hardware keeps (segments, control registers, events).
 */
struct vmm_arch_ops {
	struct module *owner;
	const char *name;

	int (*vm_init)(struct vmm_vm *vm);
	void (*vm_destroy)(struct vmm_vm *vm);
	/* Drop guest-physical mappings of [gpa, gpa + size). */
	void (*unmap_range)(struct vmm_vm *vm, u64 gpa, u64 size);
	/* Map the page at @gpa to @hpa in the nested/extended tables. */
	int (*map_page)(struct vmm_vm *vm, u64 gpa, u64 hpa, bool writable);

	int (*vcpu_create)(struct vmm_vcpu *vcpu);
	void (*vcpu_free)(struct vmm_vcpu *vcpu);
	/*
	 * Optional: make the vCPU's hardware state reachable from this task
	 * (VMX: the VMCS current on whatever CPU the task runs on) from
	 * vcpu_load until vcpu_put.  The core brackets every vCPU ioctl and
	 * the reset at creation with them; every other call with a vCPU
	 * happens in between.
	 */
	void (*vcpu_load)(struct vmm_vcpu *vcpu);
	void (*vcpu_put)(struct vmm_vcpu *vcpu);
	/*
	 * Power-on state of what the backend owns (the core did its part),
	 * or with @init the state after an INIT (TSC and MSRs kept).
	 */
	void (*vcpu_reset)(struct vmm_vcpu *vcpu, bool init);

	/*
	 * Inject what is pending, enter the guest once, handle the exit:
	 * VMM_EXIT_CONTINUE, VMM_EXIT_USER or -errno.  Interrupts enabled.
	 */
	int (*run_once)(struct vmm_vcpu *vcpu);
	/* Could an external interrupt be injected right now? */
	bool (*interruptible)(struct vmm_vcpu *vcpu);

	/*
	 * Events (vmm_intr.c): the core decides, the backend injects.  The
	 * calls before an entry run with interrupts off, in guest mode.
	 */
	bool (*nmi_allowed)(struct vmm_vcpu *vcpu);
	void (*inject_irq)(struct vmm_vcpu *vcpu, u8 vector);
	void (*inject_nmi)(struct vmm_vcpu *vcpu);
	/*
	 * Exit as soon as an interrupt (@irq) or an NMI (@nmi) could be
	 * injected; both false: no window.  Without the in-kernel irqchip
	 * the backend also serves KVM_INTERRUPT and request_interrupt_window
	 * here.
	 */
	void (*set_windows)(struct vmm_vcpu *vcpu, bool irq, bool nmi);
	/* SIPI: real mode at vector << 12 (the core set RIP to 0). */
	void (*sipi)(struct vmm_vcpu *vcpu, u8 vector);
	/* Injected events, shadow, NMI mask (KVM_GET/SET_VCPU_EVENTS). */
	void (*get_events)(struct vmm_vcpu *vcpu, struct kvm_vcpu_events *e);
	int (*set_events)(struct vmm_vcpu *vcpu,
			  const struct kvm_vcpu_events *e);
	/* KVM_GET/SET_DEBUGREGS: DR0-3, DR6, DR7. */
	void (*get_debugregs)(struct vmm_vcpu *vcpu, struct kvm_debugregs *d);
	int (*set_debugregs)(struct vmm_vcpu *vcpu,
			     const struct kvm_debugregs *d);
	u64 (*get_cr8)(struct vmm_vcpu *vcpu);

	/* Segments, descriptor tables, CR0-4/8, EFER (apic_base: core). */
	void (*get_sregs)(struct vmm_vcpu *vcpu, struct kvm_sregs *sregs);
	/* @sregs passed vmm_sregs_valid(). */
	void (*set_sregs)(struct vmm_vcpu *vcpu, const struct kvm_sregs *sregs);
	void (*get_cpu_mode)(struct vmm_vcpu *vcpu, struct vmm_cpu_mode *mode);
	/* An instruction retired: STI / MOV SS blocking ends. */
	void (*clear_int_shadow)(struct vmm_vcpu *vcpu);
	/* Exit code and two words of detail, for KVM_EXIT_INTERNAL_ERROR. */
	void (*get_exit_info)(struct vmm_vcpu *vcpu, u64 info[3]);

	/* MSRs the hardware state holds; 0 or -EINVAL (unknown, invalid). */
	int (*get_msr)(struct vmm_vcpu *vcpu, u32 index, u64 *data);
	int (*set_msr)(struct vmm_vcpu *vcpu, u32 index, u64 data, bool host);
};

int vmm_register_backend(const struct vmm_arch_ops *ops);
void vmm_unregister_backend(const struct vmm_arch_ops *ops);

/* Guest memory (caller holds vm->srcu). */
struct vmm_slot *vmm_find_slot(struct vmm_vm *vm, u64 gpa);
int vmm_map_gpa(struct vmm_vm *vm, u64 gpa, bool write);
int vmm_get_dirty_log(struct vmm_vm *vm, const struct kvm_dirty_log *log);
struct page *vmm_gpa_to_page(struct vmm_vm *vm, u64 gpa, bool write,
			     bool *readonly);
int vmm_read_guest(struct vmm_vm *vm, u64 gpa, void *buf, unsigned int len);
int vmm_write_guest(struct vmm_vm *vm, u64 gpa, const void *buf,
		    unsigned int len);

/*
 * Event counters (vmm_stats.c), one debugfs file each under
 * /sys/kernel/debug/vmm/.  Counting is a per-CPU increment, safe in any
 * context.
 */
enum vmm_stat {
	VMM_STAT_ASID_FLUSH_ALL,	/* VMRUNs that flushed every ASID */
	VMM_STAT_SLOT_KICK_IPIS,	/* IPIs sent for a slot deletion */
	VMM_STAT_KICK_IPIS,		/* IPIs sent to vCPUs in guest mode */
	VMM_STAT_HALT_SLEEPS,		/* vCPUs that slept in KVM_RUN */
	VMM_STAT_IRQ_INJECTED,		/* irqchip interrupts injected */
	VMM_STAT_NMI_INJECTED,
	VMM_STAT_IO_IN_KERNEL,		/* port/MMIO accesses kept in */
	VMM_NR_STATS
};

DECLARE_PER_CPU(u64[VMM_NR_STATS], vmm_stats);

static inline void vmm_stat_inc(enum vmm_stat s)
{
	this_cpu_inc(vmm_stats[s]);
}

u64 vmm_stat_read(enum vmm_stat s);
void vmm_stats_init(void);
void vmm_stats_exit(void);

/* vmm_intr.c: events between entries (in-kernel irqchip). */
void vmm_vcpu_kick(struct vmm_vcpu *vcpu);
int vmm_vcpu_prepare(struct vmm_vcpu *vcpu);
int vmm_vcpu_halt(struct vmm_vcpu *vcpu);
void vmm_inject_events(struct vmm_vcpu *vcpu);
int vmm_get_mp_state(struct vmm_vcpu *vcpu, struct kvm_mp_state *mp);
int vmm_set_mp_state(struct vmm_vcpu *vcpu, const struct kvm_mp_state *mp);
int vmm_vcpu_nmi(struct vmm_vcpu *vcpu);
int vmm_get_vcpu_events(struct vmm_vcpu *vcpu, struct kvm_vcpu_events *e);
int vmm_set_vcpu_events(struct vmm_vcpu *vcpu,
			const struct kvm_vcpu_events *e);

/*
 * The backend, with interrupts off, right before an entry: publish the
 * CPU and guest mode (kickers publish their change, then look at the
 * mode; we set the mode, then look at what they publish).
 */
static inline void vmm_guest_mode_enter(struct vmm_vcpu *vcpu, int cpu)
{
	WRITE_ONCE(vcpu->cpu, cpu);
	/* Pairs with the barrier in vmm_vcpu_kick() and vmm_kick_vm_cpus(). */
	smp_store_mb(vcpu->mode, VMM_IN_GUEST_MODE);
}

/* ... and right after the exit, interrupts still off. */
static inline void vmm_guest_mode_exit(struct vmm_vcpu *vcpu)
{
	WRITE_ONCE(vcpu->mode, VMM_OUTSIDE_GUEST_MODE);
}

/*
 * The event ops (nmi_allowed .. set_events) are optional as a set: a
 * backend without them (vmm-intel so far) has no in-kernel irqchip, no
 * KVM_NMI and no KVM_GET/SET_VCPU_EVENTS; KVM_CHECK_EXTENSION says 0 for
 * them and the ioctls fail with ENOTTY.  The same for the debug-register
 * pair and KVM_GET/SET_DEBUGREGS.
 */
static inline bool vmm_ops_have_events(const struct vmm_arch_ops *ops)
{
	return ops->nmi_allowed && ops->inject_irq && ops->inject_nmi &&
	       ops->set_windows && ops->sipi && ops->get_events &&
	       ops->set_events;
}

static inline bool vmm_ops_have_debugregs(const struct vmm_arch_ops *ops)
{
	return ops->get_debugregs && ops->set_debugregs;
}

/* Core helpers for the backend. */
void vmm_kick_vm_cpus(struct vmm_vm *vm);
u64 vmm_nr_live_objects(void);
void vmm_vcpu_reset(struct vmm_vcpu *vcpu);
void vmm_vcpu_reset_init(struct vmm_vcpu *vcpu);

/* vmm_fpu.c: the guest's x87/SSE/AVX state and XCR0. */
extern u64 vmm_xfeatures;
void vmm_fpu_setup(void);
void vmm_fpu_reset(struct vmm_vcpu *vcpu);
/* Around one entry (interrupts off in between). */
void vmm_guest_fpu_enter(struct vmm_vcpu *vcpu);
void vmm_guest_fpu_exit(struct vmm_vcpu *vcpu);
u32 vmm_xsave_size(u64 xcr0);
int vmm_emulate_xsetbv(struct vmm_vcpu *vcpu, unsigned int cpl);
void vmm_get_fpu(struct vmm_vcpu *vcpu, struct kvm_fpu *f);
void vmm_set_fpu(struct vmm_vcpu *vcpu, const struct kvm_fpu *f);
void vmm_get_xsave(struct vmm_vcpu *vcpu, struct kvm_xsave *x);
int vmm_set_xsave(struct vmm_vcpu *vcpu, const struct kvm_xsave *x);
void vmm_get_xcrs(struct vmm_vcpu *vcpu, struct kvm_xcrs *x);
int vmm_set_xcrs(struct vmm_vcpu *vcpu, const struct kvm_xcrs *x);

/* vmm_pagewalk.c: guest linear addresses (caller holds vm->srcu). */
int vmm_gva_to_gpa(struct vmm_vcpu *vcpu, const struct vmm_cpu_mode *mode,
		   u64 gva, u64 *gpa);
int vmm_copy_linear(struct vmm_vcpu *vcpu, const struct vmm_cpu_mode *mode,
		    u64 lin, void *buf, unsigned int len, bool write);

/*
 * vmm_emulate.c: the instruction at RIP, port I/O and MMIO.  The int
 * helpers return VMM_EXIT_CONTINUE, VMM_EXIT_USER or -errno, so an exit
 * handler can return what they return.
 */
unsigned int vmm_code_size(const struct vmm_cpu_mode *mode);
int vmm_fetch_decode(struct vmm_vcpu *vcpu, const struct vmm_cpu_mode *mode,
		     struct vmm_insn *insn);
void vmm_retire_insn(struct vmm_vcpu *vcpu, u64 next_rip);
int vmm_skip_insn(struct vmm_vcpu *vcpu);
int vmm_emulate_io(struct vmm_vcpu *vcpu, struct vmm_io *io);
int vmm_emulate_mmio(struct vmm_vcpu *vcpu, u64 gpa);
int vmm_emulation_failed(struct vmm_vcpu *vcpu);
int vmm_complete_pending(struct vmm_vcpu *vcpu);

/* vmm_cpuid.c */
void vmm_emulate_cpuid(struct vmm_vcpu *vcpu);
int vmm_supported_cpuid(struct kvm_cpuid_entry2 *e, int max);

/* vmm_msr.c: RDMSR/WRMSR (guest) and KVM_GET/SET_MSRS (host). */
int vmm_msr_read(struct vmm_vcpu *vcpu, u32 index, u64 *data);
int vmm_msr_write(struct vmm_vcpu *vcpu, u32 index, u64 data, bool host);
int vmm_emulate_rdmsr(struct vmm_vcpu *vcpu);
int vmm_emulate_wrmsr(struct vmm_vcpu *vcpu);
bool vmm_pat_valid(u64 pat);
extern const u32 vmm_msr_list[];
extern const unsigned int vmm_nr_msrs;

/* MSR_MTRRdefType, spelled without CamelCase. */
#define VMM_MSR_MTRR_DEF_TYPE	0x2ff

static inline bool vmm_canonical(u64 v)
{
	return (s64)(v << 16) >> 16 == (s64)v;
}

/* vmm_pvclock.c: kvmclock. */
void vmm_pvclock_setup(void);
bool vmm_pvclock_available(void);
void vmm_pvclock_cpuid(struct kvm_cpuid_entry2 *e, u32 fn);
bool vmm_pvclock_msr(u32 index);
int vmm_pvclock_rdmsr(struct vmm_vcpu *vcpu, u32 index, u64 *data);
int vmm_pvclock_wrmsr(struct vmm_vcpu *vcpu, u32 index, u64 data);
void vmm_pvclock_update(struct vmm_vcpu *vcpu);

/* vmm_vcpu.c */
bool vmm_sregs_valid(const struct kvm_sregs *sr);
void vmm_cr4_setup(void);
bool vmm_cr4_valid(u64 cr4);
int vmm_cr4_write_check(const struct vmm_cpu_mode *m, unsigned int cpl,
			u64 val);

/* CR4 bits a guest may have (KVM_SET_SREGS; MOV to CR4 where it exits). */
#define VMM_CR4_VALID	(X86_CR4_VME | X86_CR4_PVI | X86_CR4_TSD | \
			 X86_CR4_DE | X86_CR4_PSE | X86_CR4_PAE | \
			 X86_CR4_MCE | X86_CR4_PGE | X86_CR4_PCE | \
			 X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT | \
			 X86_CR4_UMIP | X86_CR4_FSGSBASE | X86_CR4_PCIDE | \
			 X86_CR4_OSXSAVE | X86_CR4_SMEP | X86_CR4_SMAP)

int vmm_mem_set_region(struct vmm_vm *vm,
		       const struct kvm_userspace_memory_region *r);
void vmm_mem_free_all(struct vmm_vm *vm);
int vmm_vcpu_create(struct vmm_vm *vm, unsigned long id);
void vmm_vcpu_destroy(struct vmm_vcpu *vcpu);
void vmm_vm_put(struct vmm_vm *vm);
int vmm_vcpu_run(struct vmm_vcpu *vcpu);

extern atomic64_t vmm_live_objects;

#endif /* VMM_H */
