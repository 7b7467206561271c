/* SPDX-License-Identifier: GPL-2.0 */
/*
 * AMD SVM backend: VMCB layout, intercept and exit codes (AMD64 APM vol. 2,
 * appendix B and C) and the backend's private VM and vCPU state.
 */
#ifndef VMM_SVM_H
#define VMM_SVM_H

#include <linux/types.h>
#include <asm/fpu/types.h>

#include "vmm.h"

/* VMCB control area, offsets 0x000-0x3ff. */
struct vmcb_control {
	u32 intercept_cr;		/* 0x000: reads 0-15, writes 16-31 */
	u32 intercept_dr;		/* 0x004 */
	u32 intercept_exc;		/* 0x008 */
	u32 intercept_misc1;		/* 0x00c */
	u32 intercept_misc2;		/* 0x010 */
	u32 intercept_misc3;		/* 0x014 */
	u8 rsvd1[0x03c - 0x018];
	u16 pause_filter_thresh;	/* 0x03c */
	u16 pause_filter_count;		/* 0x03e */
	u64 iopm_base_pa;		/* 0x040 */
	u64 msrpm_base_pa;		/* 0x048 */
	u64 tsc_offset;			/* 0x050 */
	u32 asid;			/* 0x058 */
	u8 tlb_control;			/* 0x05c */
	u8 rsvd2[3];
	u64 int_ctl;			/* 0x060 */
	u64 int_state;			/* 0x068 */
	u64 exit_code;			/* 0x070 */
	u64 exit_info1;			/* 0x078 */
	u64 exit_info2;			/* 0x080 */
	u64 exit_int_info;		/* 0x088 */
	u64 np_control;			/* 0x090 */
	u64 avic_apic_bar;		/* 0x098 */
	u64 ghcb_pa;			/* 0x0a0 */
	u64 event_inj;			/* 0x0a8 */
	u64 n_cr3;			/* 0x0b0 */
	u64 virt_ext;			/* 0x0b8 */
	u32 clean;			/* 0x0c0 */
	u32 rsvd3;
	u64 next_rip;			/* 0x0c8 */
	u8 insn_len;			/* 0x0d0 */
	u8 insn_bytes[15];		/* 0x0d1 */
	u8 rsvd4[0x400 - 0x0e0];
};

struct vmcb_seg {
	u16 selector;
	u16 attrib;
	u32 limit;
	u64 base;
};

/* VMCB state save area, offsets 0x400 onwards. */
struct vmcb_save {
	struct vmcb_seg es;		/* 0x400 */
	struct vmcb_seg cs;
	struct vmcb_seg ss;
	struct vmcb_seg ds;
	struct vmcb_seg fs;
	struct vmcb_seg gs;
	struct vmcb_seg gdtr;
	struct vmcb_seg ldtr;
	struct vmcb_seg idtr;
	struct vmcb_seg tr;		/* 0x490 */
	u8 rsvd1[0x4cb - 0x4a0];
	u8 cpl;				/* 0x4cb */
	u32 rsvd2;
	u64 efer;			/* 0x4d0 */
	u8 rsvd3[0x548 - 0x4d8];
	u64 cr4;			/* 0x548 */
	u64 cr3;
	u64 cr0;
	u64 dr7;
	u64 dr6;
	u64 rflags;
	u64 rip;			/* 0x578 */
	u8 rsvd4[0x5d8 - 0x580];
	u64 rsp;			/* 0x5d8 */
	u64 s_cet;
	u64 ssp;
	u64 isst_addr;
	u64 rax;			/* 0x5f8 */
	u64 star;			/* 0x600 */
	u64 lstar;
	u64 cstar;
	u64 sfmask;
	u64 kernel_gs_base;
	u64 sysenter_cs;
	u64 sysenter_esp;
	u64 sysenter_eip;
	u64 cr2;			/* 0x640 */
	u8 rsvd5[0x668 - 0x648];
	u64 g_pat;			/* 0x668 */
	u64 dbgctl;
	u64 br_from;
	u64 br_to;
	u64 last_excp_from;
	u64 last_excp_to;		/* 0x690 */
	u8 rsvd6[0x1000 - 0x698];
};

struct vmcb {
	struct vmcb_control control;
	struct vmcb_save save;
};

/* intercept_misc1 */
#define SVM_I1_INTR		BIT(0)
#define SVM_I1_NMI		BIT(1)
#define SVM_I1_SMI		BIT(2)
#define SVM_I1_VINTR		BIT(4)
#define SVM_I1_RDPMC		BIT(15)
#define SVM_I1_CPUID		BIT(18)
#define SVM_I1_INVD		BIT(22)
#define SVM_I1_HLT		BIT(24)
#define SVM_I1_INVLPGA		BIT(26)
#define SVM_I1_IOIO		BIT(27)
#define SVM_I1_MSR		BIT(28)
#define SVM_I1_SHUTDOWN		BIT(31)
/* intercept_misc2 */
#define SVM_I2_VMRUN		BIT(0)
#define SVM_I2_VMMCALL		BIT(1)
#define SVM_I2_VMLOAD		BIT(2)
#define SVM_I2_VMSAVE		BIT(3)
#define SVM_I2_STGI		BIT(4)
#define SVM_I2_CLGI		BIT(5)
#define SVM_I2_SKINIT		BIT(6)
#define SVM_I2_MONITOR		BIT(10)
#define SVM_I2_MWAIT		BIT(11)
#define SVM_I2_MWAIT_COND	BIT(12)
#define SVM_I2_XSETBV		BIT(13)
#define SVM_I2_RDPRU		BIT(14)

/* int_ctl */
#define SVM_V_TPR_MASK		0xffULL
#define SVM_V_IRQ		BIT_ULL(8)
#define SVM_V_INTR_PRIO_SHIFT	16
#define SVM_V_IGN_TPR		BIT_ULL(20)
#define SVM_V_INTR_MASKING	BIT_ULL(24)

/* int_state */
#define SVM_INT_SHADOW		BIT_ULL(0)

/* event_inj / exit_int_info */
#define SVM_EVT_VALID		BIT_ULL(31)
#define SVM_EVT_EV		BIT_ULL(11)
#define SVM_EVT_TYPE_INTR	(0ULL << 8)
#define SVM_EVT_TYPE_NMI	(2ULL << 8)
#define SVM_EVT_TYPE_EXC	(3ULL << 8)

/* Exit codes. */
#define SVM_EXIT_READ_DR0	0x020
#define SVM_EXIT_WRITE_DR7	0x03f
#define SVM_EXIT_INTR		0x060
#define SVM_EXIT_NMI		0x061
#define SVM_EXIT_SMI		0x062
#define SVM_EXIT_VINTR		0x064
#define SVM_EXIT_RDPMC		0x06f
#define SVM_EXIT_CPUID		0x072
#define SVM_EXIT_INVD		0x076
#define SVM_EXIT_HLT		0x078
#define SVM_EXIT_INVLPGA	0x07a
#define SVM_EXIT_IOIO		0x07b
#define SVM_EXIT_MSR		0x07c
#define SVM_EXIT_SHUTDOWN	0x07f
#define SVM_EXIT_VMRUN		0x080
#define SVM_EXIT_VMMCALL	0x081
#define SVM_EXIT_VMLOAD		0x082
#define SVM_EXIT_VMSAVE		0x083
#define SVM_EXIT_STGI		0x084
#define SVM_EXIT_CLGI		0x085
#define SVM_EXIT_SKINIT		0x086
#define SVM_EXIT_MONITOR	0x08a
#define SVM_EXIT_MWAIT		0x08b
#define SVM_EXIT_MWAIT_COND	0x08c
#define SVM_EXIT_XSETBV		0x08d
#define SVM_EXIT_RDPRU		0x08e
#define SVM_EXIT_NPF		0x400
#define SVM_EXIT_INVALID	(~0ULL)

/* IOIO EXITINFO1 */
#define SVM_IO_IN		BIT(0)
#define SVM_IO_STR		BIT(2)
#define SVM_IO_REP		BIT(3)
#define SVM_IO_SIZE_SHIFT	4
#define SVM_IO_SEG_SHIFT	10

/* NPF EXITINFO1 */
#define SVM_NPF_PRESENT		BIT_ULL(0)
#define SVM_NPF_WRITE		BIT_ULL(1)
#define SVM_NPF_FETCH		BIT_ULL(4)
#define SVM_NPF_GUEST_PT	BIT_ULL(33)

/* MSR_MTRRdefType, spelled without CamelCase. */
#define VMM_MSR_MTRR_DEF_TYPE	0x2ff

/* GPR slots in ModRM numbering; RAX and RSP live in the VMCB. */
enum {
	SVM_RAX, SVM_RCX, SVM_RDX, SVM_RBX, SVM_RSP, SVM_RBP, SVM_RSI, SVM_RDI,
	SVM_R8, SVM_R9, SVM_R10, SVM_R11, SVM_R12, SVM_R13, SVM_R14, SVM_R15,
	SVM_NR_GPRS,
};

struct svm_vm {
	struct mutex npt_lock;		/* serializes nested page table edits */
	u64 *npt_root;
	u64 tsc_offset;			/* same for all vCPUs: TSCs in sync */
};

struct svm_vcpu {
	struct vmcb *vmcb;
	u64 vmcb_pa;
	unsigned long gprs[SVM_NR_GPRS];
	struct fxregs_state *fpu;	/* guest x87/SSE state, own page */

	/* ASID of this vCPU on asid_cpu, valid while asid_gen matches. */
	u32 asid;
	int asid_cpu;
	u64 asid_gen;
	int tlb_gen;

	u64 apic_base;
	u64 misc_enable;
	u64 mtrr_def_type;
};

static inline struct svm_vcpu *to_svm(struct vmm_vcpu *vcpu)
{
	return vcpu->arch;
}

static inline struct svm_vm *to_svm_vm(struct vmm_vm *vm)
{
	return vm->arch;
}

/* svm_vmrun.S */
void svm_vmrun_asm(u64 vmcb_pa, unsigned long *gprs, u64 host_save_pa);

/* svm_npt.c */
int svm_npt_init(struct svm_vm *svm_vm);
void svm_npt_free(struct svm_vm *svm_vm);
int svm_npt_map(struct svm_vm *svm_vm, u64 gpa, u64 hpa, bool writable);
void svm_npt_unmap_range(struct vmm_vm *vm, u64 gpa, u64 size);

/* svm_exit.c */
int svm_vcpu_run(struct vmm_vcpu *vcpu);
void svm_exit_setup(void);
int svm_guest_rdmsr(struct vmm_vcpu *vcpu, u32 index, u64 *data);
int svm_guest_wrmsr(struct vmm_vcpu *vcpu, u32 index, u64 data, bool host);

/* svm.c */
void svm_vcpu_reset(struct vmm_vcpu *vcpu);
bool svm_this_cpu_ready(void);
void svm_assign_asid(struct vmm_vcpu *vcpu, int cpu);
u64 svm_host_save_pa(void);

#endif /* VMM_SVM_H */
