/*
 * The four memory/string functions gcc may call even in freestanding code
 * (structure copies and clears). Byte loops: guests touch little memory.
 */
#include "guest.h"

void *memset(void *s, int c, size_t n)
{
	volatile unsigned char *p = s;

	/* volatile: stops gcc from turning this loop into a call to memset. */
	while (n--)
		*p++ = (unsigned char)c;
	return s;
}

void *memcpy(void *d, const void *s, size_t n)
{
	volatile unsigned char *dp = d;
	const unsigned char *sp = s;

	while (n--)
		*dp++ = *sp++;
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *ap = a, *bp = b;

	for (; n; n--, ap++, bp++)
		if (*ap != *bp)
			return *ap - *bp;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}
