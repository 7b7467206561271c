/* SPDX-License-Identifier: MIT */
/*
 * Saved state of the virtio devices (no KVM): a device with a driver set
 * up and requests done, saved with a request still in flight (made
 * available but not served, or a frame or console input read from the
 * host and not yet delivered), goes to the same device of a second VM with
 * a copy of guest memory; there the resume serves what was in flight and
 * the queues go on from the same indices. Malformed states change nothing;
 * a device of another configuration refuses the state.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../virtio/vtest.h"
#include "state.h"
#include "statetest.h"
#include "virtio/net.h"

#define QS 16
#define Q1 0x40000u /* queue 1's rings: G_* + Q1 (vdev_init) */

/* Move @name's state from @a to @b with a copy of guest memory, then
 * resume @b (which serves what was in flight). */
static uint8_t *move(struct vdev *a, struct vdev *b, const char *name, size_t *len)
{
	uint8_t *s;

	libvm__states_pause(a->vm, true);
	s = st_save(a->vm, name, len);
	libvm__states_pause(b->vm, true);
	memcpy(b->g->buf, a->g->buf, G_RAM);
	assert_int_equal(libvm_device_state_load(b->vm, name, s, *len, 1), 0);
	st_assert_state(b->vm, name, s, *len);
	libvm__states_pause(b->vm, false);
	return s;
}

/* --- virtio-blk ------------------------------------------------------ */

static char disk[] = "/tmp/libvm-state-blk-XXXXXX";

static libvm_virtio_blk *blk_new(struct vdev *d, const char *path)
{
	libvm_virtio_blk_options o = LIBVM_VIRTIO_BLK_OPTIONS_INIT;
	libvm_virtio_blk *b;

	vdev_bus(d);
	o.path = path;
	assert_int_equal(libvm_virtio_blk_attach(&b, d->bus, &o), 0);
	vdev_plug(d, (struct libvm__virtio *)b);
	return b;
}

/* A read of sector @sector into G_DATA + @slot * 0x1000 as chain 3 * @slot. */
static void blk_read_req(struct gmem *g, uint16_t slot, uint64_t sector)
{
	uint64_t hdr = G_DATA + 0x10000u + 32u * slot, data = G_DATA + 0x1000u * slot;
	uint16_t h = (uint16_t)(3 * slot);

	memset(g->buf + hdr, 0, 16);
	libvm__put64(g->buf + hdr + 8, sector);
	g_desc(g, G_DESC, h, hdr, 16, LIBVM__VRING_DESC_F_NEXT, h + 1);
	g_desc(g, G_DESC, h + 1, data, 512, LIBVM__VRING_DESC_F_WRITE | LIBVM__VRING_DESC_F_NEXT,
	       h + 2);
	g_desc(g, G_DESC, h + 2, hdr + 16, 1, LIBVM__VRING_DESC_F_WRITE, 0);
	g_avail(g, QS, h);
}

static void test_blk(void **state)
{
	struct vdev a, b, c;
	libvm_virtio_blk *other;
	char small[] = "/tmp/libvm-state-blk2-XXXXXX";
	uint8_t sector[512];
	uint8_t *s;
	size_t len;
	int fd;

	(void)state;
	fd = mkstemp(disk);
	assert_true(fd >= 0);
	for (int i = 0; i < 8; i++) {
		memset(sector, 'A' + i, sizeof(sector));
		assert_int_equal(write(fd, sector, sizeof(sector)), sizeof(sector));
	}
	close(fd);
	blk_new(&a, disk);
	blk_new(&b, disk);
	assert_int_equal(vdev_init(&a, F_VERSION_1 | F_EVENT_IDX, 1, QS), 0);
	/* One request served; one made available and not yet notified. */
	blk_read_req(a.g, 0, 1);
	vdev_kick(&a, 0);
	assert_int_equal(g_used_idx(a.g), 1);
	assert_int_equal(a.g->buf[G_DATA], 'B');
	blk_read_req(a.g, 1, 5);
	s = move(&a, &b, "virtio-blk@pci.01", &len);
	/* The second VM served the request in flight at the resume. */
	assert_int_equal(g_used_idx(b.g), 2);
	assert_int_equal(b.g->buf[G_DATA + 0x1000], 'F');
	assert_int_equal(b.g->buf[G_DATA + 0x10000 + 32 + 16], 0); /* status OK */
	/* And goes on from the same indices. */
	blk_read_req(b.g, 2, 7);
	vdev_kick(&b, 0);
	assert_int_equal(g_used_idx(b.g), 3);
	assert_int_equal(b.g->buf[G_DATA + 0x2000], 'H');
	assert_int_equal(g_get16(b.g, G_USED + 4 + 8 * 2), 6); /* chain 6 in used slot 2 */
	st_sweep_bad(b.v->vm, "virtio-blk@pci.01", s, len, "virtio-blk");
	/* A disk of another size refuses the state. */
	fd = mkstemp(small);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, sector, sizeof(sector)), sizeof(sector));
	close(fd);
	other = blk_new(&c, small);
	(void)other;
	assert_int_equal(libvm_device_state_load(c.vm, "virtio-blk@pci.01", s, len, 1), -EINVAL);
	assert_non_null(strstr(libvm_error_message(), "8 sectors"));
	vdev_free(&c);
	unlink(small);
	free(s);
	vdev_free(&a);
	vdev_free(&b);
	unlink(disk);
}

/* A driver state the transport would never have let in. */
static void test_bad_transport_state(void **state)
{
	struct vdev a;
	uint8_t *s, *bad;
	size_t len;

	(void)state;
	fclose(fopen("/tmp/libvm-state-blk3", "w"));
	blk_new(&a, "/tmp/libvm-state-blk3");
	assert_int_equal(vdev_init(&a, F_VERSION_1, 1, QS), 0);
	s = st_save(a.vm, "virtio-blk@pci.01", &len);
	bad = malloc(len);
	/* Layout: nq 2, features 8, dfselect 4, gfselect 4, status 1, ... */
	memcpy(bad, s, len);
	bad[0] = 2; /* two queues */
	assert_int_equal(libvm_device_state_load(a.vm, "virtio-blk@pci.01", bad, len, 1), -EINVAL);
	assert_non_null(strstr(libvm_error_message(), "2 queues"));
	memcpy(bad, s, len);
	bad[18] |= 0x10; /* an unknown status bit */
	assert_int_equal(libvm_device_state_load(a.vm, "virtio-blk@pci.01", bad, len, 1), -EINVAL);
	memcpy(bad, s, len);
	bad[26] = 0x03; /* queue size 3 on an enabled queue */
	bad[27] = 0;
	assert_int_equal(libvm_device_state_load(a.vm, "virtio-blk@pci.01", bad, len, 1), -EINVAL);
	assert_non_null(strstr(libvm_error_message(), "bad size or alignment"));
	memcpy(bad, s, len);
	bad[28] = 9; /* queue vector 9 on a function with 2 */
	bad[29] = 0;
	assert_int_equal(libvm_device_state_load(a.vm, "virtio-blk@pci.01", bad, len, 1), -EINVAL);
	memcpy(bad, s, len);
	bad[2 + 8 * 0 + 1] = 0x80; /* features bit 15, never offered, with FEATURES_OK */
	assert_int_equal(libvm_device_state_load(a.vm, "virtio-blk@pci.01", bad, len, 1), -EINVAL);
	st_assert_state(a.vm, "virtio-blk@pci.01", s, len);
	free(bad);
	free(s);
	vdev_free(&a);
	unlink("/tmp/libvm-state-blk3");
}

/* --- virtio-net ------------------------------------------------------ */

static libvm_virtio_net *net_new(struct vdev *d, int *peer)
{
	libvm_virtio_net_options o = LIBVM_VIRTIO_NET_OPTIONS_INIT;
	libvm_virtio_net *n;
	int sv[2];

	vdev_bus(d);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	*peer = sv[1];
	assert_int_equal(libvm__virtio_net_attach_fd(&n, d->bus, &o, sv[0]), 0);
	vdev_plug(d, (struct libvm__virtio *)n);
	return n;
}

/* Wait until @vm's @name state ends with a frame of @want bytes pending. */
static bool wait_pending(libvm_vm *vm, const char *name, uint32_t want)
{
	for (int i = 0; i < 2000; i++) {
		size_t len;
		uint8_t *s = st_save(vm, name, &len);
		bool ok = len >= 4 + want && libvm__le32(s + len - want - 4) == want;

		free(s);
		if (ok)
			return true;
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
	return false;
}

static void test_net(void **state)
{
	struct vdev a, b;
	int pa, pb;
	uint8_t frame[90], frame2[64];
	uint8_t *s;
	size_t len;

	(void)state;
	net_new(&a, &pa);
	net_new(&b, &pb);
	assert_int_equal(vdev_init(&a, F_VERSION_1, 2, QS), 0);
	for (size_t i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)(0x30 + i);
	frame[10] = 1;
	frame[11] = 0;
	/* A frame from the wire while the driver has no buffer: pending. */
	assert_int_equal(send(pa, frame, sizeof(frame), 0), (ssize_t)sizeof(frame));
	assert_true(wait_pending(a.vm, "virtio-net@pci.01", sizeof(frame)));
	/* Paused, a second frame stays on the wire. */
	libvm__states_pause(a.vm, true);
	memset(frame2, 0x77, sizeof(frame2));
	frame2[10] = 1;
	frame2[11] = 0;
	assert_int_equal(send(pa, frame2, sizeof(frame2), 0), (ssize_t)sizeof(frame2));
	s = move(&a, &b, "virtio-net@pci.01", &len);
	/* The frame in flight arrives in the second VM once it posts a buffer. */
	g_desc(b.g, G_DESC, 0, G_DATA, 1526, LIBVM__VRING_DESC_F_WRITE, 0);
	g_avail(b.g, QS, 0);
	vdev_kick(&b, 0);
	assert_true(vdev_wait_used(&b, G_USED, 1));
	assert_int_equal(g_used_len(b.g, 0), sizeof(frame));
	assert_memory_equal(b.g->buf + G_DATA, frame, sizeof(frame));
	/* The first VM, resumed, still has its own copy of the pending
	 * frame; the one that waited on its wire while paused comes next. */
	libvm__states_pause(a.vm, false);
	g_desc(a.g, G_DESC, 0, G_DATA, 1526, LIBVM__VRING_DESC_F_WRITE, 0);
	g_avail(a.g, QS, 0);
	vdev_kick(&a, 0);
	assert_true(vdev_wait_used(&a, G_USED, 1));
	assert_int_equal(g_used_len(a.g, 0), sizeof(frame));
	g_desc(a.g, G_DESC, 1, G_DATA + 0x1000, 1526, LIBVM__VRING_DESC_F_WRITE, 0);
	g_avail(a.g, QS, 1);
	vdev_kick(&a, 0);
	assert_true(vdev_wait_used(&a, G_USED, 2));
	assert_int_equal(g_used_len(a.g, 1), sizeof(frame2));
	assert_memory_equal(a.g->buf + G_DATA + 0x1000, frame2, sizeof(frame2));
	st_sweep_bad(b.vm, "virtio-net@pci.01", s, len, "virtio-net");
	/* A card with another MAC refuses the state. */
	s[len - sizeof(frame) - 4 - 1 - 6] ^= 0xff;
	assert_int_equal(libvm_device_state_load(b.vm, "virtio-net@pci.01", s, len, 1), -EINVAL);
	assert_non_null(strstr(libvm_error_message(), "MAC"));
	free(s);
	close(pa);
	close(pb);
	vdev_free(&a);
	vdev_free(&b);
}

/* --- virtio-console and virtio-rng ----------------------------------- */

static void test_console(void **state)
{
	libvm_virtio_console_options o = LIBVM_VIRTIO_CONSOLE_OPTIONS_INIT;
	libvm_virtio_console *c;
	struct vdev a, b;
	int in_a[2], in_b[2];
	uint8_t *s;
	size_t len;

	(void)state;
	assert_int_equal(pipe(in_a), 0);
	assert_int_equal(pipe(in_b), 0);
	vdev_bus(&a);
	o.input_fd = in_a[0];
	assert_int_equal(libvm_virtio_console_attach(&c, a.bus, &o), 0);
	vdev_plug(&a, (struct libvm__virtio *)c);
	vdev_bus(&b);
	o.input_fd = in_b[0];
	assert_int_equal(libvm_virtio_console_attach(&c, b.bus, &o), 0);
	vdev_plug(&b, (struct libvm__virtio *)c);
	assert_int_equal(vdev_init(&a, F_VERSION_1, 2, QS), 0);
	/* Input with one 4-byte buffer: "hell" delivered, "o!" in flight. */
	g_desc(a.g, G_DESC, 0, G_DATA, 4, LIBVM__VRING_DESC_F_WRITE, 0);
	g_avail(a.g, QS, 0);
	vdev_kick(&a, 0);
	assert_int_equal(write(in_a[1], "hello!", 6), 6);
	assert_true(vdev_wait_used(&a, G_USED, 1));
	assert_true(wait_pending(a.vm, "virtio-console@pci.01", 2));
	s = move(&a, &b, "virtio-console@pci.01", &len);
	g_desc(b.g, G_DESC, 1, G_DATA + 0x100, 16, LIBVM__VRING_DESC_F_WRITE, 0);
	g_avail(b.g, QS, 1);
	vdev_kick(&b, 0);
	assert_true(vdev_wait_used(&b, G_USED, 2));
	assert_int_equal(g_used_len(b.g, 1), 2);
	assert_memory_equal(b.g->buf + G_DATA + 0x100, "o!", 2);
	st_sweep_bad(b.vm, "virtio-console@pci.01", s, len, "virtio-console");
	free(s);
	vdev_free(&a);
	vdev_free(&b);
	for (int i = 0; i < 2; i++) {
		close(in_a[i]);
		close(in_b[i]);
	}
}

static void test_rng(void **state)
{
	libvm_virtio_rng *r;
	struct vdev a, b;
	uint8_t *s;
	size_t len;

	(void)state;
	vdev_bus(&a);
	assert_int_equal(libvm_virtio_rng_attach(&r, a.bus, NULL), 0);
	vdev_plug(&a, (struct libvm__virtio *)r);
	vdev_bus(&b);
	assert_int_equal(libvm_virtio_rng_attach(&r, b.bus, NULL), 0);
	vdev_plug(&b, (struct libvm__virtio *)r);
	assert_int_equal(vdev_init(&a, F_VERSION_1 | F_EVENT_IDX, 1, QS), 0);
	g_desc(a.g, G_DESC, 0, G_DATA, 32, LIBVM__VRING_DESC_F_WRITE, 0);
	g_avail(a.g, QS, 0);
	vdev_kick(&a, 0);
	assert_int_equal(g_used_idx(a.g), 1);
	g_desc(a.g, G_DESC, 1, G_DATA + 64, 16, LIBVM__VRING_DESC_F_WRITE, 0);
	g_avail(a.g, QS, 1);
	s = move(&a, &b, "virtio-rng@pci.01", &len);
	assert_int_equal(g_used_idx(b.g), 2);
	assert_int_equal(g_used_len(b.g, 1), 16);
	st_sweep_bad(b.vm, "virtio-rng@pci.01", s, len, "virtio-rng");
	free(s);
	vdev_free(&a);
	vdev_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blk),
		cmocka_unit_test(test_bad_transport_state),
		cmocka_unit_test(test_net),
		cmocka_unit_test(test_console),
		cmocka_unit_test(test_rng),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
