// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the kernel's x86 decoder (kmod/vmm_decode.c), compiled
 * unchanged in userspace: known encodings of the MOV family in 16-, 32-
 * and 64-bit code, the ALU and string instructions it emulates on MMIO,
 * lengths of the instructions the SVM backend steps over, prefixes,
 * truncation and refusal of what it does not know (encodings longer than
 * 15 bytes included), register forms that touch no memory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmm_decode.h"

#define B(...) ((const u8[]){ __VA_ARGS__ }), sizeof((const u8[]){ __VA_ARGS__ })

static struct vmm_insn d;

static int dec(unsigned int mode, const u8 *b, size_t n)
{
	return vmm_decode(b, n, mode, &d);
}

static void test_store_reg64(void **state)
{
	(void)state;
	/* mov %rax, (%rbx) */
	assert_int_equal(dec(8, B(0x48, 0x89, 0x03)), VMM_DECODE_OK);
	assert_int_equal(d.len, 3);
	assert_int_equal(d.kind, VMM_INSN_STORE);
	assert_int_equal(d.mem_size, 8);
	assert_int_equal(d.reg, 0);
	assert_int_equal(d.base, 3);
	assert_int_equal(d.index, VMM_REG_NONE);
	assert_int_equal(d.disp, 0);
}

static void test_load_disp8(void **state)
{
	(void)state;
	/* mov 8(%rbx), %ecx */
	assert_int_equal(dec(8, B(0x8b, 0x4b, 0x08)), VMM_DECODE_OK);
	assert_int_equal(d.len, 3);
	assert_int_equal(d.kind, VMM_INSN_LOAD);
	assert_int_equal(d.op_size, 4);
	assert_int_equal(d.dst_size, 4);
	assert_int_equal(d.reg, 1);
	assert_int_equal(d.disp, 8);
	/* mov 24(%rbx), %r9 */
	assert_int_equal(dec(8, B(0x4c, 0x8b, 0x4b, 0x18)), VMM_DECODE_OK);
	assert_int_equal(d.reg, 9);
	assert_int_equal(d.mem_size, 8);
	/* mov -0x80(%r13), %al: REX.B base, negative disp8 */
	assert_int_equal(dec(8, B(0x41, 0x8a, 0x45, 0x80)), VMM_DECODE_OK);
	assert_int_equal(d.base, 13);
	assert_int_equal(d.disp, -128);
	assert_int_equal(d.mem_size, 1);
}

static void test_high_byte_regs(void **state)
{
	(void)state;
	/* mov %ah, 1(%rbx) */
	assert_int_equal(dec(8, B(0x88, 0x63, 0x01)), VMM_DECODE_OK);
	assert_true(d.reg_high8);
	assert_int_equal(d.reg, 0);
	/* with any REX the same encoding is %spl */
	assert_int_equal(dec(8, B(0x40, 0x88, 0x63, 0x01)), VMM_DECODE_OK);
	assert_false(d.reg_high8);
	assert_int_equal(d.reg, 4);
	/* mov (%bx), %bh in real mode */
	assert_int_equal(dec(2, B(0x8a, 0x3f)), VMM_DECODE_OK);
	assert_true(d.reg_high8);
	assert_int_equal(d.reg, 3);
}

static void test_store_imm(void **state)
{
	(void)state;
	/* movl $0xcafef00d, 16(%rbx) */
	assert_int_equal(dec(8, B(0xc7, 0x43, 0x10, 0x0d, 0xf0, 0xfe, 0xca)),
			 VMM_DECODE_OK);
	assert_int_equal(d.len, 7);
	assert_int_equal(d.kind, VMM_INSN_STORE_IMM);
	assert_int_equal(d.mem_size, 4);
	assert_int_equal(d.imm, 0xcafef00d);
	/* movq $-1, (%rax): imm32 sign-extended to 64 bits */
	assert_int_equal(dec(8, B(0x48, 0xc7, 0x00, 0xff, 0xff, 0xff, 0xff)),
			 VMM_DECODE_OK);
	assert_int_equal(d.mem_size, 8);
	assert_true(d.imm == ~0ULL);
	/* movw $0x1234, 8 in real mode: disp16 then imm16 */
	assert_int_equal(dec(2, B(0xc7, 0x06, 0x08, 0x00, 0x34, 0x12)),
			 VMM_DECODE_OK);
	assert_int_equal(d.len, 6);
	assert_int_equal(d.mem_size, 2);
	assert_int_equal(d.imm, 0x1234);
	assert_int_equal(d.disp, 8);
	/* C7 /1 is not a MOV: refused */
	assert_int_equal(dec(8, B(0xc7, 0x08, 0, 0, 0, 0)), VMM_DECODE_UNKNOWN);
}

static void test_movzx_movsx(void **state)
{
	(void)state;
	/* movzbl 8(%rbx), %ecx */
	assert_int_equal(dec(8, B(0x0f, 0xb6, 0x4b, 0x08)), VMM_DECODE_OK);
	assert_int_equal(d.len, 4);
	assert_int_equal(d.kind, VMM_INSN_LOAD);
	assert_int_equal(d.mem_size, 1);
	assert_int_equal(d.dst_size, 4);
	assert_false(d.sign_extend);
	/* movsbq 9(%rbx), %rdx */
	assert_int_equal(dec(8, B(0x48, 0x0f, 0xbe, 0x53, 0x09)), VMM_DECODE_OK);
	assert_int_equal(d.mem_size, 1);
	assert_int_equal(d.dst_size, 8);
	assert_true(d.sign_extend);
	/* movzwl (%eax), %eax in 32-bit code */
	assert_int_equal(dec(4, B(0x0f, 0xb7, 0x00)), VMM_DECODE_OK);
	assert_int_equal(d.mem_size, 2);
	assert_int_equal(d.dst_size, 4);
	/* movslq (%rdi), %rax */
	assert_int_equal(dec(8, B(0x48, 0x63, 0x07)), VMM_DECODE_OK);
	assert_int_equal(d.kind, VMM_INSN_LOAD);
	assert_int_equal(d.mem_size, 4);
	assert_int_equal(d.dst_size, 8);
	assert_true(d.sign_extend);
}

static void test_addressing(void **state)
{
	(void)state;
	/* mov 0x12345678(%rip), %eax */
	assert_int_equal(dec(8, B(0x8b, 0x05, 0x78, 0x56, 0x34, 0x12)),
			 VMM_DECODE_OK);
	assert_int_equal(d.base, VMM_REG_RIP);
	assert_int_equal(d.disp, 0x12345678);
	/* mov 0xd0000000, %eax via SIB without base or index */
	assert_int_equal(dec(8, B(0x8b, 0x04, 0x25, 0x00, 0x00, 0x00, 0xd0)),
			 VMM_DECODE_OK);
	assert_int_equal(d.len, 7);
	assert_int_equal(d.base, VMM_REG_NONE);
	assert_int_equal(d.index, VMM_REG_NONE);
	assert_true(d.disp == (s64)(int32_t)0xd0000000);
	/* mov 4(%ebx,%ecx,4), %eax in 32-bit code */
	assert_int_equal(dec(4, B(0x8b, 0x44, 0x8b, 0x04)), VMM_DECODE_OK);
	assert_int_equal(d.base, 3);
	assert_int_equal(d.index, 1);
	assert_int_equal(d.scale, 4);
	/* mov 2(%bx,%si), %ax in 16-bit code */
	assert_int_equal(dec(2, B(0x8b, 0x40, 0x02)), VMM_DECODE_OK);
	assert_int_equal(d.base, 3);
	assert_int_equal(d.index, 6);
	assert_int_equal(d.addr_size, 2);
	/* 16-bit absolute: mov 4, %cl */
	assert_int_equal(dec(2, B(0x8a, 0x0e, 0x04, 0x00)), VMM_DECODE_OK);
	assert_int_equal(d.len, 4);
	assert_int_equal(d.base, VMM_REG_NONE);
	assert_int_equal(d.disp, 4);
	/* 0x67 in 64-bit code: 32-bit addressing */
	assert_int_equal(dec(8, B(0x67, 0x8b, 0x03)), VMM_DECODE_OK);
	assert_int_equal(d.addr_size, 4);
	assert_int_equal(d.len, 3);
}

static void test_moffs(void **state)
{
	(void)state;
	/* movabs 0x1122334455667788, %rax */
	assert_int_equal(dec(8, B(0x48, 0xa1, 0x88, 0x77, 0x66, 0x55, 0x44,
				  0x33, 0x22, 0x11)), VMM_DECODE_OK);
	assert_int_equal(d.len, 10);
	assert_true(d.moffs);
	assert_int_equal(d.kind, VMM_INSN_LOAD);
	assert_int_equal(d.mem_size, 8);
	/* mov %al, 0x1234 in real mode */
	assert_int_equal(dec(2, B(0xa2, 0x34, 0x12)), VMM_DECODE_OK);
	assert_int_equal(d.len, 3);
	assert_int_equal(d.kind, VMM_INSN_STORE);
	assert_int_equal(d.disp, 0x1234);
}

static void test_operand_size_prefixes(void **state)
{
	(void)state;
	assert_int_equal(dec(2, B(0x66, 0x8b, 0x00)), VMM_DECODE_OK);
	assert_int_equal(d.op_size, 4);
	assert_int_equal(dec(4, B(0x66, 0x89, 0x00)), VMM_DECODE_OK);
	assert_int_equal(d.op_size, 2);
	/* REX.W wins over 0x66 */
	assert_int_equal(dec(8, B(0x66, 0x48, 0x89, 0x00)), VMM_DECODE_OK);
	assert_int_equal(d.op_size, 8);
	/* a REX followed by a legacy prefix is void */
	assert_int_equal(dec(8, B(0x48, 0x66, 0x89, 0x00)), VMM_DECODE_OK);
	assert_int_equal(d.op_size, 2);
	assert_int_equal(d.rex, 0);
	/* segment override: kept for FS/GS, ignored for DS in 64-bit code */
	assert_int_equal(dec(8, B(0x64, 0x8b, 0x00)), VMM_DECODE_OK);
	assert_int_equal(d.seg, VMM_SEG_FS);
	assert_int_equal(dec(8, B(0x3e, 0x8b, 0x00)), VMM_DECODE_OK);
	assert_int_equal(d.seg, VMM_SEG_DEFAULT);
	assert_int_equal(dec(2, B(0x26, 0x8b, 0x00)), VMM_DECODE_OK);
	assert_int_equal(d.seg, VMM_SEG_ES);
}

static void test_intercepted_lengths(void **state)
{
	(void)state;
	assert_int_equal(dec(8, B(0xf4)), VMM_DECODE_OK);		/* hlt */
	assert_int_equal(d.len, 1);
	assert_int_equal(dec(2, B(0x0f, 0xa2)), VMM_DECODE_OK);	/* cpuid */
	assert_int_equal(d.len, 2);
	assert_int_equal(dec(4, B(0x0f, 0x32)), VMM_DECODE_OK);	/* rdmsr */
	assert_int_equal(d.len, 2);
	assert_int_equal(dec(8, B(0x0f, 0x30)), VMM_DECODE_OK);	/* wrmsr */
	assert_int_equal(d.len, 2);
	assert_int_equal(dec(8, B(0x0f, 0x08)), VMM_DECODE_OK);	/* invd */
	assert_int_equal(d.len, 2);
	assert_int_equal(dec(8, B(0xf3, 0x6e)), VMM_DECODE_OK);	/* rep outsb */
	assert_int_equal(d.len, 2);
	assert_int_equal(d.rep, 0xf3);
	assert_int_equal(dec(8, B(0x66, 0xf3, 0x6d)), VMM_DECODE_OK);/* rep insw */
	assert_int_equal(d.op_size, 2);
	/* mov %cr0, %rax ignores the mod bits */
	assert_int_equal(dec(8, B(0x0f, 0x20, 0x00)), VMM_DECODE_OK);
	assert_int_equal(d.len, 3);
	assert_false(d.has_mem);
}

/* MMIO beyond MOV: ALU read-modify-write, reg <- op mem, XCHG, strings. */
static void test_alu_and_strings(void **state)
{
	(void)state;
	/* addl $5, (%rbx): mem += imm8 sign-extended */
	assert_int_equal(dec(8, B(0x83, 0x03, 0x05)), VMM_DECODE_OK);
	assert_int_equal(d.kind, VMM_INSN_ALU);
	assert_int_equal(d.alu, VMM_ALU_ADD);
	assert_true(d.mem_dst && d.src_imm && !d.reg_dst);
	assert_int_equal(d.mem_size, 4);
	assert_int_equal(d.imm, 5);
	/* orb $0x80, (%rax) */
	assert_int_equal(dec(8, B(0x80, 0x08, 0x80)), VMM_DECODE_OK);
	assert_int_equal(d.alu, VMM_ALU_OR);
	assert_int_equal(d.mem_size, 1);
	assert_int_equal(d.imm, 0x80);
	/* cmp %ecx, (%rdx) writes nothing; sub (%rdx), %ecx writes ecx */
	assert_int_equal(dec(8, B(0x39, 0x0a)), VMM_DECODE_OK);
	assert_true(d.alu == VMM_ALU_CMP && !d.mem_dst && !d.reg_dst);
	assert_int_equal(dec(8, B(0x2b, 0x0a)), VMM_DECODE_OK);
	assert_true(d.alu == VMM_ALU_SUB && !d.mem_dst && d.reg_dst);
	assert_int_equal(d.reg, 1);
	/* xchg %rax, (%rbx): both written */
	assert_int_equal(dec(8, B(0x48, 0x87, 0x03)), VMM_DECODE_OK);
	assert_true(d.alu == VMM_ALU_XCHG && d.mem_dst && d.reg_dst);
	assert_int_equal(d.mem_size, 8);
	/* and %ah, (%rbx): AH without REX */
	assert_int_equal(dec(8, B(0x20, 0x23)), VMM_DECODE_OK);
	assert_true(d.alu == VMM_ALU_AND && d.reg == 0 && d.reg_high8);
	/* testl $1, (%rax); notw (%rax); negq (%rax); incb (%rax) */
	assert_int_equal(dec(8, B(0xf7, 0x00, 1, 0, 0, 0)), VMM_DECODE_OK);
	assert_true(d.alu == VMM_ALU_TEST && !d.mem_dst && d.src_imm);
	assert_int_equal(dec(8, B(0x66, 0xf7, 0x10)), VMM_DECODE_OK);
	assert_true(d.alu == VMM_ALU_NOT && d.mem_size == 2);
	assert_int_equal(dec(8, B(0x48, 0xf7, 0x18)), VMM_DECODE_OK);
	assert_true(d.alu == VMM_ALU_NEG && d.mem_size == 8);
	assert_int_equal(dec(8, B(0xfe, 0x00)), VMM_DECODE_OK);
	assert_true(d.alu == VMM_ALU_INC && d.mem_size == 1);
	/* mul (%rax) and the register forms are no MMIO operation */
	assert_int_equal(dec(8, B(0xf7, 0x20)), VMM_DECODE_OK);
	assert_int_equal(d.kind, VMM_INSN_OTHER);
	assert_int_equal(dec(8, B(0x01, 0xc8)), VMM_DECODE_OK);
	assert_int_equal(d.kind, VMM_INSN_OTHER);
	/* rep movsb, rep stosl, lodsq */
	assert_int_equal(dec(8, B(0xf3, 0xa4)), VMM_DECODE_OK);
	assert_true(d.kind == VMM_INSN_STRING && d.string_op == VMM_STR_MOVS);
	assert_true(d.rep == 0xf3 && d.op_size == 1 && d.len == 2);
	assert_int_equal(dec(8, B(0xf3, 0xab)), VMM_DECODE_OK);
	assert_true(d.string_op == VMM_STR_STOS && d.op_size == 4);
	assert_int_equal(dec(8, B(0x48, 0xad)), VMM_DECODE_OK);
	assert_true(d.string_op == VMM_STR_LODS && d.op_size == 8);
	/* cmps and scas are not in the set */
	assert_int_equal(dec(8, B(0xa6)), VMM_DECODE_UNKNOWN);
}

static void test_refusals(void **state)
{
	u8 many[16];

	(void)state;
	/* truncated */
	assert_int_equal(dec(8, B(0x48, 0x8b)), VMM_DECODE_TRUNCATED);
	assert_int_equal(dec(8, B(0xc7, 0x43, 0x10, 0x0d)), VMM_DECODE_TRUNCATED);
	assert_int_equal(dec(8, B(0x8b, 0x04)), VMM_DECODE_TRUNCATED);
	/* x87, VEX and unlisted two-byte opcodes are refused, not guessed */
	assert_int_equal(dec(8, B(0xd8, 0x00)), VMM_DECODE_UNKNOWN);
	assert_int_equal(dec(8, B(0xc5, 0xf8, 0x77)), VMM_DECODE_UNKNOWN);
	assert_int_equal(dec(8, B(0x0f, 0x10, 0x00)), VMM_DECODE_UNKNOWN);
	assert_int_equal(dec(8, B(0x0f, 0x38, 0x00, 0x00)), VMM_DECODE_UNKNOWN);
	/* lea with a register operand is #UD */
	assert_int_equal(dec(8, B(0x8d, 0xc0)), VMM_DECODE_UNKNOWN);
	/* register-only MOV has no memory operand: not an MMIO access */
	assert_int_equal(dec(8, B(0x89, 0xc0)), VMM_DECODE_OK);
	assert_int_equal(d.kind, VMM_INSN_OTHER);
	/* 15 bytes is the limit */
	memset(many, 0x66, sizeof(many));
	many[14] = 0x90;
	assert_int_equal(vmm_decode(many, 15, 8, &d), VMM_DECODE_OK);
	assert_int_equal(d.len, 15);
	many[14] = 0x66;
	many[15] = 0x90;
	assert_int_equal(vmm_decode(many, 16, 8, &d), VMM_DECODE_UNKNOWN);
	/* bad mode */
	assert_int_equal(dec(3, B(0x90)), VMM_DECODE_UNKNOWN);
}

/*
 * MOVSXD's register form (48 63 c1: movslq %ecx, %rax) reads no memory: it
 * must not be reported as an MMIO load, like any register-only MOV.
 */
static void test_movsxd_register_form(void **state)
{
	(void)state;
	assert_int_equal(dec(8, B(0x48, 0x63, 0xc1)), VMM_DECODE_OK);
	assert_int_equal(d.len, 3);
	assert_false(d.has_mem);
	assert_int_equal(d.kind, VMM_INSN_OTHER);
	/* 32-bit destination, register form (63 c8: movsxd %eax, %ecx) */
	assert_int_equal(dec(8, B(0x63, 0xc8)), VMM_DECODE_OK);
	assert_int_equal(d.kind, VMM_INSN_OTHER);
	/* the memory forms stay loads, register number from ModRM.reg + REX.R */
	assert_int_equal(dec(8, B(0x4c, 0x63, 0x47, 0x04)), VMM_DECODE_OK);
	assert_int_equal(d.kind, VMM_INSN_LOAD);
	assert_int_equal(d.reg, 8);
	assert_int_equal(d.mem_size, 4);
	assert_true(d.sign_extend);
}

/*
 * An encoding longer than 15 bytes is invalid (#GP): when the caller gave
 * at least 15 bytes the answer is "unknown", never "truncated" (which asks
 * for more bytes that cannot help). Each place that can run out of bytes:
 * the prefixes, after a REX, the 0x0f escape, ModRM, SIB, displacement,
 * moffs and immediate.
 */
static void test_longer_than_15_is_unknown(void **state)
{
	static const struct {
		unsigned int npfx;
		u8 tail[10];
		unsigned int ntail;
	} c[] = {
		{ 16, { 0 }, 0 },                               /* prefixes only */
		{ 14, { 0x48, 0x8b, 0x00 }, 3 },                /* REX at byte 15 */
		{ 14, { 0x0f, 0xb6, 0x00 }, 3 },                /* escape at byte 15 */
		{ 14, { 0x8b, 0x00 }, 2 },                      /* ModRM at byte 16 */
		{ 13, { 0x8b, 0x04, 0x24 }, 3 },                /* SIB at byte 16 */
		{ 12, { 0x8b, 0x84, 0x24, 1, 2, 3, 4 }, 7 },    /* disp32 past 15 */
		{ 11, { 0xc7, 0x00, 1, 2, 3, 4 }, 6 },          /* imm32 past 15 */
		{ 8, { 0xa1, 1, 2, 3, 4, 5, 6, 7, 8 }, 9 },     /* moffs64 past 15 */
	};
	u8 b[32];

	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		memset(b, 0x2e, sizeof(b));
		memcpy(b + c[i].npfx, c[i].tail, c[i].ntail);
		/* More bytes than the limit, or exactly the limit, given. */
		assert_int_equal(vmm_decode(b, sizeof(b), 8, &d), VMM_DECODE_UNKNOWN);
		assert_int_equal(vmm_decode(b, VMM_INSN_MAX_LEN, 8, &d), VMM_DECODE_UNKNOWN);
		/* Fewer: the caller may fetch more (it is still truncated). */
		assert_int_equal(vmm_decode(b, 14, 8, &d), VMM_DECODE_TRUNCATED);
	}
	/* One shorter fits: 11 prefixes + c7 00 imm32 is 17; 9 prefixes is 15. */
	memset(b, 0x2e, sizeof(b));
	memcpy(b + 9, (const u8[]){ 0xc7, 0x00, 1, 2, 3, 4 }, 6);
	assert_int_equal(vmm_decode(b, sizeof(b), 8, &d), VMM_DECODE_OK);
	assert_int_equal(d.len, 15);
	assert_int_equal(d.kind, VMM_INSN_STORE_IMM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store_reg64),
		cmocka_unit_test(test_load_disp8),
		cmocka_unit_test(test_high_byte_regs),
		cmocka_unit_test(test_store_imm),
		cmocka_unit_test(test_movzx_movsx),
		cmocka_unit_test(test_addressing),
		cmocka_unit_test(test_moffs),
		cmocka_unit_test(test_operand_size_prefixes),
		cmocka_unit_test(test_intercepted_lengths),
		cmocka_unit_test(test_alu_and_strings),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_movsxd_register_form),
		cmocka_unit_test(test_longer_than_15_is_unknown),
	};

	return cmocka_run_group_tests_name("decoder", tests, NULL, NULL);
}
