/* SPDX-License-Identifier: MIT */
/*
 * Error strings, the thread-local detail message, and the version.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"

static void test_strerror(void **state)
{
	assert_string_equal(libvm_strerror(0), "success");
	assert_string_equal(libvm_strerror(-EINVAL), "invalid argument");
	assert_string_equal(libvm_strerror(-EEXIST), "already exists or overlaps");
	assert_string_equal(libvm_strerror(-EFAULT), "address outside guest memory");
	assert_string_equal(libvm_strerror(-ENOTSUP), "not supported by this backend");
	assert_string_equal(libvm_strerror(-ENOEXEC), "not an image of this format");
	/* Never NULL, whatever the input. */
	assert_non_null(libvm_strerror(-9999));
	assert_non_null(libvm_strerror(12345));
	assert_string_equal(libvm_strerror(12345), "unknown error code");
}

static void *other_thread(void *arg)
{
	/* A fresh thread has no message, whatever this one had. */
	*(int *)arg = strcmp(libvm_error_message(), "");
	libvm__fail(-EINVAL, "set by the other thread");
	return NULL;
}

static void test_message_is_thread_local(void **state)
{
	pthread_t t;
	int differs = -1;

	assert_int_equal(libvm__fail(-EEXIST, "region %s overlaps", "x"), -EEXIST);
	assert_string_equal(libvm_error_message(), "region x overlaps");
	assert_int_equal(pthread_create(&t, NULL, other_thread, &differs), 0);
	pthread_join(t, NULL);
	assert_int_equal(differs, 0);
	assert_string_equal(libvm_error_message(), "region x overlaps");
}

static void test_long_message_truncated(void **state)
{
	char big[1000];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	libvm__fail(-EINVAL, "%s", big);
	assert_true(strlen(libvm_error_message()) < 1000);
	assert_true(strlen(libvm_error_message()) > 100);
}

static void test_version(void **state)
{
	assert_string_equal(libvm_version(), LIBVM_VERSION_STRING);
	assert_int_equal(libvm_version_number(), LIBVM_VERSION_NUMBER);
	assert_int_equal(LIBVM_VERSION_NUMBER, LIBVM_VERSION_ENCODE(0, 1, 0));
	assert_string_equal(LIBVM_VERSION_STRING, "0.1.0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strerror),
		cmocka_unit_test(test_message_is_thread_local),
		cmocka_unit_test(test_long_message_truncated),
		cmocka_unit_test(test_version),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
