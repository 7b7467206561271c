/* SPDX-License-Identifier: MIT */
/*
 * Port 0x80 sink: writes are swallowed and remembered, reads float high.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "dev/port80.h"
#include "devtest.h"

static void test_model(void **state)
{
	struct libvm__port80 p = { 0 };
	uint8_t v = 0x42;

	assert_int_equal(libvm__port80_access(&p, 0, &v, 1, true), 0);
	assert_true(p.written);
	assert_int_equal(p.last, 0x42);
	v = 0;
	libvm__port80_access(&p, 0, &v, 1, false);
	assert_int_equal(v, 0xff);
}

static void test_through_bus(void **state)
{
	libvm_vm *vm = devtest_vm();
	libvm_vcpu *vcpu = devtest_vcpu(vm);
	libvm_port80 *p = NULL;

	assert_int_equal(libvm_port80_attach(&p, vm, NULL), 0);
	assert_int_equal(libvm_port80_last(p), -ENOENT);
	assert_int_equal(devtest_out(vcpu, 0x80, 0x12, 1), 1);
	assert_int_equal(devtest_out(vcpu, 0x80, 0xab, 1), 1);
	assert_int_equal(libvm_port80_last(p), 0xab);
	assert_int_equal(devtest_in(vcpu, 0x80, 1), 0xff);
	assert_int_equal(vcpu->end_reason, 0); /* never ends a run */
	assert_int_equal(libvm_port80_last(NULL), -EINVAL);
	libvm_port80_detach(p);
	devtest_vm_free(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model),
		cmocka_unit_test(test_through_bus),
	};

	return cmocka_run_group_tests_name("port80", tests, NULL, NULL);
}
