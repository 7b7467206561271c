/* SPDX-License-Identifier: MIT */
/*
 * Split virtqueue against hostile drivers, on a buffer: well-formed chains
 * (direct and indirect), then loops, indices out of range, avail index
 * jumps, rings and tables outside RAM, writable-before-readable, nested
 * or misused indirect tables and lengths past 4 GiB -- each a clean error,
 * with nothing read or written outside guest RAM. Interrupt suppression
 * with and without event index.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>

#include "vtest.h"

#define QS 8

static struct libvm__vq vq_new(bool indirect, bool event_idx)
{
	struct libvm__vq vq = { .max_size = QS };

	libvm__vq_reset(&vq);
	vq.desc = G_DESC;
	vq.avail = G_AVAIL;
	vq.used = G_USED;
	vq.enabled = true;
	vq.indirect = indirect;
	vq.event_idx = event_idx;
	return vq;
}

static struct libvm__vq_req req;

static void test_chain_and_used(void **state)
{
	struct gmem *g = gmem_new();
	struct libvm__vmem m = gmem_accessor(g);
	struct libvm__vq vq = vq_new(false, false);
	uint8_t buf[8];

	(void)state;
	assert_int_equal(libvm__vq_pop(&vq, &m, &req), 0); /* empty */
	memcpy(g->buf + G_DATA, "hello", 5);
	g_desc(g, G_DESC, 3, G_DATA, 5, LIBVM__VRING_DESC_F_NEXT, 5);
	g_desc(g, G_DESC, 5, G_DATA + 0x100, 3, LIBVM__VRING_DESC_F_NEXT | LIBVM__VRING_DESC_F_WRITE, 6);
	g_desc(g, G_DESC, 6, G_DATA + 0x200, 4, LIBVM__VRING_DESC_F_WRITE, 0);
	g_avail(g, QS, 3);
	assert_int_equal(libvm__vq_pop(&vq, &m, &req), 1);
	assert_int_equal(req.head, 3);
	assert_int_equal(req.n_out, 1);
	assert_int_equal(req.n_in, 2);
	assert_int_equal(req.out_bytes, 5);
	assert_int_equal(req.in_bytes, 7);
	assert_int_equal(libvm__vq_read(&m, &req, 1, buf, 4), 0);
	assert_memory_equal(buf, "ello", 4);
	assert_int_equal(libvm__vq_read(&m, &req, 2, buf, 4), -EINVAL);
	/* Scatter across the two writable buffers. */
	assert_int_equal(libvm__vq_write(&m, &req, 0, "ABCDEFG", 7), 0);
	assert_memory_equal(g->buf + G_DATA + 0x100, "ABC", 3);
	assert_memory_equal(g->buf + G_DATA + 0x200, "DEFG", 4);
	assert_int_equal(libvm__vq_write(&m, &req, 5, "xyz", 3), -EINVAL);
	assert_int_equal(libvm__vq_push(&vq, &m, req.head, 7), 0);
	assert_int_equal(g_used_idx(g), 1);
	assert_int_equal(g_get32(g, G_USED + 4), 3);
	assert_int_equal(g_used_len(g, 0), 7);
	assert_int_equal(libvm__vq_pop(&vq, &m, &req), 0);
	/* Without event index: NO_INTERRUPT suppresses. */
	assert_true(libvm__vq_should_notify(&vq, &m));
	assert_false(libvm__vq_should_notify(&vq, &m)); /* nothing new */
	g_put16(g, G_AVAIL, LIBVM__VRING_AVAIL_F_NO_INTERRUPT);
	libvm__vq_push(&vq, &m, 0, 0);
	assert_false(libvm__vq_should_notify(&vq, &m));
	assert_int_equal(g->outside, 0);
	gmem_free(g);
}

static void test_event_idx(void **state)
{
	struct gmem *g = gmem_new();
	struct libvm__vmem m = gmem_accessor(g);
	struct libvm__vq vq = vq_new(false, true);

	(void)state;
	for (int i = 0; i < 3; i++) {
		g_desc(g, G_DESC, (uint16_t)i, G_DATA, 4, LIBVM__VRING_DESC_F_WRITE, 0);
		g_avail(g, QS, (uint16_t)i);
	}
	/* used_event = 1: interrupt when used idx passes 1, i.e. at the 2nd entry. */
	g_put16(g, G_AVAIL + 4 + 2 * QS, 1);
	assert_int_equal(libvm__vq_pop(&vq, &m, &req), 1);
	/* avail_event tells the driver where we are. */
	assert_int_equal(g_get16(g, G_USED + 4 + 8 * QS), 1);
	libvm__vq_push(&vq, &m, req.head, 4);
	assert_false(libvm__vq_should_notify(&vq, &m));
	libvm__vq_pop(&vq, &m, &req);
	libvm__vq_push(&vq, &m, req.head, 4);
	assert_true(libvm__vq_should_notify(&vq, &m));
	libvm__vq_pop(&vq, &m, &req);
	libvm__vq_push(&vq, &m, req.head, 4);
	assert_false(libvm__vq_should_notify(&vq, &m));
	gmem_free(g);
}

static void test_indirect(void **state)
{
	struct gmem *g = gmem_new();
	struct libvm__vmem m = gmem_accessor(g);
	struct libvm__vq vq = vq_new(true, false);
	const uint64_t it = G_DATA + 0x1000;

	(void)state;
	g_desc(g, it, 0, G_DATA, 16, LIBVM__VRING_DESC_F_NEXT, 1);
	g_desc(g, it, 1, G_DATA + 16, 1, LIBVM__VRING_DESC_F_WRITE, 0);
	g_desc(g, G_DESC, 2, it, 32, LIBVM__VRING_DESC_F_INDIRECT, 0);
	g_avail(g, QS, 2);
	assert_int_equal(libvm__vq_pop(&vq, &m, &req), 1);
	assert_int_equal(req.head, 2);
	assert_int_equal(req.out_bytes, 16);
	assert_int_equal(req.in_bytes, 1);
	gmem_free(g);
}

/* A full-size indirect table (as many entries as the queue has: Linux's
 * virtio-blk sends seg_max + 2 of them) is a valid request, not a loop,
 * even after direct descriptors that lead to it. */
static void test_indirect_full_size(void **state)
{
	struct gmem *g = gmem_new();
	struct libvm__vmem m = gmem_accessor(g);
	struct libvm__vq vq = vq_new(true, false);
	const uint64_t it = G_DATA + 0x1000;

	(void)state;
	for (uint16_t k = 0; k < QS; k++)
		g_desc(g, it, k, G_DATA + 16ull * k, 16,
		       k + 1 < QS ? LIBVM__VRING_DESC_F_NEXT : LIBVM__VRING_DESC_F_WRITE,
		       (uint16_t)(k + 1));
	g_desc(g, G_DESC, 4, G_DATA, 8, LIBVM__VRING_DESC_F_NEXT, 5);
	g_desc(g, G_DESC, 5, it, 16 * QS, LIBVM__VRING_DESC_F_INDIRECT, 0);
	g_avail(g, QS, 4);
	assert_int_equal(libvm__vq_pop(&vq, &m, &req), 1);
	assert_int_equal(req.head, 4);
	assert_int_equal(req.n_out, QS); /* 1 direct + QS - 1 from the table */
	assert_int_equal(req.n_in, 1);
	assert_int_equal(req.out_bytes, 8 + 16 * (QS - 1));
	gmem_free(g);
}

/* One hostile chain at head 0 of a fresh queue: @expect from pop. */
static void expect_broken(void (*build)(struct gmem *g), bool indirect, int expect)
{
	struct gmem *g = gmem_new();
	struct libvm__vmem m = gmem_accessor(g);
	struct libvm__vq vq = vq_new(indirect, false);

	build(g);
	assert_int_equal(libvm__vq_pop(&vq, &m, &req), expect);
	gmem_free(g);
}

static void loop2(struct gmem *g)
{
	g_desc(g, G_DESC, 0, G_DATA, 1, LIBVM__VRING_DESC_F_NEXT, 1);
	g_desc(g, G_DESC, 1, G_DATA, 1, LIBVM__VRING_DESC_F_NEXT, 0);
	g_avail(g, QS, 0);
}

static void self_loop(struct gmem *g)
{
	g_desc(g, G_DESC, 0, G_DATA, 1, LIBVM__VRING_DESC_F_NEXT, 0);
	g_avail(g, QS, 0);
}

static void head_out_of_range(struct gmem *g)
{
	g_avail(g, QS, QS);
}

static void next_out_of_range(struct gmem *g)
{
	g_desc(g, G_DESC, 0, G_DATA, 1, LIBVM__VRING_DESC_F_NEXT, 0xffff);
	g_avail(g, QS, 0);
}

static void avail_jump(struct gmem *g)
{
	g_put16(g, G_AVAIL + 2, QS + 1);
}

static void write_then_read(struct gmem *g)
{
	g_desc(g, G_DESC, 0, G_DATA, 1, LIBVM__VRING_DESC_F_WRITE | LIBVM__VRING_DESC_F_NEXT, 1);
	g_desc(g, G_DESC, 1, G_DATA, 1, 0, 0);
	g_avail(g, QS, 0);
}

static void over_4g(struct gmem *g)
{
	g_desc(g, G_DESC, 0, G_DATA, 0xffffffff, LIBVM__VRING_DESC_F_NEXT, 1);
	g_desc(g, G_DESC, 1, G_DATA, 0xffffffff, LIBVM__VRING_DESC_F_WRITE, 0);
	g_avail(g, QS, 0);
}

static void indirect_plain(struct gmem *g)
{
	g_desc(g, G_DESC, 0, G_DATA, 32, LIBVM__VRING_DESC_F_INDIRECT, 0);
	g_avail(g, QS, 0);
}

static void indirect_nested(struct gmem *g)
{
	g_desc(g, G_DATA, 0, G_DATA + 0x100, 16, LIBVM__VRING_DESC_F_INDIRECT, 0);
	indirect_plain(g);
}

static void indirect_with_next(struct gmem *g)
{
	g_desc(g, G_DESC, 0, G_DATA, 32, LIBVM__VRING_DESC_F_INDIRECT | LIBVM__VRING_DESC_F_NEXT, 1);
	g_avail(g, QS, 0);
}

static void indirect_odd_len(struct gmem *g)
{
	g_desc(g, G_DESC, 0, G_DATA, 24, LIBVM__VRING_DESC_F_INDIRECT, 0);
	g_avail(g, QS, 0);
}

static void indirect_huge(struct gmem *g)
{
	g_desc(g, G_DESC, 0, G_DATA, 0xfffffff0, LIBVM__VRING_DESC_F_INDIRECT, 0);
	g_avail(g, QS, 0);
}

static void indirect_outside(struct gmem *g)
{
	g_desc(g, G_DESC, 0, 0xfffffffffffffff0ull, 32, LIBVM__VRING_DESC_F_INDIRECT, 0);
	g_avail(g, QS, 0);
}

static void indirect_loop(struct gmem *g)
{
	g_desc(g, G_DATA, 0, G_DATA + 0x100, 1, LIBVM__VRING_DESC_F_NEXT, 1);
	g_desc(g, G_DATA, 1, G_DATA + 0x100, 1, LIBVM__VRING_DESC_F_NEXT, 0);
	indirect_plain(g);
}

static void test_hostile_chains(void **state)
{
	(void)state;
	expect_broken(loop2, false, -ELOOP);
	expect_broken(self_loop, false, -ELOOP);
	expect_broken(head_out_of_range, false, -EIO);
	expect_broken(next_out_of_range, false, -EIO);
	expect_broken(avail_jump, false, -EIO);
	expect_broken(write_then_read, false, -EIO);
	expect_broken(over_4g, false, -EIO);
	expect_broken(indirect_plain, false, -EIO); /* not negotiated */
	expect_broken(indirect_nested, true, -EIO);
	expect_broken(indirect_with_next, true, -EIO);
	expect_broken(indirect_odd_len, true, -EIO);
	expect_broken(indirect_huge, true, -EIO);
	expect_broken(indirect_outside, true, -EFAULT);
	expect_broken(indirect_loop, true, -ELOOP);
}

static void test_rings_outside_ram(void **state)
{
	struct gmem *g = gmem_new();
	struct libvm__vmem m = gmem_accessor(g);
	struct libvm__vq vq = vq_new(false, false);

	(void)state;
	/* Avail ring beyond RAM. */
	vq.avail = G_RAM - 2;
	assert_int_equal(libvm__vq_pop(&vq, &m, &req), -EFAULT);
	/* Descriptor table beyond RAM. */
	vq = vq_new(false, false);
	vq.desc = G_RAM - 8;
	g_avail(g, QS, 0);
	assert_int_equal(libvm__vq_pop(&vq, &m, &req), -EFAULT);
	/* A buffer beyond RAM: the chain is fine, the copy fails cleanly. */
	vq = vq_new(false, false);
	g_desc(g, G_DESC, 0, G_RAM - 4, 0xffffffff, LIBVM__VRING_DESC_F_WRITE, 0);
	assert_int_equal(libvm__vq_pop(&vq, &m, &req), 1);
	assert_int_equal(libvm__vq_write(&m, &req, 0, "12345678", 8), -EFAULT);
	/* An address that wraps around. */
	g_desc(g, G_DESC, 1, 0xfffffffffffffffcull, 16, LIBVM__VRING_DESC_F_WRITE, 0);
	g_avail(g, QS, 1);
	assert_int_equal(libvm__vq_pop(&vq, &m, &req), 1);
	assert_int_equal(libvm__vq_write(&m, &req, 0, "12345678", 8), -EFAULT);
	/* Used ring beyond RAM. */
	vq.used = G_RAM - 4;
	assert_int_equal(libvm__vq_push(&vq, &m, 0, 0), -EFAULT);
	/* Nothing beyond the buffer was touched: every such access was refused. */
	assert_true(g->outside >= 5);
	gmem_free(g);
}

/* Random rings and descriptor tables: only clean outcomes, never a host fault. */
static void test_random_rings(void **state)
{
	struct gmem *g = gmem_new();
	struct libvm__vmem m = gmem_accessor(g);
	uint64_t x = 0x9e3779b97f4a7c15ull;
	static uint8_t buf[0x10000];
	int popped = 0;

	(void)state;
	for (int round = 0; round < 5000; round++) {
		struct libvm__vq vq = vq_new(round & 1, round & 2);
		int r;

		/* xorshift: random tables, rings and indices, some addresses in RAM. */
		for (unsigned i = 0; i < 16 * QS + 4 + 2 * QS; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			if (i < 16 * QS)
				g->buf[G_DESC + i] = (uint8_t)x;
			else
				g->buf[G_AVAIL + i - 16 * QS] = (uint8_t)x;
		}
		for (unsigned d = 0; d < QS; d++) {
			uint8_t *e = g->buf + G_DESC + 16 * d;

			if (x & (1u << d)) /* an address inside RAM now and then */
				memset(e + 3, 0, 5);
			if (x & (0x100u << d)) { /* short lengths, in-range next */
				e[9] = e[10] = e[11] = 0;
				e[14] %= QS + 1;
				e[15] = 0;
			}
			g_put16(g, G_AVAIL + 4 + 2 * d, (uint16_t)(g_get16(g, G_AVAIL + 4 + 2 * d) % (QS + 1)));
		}
		if (round % 4) /* a sane number of entries most of the time */
			g_put16(g, G_AVAIL + 2, (uint16_t)(x % (QS + 2)));
		for (int k = 0; k < 2 * QS && (r = libvm__vq_pop(&vq, &m, &req)) != 0; k++) {
			if (r < 0) {
				assert_true(r == -EIO || r == -ELOOP || r == -EFAULT);
				break;
			}
			assert_true(req.head < QS);
			assert_true(req.n_out + req.n_in <= QS);
			libvm__vq_read(&m, &req, 0, buf,
				       req.out_bytes < sizeof(buf) ? req.out_bytes : sizeof(buf));
			libvm__vq_write(&m, &req, 0, buf,
					req.in_bytes < sizeof(buf) ? req.in_bytes : sizeof(buf));
			assert_int_equal(libvm__vq_push(&vq, &m, req.head, 0), 0);
			popped++;
		}
	}
	assert_true(popped > 100); /* the generator does make valid chains */
	gmem_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chain_and_used),
		cmocka_unit_test(test_event_idx),
		cmocka_unit_test(test_indirect),
		cmocka_unit_test(test_indirect_full_size),
		cmocka_unit_test(test_hostile_chains),
		cmocka_unit_test(test_rings_outside_ram),
		cmocka_unit_test(test_random_rings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
