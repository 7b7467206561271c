/* SPDX-License-Identifier: MIT */
/*
 * CMOS RTC / NVRAM model (Motorola MC146818A register set): plain state
 * and pure functions, no KVM. The wall clock is a hook so tests can set
 * the time by hand.
 */
#ifndef LIBVM_DEV_RTC_H
#define LIBVM_DEV_RTC_H

#include <stdbool.h>
#include <stdint.h>

#define LIBVM__RTC_SECONDS 0x00
#define LIBVM__RTC_MINUTES 0x02
#define LIBVM__RTC_HOURS 0x04
#define LIBVM__RTC_WEEKDAY 0x06
#define LIBVM__RTC_DAY 0x07
#define LIBVM__RTC_MONTH 0x08
#define LIBVM__RTC_YEAR 0x09
#define LIBVM__RTC_REG_A 0x0a
#define LIBVM__RTC_REG_B 0x0b
#define LIBVM__RTC_REG_C 0x0c
#define LIBVM__RTC_REG_D 0x0d
#define LIBVM__RTC_CENTURY 0x32 /* IBM's location, what QEMU and Linux use */

#define LIBVM__RTC_A_UIP 0x80
#define LIBVM__RTC_B_SET 0x80
#define LIBVM__RTC_B_UIE 0x10
#define LIBVM__RTC_B_DM_BINARY 0x04
#define LIBVM__RTC_B_24H 0x02
#define LIBVM__RTC_D_VRT 0x80

/* UIP is high for this long before each second ticks: 244 us of warning
 * plus the 1984 us update cycle (data sheet, "Update Cycle"). */
#define LIBVM__RTC_UIP_NS 2228000

struct libvm__rtc {
	uint8_t index;       /* selected register (port 0x70 bits 0-6) */
	bool nmi_masked;     /* port 0x70 bit 7: recorded, no effect */
	uint8_t cmos[128];   /* NVRAM; the clock registers are computed */
	int64_t offset_ns;   /* guest clock = now_ns() + offset_ns */
	bool frozen;         /* register B SET: the clock is held ... */
	int64_t frozen_s;    /* ... at this guest time (seconds) */
	int64_t (*now_ns)(void *opaque); /* host wall clock, UTC */
	void *opaque;
};

/*
 * Power-on state: time = host UTC + @offset_s, BCD, 24-hour mode, and the
 * memory-size bytes for @ram_size bytes of RAM of which @ram_below_4g lie
 * below 4 GiB. Keeps the clock hook, which must be set.
 */
void libvm__rtc_init(struct libvm__rtc *r, uint64_t ram_size, uint64_t ram_below_4g,
		     int64_t offset_s);

/* The guest clock now, in whole seconds since the epoch. */
int64_t libvm__rtc_guest_time(const struct libvm__rtc *r);

/*
 * A guest access: @offset 0 is the index port (0x70, write-only; reads
 * give 0xff), 1 the data port (0x71). Wider accesses are split into
 * bytes. Returns 0.
 */
int libvm__rtc_access(struct libvm__rtc *r, uint32_t offset, void *data, uint32_t len,
		      bool is_write);

#endif
