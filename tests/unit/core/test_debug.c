/* SPDX-License-Identifier: MIT */
/*
 * Guest debugging on the fake backend: the debug state libvm hands
 * KVM_SET_GUEST_DEBUG (control bits, DR0-3, DR7's enable, type and length
 * fields), refused options, the debug exit's fields, and the page walk of
 * libvm_vcpu_translate() in every paging mode (tables built in the fake
 * VM's RAM, the mode set through the vCPU's sregs): no paging, 32-bit
 * paging with 4 KiB and 4 MiB pages (PSE-36), PAE with 4 KiB and 2 MiB,
 * 4-level with 4 KiB, 2 MiB and 1 GiB, 5-level; permissions accumulated
 * over the levels; holes, tables outside memory and non-canonical
 * addresses refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include <libvm/debug.h>

#include "../fakevm.h"

static void test_set_debug(void **state)
{
	libvm_vm *vm = fakevm_new(NULL);
	libvm_vcpu *v = fakevm_vcpu(vm, 0);
	struct libvm__fake_vcpu *f = libvm__fake_vcpu(v);
	libvm_debug_options o = LIBVM_DEBUG_OPTIONS_INIT;

	(void)state;
	o.flags = LIBVM_DEBUG_SINGLESTEP | LIBVM_DEBUG_SW_BREAKPOINTS | LIBVM_DEBUG_HW_BREAKPOINTS;
	o.nr_hw = 3;
	o.hw[0] = (libvm_hw_breakpoint){ 0x1000, LIBVM_HW_BREAKPOINT_EXEC, 0 };
	o.hw[1] = (libvm_hw_breakpoint){ 0x2008, LIBVM_HW_BREAKPOINT_WRITE, 8 };
	o.hw[2] = (libvm_hw_breakpoint){ 0x3002, LIBVM_HW_BREAKPOINT_ACCESS, 2 };
	assert_int_equal(libvm_vcpu_set_debug(v, &o), 0);
	assert_int_equal(f->debug.control, KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP |
					   KVM_GUESTDBG_USE_SW_BP | KVM_GUESTDBG_USE_HW_BP);
	assert_int_equal(f->debug.arch.debugreg[0], 0x1000);
	assert_int_equal(f->debug.arch.debugreg[1], 0x2008);
	assert_int_equal(f->debug.arch.debugreg[2], 0x3002);
	/* L0 L1 L2; RW0 00 LEN0 00; RW1 01 LEN1 10 (8); RW2 11 LEN2 01 (2);
	 * bit 10 reads as one. */
	assert_int_equal(f->debug.arch.debugreg[7],
			 0x15 | 1u << 10 | (0x1u | 0x2u << 2) << 20 | (0x3u | 0x1u << 2) << 24);
	/* Off. */
	assert_int_equal(libvm_vcpu_set_debug(v, NULL), 0);
	assert_int_equal(f->debug.control, 0);
	assert_int_equal(f->debug.arch.debugreg[7], 0);
	/* Refused. */
#define BAD(field, value, text)                                                        \
	do {                                                                           \
		libvm_debug_options b = o;                                             \
		b.field = value;                                                       \
		assert_int_equal(libvm_vcpu_set_debug(v, &b), -EINVAL);                \
		assert_non_null(strstr(libvm_error_message(), text));                  \
	} while (0)
	BAD(flags, 1u << 9, "unknown flags");
	BAD(nr_hw, 5, "at most 4");
	BAD(flags, LIBVM_DEBUG_SINGLESTEP, "without LIBVM_DEBUG_HW_BREAKPOINTS");
	BAD(hw[0].type, 2, "has type 2");
	BAD(hw[1].len, 3, "length 3");
	BAD(hw[1].addr, 0x2004, "length 8 at 0x2004");
	BAD(hw[0].len, 2, "1 to execute");
	assert_int_equal(libvm_vcpu_set_debug(NULL, &o), -EINVAL);
	libvm_vm_destroy(vm);
}

/* A debug exit, as KVM reports a single step. */
static int step_exit(libvm_vcpu *vcpu, struct kvm_run *run, void *opaque)
{
	run->exit_reason = KVM_EXIT_DEBUG;
	run->debug.arch.exception = 1;
	run->debug.arch.pc = 0x1234;
	run->debug.arch.dr6 = 1u << 14;
	run->debug.arch.dr7 = 0x400;
	return 0;
}

static void test_debug_exit(void **state)
{
	libvm_vm *vm = fakevm_new(NULL);
	libvm_vcpu *v = fakevm_vcpu(vm, 0);
	libvm_exit ex;

	(void)state;
	libvm__fake_vcpu(v)->run_fn = step_exit;
	assert_int_equal(libvm_vcpu_run(v, &ex), 0);
	assert_int_equal(ex.reason, LIBVM_EXIT_DEBUG);
	assert_int_equal(ex.debug.exception, 1);
	assert_int_equal(ex.debug.pc, 0x1234);
	assert_int_equal(ex.debug.dr6, 1u << 14);
	assert_int_equal(ex.debug.dr7, 0x400);
	/* It ends a whole-VM run too. */
	assert_int_equal(libvm_vm_run(vm, NULL, &ex, NULL), 0);
	assert_int_equal(ex.reason, LIBVM_EXIT_DEBUG);
	libvm_vm_destroy(vm);
}

/* The paging rig: 64 MiB of RAM, vCPU 0, tables written as entries. */
struct rig {
	libvm_vm *vm;
	libvm_vcpu *v;
};

static void rig_up(struct rig *r)
{
	r->vm = fakevm_new(NULL);
	fakevm_ram(r->vm, 0, 64 << 20, "ram");
	r->v = fakevm_vcpu(r->vm, 0);
}

static void put64(struct rig *r, uint64_t gpa, uint64_t e)
{
	assert_int_equal(libvm_mem_write(r->vm, gpa, &e, 8), 0);
}

static void put32(struct rig *r, uint64_t gpa, uint32_t e)
{
	assert_int_equal(libvm_mem_write(r->vm, gpa, &e, 4), 0);
}

static void mode(struct rig *r, uint64_t cr0, uint64_t cr3, uint64_t cr4, uint64_t efer)
{
	libvm_sregs s;

	assert_int_equal(libvm_vcpu_get_sregs(r->v, &s), 0);
	s.cr0 = cr0;
	s.cr3 = cr3;
	s.cr4 = cr4;
	s.efer = efer;
	assert_int_equal(libvm_vcpu_set_sregs(r->v, &s), 0);
}

static void expect(struct rig *r, uint64_t gva, uint64_t gpa, int writable, int user)
{
	libvm_translation t;

	assert_int_equal(libvm_vcpu_translate(r->v, gva, &t), 0);
	if (t.gpa != gpa || t.writable != writable || t.user != user) {
		print_error("0x%llx -> 0x%llx w%u u%u, want 0x%llx w%d u%d\n",
			    (unsigned long long)gva, (unsigned long long)t.gpa, t.writable, t.user,
			    (unsigned long long)gpa, writable, user);
		fail();
	}
}

static void refused(struct rig *r, uint64_t gva, const char *text)
{
	libvm_translation t;

	assert_int_equal(libvm_vcpu_translate(r->v, gva, &t), -EFAULT);
	assert_non_null(strstr(libvm_error_message(), text));
}

#define PG (1ull << 31)
#define PE 1ull
#define PSE (1ull << 4)
#define PAE (1ull << 5)
#define LA57 (1ull << 12)
#define LME_LMA ((1ull << 8) | (1ull << 10))

static void test_no_paging(void **state)
{
	struct rig r;

	(void)state;
	rig_up(&r);
	expect(&r, 0x12345, 0x12345, 1, 1);
	/* Outside long mode linear addresses are 32 bits. */
	expect(&r, 0x100012345ull, 0x12345, 1, 1);
	libvm_vm_destroy(r.vm);
}

static void test_32bit_paging(void **state)
{
	struct rig r;

	(void)state;
	rig_up(&r);
	/* PD at 0x10000: PDE 1 -> PT at 0x11000 (user, writable), PDE 2 a
	 * 4 MiB page at 0x800000 with physical bits 39:32 = 0x3 (PSE-36). */
	put32(&r, 0x10000 + 1 * 4, 0x11000 | 7);
	put32(&r, 0x11000 + 5 * 4, 0x23000 | 5);     /* read-only page */
	put32(&r, 0x10000 + 2 * 4, 0x800000 | (0x3u << 13) | 0x80 | 3);
	mode(&r, PE | PG, 0x10000, PSE, 0);
	expect(&r, 0x405abc, 0x23abc, 0, 1);
	expect(&r, 0x812345, 0x300812345ull, 1, 0);
	refused(&r, 0x406000, "is not mapped (the level-1 entry at 0x11018 is not present)");
	refused(&r, 0xc00000, "is not mapped (the level-2 entry at 0x1000c is not present)");
	refused(&r, 0x100000000ull, "beyond 32-bit paging");
	/* Without CR4.PSE the PS bit means nothing: the PDE is a table. */
	mode(&r, PE | PG, 0x10000, 0, 0);
	refused(&r, 0x812345, "the level-1 entry at 0x806048 is not present");
	libvm_vm_destroy(r.vm);
}

static void test_pae_paging(void **state)
{
	struct rig r;

	(void)state;
	rig_up(&r);
	/* PDPTEs at 0x10020 (32-byte aligned CR3): PDPTE 1 -> PD 0x11000;
	 * PDE 0 a 2 MiB page; PDE 1 -> PT 0x12000. */
	put64(&r, 0x10020 + 8, 0x11000 | 1);
	put64(&r, 0x11000, 0x1e00000 | 0x80 | 7);
	put64(&r, 0x11000 + 8, 0x12000 | 3);
	put64(&r, 0x12000 + 3 * 8, 0x44000 | 3);
	mode(&r, PE | PG, 0x10020, PAE, 0);
	expect(&r, 0x40012345, 0x1e12345, 1, 1);
	expect(&r, 0x40203010, 0x44010, 1, 0);
	refused(&r, 0x80000000, "level-3");
	libvm_vm_destroy(r.vm);
}

static void test_long_mode_paging(void **state)
{
	struct rig r;

	(void)state;
	rig_up(&r);
	/* PML4 0x10000: entry 0 -> PDPT 0x11000; entry 511 -> PDPT 0x14000.
	 * PDPT 0: 1 GiB page at 0x40000000? no RAM there, so just its
	 * address; PDPT 1 -> PD 0x12000: PDE 0 2 MiB page, PDE 1 -> PT. */
	put64(&r, 0x10000, 0x11000 | 7);
	put64(&r, 0x10000 + 511 * 8, 0x14000 | 3);
	put64(&r, 0x11000, 0x80000000ull | 0x80 | 7);          /* 1 GiB */
	put64(&r, 0x11000 + 8, 0x12000 | 7);
	put64(&r, 0x12000, 0x600000 | 0x80 | 5);                /* 2 MiB, read-only */
	put64(&r, 0x12000 + 8, 0x13000 | 7);
	put64(&r, 0x13000 + 2 * 8, 0x2000000 | 7);
	put64(&r, 0x14000 + 510 * 8, 0x15000 | 3);              /* the top 2 GiB */
	put64(&r, 0x15000, 0x16000 | 3);
	put64(&r, 0x16000, 0x3000000 | 3);
	mode(&r, PE | PG, 0x10000, PAE, LME_LMA);
	expect(&r, 0x12345678, 0x92345678ull, 1, 1);
	expect(&r, 0x40012345, 0x612345, 0, 1);
	expect(&r, 0x40202abc, 0x2000abc, 1, 1);
	expect(&r, 0xffffffff80000123ull, 0x3000123, 1, 0);
	refused(&r, 0x0000800000000000ull, "not canonical for 4-level paging");
	refused(&r, 0x40203000, "level-1");
	libvm_vm_destroy(r.vm);
}

static void test_five_level_paging(void **state)
{
	struct rig r;

	(void)state;
	rig_up(&r);
	/* PML5 0x10000 entry 1 (bit 48) -> PML4 0x11000 -> ... -> 4 KiB. */
	put64(&r, 0x10000 + 8, 0x11000 | 7);
	put64(&r, 0x11000, 0x12000 | 7);
	put64(&r, 0x12000, 0x13000 | 7);
	put64(&r, 0x13000, 0x14000 | 7);
	put64(&r, 0x14000, 0x55000 | 7);
	mode(&r, PE | PG, 0x10000, PAE | LA57, LME_LMA);
	expect(&r, (1ull << 48) | 0x123, 0x55123, 1, 1);
	refused(&r, 0x0100000000000000ull, "not canonical for 5-level paging");
	libvm_vm_destroy(r.vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_debug),
		cmocka_unit_test(test_debug_exit),
		cmocka_unit_test(test_no_paging),
		cmocka_unit_test(test_32bit_paging),
		cmocka_unit_test(test_pae_paging),
		cmocka_unit_test(test_long_mode_paging),
		cmocka_unit_test(test_five_level_paging),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
