/* SPDX-License-Identifier: MIT */
/*
 * Sorted range array: insertion keeps the array ordered by base, and since
 * entries never overlap, the entry that may contain an address is the last
 * one whose base is <= that address.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rangemap.h"

int libvm__range_valid(uint64_t base, uint64_t length)
{
	return length != 0 && length - 1 <= UINT64_MAX - base;
}

static uint64_t range_last(const struct libvm__range *r)
{
	return r->base + (r->length - 1);
}

/* Index of the first entry whose base is > addr (0 .. n). */
static size_t upper_bound(const struct libvm__rangemap *map, uint64_t addr)
{
	size_t lo = 0, hi = map->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (map->v[mid].base <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct libvm__range *libvm__rangemap_find(const struct libvm__rangemap *map,
						uint64_t addr)
{
	size_t i = upper_bound(map, addr);

	if (i == 0)
		return NULL;
	if (addr > range_last(&map->v[i - 1]))
		return NULL;
	return &map->v[i - 1];
}

void libvm__rangemap_overlaps(const struct libvm__rangemap *map, uint64_t base, uint64_t length,
			      size_t *first, size_t *end)
{
	uint64_t last = base + (length - 1);
	size_t i = upper_bound(map, base);

	/* Only the predecessor can start below base and reach into it. */
	if (i > 0 && range_last(&map->v[i - 1]) >= base)
		i--;
	*first = i;
	while (i < map->n && map->v[i].base <= last)
		i++;
	*end = i;
}

int libvm__rangemap_insert(struct libvm__rangemap *map, uint64_t base, uint64_t length,
			   void *item, const struct libvm__range **conflict)
{
	uint64_t last;
	size_t i;

	if (!libvm__range_valid(base, length))
		return -EINVAL;
	last = base + (length - 1);

	i = upper_bound(map, base);
	/* The predecessor may reach into the new range ... */
	if (i > 0 && range_last(&map->v[i - 1]) >= base) {
		if (conflict)
			*conflict = &map->v[i - 1];
		return -EEXIST;
	}
	/* ... and the successor may start inside it. */
	if (i < map->n && map->v[i].base <= last) {
		if (conflict)
			*conflict = &map->v[i];
		return -EEXIST;
	}

	if (map->n == map->cap) {
		size_t cap = map->cap ? map->cap * 2 : 8;
		struct libvm__range *v = realloc(map->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		map->v = v;
		map->cap = cap;
	}
	memmove(&map->v[i + 1], &map->v[i], (map->n - i) * sizeof(*map->v));
	map->v[i] = (struct libvm__range){ .base = base, .length = length, .item = item };
	map->n++;
	return 0;
}

void *libvm__rangemap_remove(struct libvm__rangemap *map, uint64_t base)
{
	size_t i = upper_bound(map, base);
	void *item;

	if (i == 0 || map->v[i - 1].base != base)
		return NULL;
	i--;
	item = map->v[i].item;
	memmove(&map->v[i], &map->v[i + 1], (map->n - i - 1) * sizeof(*map->v));
	map->n--;
	return item;
}

void libvm__rangemap_free(struct libvm__rangemap *map)
{
	free(map->v);
	map->v = NULL;
	map->n = map->cap = 0;
}
