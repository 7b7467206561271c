/* SPDX-License-Identifier: MIT */
/*
 * CMOS real-time clock and NVRAM at ports 0x70/0x71 (MC146818A). The
 * clock is not ticked: every read derives the registers from the host's
 * clock plus the guest's offset, in BCD or binary and 12- or 24-hour form
 * as register B asks, so it needs no timer and never drifts. Setting the
 * clock (with SET held, as Linux does, or not) only moves the offset.
 * UIP follows the data sheet's timing relative to the second boundary, so
 * guests that wait for an update edge find one. Register C's flags follow
 * the data sheet: update-ended at each second, alarm when the time matches
 * the alarm registers ("don't care" bytes 0xc0-0xff), periodic at register
 * A's rate, each set whatever register B enables; IRQF (and IRQ 8) when a
 * flag meets its enable, until the guest reads C. A thread per RTC sleeps
 * until the next enabled event, so nothing ticks while no interrupt is on.
 *
 * The memory-size bytes are the IBM PC/AT CMOS layout as SeaBIOS and QEMU
 * fill it: 0x15/0x16 base memory in KiB, 0x17/0x18 and 0x30/0x31 memory
 * above 1 MiB in KiB (capped at 65535), 0x34/0x35 memory above 16 MiB in
 * 64 KiB units, 0x5b-0x5d memory above 4 GiB in 64 KiB units.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "rtc.h"

#define NSEC 1000000000ll

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b < 0);
}

static int64_t guest_ns(const struct libvm__rtc *r)
{
	return r->now_ns(r->opaque) + r->offset_ns;
}

int64_t libvm__rtc_guest_time(const struct libvm__rtc *r)
{
	return r->frozen ? r->frozen_s : floor_div(guest_ns(r), NSEC);
}

void libvm__rtc_init(struct libvm__rtc *r, uint64_t ram_size, uint64_t ram_below_4g,
		     int64_t offset_s)
{
	int64_t (*now_ns)(void *) = r->now_ns;
	void *opaque = r->opaque;
	uint64_t base, ext, above16, above4g;

	memset(r, 0, sizeof(*r));
	r->now_ns = now_ns;
	r->opaque = opaque;
	r->offset_ns = offset_s * NSEC;
	r->cmos[LIBVM__RTC_REG_A] = 0x26; /* 32.768 kHz time base, 1024 Hz rate */
	r->cmos[LIBVM__RTC_REG_B] = LIBVM__RTC_B_24H;
	r->last_second = floor_div(guest_ns(r), NSEC);

	if (!ram_below_4g)
		ram_below_4g = ram_size < (3ull << 30) ? ram_size : 3ull << 30;
	base = (ram_below_4g < 640 * 1024 ? ram_below_4g : 640 * 1024) / 1024;
	ext = ram_below_4g > (1u << 20) ? (ram_below_4g - (1u << 20)) / 1024 : 0;
	above16 = ram_below_4g > (16u << 20) ? (ram_below_4g - (16u << 20)) / 65536 : 0;
	above4g = (ram_size > ram_below_4g ? ram_size - ram_below_4g : 0) / 65536;
	if (ext > 0xffff)
		ext = 0xffff;
	if (above16 > 0xffff)
		above16 = 0xffff;
	if (above4g > 0xffffff)
		above4g = 0xffffff;
	libvm__put16(&r->cmos[0x15], (uint16_t)base);
	libvm__put16(&r->cmos[0x17], (uint16_t)ext);
	libvm__put16(&r->cmos[0x30], (uint16_t)ext);
	libvm__put16(&r->cmos[0x34], (uint16_t)above16);
	r->cmos[0x5b] = (uint8_t)above4g;
	r->cmos[0x5c] = (uint8_t)(above4g >> 8);
	r->cmos[0x5d] = (uint8_t)(above4g >> 16);
}

static bool binary(const struct libvm__rtc *r)
{
	return r->cmos[LIBVM__RTC_REG_B] & LIBVM__RTC_B_DM_BINARY;
}

static uint8_t encode(const struct libvm__rtc *r, int v)
{
	return binary(r) ? (uint8_t)v : (uint8_t)((v / 10) << 4 | v % 10);
}

static int decode(const struct libvm__rtc *r, uint8_t v)
{
	return binary(r) ? v : (v >> 4) * 10 + (v & 0x0f);
}

static bool uip(const struct libvm__rtc *r)
{
	int64_t phase;

	/* No updates happen while SET is held or the divider is not running
	 * the 32.768 kHz time base (DV2-0 = 010). */
	if (r->frozen || ((r->cmos[LIBVM__RTC_REG_A] >> 4) & 7) != 2)
		return false;
	phase = guest_ns(r) - floor_div(guest_ns(r), NSEC) * NSEC;
	return phase >= NSEC - LIBVM__RTC_UIP_NS;
}

/* A clock register's value at guest second @secs, in the current format. */
static uint8_t time_reg(const struct libvm__rtc *r, uint8_t reg, int64_t secs)
{
	time_t t = (time_t)secs;
	struct tm tm;
	int h;

	gmtime_r(&t, &tm);
	switch (reg) {
	case LIBVM__RTC_SECONDS:
		return encode(r, tm.tm_sec);
	case LIBVM__RTC_MINUTES:
		return encode(r, tm.tm_min);
	case LIBVM__RTC_HOURS:
		if (r->cmos[LIBVM__RTC_REG_B] & LIBVM__RTC_B_24H)
			return encode(r, tm.tm_hour);
		h = tm.tm_hour % 12 ? tm.tm_hour % 12 : 12;
		return (uint8_t)(encode(r, h) | (tm.tm_hour >= 12 ? 0x80 : 0));
	case LIBVM__RTC_WEEKDAY:
		return encode(r, tm.tm_wday + 1); /* Sunday is 1 */
	case LIBVM__RTC_DAY:
		return encode(r, tm.tm_mday);
	case LIBVM__RTC_MONTH:
		return encode(r, tm.tm_mon + 1);
	case LIBVM__RTC_YEAR:
		return encode(r, (tm.tm_year + 1900) % 100);
	case LIBVM__RTC_CENTURY:
		return encode(r, (tm.tm_year + 1900) / 100);
	default:
		return 0;
	}
}

static bool running(const struct libvm__rtc *r)
{
	return !r->frozen && ((r->cmos[LIBVM__RTC_REG_A] >> 4) & 7) == 2;
}

/* Register A's periodic rate (RS3-0) in guest ns, or 0 for none: 32.768
 * kHz divided down; rates 1 and 2 are 256 and 128 Hz (data sheet). */
static int64_t period_ns(const struct libvm__rtc *r)
{
	unsigned int rs = r->cmos[LIBVM__RTC_REG_A] & 0x0f;

	if (!rs)
		return 0;
	if (rs < 3)
		rs += 7;
	return (NSEC << (rs - 1)) / 32768;
}

static bool alarm_byte_matches(uint8_t alarm, uint8_t now)
{
	return (alarm & 0xc0) == 0xc0 || alarm == now;
}

static bool alarm_matches(const struct libvm__rtc *r, int64_t secs)
{
	return alarm_byte_matches(r->cmos[LIBVM__RTC_SECONDS_ALARM],
				  time_reg(r, LIBVM__RTC_SECONDS, secs)) &&
	       alarm_byte_matches(r->cmos[LIBVM__RTC_MINUTES_ALARM],
				  time_reg(r, LIBVM__RTC_MINUTES, secs)) &&
	       alarm_byte_matches(r->cmos[LIBVM__RTC_HOURS_ALARM],
				  time_reg(r, LIBVM__RTC_HOURS, secs));
}

bool libvm__rtc_update(struct libvm__rtc *r)
{
	int64_t now = guest_ns(r), secs = floor_div(now, NSEC), p = period_ns(r);

	if (!running(r)) {
		r->last_second = secs; /* no update cycles while held */
	} else if (secs > r->last_second) {
		r->reg_c |= LIBVM__RTC_C_UF;
		/* Each second since the last look, at most a day of them. */
		for (int64_t s = secs - r->last_second > 86400 ? secs - 86400 : r->last_second + 1;
		     s <= secs; s++) {
			if (alarm_matches(r, s)) {
				r->reg_c |= LIBVM__RTC_C_AF;
				break;
			}
		}
		r->last_second = secs;
	}
	if (p) {
		int64_t k = floor_div(now, p);

		if (r->period_valid && k > r->last_period)
			r->reg_c |= LIBVM__RTC_C_PF;
		r->last_period = k;
		r->period_valid = true;
	}
	if (r->reg_c & r->cmos[LIBVM__RTC_REG_B] & 0x70)
		r->reg_c |= LIBVM__RTC_C_IRQF;
	return r->reg_c & LIBVM__RTC_C_IRQF;
}

int64_t libvm__rtc_next_event(const struct libvm__rtc *r)
{
	uint8_t b = r->cmos[LIBVM__RTC_REG_B];
	int64_t now = guest_ns(r), next = INT64_MAX, p = period_ns(r);

	if (r->reg_c & LIBVM__RTC_C_IRQF)
		return INT64_MAX;
	if ((b & LIBVM__RTC_B_PIE) && p)
		next = (floor_div(now, p) + 1) * p;
	if ((b & (LIBVM__RTC_B_UIE | LIBVM__RTC_B_AIE)) && running(r)) {
		int64_t s = (floor_div(now, NSEC) + 1) * NSEC;

		if (s < next)
			next = s;
	}
	return next == INT64_MAX ? next : next - r->offset_ns;
}

static uint8_t read_reg(struct libvm__rtc *r, uint8_t reg)
{
	switch (reg) {
	case LIBVM__RTC_SECONDS:
	case LIBVM__RTC_MINUTES:
	case LIBVM__RTC_HOURS:
	case LIBVM__RTC_WEEKDAY:
	case LIBVM__RTC_DAY:
	case LIBVM__RTC_MONTH:
	case LIBVM__RTC_YEAR:
	case LIBVM__RTC_CENTURY:
		return time_reg(r, reg, libvm__rtc_guest_time(r));
	case LIBVM__RTC_REG_A:
		return (uint8_t)((r->cmos[LIBVM__RTC_REG_A] & 0x7f) | (uip(r) ? LIBVM__RTC_A_UIP : 0));
	case LIBVM__RTC_REG_C: {
		uint8_t c = r->reg_c;

		r->reg_c = 0; /* reading clears the flags and IRQF */
		return c;
	}
	case LIBVM__RTC_REG_D:
		return LIBVM__RTC_D_VRT; /* battery good */
	default:
		return r->cmos[reg];
	}
}

/* Move the clock to @tm (from a guest write), keeping the sub-second
 * phase so UIP keeps its rhythm. */
/*
 * How far from the host's time a guest may set the clock: the same 100
 * years the attach options allow. The clock is kept in int64 nanoseconds
 * (+-292 years), and a guest can write any year up to 9999 (century 0x99).
 */
#define GUEST_SET_LIMIT_S (100ll * 365 * 86400)

/*
 * The guest moved its clock: the update cycle and the periodic rate go on
 * from the new time. Without this, a clock set back would raise no
 * update-ended, alarm or periodic flag until it had caught up with the
 * time it showed before (an hour's silence after a time-zone change).
 */
static void clock_moved(struct libvm__rtc *r)
{
	r->last_second = floor_div(guest_ns(r), NSEC);
	r->period_valid = false;
}

static void set_time(struct libvm__rtc *r, struct tm *tm, int64_t old_s)
{
	int64_t now_s = floor_div(r->now_ns(r->opaque), NSEC);
	int64_t new_s = (int64_t)timegm(tm);

	if (new_s > now_s + GUEST_SET_LIMIT_S)
		new_s = now_s + GUEST_SET_LIMIT_S;
	else if (new_s < now_s - GUEST_SET_LIMIT_S)
		new_s = now_s - GUEST_SET_LIMIT_S;

	if (r->frozen) {
		r->frozen_s = new_s; /* clock_moved() when SET is released */
	} else {
		r->offset_ns += (new_s - old_s) * NSEC;
		clock_moved(r);
	}
}

static void write_time(struct libvm__rtc *r, uint8_t reg, uint8_t v)
{
	int64_t old_s = libvm__rtc_guest_time(r);
	time_t t = (time_t)old_s;
	struct tm tm;
	int h;

	gmtime_r(&t, &tm);
	switch (reg) {
	case LIBVM__RTC_SECONDS:
		tm.tm_sec = decode(r, v);
		break;
	case LIBVM__RTC_MINUTES:
		tm.tm_min = decode(r, v);
		break;
	case LIBVM__RTC_HOURS:
		if (r->cmos[LIBVM__RTC_REG_B] & LIBVM__RTC_B_24H) {
			tm.tm_hour = decode(r, v);
		} else {
			h = decode(r, v & 0x7f) % 12;
			tm.tm_hour = h + (v & 0x80 ? 12 : 0);
		}
		break;
	case LIBVM__RTC_DAY:
		tm.tm_mday = decode(r, v);
		break;
	case LIBVM__RTC_MONTH:
		tm.tm_mon = decode(r, v) - 1;
		break;
	case LIBVM__RTC_YEAR:
		tm.tm_year = (tm.tm_year + 1900) / 100 * 100 + decode(r, v) - 1900;
		break;
	case LIBVM__RTC_CENTURY:
		tm.tm_year = decode(r, v) * 100 + (tm.tm_year + 1900) % 100 - 1900;
		break;
	default:
		return;
	}
	tm.tm_isdst = 0;
	set_time(r, &tm, old_s);
}

static void write_reg(struct libvm__rtc *r, uint8_t reg, uint8_t v)
{
	switch (reg) {
	case LIBVM__RTC_SECONDS:
	case LIBVM__RTC_MINUTES:
	case LIBVM__RTC_HOURS:
	case LIBVM__RTC_DAY:
	case LIBVM__RTC_MONTH:
	case LIBVM__RTC_YEAR:
	case LIBVM__RTC_CENTURY:
		write_time(r, reg, v);
		break;
	case LIBVM__RTC_WEEKDAY:
		break; /* derived from the date */
	case LIBVM__RTC_REG_A:
		if ((v & 0x0f) != (r->cmos[reg] & 0x0f))
			r->period_valid = false; /* a new rate counts from now */
		r->cmos[reg] = v & 0x7f; /* UIP is read-only */
		break;
	case LIBVM__RTC_REG_B:
		if ((v & LIBVM__RTC_B_SET) && !r->frozen) {
			/* SET holds the clock so the guest can write a
			 * consistent time; it also clears UIE (data sheet). */
			r->frozen_s = libvm__rtc_guest_time(r);
			r->frozen = true;
			v &= (uint8_t)~LIBVM__RTC_B_UIE;
		} else if (!(v & LIBVM__RTC_B_SET) && r->frozen) {
			/* Released: the time runs on from what was written,
			 * a full second to the next tick. */
			r->offset_ns = r->frozen_s * NSEC - r->now_ns(r->opaque);
			r->frozen = false;
			clock_moved(r);
		}
		r->cmos[reg] = v;
		break;
	case LIBVM__RTC_REG_C:
	case LIBVM__RTC_REG_D:
		break; /* read-only */
	default:
		r->cmos[reg] = v;
		break;
	}
}

int libvm__rtc_access(struct libvm__rtc *r, uint32_t offset, void *data, uint32_t len,
		      bool is_write)
{
	uint8_t *b = data;

	/* The flags as of this moment, before the guest looks or changes. */
	libvm__rtc_update(r);
	for (uint32_t i = 0; i < len && offset + i < 2; i++) {
		if (offset + i == 0) {
			if (is_write) {
				r->index = b[i] & 0x7f;
				r->nmi_masked = b[i] & 0x80;
			} else {
				b[i] = 0xff; /* the index register is write-only */
			}
		} else if (is_write) {
			write_reg(r, r->index, b[i]);
		} else {
			b[i] = read_reg(r, r->index);
		}
	}
	/* An enable turned on over a pending flag raises IRQF at once. */
	libvm__rtc_update(r);
	return 0;
}

struct libvm_rtc {
	uint32_t magic;
	libvm_vm *vm;
	pthread_mutex_t lock;
	pthread_cond_t cond;    /* the timer thread's wake-up: state changed */
	pthread_t thread;
	bool thread_started;
	bool stop;
	int irq;                /* GSI, or -1 */
	int wake_fd;            /* written when an alarm interrupt fires, or -1 */
	bool line;              /* the IRQ line as last driven */
	struct libvm__devrange range;
	struct libvm__rtc st;
};

/* Drive the line from the model (lock held); an alarm interrupt that rises
 * is also written to wake_fd, so that a suspended machine can wake. */
static void sync_line(libvm_rtc *r, bool level)
{
	if (level == r->line)
		return;
	r->line = level;
	libvm__dev_irq(r->vm, r->irq, level);
	if (level && r->wake_fd >= 0 && (r->st.reg_c & r->st.cmos[LIBVM__RTC_REG_B] &
					  LIBVM__RTC_C_AF)) {
		uint64_t one = 1;

		if (write(r->wake_fd, &one, sizeof(one)) < 0)
			libvm__log(r->vm, LIBVM_LOG_WARN, "rtc: wake_fd: %s", strerror(errno));
	}
}

/* Sleeps until the next enabled event, raises IRQ 8 for it. */
static void *rtc_thread(void *arg)
{
	libvm_rtc *r = arg;

	pthread_mutex_lock(&r->lock);
	while (!r->stop) {
		int64_t next;

		sync_line(r, libvm__rtc_update(&r->st));
		next = libvm__rtc_next_event(&r->st);
		if (next == INT64_MAX) {
			pthread_cond_wait(&r->cond, &r->lock);
		} else {
			struct timespec ts = { .tv_sec = (time_t)(next / NSEC),
					       .tv_nsec = (long)(next % NSEC) };

			pthread_cond_timedwait(&r->cond, &r->lock, &ts);
		}
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

static int64_t realtime_ns(void *opaque)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * NSEC + ts.tv_nsec;
}

static int rtc_io(libvm_vcpu *vcpu, uint64_t addr, void *data, uint32_t len, bool is_write,
		  void *opaque)
{
	libvm_rtc *r = opaque;

	/* The index and the data access are two exits: a guest with several
	 * vCPUs serializes them itself, as on hardware. */
	pthread_mutex_lock(&r->lock);
	libvm__rtc_access(&r->st, (uint32_t)(addr - r->range.base), data, len, is_write);
	sync_line(r, r->st.reg_c & LIBVM__RTC_C_IRQF);
	/* Enables, rates and flags may have changed: the thread re-plans. */
	if (r->thread_started)
		pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
	return 0;
}

static void stop_thread(libvm_rtc *r)
{
	if (!r->thread_started)
		return;
	pthread_mutex_lock(&r->lock);
	r->stop = true;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
	pthread_join(r->thread, NULL);
	r->thread_started = false;
}

LIBVM_EXPORT int libvm_rtc_alarm_pending(libvm_rtc *rtc)
{
	bool pending;

	LIBVM__CHECK_HANDLE(rtc, LIBVM__MAGIC_RTC, "libvm_rtc_alarm_pending", "rtc", "RTC");
	pthread_mutex_lock(&rtc->lock);
	/* The flags as of now (an alarm second may have begun before the
	 * thread woke for it), and the line with them. */
	sync_line(rtc, libvm__rtc_update(&rtc->st));
	pending = rtc->st.reg_c & rtc->st.cmos[LIBVM__RTC_REG_B] & LIBVM__RTC_C_AF;
	pthread_mutex_unlock(&rtc->lock);
	return pending;
}

/* What libvm_vm_destroy() calls for a device still attached. */
static void rtc_release(void *dev)
{
	libvm_rtc_detach(dev);
}

LIBVM_EXPORT int libvm_rtc_attach(libvm_rtc **out, libvm_vm *vm, const libvm_rtc_options *opts)
{
	libvm_rtc_options o = LIBVM_RTC_OPTIONS_INIT;
	libvm_rtc *r;
	int err;

	if (!out)
		return libvm__fail(-EINVAL, "libvm_rtc_attach: out is NULL");
	LIBVM__CHECK_VM(vm, "libvm_rtc_attach");
	err = libvm__dev_options(&o, sizeof(o), opts, "libvm_rtc_attach");
	if (err)
		return err;
	if (!o.irq)
		o.irq = 8; /* the PC's RTC IRQ (also for older, shorter structs) */
	if (o.wake_fd <= 0)
		o.wake_fd = -1; /* 0 is the INIT default: none */
	if (o.irq < -1 || o.irq > 23)
		return libvm__fail(-EINVAL, "rtc: IRQ %d is not in -1..23", (int)o.irq);
	if (o.ram_below_4g > (4ull << 30) || o.ram_below_4g > o.ram_size)
		return libvm__fail(-EINVAL, "rtc: ram_below_4g 0x%llx is above 4 GiB or ram_size",
				   (unsigned long long)o.ram_below_4g);
	/* Keeps offset * 1e9 inside int64 (about 292 years). */
	if (o.offset_seconds > 100ll * 365 * 86400 || o.offset_seconds < -100ll * 365 * 86400)
		return libvm__fail(-EINVAL, "rtc: offset_seconds %lld is over 100 years",
				   (long long)o.offset_seconds);
	r = calloc(1, sizeof(*r));
	if (!r)
		return libvm__fail(-ENOMEM, "rtc: out of memory");
	r->magic = LIBVM__MAGIC_RTC;
	r->vm = vm;
	r->irq = o.irq;
	r->wake_fd = o.wake_fd;
	pthread_mutex_init(&r->lock, NULL);
	{
		pthread_condattr_t ca;

		/* The thread's deadlines are on the model's clock (realtime). */
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_REALTIME);
		pthread_cond_init(&r->cond, &ca);
		pthread_condattr_destroy(&ca);
	}
	r->st.now_ns = realtime_ns;
	libvm__rtc_init(&r->st, o.ram_size, o.ram_below_4g, o.offset_seconds);
	r->range = (struct libvm__devrange){ LIBVM_SPACE_PIO, 0x70, 2, "rtc", rtc_io };
	err = -pthread_create(&r->thread, NULL, rtc_thread, r);
	if (err) {
		libvm__fail(err, "rtc: cannot start its timer thread: %s", strerror(-err));
	} else {
		r->thread_started = true;
		err = libvm__dev_register(vm, &r->range, 1, r, rtc_release);
	}
	if (err) {
		stop_thread(r);
		pthread_cond_destroy(&r->cond);
		pthread_mutex_destroy(&r->lock);
		free(r);
		return err;
	}
	*out = r;
	return 0;
}

LIBVM_EXPORT void libvm_rtc_detach(libvm_rtc *rtc)
{
	if (!libvm__live(rtc, LIBVM__MAGIC_RTC) ||
	    !libvm__dev_unregister(rtc->vm, &rtc->range, 1, rtc))
		return;
	stop_thread(rtc);
	pthread_cond_destroy(&rtc->cond);
	pthread_mutex_destroy(&rtc->lock);
	libvm__bury(rtc, sizeof(*rtc));
}
