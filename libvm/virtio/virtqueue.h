/* SPDX-License-Identifier: MIT */
/*
 * Split virtqueues (virtio 1.x, 2.7) as plain state and pure functions over
 * a guest-memory accessor, so unit tests run them on a buffer. Everything
 * the driver wrote is hostile: each descriptor is read once into host
 * memory and validated there, chains are bounded by the queue size, and
 * every guest address goes through the accessor, which refuses anything
 * outside guest RAM.
 */
#ifndef LIBVM_VIRTQUEUE_H
#define LIBVM_VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Guest memory as the device sees it (libvm_mem_read/write for a VM). */
struct libvm__vmem {
	int (*read)(void *ctx, uint64_t gpa, void *buf, size_t len);
	int (*write)(void *ctx, uint64_t gpa, const void *buf, size_t len);
	void *ctx;
};

#define LIBVM__VQ_MAX_SIZE 256 /* the largest queue we offer */

/* Descriptor flags (2.7.5) and ring flags (2.7.6, 2.7.8). */
#define LIBVM__VRING_DESC_F_NEXT 1
#define LIBVM__VRING_DESC_F_WRITE 2
#define LIBVM__VRING_DESC_F_INDIRECT 4
#define LIBVM__VRING_AVAIL_F_NO_INTERRUPT 1

struct libvm__vq {
	uint16_t size;         /* driver's choice, power of two <= max_size */
	uint16_t max_size;
	uint16_t msix_vector;  /* 0xffff: none */
	bool enabled;
	bool event_idx;        /* VIRTIO_F_EVENT_IDX negotiated */
	bool indirect;         /* VIRTIO_F_INDIRECT_DESC negotiated */
	uint64_t desc, avail, used;
	uint16_t last_avail;   /* next avail ring slot to take */
	uint16_t used_idx;     /* our copy of used->idx */
	uint16_t signalled;    /* used_idx when we last decided about an interrupt */
};

/* One buffer of a chain: device-readable ("out") first, then writable ("in"). */
struct libvm__vq_seg {
	uint64_t gpa;
	uint32_t len;
};

struct libvm__vq_req {
	uint16_t head;
	uint32_t n_out, n_in;
	uint64_t out_bytes, in_bytes;
	struct libvm__vq_seg seg[LIBVM__VQ_MAX_SIZE];
};

/* Back to the reset state, keeping max_size. */
void libvm__vq_reset(struct libvm__vq *vq);

/*
 * Take the next available chain into @req. Returns 1 with @req filled, 0
 * when the ring is empty, or a negative errno when the driver broke the
 * queue (the device must then go to NEEDS_RESET): -EFAULT rings or tables
 * outside guest RAM, -EIO a malformed chain (head or next out of range,
 * avail index jumping by more than the queue size, writable before
 * readable, nested or misused indirect tables, more than 4 GiB), -ELOOP a
 * chain longer than the queue (a loop).
 */
int libvm__vq_pop(struct libvm__vq *vq, const struct libvm__vmem *m, struct libvm__vq_req *req);

/* Put chain @head on the used ring with @len bytes written. 0 or -EFAULT. */
int libvm__vq_push(struct libvm__vq *vq, const struct libvm__vmem *m, uint16_t head,
		   uint32_t len);

/*
 * After one or more pushes: does the driver want an interrupt now (2.7.7,
 * with used_event when event_idx)? Errors count as "yes".
 */
bool libvm__vq_should_notify(struct libvm__vq *vq, const struct libvm__vmem *m);

/* Copy out of the readable part at byte @off. 0, or -EFAULT / -EINVAL (past its end). */
int libvm__vq_read(const struct libvm__vmem *m, const struct libvm__vq_req *req, uint64_t off,
		   void *buf, size_t len);
/* Copy into the writable part at byte @off. 0, or -EFAULT / -EINVAL (past its end). */
int libvm__vq_write(const struct libvm__vmem *m, const struct libvm__vq_req *req, uint64_t off,
		    const void *buf, size_t len);

#endif
