/* SPDX-License-Identifier: MIT */
/*
 * ACPI PM timer (TMR_VAL in the PM1 timer block): a free-running counter
 * at 3.579545 MHz, 24 bits wide unless the FADT sets TMR_VAL_EXT. It is
 * derived from the host's monotonic clock on every read, so it needs no
 * thread and no state updates, and reads from any vCPU agree. The overflow
 * interrupt (TMR_STS/TMR_EN in PM1 status/enable) is not modelled.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../state.h"
#include "common.h"
#include "pmtimer.h"

uint32_t libvm__pmtimer_value(const struct libvm__pmtimer *t)
{
	int64_t ns = t->now_ns(t->opaque) - t->start_ns;
	uint64_t sec, frac, ticks;

	if (ns < 0)
		ns = 0;
	/* Split seconds from nanoseconds so the product cannot overflow. */
	sec = (uint64_t)ns / 1000000000u;
	frac = (uint64_t)ns % 1000000000u;
	ticks = sec * LIBVM__PMTIMER_HZ + frac * LIBVM__PMTIMER_HZ / 1000000000u;
	return (uint32_t)ticks & t->mask;
}

int libvm__pmtimer_access(struct libvm__pmtimer *t, uint32_t offset, void *data, uint32_t len,
			  bool is_write)
{
	uint8_t bytes[4];
	uint32_t v;

	if (is_write)
		return 0;
	v = libvm__pmtimer_value(t);
	for (int i = 0; i < 4; i++)
		bytes[i] = (uint8_t)(v >> (8 * i));
	for (uint32_t i = 0; i < len && offset + i < 4; i++)
		((uint8_t *)data)[i] = bytes[offset + i];
	return 0;
}

void libvm__pmtimer_save(const struct libvm__pmtimer *t, struct libvm_state_writer *w)
{
	int64_t ran = t->now_ns(t->opaque) - t->start_ns;

	libvm__enc_u64(w, (uint64_t)(ran < 0 ? 0 : ran));
	libvm__enc_u32(w, t->mask);
}

int libvm__pmtimer_load(struct libvm__pmtimer *t, const void *data, size_t len, uint32_t version)
{
	struct libvm__dec d;
	uint64_t ran;
	uint32_t mask;
	int err;

	(void)version;
	libvm__dec_init(&d, data, len);
	ran = libvm__dec_u64(&d);
	mask = libvm__dec_u32(&d);
	err = libvm__dec_done(&d, "pm-timer");
	if (err)
		return err;
	if (mask != t->mask)
		return libvm__fail(-EINVAL, "pm-timer: the snapshot's timer is %d bits wide, this one %d",
				   mask == 0xffffffffu ? 32 : 24, t->mask == 0xffffffffu ? 32 : 24);
	/* Whatever it ran, a hundred years bounds the arithmetic. */
	if (ran > 100ull * 365 * 86400 * 1000000000ull)
		return libvm__fail(-EINVAL, "pm-timer: saved run time %llu ns is out of range",
				   (unsigned long long)ran);
	t->start_ns = t->now_ns(t->opaque) - (int64_t)ran;
	return 0;
}

struct libvm_pmtimer {
	uint32_t magic;
	libvm_vm *vm;
	struct libvm__devrange range;
	struct libvm__pmtimer st; /* read-only after attach: no lock */
};

static int64_t monotonic_ns(void *opaque)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int pmtimer_io(libvm_vcpu *vcpu, uint64_t addr, void *data, uint32_t len, bool is_write,
		      void *opaque)
{
	libvm_pmtimer *t = opaque;

	return libvm__pmtimer_access(&t->st, (uint32_t)(addr - t->range.base), data, len, is_write);
}

/* No lock: the guest only reads, and loads happen with no vCPU running. */
static int pmtimer_state_save(libvm_state_writer *w, void *opaque)
{
	libvm_pmtimer *t = opaque;

	libvm__pmtimer_save(&t->st, w);
	return 0;
}

static int pmtimer_state_load(const void *data, size_t len, uint32_t version, void *opaque)
{
	libvm_pmtimer *t = opaque;

	return libvm__pmtimer_load(&t->st, data, len, version);
}

/* What libvm_vm_destroy() calls for a device still attached. */
static void pmtimer_release(void *dev)
{
	libvm_pmtimer_detach(dev);
}

LIBVM_EXPORT int libvm_pmtimer_attach(libvm_pmtimer **out, libvm_vm *vm,
				      const libvm_pmtimer_options *opts)
{
	libvm_pmtimer_options o = LIBVM_PMTIMER_OPTIONS_INIT;
	libvm_pmtimer *t;
	int err;

	if (!out)
		return libvm__fail(-EINVAL, "libvm_pmtimer_attach: out is NULL");
	LIBVM__CHECK_VM(vm, "libvm_pmtimer_attach");
	err = libvm__dev_options(&o, sizeof(o), opts, "libvm_pmtimer_attach");
	if (err)
		return err;
	if (!o.port)
		o.port = 0x608;
	if (!o.bits)
		o.bits = 24;
	if (o.bits != 24 && o.bits != 32)
		return libvm__fail(-EINVAL, "pm-timer: %u bits; it is 24 or 32", o.bits);
	if (!libvm__dev_ports_ok(o.port, 4))
		return libvm__fail(-EINVAL, "pm-timer: ports 0x%x+4 go past 0xffff", o.port);
	t = calloc(1, sizeof(*t));
	if (!t)
		return libvm__fail(-ENOMEM, "pm-timer: out of memory");
	t->magic = LIBVM__MAGIC_PMTIMER;
	t->vm = vm;
	t->st.mask = o.bits == 32 ? 0xffffffffu : 0xffffffu;
	t->st.now_ns = monotonic_ns;
	t->st.start_ns = monotonic_ns(NULL);
	t->range = (struct libvm__devrange){ LIBVM_SPACE_PIO, o.port, 4, "pm-timer", pmtimer_io };
	err = libvm__dev_register(vm, &t->range, 1, t, pmtimer_release);
	if (!err) {
		err = libvm__state_add(vm, LIBVM__PMTIMER_STATE_VERSION, 0, pmtimer_state_save,
				       pmtimer_state_load, NULL, t, "pm-timer@0x%x", o.port);
		if (err)
			libvm__dev_unregister(vm, &t->range, 1, t);
	}
	if (err) {
		free(t);
		return err;
	}
	*out = t;
	return 0;
}

LIBVM_EXPORT void libvm_pmtimer_detach(libvm_pmtimer *dev)
{
	if (!libvm__live(dev, LIBVM__MAGIC_PMTIMER) ||
	    !libvm__dev_unregister(dev->vm, &dev->range, 1, dev))
		return;
	libvm__bury(dev, sizeof(*dev));
}
