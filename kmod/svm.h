/* SPDX-License-Identifier: GPL-2.0 */
/*
 * AMD SVM backend: its private VM and vCPU state and the functions its
 * files share.  The VMCB layout and encodings are in vmcb.h.
 */
#ifndef VMM_SVM_H
#define VMM_SVM_H

#include <linux/types.h>

#include "vmcb.h"
#include "vmm.h"

struct svm_vm {
	struct mutex npt_lock;		/* serializes nested page table edits */
	u64 *npt_root;
};

struct svm_vcpu {
	struct vmcb *vmcb;
	u64 vmcb_pa;

	/* ASID of this vCPU on asid_cpu, valid while asid_gen matches. */
	u32 asid;
	int asid_cpu;
	u64 asid_gen;
	int tlb_gen;

	u64 db[4];		/* guest DR0-3 */

	/* NMI in service until its IRET has run (svm_intr.c). */
	bool nmi_masked;
	bool iret_seen;
	u64 iret_rip;
};

static inline struct svm_vcpu *to_svm(struct vmm_vcpu *vcpu)
{
	return vcpu->arch;
}

static inline struct svm_vm *to_svm_vm(struct vmm_vm *vm)
{
	return vm->arch;
}

/* svm_vmrun.S: GPRs in enum vmm_gpr order; RAX and RSP go by the VMCB. */
void svm_vmrun_asm(u64 vmcb_pa, unsigned long *gprs, u64 host_save_pa);

/* svm_npt.c */
int svm_npt_init(struct svm_vm *svm_vm);
void svm_npt_free(struct svm_vm *svm_vm);
int svm_npt_map(struct svm_vm *svm_vm, u64 gpa, u64 hpa, bool writable);
void svm_npt_unmap_range(struct vmm_vm *vm, u64 gpa, u64 size);

/* svm.c */
void svm_flush_guest_tlb(struct svm_vcpu *svm);

/* svm_exit.c */
int svm_handle_exit(struct vmm_vcpu *vcpu);
void svm_inject_exc(struct vmm_vcpu *vcpu, unsigned int vec, bool has_err,
		    u32 err);

/* svm_msr.c */
int svm_get_msr(struct vmm_vcpu *vcpu, u32 index, u64 *data);
int svm_set_msr(struct vmm_vcpu *vcpu, u32 index, u64 data, bool host);

/* svm_intr.c */
bool svm_interruptible(struct vmm_vcpu *vcpu);
bool svm_nmi_allowed(struct vmm_vcpu *vcpu);
void svm_inject_irq(struct vmm_vcpu *vcpu, u8 vector);
void svm_inject_nmi(struct vmm_vcpu *vcpu);
int svm_exit_iret(struct vmm_vcpu *vcpu);
void svm_set_windows(struct vmm_vcpu *vcpu, bool irq, bool nmi);
void svm_sipi(struct vmm_vcpu *vcpu, u8 vector);
void svm_get_events(struct vmm_vcpu *vcpu, struct kvm_vcpu_events *e);
int svm_set_events(struct vmm_vcpu *vcpu, const struct kvm_vcpu_events *e);

/* vmcb.c */
void vmcb_reset(struct vmm_vcpu *vcpu, u64 iopm_pa, u64 msrpm_pa, bool init);
void vmcb_get_debugregs(struct vmm_vcpu *vcpu, struct kvm_debugregs *d);
int vmcb_set_debugregs(struct vmm_vcpu *vcpu, const struct kvm_debugregs *d);
void vmcb_get_sregs(struct vmm_vcpu *vcpu, struct kvm_sregs *sregs);
void vmcb_set_sregs(struct vmm_vcpu *vcpu, const struct kvm_sregs *sregs);
void vmcb_get_cpu_mode(struct vmm_vcpu *vcpu, struct vmm_cpu_mode *mode);
void vmcb_clear_int_shadow(struct vmm_vcpu *vcpu);
u64 vmcb_get_cr8(struct vmm_vcpu *vcpu);
void vmcb_get_exit_info(struct vmm_vcpu *vcpu, u64 info[3]);

#endif /* VMM_SVM_H */
