/* SPDX-License-Identifier: MIT */
/*
 * The split virtqueue alone (libvm/virtio/virtqueue.c), over 64 KiB of
 * guest memory in a buffer: a 12-byte header sets the queue (size, ring
 * addresses, EVENT_IDX, INDIRECT_DESC), then operations run in turn: the
 * driver writes bytes anywhere in memory, the device pops chains, reads
 * and writes their buffers, pushes used entries and decides about
 * interrupts.
 *
 * Invariants: the accessor is never asked for memory outside the buffer
 * (it aborts); a popped chain has a head inside the queue, 1 .. 256
 * segments, readable ones first, byte counts that add up, below 4 GiB;
 * reads and writes past the chain's end are refused; the device never
 * takes a chain from an empty ring (avail->idx equal to its own index).
 */
#include <errno.h>

#include "fuzz.h"
#include "virtio/virtqueue.h"

#define MEM 0x10000u

static uint8_t gmem[MEM];

static int g_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	(void)ctx;
	if (gpa > MEM || len > MEM - gpa)
		return -EFAULT;
	memcpy(buf, gmem + gpa, len);
	return 0;
}

static int g_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	(void)ctx;
	if (gpa > MEM || len > MEM - gpa)
		return -EFAULT;
	memcpy(gmem + gpa, buf, len);
	return 0;
}

static void check_req(const struct libvm__vq *vq, const struct libvm__vq_req *r)
{
	uint64_t out = 0, in = 0;
	uint32_t n = r->n_out + r->n_in;

	if (r->head >= vq->size)
		fuzz_fail("head %u of a queue of %u", r->head, vq->size);
	if (n == 0 || n > LIBVM__VQ_MAX_SIZE)
		fuzz_fail("%u segments", n);
	for (uint32_t i = 0; i < n; i++)
		*(i < r->n_out ? &out : &in) += r->seg[i].len;
	if (out != r->out_bytes || in != r->in_bytes)
		fuzz_fail("byte counts %llu/%llu, segments say %llu/%llu",
			  (unsigned long long)r->out_bytes, (unsigned long long)r->in_bytes,
			  (unsigned long long)out, (unsigned long long)in);
	if (out + in > UINT32_MAX)
		fuzz_fail("a chain of %llu bytes", (unsigned long long)(out + in));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct libvm__vq_req req;
	const struct libvm__vmem m = { g_read, g_write, NULL };
	struct libvm__vq vq = { .max_size = LIBVM__VQ_MAX_SIZE };
	struct fin f = { data, size };
	uint8_t cfg, buf[512];
	bool have_req = false;
	uint16_t last_idx = 0;

	memset(gmem, 0, sizeof(gmem));
	libvm__vq_reset(&vq);
	cfg = fin_u8(&f);
	vq.size = (uint16_t)(1u << (cfg % 9));
	vq.event_idx = cfg & 0x10;
	vq.indirect = cfg & 0x20;
	vq.desc = fin_u16(&f);
	vq.avail = fin_u16(&f);
	vq.used = fin_u16(&f);
	/* Ring addresses may also point past memory (accessor refuses). */
	if (cfg & 0x40)
		vq.used += MEM - 0x100;
	vq.enabled = true;
	(void)fin_u32(&f); /* reserved: room for later settings */
	(void)fin_u8(&f);

	while (f.n) {
		uint8_t op = fin_u8(&f);
		int r;

		switch (op % 6) {
		case 0: { /* the driver writes memory */
			uint16_t at = fin_u16(&f);
			size_t n;
			const uint8_t *p = fin_take(&f, fin_u8(&f), &n);

			if (n > MEM - at)
				n = MEM - at;
			memcpy(gmem + at, p, n);
			break;
		}
		case 1: { /* ... and makes head available, bumping avail->idx */
			uint16_t head = fin_u16(&f);
			uint64_t a = vq.avail;

			if (a + 4 + 2ull * vq.size > MEM)
				break;
			libvm__put16(gmem + a + 4 + 2 * (last_idx % vq.size), head);
			last_idx++;
			libvm__put16(gmem + a + 2, last_idx);
			break;
		}
		case 2: { /* the device takes a chain */
			uint16_t before = vq.last_avail;
			bool empty = vq.avail + 4 <= MEM &&
				     libvm__le16(gmem + vq.avail + 2) == before;

			r = libvm__vq_pop(&vq, &m, &req);
			if (r < 0 && r != -EFAULT && r != -EIO && r != -ELOOP)
				fuzz_fail("pop returned %d", r);
			have_req = r == 1;
			if (have_req && empty)
				fuzz_fail("a chain taken from an empty ring");
			if (have_req)
				check_req(&vq, &req);
			if (r < 0)
				return 0; /* the device would now need a reset */
			break;
		}
		case 3: { /* reads and writes inside (or past) the chain */
			uint64_t off = fin_u16(&f);
			size_t len = fin_u16(&f) % sizeof(buf);
			bool in = op & 0x80;

			if (!have_req)
				break;
			r = in ? libvm__vq_write(&m, &req, off, buf, len) :
				 libvm__vq_read(&m, &req, off, buf, len);
			if (r && r != -EFAULT && r != -EINVAL)
				fuzz_fail("vq copy returned %d", r);
			if (!r && off + len > (in ? req.in_bytes : req.out_bytes))
				fuzz_fail("copy of %zu at %llu past a part of %llu bytes", len,
					  (unsigned long long)off,
					  (unsigned long long)(in ? req.in_bytes : req.out_bytes));
			break;
		}
		case 4: /* returned on the used ring */
			if (have_req && libvm__vq_push(&vq, &m, req.head, fin_u32(&f)) == 0)
				have_req = false;
			break;
		case 5:
			libvm__vq_should_notify(&vq, &m);
			break;
		}
	}
	return 0;
}
