// SPDX-License-Identifier: GPL-2.0
/*
 * Differential test of kmod/vmm_decode.c against Capstone: random prefix
 * sets, opcodes from the decoder's supported set and random ModRM, SIB,
 * displacement and immediate bytes, in 16-, 32- and 64-bit code.  Where
 * our decoder accepts an instruction, Capstone must decode it to the same
 * length, the same memory operand (base, index, scale, displacement,
 * FS/GS segment) and, for instructions whose memory operand has the
 * operand size, the same access size.  Deterministic (fixed seed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "decode_compare.h"

#define ITERATIONS 100000

static uint64_t rng = 0x2545f4914f6cdd1dULL;

static unsigned int rnd(unsigned int n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned int)(rng % n);
}

/* Opcodes to generate: the MOV family many times, the rest once. */
static const u16 ops[] = {
	0x88, 0x89, 0x8a, 0x8b, 0xc6, 0xc7, 0xa0, 0xa1, 0xa2, 0xa3,
	0x88, 0x89, 0x8a, 0x8b, 0xc6, 0xc7,
	0x10f, 0x1b6, 0x1b7, 0x1be, 0x1bf, 0x1b6, 0x1be, 0x63,
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x08, 0x09, 0x0a, 0x0b, 0x0c,
	0x0d, 0x10, 0x11, 0x12, 0x13, 0x18, 0x19, 0x1a, 0x1b, 0x20, 0x21,
	0x22, 0x23, 0x28, 0x29, 0x2a, 0x2b, 0x30, 0x31, 0x32, 0x33, 0x38,
	0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x69, 0x6b, 0x80, 0x81, 0x83, 0x84,
	0x85, 0x86, 0x87, 0x8d, 0xa8, 0xa9, 0xb0, 0xb8, 0xbf, 0xc0, 0xc1,
	0xd0, 0xd1, 0xd2, 0xd3, 0xf6, 0xf7, 0xfe, 0xff, 0xf4, 0xcd, 0x70,
	0x1a2, 0x130, 0x132, 0x144, 0x194, 0x1a3, 0x1ab, 0x1af,
	0x185, 0x6c, 0x6d, 0x6e, 0x6f,
};

/*
 * No F2/F3: they only matter to the string instructions here, and
 * Capstone 4 mis-sizes operands when they meet 0x66.
 */
static const u8 legacy[] = {
	0x66, 0x67, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65,
};

static void run_mode(unsigned int mode, cs_mode csm)
{
	unsigned int compared = 0, bad = 0, it;
	csh h;

	assert_int_equal(cs_open(CS_ARCH_X86, csm, &h), CS_ERR_OK);
	cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
	for (it = 0; it < ITERATIONS; it++) {
		u8 b[VMM_INSN_MAX_LEN + 8];
		char why[1024];
		unsigned int n = 0, np = rnd(3), i, op;
		int r;

		op = ops[rnd(sizeof(ops) / sizeof(ops[0]))];
		if ((op & 0xfc) == 0x6c && rnd(2))
			b[n++] = 0xf3;	/* rep ins/outs */
		for (i = 0; i < np; i++)
			b[n++] = legacy[rnd(sizeof(legacy))];
		if (mode == 8 && rnd(2))
			b[n++] = 0x40 | rnd(16);
		if (op > 0xff) {
			b[n++] = 0x0f;
			b[n++] = op & 0xff;
		} else {
			b[n++] = op;
		}
		while (n < sizeof(b))
			b[n++] = rnd(256);
		/* Capstone 4 ignores 0x66 on MOVSXD (r16, r/m16). */
		if (op == 0x63 && memchr(b, 0x66, n))
			continue;
		r = decode_compare(h, mode, b, VMM_INSN_MAX_LEN, why, sizeof(why));
		if (r < 0)
			continue;
		if (r)
			print_error("%s", why);
		compared++;
		bad += r;
		if (bad > 20)
			break;
	}
	cs_close(&h);
	printf("mode %u: %u instructions compared, %u mismatches\n", mode * 8,
	       compared, bad);
	assert_true(compared > ITERATIONS / 2);
	assert_int_equal(bad, 0);
}

static void test_diff_64(void **state)
{
	(void)state;
	run_mode(8, CS_MODE_64);
}

static void test_diff_32(void **state)
{
	(void)state;
	run_mode(4, CS_MODE_32);
}

static void test_diff_16(void **state)
{
	(void)state;
	run_mode(2, CS_MODE_16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diff_64),
		cmocka_unit_test(test_diff_32),
		cmocka_unit_test(test_diff_16),
	};

	return cmocka_run_group_tests_name("decoder-vs-capstone", tests, NULL,
					   NULL);
}
