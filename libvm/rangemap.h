/* SPDX-License-Identifier: MIT */
/*
 * A sorted array of non-overlapping address ranges with binary-search
 * lookup. Both the memory regions and the device buses of a VM are kept in
 * one; it does no locking (the owner does). Lookups never allocate.
 */
#ifndef LIBVM_RANGEMAP_H
#define LIBVM_RANGEMAP_H

#include <stddef.h>
#include <stdint.h>

struct libvm__range {
	uint64_t base;
	uint64_t length; /* > 0; base + length - 1 does not wrap */
	void *item;
};

struct libvm__rangemap {
	struct libvm__range *v;
	size_t n;
	size_t cap;
};

/* True when [base, base + length) is non-empty and does not wrap. */
int libvm__range_valid(uint64_t base, uint64_t length);

/*
 * Insert a range. Returns 0; -EINVAL for an empty or wrapping range;
 * -EEXIST when it overlaps an entry (*conflict then points to it, if
 * conflict is non-NULL); -ENOMEM.
 */
int libvm__rangemap_insert(struct libvm__rangemap *map, uint64_t base, uint64_t length,
			   void *item, const struct libvm__range **conflict);

/* Remove the entry that starts at base. Returns its item, or NULL. */
void *libvm__rangemap_remove(struct libvm__rangemap *map, uint64_t base);

/* The entry containing addr, or NULL. O(log n). */
const struct libvm__range *libvm__rangemap_find(const struct libvm__rangemap *map,
						uint64_t addr);

/* The entries overlapping the valid range [base, base + length) are
 * map->v[*first] up to, not including, map->v[*end]. O(log n + k). */
void libvm__rangemap_overlaps(const struct libvm__rangemap *map, uint64_t base, uint64_t length,
			      size_t *first, size_t *end);

void libvm__rangemap_free(struct libvm__rangemap *map);

#endif
