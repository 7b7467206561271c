/* SPDX-License-Identifier: MIT */
/*
 * MP table as a guest finds it: the "_MP_" floating pointer in
 * 0xf0000-0xfffff, both checksums, one processor entry per CPU (CPU 0 the
 * BSP), the ISA bus, the IOAPIC, and the ISA IRQ routing (IRQ0 on pin 2).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "../load/testmem.h"

#define RAM (2ull << 20)

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

static void test_mptable_contents(void **state)
{
	struct testmem *t = tm_new(RAM, 0);
	libvm_mptable_options o = LIBVM_MPTABLE_OPTIONS_INIT;
	uint64_t mpf = 0, cfg, a;
	unsigned cpus = 0, buses = 0, ioapics = 0, ioints = 0, lints = 0, entries;
	int irq0_pin = -1, extint_pin = -1;

	o.nr_cpus = 3;
	assert_int_equal(libvm__mptable_build(&mpf, &t->gm, &o), 0);
	assert_int_equal(mpf, 0xf0000);
	assert_memory_equal(t->buf + mpf, "_MP_", 4);
	assert_int_equal(t->buf[mpf + 8], 1);
	assert_int_equal(t->buf[mpf + 9], 4);
	assert_int_equal(sum(t->buf + mpf, 16), 0);
	cfg = tm_le32(t, mpf + 4);
	assert_memory_equal(t->buf + cfg, "PCMP", 4);
	assert_int_equal(sum(t->buf + cfg, libvm__le16(t->buf + cfg + 4)), 0);
	assert_int_equal(tm_le32(t, cfg + 36), 0xfee00000);
	entries = libvm__le16(t->buf + cfg + 34);
	a = cfg + 44;
	for (unsigned i = 0; i < entries; i++) {
		const uint8_t *e = t->buf + a;

		switch (e[0]) {
		case 0:
			assert_int_equal(e[1], cpus);
			assert_int_equal(e[3], cpus == 0 ? 3 : 1);
			cpus++;
			a += 20;
			continue;
		case 1:
			assert_memory_equal(e + 2, "ISA   ", 6);
			buses++;
			break;
		case 2:
			assert_int_equal(e[1], 3); /* default id: after the CPUs */
			assert_int_equal(libvm__le32(e + 4), 0xfec00000);
			ioapics++;
			break;
		case 3:
			if (e[1] == 3)
				extint_pin = e[7];
			else if (e[5] == 0)
				irq0_pin = e[7];
			else
				assert_int_equal(e[5], e[7]);
			assert_int_equal(e[6], 3);
			ioints++;
			break;
		case 4:
			lints++;
			break;
		default:
			fail_msg("unexpected MP entry type %u", e[0]);
		}
		a += 8;
	}
	assert_int_equal(a - cfg, libvm__le16(t->buf + cfg + 4));
	assert_int_equal(cpus, 3);
	assert_int_equal(buses, 1);
	assert_int_equal(ioapics, 1);
	assert_int_equal(ioints, 16);
	assert_int_equal(lints, 2);
	assert_int_equal(irq0_pin, 2);
	assert_int_equal(extint_pin, 0);
	assert_true(tm_fill_between(t, 0, 0xf0000));
	assert_true(tm_fill_between(t, a, RAM));
	tm_free(t);
}

static void test_mptable_rejects(void **state)
{
	struct testmem *t = tm_new(RAM, 0);
	libvm_mptable_options o = LIBVM_MPTABLE_OPTIONS_INIT;

	o.nr_cpus = 255;
	assert_int_equal(libvm__mptable_build(NULL, &t->gm, &o), -EINVAL);
	o.nr_cpus = 2;
	o.ioapic_id = 255;
	assert_int_equal(libvm__mptable_build(NULL, &t->gm, &o), -EINVAL);
	o.ioapic_id = 0;
	o.gpa = 0xf0004;
	assert_int_equal(libvm__mptable_build(NULL, &t->gm, &o), -EINVAL);
	o.gpa = RAM - 0x20;
	assert_int_equal(libvm__mptable_build(NULL, &t->gm, &o), -EFAULT);
	assert_true(tm_untouched(t));
	assert_int_equal(libvm_mptable_build(NULL, NULL, NULL), -EINVAL);
	tm_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mptable_contents),
		cmocka_unit_test(test_mptable_rejects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
