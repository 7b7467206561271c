/* SPDX-License-Identifier: MIT */
/*
 * What the libFuzzer targets share: a reader that turns the fuzzer's bytes
 * into values (zeroes once they run out, so every input is a valid
 * program), guest memory over host buffers for the loaders and firmware
 * builders with writes checked against the memory map (one outside it is a
 * crash, reported and aborted), and a VM with no backend for the device
 * models. An invariant that fails calls fuzz_fail(), which aborts: the
 * fuzzer then saves the input as a crash.
 */
#ifndef LIBVM_FUZZ_H
#define LIBVM_FUZZ_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "load/load_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

__attribute__((noreturn, format(printf, 1, 2))) static inline void fuzz_fail(const char *fmt,
									     ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "fuzz invariant failed: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	abort();
}

/* --- input reader ---------------------------------------------------- */

struct fin {
	const uint8_t *p;
	size_t n;
};

static inline uint64_t fin_le(struct fin *f, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes; i++) {
		uint8_t b = 0;

		if (f->n) {
			b = *f->p++;
			f->n--;
		}
		v |= (uint64_t)b << (8 * i);
	}
	return v;
}

static inline uint8_t fin_u8(struct fin *f) { return (uint8_t)fin_le(f, 1); }
static inline uint16_t fin_u16(struct fin *f) { return (uint16_t)fin_le(f, 2); }
static inline uint32_t fin_u32(struct fin *f) { return (uint32_t)fin_le(f, 4); }
static inline uint64_t fin_u64(struct fin *f) { return fin_le(f, 8); }

/* Up to @len bytes of the input, in place; *got says how many. */
static inline const uint8_t *fin_take(struct fin *f, size_t len, size_t *got)
{
	const uint8_t *p = f->p;

	*got = len < f->n ? len : f->n;
	f->p += *got;
	f->n -= *got;
	return p;
}

/* --- guest memory for loaders and firmware builders ------------------- */

/*
 * RAM at [0, FM_LOW) and, when @high, RAM on both sides of 4 GiB at
 * [FM_HIGH, FM_HIGH + FM_HIGH_LEN); when @rom, a 64 KiB ROM at FM_ROM.
 * Buffers are reserved once (MAP_NORESERVE: untouched pages cost nothing).
 */
#define FM_LOW (64ull << 20)
#define FM_ROM (FM_LOW + (1ull << 20))
#define FM_ROM_LEN 0x10000ull
#define FM_HIGH 0xfc000000ull
#define FM_HIGH_LEN (128ull << 20)

struct fmem {
	uint8_t *low, *rom, *high;
	libvm_mem_range ranges[3];
	struct libvm__guest_mem gm;
	unsigned writes;
	bool rom_writable; /* firmware tables may go to ROM; kernels may not */
};

static inline uint8_t *fm_host(struct fmem *m, uint64_t gpa, size_t len, bool *rom)
{
	*rom = false;
	if (gpa <= FM_LOW && len <= FM_LOW - gpa)
		return m->low + gpa;
	for (uint32_t i = 0; i < m->gm.nranges; i++) {
		const libvm_mem_range *r = &m->ranges[i];

		if (gpa >= r->gpa && gpa - r->gpa <= r->length && len <= r->length - (gpa - r->gpa)) {
			*rom = r->flags & LIBVM_REGION_READONLY;
			return (r->gpa == FM_ROM ? m->rom : m->high) + (gpa - r->gpa);
		}
	}
	return NULL;
}

static int fm_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	struct fmem *m = ctx;
	bool rom;
	uint8_t *h = fm_host(m, gpa, len, &rom);

	if (!h)
		fuzz_fail("write of 0x%zx bytes at 0x%llx lands outside guest memory", len,
			  (unsigned long long)gpa);
	if (rom && !m->rom_writable)
		fuzz_fail("write of 0x%zx bytes at 0x%llx lands in ROM", len,
			  (unsigned long long)gpa);
	memcpy(h, buf, len);
	m->writes++;
	return 0;
}

static inline void *fm_reserve(uint64_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		       -1, 0);

	if (p == MAP_FAILED)
		abort();
	return p;
}

/* Set up @m's map for one input (buffers are kept from run to run). */
static inline void fm_setup(struct fmem *m, bool rom, bool high)
{
	uint32_t n = 0;

	if (!m->low) {
		m->low = fm_reserve(FM_LOW);
		m->rom = fm_reserve(FM_ROM_LEN);
		m->high = fm_reserve(FM_HIGH_LEN);
	}
	m->ranges[n++] = (libvm_mem_range){ .gpa = 0, .length = FM_LOW };
	if (rom)
		m->ranges[n++] = (libvm_mem_range){ .gpa = FM_ROM, .length = FM_ROM_LEN,
						    .flags = LIBVM_REGION_READONLY };
	if (high)
		m->ranges[n++] = (libvm_mem_range){ .gpa = FM_HIGH, .length = FM_HIGH_LEN };
	m->gm = (struct libvm__guest_mem){ .write = fm_write, .ranges = m->ranges, .nranges = n,
					   .ctx = m };
	m->writes = 0;
	m->rom_writable = false;
}

/* [gpa, gpa + len) wholly in RAM of @m's map (ROM does not count). */
static inline bool fm_in_ram(struct fmem *m, uint64_t gpa, uint64_t len)
{
	return libvm__gm_inside(&m->gm, gpa, len, true);
}

#endif
