/* SPDX-License-Identifier: MIT */
/*
 * Device lifetime: a VM destroyed with devices still attached detaches and
 * frees them (LeakSanitizer in the sanitizer build sees any leak), and a
 * device detached by hand is not released a second time.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "devtest.h"

static int count_owned(libvm_vm *vm)
{
	int n = 0;

	for (struct libvm__owned *o = vm->owned; o; o = o->next)
		n++;
	return n;
}

static void test_destroy_releases_attached_devices(void **state)
{
	libvm_vm *vm = devtest_vm();
	libvm_fwcfg_options fo = LIBVM_FWCFG_OPTIONS_INIT;
	libvm_uart *uart;
	libvm_debugexit *dx;
	libvm_fwcfg *fw;
	libvm_i8042 *kbd;
	libvm_rtc *rtc;
	libvm_port80 *p80;
	libvm_testdev *td;
	libvm_pmtimer *pm;

	fo.nb_cpus = 1;
	assert_int_equal(libvm_uart_attach(&uart, vm, NULL), 0);
	assert_int_equal(libvm_debugexit_attach(&dx, vm, NULL), 0);
	assert_int_equal(libvm_fwcfg_attach(&fw, vm, &fo), 0);
	assert_int_equal(libvm_fwcfg_add_file(fw, "etc/x", "abc", 3), 0);
	assert_int_equal(libvm_i8042_attach(&kbd, vm, NULL), 0);
	assert_int_equal(libvm_rtc_attach(&rtc, vm, NULL), 0);
	assert_int_equal(libvm_port80_attach(&p80, vm, NULL), 0);
	assert_int_equal(libvm_testdev_attach(&td, vm, NULL), 0);
	assert_int_equal(libvm_pmtimer_attach(&pm, vm, NULL), 0);
	assert_int_equal(count_owned(vm), 8);

	/* One detached by hand leaves the VM's list. */
	libvm_port80_detach(p80);
	assert_int_equal(count_owned(vm), 7);
	/* A failed attach adds nothing. */
	assert_int_equal(libvm_port80_attach(&p80, vm, NULL), 0);
	assert_int_equal(libvm_port80_attach(&p80, vm, NULL), -EEXIST);
	assert_int_equal(count_owned(vm), 8);

	/* The rest go with the VM. */
	libvm_vm_destroy(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_destroy_releases_attached_devices),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
