/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Intel VMX backend: its private VM and vCPU state, the VMX instructions
 * as inline functions, and the functions its files share.  Encodings are
 * in vmcs.h.
 */
#ifndef VMM_VMX_H
#define VMM_VMX_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/preempt.h>
#include <linux/types.h>

#include "vmcs.h"
#include "vmm.h"

/* Capabilities read once at load, the controls every VMCS gets. */
struct vmx_caps {
	u32 revision;
	u32 pin;
	u32 proc;
	u32 proc2;
	u32 exit;
	u32 entry;
	u64 cr0_fixed0;
	u64 cr0_fixed1;
	u64 cr4_fixed0;
	u64 cr4_fixed1;
	u64 ept_vpid;
	bool vpid;
	bool invept_single;
	u32 preempt_timer;		/* value per entry, 0: timer off */
	/* Virtual NMIs and NMI-window exiting: the in-kernel irqchip. */
	bool events;
};

extern struct vmx_caps vmx_caps;

/*
 * Guest MSRs with no VMCS field, switched by the VM-entry MSR-load and
 * VM-exit MSR-store lists (one array serves both: 25.7.2, 25.8.2), the
 * host's values by the VM-exit MSR-load list.
 */
enum {
	VMX_MSR_STAR, VMX_MSR_LSTAR, VMX_MSR_CSTAR, VMX_MSR_SFMASK,
	VMX_MSR_KERNEL_GS_BASE, VMX_NR_AUTO_MSRS,
};

struct vmx_msr_entry {
	u32 index;
	u32 reserved;
	u64 value;
} __aligned(16);

struct vmx_vm {
	struct mutex ept_lock;		/* serializes EPT edits */
	u64 *ept_root;
	u64 eptp;
};

struct vmx_vcpu {
	struct vmm_vcpu *vcpu;
	void *vmcs;
	u64 vmcs_pa;
	/* CPU whose VMCS cache holds this VMCS, -1 if VMCLEARed. */
	int loaded_cpu;
	struct list_head loaded_link;	/* on that CPU's list */
	bool launched;			/* VMRESUME, not VMLAUNCH */
	struct preempt_notifier pn;

	u16 vpid;
	int flush_cpu;			/* TLB flushed for this VM here */
	int tlb_gen;

	/* Guest state with no VMCS field. */
	u64 cr2;			/* CR2 is not switched by VMX */
	u64 cr8;			/* TPR: MOV CR8 always exits */
	u64 dr6;

	/* Host state cached in the VMCS (written when it changes). */
	unsigned long host_cr3;
	unsigned long host_cr4;
	unsigned long host_fs_base;

	struct vmx_msr_entry *guest_msrs;	/* VMX_NR_AUTO_MSRS entries */
	struct vmx_msr_entry *host_msrs;
};

static inline struct vmx_vcpu *to_vmx(struct vmm_vcpu *vcpu)
{
	return vcpu->arch;
}

static inline struct vmx_vm *to_vmx_vm(struct vmm_vm *vm)
{
	return vm->arch;
}

/*
 * VMREAD/VMWRITE on the current VMCS.  A failure here is a bug of ours
 * (a field the CPU lacks, no current VMCS): warn once and go on, the
 * entry checks will catch what it broke.
 */
void vmx_insn_failed(const char *insn, unsigned long field);

static __always_inline u64 vmcs_read(unsigned long field)
{
	unsigned long val;
	bool fail;

	asm volatile("vmread %[field], %[val]"
		     : [val] "=rm" (val), "=@ccbe" (fail)
		     : [field] "r" (field) : "cc");
	if (unlikely(fail))
		vmx_insn_failed("vmread", field);
	return val;
}

static __always_inline void vmcs_write(unsigned long field, u64 val)
{
	bool fail;

	asm volatile("vmwrite %[val], %[field]"
		     : "=@ccbe" (fail)
		     : [val] "rm" ((unsigned long)val), [field] "r" (field)
		     : "cc");
	if (unlikely(fail))
		vmx_insn_failed("vmwrite", field);
}

static inline void vmcs_set_bits(unsigned long field, u32 bits)
{
	vmcs_write(field, vmcs_read(field) | bits);
}

static inline void vmcs_clear_bits(unsigned long field, u32 bits)
{
	vmcs_write(field, vmcs_read(field) & ~bits);
}

/* vmx_vmenter.S: 0 after a VM exit, 1 if VMLAUNCH/VMRESUME failed. */
int vmx_vmenter_asm(unsigned long *gprs, bool launched);
extern const char vmx_vmexit[];
/* vmx_vmenter.S: run the host's NMI handler as if the NMI came now. */
void vmx_host_nmi_asm(void);

/* vmx.c */
void vmx_flush_guest_tlb(struct vmx_vcpu *vmx);

/* vmx_ept.c */
int vmx_ept_init(struct vmx_vm *vmx_vm);
void vmx_ept_free(struct vmx_vm *vmx_vm);
int vmx_ept_map(struct vmx_vm *vmx_vm, u64 gpa, u64 hpa, bool writable);
void vmx_ept_unmap_range(struct vmm_vm *vm, u64 gpa, u64 size);

/* vmx_exit.c */
int vmx_handle_exit(struct vmm_vcpu *vcpu, u32 reason);
void vmx_exit_irqoff(u32 reason);
void vmx_inject_exc(struct vmm_vcpu *vcpu, unsigned int vec, bool has_err,
		    u32 err);

/* vmx_msr.c */
void vmx_msrs_init(struct vmx_vcpu *vmx);
int vmx_get_msr(struct vmm_vcpu *vcpu, u32 index, u64 *data);
int vmx_set_msr(struct vmm_vcpu *vcpu, u32 index, u64 data, bool host);

/* vmx_vmcs.c */
void vmx_vmcs_setup(struct vmm_vcpu *vcpu, u64 io_bitmap_pa,
		    u64 msr_bitmap_pa);
void vmx_vmcs_host_cpu(struct vmx_vcpu *vmx, int cpu);
void vmx_vmcs_reset(struct vmm_vcpu *vcpu);
void vmx_get_sregs(struct vmm_vcpu *vcpu, struct kvm_sregs *sregs);
void vmx_set_sregs(struct vmm_vcpu *vcpu, const struct kvm_sregs *sregs);
void vmx_get_cpu_mode(struct vmm_vcpu *vcpu, struct vmm_cpu_mode *mode);
void vmx_clear_int_shadow(struct vmm_vcpu *vcpu);
u64 vmx_get_cr8(struct vmm_vcpu *vcpu);
void vmx_sipi(struct vmm_vcpu *vcpu, u8 vector);
void vmx_get_exit_info(struct vmm_vcpu *vcpu, u64 info[3]);
u64 vmx_guest_cr0(void);
u64 vmx_guest_cr4(void);
int vmx_set_cr0(struct vmm_vcpu *vcpu, u64 cr0);
int vmx_set_cr4(struct vmm_vcpu *vcpu, u64 cr4);
void vmx_set_efer(struct vmm_vcpu *vcpu, u64 efer);
void vmx_load_pdptes(struct vmm_vcpu *vcpu);

#endif /* VMM_VMX_H */
