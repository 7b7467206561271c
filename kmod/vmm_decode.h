/* SPDX-License-Identifier: GPL-2.0 */
/*
 * x86 instruction decoder used to emulate MMIO accesses and to find the
 * length of intercepted instructions (the CPUs we target have neither
 * decode assists nor NRIP save).  It compiles both in the kernel and in
 * userspace, where unit tests and a differential test against a
 * disassembler check it.  It decodes a known subset and refuses the rest:
 * an unknown instruction is an error, never a guess.
 */
#ifndef VMM_DECODE_H
#define VMM_DECODE_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <linux/types.h>
#include <stdbool.h>
typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s64 s64;
#endif

#define VMM_INSN_MAX_LEN 15

/* Decoder results. */
#define VMM_DECODE_OK		0
#define VMM_DECODE_UNKNOWN	(-1)	/* not in the supported subset */
#define VMM_DECODE_TRUNCATED	(-2)	/* needs more bytes than given */

/* Register numbers (REX-extended) as in the ModRM encoding. */
#define VMM_REG_NONE	0xff
#define VMM_REG_RIP	0x10

/* Segment numbers as in the SVM/VMX segment order of prefixes. */
enum vmm_seg {
	VMM_SEG_ES, VMM_SEG_CS, VMM_SEG_SS, VMM_SEG_DS, VMM_SEG_FS, VMM_SEG_GS,
	VMM_SEG_DEFAULT = 0xff,
};

/* What an MMIO access by this instruction does. */
enum vmm_insn_kind {
	VMM_INSN_OTHER,		/* decoded for its length only */
	VMM_INSN_LOAD,		/* reg <- mem (MOV, MOVZX, MOVSX, MOVSXD) */
	VMM_INSN_STORE,		/* mem <- reg */
	VMM_INSN_STORE_IMM,	/* mem <- immediate */
	VMM_INSN_ALU,		/* an ALU operation with a memory operand */
	VMM_INSN_STRING,	/* MOVS, STOS, LODS (implicit operands) */
};

/* VMM_INSN_ALU operations; the first eight in group-1 /n order. */
enum vmm_alu {
	VMM_ALU_ADD, VMM_ALU_OR, VMM_ALU_ADC, VMM_ALU_SBB,
	VMM_ALU_AND, VMM_ALU_SUB, VMM_ALU_XOR, VMM_ALU_CMP,
	VMM_ALU_TEST, VMM_ALU_INC, VMM_ALU_DEC, VMM_ALU_NOT, VMM_ALU_NEG,
	VMM_ALU_XCHG,
};

/* VMM_INSN_STRING operations. */
enum vmm_string_op { VMM_STR_MOVS, VMM_STR_STOS, VMM_STR_LODS };

struct vmm_insn {
	u8 len;			/* total length in bytes */
	u8 mode;		/* 2, 4 or 8: code size it was decoded for */
	u8 op_size;		/* operand size in bytes (1, 2, 4, 8) */
	u8 addr_size;		/* address size in bytes (2, 4, 8) */
	u8 map;			/* 0: one-byte opcode, 1: 0x0f map */
	u8 opcode;
	u8 rex;			/* REX byte or 0 */
	u8 rep;			/* 0xf2, 0xf3 or 0 */
	u8 lock;
	u8 seg;			/* segment override or VMM_SEG_DEFAULT */
	bool has_modrm;
	u8 modrm;

	/* Memory operand (has_mem); registers in VMM_REG_* numbering. */
	bool has_mem;
	u8 base;
	u8 index;
	u8 scale;		/* 1, 2, 4, 8 */
	s64 disp;
	bool moffs;		/* absolute address (A0-A3), in disp */

	/* MMIO semantics. */
	enum vmm_insn_kind kind;
	u8 reg;			/* register operand of LOAD/STORE */
	bool reg_high8;		/* reg is AH, CH, DH or BH */
	u8 mem_size;		/* bytes read or written in memory */
	u8 dst_size;		/* register width written by a LOAD */
	bool sign_extend;	/* MOVSX/MOVSXD */
	u64 imm;		/* STORE_IMM value, sign-extended to op_size */
	u8 imm_size;		/* immediate bytes in the encoding */

	/* VMM_INSN_ALU: mem <op>= src, or reg <op>= mem (reg_dst). */
	u8 alu;			/* enum vmm_alu */
	bool mem_dst;		/* the result is written to memory */
	bool reg_dst;		/* ... to insn.reg (XCHG: both) */
	bool src_imm;		/* the source is imm, else insn.reg */
	u8 string_op;		/* VMM_INSN_STRING: enum vmm_string_op */
};

/*
 * Decode the instruction at @bytes (@avail bytes valid) for a code segment
 * of @mode bytes (2: 16-bit, 4: 32-bit, 8: 64-bit).
 */
int vmm_decode(const u8 *bytes, unsigned int avail, unsigned int mode,
	       struct vmm_insn *insn);

#endif /* VMM_DECODE_H */
