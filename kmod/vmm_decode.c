// SPDX-License-Identifier: GPL-2.0
/*
 * x86 instruction decoder for MMIO emulation and instruction lengths.
 * Built into vmm.ko and, unchanged, into userspace unit tests.
 *
 * Encoding facts follow the Intel SDM vol. 2 / AMD APM vol. 3 opcode maps.
 */
#ifdef __KERNEL__
#include <linux/export.h>
#include <linux/string.h>
#else
#include <string.h>
#endif

#include "vmm_decode.h"

/* Flags of an opcode table entry. */
#define F_MODRM	0x01	/* has a ModRM byte */
#define F_IB	0x02	/* 8-bit immediate */
#define F_IW	0x04	/* 16-bit immediate */
#define F_IZ	0x08	/* 16/32-bit immediate by operand size */
#define F_IV	0x10	/* 16/32/64-bit immediate by operand size */
#define F_MOFFS	0x20	/* address-size absolute offset */
#define F_GRP3	0x40	/* F6/F7: immediate only for /0 and /1 */
#define F_OK	0x80	/* supported */
#define F_NO64	0x100	/* invalid in 64-bit mode */
#define F_BYTE	0x200	/* byte operand size */
#define F_D64	0x400	/* 64-bit default operand size in long mode */

#define M	(F_OK | F_MODRM)
#define MB	(F_OK | F_MODRM | F_BYTE)
#define N	F_OK

/* One-byte opcode map. */
static const unsigned short map1[256] = {
	/* 00-3f: ALU ops: r/m,r (b/v), r,r/m (b/v), AL,ib, eAX,iz */
	[0x00] = MB, [0x01] = M, [0x02] = MB, [0x03] = M,
	[0x04] = N | F_IB | F_BYTE, [0x05] = N | F_IZ,
	[0x08] = MB, [0x09] = M, [0x0a] = MB, [0x0b] = M,
	[0x0c] = N | F_IB | F_BYTE, [0x0d] = N | F_IZ,
	[0x10] = MB, [0x11] = M, [0x12] = MB, [0x13] = M,
	[0x14] = N | F_IB | F_BYTE, [0x15] = N | F_IZ,
	[0x18] = MB, [0x19] = M, [0x1a] = MB, [0x1b] = M,
	[0x1c] = N | F_IB | F_BYTE, [0x1d] = N | F_IZ,
	[0x20] = MB, [0x21] = M, [0x22] = MB, [0x23] = M,
	[0x24] = N | F_IB | F_BYTE, [0x25] = N | F_IZ,
	[0x28] = MB, [0x29] = M, [0x2a] = MB, [0x2b] = M,
	[0x2c] = N | F_IB | F_BYTE, [0x2d] = N | F_IZ,
	[0x30] = MB, [0x31] = M, [0x32] = MB, [0x33] = M,
	[0x34] = N | F_IB | F_BYTE, [0x35] = N | F_IZ,
	[0x38] = MB, [0x39] = M, [0x3a] = MB, [0x3b] = M,
	[0x3c] = N | F_IB | F_BYTE, [0x3d] = N | F_IZ,
	/* 40-4f inc/dec reg (REX prefixes in 64-bit mode), 50-5f push/pop */
	[0x40 ... 0x4f] = N,
	[0x50 ... 0x5f] = N | F_D64,
	[0x63] = M,		/* MOVSXD (64-bit mode only, see below) */
	[0x68] = N | F_IZ | F_D64, [0x69] = M | F_IZ,
	[0x6a] = N | F_IB | F_D64, [0x6b] = M | F_IB,
	[0x6c] = N | F_BYTE, [0x6d] = N, [0x6e] = N | F_BYTE, [0x6f] = N,
	[0x70 ... 0x7f] = N | F_IB,
	[0x80] = MB | F_IB, [0x81] = M | F_IZ, [0x83] = M | F_IB,
	[0x84] = MB, [0x85] = M, [0x86] = MB, [0x87] = M,
	[0x88] = MB, [0x89] = M, [0x8a] = MB, [0x8b] = M,
	[0x8d] = M, [0x8f] = M | F_D64,
	[0x90 ... 0x99] = N,
	[0x9c ... 0x9d] = N | F_D64,
	[0xa0] = N | F_MOFFS | F_BYTE, [0xa1] = N | F_MOFFS,
	[0xa2] = N | F_MOFFS | F_BYTE, [0xa3] = N | F_MOFFS,
	[0xa4] = N | F_BYTE, [0xa5] = N,	/* movs */
	[0xa8] = N | F_IB | F_BYTE, [0xa9] = N | F_IZ,
	[0xaa] = N | F_BYTE, [0xab] = N,	/* stos */
	[0xac] = N | F_BYTE, [0xad] = N,	/* lods */
	[0xb0 ... 0xb7] = N | F_IB | F_BYTE,
	[0xb8 ... 0xbf] = N | F_IV,
	[0xc0] = MB | F_IB, [0xc1] = M | F_IB,
	[0xc3] = N | F_D64,
	[0xc6] = MB | F_IB, [0xc7] = M | F_IZ,
	[0xc9] = N | F_D64,
	[0xcc] = N, [0xcd] = N | F_IB,
	[0xd0] = MB, [0xd1] = M, [0xd2] = MB, [0xd3] = M,
	[0xe4] = N | F_IB | F_BYTE, [0xe5] = N | F_IB,
	[0xe6] = N | F_IB | F_BYTE, [0xe7] = N | F_IB,
	[0xe8] = N | F_IZ | F_D64, [0xe9] = N | F_IZ | F_D64,
	[0xeb] = N | F_IB,
	[0xec] = N | F_BYTE, [0xed] = N, [0xee] = N | F_BYTE, [0xef] = N,
	[0xf4] = N, [0xf5] = N,
	[0xf6] = MB | F_GRP3, [0xf7] = M | F_GRP3,
	[0xf8 ... 0xfd] = N,
	[0xfe] = MB, [0xff] = M,
};

/* Two-byte (0x0f) opcode map: the supported part. */
static const unsigned short map2[256] = {
	[0x05] = N, [0x06] = N, [0x08] = N, [0x09] = N, [0x0b] = N,
	[0x1f] = M,		/* nop r/m */
	[0x20 ... 0x23] = M,	/* mov cr/dr */
	[0x30 ... 0x33] = N,	/* wrmsr, rdtsc, rdmsr, rdpmc */
	[0x40 ... 0x4f] = M,	/* cmovcc */
	[0x90 ... 0x9f] = MB,	/* setcc */
	[0xa2] = N,		/* cpuid */
	[0xa3] = M, [0xab] = M, [0xaf] = M,
	[0xb6] = M, [0xb7] = M, [0xbe] = M, [0xbf] = M,	/* movzx, movsx */
	[0xc8 ... 0xcf] = N,	/* bswap */
};

/* 16-bit addressing: base and index of ModRM rm values 0-7. */
static const u8 rm16_base[8] = { 3, 3, 5, 5, 6, 7, 5, 3 };
static const u8 rm16_index[8] = { 6, 7, 6, 7, VMM_REG_NONE, VMM_REG_NONE,
				  VMM_REG_NONE, VMM_REG_NONE };

static s64 sext(u64 v, unsigned int bytes)
{
	unsigned int shift = 64 - 8 * bytes;

	return (s64)(v << shift) >> shift;
}

static u64 read_le(const u8 *p, unsigned int n)
{
	u64 v = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		v |= (u64)p[i] << (8 * i);
	return v;
}

/*
 * Out of bytes at @avail (already capped at VMM_INSN_MAX_LEN). When the
 * caller gave the whole 15 bytes, the encoding is longer than any valid
 * instruction (#GP): unknown. Otherwise more bytes may complete it.
 */
static int short_of_bytes(unsigned int avail)
{
	return avail == VMM_INSN_MAX_LEN ? VMM_DECODE_UNKNOWN :
	       VMM_DECODE_TRUNCATED;
}

static int decode_modrm(const u8 *b, unsigned int avail, unsigned int *pos,
			struct vmm_insn *in)
{
	unsigned int mod, rm, dsize = 0;

	if (*pos >= avail)
		return short_of_bytes(avail);
	in->has_modrm = true;
	in->modrm = b[(*pos)++];
	mod = in->modrm >> 6;
	rm = in->modrm & 7;
	if (mod == 3)
		return VMM_DECODE_OK;

	in->has_mem = true;
	in->base = VMM_REG_NONE;
	in->index = VMM_REG_NONE;
	in->scale = 1;

	if (in->addr_size == 2) {
		if (mod == 0 && rm == 6) {
			dsize = 2;
		} else {
			in->base = rm16_base[rm];
			in->index = rm16_index[rm];
			dsize = mod == 1 ? 1 : mod == 2 ? 2 : 0;
		}
	} else {
		unsigned int rex_b = in->rex & 1 ? 8 : 0;

		if (rm == 4) {
			unsigned int sib, base, index;

			if (*pos >= avail)
				return short_of_bytes(avail);
			sib = b[(*pos)++];
			in->scale = 1 << (sib >> 6);
			index = ((sib >> 3) & 7) | (in->rex & 2 ? 8 : 0);
			base = sib & 7;
			if (index != 4)
				in->index = index;
			if (base == 5 && mod == 0)
				dsize = 4;
			else
				in->base = base | rex_b;
		} else if (rm == 5 && mod == 0) {
			dsize = 4;
			if (in->mode == 8)
				in->base = VMM_REG_RIP;
		} else {
			in->base = rm | rex_b;
		}
		if (mod == 1)
			dsize = 1;
		else if (mod == 2)
			dsize = 4;
	}
	if (*pos + dsize > avail)
		return short_of_bytes(avail);
	in->disp = dsize ? sext(read_le(b + *pos, dsize), dsize) : 0;
	*pos += dsize;
	return VMM_DECODE_OK;
}

/* Reject the encodings of these opcodes that are invalid (#UD). */
static bool modrm_valid(const struct vmm_insn *in)
{
	unsigned int reg = (in->modrm >> 3) & 7;

	if (in->map == 1)
		return true;
	switch (in->opcode) {
	case 0x8d:			/* LEA needs a memory operand */
		return in->has_mem;
	case 0x8f:			/* POP r/m is /0 only (else XOP) */
	case 0xc6:			/* MOV r/m, imm is /0 only */
	case 0xc7:
		return reg == 0;
	case 0xfe:			/* INC/DEC r/m8 */
		return reg < 2;
	case 0xff:			/* /3 and /5 far forms not supported */
		return reg != 3 && reg != 5 && reg != 7;
	}
	return true;
}

/* Fill the MMIO semantics of the MOV family. */
static void classify(struct vmm_insn *in)
{
	unsigned int reg = ((in->modrm >> 3) & 7) | (in->rex & 4 ? 8 : 0);
	bool byte_reg = false;

	in->kind = VMM_INSN_OTHER;
	if (in->map == 0) {
		switch (in->opcode) {
		case 0x88: case 0x89:
			in->kind = VMM_INSN_STORE;
			break;
		case 0x8a: case 0x8b:
			in->kind = VMM_INSN_LOAD;
			break;
		case 0xc6: case 0xc7:
			if ((in->modrm >> 3) & 7)
				return;
			in->kind = VMM_INSN_STORE_IMM;
			break;
		case 0xa0: case 0xa1:
			in->kind = VMM_INSN_LOAD;
			reg = 0;
			break;
		case 0xa2: case 0xa3:
			in->kind = VMM_INSN_STORE;
			reg = 0;
			break;
		case 0x63:
			if (in->mode != 8)
				return;
			in->kind = VMM_INSN_LOAD;
			in->mem_size = in->op_size == 8 ? 4 : in->op_size;
			in->dst_size = in->op_size;
			in->sign_extend = in->op_size == 8;
			break;
		default:
			return;
		}
		if (in->opcode != 0x63) {
			in->mem_size = in->op_size;
			in->dst_size = in->op_size;
			byte_reg = in->op_size == 1;
		}
	} else if (in->map == 1) {
		switch (in->opcode) {
		case 0xb6: case 0xb7: case 0xbe: case 0xbf:
			in->kind = VMM_INSN_LOAD;
			in->mem_size = in->opcode & 1 ? 2 : 1;
			in->dst_size = in->op_size;
			in->sign_extend = in->opcode >= 0xbe;
			break;
		default:
			return;
		}
	}
	/* Register forms (MOVSXD's 63 /r with mod 3 too) touch no memory. */
	if (!in->has_mem && !in->moffs) {
		in->kind = VMM_INSN_OTHER;
		return;
	}
	in->reg = reg;
	/* Without REX, byte registers 4-7 are AH, CH, DH, BH. */
	if (byte_reg && !in->rex && reg >= 4 && reg < 8) {
		in->reg = reg - 4;
		in->reg_high8 = true;
	}
}

/*
 * MMIO semantics beyond the MOV family: ALU operations with a memory
 * operand (read-modify-write, or a register computed from memory), XCHG,
 * and the string moves, stores and loads.  True when it is one of them.
 */
static bool classify_rmw(struct vmm_insn *in)
{
	unsigned int op = in->opcode, sub = (in->modrm >> 3) & 7;
	unsigned int reg = sub | (in->rex & 4 ? 8 : 0);

	if (in->map)
		return false;
	if (op >= 0xa4 && op <= 0xad && op != 0xa6 && op != 0xa7 &&
	    op != 0xa8 && op != 0xa9) {
		in->kind = VMM_INSN_STRING;
		in->string_op = op < 0xa8 ? VMM_STR_MOVS :
				op < 0xac ? VMM_STR_STOS : VMM_STR_LODS;
		in->mem_size = in->op_size;
		return true;
	}
	if (!in->has_mem)
		return false;
	in->mem_dst = true;
	if (op < 0x40 && (op & 7) < 4) {		/* add ... cmp */
		in->alu = op >> 3;
		if (op & 2) {				/* reg, r/m */
			in->mem_dst = false;
			in->reg_dst = in->alu != VMM_ALU_CMP;
		}
	} else if (op == 0x80 || op == 0x81 || op == 0x83) {
		in->alu = sub;
		in->src_imm = true;
	} else if (op == 0x84 || op == 0x85) {
		in->alu = VMM_ALU_TEST;
	} else if (op == 0x86 || op == 0x87) {
		in->alu = VMM_ALU_XCHG;
		in->reg_dst = true;
	} else if ((op == 0xf6 || op == 0xf7) && sub != 1 && sub < 4) {
		in->alu = sub == 0 ? VMM_ALU_TEST : sub == 2 ? VMM_ALU_NOT :
			  VMM_ALU_NEG;
		in->src_imm = sub == 0;
	} else if ((op == 0xfe || op == 0xff) && sub < 2) {
		in->alu = sub ? VMM_ALU_DEC : VMM_ALU_INC;
	} else {
		in->mem_dst = false;
		return false;
	}
	if (in->alu == VMM_ALU_CMP || in->alu == VMM_ALU_TEST)
		in->mem_dst = false;
	in->kind = VMM_INSN_ALU;
	in->mem_size = in->op_size;
	in->dst_size = in->op_size;
	in->reg = reg;
	/* Without REX, byte registers 4-7 are AH, CH, DH, BH. */
	if (in->op_size == 1 && !in->rex && reg >= 4 && reg < 8) {
		in->reg = reg - 4;
		in->reg_high8 = true;
	}
	return true;
}

int vmm_decode(const u8 *b, unsigned int avail, unsigned int mode,
	       struct vmm_insn *in)
{
	unsigned int pos = 0, flags, opsize_pfx = 0, addr_pfx = 0, isize = 0;
	int ret;

	memset(in, 0, sizeof(*in));
	in->seg = VMM_SEG_DEFAULT;
	in->mode = mode;
	if (mode != 2 && mode != 4 && mode != 8)
		return VMM_DECODE_UNKNOWN;
	if (avail > VMM_INSN_MAX_LEN)
		avail = VMM_INSN_MAX_LEN;

	/* Legacy prefixes, then an optional REX (64-bit mode) last. */
	for (;;) {
		u8 c;

		if (pos >= avail)
			return short_of_bytes(avail);
		c = b[pos];
		switch (c) {
		case 0x26:
			in->seg = VMM_SEG_ES;
			break;
		case 0x2e:
			in->seg = VMM_SEG_CS;
			break;
		case 0x36:
			in->seg = VMM_SEG_SS;
			break;
		case 0x3e:
			in->seg = VMM_SEG_DS;
			break;
		case 0x64:
			in->seg = VMM_SEG_FS;
			break;
		case 0x65:
			in->seg = VMM_SEG_GS;
			break;
		case 0x66:
			opsize_pfx = 1;
			break;
		case 0x67:
			addr_pfx = 1;
			break;
		case 0xf0:
			in->lock = 1;
			break;
		case 0xf2:
		case 0xf3:
			in->rep = c;
			break;
		default:
			if (mode == 8 && (c & 0xf0) == 0x40) {
				in->rex = c;
				pos++;
				if (pos >= avail)
					return short_of_bytes(avail);
				c = b[pos];
				/* A REX not right before the opcode is void. */
				if (c == 0x26 || c == 0x2e || c == 0x36 ||
				    c == 0x3e || c == 0x64 || c == 0x65 ||
				    c == 0x66 || c == 0x67 || c == 0xf0 ||
				    c == 0xf2 || c == 0xf3 ||
				    (c & 0xf0) == 0x40) {
					in->rex = 0;
					continue;
				}
			}
			goto opcode;
		}
		/* A legacy prefix after a REX cancels the REX. */
		in->rex = 0;
		pos++;
	}
opcode:
	/* In 64-bit mode CS/DS/ES/SS overrides are ignored. */
	if (mode == 8 && in->seg != VMM_SEG_FS && in->seg != VMM_SEG_GS)
		in->seg = VMM_SEG_DEFAULT;

	if (mode == 8)
		in->addr_size = addr_pfx ? 4 : 8;
	else
		in->addr_size = (mode == 4) ^ addr_pfx ? 4 : 2;

	in->opcode = b[pos++];
	if (in->opcode == 0x0f) {
		if (pos >= avail)
			return short_of_bytes(avail);
		in->map = 1;
		in->opcode = b[pos++];
		if (in->opcode >= 0x80 && in->opcode <= 0x8f)
			flags = F_OK | F_IZ;	/* jcc rel16/32 */
		else
			flags = map2[in->opcode];
	} else {
		flags = map1[in->opcode];
		if (in->opcode == 0x63 && mode != 8)
			flags = 0;		/* ARPL: not supported */
	}
	if (!(flags & F_OK))
		return VMM_DECODE_UNKNOWN;
	if (flags & F_BYTE)
		in->op_size = 1;
	else if (mode == 8 && (in->rex & 8))
		in->op_size = 8;
	else if (mode == 8 && (flags & F_D64))
		in->op_size = opsize_pfx && !(in->rex & 8) ? 2 : 8;
	else if (mode == 2)
		in->op_size = opsize_pfx ? 4 : 2;
	else
		in->op_size = opsize_pfx ? 2 : 4;
	/*
	 * Jcc rel16/32 in 64-bit mode: AMD CPUs honour 0x66 (rel16), Intel
	 * ones ignore it; we run on AMD.
	 */
	if (mode == 8 && in->map == 1 && in->opcode >= 0x80 &&
	    in->opcode <= 0x8f)
		in->op_size = opsize_pfx && !(in->rex & 8) ? 2 : 8;

	if (flags & F_MODRM) {
		if (in->map == 1 && in->opcode >= 0x20 && in->opcode <= 0x23) {
			/* MOV to/from CR/DR: always the register form. */
			if (pos >= avail)
				return short_of_bytes(avail);
			in->has_modrm = true;
			in->modrm = b[pos++] | 0xc0;
		} else {
			ret = decode_modrm(b, avail, &pos, in);
			if (ret)
				return ret;
		}
		if (!modrm_valid(in))
			return VMM_DECODE_UNKNOWN;
	}

	if (flags & F_IB)
		isize = 1;
	else if (flags & F_IW)
		isize = 2;
	else if (flags & F_IZ)
		isize = in->op_size == 2 ? 2 : 4;
	else if (flags & F_IV)
		isize = in->op_size;
	else if ((flags & F_GRP3) && ((in->modrm >> 3) & 7) < 2)
		isize = in->op_size == 1 ? 1 : in->op_size == 2 ? 2 : 4;

	if (flags & F_MOFFS) {
		unsigned int asz = in->addr_size;

		if (pos + asz > avail)
			return short_of_bytes(avail);
		in->moffs = true;
		in->has_mem = true;
		in->base = VMM_REG_NONE;
		in->index = VMM_REG_NONE;
		in->scale = 1;
		in->disp = (s64)read_le(b + pos, asz);
		pos += asz;
	}

	if (pos + isize > avail)
		return short_of_bytes(avail);
	in->imm_size = isize;
	if (isize) {
		u64 raw = read_le(b + pos, isize);

		/* An immediate narrower than the operand is sign-extended. */
		in->imm = isize < in->op_size ? (u64)sext(raw, isize) : raw;
		if (in->op_size < 8)
			in->imm &= (1ULL << (8 * in->op_size)) - 1;
	}
	pos += isize;
	/* pos <= avail <= 15: longer encodings ended in short_of_bytes(). */
	in->len = pos;
	classify(in);
	if (in->kind == VMM_INSN_OTHER)
		classify_rmw(in);
	return VMM_DECODE_OK;
}

#ifdef __KERNEL__
EXPORT_SYMBOL_GPL(vmm_decode);
#endif
