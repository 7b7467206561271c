/* SPDX-License-Identifier: MIT */
/*
 * ACPI PM timer model: plain state and pure functions, no KVM. The clock
 * is a hook so tests can drive time by hand.
 */
#ifndef LIBVM_DEV_PMTIMER_H
#define LIBVM_DEV_PMTIMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LIBVM__PMTIMER_HZ 3579545u /* ACPI spec, section 4.8.3.3 "PM Timer" */

struct libvm__pmtimer {
	uint32_t mask;     /* 0xffffff (24-bit) or 0xffffffff (32-bit) */
	int64_t start_ns;  /* clock value at which the counter reads 0 */
	int64_t (*now_ns)(void *opaque); /* monotonic clock */
	void *opaque;
};

/* The counter now: ticks of 3.579545 MHz since start_ns, wrapped. */
uint32_t libvm__pmtimer_value(const struct libvm__pmtimer *t);

/*
 * A guest access at @offset (0..3) of the 4-byte TMR_VAL register: reads
 * return the counter's bytes (a 4-byte read at 0 is the usual one); writes
 * are ignored (the register is read-only). Returns 0.
 */
int libvm__pmtimer_access(struct libvm__pmtimer *t, uint32_t offset, void *data, uint32_t len,
			  bool is_write);

/*
 * Saved state (docs/snapshot.md, "pm-timer" version 1): the time the
 * counter has run and its width. A load makes the counter go on from the
 * saved value (a paused guest must not see it jump or go back) and refuses
 * a width other than this device's.
 */
#define LIBVM__PMTIMER_STATE_VERSION 1
struct libvm_state_writer;
void libvm__pmtimer_save(const struct libvm__pmtimer *t, struct libvm_state_writer *w);
int libvm__pmtimer_load(struct libvm__pmtimer *t, const void *data, size_t len, uint32_t version);

#endif
