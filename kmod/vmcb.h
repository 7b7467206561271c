/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VMCB: its layout (AMD64 APM vol. 2, appendix B), checked at build
 * time next to the structures (static_assert, BUILD_BUG_ON's file-scope
 * form), and the intercept, event, exit code and
 * exit information encodings (appendix C, 15.7-15.20) the backend uses.
 */
#ifndef VMM_VMCB_H
#define VMM_VMCB_H

#include <linux/bits.h>
#include <linux/build_bug.h>
#include <linux/mm.h>
#include <linux/stddef.h>
#include <linux/types.h>

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

/*
 * Layout checks at build time, next to each structure: the offsets the
 * hardware reads, as appendix B lists them (VMCB offsets, so the save
 * area's fields are checked at 0x400 + their offset in struct vmcb_save).
 */
#define VMCB_CONTROL_AT(field, off) \
	static_assert(offsetof(struct vmcb_control, field) == (off))
#define VMCB_SAVE_AT(field, off) \
	static_assert(0x400 + offsetof(struct vmcb_save, field) == (off))

static_assert(sizeof(struct vmcb_control) == 0x400);
VMCB_CONTROL_AT(iopm_base_pa, 0x040);
VMCB_CONTROL_AT(asid, 0x058);
VMCB_CONTROL_AT(tlb_control, 0x05c);
VMCB_CONTROL_AT(int_ctl, 0x060);
VMCB_CONTROL_AT(exit_code, 0x070);
VMCB_CONTROL_AT(exit_int_info, 0x088);
VMCB_CONTROL_AT(np_control, 0x090);
VMCB_CONTROL_AT(event_inj, 0x0a8);
VMCB_CONTROL_AT(n_cr3, 0x0b0);
VMCB_CONTROL_AT(clean, 0x0c0);
VMCB_CONTROL_AT(next_rip, 0x0c8);
VMCB_CONTROL_AT(insn_bytes, 0x0d1);

struct vmcb_seg {
	u16 selector;
	u16 attrib;
	u32 limit;
	u64 base;
};

static_assert(sizeof(struct vmcb_seg) == 16);

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

VMCB_SAVE_AT(es, 0x400);
VMCB_SAVE_AT(tr, 0x490);
VMCB_SAVE_AT(cpl, 0x4cb);
VMCB_SAVE_AT(efer, 0x4d0);
VMCB_SAVE_AT(cr4, 0x548);
VMCB_SAVE_AT(rflags, 0x570);
VMCB_SAVE_AT(rip, 0x578);
VMCB_SAVE_AT(rsp, 0x5d8);
VMCB_SAVE_AT(rax, 0x5f8);
VMCB_SAVE_AT(star, 0x600);
VMCB_SAVE_AT(kernel_gs_base, 0x620);
VMCB_SAVE_AT(cr2, 0x640);
VMCB_SAVE_AT(g_pat, 0x668);
VMCB_SAVE_AT(last_excp_to, 0x690);

struct vmcb {
	struct vmcb_control control;
	struct vmcb_save save;
};

static_assert(sizeof(struct vmcb) == PAGE_SIZE);

/* intercept_misc1 */
/* intercept_cr: reads in bits 0-15, writes in bits 16-31 */
#define SVM_ICR_WRITE(n)	BIT(16 + (n))

/* tlb_control */
#define SVM_TLB_FLUSH_ALL	1
#define SVM_TLB_FLUSH_ASID	3

#define SVM_I1_INTR		BIT(0)
#define SVM_I1_NMI		BIT(1)
#define SVM_I1_SMI		BIT(2)
#define SVM_I1_VINTR		BIT(4)
#define SVM_I1_IRET		BIT(20)
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
#define SVM_EVT_TYPE_SOFT	(4ULL << 8)
#define SVM_EVT_TYPE_MASK	(7ULL << 8)

/* Exit codes. */
#define SVM_EXIT_WRITE_CR4	0x014
#define SVM_EXIT_WRITE_CR8	0x018
#define SVM_EXIT_READ_DR0	0x020
#define SVM_EXIT_WRITE_DR7	0x03f
#define SVM_EXIT_INTR		0x060
#define SVM_EXIT_NMI		0x061
#define SVM_EXIT_SMI		0x062
#define SVM_EXIT_VINTR		0x064
#define SVM_EXIT_RDPMC		0x06f
#define SVM_EXIT_CPUID		0x072
#define SVM_EXIT_IRET		0x074
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

/* VMCB segment attributes: descriptor bits 40-47 and 52-55. */
#define VMCB_ATTR_L		BIT(9)
#define VMCB_ATTR_DB		BIT(10)

#endif /* VMM_VMCB_H */
