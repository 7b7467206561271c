// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel's x86 decoder (kmod/vmm_decode.c, compiled unchanged) on any
 * bytes in 16-, 32- and 64-bit code, checked against itself and against
 * Capstone (the differential of tests/unit/decoder, on fuzzed rather than
 * generated encodings). The first byte picks the mode and how many bytes
 * the decoder is given; the rest are the instruction bytes.
 *
 * Invariants: an accepted instruction is 1 .. 15 bytes and no longer than
 * what was given; "truncated" only when fewer than 15 bytes were given;
 * giving more bytes never changes an accepted decoding; an MMIO access
 * kind has a memory operand of 1, 2, 4 or 8 bytes; and Capstone decodes
 * an accepted instruction to the same length and memory operand
 * (decode_compare.h), apart from the Capstone 4 quirks listed below.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode_compare.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

__attribute__((noreturn)) static void fail(const char *what, const u8 *b, unsigned int n)
{
	fprintf(stderr, "fuzz invariant failed: %s [", what);
	for (unsigned int i = 0; i < n; i++)
		fprintf(stderr, "%02x ", b[i]);
	fprintf(stderr, "]\n");
	abort();
}

static bool sized(u8 s)
{
	return s == 1 || s == 2 || s == 4 || s == 8;
}

static bool is_prefix(u8 c, unsigned int mode)
{
	return c == 0x26 || c == 0x2e || c == 0x36 || c == 0x3e || c == 0x64 || c == 0x65 ||
	       c == 0x66 || c == 0x67 || c == 0xf0 || c == 0xf2 || c == 0xf3 ||
	       (mode == 8 && (c & 0xf0) == 0x40);
}

/* Instructions whose operand size is 64 bits by default in 64-bit mode. */
static bool default64(const struct vmm_insn *in)
{
	if (in->map == 1)
		return in->opcode >= 0x80 && in->opcode <= 0x8f;
	return (in->opcode >= 0x50 && in->opcode <= 0x5f) || in->opcode == 0x68 ||
	       in->opcode == 0x6a || in->opcode == 0x8f || in->opcode == 0x9c ||
	       in->opcode == 0x9d || in->opcode == 0xc3 || in->opcode == 0xc9 ||
	       in->opcode == 0xe8 || in->opcode == 0xe9 || in->opcode == 0xff;
}

/*
 * Encodings where Capstone 4 (Debian's) is known to differ from the CPU
 * manuals and our decoder, so a mismatch there says nothing:
 * - 0x66 on MOVSXD (Capstone ignores it); F2/F3 next to 0x66 (it
 *   mis-sizes the operand); lock/rep prefixes on instructions that #UD
 *   with them (we decode for length only; Capstone rejects some);
 * - the register form of the hint NOP 0F 1F (Capstone takes only memory
 *   forms);
 * - more than one REX byte among the prefixes (only the last, right before
 *   the opcode, counts; Capstone merges them);
 * - in 64-bit code, an instruction of default operand size 64 (push, pop,
 *   near branches) with 0x66 or 0x67: Intel and AMD differ on 0x66 there
 *   (AMD, which we run on, takes a rel16; Intel ignores it), and Capstone
 *   follows neither once REX.W or another prefix joins in (a 16-bit pop
 *   under REX.W, a rel16 call after 67 REX.W, a rel32 after 66 64).
 */
static bool capstone_quirk(const struct vmm_insn *in, const u8 *b)
{
	unsigned int np = 0, rex = 0;
	bool has66 = false, has67 = false;

	while (np < in->len && is_prefix(b[np], in->mode)) {
		rex += in->mode == 8 && (b[np] & 0xf0) == 0x40;
		has66 |= b[np] == 0x66;
		has67 |= b[np] == 0x67;
		np++;
	}
	if (rex > 1)
		return true;
	if (!in->map && in->opcode == 0x63 && has66)
		return true;
	if (in->lock || in->rep)
		return true;
	if (in->map == 1 && in->opcode == 0x1f && !in->has_mem)
		return true;
	if (in->mode == 8 && (has66 || has67) && default64(in))
		return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned int modes[3] = { 2, 4, 8 };
	static const cs_mode csm[3] = { CS_MODE_16, CS_MODE_32, CS_MODE_64 };
	static csh h[3];
	static bool opened;
	struct vmm_insn in, again;
	u8 b[32];
	unsigned int m, n;
	char why[1024];
	int r;

	if (!opened) {
		for (int i = 0; i < 3; i++) {
			if (cs_open(CS_ARCH_X86, csm[i], &h[i]) != CS_ERR_OK)
				abort();
			cs_option(h[i], CS_OPT_DETAIL, CS_OPT_ON);
		}
		opened = true;
	}
	if (size < 2)
		return 0;
	m = data[0] % 3;
	memset(b, 0x90, sizeof(b));
	n = (unsigned int)(size - 1 < sizeof(b) ? size - 1 : sizeof(b));
	memcpy(b, data + 1, n);
	if (data[0] & 0x80)
		n = n > 15 ? 15 : n; /* exactly what fits */

	r = vmm_decode(b, n, modes[m], &in);
	if (r == VMM_DECODE_TRUNCATED && n >= VMM_INSN_MAX_LEN)
		fail("truncated although 15 bytes were given", b, n);
	if (r != VMM_DECODE_OK)
		return 0;
	if (in.len < 1 || in.len > VMM_INSN_MAX_LEN || in.len > n)
		fail("length out of range", b, n);
	/* MOVS/STOS/LODS address memory implicitly (rSI/rDI): no ModRM
	 * operand, but an element size; every other MMIO kind has a sized
	 * explicit operand. */
	if (in.kind == VMM_INSN_STRING && (in.has_mem || !sized(in.mem_size)))
		fail("a string MMIO access with an operand or without an element size", b, in.len);
	if (in.kind != VMM_INSN_OTHER && in.kind != VMM_INSN_STRING &&
	    (!in.has_mem || !sized(in.mem_size)))
		fail("an MMIO access without a sized memory operand", b, in.len);
	if (in.kind == VMM_INSN_LOAD && !sized(in.dst_size))
		fail("a load without a register size", b, in.len);
	if (!sized(in.op_size) || (in.addr_size != 2 && in.addr_size != 4 && in.addr_size != 8))
		fail("operand or address size", b, in.len);
	/* More bytes after it change nothing. */
	if (vmm_decode(b, sizeof(b), modes[m], &again) != VMM_DECODE_OK ||
	    memcmp(&in, &again, sizeof(in)))
		fail("a different decoding with more bytes given", b, in.len);
	/* Exactly its own bytes are enough. */
	if (vmm_decode(b, in.len, modes[m], &again) != VMM_DECODE_OK || again.len != in.len)
		fail("its own length is not enough", b, in.len);

	if (capstone_quirk(&in, b))
		return 0;
	if (decode_compare(h[m], modes[m], b, in.len, why, sizeof(why)) > 0) {
		fprintf(stderr, "%s", why);
		fail("Capstone disagrees", b, in.len);
	}
	return 0;
}
