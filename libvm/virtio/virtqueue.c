/* SPDX-License-Identifier: MIT */
/*
 * Split virtqueue processing (virtio 1.x, 2.7): taking chains off the
 * available ring, returning them on the used ring, and deciding about
 * interrupts with or without VIRTIO_F_EVENT_IDX. See virtqueue.h for the
 * rules about hostile drivers.
 */
#include <errno.h>
#include <string.h>

#include "../bytes.h"
#include "virtqueue.h"

static int rd16(const struct libvm__vmem *m, uint64_t gpa, uint16_t *v)
{
	uint8_t b[2];
	int err = m->read(m->ctx, gpa, b, 2);

	if (!err)
		*v = libvm__le16(b);
	return err ? -EFAULT : 0;
}

static int wr16(const struct libvm__vmem *m, uint64_t gpa, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };

	return m->write(m->ctx, gpa, b, 2) ? -EFAULT : 0;
}

void libvm__vq_reset(struct libvm__vq *vq)
{
	uint16_t max = vq->max_size;

	memset(vq, 0, sizeof(*vq));
	vq->max_size = max;
	vq->size = max;
	vq->msix_vector = 0xffff;
}

/* Ring layout (2.7.6, 2.7.8): avail {flags, idx, ring[size], used_event}, used {flags, idx, ring[size] of 8, avail_event}. */
#define AVAIL_IDX(vq) ((vq)->avail + 2)
#define AVAIL_RING(vq, i) ((vq)->avail + 4 + 2ull * (i))
#define USED_EVENT(vq) ((vq)->avail + 4 + 2ull * (vq)->size)
#define USED_IDX(vq) ((vq)->used + 2)
#define USED_RING(vq, i) ((vq)->used + 4 + 8ull * (i))
#define AVAIL_EVENT(vq) ((vq)->used + 4 + 8ull * (vq)->size)

int libvm__vq_pop(struct libvm__vq *vq, const struct libvm__vmem *m, struct libvm__vq_req *req)
{
	uint64_t table, total = 0;
	uint32_t tsize, count = 0;
	uint16_t avail_idx, head, i, pending;
	bool in_indirect = false;
	int err;

	if (!vq->enabled || !vq->size)
		return 0;
	err = rd16(m, AVAIL_IDX(vq), &avail_idx);
	if (err)
		return err;
	pending = (uint16_t)(avail_idx - vq->last_avail);
	if (!pending)
		return 0;
	if (pending > vq->size)
		return -EIO;
	/* The ring entry must not be read before the index that covers it. */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	err = rd16(m, AVAIL_RING(vq, vq->last_avail % vq->size), &head);
	if (err)
		return err;
	if (head >= vq->size)
		return -EIO;
	vq->last_avail++;
	/*
	 * With event_idx, tell the driver which index to notify at next
	 * (2.7.10). That store must be visible before our next read of
	 * avail->idx (the caller pops until the ring is empty): otherwise the
	 * driver can add a buffer, read a stale avail_event, skip the
	 * notification, while we read the old idx and stop. x86 may move a
	 * load before an earlier store, hence a full fence.
	 */
	if (vq->event_idx) {
		wr16(m, AVAIL_EVENT(vq), vq->last_avail);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	}

	memset(req, 0, offsetof(struct libvm__vq_req, seg));
	req->head = head;
	table = vq->desc;
	tsize = vq->size;
	i = head;
	for (;;) {
		uint8_t d[16];
		uint64_t addr;
		uint32_t len;
		uint16_t flags, next;

		/* A chain visits each descriptor of its table at most once, so
		 * more steps than the table has descriptors is a loop
		 * (2.7.5.2). The count starts again in an indirect table: the
		 * descriptor pointing to it is a step of the main chain, and a
		 * full-size table (Linux fills one with seg_max + 2 entries)
		 * must still fit. */
		if (++count > tsize)
			return -ELOOP;
		/* Direct descriptors before an indirect one (2.7.5.3.1) plus a
		 * full table could outgrow seg[]: refuse rather than overrun. */
		if (req->n_out + req->n_in >= LIBVM__VQ_MAX_SIZE)
			return -EIO;
		if (m->read(m->ctx, table + 16ull * i, d, sizeof(d)))
			return -EFAULT;
		/* From here on only the host copy is used: read once. */
		addr = (uint64_t)libvm__le32(d) | (uint64_t)libvm__le32(d + 4) << 32;
		len = libvm__le32(d + 8);
		flags = libvm__le16(d + 12);
		next = libvm__le16(d + 14);
		if (flags & LIBVM__VRING_DESC_F_INDIRECT) {
			/* 2.7.5.3.1: only with the feature, never nested, never
			 * with NEXT, a whole number of descriptors. */
			if (!vq->indirect || in_indirect || (flags & LIBVM__VRING_DESC_F_NEXT) ||
			    len == 0 || len % 16 || len / 16 > vq->size)
				return -EIO;
			table = addr;
			tsize = len / 16;
			i = 0;
			count = 0;
			in_indirect = true;
			continue;
		}
		if (flags & LIBVM__VRING_DESC_F_WRITE) {
			req->n_in++;
			req->in_bytes += len;
		} else {
			/* Readable buffers come first (2.7.4.2). */
			if (req->n_in)
				return -EIO;
			req->n_out++;
			req->out_bytes += len;
		}
		total += len;
		if (total > UINT32_MAX)
			return -EIO; /* the used length could not say it */
		req->seg[req->n_out + req->n_in - 1] = (struct libvm__vq_seg){ addr, len };
		if (!(flags & LIBVM__VRING_DESC_F_NEXT))
			break;
		if (next >= tsize)
			return -EIO;
		i = next;
	}
	return 1;
}

int libvm__vq_push(struct libvm__vq *vq, const struct libvm__vmem *m, uint16_t head,
		   uint32_t len)
{
	uint8_t e[8] = {
		(uint8_t)head, (uint8_t)(head >> 8), 0, 0,
		(uint8_t)len, (uint8_t)(len >> 8), (uint8_t)(len >> 16), (uint8_t)(len >> 24),
	};

	if (m->write(m->ctx, USED_RING(vq, vq->used_idx % vq->size), e, sizeof(e)))
		return -EFAULT;
	/* The entry must be visible before the index that publishes it. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	vq->used_idx++;
	return wr16(m, USED_IDX(vq), vq->used_idx);
}

bool libvm__vq_should_notify(struct libvm__vq *vq, const struct libvm__vmem *m)
{
	uint16_t old = vq->signalled, now = vq->used_idx, v;

	/* Our used->idx store must be ordered before reading the driver's
	 * suppression fields, or an interrupt can be lost. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	vq->signalled = now;
	if (vq->event_idx) {
		if (rd16(m, USED_EVENT(vq), &v))
			return true;
		/* vring_need_event (2.7.7.1): used_event passed in (old, now]. */
		return (uint16_t)(now - v - 1) < (uint16_t)(now - old);
	}
	if (rd16(m, vq->avail, &v))
		return true;
	return old != now && !(v & LIBVM__VRING_AVAIL_F_NO_INTERRUPT);
}

static int copy(const struct libvm__vmem *m, const struct libvm__vq_req *req, bool in,
		uint64_t off, void *hbuf, size_t len)
{
	uint32_t first = in ? req->n_out : 0, n = in ? req->n_in : req->n_out;
	uint64_t avail = in ? req->in_bytes : req->out_bytes;
	uint8_t *p = hbuf;

	if (off > avail || len > avail - off)
		return -EINVAL;
	for (uint32_t k = first; k < first + n && len; k++) {
		const struct libvm__vq_seg *s = &req->seg[k];
		size_t chunk;
		int err;

		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		chunk = s->len - off < len ? (size_t)(s->len - off) : len;
		/* gpa + off may wrap for a hostile address: the accessor refuses it. */
		if (in)
			err = m->write(m->ctx, s->gpa + off, p, chunk);
		else
			err = m->read(m->ctx, s->gpa + off, p, chunk);
		if (err)
			return -EFAULT;
		p += chunk;
		len -= chunk;
		off = 0;
	}
	return 0;
}

int libvm__vq_read(const struct libvm__vmem *m, const struct libvm__vq_req *req, uint64_t off,
		   void *buf, size_t len)
{
	return copy(m, req, false, off, buf, len);
}

int libvm__vq_write(const struct libvm__vmem *m, const struct libvm__vq_req *req, uint64_t off,
		    const void *buf, size_t len)
{
	return copy(m, req, true, off, (void *)buf, len);
}
