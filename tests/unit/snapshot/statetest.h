/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the saved-state tests: save a device through the public
 * call, and the sweep every device gets over its own saved bytes (each
 * truncation, a byte too many, a newer version) with the check that a
 * refused load changed nothing.
 */
#ifndef STATETEST_H
#define STATETEST_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libvm/snapshot.h>

/* The state of @name in @vm, malloc'ed; *len its size. */
static inline uint8_t *st_save(libvm_vm *vm, const char *name, size_t *len)
{
	uint32_t version = 0;
	uint8_t *buf;

	int err;

	/* A device that is not paused (virtio-net's receive thread) may grow
	 * its state between the size query and the save: -E2BIG then gives
	 * the new size, and the save is asked again, as the API documents
	 * (seen once in ten runs of test_net's wait for a pending frame). */
	*len = 0;
	assert_int_equal(libvm_device_state_save(vm, name, NULL, len, NULL), 0);
	for (int tries = 0;; tries++) {
		buf = malloc(*len ? *len : 1);
		assert_non_null(buf);
		err = libvm_device_state_save(vm, name, buf, len, &version);
		if (err != -E2BIG || tries == 10)
			break;
		free(buf);
	}
	assert_int_equal(err, 0);
	assert_int_equal(version, 1);
	return buf;
}

/* Bytes of a state that a running clock changes between two saves: left
 * out of the comparisons (set by a test, 0 = none; two ranges). */
static size_t st_clock_off, st_clock_len, st_clock2_off, st_clock2_len;

/* @vm's @name saves exactly @want (@len bytes), from byte @from on (a
 * state that starts with a running clock compares the rest). */
static inline void st_assert_state_from(libvm_vm *vm, const char *name, const uint8_t *want,
					size_t len, size_t from)
{
	size_t n;
	uint8_t *got = st_save(vm, name, &n);

	assert_int_equal(n, len);
	if (st_clock_len && st_clock_off + st_clock_len <= len) {
		uint8_t *w = malloc(len);

		memcpy(w, want, len);
		memcpy(w + st_clock_off, got + st_clock_off, st_clock_len);
		if (st_clock2_len && st_clock2_off + st_clock2_len <= len)
			memcpy(w + st_clock2_off, got + st_clock2_off, st_clock2_len);
		assert_memory_equal(got + from, w + from, len - from);
		free(w);
	} else {
		assert_memory_equal(got + from, want + from, len - from);
	}
	free(got);
}

static inline void st_assert_state(libvm_vm *vm, const char *name, const uint8_t *want,
				   size_t len)
{
	st_assert_state_from(vm, name, want, len, 0);
}

/*
 * Prefixes of @state, and @state with a byte more, is refused with
 * -EINVAL and a message naming the device, and @vm's @name is unchanged;
 * a newer version is refused with -ENOTSUP.
 */
static inline void st_sweep_bad_from(libvm_vm *vm, const char *name, const uint8_t *state,
				     size_t len, const char *msg_part, size_t from)
{
	size_t before_len;
	uint8_t *before = st_save(vm, name, &before_len);
	uint8_t *longer = malloc(len + 1);

	/* Every prefix of small states; past 512 bytes (a window's contents)
	 * every 61st, and the last few. */
	for (size_t n = 0; n < len; n += n < 512 || n + 8 >= len ? 1 : 61) {
		assert_int_equal(libvm_device_state_load(vm, name, state, n, 1), -EINVAL);
		assert_non_null(strstr(libvm_error_message(), msg_part));
		st_assert_state_from(vm, name, before, before_len, from);
	}
	memcpy(longer, state, len);
	longer[len] = 0;
	assert_int_equal(libvm_device_state_load(vm, name, longer, len + 1, 1), -EINVAL);
	st_assert_state_from(vm, name, before, before_len, from);
	assert_int_equal(libvm_device_state_load(vm, name, state, len, 2), -ENOTSUP);
	assert_non_null(strstr(libvm_error_message(), "newer"));
	assert_int_equal(libvm_device_state_load(vm, name, state, len, 0), -ENOTSUP);
	st_assert_state_from(vm, name, before, before_len, from);
	free(longer);
	free(before);
}

static inline void st_sweep_bad(libvm_vm *vm, const char *name, const uint8_t *state, size_t len,
				const char *msg_part)
{
	st_sweep_bad_from(vm, name, state, len, msg_part, 0);
}

#endif
