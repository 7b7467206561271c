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
#define LIBVM__RTC_SECONDS_ALARM 0x01
#define LIBVM__RTC_MINUTES 0x02
#define LIBVM__RTC_MINUTES_ALARM 0x03
#define LIBVM__RTC_HOURS 0x04
#define LIBVM__RTC_HOURS_ALARM 0x05
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
#define LIBVM__RTC_B_PIE 0x40
#define LIBVM__RTC_B_AIE 0x20
#define LIBVM__RTC_B_UIE 0x10
#define LIBVM__RTC_B_DM_BINARY 0x04
#define LIBVM__RTC_B_24H 0x02
#define LIBVM__RTC_D_VRT 0x80
/* Register C: the interrupt flags, each set whatever the enables say;
 * IRQF when a flag meets its enable bit in B (same bit positions). */
#define LIBVM__RTC_C_IRQF 0x80
#define LIBVM__RTC_C_PF 0x40
#define LIBVM__RTC_C_AF 0x20
#define LIBVM__RTC_C_UF 0x10

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
	uint8_t reg_c;       /* interrupt flags (read and cleared by the guest) */
	int64_t last_second; /* the last guest second the update cycle saw */
	int64_t last_period; /* the last periodic tick seen (guest ns / period) */
	bool period_valid;   /* last_period belongs to the current rate */
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
 * Bring the interrupt flags up to now: UF at each second boundary (while
 * the clock runs), AF when that second matches the alarm registers (an
 * alarm byte with bits 7-6 set matches any value), PF at each periodic
 * tick of register A's rate. Returns the IRQ line: IRQF.
 */
bool libvm__rtc_update(struct libvm__rtc *r);

/*
 * When (host clock, now_ns() nanoseconds) the next flag whose interrupt is
 * enabled will be set, or INT64_MAX when none will or the line is already
 * up (nothing changes it until register C is read).
 */
int64_t libvm__rtc_next_event(const struct libvm__rtc *r);

/*
 * A guest access: @offset 0 is the index port (0x70, write-only; reads
 * give 0xff), 1 the data port (0x71). Wider accesses are split into
 * bytes. Returns 0.
 */
int libvm__rtc_access(struct libvm__rtc *r, uint32_t offset, void *data, uint32_t len,
		      bool is_write);

#endif
