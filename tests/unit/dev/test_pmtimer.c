/* SPDX-License-Identifier: MIT */
/*
 * ACPI PM timer: 3.579545 MHz, 24- or 32-bit wrap, read-only, driven by a
 * hand-set clock.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>

#include "dev/pmtimer.h"
#include "devtest.h"

static int64_t fake_now;

static int64_t fake_clock(void *opaque)
{
	return fake_now;
}

static struct libvm__pmtimer timer(uint32_t mask)
{
	struct libvm__pmtimer t = { .mask = mask, .now_ns = fake_clock };

	fake_now = 1000;
	t.start_ns = fake_now;
	return t;
}

static void test_counts_at_acpi_rate(void **state)
{
	struct libvm__pmtimer t = timer(0xffffff);

	assert_int_equal(libvm__pmtimer_value(&t), 0);
	fake_now += 1000000; /* 1 ms */
	assert_int_equal(libvm__pmtimer_value(&t), 3579);
	fake_now = t.start_ns + 1000000000; /* 1 s */
	assert_int_equal(libvm__pmtimer_value(&t), 3579545 & 0xffffff);
}

static void test_wraps(void **state)
{
	struct libvm__pmtimer t24 = timer(0xffffff), t32 = timer(0xffffffff);

	/* 2^24 ticks take about 4.69 s; 10 s is past one wrap. */
	fake_now = t24.start_ns + 10ll * 1000000000;
	assert_int_equal(libvm__pmtimer_value(&t24), 35795450u & 0xffffff);
	assert_int_equal(libvm__pmtimer_value(&t32), 35795450u);
	/* A year of uptime must not overflow the arithmetic. */
	fake_now = t32.start_ns + 365ll * 86400 * 1000000000;
	assert_int_equal(libvm__pmtimer_value(&t32),
			 (uint32_t)(365ull * 86400 * 3579545));
}

static void test_register_access(void **state)
{
	struct libvm__pmtimer t = timer(0xffffff);
	uint32_t v = 0;
	uint8_t b = 0;

	fake_now += 1000000000;
	libvm__pmtimer_access(&t, 0, &v, 4, false);
	assert_int_equal(v, 3579545);
	libvm__pmtimer_access(&t, 2, &b, 1, false);
	assert_int_equal(b, (3579545 >> 16) & 0xff);
	v = 0;
	libvm__pmtimer_access(&t, 0, &v, 4, true); /* read-only */
	libvm__pmtimer_access(&t, 0, &v, 4, false);
	assert_int_equal(v, 3579545);
}

static void test_attach(void **state)
{
	libvm_vm *vm = devtest_vm();
	libvm_vcpu *vcpu = devtest_vcpu(vm);
	libvm_pmtimer_options o = LIBVM_PMTIMER_OPTIONS_INIT;
	libvm_pmtimer *t = NULL;
	uint32_t a, b;

	o.bits = 16;
	assert_int_equal(libvm_pmtimer_attach(&t, vm, &o), -EINVAL);
	assert_int_equal(libvm_pmtimer_attach(&t, vm, NULL), 0);
	a = devtest_in(vcpu, 0x608, 4);
	for (volatile int i = 0; i < 100000; i++)
		;
	b = devtest_in(vcpu, 0x608, 4);
	assert_true(a <= 0xffffff && b <= 0xffffff);
	assert_true(b != a); /* it counts (about 3.6 ticks per microsecond) */
	libvm_pmtimer_detach(t);
	devtest_vm_free(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts_at_acpi_rate),
		cmocka_unit_test(test_wraps),
		cmocka_unit_test(test_register_access),
		cmocka_unit_test(test_attach),
	};

	return cmocka_run_group_tests_name("pmtimer", tests, NULL, NULL);
}
