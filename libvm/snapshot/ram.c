/* SPDX-License-Identifier: MIT */
/*
 * Guest memory in the snapshot stream: "ram" sections of records, each a
 * run of up to 512 pages of one region that are either all zero (sent as
 * a flag) or sent whole. A snapshot sends every page once, last; a live
 * migration sends all pages, then in rounds the pages the dirty log
 * reports, while the guest runs. The receiver writes each run straight
 * into the VM's memory.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ram.h"

#define PAGE LIBVM__PAGE_SIZE
#define RUN_MAX 512u                  /* pages per record: 2 MiB */
#define SECTION_DATA (32u << 20)      /* data bytes per section at most */
#define SECTION_RUNS 1024u

static bool is_zero(const uint8_t *p)
{
	const uint64_t *w = (const uint64_t *)p;
	uint64_t acc = 0;

	/* Whole cache lines at a time: a page with data usually says so in
	 * its first line, and a zero page is read once at memory speed. */
	for (size_t i = 0; i < PAGE / 8; i += 8) {
		acc |= w[i] | w[i + 1] | w[i + 2] | w[i + 3] | w[i + 4] | w[i + 5] | w[i + 6] |
		       w[i + 7];
		if (acc)
			return false;
	}
	return true;
}

static bool selected(const uint64_t *bitmap, uint64_t p)
{
	return !bitmap || (bitmap[p / 64] >> (p % 64)) & 1;
}

struct run {
	uint64_t page;
	uint32_t n;
	bool zero;
};

int libvm__ram_send(struct libvm__sout *o, libvm_region *r, const uint64_t *bitmap, bool copy,
		    struct libvm__ram_stats *st)
{
	uint64_t pages = r->length / PAGE, p = 0;
	const uint8_t *host = r->host;
	struct run *runs = malloc(SECTION_RUNS * sizeof(*runs));
	uint8_t *bounce = copy ? malloc(RUN_MAX * PAGE) : NULL;
	int err = 0;

	if (!runs || (copy && !bounce)) {
		free(runs);
		free(bounce);
		return libvm__fail(-ENOMEM, "snapshot: out of memory");
	}
	while (p < pages && !err) {
		uint32_t nr = 0;
		uint64_t data = 0, length = 0;

		/* Plan a section: runs of same-kind selected pages. */
		while (p < pages && nr < SECTION_RUNS && data < SECTION_DATA) {
			struct run *run;

			if (bitmap && !bitmap[p / 64]) {
				p = (p / 64 + 1) * 64;
				continue;
			}
			if (!selected(bitmap, p)) {
				p++;
				continue;
			}
			run = &runs[nr++];
			run->page = p;
			run->zero = is_zero(host + p * PAGE);
			run->n = 1;
			while (p + run->n < pages && run->n < RUN_MAX && selected(bitmap, p + run->n) &&
			       is_zero(host + (p + run->n) * PAGE) == run->zero)
				run->n++;
			p += run->n;
			if (!run->zero)
				data += (uint64_t)run->n * PAGE;
			length += LIBVM__SNAP_RAM_RECORD;
		}
		if (!nr)
			break;
		libvm__sout_begin(o, LIBVM__SNAP_RAM, 0, 1, length + data);
		for (uint32_t i = 0; i < nr; i++) {
			uint8_t rec[LIBVM__SNAP_RAM_RECORD] = { 0 };
			const struct run *run = &runs[i];
			const uint8_t *src = host + run->page * PAGE;
			size_t bytes = (size_t)run->n * PAGE;

			libvm__put64(rec, (r->gpa + run->page * PAGE) | (run->zero ? LIBVM__SNAP_RAM_ZERO : 0));
			libvm__put32(rec + 8, run->n);
			libvm__sout_put(o, rec, sizeof(rec), true);
			if (st) {
				st->pages += run->n;
				if (run->zero)
					st->zero_pages += run->n;
			}
			if (run->zero)
				continue;
			/* A running guest may change the pages: the checksum and
			 * the bytes sent must be of one copy. A later change is in
			 * the dirty log and goes in the next round. */
			if (copy) {
				memcpy(bounce, src, bytes);
				src = bounce;
			}
			libvm__sout_put_direct(o, src, bytes, true);
		}
		libvm__sout_end(o);
		err = o->err;
	}
	free(runs);
	free(bounce);
	return err;
}

int libvm__ram_receive(struct libvm__sin *in, libvm_vm *vm, uint64_t *pages)
{
	int err = 0;

	pthread_rwlock_rdlock(&vm->mem_lock);
	while (in->left && !err) {
		uint8_t rec[LIBVM__SNAP_RAM_RECORD];
		const struct libvm__range *e;
		const libvm_region *r;
		uint64_t gpa, off, bytes;
		uint32_t n;
		bool zero;

		if ((err = libvm__sin_payload(in, rec, sizeof(rec))))
			break;
		gpa = libvm__le64(rec) & ~(PAGE - 1);
		zero = libvm__le64(rec) & LIBVM__SNAP_RAM_ZERO;
		n = libvm__le32(rec + 8);
		if ((libvm__le64(rec) & (PAGE - 1) & ~LIBVM__SNAP_RAM_ZERO) || libvm__le32(rec + 12) ||
		    n == 0 || n > RUN_MAX) {
			err = libvm__fail(-EBADMSG, "snapshot is corrupted: a memory record at 0x%llx of %u pages has bad fields",
					  (unsigned long long)gpa, n);
			break;
		}
		bytes = (uint64_t)n * PAGE;
		e = libvm__rangemap_find(&vm->regions, gpa);
		r = e ? e->item : NULL;
		if (!r || bytes > r->length || gpa - r->gpa > r->length - bytes) {
			err = libvm__fail(-EINVAL, "snapshot does not match this VM: it has memory at 0x%llx+0x%llx, outside this VM's regions",
					  (unsigned long long)gpa, (unsigned long long)bytes);
			break;
		}
		if (!r->host_writable) {
			err = libvm__fail(-EACCES, "snapshot: region '%s' is mapped from a read-only file",
					  r->name);
			break;
		}
		off = gpa - r->gpa;
		if (zero) {
			/* Pages that are zero already stay untouched (a fresh
			 * VM's memory is not allocated for nothing). */
			for (uint32_t i = 0; i < n; i++) {
				uint8_t *pg = (uint8_t *)r->host + off + (uint64_t)i * PAGE;

				if (!is_zero(pg))
					memset(pg, 0, PAGE);
			}
		} else {
			err = libvm__sin_payload(in, (uint8_t *)r->host + off, bytes);
		}
		*pages += n;
	}
	pthread_rwlock_unlock(&vm->mem_lock);
	return err;
}
