/* SPDX-License-Identifier: MIT */
/*
 * Test exit device: isa-debug-exit statuses, through the model and
 * through the bus to libvm_vcpu_end_run().
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "dev/debugexit.h"
#include "devtest.h"

static void test_status_is_shifted_and_odd(void **state)
{
	struct libvm__debugexit d = { .width = 4 };
	uint32_t v = 0;

	assert_int_equal(libvm__debugexit_access(&d, 0, &v, 4, true), 1);
	assert_int_equal(d.code, 1);
	v = 0x10;
	assert_int_equal(libvm__debugexit_access(&d, 0, &v, 1, true), 1);
	assert_int_equal(d.code, 0x21);
	v = 0xffffffff;
	assert_int_equal(libvm__debugexit_access(&d, 0, &v, 4, true), 1);
	assert_int_equal(d.code, 0x1ffffffffull); /* no truncation to 32 bits */
}

static void test_read_has_no_effect(void **state)
{
	struct libvm__debugexit d = { .width = 4 };
	uint32_t v = 0xffffffff;

	assert_int_equal(libvm__debugexit_access(&d, 0, &v, 4, false), 0);
	assert_int_equal(v, 0);
	assert_int_equal(d.code, 0);
}

static void test_write_ends_run(void **state)
{
	libvm_vm *vm = devtest_vm();
	libvm_vcpu *vcpu = devtest_vcpu(vm);
	libvm_debugexit *d = NULL;

	assert_int_equal(libvm_debugexit_attach(&d, vm, NULL), 0);
	assert_int_equal(devtest_out(vcpu, 0xf4, 3, 4), 1);
	assert_int_equal(vcpu->end_reason, LIBVM_EXIT_GUEST_EXIT);
	assert_int_equal(vcpu->end_code, 7);
	vcpu->end_reason = 0;
	/* All four ports belong to it; a byte write at 0xf7 counts too. */
	assert_int_equal(devtest_out(vcpu, 0xf7, 0, 1), 1);
	assert_int_equal(vcpu->end_code, 1);
	assert_int_equal(devtest_io(vcpu, LIBVM_SPACE_PIO, 0xf8, &(uint32_t){ 0 }, 1, true), 0);
	libvm_debugexit_detach(d);
	assert_int_equal(devtest_out(vcpu, 0xf4, 3, 4), 0); /* gone */
	devtest_vm_free(vm);
}

static void test_options(void **state)
{
	libvm_vm *vm = devtest_vm();
	libvm_debugexit_options o = LIBVM_DEBUGEXIT_OPTIONS_INIT;
	libvm_debugexit *d = NULL, *d2 = NULL;

	assert_int_equal(libvm_debugexit_attach(NULL, vm, NULL), -EINVAL);
	assert_int_equal(libvm_debugexit_attach(&d, NULL, NULL), -EINVAL);
	o.width = 3;
	assert_int_equal(libvm_debugexit_attach(&d, vm, &o), -EINVAL);
	o.width = 4;
	o.port = 0xfffe;
	assert_int_equal(libvm_debugexit_attach(&d, vm, &o), -EINVAL);
	o.size = 3;
	assert_int_equal(libvm_debugexit_attach(&d, vm, &o), -EINVAL);
	o = (libvm_debugexit_options)LIBVM_DEBUGEXIT_OPTIONS_INIT;
	o.port = 0x501;
	o.width = 1;
	assert_int_equal(libvm_debugexit_attach(&d, vm, &o), 0);
	assert_int_equal(libvm_debugexit_attach(&d2, vm, &o), -EEXIST);
	assert_null(d2);
	libvm_debugexit_detach(d);
	libvm_debugexit_detach(NULL);
	devtest_vm_free(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_is_shifted_and_odd),
		cmocka_unit_test(test_read_has_no_effect),
		cmocka_unit_test(test_write_ends_run),
		cmocka_unit_test(test_options),
	};

	return cmocka_run_group_tests_name("debugexit", tests, NULL, NULL);
}
