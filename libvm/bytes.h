/* SPDX-License-Identifier: MIT */
/*
 * Little-endian fields in byte buffers: guest tables, device registers,
 * image headers. One copy for the whole library; callers check bounds.
 */
#ifndef LIBVM_BYTES_H
#define LIBVM_BYTES_H

#include <stdint.h>

static inline uint16_t libvm__le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t libvm__le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t libvm__le64(const uint8_t *p)
{
	return libvm__le32(p) | (uint64_t)libvm__le32(p + 4) << 32;
}

/* The low @n bytes (1 .. 8) of a little-endian value. */
static inline uint64_t libvm__get_le(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static inline void libvm__put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void libvm__put16(uint8_t *p, uint16_t v)
{
	libvm__put_le(p, v, 2);
}

static inline void libvm__put32(uint8_t *p, uint32_t v)
{
	libvm__put_le(p, v, 4);
}

static inline void libvm__put64(uint8_t *p, uint64_t v)
{
	libvm__put_le(p, v, 8);
}

#endif
