/* SPDX-License-Identifier: MIT */
/*
 * ACPI PM1a blocks: the S5 write an ACPI OS does to power off ends the
 * run with LIBVM_EXIT_POWEROFF, the S3 write with LIBVM_EXIT_SUSPEND; other
 * sleep types, SLP_TYP without SLP_EN, status and enable registers do not;
 * SCI_EN always reads 1; waking sets the status bits.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>

#include "dev/acpipm.h"
#include "devtest.h"

static void test_model_s5_only_with_slp_en(void **state)
{
	struct libvm__acpipm pm = { .s5_typ = 5 };
	uint16_t v;

	(void)state;
	/* SCI_EN reads 1 (always ACPI mode). */
	assert_int_equal(libvm__acpipm_access(&pm, 4, &v, 2, false), LIBVM__ACPIPM_NONE);
	assert_int_equal(v & 1, 1);
	/* Linux writes SLP_TYP first, then SLP_TYP | SLP_EN. */
	v = 5 << 10;
	assert_int_equal(libvm__acpipm_access(&pm, 4, &v, 2, true), LIBVM__ACPIPM_NONE);
	v = 5 << 10 | 1 << 13;
	assert_int_equal(libvm__acpipm_access(&pm, 4, &v, 2, true), LIBVM__ACPIPM_POWEROFF);
	/* SLP_EN reads back 0. */
	libvm__acpipm_access(&pm, 4, &v, 2, false);
	assert_int_equal(v & (1 << 13), 0);
	/* Another sleep type is ignored. */
	v = 1 << 10 | 1 << 13;
	assert_int_equal(libvm__acpipm_access(&pm, 4, &v, 2, true), LIBVM__ACPIPM_NONE);
	/* Byte writes: the high byte carries SLP_TYP and SLP_EN. */
	v = (5 << 10 | 1 << 13) >> 8;
	assert_int_equal(libvm__acpipm_access(&pm, 5, &v, 1, true), LIBVM__ACPIPM_POWEROFF);
}

static void test_model_status_enable(void **state)
{
	struct libvm__acpipm pm = { .s5_typ = 5, .sts = LIBVM__PM1_WAK_STS | 1 };
	uint32_t v = 0;

	(void)state;
	libvm__acpipm_access(&pm, 0, &v, 4, false);
	assert_int_equal(v, LIBVM__PM1_WAK_STS | 1);
	v = LIBVM__PM1_WAK_STS; /* write one to clear */
	libvm__acpipm_access(&pm, 0, &v, 2, true);
	assert_int_equal(pm.sts, 1);
	v = 0x0120;
	libvm__acpipm_access(&pm, 2, &v, 2, true);
	assert_int_equal(pm.en, 0x0120);
	/* Past the view: all-ones, writes dropped. */
	v = 0;
	libvm__acpipm_access(&pm, 6, &v, 2, false);
	assert_int_equal(v, 0xffff);
}

static void test_poweroff_through_the_bus(void **state)
{
	libvm_vm *vm = devtest_vm();
	libvm_vcpu *vcpu = devtest_vcpu(vm);
	libvm_acpipm *pm, *again;
	libvm_acpipm_options o = LIBVM_ACPIPM_OPTIONS_INIT;

	(void)state;
	assert_int_equal(libvm_acpipm_attach(&pm, vm, NULL), 0);
	assert_int_equal(libvm_acpipm_attach(&again, vm, NULL), -EEXIST);
	assert_int_equal(devtest_in(vcpu, 0x604, 2) & 1, 1);
	assert_int_equal(devtest_out(vcpu, 0x604, 5 << 10, 2), 1);
	assert_int_equal(vcpu->end_reason, 0);
	assert_int_equal(devtest_out(vcpu, 0x604, 5 << 10 | 1 << 13, 2), 1);
	assert_int_equal(vcpu->end_reason, LIBVM_EXIT_POWEROFF);
	assert_int_equal(vcpu->end_code, 0);
	libvm_acpipm_detach(pm);
	o.s5_typ = 8;
	assert_int_equal(libvm_acpipm_attach(&pm, vm, &o), -EINVAL);
	o.s5_typ = 5;
	o.evt_port = 0xfffe;
	assert_int_equal(libvm_acpipm_attach(&pm, vm, &o), -EINVAL);
	/* Left attached: the VM frees it. */
	assert_int_equal(libvm_acpipm_attach(&pm, vm, NULL), 0);
	devtest_vm_free(vm);
}

/*
 * S3: SLP_TYP 1 (what libvm_acpi_isa_aml()'s \_S3 says) with SLP_EN ends
 * the run with LIBVM_EXIT_SUSPEND, end code 3; LIBVM_ACPIPM_NO_S3 ignores
 * it; libvm_acpipm_wake() sets WAK_STS (and RTC_STS for the RTC) and
 * checks its arguments. A caller of 0.1, whose options knew only s5_typ,
 * with an S5 of 1 (valid then) still attaches and powers off at 1: the S3
 * default gives way to it.
 */
static void test_s3_and_wake(void **state)
{
	libvm_vm *vm = devtest_vm();
	libvm_vcpu *vcpu = devtest_vcpu(vm);
	libvm_acpipm_options o = LIBVM_ACPIPM_OPTIONS_INIT;
	libvm_acpipm *pm;

	(void)state;
	assert_int_equal(libvm_acpipm_attach(&pm, vm, NULL), 0);
	assert_int_equal(devtest_out(vcpu, 0x604, 1u << 10 | 1u << 13, 2), 1);
	assert_int_equal(vcpu->end_reason, LIBVM_EXIT_SUSPEND);
	assert_int_equal(vcpu->end_code, 3);
	vcpu->end_reason = 0;
	assert_int_equal(devtest_in(vcpu, 0x600, 2), 0);
	assert_int_equal(libvm_acpipm_wake(pm, LIBVM_ACPIPM_WAKE_RTC), 0);
	assert_int_equal(devtest_in(vcpu, 0x600, 2), 0x8400); /* WAK_STS | RTC_STS */
	assert_int_equal(devtest_out(vcpu, 0x600, 0x8400, 2), 1); /* write 1 to clear */
	assert_int_equal(devtest_in(vcpu, 0x600, 2), 0);
	assert_int_equal(libvm_acpipm_wake(pm, 0), 0);
	assert_int_equal(devtest_in(vcpu, 0x600, 2), 0x8000);
	assert_int_equal(libvm_acpipm_wake(pm, 2), -EINVAL);
	assert_int_equal(libvm_acpipm_wake(NULL, 0), -EINVAL);
	libvm_acpipm_detach(pm);
	assert_int_equal(libvm_acpipm_wake(pm, 0), -EBADF);

	o.s3_typ = LIBVM_ACPIPM_NO_S3;
	assert_int_equal(libvm_acpipm_attach(&pm, vm, &o), 0);
	assert_int_equal(devtest_out(vcpu, 0x604, 1u << 10 | 1u << 13, 2), 1);
	assert_int_equal(vcpu->end_reason, 0);
	libvm_acpipm_detach(pm);

	o = (libvm_acpipm_options)LIBVM_ACPIPM_OPTIONS_INIT;
	o.s5_typ = 1;
	assert_int_equal(libvm_acpipm_attach(&pm, vm, &o), 0);
	assert_int_equal(devtest_out(vcpu, 0x604, 1u << 10 | 1u << 13, 2), 1);
	assert_int_equal(vcpu->end_reason, LIBVM_EXIT_POWEROFF);
	vcpu->end_reason = 0;
	libvm_acpipm_detach(pm);
	/* Asked for both at once, it is still refused. */
	o.s3_typ = 1;
	assert_int_equal(libvm_acpipm_attach(&pm, vm, &o), -EINVAL);
	devtest_vm_free(vm);
}

/* With the blocks apart, a wide access to the event block stays in it. */
static void test_blocks_apart_do_not_spill(void **state)
{
	libvm_vm *vm = devtest_vm();
	libvm_vcpu *vcpu = devtest_vcpu(vm);
	libvm_acpipm_options o = LIBVM_ACPIPM_OPTIONS_INIT;
	libvm_acpipm *pm;

	(void)state;
	o.evt_port = 0xb000;
	o.cnt_port = 0xb100;
	assert_int_equal(libvm_acpipm_attach(&pm, vm, &o), 0);
	/* A 4-byte write at evt+2 covers PM1_EN and two bytes past the block:
	 * in the 6-byte view those would be PM1_CNT with S5 | SLP_EN. */
	assert_int_equal(devtest_out(vcpu, 0xb002, (5u << 10 | 1u << 13) << 16, 4), 1);
	assert_int_equal(vcpu->end_reason, 0);
	/* Reading past the block gives all-ones, not PM1_CNT. */
	assert_int_equal(devtest_in(vcpu, 0xb002, 4) >> 16, 0xffff);
	/* The control block itself still powers off. */
	assert_int_equal(devtest_out(vcpu, 0xb100, 5u << 10 | 1u << 13, 2), 1);
	assert_int_equal(vcpu->end_reason, LIBVM_EXIT_POWEROFF);
	devtest_vm_free(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blocks_apart_do_not_spill),
		cmocka_unit_test(test_model_s5_only_with_slp_en),
		cmocka_unit_test(test_model_status_enable),
		cmocka_unit_test(test_poweroff_through_the_bus),
		cmocka_unit_test(test_s3_and_wake),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
