/* SPDX-License-Identifier: MIT */
/*
 * The snapshot stream (docs/snapshot.md): a file header, then sections,
 * each a checksummed header, a payload and the payload's CRC-32. The same
 * stream goes to a file (a snapshot) or a socket (a live migration). This
 * is its I/O: buffered writing and reading on a file descriptor, with the
 * checksums (zlib's crc32) kept as the bytes pass.
 */
#ifndef LIBVM_SNAPSHOT_STREAM_H
#define LIBVM_SNAPSHOT_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LIBVM__SNAP_MAGIC "LIBVMSNP"
#define LIBVM__SNAP_FORMAT 1          /* the stream layout this libvm writes and reads */
#define LIBVM__SNAP_HEADER 32
#define LIBVM__SNAP_SECTION 32
#define LIBVM__SNAP_FLAG_MIGRATION 1u /* the sender waits for the receiver's answer */
#define LIBVM__SNAP_PEER_SPOKE (-ECANCELED) /* libvm__sout: the receiver has something to say */
#define LIBVM__SNAP_READY_WORD "LIBVMRDY" /* the receiver's VM is built (migrate.c) */

/* Section types. */
enum libvm__snap_section {
	LIBVM__SNAP_MACHINE = 1, /* what the VM is: memory map, vCPUs, CPUID, devices */
	LIBVM__SNAP_APP = 2,     /* the application's own bytes (vmrun: its options) */
	LIBVM__SNAP_VCPU = 3,    /* one vCPU's state; id = the vCPU's */
	LIBVM__SNAP_VM = 4,      /* irqchip, PIT, clock, MSI routes */
	LIBVM__SNAP_DEVICE = 5,  /* one device's state; version = the device's */
	LIBVM__SNAP_RAM = 6,     /* guest memory pages */
	LIBVM__SNAP_END = 7,     /* counts of what came before; nothing follows */
};

/* RAM records: u64 gpa | flags, u32 pages, u32 0, then the pages' bytes
 * unless the record says they are zero. */
#define LIBVM__SNAP_RAM_RECORD 16
#define LIBVM__SNAP_RAM_ZERO 1ull

struct libvm__sout {
	int fd;
	bool sock;          /* send() with MSG_NOSIGNAL: a gone peer is an error, not SIGPIPE */
	bool watch_peer;    /* a migration: the receiver may speak while we write: its
			     * "ready" word is taken (peer_ready), anything else (a
			     * refusal) stops the writing with LIBVM__SNAP_PEER_SPOKE */
	bool peer_ready;
	int err;            /* first failure; later writes do nothing */
	uint8_t *buf;
	size_t len, cap;
	uint64_t bytes;     /* written in all */
	uint32_t crc;       /* of the current section's payload */
	uint64_t sections;  /* finished so far */
};

int libvm__sout_init(struct libvm__sout *o, int fd);
void libvm__sout_fini(struct libvm__sout *o);
/* Buffered bytes; @crc: they count toward the section's checksum. */
void libvm__sout_put(struct libvm__sout *o, const void *p, size_t n, bool crc);
/* Bytes past the buffer, straight from @p (large, e.g. guest pages). */
void libvm__sout_put_direct(struct libvm__sout *o, const void *p, size_t n, bool crc);
int libvm__sout_flush(struct libvm__sout *o);
void libvm__sout_header(struct libvm__sout *o, uint32_t flags);
/* A section's header; its payload follows with crc = true, then end. */
void libvm__sout_begin(struct libvm__sout *o, uint32_t type, uint32_t id, uint32_t version,
		       uint64_t length);
void libvm__sout_end(struct libvm__sout *o);
/* A whole section from a buffer. */
void libvm__sout_section(struct libvm__sout *o, uint32_t type, uint32_t id, uint32_t version,
			 const void *p, size_t n);

struct libvm__sin {
	int fd;
	uint8_t *buf;
	size_t pos, len, cap;
	uint64_t offset;    /* of the next byte, in the stream */
	uint32_t crc;
	/* The section being read. */
	uint32_t type, id, version;
	uint64_t length, left;
};

int libvm__sin_init(struct libvm__sin *in, int fd);
void libvm__sin_fini(struct libvm__sin *in);
/*
 * Exactly @n bytes into @p (counted in the CRC when @crc). -EBADMSG with a
 * message when the stream ends first ("truncated"), or the read's error.
 */
int libvm__sin_get(struct libvm__sin *in, void *p, size_t n, bool crc);
/* The file header: 0, -EBADMSG (not a snapshot, corrupted), -ENOTSUP (a
 * newer format). *flags receives its flags. */
int libvm__sin_header(struct libvm__sin *in, uint32_t *flags, uint32_t *writer_version);
/* The next section's header into in->type/id/version/length. */
int libvm__sin_next(struct libvm__sin *in);
/* Payload bytes of the current section (at most what is left of it). */
int libvm__sin_payload(struct libvm__sin *in, void *p, size_t n);
/* The whole payload of the current section, malloc'ed (at most @max bytes),
 * and its checksum: nothing is interpreted before its CRC was checked. */
int libvm__sin_payload_all(struct libvm__sin *in, uint8_t **out, size_t max);
/* After the payload: check its CRC. */
int libvm__sin_end(struct libvm__sin *in);

const char *libvm__snap_section_name(uint32_t type);

#endif
