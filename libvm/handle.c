/* SPDX-License-Identifier: MIT */
/*
 * Handles that survive misuse. Every object libvm hands out starts with a
 * magic number naming its type; the destroying call clears it. The memory
 * of a destroyed object is not freed at once: it is zeroed (so whatever
 * it pointed to is gone from it), marked dead and kept in a graveyard, a
 * FIFO bounded by count and bytes, and freed only when pushed out of it.
 * So a second destroy, or any call on the destroyed handle, finds the dead
 * mark in memory that is still ours and fails with -EBADF instead of
 * touching freed memory.
 *
 * The limit (documented in docs/api.md): a handle is recognised as dead
 * only while its memory is in the graveyard, i.e. for the last
 * GRAVE_SLOTS destroyed objects (at most GRAVE_BYTES of them); after that
 * its memory may be reused, and a stale handle is undefined behaviour as
 * in any C library.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define GRAVE_SLOTS 4096u
#define GRAVE_BYTES (4u << 20)

static struct {
	void *obj[GRAVE_SLOTS];
	size_t size[GRAVE_SLOTS];
	uint32_t head, n;   /* oldest at head */
	size_t bytes;
} grave;
static pthread_mutex_t grave_lock = PTHREAD_MUTEX_INITIALIZER;

void libvm__bury(void *obj, size_t size)
{
	void *evict[8];
	uint32_t nevict = 0;

	if (!obj)
		return;
	memset(obj, 0, size);
	*(uint32_t *)obj = LIBVM__MAGIC_DEAD;
	pthread_mutex_lock(&grave_lock);
	/* Make room: the oldest go first. Freed outside the lock below, a
	 * few at a time (one object rarely needs more than one slot). */
	while (grave.n && (grave.n == GRAVE_SLOTS || grave.bytes + size > GRAVE_BYTES) &&
	       nevict < 8) {
		evict[nevict++] = grave.obj[grave.head];
		grave.bytes -= grave.size[grave.head];
		grave.head = (grave.head + 1) % GRAVE_SLOTS;
		grave.n--;
	}
	if (grave.n < GRAVE_SLOTS && grave.bytes + size <= GRAVE_BYTES) {
		uint32_t at = (grave.head + grave.n) % GRAVE_SLOTS;

		grave.obj[at] = obj;
		grave.size[at] = size;
		grave.bytes += size;
		grave.n++;
		obj = NULL;
	}
	pthread_mutex_unlock(&grave_lock);
	for (uint32_t i = 0; i < nevict; i++)
		free(evict[i]);
	/* Larger than the whole graveyard: nothing to keep it in. */
	free(obj);
}

int libvm__dead(const void *obj, uint32_t magic, const char *fn, const char *what)
{
	uint32_t m = *(const uint32_t *)obj;

	if (m == LIBVM__MAGIC_DEAD)
		return libvm__fail(-EBADF, "%s: this %s was destroyed", fn, what);
	(void)magic;
	return libvm__fail(-EBADF, "%s: %p is not a %s handle of libvm", fn, obj, what);
}
