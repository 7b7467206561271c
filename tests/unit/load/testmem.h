/* SPDX-License-Identifier: MIT */
/*
 * Guest memory over a plain buffer for loader and firmware unit tests: RAM
 * at [0, size), optionally a ROM range after it. Every write is counted,
 * and one outside the buffer is recorded instead of performed, so a test
 * can prove that a rejected image wrote nothing and that nothing ever
 * lands outside guest RAM.
 */
#ifndef TESTMEM_H
#define TESTMEM_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "load/load_internal.h"

#define TM_FILL 0xa5

struct testmem {
	uint8_t *buf;
	uint64_t size;
	libvm_mem_range ranges[2];
	struct libvm__guest_mem gm;
	unsigned writes;
	unsigned outside;
};

static int tm_write(void *ctx, uint64_t gpa, const void *src, size_t len)
{
	struct testmem *t = ctx;

	if (gpa > t->size || len > t->size - gpa) {
		t->outside++;
		return -EFAULT;
	}
	memcpy(t->buf + gpa, src, len);
	t->writes++;
	return 0;
}

/* RAM of @size bytes at 0, filled with TM_FILL; @rom adds a ROM range after it. */
static inline struct testmem *tm_new(uint64_t size, uint64_t rom)
{
	struct testmem *t = calloc(1, sizeof(*t));

	t->buf = malloc(size);
	memset(t->buf, TM_FILL, size);
	t->size = size;
	t->ranges[0] = (libvm_mem_range){ .gpa = 0, .length = size };
	t->ranges[1] = (libvm_mem_range){ .gpa = size + 0x100000, .length = rom,
					  .flags = LIBVM_REGION_READONLY };
	t->gm = (struct libvm__guest_mem){
		.write = tm_write, .ranges = t->ranges, .nranges = rom ? 2 : 1, .ctx = t,
	};
	return t;
}

static inline void tm_free(struct testmem *t)
{
	free(t->buf);
	free(t);
}

/* true when no byte of the buffer was changed (and no write attempted). */
static inline int tm_untouched(const struct testmem *t)
{
	if (t->writes || t->outside)
		return 0;
	for (uint64_t i = 0; i < t->size; i++)
		if (t->buf[i] != TM_FILL)
			return 0;
	return 1;
}

/* Bytes in [from, to) all still TM_FILL. */
static inline int tm_fill_between(const struct testmem *t, uint64_t from, uint64_t to)
{
	for (uint64_t i = from; i < to; i++)
		if (t->buf[i] != TM_FILL)
			return 0;
	return 1;
}

static inline uint32_t tm_le32(const struct testmem *t, uint64_t gpa)
{
	return libvm__le32(t->buf + gpa);
}

static inline uint64_t tm_le64(const struct testmem *t, uint64_t gpa)
{
	return libvm__le64(t->buf + gpa);
}

#endif
