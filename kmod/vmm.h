/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internal interface between the vmm core (vmm.ko: /dev/vmm, VM and vCPU
 * file descriptors, memory slots) and a processor backend (vmm-amd.ko).
 * The userspace ABI is the KVM one from <linux/kvm.h>; nothing here is ABI.
 */
#ifndef VMM_H
#define VMM_H

#include <linux/kvm.h>
#include <linux/bits.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/srcu.h>
#include <linux/types.h>

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

struct vmm_slot {
	u32 id;
	u32 flags;		/* KVM_MEM_READONLY */
	u64 gpa;
	u64 npages;
	u64 uaddr;
	struct page **pages;	/* pinned at creation, unpinned at deletion */
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
	struct srcu_struct srcu;	/* readers: slots users, guest entry */
	struct vmm_slots __rcu *slots;
	u64 pinned_pages;
	/* Bumped whenever guest-physical mappings are removed. */
	atomic_t tlb_gen;
	int nr_vcpus;
	struct vmm_vcpu *vcpus[VMM_MAX_VCPUS];
	void *arch;			/* backend private */
};

enum vmm_pending {
	VMM_PENDING_NONE,
	VMM_PENDING_PIO_IN,	/* write run->io data to rAX, skip insn */
	VMM_PENDING_PIO_INS,	/* store run->io data at ES:rDI, step */
	VMM_PENDING_PIO_OUT,	/* skip insn */
	VMM_PENDING_MMIO_READ,	/* write run->mmio.data to a register */
	VMM_PENDING_MMIO_WRITE,	/* skip insn */
};

struct vmm_vcpu {
	struct vmm_vm *vm;
	u32 id;
	struct mutex mutex;		/* one ioctl at a time */
	struct kvm_run *run;
	struct page *run_page;
	struct page *pio_page;

	/* Set while in KVM_RUN between entry and exit; read by kickers. */
	int cpu;

	/* Completion of a userspace I/O exit, done by the next KVM_RUN. */
	enum vmm_pending pending;
	u64 pending_rip;	/* RIP after the instruction */
	u8 pending_reg;		/* destination GPR for MMIO reads */
	u8 pending_size;	/* destination width in bytes */
	u8 pending_len;		/* access width in bytes */
	u8 pending_sext;	/* sign-extend (MOVSX) */
	u32 pending_count;	/* INS: elements */
	u32 pending_io_info;	/* INS: IOIO EXITINFO1 */

	int pending_irq;	/* KVM_INTERRUPT vector, -1 if none */

	int nr_cpuid;
	struct kvm_cpuid_entry2 cpuid[VMM_MAX_CPUID_ENTRIES];

	void *arch;		/* backend private */
};

/* Backend operations; every call holds vcpu->mutex where a vCPU is given. */
struct vmm_arch_ops {
	struct module *owner;
	const char *name;

	int (*vm_init)(struct vmm_vm *vm);
	void (*vm_destroy)(struct vmm_vm *vm);
	/* Drop guest-physical mappings of [gpa, gpa + size). */
	void (*unmap_range)(struct vmm_vm *vm, u64 gpa, u64 size);

	int (*vcpu_create)(struct vmm_vcpu *vcpu);
	void (*vcpu_free)(struct vmm_vcpu *vcpu);
	int (*vcpu_run)(struct vmm_vcpu *vcpu);

	void (*get_regs)(struct vmm_vcpu *vcpu, struct kvm_regs *regs);
	void (*set_regs)(struct vmm_vcpu *vcpu, const struct kvm_regs *regs);
	void (*get_sregs)(struct vmm_vcpu *vcpu, struct kvm_sregs *sregs);
	int (*set_sregs)(struct vmm_vcpu *vcpu, const struct kvm_sregs *sregs);
	void (*get_fpu)(struct vmm_vcpu *vcpu, struct kvm_fpu *fpu);
	void (*set_fpu)(struct vmm_vcpu *vcpu, const struct kvm_fpu *fpu);
	/* Host-initiated MSR access (KVM_GET/SET_MSRS); 0 or -errno. */
	int (*get_msr)(struct vmm_vcpu *vcpu, u32 index, u64 *data);
	int (*set_msr)(struct vmm_vcpu *vcpu, u32 index, u64 data);
	const u32 *msr_list;
	unsigned int nr_msrs;
	/* KVM_GET_SUPPORTED_CPUID: fill up to @max entries, return count. */
	int (*get_supported_cpuid)(struct kvm_cpuid_entry2 *e, int max);
};

int vmm_register_backend(const struct vmm_arch_ops *ops);
void vmm_unregister_backend(const struct vmm_arch_ops *ops);

/* Guest memory (caller holds vm->srcu). */
struct vmm_slot *vmm_find_slot(struct vmm_vm *vm, u64 gpa);
struct page *vmm_gpa_to_page(struct vmm_vm *vm, u64 gpa, bool write,
			     bool *readonly);
int vmm_read_guest(struct vmm_vm *vm, u64 gpa, void *buf, unsigned int len);
int vmm_write_guest(struct vmm_vm *vm, u64 gpa, const void *buf,
		    unsigned int len);

/* Core helpers for the backend. */
void vmm_kick_all(struct vmm_vm *vm);
u64 vmm_nr_live_objects(void);

int vmm_mem_set_region(struct vmm_vm *vm,
		       const struct kvm_userspace_memory_region *r);
void vmm_mem_free_all(struct vmm_vm *vm);
int vmm_vcpu_create(struct vmm_vm *vm, unsigned long id);
void vmm_vcpu_destroy(struct vmm_vcpu *vcpu);
void vmm_vm_put(struct vmm_vm *vm);

extern atomic64_t vmm_live_objects;

#endif /* VMM_H */
