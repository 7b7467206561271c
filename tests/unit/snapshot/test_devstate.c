/* SPDX-License-Identifier: MIT */
/*
 * Saved state of the legacy built-in devices, through the public calls: a
 * device driven into a state in one VM, saved, loaded into the same device
 * of a second VM, behaves the same there (the guest reads the same
 * registers and data) and saves the same bytes; every malformed state is
 * refused with a message and changes nothing. Also the registry itself:
 * an embedder's own device plugged in with a name and a version.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../dev/devtest.h"
#include "dev/pmtimer.h"
#include "dev/rtc.h"
#include "dev/uart.h"
#include "state.h"
#include "statetest.h"

struct pair {
	libvm_vm *vm[2];
	libvm_vcpu *vcpu[2];
};

static void pair_new(struct pair *p)
{
	for (int i = 0; i < 2; i++) {
		p->vm[i] = devtest_vm();
		p->vcpu[i] = devtest_vcpu(p->vm[i]);
	}
}

static void pair_free(struct pair *p)
{
	for (int i = 0; i < 2; i++)
		devtest_vm_free(p->vm[i]); /* its vCPU goes with it */
}

/* Save @name in VM 0, load it in VM 1, and check VM 1 now saves the same. */
static uint8_t *move_state(struct pair *p, const char *name, size_t *len)
{
	uint8_t *s = st_save(p->vm[0], name, len);

	assert_int_equal(libvm_device_state_load(p->vm[1], name, s, *len, 1), 0);
	st_assert_state(p->vm[1], name, s, *len);
	return s;
}

static void test_uart(void **state)
{
	struct pair p;
	libvm_uart *u[2];
	uint8_t *s, bad;
	size_t len;

	(void)state;
	pair_new(&p);
	for (int i = 0; i < 2; i++)
		assert_int_equal(libvm_uart_attach(&u[i], p.vm[i], NULL), 0);
	/* VM 0: divisor, 7E1, FIFO on with trigger 8, interrupts, scratch,
	 * and three bytes waiting in the receive FIFO. */
	devtest_out(p.vcpu[0], 0x3fb, 0x80, 1);
	devtest_out(p.vcpu[0], 0x3f8, 0x0c, 1);
	devtest_out(p.vcpu[0], 0x3f9, 0x00, 1);
	devtest_out(p.vcpu[0], 0x3fb, 0x1a, 1);
	devtest_out(p.vcpu[0], 0x3fa, 0x81, 1);
	devtest_out(p.vcpu[0], 0x3f9, 0x05, 1);
	devtest_out(p.vcpu[0], 0x3fc, 0x0b, 1);
	devtest_out(p.vcpu[0], 0x3ff, 0x5a, 1);
	assert_int_equal(libvm_uart_input(u[0], "abc", 3), 3);
	s = move_state(&p, "uart@0x3f8", &len);
	/* VM 1 answers as VM 0 would, and the FIFO holds the same bytes. */
	for (uint16_t reg = 1; reg < 8; reg++)
		if (reg != 5 && reg != 2)
			assert_int_equal(devtest_in(p.vcpu[1], 0x3f8 + reg, 1),
					 devtest_in(p.vcpu[0], 0x3f8 + reg, 1));
	assert_int_equal(devtest_in(p.vcpu[1], 0x3fa, 1), 0xcc); /* FIFO on, timeout: 3 < 8 */
	assert_int_equal(devtest_in(p.vcpu[1], 0x3fd, 1) & 1, 1);
	assert_int_equal(devtest_in(p.vcpu[1], 0x3f8, 1), 'a');
	assert_int_equal(devtest_in(p.vcpu[1], 0x3f8, 1), 'b');
	assert_int_equal(devtest_in(p.vcpu[1], 0x3f8, 1), 'c');
	assert_int_equal(devtest_in(p.vcpu[1], 0x3fd, 1) & 1, 0);
	assert_int_equal(devtest_in(p.vcpu[1], 0x3fb, 1), 0x1a);
	/* Bad states: truncated, overlong, newer; out-of-range registers. */
	st_sweep_bad(p.vm[1], "uart@0x3f8", s, len, "uart");
	bad = s[0];
	s[0] = 0xff; /* IER bits 4-7 never read back as 1 */
	assert_int_equal(libvm_device_state_load(p.vm[1], "uart@0x3f8", s, len, 1), -EINVAL);
	assert_non_null(strstr(libvm_error_message(), "out of range"));
	s[0] = bad;
	s[10] = 17; /* 17 bytes in a 16-byte FIFO */
	assert_int_equal(libvm_device_state_load(p.vm[1], "uart@0x3f8", s, len, 1), -EINVAL);
	free(s);
	pair_free(&p);
}

/* The model drives its IRQ line to what the loaded registers say. */
static bool uart_line;
static void uart_set_irq(void *opaque, bool level)
{
	(void)opaque;
	uart_line = level;
}

static void test_uart_irq_follows_load(void **state)
{
	struct libvm__uart a = { 0 }, b = { .set_irq = uart_set_irq };
	struct libvm_state_writer w;
	uint8_t v;

	(void)state;
	libvm__uart_reset(&a);
	libvm__uart_reset(&b);
	v = 0x08; /* OUT2 */
	libvm__uart_access(&a, LIBVM__UART_MCR, &v, 1, true);
	v = 0x01; /* receive interrupt */
	libvm__uart_access(&a, LIBVM__UART_IER, &v, 1, true);
	libvm__uart_receive(&a, (const uint8_t *)"x", 1);
	assert_true(a.irq_level);
	libvm__enc_init(&w);
	libvm__uart_save(&a, &w);
	uart_line = false;
	assert_int_equal(libvm__uart_load(&b, w.buf, w.len, 1), 0);
	assert_true(uart_line);
	assert_true(b.irq_level);
	libvm__enc_fini(&w);
}

static int64_t fake_now;
static int64_t fake_clock(void *opaque)
{
	(void)opaque;
	return fake_now;
}

static uint8_t rtc_rd(struct libvm__rtc *r, uint8_t reg)
{
	uint8_t v = reg;

	libvm__rtc_access(r, 0, &v, 1, true);
	libvm__rtc_access(r, 1, &v, 1, false);
	return v;
}

static void rtc_wr(struct libvm__rtc *r, uint8_t reg, uint8_t val)
{
	libvm__rtc_access(r, 0, &reg, 1, true);
	libvm__rtc_access(r, 1, &val, 1, true);
}

static void test_rtc(void **state)
{
	struct libvm__rtc a = { .now_ns = fake_clock }, b = { .now_ns = fake_clock };
	struct libvm_state_writer w;
	struct pair p;
	libvm_rtc *r[2];
	libvm_rtc_options ro = LIBVM_RTC_OPTIONS_INIT;
	uint8_t *s;
	size_t len;

	(void)state;
	/* Model: the guest sets 2031-05-06 12:00:00; the state moves to a
	 * device whose host clock reads the same, then both run on. */
	fake_now = 1700000000ll * 1000000000;
	libvm__rtc_init(&a, 64 << 20, 0, 0);
	libvm__rtc_init(&b, 64 << 20, 0, 0);
	rtc_wr(&a, LIBVM__RTC_REG_B, 0x82);
	rtc_wr(&a, LIBVM__RTC_YEAR, 0x31);
	rtc_wr(&a, LIBVM__RTC_MONTH, 0x05);
	rtc_wr(&a, LIBVM__RTC_DAY, 0x06);
	rtc_wr(&a, LIBVM__RTC_HOURS, 0x12);
	rtc_wr(&a, LIBVM__RTC_MINUTES, 0x00);
	rtc_wr(&a, LIBVM__RTC_SECONDS, 0x00);
	rtc_wr(&a, LIBVM__RTC_REG_B, 0x02);
	rtc_wr(&a, 0x40, 0x77); /* NVRAM */
	libvm__enc_init(&w);
	libvm__rtc_save(&a, &w);
	assert_int_equal(libvm__rtc_load(&b, w.buf, w.len, 1), 0);
	fake_now += 61ll * 1000000000;
	assert_int_equal(rtc_rd(&b, LIBVM__RTC_YEAR), 0x31);
	assert_int_equal(rtc_rd(&b, LIBVM__RTC_HOURS), 0x12);
	assert_int_equal(rtc_rd(&b, LIBVM__RTC_MINUTES), 0x01);
	assert_int_equal(rtc_rd(&b, LIBVM__RTC_SECONDS), 0x01);
	assert_int_equal(rtc_rd(&b, 0x40), 0x77);
	/* A clock past what a guest could set is refused. */
	libvm__put64(w.buf + 1 + 1 + 128, (uint64_t)(200ll * 365 * 86400) * 1000000000ull);
	assert_int_equal(libvm__rtc_load(&b, w.buf, w.len, 1), -EINVAL);
	assert_int_equal(rtc_rd(&b, LIBVM__RTC_YEAR), 0x31);
	libvm__enc_fini(&w);

	/* Public: the same through two VMs on the host's clock. */
	pair_new(&p);
	ro.ram_size = 128 << 20;
	for (int i = 0; i < 2; i++)
		assert_int_equal(libvm_rtc_attach(&r[i], p.vm[i], &ro), 0);
	devtest_out(p.vcpu[0], 0x70, 0x45, 1);
	devtest_out(p.vcpu[0], 0x71, 0xab, 1);
	devtest_out(p.vcpu[0], 0x70, 0x8b, 1); /* index B, NMI masked */
	/* The guest's clock (bytes 130-137) runs between saves, and so does
	 * what the interrupt logic saw of it (147-164: register C's flags,
	 * the last second, the last periodic tick and whether it counts): at
	 * the default 1024 Hz a tick between two saves sets PF (seen failing
	 * in one meson run). */
	st_clock_off = 130;
	st_clock_len = 8;
	st_clock2_off = 147;
	st_clock2_len = 18;
	s = move_state(&p, "rtc@0x70", &len);
	devtest_out(p.vcpu[1], 0x70, 0x45, 1);
	assert_int_equal(devtest_in(p.vcpu[1], 0x71, 1), 0xab);
	st_sweep_bad(p.vm[1], "rtc@0x70", s, len, "rtc");
	st_clock_len = 0;
	st_clock2_len = 0;
	free(s);
	pair_free(&p);
}

static void test_fwcfg(void **state)
{
	libvm_fwcfg_options fo = LIBVM_FWCFG_OPTIONS_INIT;
	struct pair p;
	libvm_fwcfg *f[2], *other;
	libvm_vm *vm3;
	uint8_t *s;
	size_t len;

	(void)state;
	pair_new(&p);
	fo.nb_cpus = 2;
	fo.ram_size = 64 << 20;
	fo.cmdline = "console=ttyS0";
	for (int i = 0; i < 2; i++) {
		assert_int_equal(libvm_fwcfg_attach(&f[i], p.vm[i], &fo), 0);
		assert_int_equal(libvm_fwcfg_add_file(f[i], "etc/one", "0123456789", 10), 0);
		assert_int_equal(libvm_fwcfg_add_file(f[i], "etc/two", "abcdefghij", 10), 0);
	}
	/* VM 0: the guest selected file two and read four bytes of it. */
	devtest_out(p.vcpu[0], 0x510, 0x21, 2);
	for (int i = 0; i < 4; i++)
		assert_int_equal(devtest_in(p.vcpu[0], 0x511, 1), 'a' + i);
	s = move_state(&p, "fw_cfg@0x510", &len);
	assert_int_equal(devtest_in(p.vcpu[1], 0x511, 1), 'e');
	/* Half-way through the directory, which VM 1 has not built yet. */
	devtest_out(p.vcpu[0], 0x510, 0x19, 2);
	for (int i = 0; i < 6; i++)
		devtest_in(p.vcpu[0], 0x511, 1);
	free(s);
	s = move_state(&p, "fw_cfg@0x510", &len);
	assert_int_equal(devtest_in(p.vcpu[1], 0x511, 1), devtest_in(p.vcpu[0], 0x511, 1));
	assert_int_equal(devtest_in(p.vcpu[1], 0x511, 1), devtest_in(p.vcpu[0], 0x511, 1));
	st_sweep_bad(p.vm[1], "fw_cfg@0x510", s, len, "fw_cfg");
	/* A device with other contents refuses the state. */
	vm3 = devtest_vm();
	fo.nb_cpus = 4;
	assert_int_equal(libvm_fwcfg_attach(&other, vm3, &fo), 0);
	assert_int_equal(libvm_device_state_load(vm3, "fw_cfg@0x510", s, len, 1), -EINVAL);
	assert_non_null(strstr(libvm_error_message(), "other contents"));
	devtest_vm_free(vm3);
	free(s);
	pair_free(&p);
}

static void test_i8042(void **state)
{
	struct pair p;
	libvm_i8042 *k[2];
	uint8_t *s;
	size_t len;

	(void)state;
	pair_new(&p);
	for (int i = 0; i < 2; i++)
		assert_int_equal(libvm_i8042_attach(&k[i], p.vm[i], NULL), 0);
	/* Identify (3 bytes queued), then a half-sent LED command. */
	devtest_out(p.vcpu[0], 0x60, 0xf2, 1);
	assert_int_equal(devtest_in(p.vcpu[0], 0x60, 1), 0xfa);
	devtest_out(p.vcpu[0], 0x64, 0x60, 1); /* write CTR: data follows */
	s = move_state(&p, "i8042@0x60", &len);
	assert_int_equal(devtest_in(p.vcpu[1], 0x64, 1) & 1, 1);
	assert_int_equal(devtest_in(p.vcpu[1], 0x60, 1), 0xab);
	assert_int_equal(devtest_in(p.vcpu[1], 0x60, 1), 0x83);
	devtest_out(p.vcpu[1], 0x60, 0x45, 1); /* the CTR's data byte */
	devtest_out(p.vcpu[1], 0x64, 0x20, 1);
	assert_int_equal(devtest_in(p.vcpu[1], 0x60, 1), 0x45);
	st_sweep_bad(p.vm[1], "i8042@0x60", s, len, "i8042");
	s[5] = 7; /* scan code set 7 */
	assert_int_equal(libvm_device_state_load(p.vm[1], "i8042@0x60", s, len, 1), -EINVAL);
	free(s);
	pair_free(&p);
}

static void test_pmtimer(void **state)
{
	struct libvm__pmtimer a = { .mask = 0xffffff, .now_ns = fake_clock };
	struct libvm__pmtimer b = { .mask = 0xffffff, .now_ns = fake_clock };
	struct libvm__pmtimer c = { .mask = 0xffffffff, .now_ns = fake_clock };
	struct libvm_state_writer w;
	struct pair p;
	libvm_pmtimer *t[2];
	uint32_t before;
	uint8_t *s;
	size_t len;

	(void)state;
	/* The counter goes on from the saved value whatever b's clock says. */
	fake_now = 5000000000ll;
	a.start_ns = 1000000000ll;
	before = libvm__pmtimer_value(&a);
	assert_int_equal(before, (4ull * LIBVM__PMTIMER_HZ) & 0xffffff);
	libvm__enc_init(&w);
	libvm__pmtimer_save(&a, &w);
	fake_now = 123456789000ll;
	assert_int_equal(libvm__pmtimer_load(&b, w.buf, w.len, 1), 0);
	assert_int_equal(libvm__pmtimer_value(&b), before);
	fake_now += 1000000000ll;
	assert_int_equal(libvm__pmtimer_value(&b), (5ull * LIBVM__PMTIMER_HZ) & 0xffffff);
	/* A 32-bit timer refuses a 24-bit one's state. */
	assert_int_equal(libvm__pmtimer_load(&c, w.buf, w.len, 1), -EINVAL);
	assert_non_null(strstr(libvm_error_message(), "24 bits"));
	libvm__enc_fini(&w);

	pair_new(&p);
	for (int i = 0; i < 2; i++)
		assert_int_equal(libvm_pmtimer_attach(&t[i], p.vm[i], NULL), 0);
	s = st_save(p.vm[0], "pm-timer@0x608", &len);
	assert_int_equal(libvm_device_state_load(p.vm[1], "pm-timer@0x608", s, len, 1), 0);
	/* VM 1 goes on from VM 0's value at the save, so it lags VM 0 by the
	 * time between save and load (microseconds): within a second. */
	before = devtest_in(p.vcpu[0], 0x608, 4);
	assert_true(((before - devtest_in(p.vcpu[1], 0x608, 4) + LIBVM__PMTIMER_HZ) & 0xffffff) <
		    2 * LIBVM__PMTIMER_HZ);
	/* The first 8 bytes are the time it ran, which runs on. */
	st_sweep_bad_from(p.vm[1], "pm-timer@0x608", s, len, "pm-timer", 8);
	free(s);
	pair_free(&p);
}

static void test_acpipm(void **state)
{
	libvm_acpipm_options o = LIBVM_ACPIPM_OPTIONS_INIT;
	struct pair p;
	libvm_acpipm *pm[2], *other;
	libvm_vm *vm3;
	uint8_t *s;
	size_t len;

	(void)state;
	pair_new(&p);
	for (int i = 0; i < 2; i++)
		assert_int_equal(libvm_acpipm_attach(&pm[i], p.vm[i], NULL), 0);
	devtest_out(p.vcpu[0], 0x602, 0x0121, 2); /* PM1_EN */
	devtest_out(p.vcpu[0], 0x604, 0x0c00, 2); /* PM1_CNT: SLP_TYP 3, no SLP_EN */
	s = move_state(&p, "acpi-pm@0x600", &len);
	assert_int_equal(devtest_in(p.vcpu[1], 0x602, 2), 0x0121);
	assert_int_equal(devtest_in(p.vcpu[1], 0x604, 2), 0x0c01);
	st_sweep_bad(p.vm[1], "acpi-pm@0x600", s, len, "acpi-pm");
	vm3 = devtest_vm();
	o.s5_typ = 7;
	assert_int_equal(libvm_acpipm_attach(&other, vm3, &o), 0);
	assert_int_equal(libvm_device_state_load(vm3, "acpi-pm@0x600", s, len, 1), -EINVAL);
	assert_non_null(strstr(libvm_error_message(), "SLP_TYP 5"));
	devtest_vm_free(vm3);
	free(s);
	pair_free(&p);
}

static void test_testdev_and_port80(void **state)
{
	struct pair p;
	libvm_testdev *t[2];
	libvm_port80 *p80[2];
	uint64_t x = 0x1122334455667788ull, y = 0;
	uint8_t *s;
	size_t len;

	(void)state;
	pair_new(&p);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(libvm_testdev_attach(&t[i], p.vm[i], NULL), 0);
		assert_int_equal(libvm_port80_attach(&p80[i], p.vm[i], NULL), 0);
	}
	devtest_out(p.vcpu[0], 0xe0, 0xcafef00d, 4);
	devtest_out(p.vcpu[0], 0x2005, 1, 1); /* IRQ 5 high */
	devtest_io(p.vcpu[0], LIBVM_SPACE_MMIO, 0xff000100, &x, 8, true);
	devtest_out(p.vcpu[0], 0x80, 0x42, 1);
	s = move_state(&p, "pc-testdev@0xe0", &len);
	assert_int_equal(devtest_in(p.vcpu[1], 0xe0, 4), 0xcafef00d);
	devtest_io(p.vcpu[1], LIBVM_SPACE_MMIO, 0xff000100, &y, 8, false);
	assert_int_equal(y, x);
	assert_int_equal(libvm__le32(s + 4), 1u << 5); /* the IRQ levels */
	st_sweep_bad(p.vm[1], "pc-testdev@0xe0", s, len, "pc-testdev");
	free(s);
	assert_int_equal(libvm_port80_last(p80[1]), -ENOENT);
	s = move_state(&p, "port80@0x80", &len);
	assert_int_equal(libvm_port80_last(p80[1]), 0x42);
	st_sweep_bad(p.vm[1], "port80@0x80", s, len, "port80");
	free(s);
	pair_free(&p);
}

/* --- an embedder's device --------------------------------------------- */

struct counter {
	uint32_t value;
	uint32_t loaded_version;
};

static int counter_save(libvm_state_writer *w, void *opaque)
{
	struct counter *c = opaque;
	uint8_t b[4];

	libvm__put32(b, c->value);
	return libvm_state_write(w, b, sizeof(b));
}

static int counter_load(const void *data, size_t len, uint32_t version, void *opaque)
{
	struct counter *c = opaque;

	/* Version 1 was one byte wide; version 2 is four. */
	if (len != (version == 1 ? 1u : 4u))
		return -EINVAL;
	c->value = version == 1 ? *(const uint8_t *)data : libvm__le32(data);
	c->loaded_version = version;
	return 0;
}

static void test_embedder_device(void **state)
{
	libvm_vm *vm = devtest_vm();
	libvm_device_state_ops ops = LIBVM_DEVICE_STATE_OPS_INIT;
	struct counter c = { .value = 0x01020304 };
	libvm_uart *u;
	uint8_t buf[8], old = 9;
	size_t len = 2;
	uint32_t version;

	(void)state;
	ops.name = "my-counter";
	ops.version = 2;
	ops.min_version = 1;
	ops.save = counter_save;
	ops.load = counter_load;
	ops.opaque = &c;
	assert_int_equal(libvm_device_state_register(vm, &ops), 0);
	assert_int_equal(libvm_device_state_register(vm, &ops), -EEXIST);
	/* Too small a buffer says how much is needed. */
	assert_int_equal(libvm_device_state_save(vm, "my-counter", buf, &len, &version), -E2BIG);
	assert_int_equal(len, 4);
	assert_int_equal(libvm_device_state_save(vm, "my-counter", buf, &len, &version), 0);
	assert_int_equal(version, 2);
	c.value = 0;
	assert_int_equal(libvm_device_state_load(vm, "my-counter", buf, len, 2), 0);
	assert_int_equal(c.value, 0x01020304);
	/* An older layout it still reads, a newer one it cannot. */
	assert_int_equal(libvm_device_state_load(vm, "my-counter", &old, 1, 1), 0);
	assert_int_equal(c.value, 9);
	assert_int_equal(c.loaded_version, 1);
	assert_int_equal(libvm_device_state_load(vm, "my-counter", buf, len, 3), -ENOTSUP);
	assert_non_null(strstr(libvm_error_message(), "'my-counter'"));
	/* The callback's refusal becomes the load's error, named. */
	assert_int_equal(libvm_device_state_load(vm, "my-counter", buf, 3, 2), -EINVAL);
	assert_non_null(strstr(libvm_error_message(), "my-counter"));
	assert_int_equal(libvm_device_state_load(vm, "nobody", buf, len, 1), -ENOENT);

	/* Bad registrations. */
	ops.name = "has space";
	assert_int_equal(libvm_device_state_register(vm, &ops), -EINVAL);
	ops.name = "";
	assert_int_equal(libvm_device_state_register(vm, &ops), -EINVAL);
	ops.name = "x";
	ops.version = 0;
	assert_int_equal(libvm_device_state_register(vm, &ops), -EINVAL);
	ops.version = 1;
	ops.min_version = 2;
	assert_int_equal(libvm_device_state_register(vm, &ops), -EINVAL);
	ops.min_version = 0;
	ops.load = NULL;
	assert_int_equal(libvm_device_state_register(vm, &ops), -EINVAL);
	ops.load = counter_load;
	ops.size = 3;
	assert_int_equal(libvm_device_state_register(vm, &ops), -EINVAL);
	assert_int_equal(libvm_device_state_register(NULL, &ops), -EINVAL);

	/* A built-in device's name is taken, and not the embedder's to drop. */
	assert_int_equal(libvm_uart_attach(&u, vm, NULL), 0);
	ops.size = sizeof(ops);
	ops.name = "uart@0x3f8";
	assert_int_equal(libvm_device_state_register(vm, &ops), -EEXIST);
	assert_int_equal(libvm_device_state_unregister(vm, "uart@0x3f8"), -EINVAL);
	/* Detaching the device drops its entry; unregistering drops ours. */
	libvm_uart_detach(u);
	len = sizeof(buf);
	assert_int_equal(libvm_device_state_save(vm, "uart@0x3f8", buf, &len, NULL), -ENOENT);
	assert_int_equal(libvm_device_state_unregister(vm, "my-counter"), 0);
	assert_int_equal(libvm_device_state_unregister(vm, "my-counter"), -ENOENT);
	devtest_vm_free(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uart),
		cmocka_unit_test(test_uart_irq_follows_load),
		cmocka_unit_test(test_rtc),
		cmocka_unit_test(test_fwcfg),
		cmocka_unit_test(test_i8042),
		cmocka_unit_test(test_pmtimer),
		cmocka_unit_test(test_acpipm),
		cmocka_unit_test(test_testdev_and_port80),
		cmocka_unit_test(test_embedder_device),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
