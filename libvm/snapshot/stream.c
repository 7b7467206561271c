/* SPDX-License-Identifier: MIT */
/*
 * Snapshot stream I/O (see stream.h). Checksums are zlib's CRC-32 (the
 * ISO-HDLC polynomial, as gzip and PNG use): Debian's zlib computes it at
 * memory speed, and a reader in any language has it at hand.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "../internal.h"
#include "stream.h"

#define OUT_BUF (1u << 20)
#define IN_BUF (1u << 20)

static uint32_t crc_of(uint32_t crc, const void *p, size_t n)
{
	/* zlib takes a uInt length: feed it in pieces. */
	while (n) {
		uInt chunk = n > (1u << 30) ? 1u << 30 : (uInt)n;

		crc = (uint32_t)crc32(crc, p, chunk);
		p = (const uint8_t *)p + chunk;
		n -= chunk;
	}
	return crc;
}

const char *libvm__snap_section_name(uint32_t type)
{
	switch (type) {
	case LIBVM__SNAP_MACHINE:
		return "machine";
	case LIBVM__SNAP_APP:
		return "app";
	case LIBVM__SNAP_VCPU:
		return "vcpu";
	case LIBVM__SNAP_VM:
		return "vm";
	case LIBVM__SNAP_DEVICE:
		return "device";
	case LIBVM__SNAP_RAM:
		return "ram";
	case LIBVM__SNAP_END:
		return "end";
	default:
		return "unknown";
	}
}

/* ------------------------------------------------------------------ */
/* Writing                                                             */
/* ------------------------------------------------------------------ */

int libvm__sout_init(struct libvm__sout *o, int fd)
{
	struct stat st;

	memset(o, 0, sizeof(*o));
	o->fd = fd;
	o->sock = fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
	o->buf = malloc(OUT_BUF);
	o->cap = OUT_BUF;
	if (!o->buf)
		return libvm__fail(-ENOMEM, "snapshot: out of memory");
	return 0;
}

void libvm__sout_fini(struct libvm__sout *o)
{
	free(o->buf);
	o->buf = NULL;
}

static void write_all(struct libvm__sout *o, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n && !o->err) {
		ssize_t w;

		/* A receiver that refused while we write would otherwise leave us
		 * blocked on a full socket for ever. */
		if (o->watch_peer) {
			struct pollfd pf = { .fd = o->fd, .events = POLLOUT | POLLIN };

			if (poll(&pf, 1, -1) < 0) {
				if (errno == EINTR)
					continue;
			} else if (pf.revents & POLLIN) {
				char word[8];
				ssize_t k = recv(o->fd, word, sizeof(word), MSG_PEEK | MSG_DONTWAIT);

				if (k == (ssize_t)sizeof(word) && !o->peer_ready &&
				    !memcmp(word, LIBVM__SNAP_READY_WORD, sizeof(word))) {
					if (recv(o->fd, word, sizeof(word), MSG_DONTWAIT) == (ssize_t)sizeof(word))
						o->peer_ready = true;
					continue;
				}
				if (k > 0 && k < (ssize_t)sizeof(word) && !(pf.revents & (POLLHUP | POLLERR)))
					continue; /* the rest of its word is on its way */
				o->err = LIBVM__SNAP_PEER_SPOKE;
				libvm__fail(o->err, "snapshot: the receiver answered in the middle of the stream");
				return;
			}
		}
		w = o->sock ? send(o->fd, b, n, MSG_NOSIGNAL | (o->watch_peer ? MSG_DONTWAIT : 0)) :
			      write(o->fd, b, n);
		if (w < 0 && o->watch_peer && (errno == EAGAIN || errno == EWOULDBLOCK))
			continue;

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			o->err = w < 0 ? -errno : -EIO;
			libvm__fail(o->err, "snapshot: writing after %llu bytes failed: %s",
				    (unsigned long long)o->bytes, strerror(-o->err));
			return;
		}
		b += w;
		n -= (size_t)w;
		o->bytes += (uint64_t)w;
	}
}

int libvm__sout_flush(struct libvm__sout *o)
{
	if (o->len && !o->err)
		write_all(o, o->buf, o->len);
	o->len = 0;
	return o->err;
}

void libvm__sout_put(struct libvm__sout *o, const void *p, size_t n, bool crc)
{
	if (o->err)
		return;
	if (crc)
		o->crc = crc_of(o->crc, p, n);
	if (n > o->cap - o->len) {
		libvm__sout_flush(o);
		if (n >= o->cap) {
			write_all(o, p, n);
			return;
		}
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

void libvm__sout_put_direct(struct libvm__sout *o, const void *p, size_t n, bool crc)
{
	if (o->err)
		return;
	if (crc)
		o->crc = crc_of(o->crc, p, n);
	libvm__sout_flush(o);
	write_all(o, p, n);
}

void libvm__sout_header(struct libvm__sout *o, uint32_t flags)
{
	uint8_t h[LIBVM__SNAP_HEADER] = { 0 };

	memcpy(h, LIBVM__SNAP_MAGIC, 8);
	libvm__put32(h + 8, LIBVM__SNAP_FORMAT);
	libvm__put32(h + 12, flags);
	libvm__put32(h + 16, LIBVM_VERSION_NUMBER);
	libvm__put32(h + 28, crc_of(0, h, 28));
	libvm__sout_put(o, h, sizeof(h), false);
}

void libvm__sout_begin(struct libvm__sout *o, uint32_t type, uint32_t id, uint32_t version,
		       uint64_t length)
{
	uint8_t h[LIBVM__SNAP_SECTION] = { 0 };

	libvm__put32(h, type);
	libvm__put32(h + 4, id);
	libvm__put32(h + 8, version);
	libvm__put64(h + 16, length);
	libvm__put32(h + 28, crc_of(0, h, 28));
	libvm__sout_put(o, h, sizeof(h), false);
	o->crc = 0;
}

void libvm__sout_end(struct libvm__sout *o)
{
	uint8_t t[4];

	libvm__put32(t, o->crc);
	libvm__sout_put(o, t, sizeof(t), false);
	o->sections++;
}

void libvm__sout_section(struct libvm__sout *o, uint32_t type, uint32_t id, uint32_t version,
			 const void *p, size_t n)
{
	libvm__sout_begin(o, type, id, version, n);
	libvm__sout_put(o, p, n, true);
	libvm__sout_end(o);
}

/* ------------------------------------------------------------------ */
/* Reading                                                             */
/* ------------------------------------------------------------------ */

int libvm__sin_init(struct libvm__sin *in, int fd)
{
	memset(in, 0, sizeof(*in));
	in->fd = fd;
	in->buf = malloc(IN_BUF);
	in->cap = IN_BUF;
	if (!in->buf)
		return libvm__fail(-ENOMEM, "snapshot: out of memory");
	return 0;
}

void libvm__sin_fini(struct libvm__sin *in)
{
	free(in->buf);
	in->buf = NULL;
}

/* read() that retries EINTR; 0 at the end. */
static ssize_t read_some(int fd, void *p, size_t n)
{
	ssize_t r;

	do
		r = read(fd, p, n);
	while (r < 0 && errno == EINTR);
	return r;
}

static int truncated(struct libvm__sin *in)
{
	if (in->type)
		return libvm__fail(-EBADMSG, "snapshot is truncated: it ends at byte %llu, inside a '%s' section",
				   (unsigned long long)in->offset,
				   libvm__snap_section_name(in->type));
	return libvm__fail(-EBADMSG, "snapshot is truncated: it ends at byte %llu, before its end section",
			   (unsigned long long)in->offset);
}

int libvm__sin_get(struct libvm__sin *in, void *p, size_t n, bool crc)
{
	uint8_t *dst = p;
	size_t want = n;

	while (n) {
		ssize_t r;

		if (in->pos < in->len) {
			size_t k = in->len - in->pos < n ? in->len - in->pos : n;

			memcpy(dst, in->buf + in->pos, k);
			in->pos += k;
			dst += k;
			n -= k;
			continue;
		}
		/* Large reads go straight to the destination (guest pages). */
		if (n >= in->cap) {
			r = read_some(in->fd, dst, n);
			if (r > 0) {
				dst += r;
				n -= (size_t)r;
				continue;
			}
		} else {
			r = read_some(in->fd, in->buf, in->cap);
			if (r > 0) {
				in->pos = 0;
				in->len = (size_t)r;
				continue;
			}
		}
		if (r < 0)
			return libvm__fail(-errno, "snapshot: reading at byte %llu failed: %s",
					   (unsigned long long)(in->offset + (want - n)), strerror(errno));
		in->offset += want - n;
		return truncated(in);
	}
	in->offset += want;
	if (crc)
		in->crc = crc_of(in->crc, p, want);
	return 0;
}

int libvm__sin_header(struct libvm__sin *in, uint32_t *flags, uint32_t *writer_version)
{
	uint8_t h[LIBVM__SNAP_HEADER];
	uint32_t format;
	int err = libvm__sin_get(in, h, sizeof(h), false);

	if (err == -EBADMSG)
		return libvm__fail(-EBADMSG, "not a libvm snapshot: it is shorter than a header (%llu bytes)",
				   (unsigned long long)in->offset);
	if (err)
		return err;
	if (memcmp(h, LIBVM__SNAP_MAGIC, 8))
		return libvm__fail(-EBADMSG, "not a libvm snapshot (no \"%s\" at its start)",
				   LIBVM__SNAP_MAGIC);
	if (libvm__le32(h + 28) != crc_of(0, h, 28))
		return libvm__fail(-EBADMSG, "snapshot is corrupted: its header's checksum is wrong");
	format = libvm__le32(h + 8);
	*writer_version = libvm__le32(h + 16);
	if (format > LIBVM__SNAP_FORMAT)
		return libvm__fail(-ENOTSUP, "snapshot has format version %u, newer than this libvm reads (%u); it was written by libvm %u.%u.%u",
				   format, LIBVM__SNAP_FORMAT, *writer_version >> 16,
				   (*writer_version >> 8) & 0xff, *writer_version & 0xff);
	if (format == 0)
		return libvm__fail(-EBADMSG, "snapshot is corrupted: format version 0");
	*flags = libvm__le32(h + 12);
	return 0;
}

int libvm__sin_next(struct libvm__sin *in)
{
	uint8_t h[LIBVM__SNAP_SECTION];
	uint64_t at = in->offset;
	int err;

	in->type = 0;
	err = libvm__sin_get(in, h, sizeof(h), false);
	if (err)
		return err;
	if (libvm__le32(h + 28) != crc_of(0, h, 28))
		return libvm__fail(-EBADMSG, "snapshot is corrupted: the section header at byte %llu has a wrong checksum",
				   (unsigned long long)at);
	in->type = libvm__le32(h);
	in->id = libvm__le32(h + 4);
	in->version = libvm__le32(h + 8);
	in->length = in->left = libvm__le64(h + 16);
	in->crc = 0;
	if (libvm__le32(h + 12) || libvm__le32(h + 24))
		return libvm__fail(-EBADMSG, "snapshot: the '%s' section at byte %llu has reserved fields set",
				   libvm__snap_section_name(in->type), (unsigned long long)at);
	return 0;
}

int libvm__sin_payload(struct libvm__sin *in, void *p, size_t n)
{
	if (n > in->left)
		return libvm__fail(-EBADMSG, "snapshot is corrupted: a '%s' section's contents run past its length",
				   libvm__snap_section_name(in->type));
	in->left -= n;
	return libvm__sin_get(in, p, n, true);
}

int libvm__sin_payload_all(struct libvm__sin *in, uint8_t **out, size_t max)
{
	int err;

	*out = NULL;
	if (in->left > max)
		return libvm__fail(-EBADMSG, "snapshot is corrupted: a '%s' section of %llu bytes (at most %zu)",
				   libvm__snap_section_name(in->type), (unsigned long long)in->left,
				   max);
	*out = malloc(in->left ? in->left : 1);
	if (!*out)
		return libvm__fail(-ENOMEM, "snapshot: out of memory");
	err = libvm__sin_payload(in, *out, in->left);
	if (!err)
		err = libvm__sin_end(in);
	if (err) {
		free(*out);
		*out = NULL;
	}
	return err;
}

int libvm__sin_end(struct libvm__sin *in)
{
	uint8_t t[4];
	uint32_t crc = in->crc;
	int err;

	if (in->left)
		return libvm__fail(-EBADMSG, "snapshot is corrupted: %llu bytes of a '%s' section were not understood",
				   (unsigned long long)in->left, libvm__snap_section_name(in->type));
	err = libvm__sin_get(in, t, sizeof(t), false);
	if (err)
		return err;
	if (libvm__le32(t) != crc)
		return libvm__fail(-EBADMSG, "snapshot is corrupted: the checksum of a '%s' section (ending at byte %llu) is wrong",
				   libvm__snap_section_name(in->type), (unsigned long long)in->offset);
	in->type = 0;
	return 0;
}
