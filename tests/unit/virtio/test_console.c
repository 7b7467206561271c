/* SPDX-License-Identifier: MIT */
/*
 * virtio-console with pipes for input and output: output chains come out
 * in order, input waits for receive buffers and is split over several,
 * a hostile transmit ring puts the device into NEEDS_RESET, and closed
 * descriptors are refused at attach.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "vtest.h"

#define QS 16
#define RX_DESC G_DESC
#define RX_AVAIL G_AVAIL
#define RX_USED G_USED
#define TX_DESC (G_DESC + 0x40000)
#define TX_AVAIL (G_AVAIL + 0x40000)
#define TX_USED (G_USED + 0x40000)

static int in_pipe[2], out_pipe[2];

static void con_new(struct vdev *d)
{
	libvm_virtio_console_options o = LIBVM_VIRTIO_CONSOLE_OPTIONS_INIT;
	libvm_virtio_console *c;

	vdev_bus(d);
	assert_int_equal(pipe(in_pipe), 0);
	assert_int_equal(pipe(out_pipe), 0);
	fcntl(out_pipe[0], F_SETFL, O_NONBLOCK);
	o.input_fd = in_pipe[0];
	o.output_fd = out_pipe[1];
	assert_int_equal(libvm_virtio_console_attach(&c, d->bus, &o), 0);
	vdev_plug(d, (struct libvm__virtio *)c);
	assert_int_equal(vdev_init(d, F_VERSION_1, 2, QS), 0);
}

static void con_free(struct vdev *d)
{
	vdev_free(d);
	for (int i = 0; i < 2; i++) {
		close(in_pipe[i]);
		close(out_pipe[i]);
	}
}

static void test_output_and_input(void **state)
{
	struct vdev d;
	char got[32] = { 0 };

	(void)state;
	con_new(&d);
	assert_int_equal(cfg_rd_id(&d), 0x10431af4);
	/* Output: two buffers, one chain. */
	memcpy(d.g->buf + G_DATA, "hello, ", 7);
	memcpy(d.g->buf + G_DATA + 0x100, "world", 5);
	g_desc(d.g, TX_DESC, 0, G_DATA, 7, LIBVM__VRING_DESC_F_NEXT, 1);
	g_desc(d.g, TX_DESC, 1, G_DATA + 0x100, 5, 0, 0);
	g_avail_at(d.g, TX_AVAIL, QS, 0);
	vdev_kick(&d, 1);
	assert_int_equal(read(out_pipe[0], got, sizeof(got)), 12);
	assert_string_equal(got, "hello, world");
	assert_int_equal(g_get16(d.g, TX_USED + 2), 1);
	/* Input before any buffer waits; then fills two 4-byte buffers. */
	assert_int_equal(write(in_pipe[1], "abcdef", 6), 6);
	nanosleep(&(struct timespec){ 0, 20000000 }, NULL);
	assert_int_equal(g_get16(d.g, RX_USED + 2), 0);
	g_desc(d.g, RX_DESC, 0, G_DATA + 0x1000, 4, LIBVM__VRING_DESC_F_WRITE, 0);
	g_desc(d.g, RX_DESC, 1, G_DATA + 0x2000, 4, LIBVM__VRING_DESC_F_WRITE, 0);
	g_avail_at(d.g, RX_AVAIL, QS, 0);
	g_avail_at(d.g, RX_AVAIL, QS, 1);
	vdev_kick(&d, 0);
	assert_true(vdev_wait_used(&d, RX_USED, 2));
	assert_int_equal(g_get32(d.g, RX_USED + 8), 4);
	assert_int_equal(g_get32(d.g, RX_USED + 16), 2);
	assert_memory_equal(d.g->buf + G_DATA + 0x1000, "abcd", 4);
	assert_memory_equal(d.g->buf + G_DATA + 0x2000, "ef", 2);
	/* A transmit loop: NEEDS_RESET. */
	g_desc(d.g, TX_DESC, 2, G_DATA, 1, LIBVM__VRING_DESC_F_NEXT, 2);
	g_avail_at(d.g, TX_AVAIL, QS, 2);
	vdev_kick(&d, 1);
	assert_int_equal(vd_rd(&d, 0x14, 1) & 0x40, 0x40);
	con_free(&d);
}

static void test_attach_errors(void **state)
{
	struct vdev d;
	libvm_virtio_console_options o = LIBVM_VIRTIO_CONSOLE_OPTIONS_INIT;
	libvm_virtio_console *c;

	(void)state;
	vdev_bus(&d);
	o.input_fd = 1000;
	assert_int_equal(libvm_virtio_console_attach(&c, d.bus, &o), -EBADF);
	assert_int_equal(libvm_virtio_console_attach(NULL, d.bus, NULL), -EINVAL);
	/* Neither input nor output: a console that swallows everything. */
	assert_int_equal(libvm_virtio_console_attach(&c, d.bus, NULL), 0);
	libvm_virtio_console_detach(c);
	vdev_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_output_and_input),
		cmocka_unit_test(test_attach_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
