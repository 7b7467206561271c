/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VMCS as vmm-intel uses it, from the Intel SDM vol. 3C (the order
 * of its chapters since 2022: 25 "Virtual Machine Control Structures",
 * 26 "VMX Non-Root Operation", 27 "VM Entries", 28 "VM Exits", 29 "VMX
 * Support for Address Translation"; appendix A "VMX Capability Reporting
 * Facility", B "Field Encoding in VMCS", C "VMX Basic Exit Reasons"):
 * field encodings, control bits, exit reasons and exit qualifications,
 * the capability MSRs and the EPT entry format.  One header, so that every
 * number vmm-intel writes into the hardware is defined, and cited, once.
 */
#ifndef VMM_VMCS_H
#define VMM_VMCS_H

#include <linux/bits.h>

/* ---- Capability MSRs (appendix A) ---- */
#define MSR_VMX_BASIC			0x480	/* A.1 */
#define MSR_VMX_PINBASED_CTLS		0x481	/* A.3.1 */
#define MSR_VMX_PROCBASED_CTLS		0x482	/* A.3.2 */
#define MSR_VMX_EXIT_CTLS		0x483	/* A.4 */
#define MSR_VMX_ENTRY_CTLS		0x484	/* A.5 */
#define MSR_VMX_MISC			0x485	/* A.6 */
#define MSR_VMX_CR0_FIXED0		0x486	/* A.7 */
#define MSR_VMX_CR0_FIXED1		0x487
#define MSR_VMX_CR4_FIXED0		0x488	/* A.8 */
#define MSR_VMX_CR4_FIXED1		0x489
#define MSR_VMX_PROCBASED_CTLS2		0x48b	/* A.3.3 */
#define MSR_VMX_EPT_VPID_CAP		0x48c	/* A.10 */
#define MSR_VMX_TRUE_PINBASED_CTLS	0x48d
#define MSR_VMX_TRUE_PROCBASED_CTLS	0x48e
#define MSR_VMX_TRUE_EXIT_CTLS		0x48f
#define MSR_VMX_TRUE_ENTRY_CTLS		0x490

/* IA32_VMX_MISC (A.6): the preemption timer ticks every 2^rate TSC ticks. */
#define VMX_MISC_PREEMPT_RATE(m)	((m) & 0x1f)

/* IA32_FEATURE_CONTROL (MSR 0x3a), SDM vol. 3C 24.7 "Enabling VMX". */
#define VMX_FEATCTL_LOCKED		BIT_ULL(0)
#define VMX_FEATCTL_VMXON_OUTSIDE_SMX	BIT_ULL(2)

/* IA32_VMX_BASIC (A.1) */
#define BASIC_REVISION(b)		((u32)(b) & 0x7fffffff)
#define BASIC_VMCS_SIZE(b)		(((b) >> 32) & 0x1fff)
#define BASIC_32BIT_PA		BIT_ULL(48)
#define BASIC_MEMTYPE(b)		(((b) >> 50) & 0xf)
#define BASIC_MEMTYPE_WB		6
#define BASIC_TRUE_CTLS		BIT_ULL(55)

/* IA32_VMX_EPT_VPID_CAP (A.10) */
#define VMX_EPT_CAP_WALK4		BIT_ULL(6)
#define VMX_EPT_CAP_WB			BIT_ULL(14)
#define VMX_EPT_CAP_INVEPT		BIT_ULL(20)
#define VMX_EPT_CAP_INVEPT_SINGLE	BIT_ULL(25)
#define VMX_EPT_CAP_INVEPT_ALL		BIT_ULL(26)
#define VMX_VPID_CAP_INVVPID		BIT_ULL(32)
#define VMX_VPID_CAP_INVVPID_SINGLE	BIT_ULL(41)
#define VMX_VPID_CAP_INVVPID_ALL	BIT_ULL(42)

/* INVEPT / INVVPID types (vol. 3C 31.3, "VMX Instruction Reference"). */
#define VMX_INVEPT_SINGLE		1
#define VMX_INVEPT_ALL			2
#define VMX_INVVPID_SINGLE		1
#define VMX_INVVPID_ALL			2

/* ---- Field encodings (appendix B) ---- */
/* B.1.1 16-bit control fields */
#define VMCS_VPID			0x0000
/* B.1.2 16-bit guest-state fields */
#define VMCS_GUEST_ES_SEL		0x0800	/* + 2 * segment number */
#define VMCS_GUEST_CS_SEL		0x0802
#define VMCS_GUEST_SS_SEL		0x0804
#define VMCS_GUEST_DS_SEL		0x0806
#define VMCS_GUEST_FS_SEL		0x0808
#define VMCS_GUEST_GS_SEL		0x080a
#define VMCS_GUEST_LDTR_SEL		0x080c
#define VMCS_GUEST_TR_SEL		0x080e
/* B.1.3 16-bit host-state fields */
#define VMCS_HOST_ES_SEL		0x0c00
#define VMCS_HOST_CS_SEL		0x0c02
#define VMCS_HOST_SS_SEL		0x0c04
#define VMCS_HOST_DS_SEL		0x0c06
#define VMCS_HOST_FS_SEL		0x0c08
#define VMCS_HOST_GS_SEL		0x0c0a
#define VMCS_HOST_TR_SEL		0x0c0c
/* B.2.1 64-bit control fields */
#define VMCS_IO_BITMAP_A		0x2000
#define VMCS_IO_BITMAP_B		0x2002
#define VMCS_MSR_BITMAP			0x2004
#define VMCS_EXIT_MSR_STORE_ADDR	0x2006
#define VMCS_EXIT_MSR_LOAD_ADDR		0x2008
#define VMCS_ENTRY_MSR_LOAD_ADDR	0x200a
#define VMCS_TSC_OFFSET			0x2010
#define VMCS_EPT_POINTER		0x201a
/* B.2.2 64-bit read-only data field */
#define VMCS_GUEST_PHYS_ADDR		0x2400
/* B.2.3 64-bit guest-state fields */
#define VMCS_LINK_POINTER		0x2800
#define VMCS_GUEST_DEBUGCTL		0x2802
#define VMCS_GUEST_PAT			0x2804
#define VMCS_GUEST_EFER			0x2806
#define VMCS_GUEST_PDPTE0		0x280a	/* + 2 * n, n = 0..3 */
/* B.2.4 64-bit host-state fields */
#define VMCS_HOST_PAT			0x2c00
#define VMCS_HOST_EFER			0x2c02
/* B.3.1 32-bit control fields */
#define VMCS_PIN_CTLS			0x4000
#define VMCS_PROC_CTLS			0x4002
#define VMCS_EXCEPTION_BITMAP		0x4004
#define VMCS_PF_ERR_MASK		0x4006
#define VMCS_PF_ERR_MATCH		0x4008
#define VMCS_CR3_TARGET_COUNT		0x400a
#define VMCS_EXIT_CTLS			0x400c
#define VMCS_EXIT_MSR_STORE_COUNT	0x400e
#define VMCS_EXIT_MSR_LOAD_COUNT	0x4010
#define VMCS_ENTRY_CTLS			0x4012
#define VMCS_ENTRY_MSR_LOAD_COUNT	0x4014
#define VMCS_ENTRY_INTR_INFO		0x4016
#define VMCS_ENTRY_EXC_ERR		0x4018
#define VMCS_ENTRY_INSN_LEN		0x401a
#define VMCS_TPR_THRESHOLD		0x401c
#define VMCS_PROC_CTLS2			0x401e
/* B.3.2 32-bit read-only data fields */
#define VMCS_INSN_ERROR			0x4400
#define VMCS_EXIT_REASON		0x4402
#define VMCS_EXIT_INTR_INFO		0x4404
#define VMCS_EXIT_INTR_ERR		0x4406
#define VMCS_IDT_VECTORING_INFO		0x4408
#define VMCS_IDT_VECTORING_ERR		0x440a
#define VMCS_EXIT_INSN_LEN		0x440c
#define VMCS_EXIT_INSN_INFO		0x440e
/* B.3.3 32-bit guest-state fields */
#define VMCS_GUEST_ES_LIMIT		0x4800	/* + 2 * segment number */
#define VMCS_GUEST_LDTR_LIMIT		0x480c
#define VMCS_GUEST_TR_LIMIT		0x480e
#define VMCS_GUEST_GDTR_LIMIT		0x4810
#define VMCS_GUEST_IDTR_LIMIT		0x4812
#define VMCS_GUEST_ES_AR		0x4814	/* + 2 * segment number */
#define VMCS_GUEST_LDTR_AR		0x4820
#define VMCS_GUEST_TR_AR		0x4822
#define VMCS_GUEST_INTERRUPTIBILITY	0x4824
#define VMCS_GUEST_ACTIVITY		0x4826
#define VMCS_GUEST_SYSENTER_CS		0x482a
#define VMCS_GUEST_PREEMPT_TIMER	0x482e
/* B.3.4 32-bit host-state field */
#define VMCS_HOST_SYSENTER_CS		0x4c00
/* B.4.1 natural-width control fields */
#define VMCS_CR0_MASK			0x6000
#define VMCS_CR4_MASK			0x6002
#define VMCS_CR0_SHADOW			0x6004
#define VMCS_CR4_SHADOW			0x6006
/* B.4.2 natural-width read-only data fields */
#define VMCS_EXIT_QUAL			0x6400
#define VMCS_GUEST_LINEAR_ADDR		0x640a
/* B.4.3 natural-width guest-state fields */
#define VMCS_GUEST_CR0			0x6800
#define VMCS_GUEST_CR3			0x6802
#define VMCS_GUEST_CR4			0x6804
#define VMCS_GUEST_ES_BASE		0x6806	/* + 2 * segment number */
#define VMCS_GUEST_LDTR_BASE		0x6812
#define VMCS_GUEST_TR_BASE		0x6814
#define VMCS_GUEST_GDTR_BASE		0x6816
#define VMCS_GUEST_IDTR_BASE		0x6818
#define VMCS_GUEST_DR7			0x681a
#define VMCS_GUEST_RSP			0x681c
#define VMCS_GUEST_RIP			0x681e
#define VMCS_GUEST_RFLAGS		0x6820
#define VMCS_GUEST_PENDING_DBG		0x6822
#define VMCS_GUEST_SYSENTER_ESP		0x6824
#define VMCS_GUEST_SYSENTER_EIP		0x6826
/* B.4.4 natural-width host-state fields */
#define VMCS_HOST_CR0			0x6c00
#define VMCS_HOST_CR3			0x6c02
#define VMCS_HOST_CR4			0x6c04
#define VMCS_HOST_FS_BASE		0x6c06
#define VMCS_HOST_GS_BASE		0x6c08
#define VMCS_HOST_TR_BASE		0x6c0a
#define VMCS_HOST_GDTR_BASE		0x6c0c
#define VMCS_HOST_IDTR_BASE		0x6c0e
#define VMCS_HOST_SYSENTER_ESP		0x6c10
#define VMCS_HOST_SYSENTER_EIP		0x6c12
#define VMCS_HOST_RSP			0x6c14
#define VMCS_HOST_RIP			0x6c16

/* ---- VM-execution controls (25.6) ---- */
/* Pin-based, table 25-5 */
#define PIN_EXT_INTR_EXIT		BIT(0)
#define PIN_NMI_EXIT			BIT(3)
#define PIN_VIRTUAL_NMIS		BIT(5)
#define PIN_PREEMPT_TIMER		BIT(6)
/* Primary processor-based, table 25-6 */
#define PROC_INTR_WINDOW_EXIT		BIT(2)
#define PROC_TSC_OFFSET			BIT(3)
#define PROC_HLT_EXIT			BIT(7)
#define PROC_INVLPG_EXIT		BIT(9)
#define PROC_MWAIT_EXIT			BIT(10)
#define PROC_RDPMC_EXIT			BIT(11)
#define PROC_RDTSC_EXIT			BIT(12)
#define PROC_CR3_LOAD_EXIT		BIT(15)
#define PROC_CR3_STORE_EXIT		BIT(16)
#define PROC_CR8_LOAD_EXIT		BIT(19)
#define PROC_CR8_STORE_EXIT		BIT(20)
#define PROC_TPR_SHADOW			BIT(21)
#define PROC_NMI_WINDOW_EXIT		BIT(22)
#define PROC_MOV_DR_EXIT		BIT(23)
#define PROC_IO_EXIT			BIT(24)
#define PROC_IO_BITMAPS			BIT(25)
#define PROC_MTF			BIT(27)
#define PROC_MSR_BITMAPS		BIT(28)
#define PROC_MONITOR_EXIT		BIT(29)
#define PROC_PAUSE_EXIT			BIT(30)
#define PROC_SECONDARY			BIT(31)
/* Secondary processor-based, table 25-7 */
#define PROC2_EPT			BIT(1)
#define PROC2_DESC_TABLE_EXIT		BIT(2)
#define PROC2_RDTSCP			BIT(3)
#define PROC2_VPID			BIT(5)
#define PROC2_WBINVD_EXIT		BIT(6)
#define PROC2_UNRESTRICTED		BIT(7)
#define PROC2_INVPCID			BIT(12)
#define PROC2_RDRAND_EXIT		BIT(11)
#define PROC2_VMFUNC			BIT(13)
#define PROC2_RDSEED_EXIT		BIT(16)
#define PROC2_XSAVES			BIT(20)

/* ---- VM-exit controls (25.7.1, table 25-13) ---- */
#define EXIT_SAVE_DEBUG			BIT(2)
#define EXIT_HOST_64			BIT(9)
#define EXIT_ACK_INTR			BIT(15)
#define EXIT_SAVE_PAT			BIT(18)
#define EXIT_LOAD_PAT			BIT(19)
#define EXIT_SAVE_EFER			BIT(20)
#define EXIT_LOAD_EFER			BIT(21)

/* ---- VM-entry controls (25.8.1, table 25-15) ---- */
#define ENTRY_LOAD_DEBUG		BIT(2)
#define ENTRY_IA32E			BIT(9)
#define ENTRY_LOAD_PAT			BIT(14)
#define ENTRY_LOAD_EFER			BIT(15)

/*
 * Event information: VM-entry interruption information (25.8.3), VM-exit
 * interruption information and IDT-vectoring information (25.9.2, 25.9.3)
 * share one format.
 */
#define INTR_INFO_VECTOR(i)		((i) & 0xff)
#define INTR_INFO_TYPE(i)		(((i) >> 8) & 7)
#define INTR_TYPE_EXT			0
#define INTR_TYPE_NMI			2
#define INTR_TYPE_HW_EXC		3
#define INTR_TYPE_SW_INT		4
#define INTR_TYPE_PRIV_SW_EXC		5
#define INTR_TYPE_SW_EXC		6
#define INTR_INFO_ERR_VALID		BIT(11)
#define INTR_INFO_NMI_UNBLOCK		BIT(12)	/* exit info: IRET unblocked */
#define INTR_INFO_VALID			BIT(31)

/* Guest interruptibility state (25.4.2, table 25-3) */
#define INTERRUPTIBILITY_STI		BIT(0)
#define INTERRUPTIBILITY_MOV_SS		BIT(1)
#define INTERRUPTIBILITY_NMI		BIT(3)

/* Segment access rights (25.4.1, table 25-2): descriptor bits 40-55. */
#define SEG_AR_TYPE(a)			((a) & 0xf)
#define SEG_AR_S				BIT(4)
#define SEG_AR_DPL(a)			(((a) >> 5) & 3)
#define SEG_AR_P				BIT(7)
#define SEG_AR_AVL				BIT(12)
#define SEG_AR_L				BIT(13)
#define SEG_AR_DB				BIT(14)
#define SEG_AR_G				BIT(15)
#define SEG_AR_UNUSABLE			BIT(16)

/* ---- Basic exit reasons (appendix C) ---- */
#define EXIT_REASON_MASK		0xffff
#define EXIT_REASON_ENTRY_FAIL		BIT(31)	/* 28.2.1 */
#define EXIT_EXCEPTION_NMI		0
#define EXIT_EXT_INTR			1
#define EXIT_TRIPLE_FAULT		2
#define EXIT_INIT			3
#define EXIT_SIPI			4
#define EXIT_SMI_IO			5
#define EXIT_SMI_OTHER			6
#define EXIT_INTR_WINDOW		7
#define EXIT_NMI_WINDOW			8
#define EXIT_TASK_SWITCH		9
#define EXIT_CPUID			10
#define EXIT_GETSEC			11
#define EXIT_HLT			12
#define EXIT_INVD			13
#define EXIT_INVLPG			14
#define EXIT_RDPMC			15
#define EXIT_RDTSC			16
#define EXIT_RSM			17
#define EXIT_VMCALL			18
#define EXIT_VMCLEAR			19
#define EXIT_VMLAUNCH			20
#define EXIT_VMPTRLD			21
#define EXIT_VMPTRST			22
#define EXIT_VMREAD			23
#define EXIT_VMRESUME			24
#define EXIT_VMWRITE			25
#define EXIT_VMXOFF			26
#define EXIT_VMXON			27
#define EXIT_CR_ACCESS			28
#define EXIT_DR_ACCESS			29
#define EXIT_IO				30
#define EXIT_RDMSR			31
#define EXIT_WRMSR			32
#define EXIT_INVALID_GUEST_STATE	33
#define EXIT_MSR_LOAD_FAIL		34
#define EXIT_MWAIT			36
#define EXIT_MTF			37
#define EXIT_MONITOR			39
#define EXIT_PAUSE			40
#define EXIT_MCE_DURING_ENTRY		41
#define EXIT_TPR_BELOW_THRESHOLD	43
#define EXIT_APIC_ACCESS		44
#define EXIT_EOI_INDUCED		45
#define EXIT_GDTR_IDTR			46
#define EXIT_LDTR_TR			47
#define EXIT_EPT_VIOLATION		48
#define EXIT_EPT_MISCONFIG		49
#define EXIT_INVEPT			50
#define EXIT_RDTSCP			51
#define EXIT_PREEMPT_TIMER		52	/* 26.5.1 */
#define EXIT_INVVPID			53
#define EXIT_WBINVD			54
#define EXIT_XSETBV			55
#define EXIT_APIC_WRITE			56
#define EXIT_RDRAND			57
#define EXIT_INVPCID			58
#define EXIT_VMFUNC			59
#define EXIT_ENCLS			60
#define EXIT_RDSEED			61
#define EXIT_PML_FULL			62
#define EXIT_XSAVES			63
#define EXIT_XRSTORS			64

/* ---- Exit qualifications (28.2.1) ---- */
/* Control-register accesses, table 28-3 */
#define CRQ_CR(q)			((q) & 0xf)
#define CRQ_TYPE(q)			(((q) >> 4) & 3)
#define CRQ_TYPE_MOV_TO			0
#define CRQ_TYPE_MOV_FROM		1
#define CRQ_TYPE_CLTS			2
#define CRQ_TYPE_LMSW			3
#define CRQ_GPR(q)			(((q) >> 8) & 0xf)
#define CRQ_LMSW_DATA(q)		(((q) >> 16) & 0xffff)
/* MOV DR, table 28-4 */
#define DRQ_DR(q)			((q) & 7)
#define DRQ_FROM_DR			BIT(4)
#define DRQ_GPR(q)			(((q) >> 8) & 0xf)
/* I/O instructions, table 28-5 */
#define IOQ_SIZE(q)			(((q) & 7) + 1)
#define IOQ_IN				BIT(3)
#define IOQ_STRING			BIT(4)
#define IOQ_REP				BIT(5)
#define IOQ_PORT(q)			(((q) >> 16) & 0xffff)
/* EPT violations, table 28-7 */
#define EPTQ_READ			BIT(0)
#define EPTQ_WRITE			BIT(1)
#define EPTQ_FETCH			BIT(2)
#define EPTQ_LINEAR_VALID		BIT(7)
#define EPTQ_LINEAR_IS_FINAL		BIT(8)	/* 0: a guest paging entry */

/* VM-instruction error numbers (31.4): the ones we name in messages. */
#define VMX_ERR_LAUNCH_NONCLEAR		4
#define VMX_ERR_RESUME_NONLAUNCHED	5
#define VMX_ERR_ENTRY_CONTROLS		7
#define VMX_ERR_ENTRY_HOST_STATE	8

/* ---- EPT entries (29.3.2, tables 29-1 to 29-6) ---- */
#define EPT_R				BIT_ULL(0)
#define EPT_W				BIT_ULL(1)
#define EPT_X				BIT_ULL(2)
#define EPT_MT_WB			(6ULL << 3)	/* leaf memory type */
#define EPT_ADDR			GENMASK_ULL(51, 12)
/* EPTP (25.6.11): WB paging structures, 4-level walk (3 = levels - 1). */
#define EPTP_WB				6ULL
#define EPTP_WALK4			(3ULL << 3)

#endif /* VMM_VMCS_H */
