/* SPDX-License-Identifier: MIT */
/*
 * CMOS RTC: the time in BCD/binary and 12/24-hour forms, setting it, UIP
 * around the second boundary, and the memory-size bytes, on a hand-set
 * clock.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "dev/rtc.h"
#include "devtest.h"

#define NSEC 1000000000ll

static int64_t fake_now;
static struct libvm__rtc rtc;

static int64_t fake_clock(void *opaque)
{
	return fake_now;
}

/* 2026-11-24 (a Tuesday) 23:59:58.5 UTC. */
static int64_t base_time(void)
{
	struct tm tm = { .tm_year = 126, .tm_mon = 10, .tm_mday = 24, .tm_hour = 23,
			 .tm_min = 59, .tm_sec = 58 };

	return (int64_t)timegm(&tm) * NSEC + NSEC / 2;
}

static int setup(void **state)
{
	memset(&rtc, 0, sizeof(rtc));
	rtc.now_ns = fake_clock;
	fake_now = base_time();
	libvm__rtc_init(&rtc, 128ull << 20, 0, 0);
	return 0;
}

static uint8_t rd(uint8_t reg)
{
	uint8_t v = 0;

	libvm__rtc_access(&rtc, 0, &reg, 1, true);
	libvm__rtc_access(&rtc, 1, &v, 1, false);
	return v;
}

static void wr(uint8_t reg, uint8_t v)
{
	libvm__rtc_access(&rtc, 0, &reg, 1, true);
	libvm__rtc_access(&rtc, 1, &v, 1, true);
}

static void test_bcd_24h(void **state)
{
	assert_int_equal(rd(LIBVM__RTC_SECONDS), 0x58);
	assert_int_equal(rd(LIBVM__RTC_MINUTES), 0x59);
	assert_int_equal(rd(LIBVM__RTC_HOURS), 0x23);
	assert_int_equal(rd(LIBVM__RTC_WEEKDAY), 3); /* Tuesday; Sunday = 1 */
	assert_int_equal(rd(LIBVM__RTC_DAY), 0x24);
	assert_int_equal(rd(LIBVM__RTC_MONTH), 0x11);
	assert_int_equal(rd(LIBVM__RTC_YEAR), 0x26);
	assert_int_equal(rd(LIBVM__RTC_CENTURY), 0x20);
	assert_int_equal(rd(LIBVM__RTC_REG_A), 0x26);
	assert_int_equal(rd(LIBVM__RTC_REG_B), 0x02);
	assert_int_equal(rd(LIBVM__RTC_REG_C), 0x00);
	assert_int_equal(rd(LIBVM__RTC_REG_D), 0x80);
}

static void test_binary_and_12h(void **state)
{
	wr(LIBVM__RTC_REG_B, LIBVM__RTC_B_DM_BINARY | LIBVM__RTC_B_24H);
	assert_int_equal(rd(LIBVM__RTC_SECONDS), 58);
	assert_int_equal(rd(LIBVM__RTC_HOURS), 23);
	assert_int_equal(rd(LIBVM__RTC_YEAR), 26);
	wr(LIBVM__RTC_REG_B, 0); /* BCD, 12-hour */
	assert_int_equal(rd(LIBVM__RTC_HOURS), 0x91); /* 11 PM */
	fake_now += 2 * NSEC; /* midnight: the date rolls over */
	assert_int_equal(rd(LIBVM__RTC_HOURS), 0x12); /* 12 AM */
	assert_int_equal(rd(LIBVM__RTC_SECONDS), 0x00);
	assert_int_equal(rd(LIBVM__RTC_DAY), 0x25);
	assert_int_equal(rd(LIBVM__RTC_WEEKDAY), 4);
}

static void test_time_runs(void **state)
{
	fake_now += 61 * NSEC;
	assert_int_equal(rd(LIBVM__RTC_SECONDS), 0x59);
	assert_int_equal(rd(LIBVM__RTC_MINUTES), 0x00);
	assert_int_equal(rd(LIBVM__RTC_HOURS), 0x00);
}

static void test_uip_before_tick(void **state)
{
	int64_t second = base_time() - NSEC / 2;

	fake_now = second + NSEC / 2;
	assert_false(rd(LIBVM__RTC_REG_A) & LIBVM__RTC_A_UIP);
	fake_now = second + NSEC - LIBVM__RTC_UIP_NS - 1;
	assert_false(rd(LIBVM__RTC_REG_A) & LIBVM__RTC_A_UIP);
	fake_now = second + NSEC - LIBVM__RTC_UIP_NS;
	assert_true(rd(LIBVM__RTC_REG_A) & LIBVM__RTC_A_UIP);
	assert_int_equal(rd(LIBVM__RTC_SECONDS), 0x58); /* old value until the tick */
	fake_now = second + NSEC;
	assert_false(rd(LIBVM__RTC_REG_A) & LIBVM__RTC_A_UIP);
	assert_int_equal(rd(LIBVM__RTC_SECONDS), 0x59); /* UIP fell: new second */
	/* A guest waiting for UIP to rise then fall finds both within a
	 * second of polling. */
	int rises = 0;
	bool prev = false;
	for (int64_t t = 0; t < NSEC; t += 20000) {
		bool now_uip;

		fake_now = second + t;
		now_uip = rd(LIBVM__RTC_REG_A) & LIBVM__RTC_A_UIP;
		rises += now_uip && !prev;
		prev = now_uip;
	}
	assert_int_equal(rises, 1);
	/* Stopped divider or SET: no updates, no UIP. */
	fake_now = second + NSEC - 1000;
	wr(LIBVM__RTC_REG_A, 0x70);
	assert_false(rd(LIBVM__RTC_REG_A) & LIBVM__RTC_A_UIP);
	wr(LIBVM__RTC_REG_A, 0x26);
	wr(LIBVM__RTC_REG_B, LIBVM__RTC_B_SET | LIBVM__RTC_B_24H);
	assert_false(rd(LIBVM__RTC_REG_A) & LIBVM__RTC_A_UIP);
}

static void test_set_time_with_set_bit(void **state)
{
	/* Linux's mc146818_set_time: SET, write the fields, release. */
	wr(LIBVM__RTC_REG_B, LIBVM__RTC_B_SET | LIBVM__RTC_B_UIE | LIBVM__RTC_B_24H);
	assert_int_equal(rd(LIBVM__RTC_REG_B) & LIBVM__RTC_B_UIE, 0); /* SET clears UIE */
	wr(LIBVM__RTC_SECONDS, 0x30);
	wr(LIBVM__RTC_MINUTES, 0x15);
	wr(LIBVM__RTC_HOURS, 0x08);
	wr(LIBVM__RTC_DAY, 0x01);
	wr(LIBVM__RTC_MONTH, 0x02);
	wr(LIBVM__RTC_YEAR, 0x99);
	wr(LIBVM__RTC_CENTURY, 0x19);
	fake_now += 10 * NSEC; /* held while SET */
	assert_int_equal(rd(LIBVM__RTC_SECONDS), 0x30);
	assert_int_equal(rd(LIBVM__RTC_YEAR), 0x99);
	wr(LIBVM__RTC_REG_B, LIBVM__RTC_B_24H);
	fake_now += 5 * NSEC;
	assert_int_equal(rd(LIBVM__RTC_SECONDS), 0x35);
	assert_int_equal(rd(LIBVM__RTC_MINUTES), 0x15);
	assert_int_equal(rd(LIBVM__RTC_HOURS), 0x08);
	assert_int_equal(rd(LIBVM__RTC_DAY), 0x01);
	assert_int_equal(rd(LIBVM__RTC_MONTH), 0x02);
	assert_int_equal(rd(LIBVM__RTC_CENTURY), 0x19);
	assert_int_equal(rd(LIBVM__RTC_WEEKDAY), 2); /* 1999-02-01 was a Monday */
}

static void test_set_time_running(void **state)
{
	wr(LIBVM__RTC_REG_B, LIBVM__RTC_B_DM_BINARY); /* binary, 12-hour */
	wr(LIBVM__RTC_HOURS, 0x80 | 7); /* 7 PM */
	assert_int_equal(rd(LIBVM__RTC_HOURS), 0x80 | 7);
	wr(LIBVM__RTC_REG_B, LIBVM__RTC_B_DM_BINARY | LIBVM__RTC_B_24H);
	assert_int_equal(rd(LIBVM__RTC_HOURS), 19);
	assert_int_equal(rd(LIBVM__RTC_MINUTES), 59); /* the rest untouched */
	assert_int_equal(rd(LIBVM__RTC_DAY), 24);
	/* The host clock is not touched: a fresh RTC reads host time. */
	struct libvm__rtc other = { .now_ns = fake_clock };
	libvm__rtc_init(&other, 0, 0, 0);
	assert_int_equal(libvm__rtc_guest_time(&other), base_time() / NSEC);
}

/* A guest can write any year up to 9999; the clock is clamped to 100
 * years from the host's time rather than overflowing (UBSan would catch
 * the signed overflow in the sanitizer build). */
static void test_set_time_far_future_is_clamped(void **state)
{
	int64_t limit = 100ll * 365 * 86400;

	wr(LIBVM__RTC_CENTURY, 0x99); /* BCD, running clock */
	assert_int_equal(libvm__rtc_guest_time(&rtc), base_time() / NSEC + limit);
	/* The same with SET held, binary mode, century 0xff, then released. */
	wr(LIBVM__RTC_REG_B, LIBVM__RTC_B_SET | LIBVM__RTC_B_DM_BINARY | LIBVM__RTC_B_24H);
	wr(LIBVM__RTC_CENTURY, 0xff);
	wr(LIBVM__RTC_REG_B, LIBVM__RTC_B_DM_BINARY | LIBVM__RTC_B_24H);
	assert_true(libvm__rtc_guest_time(&rtc) <= base_time() / NSEC + limit);
	/* And the far past. */
	wr(LIBVM__RTC_CENTURY, 0x00);
	assert_true(libvm__rtc_guest_time(&rtc) >= base_time() / NSEC - limit);
}

static void test_offset_option(void **state)
{
	libvm__rtc_init(&rtc, 0, 0, 3600);
	assert_int_equal(rd(LIBVM__RTC_HOURS), 0x00);
	assert_int_equal(rd(LIBVM__RTC_DAY), 0x25);
}

static void test_memory_bytes(void **state)
{
	/* 128 MiB: 640 KiB base, extended capped at 65535 KiB, 112 MiB above
	 * 16 MiB = 0x700 units of 64 KiB, nothing above 4 GiB. */
	assert_int_equal(rd(0x15) | rd(0x16) << 8, 640);
	assert_int_equal(rd(0x17) | rd(0x18) << 8, 0xffff);
	assert_int_equal(rd(0x30) | rd(0x31) << 8, 0xffff);
	assert_int_equal(rd(0x34) | rd(0x35) << 8, 0x700);
	assert_int_equal(rd(0x5b) | rd(0x5c) << 8 | rd(0x5d) << 16, 0);

	libvm__rtc_init(&rtc, 6ull << 30, 0, 0); /* 3 GiB below, 3 above */
	assert_int_equal(rd(0x34) | rd(0x35) << 8, 0xbf00);
	assert_int_equal(rd(0x5b) | rd(0x5c) << 8 | rd(0x5d) << 16, 0xc000);

	libvm__rtc_init(&rtc, 8ull << 20, 0, 0);
	assert_int_equal(rd(0x17) | rd(0x18) << 8, 7 * 1024);
	assert_int_equal(rd(0x34) | rd(0x35) << 8, 0);

	libvm__rtc_init(&rtc, 512 * 1024, 0, 0);
	assert_int_equal(rd(0x15) | rd(0x16) << 8, 512);
	assert_int_equal(rd(0x17) | rd(0x18) << 8, 0);

	libvm__rtc_init(&rtc, 5ull << 30, 2ull << 30, 0);
	assert_int_equal(rd(0x34) | rd(0x35) << 8, 0x7f00);
	assert_int_equal(rd(0x5b) | rd(0x5c) << 8 | rd(0x5d) << 16, 0xc000);
}

static void test_nvram_and_index(void **state)
{
	uint8_t v = 0;

	wr(0x40, 0xa5);
	assert_int_equal(rd(0x40), 0xa5);
	/* Bit 7 of the index is the NMI mask, not part of the index. */
	wr(0x80 | 0x41, 0x5a);
	assert_int_equal(rd(0x41), 0x5a);
	assert_true(rtc.nmi_masked == false); /* the last index write cleared it */
	libvm__rtc_access(&rtc, 0, &v, 1, false);
	assert_int_equal(v, 0xff);
	/* C and D are read-only; A's UIP cannot be written. */
	wr(LIBVM__RTC_REG_D, 0);
	assert_int_equal(rd(LIBVM__RTC_REG_D), 0x80);
	wr(LIBVM__RTC_REG_A, 0xa6);
	assert_int_equal(rtc.cmos[LIBVM__RTC_REG_A], 0x26);
}

static void test_through_bus(void **state)
{
	libvm_vm *vm = devtest_vm();
	libvm_vcpu *vcpu = devtest_vcpu(vm);
	libvm_rtc_options o = LIBVM_RTC_OPTIONS_INIT;
	libvm_rtc *r = NULL;
	time_t now = time(NULL);
	struct tm tm;
	uint32_t sec;

	o.ram_size = 64ull << 20;
	o.ram_below_4g = 128ull << 20;
	assert_int_equal(libvm_rtc_attach(&r, vm, &o), -EINVAL);
	o.ram_below_4g = 0;
	assert_int_equal(libvm_rtc_attach(&r, vm, &o), 0);
	devtest_out(vcpu, 0x70, 0x0b, 1);
	devtest_out(vcpu, 0x71, 0x06, 1); /* binary, 24h */
	devtest_out(vcpu, 0x70, 0x09, 1);
	gmtime_r(&now, &tm);
	assert_int_equal(devtest_in(vcpu, 0x71, 1), tm.tm_year % 100);
	devtest_out(vcpu, 0x70, 0x00, 1);
	sec = devtest_in(vcpu, 0x71, 1);
	assert_true(sec < 60);
	devtest_out(vcpu, 0x70, 0x34, 1);
	assert_int_equal(devtest_in(vcpu, 0x71, 1), 0x00); /* 48 MiB = 0x300 */
	devtest_out(vcpu, 0x70, 0x35, 1);
	assert_int_equal(devtest_in(vcpu, 0x71, 1), 0x03);
	libvm_rtc_detach(r);
	devtest_vm_free(vm);
}

/*
 * libvm_rtc_alarm_pending(): 1 while an alarm interrupt the guest enabled
 * has fired and register C is unread (alarm bytes all "don't care": one
 * each second), 0 once the guest read C or without AIE.
 */
static void test_alarm_pending(void **state)
{
	libvm_vm *vm = devtest_vm();
	libvm_vcpu *vcpu = devtest_vcpu(vm);
	libvm_rtc *r = NULL;
	struct timespec ts = { .tv_sec = 1, .tv_nsec = 100000000 };

	(void)state;
	assert_int_equal(libvm_rtc_alarm_pending(NULL), -EINVAL);
	assert_int_equal(libvm_rtc_attach(&r, vm, NULL), 0);
	assert_int_equal(libvm_rtc_alarm_pending(r), 0);
	for (uint8_t reg = 1; reg <= 5; reg += 2) {
		devtest_out(vcpu, 0x70, reg, 1);
		devtest_out(vcpu, 0x71, 0xff, 1);
	}
	devtest_out(vcpu, 0x70, 0x0b, 1);
	devtest_out(vcpu, 0x71, 0x22, 1); /* AIE, 24 h */
	devtest_out(vcpu, 0x70, 0x0c, 1);
	devtest_in(vcpu, 0x71, 1);
	nanosleep(&ts, NULL);              /* a second boundary: the alarm */
	assert_int_equal(libvm_rtc_alarm_pending(r), 1);
	assert_int_equal(devtest_in(vcpu, 0x71, 1) & 0xa0, 0xa0); /* C: IRQF | AF */
	assert_int_equal(libvm_rtc_alarm_pending(r), 0);
	devtest_out(vcpu, 0x70, 0x0b, 1);
	devtest_out(vcpu, 0x71, 0x02, 1); /* AIE off: AF alone is no wake */
	nanosleep(&ts, NULL);
	assert_int_equal(libvm_rtc_alarm_pending(r), 0);
	libvm_rtc_detach(r);
	assert_int_equal(libvm_rtc_alarm_pending(r), -EBADF);
	devtest_vm_free(vm);
}

/* Register C: UF each second, AF at the alarm ("don't care" bytes), PF at
 * the periodic rate; IRQF only with the enable; reading C clears it; the
 * next event is planned only for enabled interrupts and while the line is
 * down. */
static void test_interrupt_flags(void **state)
{
	int64_t t0 = fake_now;

	(void)state;
	fake_now = (fake_now / 1000000000ll) * 1000000000ll + 100000000; /* .1 s into a second */
	rtc.last_second = fake_now / 1000000000ll;
	wr(0x0a, 0x20); /* no periodic rate */
	rd(0x0c);
	assert_int_equal(libvm__rtc_next_event(&rtc), INT64_MAX); /* nothing enabled */
	fake_now += 1000000000ll;
	assert_int_equal(rd(0x0c), 0x10);      /* UF, no IRQF */
	assert_int_equal(rd(0x0c), 0x00);      /* cleared by the read */
	wr(0x0b, 0x12);                        /* UIE, 24 h */
	assert_true(libvm__rtc_next_event(&rtc) > fake_now);
	fake_now += 1000000000ll;
	assert_true(libvm__rtc_update(&rtc));
	assert_int_equal(libvm__rtc_next_event(&rtc), INT64_MAX); /* line is up */
	/* (the alarm registers are 0: midnight, just crossed, sets AF too) */
	assert_int_equal(rd(0x0c) & 0xd0, 0x90);
	assert_false(libvm__rtc_update(&rtc));
	/* Alarm: seconds = now + 2, minutes and hours "don't care". */
	wr(0x0b, 0x22);                        /* AIE */
	{
		uint8_t s = rd(0x00);
		unsigned int v = (s >> 4) * 10 + (s & 0xf);

		wr(0x01, (uint8_t)(((v + 2) % 60 / 10) << 4 | (v + 2) % 60 % 10));
	}
	wr(0x03, 0xc0);
	wr(0x05, 0xff);
	rd(0x0c);
	fake_now += 1000000000ll;
	assert_false(libvm__rtc_update(&rtc));
	fake_now += 1000000000ll;
	assert_true(libvm__rtc_update(&rtc));
	assert_int_equal(rd(0x0c) & 0xb0, 0xb0); /* IRQF AF UF */
	/* Periodic: rate 0xf = 2 Hz. */
	wr(0x0b, 0x42);
	wr(0x0a, 0x2f);
	rd(0x0c);
	assert_true(libvm__rtc_next_event(&rtc) <= fake_now + 500000000ll);
	fake_now += 500000000ll;
	assert_true(libvm__rtc_update(&rtc));
	assert_int_equal(rd(0x0c) & 0xc0, 0xc0);
	/* SET holds the clock: no update cycles, so no UF. */
	wr(0x0b, 0x82);
	rd(0x0c);
	fake_now += 3000000000ll;
	assert_int_equal(rd(0x0c) & 0x10, 0);
	wr(0x0b, 0x02);
	fake_now = t0;
}

/*
 * The guest sets its clock back an hour (SET held, as Linux's
 * mc146818_set_time does, and then without SET): the update-ended,
 * alarm and periodic interrupts go on at once, not only after the clock
 * has caught up with the time it showed before.
 */
static void test_interrupts_after_clock_set_back(void **state)
{
	(void)state;
	fake_now = (fake_now / NSEC) * NSEC + NSEC / 10; /* .1 s into a second */
	wr(LIBVM__RTC_REG_B, LIBVM__RTC_B_24H | LIBVM__RTC_B_UIE);
	rd(LIBVM__RTC_REG_C);
	fake_now += NSEC;
	assert_true(libvm__rtc_update(&rtc)); /* UF while the clock ran on */
	rd(LIBVM__RTC_REG_C);

	/* 23:59:59 -> 22:59:59 under SET, released, one second later. */
	wr(LIBVM__RTC_REG_B, LIBVM__RTC_B_SET | LIBVM__RTC_B_24H);
	wr(LIBVM__RTC_HOURS, 0x22);
	wr(LIBVM__RTC_REG_B, LIBVM__RTC_B_24H | LIBVM__RTC_B_UIE);
	rd(LIBVM__RTC_REG_C);
	assert_int_equal(rd(LIBVM__RTC_HOURS), 0x22);
	fake_now += NSEC;
	assert_true(libvm__rtc_update(&rtc));
	assert_int_equal(rd(LIBVM__RTC_REG_C) & 0x90, 0x90); /* IRQF | UF */
	assert_true(libvm__rtc_next_event(&rtc) <= fake_now + NSEC);

	/* Back another hour without SET: the alarm two seconds ahead fires. */
	wr(LIBVM__RTC_HOURS, 0x21);
	{
		uint8_t sec = rd(LIBVM__RTC_SECONDS);
		unsigned int v = (sec >> 4) * 10 + (sec & 0xf);

		wr(LIBVM__RTC_SECONDS_ALARM, (uint8_t)(((v + 2) % 60 / 10) << 4 | (v + 2) % 60 % 10));
	}
	wr(LIBVM__RTC_MINUTES_ALARM, 0xc0);
	wr(LIBVM__RTC_HOURS_ALARM, 0xc0);
	wr(LIBVM__RTC_REG_B, LIBVM__RTC_B_24H | LIBVM__RTC_B_AIE);
	rd(LIBVM__RTC_REG_C);
	fake_now += 2 * NSEC;
	assert_true(libvm__rtc_update(&rtc));
	assert_int_equal(rd(LIBVM__RTC_REG_C) & 0xa0, 0xa0); /* IRQF | AF */

	/* Periodic at 2 Hz, then the clock set back again. */
	wr(LIBVM__RTC_REG_A, 0x2f);
	wr(LIBVM__RTC_REG_B, LIBVM__RTC_B_24H | LIBVM__RTC_B_PIE);
	rd(LIBVM__RTC_REG_C);
	wr(LIBVM__RTC_HOURS, 0x20);
	rd(LIBVM__RTC_REG_C);
	fake_now += NSEC / 2;
	assert_true(libvm__rtc_update(&rtc));
	assert_int_equal(rd(LIBVM__RTC_REG_C) & 0xc0, 0xc0); /* IRQF | PF */
	wr(LIBVM__RTC_REG_A, 0x26);
	wr(LIBVM__RTC_REG_B, LIBVM__RTC_B_24H);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_bcd_24h, setup),
		cmocka_unit_test_setup(test_interrupt_flags, setup),
		cmocka_unit_test_setup(test_interrupts_after_clock_set_back, setup),
		cmocka_unit_test_setup(test_binary_and_12h, setup),
		cmocka_unit_test_setup(test_time_runs, setup),
		cmocka_unit_test_setup(test_uip_before_tick, setup),
		cmocka_unit_test_setup(test_set_time_with_set_bit, setup),
		cmocka_unit_test_setup(test_set_time_running, setup),
		cmocka_unit_test_setup(test_set_time_far_future_is_clamped, setup),
		cmocka_unit_test_setup(test_offset_option, setup),
		cmocka_unit_test_setup(test_memory_bytes, setup),
		cmocka_unit_test_setup(test_nvram_and_index, setup),
		cmocka_unit_test(test_through_bus),
		cmocka_unit_test(test_alarm_pending),
	};

	return cmocka_run_group_tests_name("rtc", tests, NULL, NULL);
}
