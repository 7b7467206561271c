/* SPDX-License-Identifier: MIT */
/*
 * virtio-net with a SOCK_SEQPACKET socketpair standing in for the tap:
 * frames sent by the driver come out whole with their 12-byte header,
 * frames from the "wire" wait for a receive buffer and arrive once the
 * driver posts one, oversized or misplaced buffers drop the frame and not
 * the device. The tap path: a clear error for a missing or unusable tap.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "virtio/net.h"
#include "vtest.h"

#define QS 16
#define RX_DESC G_DESC
#define RX_AVAIL G_AVAIL
#define RX_USED G_USED
#define TX_DESC (G_DESC + 0x40000)
#define TX_AVAIL (G_AVAIL + 0x40000)
#define TX_USED (G_USED + 0x40000)

static int peer;

static libvm_virtio_net *net_new(struct vdev *d)
{
	libvm_virtio_net_options o = LIBVM_VIRTIO_NET_OPTIONS_INIT;
	libvm_virtio_net *n;
	int sv[2];

	vdev_bus(d);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	peer = sv[1];
	assert_int_equal(libvm__virtio_net_attach_fd(&n, d->bus, &o, sv[0]), 0);
	vdev_plug(d, (struct libvm__virtio *)n);
	return n;
}

static void test_config_and_tx(void **state)
{
	struct vdev d;
	uint8_t frame[72], got[128];
	libvm_virtio_net *n;

	(void)state;
	n = net_new(&d);
	/* MAC and link status; MAC and STATUS features. */
	assert_int_equal(vd_rd(&d, 0x2000, 4), 0x12005452);
	assert_int_equal(vd_rd(&d, 0x2004, 2), 0x34 | (0x50 + libvm_pci_dev_slot(d.v->pci)) << 8);
	assert_int_equal(vd_rd(&d, 0x2006, 2), 1);
	vd_wr(&d, 0x00, 0, 4);
	assert_int_equal(vd_rd(&d, 0x04, 4) & (1u << 5 | 1u << 16), 1u << 5 | 1u << 16);
	assert_int_equal(vdev_init(&d, F_VERSION_1 | 1ull << 5 | 1ull << 16, 2, QS), 0);
	/* Transmit: header and frame in two descriptors, out whole. */
	for (size_t i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)(i < 12 ? 0 : i);
	/* A hostile header (GSO type, checksum offsets) is zeroed on the way
	 * to the tap: no offload was negotiated. */
	memset(d.g->buf + G_DATA, 0x5a, 12);
	memcpy(d.g->buf + G_DATA + 0x100, frame + 12, 60);
	g_desc(d.g, TX_DESC, 0, G_DATA, 12, LIBVM__VRING_DESC_F_NEXT, 1);
	g_desc(d.g, TX_DESC, 1, G_DATA + 0x100, 60, 0, 0);
	g_avail_at(d.g, TX_AVAIL, QS, 0);
	vdev_kick(&d, 1);
	assert_int_equal(recv(peer, got, sizeof(got), MSG_DONTWAIT), 72);
	assert_memory_equal(got, frame, 72);
	assert_int_equal(g_get16(d.g, TX_USED + 2), 1);
	/* Oversized and out-of-RAM frames: dropped, chain returned, device fine. */
	g_desc(d.g, TX_DESC, 2, G_DATA, 0x20000, 0, 0);
	g_avail_at(d.g, TX_AVAIL, QS, 2);
	g_desc(d.g, TX_DESC, 3, G_RAM - 16, 64, 0, 0);
	g_avail_at(d.g, TX_AVAIL, QS, 3);
	vdev_kick(&d, 1);
	assert_int_equal(g_get16(d.g, TX_USED + 2), 3);
	assert_int_equal(recv(peer, got, sizeof(got), MSG_DONTWAIT), -1);
	assert_int_equal(vd_rd(&d, 0x14, 1) & 0x40, 0);
	libvm_virtio_net_detach(n);
	close(peer);
	vdev_free(&d);
}

static void test_rx_waits_for_buffers(void **state)
{
	struct vdev d;
	uint8_t frame[80];

	(void)state;
	net_new(&d);
	assert_int_equal(vdev_init(&d, F_VERSION_1, 2, QS), 0);
	for (size_t i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)(0x80 + i);
	frame[10] = 1; /* num_buffers: the device sets it to 1 (5.1.6.4) */
	frame[11] = 0;
	/* A frame arrives before the driver posted any buffer: it waits. */
	assert_int_equal(send(peer, frame, sizeof(frame), 0), (ssize_t)sizeof(frame));
	nanosleep(&(struct timespec){ 0, 20000000 }, NULL);
	assert_int_equal(g_get16(d.g, RX_USED + 2), 0);
	/* A buffer and a notification: delivered. */
	g_desc(d.g, RX_DESC, 0, G_DATA, 1526, LIBVM__VRING_DESC_F_WRITE, 0);
	g_avail_at(d.g, RX_AVAIL, QS, 0);
	vdev_kick(&d, 0);
	assert_true(vdev_wait_used(&d, RX_USED, 1));
	assert_int_equal(g_get32(d.g, RX_USED + 8), sizeof(frame));
	assert_memory_equal(d.g->buf + G_DATA, frame, sizeof(frame));
	/* Without MSI-X, INTx goes up (right after the used index, on the thread). */
	for (int i = 0; i < 2000 && !__atomic_load_n(&vt->irq_level[16 + libvm_pci_dev_slot(d.v->pci) % 4],
						     __ATOMIC_ACQUIRE); i++)
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	assert_true(vt->irq_level[16 + libvm_pci_dev_slot(d.v->pci) % 4]);
	/* A buffer too small: the frame is dropped, the buffer returned empty. */
	g_desc(d.g, RX_DESC, 1, G_DATA, 16, LIBVM__VRING_DESC_F_WRITE, 0);
	g_avail_at(d.g, RX_AVAIL, QS, 1);
	vdev_kick(&d, 0);
	assert_int_equal(send(peer, frame, sizeof(frame), 0), (ssize_t)sizeof(frame));
	assert_true(vdev_wait_used(&d, RX_USED, 2));
	assert_int_equal(g_get32(d.g, RX_USED + 16), 0);
	/* A buffer outside RAM: same. */
	g_desc(d.g, RX_DESC, 2, G_RAM - 8, 1526, LIBVM__VRING_DESC_F_WRITE, 0);
	g_avail_at(d.g, RX_AVAIL, QS, 2);
	vdev_kick(&d, 0);
	assert_int_equal(send(peer, frame, sizeof(frame), 0), (ssize_t)sizeof(frame));
	assert_true(vdev_wait_used(&d, RX_USED, 3));
	assert_int_equal(g_get32(d.g, RX_USED + 24), 0);
	close(peer);
	vdev_free(&d); /* the VM stops the thread and frees the device */
}

static void test_tap_errors(void **state)
{
	struct vdev d;
	libvm_virtio_net_options o = LIBVM_VIRTIO_NET_OPTIONS_INIT;
	libvm_virtio_net *n;
	int err;

	(void)state;
	vdev_bus(&d);
	assert_int_equal(libvm_virtio_net_attach(&n, d.bus, &o), -EINVAL);
	o.tap = "a-name-longer-than-ifnamsiz";
	assert_int_equal(libvm_virtio_net_attach(&n, d.bus, &o), -EINVAL);
	/* A real tap: works where the process may create one, else says why. */
	o.tap = "libvmt0";
	err = libvm_virtio_net_attach(&n, d.bus, &o);
	if (err == 0)
		libvm_virtio_net_detach(n);
	else
		assert_non_null(strstr(libvm_error_message(), "tap") ?
				strstr(libvm_error_message(), "tap") :
				strstr(libvm_error_message(), "tun"));
	vdev_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_and_tx),
		cmocka_unit_test(test_rx_waits_for_buffers),
		cmocka_unit_test(test_tap_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
