// SPDX-License-Identifier: GPL-2.0
/*
 * The comparison of one instruction between kmod/vmm_decode.c and
 * Capstone, shared by the differential unit test and the decoder fuzz
 * target: where our decoder accepts the bytes, Capstone must decode them to
 * the same length, the same memory operand (base, index, scale,
 * displacement, FS/GS segment) and, where the memory operand has the
 * operand size, the same access size.
 */
#ifndef DECODE_COMPARE_H
#define DECODE_COMPARE_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <capstone/capstone.h>

#include "vmm_decode.h"

static const char *const names64[16] = {
	"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};
static const char *const names32[16] = {
	"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi",
	"r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d",
};
static const char *const names16[8] = {
	"ax", "cx", "dx", "bx", "sp", "bp", "si", "di",
};

static const char *our_reg(u8 r, unsigned int asize)
{
	if (r == VMM_REG_NONE)
		return "";
	if (r == VMM_REG_RIP)
		return asize == 8 ? "rip" : "eip";
	if (asize == 8)
		return names64[r & 15];
	if (asize == 4)
		return names32[r & 15];
	return names16[r & 7];
}

static const char *cs_reg(csh h, unsigned int r)
{
	const char *n = r ? cs_reg_name(h, r) : "";

	return n ? n : "";
}

/* Is the memory operand's access size the operand size? */
static bool mem_has_op_size(const struct vmm_insn *in)
{
	if (in->kind != VMM_INSN_OTHER)
		return true;		/* compared as mem_size */
	if (in->map == 1)
		return (in->opcode >= 0x40 && in->opcode <= 0x4f) ||
		       (in->opcode >= 0x90 && in->opcode <= 0x9f) ||
		       in->opcode == 0xa3 || in->opcode == 0xab ||
		       in->opcode == 0xaf;
	if (in->opcode == 0x8d || in->opcode == 0xff || in->opcode == 0x63)
		return false;
	return in->has_mem && !in->moffs;
}

static void hexdump(char *buf, const u8 *b, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		sprintf(buf + 3 * i, "%02x ", b[i]);
}

/*
 * Compare the instruction at @b (@n bytes) in code of @mode bytes. Returns
 * -1 when our decoder refuses it (nothing to compare), 0 when both agree,
 * 1 when they differ (@why, @whylen bytes, says how).
 */
static int decode_compare(csh h, unsigned int mode, const u8 *b, unsigned int n, char *why,
			  size_t whylen)
{
	struct vmm_insn in;
	cs_insn *ci;
	char hex[64];
	int ret = 0, i;
	size_t cnt;

	if (vmm_decode(b, n, mode, &in) != VMM_DECODE_OK)
		return -1;	/* not ours: not compared */
	hexdump(hex, b, in.len);
	cnt = cs_disasm(h, b, n, 0x1000, 1, &ci);
	if (!cnt) {
		snprintf(why, whylen, "mode %u: capstone rejects [%s] we took as len %u\n",
			    mode * 8, hex, in.len);
		return 1;
	}
	if (ci->size != in.len) {
		snprintf(why, whylen, "mode %u: [%s] %s %s: length %u, ours %u\n", mode * 8,
			    hex, ci->mnemonic, ci->op_str, ci->size, in.len);
		ret = 1;
		goto out;
	}
	/* String I/O and moves: implicit operands, compared by length only. */
	if (!in.map && ((in.opcode & 0xfc) == 0x6c ||
			(in.opcode >= 0xa4 && in.opcode <= 0xaf)))
		goto out;
	for (i = 0; i < ci->detail->x86.op_count; i++) {
		const cs_x86_op *op = &ci->detail->x86.operands[i];
		const char *base, *index;
		u8 want_size;

		if (op->type != X86_OP_MEM)
			continue;
		if (!in.has_mem) {
			snprintf(why, whylen, "mode %u: [%s] %s %s: memory operand missed\n",
				    mode * 8, hex, ci->mnemonic, ci->op_str);
			ret = 1;
			break;
		}
		base = cs_reg(h, op->mem.base);
		index = cs_reg(h, op->mem.index);
		if (strcmp(base, our_reg(in.base, in.addr_size)) ||
		    strcmp(index, our_reg(in.index, in.addr_size)) ||
		    (op->mem.index && op->mem.scale != in.scale) ||
		    op->mem.disp != in.disp) {
			snprintf(why, whylen, "mode %u: [%s] %s %s: mem %s+%s*%d+%#llx, ours %s+%s*%u+%#llx\n",
				    mode * 8, hex, ci->mnemonic, ci->op_str,
				    base, index, op->mem.scale,
				    (unsigned long long)op->mem.disp,
				    our_reg(in.base, in.addr_size),
				    our_reg(in.index, in.addr_size), in.scale,
				    (unsigned long long)in.disp);
			ret = 1;
			break;
		}
		if (in.seg == VMM_SEG_FS || in.seg == VMM_SEG_GS) {
			const char *seg = cs_reg(h, op->mem.segment);

			if (strcmp(seg, in.seg == VMM_SEG_FS ? "fs" : "gs")) {
				snprintf(why, whylen, "mode %u: [%s]: segment %s\n",
					    mode * 8, hex, seg);
				ret = 1;
				break;
			}
		}
		want_size = in.kind != VMM_INSN_OTHER ? in.mem_size : in.op_size;
		if (mem_has_op_size(&in) && op->size != want_size) {
			snprintf(why, whylen, "mode %u: [%s] %s %s: size %u, ours %u\n",
				    mode * 8, hex, ci->mnemonic, ci->op_str,
				    op->size, want_size);
			ret = 1;
			break;
		}
	}
out:
	cs_free(ci, cnt);
	return ret;
}

#endif
