/* SPDX-License-Identifier: MIT */
/*
 * The sorted range map behind memory regions and device buses: overlap
 * rules at every edge, lookups, removal, and a randomized comparison with
 * a brute-force model.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "rangemap.h"

static void test_insert_and_find(void **state)
{
	struct libvm__rangemap m = { 0 };
	int a, b;

	assert_int_equal(libvm__rangemap_insert(&m, 0x1000, 0x1000, &a, NULL), 0);
	assert_int_equal(libvm__rangemap_insert(&m, 0x3000, 0x100, &b, NULL), 0);
	assert_null(libvm__rangemap_find(&m, 0xfff));
	assert_ptr_equal(libvm__rangemap_find(&m, 0x1000)->item, &a);
	assert_ptr_equal(libvm__rangemap_find(&m, 0x1fff)->item, &a);
	assert_null(libvm__rangemap_find(&m, 0x2000));
	assert_ptr_equal(libvm__rangemap_find(&m, 0x30ff)->item, &b);
	assert_null(libvm__rangemap_find(&m, 0x3100));
	libvm__rangemap_free(&m);
}

static void test_overlap_rules(void **state)
{
	struct libvm__rangemap m = { 0 };
	const struct libvm__range *c = NULL;
	int a;

	assert_int_equal(libvm__rangemap_insert(&m, 0x1000, 0x1000, &a, NULL), 0);
	/* Touching on either side is fine. */
	assert_int_equal(libvm__rangemap_insert(&m, 0x0, 0x1000, NULL, NULL), 0);
	assert_int_equal(libvm__rangemap_insert(&m, 0x2000, 0x1000, NULL, NULL), 0);
	/* Overlapping by one byte on the left, right, inside, around. */
	assert_int_equal(libvm__rangemap_insert(&m, 0x2fff, 0x2, NULL, &c), -EEXIST);
	assert_int_equal(c->base, 0x2000);
	assert_int_equal(libvm__rangemap_insert(&m, 0xfff, 0x2, NULL, &c), -EEXIST);
	assert_int_equal(libvm__rangemap_insert(&m, 0x1800, 0x10, NULL, &c), -EEXIST);
	assert_ptr_equal(c->item, &a);
	assert_int_equal(libvm__rangemap_insert(&m, 0x0, 0x10000, NULL, &c), -EEXIST);
	assert_int_equal(m.n, 3);
	libvm__rangemap_free(&m);
}

static void test_bad_ranges(void **state)
{
	struct libvm__rangemap m = { 0 };

	assert_int_equal(libvm__rangemap_insert(&m, 0x1000, 0, NULL, NULL), -EINVAL);
	assert_int_equal(libvm__rangemap_insert(&m, UINT64_MAX, 2, NULL, NULL), -EINVAL);
	/* A range ending exactly at the top of the space is valid. */
	assert_int_equal(libvm__rangemap_insert(&m, UINT64_MAX, 1, NULL, NULL), 0);
	assert_non_null(libvm__rangemap_find(&m, UINT64_MAX));
	assert_int_equal(libvm__rangemap_insert(&m, 0, UINT64_MAX, NULL, NULL), 0);
	assert_int_equal(m.n, 2);
	libvm__rangemap_free(&m);
}

static void test_remove(void **state)
{
	struct libvm__rangemap m = { 0 };
	int a, b;

	assert_int_equal(libvm__rangemap_insert(&m, 0x10, 0x10, &a, NULL), 0);
	assert_int_equal(libvm__rangemap_insert(&m, 0x30, 0x10, &b, NULL), 0);
	assert_null(libvm__rangemap_remove(&m, 0x11)); /* must start exactly */
	assert_null(libvm__rangemap_remove(&m, 0x0));
	assert_ptr_equal(libvm__rangemap_remove(&m, 0x10), &a);
	assert_null(libvm__rangemap_find(&m, 0x10));
	assert_ptr_equal(libvm__rangemap_find(&m, 0x35)->item, &b);
	/* The freed space can be taken again. */
	assert_int_equal(libvm__rangemap_insert(&m, 0x0, 0x30, &a, NULL), 0);
	libvm__rangemap_free(&m);
}

/* Random small ranges in a 1 KiB space checked against a byte array. */
static void test_randomized_against_model(void **state)
{
	struct libvm__rangemap m = { 0 };
	int owner[1024];
	int ids[400];

	srand(1234);
	for (int i = 0; i < 1024; i++)
		owner[i] = -1;
	for (int i = 0; i < 400; i++) {
		uint64_t base = (uint64_t)(rand() % 1024), len = (uint64_t)(rand() % 16 + 1);
		bool free_space = base + len <= 1024;
		int r;

		ids[i] = i;
		for (uint64_t x = base; free_space && x < base + len; x++)
			free_space = owner[x] < 0;
		if (base + len > 1024)
			continue;
		r = libvm__rangemap_insert(&m, base, len, &ids[i], NULL);
		assert_int_equal(r, free_space ? 0 : -EEXIST);
		if (!r)
			for (uint64_t x = base; x < base + len; x++)
				owner[x] = i;
	}
	for (int x = 0; x < 1024; x++) {
		const struct libvm__range *e = libvm__rangemap_find(&m, (uint64_t)x);

		if (owner[x] < 0)
			assert_null(e);
		else
			assert_int_equal(*(int *)e->item, owner[x]);
	}
	libvm__rangemap_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_insert_and_find),
		cmocka_unit_test(test_overlap_rules),
		cmocka_unit_test(test_bad_ranges),
		cmocka_unit_test(test_remove),
		cmocka_unit_test(test_randomized_against_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
