/* SPDX-License-Identifier: MIT */
/*
 * Guest memory in the snapshot stream (ram.c).
 */
#ifndef LIBVM_SNAPSHOT_RAM_H
#define LIBVM_SNAPSHOT_RAM_H

#include "../internal.h"
#include "stream.h"

struct libvm__ram_stats {
	uint64_t pages;      /* sent */
	uint64_t zero_pages; /* ... of which as a zero flag */
};

/*
 * Send the pages of @r that @bitmap selects (NULL: all) in "ram" sections.
 * @copy: the guest runs meanwhile, so each run is copied before it is
 * checksummed and sent. The caller holds the VM's mem_lock (read).
 * 0 or the stream's error.
 */
int libvm__ram_send(struct libvm__sout *o, libvm_region *r, const uint64_t *bitmap, bool copy,
		    struct libvm__ram_stats *st);

/*
 * The records of the current "ram" section into @vm's memory; *@pages
 * counts them. -EBADMSG for a malformed record, -EINVAL for memory outside
 * @vm's regions, or the stream's error.
 */
int libvm__ram_receive(struct libvm__sin *in, libvm_vm *vm, uint64_t *pages);

#endif
