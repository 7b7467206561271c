/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk on a temporary file, driven through the PCI bus with guest
 * RAM as a buffer: configuration, read, write, flush, get-id, discard;
 * requests past the end, partial sectors, sector numbers that overflow,
 * writes to a read-only disk, buffers outside RAM and malformed requests
 * each completed with the right status and the file untouched; buffers,
 * status byte or used ring in the guest's read-only memory (ROM) refused
 * with the ROM untouched.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "vtest.h"

#define DISK (64 * 1024)
#define HDR (G_DATA)
#define BUF (G_DATA + 0x1000)
#define STATUS (G_DATA + 0x30000)

static char path[64];
static uint8_t pattern[DISK];

static void make_disk(void)
{
	int fd;

	snprintf(path, sizeof(path), "/tmp/libvm-blk-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	for (int i = 0; i < DISK; i++)
		pattern[i] = (uint8_t)(i * 31 + i / 512);
	assert_int_equal(write(fd, pattern, DISK), DISK);
	close(fd);
}

static void file_bytes(uint64_t off, void *buf, size_t len)
{
	int fd = open(path, O_RDONLY);

	assert_int_equal(pread(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static libvm_virtio_blk *blk_new(struct vdev *d, uint32_t flags)
{
	libvm_virtio_blk_options o = LIBVM_VIRTIO_BLK_OPTIONS_INIT;
	libvm_virtio_blk *b;

	vdev_bus(d);
	o.path = path;
	o.flags = flags;
	o.serial = "disk-serial-0123456789"; /* 22 bytes: cut at 20 */
	assert_int_equal(libvm_virtio_blk_attach(&b, d->bus, &o), 0);
	vdev_plug(d, (struct libvm__virtio *)b);
	assert_int_equal(vdev_init(d, F_VERSION_1 | F_INDIRECT | (flags ? 1ull << 5 : 1ull << 13) |
					  1ull << 9, 1, 16), 0);
	return b;
}

/* Submit {header, data (out or in), status}; returns the status byte. */
static int submit(struct vdev *d, uint32_t type, uint64_t sector, uint64_t data_gpa,
		  uint32_t data_len, bool data_in)
{
	uint8_t *h = d->g->buf + HDR;
	const uint16_t head = 0; /* each request completes before the next */

	memset(h, 0, 16);
	for (int i = 0; i < 4; i++)
		h[i] = (uint8_t)(type >> (8 * i));
	for (int i = 0; i < 8; i++)
		h[8 + i] = (uint8_t)(sector >> (8 * i));
	d->g->buf[STATUS] = 0xee;
	g_desc(d->g, G_DESC, 0, HDR, 16, LIBVM__VRING_DESC_F_NEXT, 1);
	if (data_len) {
		g_desc(d->g, G_DESC, 1, data_gpa, data_len,
		       LIBVM__VRING_DESC_F_NEXT | (data_in ? LIBVM__VRING_DESC_F_WRITE : 0), 2);
		g_desc(d->g, G_DESC, 2, STATUS, 1, LIBVM__VRING_DESC_F_WRITE, 0);
	} else {
		g_desc(d->g, G_DESC, 1, STATUS, 1, LIBVM__VRING_DESC_F_WRITE, 0);
	}
	g_avail(d->g, 16, head);
	vdev_kick(d, 0);
	return d->g->buf[STATUS];
}

static uint32_t last_used_len(struct vdev *d)
{
	return g_used_len(d->g, (uint16_t)((g_used_idx(d->g) - 1) % 16));
}

static void test_config_read_write_flush_id(void **state)
{
	struct vdev d;
	uint8_t buf[1024];

	(void)state;
	make_disk();
	blk_new(&d, 0);
	/* Capacity in sectors, blk_size, seg_max, discard limits. */
	assert_int_equal(vd_rd(&d, 0x2000, 8), DISK / 512);
	assert_int_equal(vd_rd(&d, 0x2000 + 20, 4), 512);
	assert_int_equal(vd_rd(&d, 0x2000 + 12, 4), 254);
	assert_int_equal(vd_rd(&d, 0x2000 + 40, 4), 1);
	/* Read sectors 3-4. */
	assert_int_equal(submit(&d, 0, 3, BUF, 1024, true), 0);
	assert_memory_equal(d.g->buf + BUF, pattern + 3 * 512, 1024);
	assert_int_equal(last_used_len(&d), 1025);
	/* Write sector 7, read the file. */
	memset(d.g->buf + BUF, 0x5a, 512);
	assert_int_equal(submit(&d, 1, 7, BUF, 512, false), 0);
	assert_int_equal(last_used_len(&d), 1);
	file_bytes(7 * 512, buf, 512);
	for (int i = 0; i < 512; i++)
		assert_int_equal(buf[i], 0x5a);
	file_bytes(6 * 512, buf, 512);
	assert_memory_equal(buf, pattern + 6 * 512, 512);
	/* Flush. */
	assert_int_equal(submit(&d, 4, 0, 0, 0, false), 0);
	/* Get-id: 20 bytes, no terminator. */
	assert_int_equal(submit(&d, 8, 0, BUF, 20, true), 0);
	assert_memory_equal(d.g->buf + BUF, "disk-serial-01234567", 20);
	assert_int_equal(last_used_len(&d), 21);
	/* Unknown type. */
	assert_int_equal(submit(&d, 99, 0, 0, 0, false), 2);
	vdev_free(&d);
	unlink(path);
}

static void test_bad_requests(void **state)
{
	struct vdev d;
	uint8_t buf[512];

	(void)state;
	make_disk();
	blk_new(&d, 0);
	/* Past the end, straddling the end, overflowing sector numbers. */
	assert_int_equal(submit(&d, 0, DISK / 512, BUF, 512, true), 1);
	assert_int_equal(submit(&d, 0, DISK / 512 - 1, BUF, 1024, true), 1);
	assert_int_equal(submit(&d, 1, DISK / 512 - 1, BUF, 1024, false), 1);
	assert_int_equal(submit(&d, 0, UINT64_MAX, BUF, 512, true), 1);
	assert_int_equal(submit(&d, 1, (UINT64_MAX / 512) + 1, BUF, 512, false), 1);
	/* Partial sectors. */
	assert_int_equal(submit(&d, 0, 0, BUF, 100, true), 1);
	/* Data outside RAM: an I/O error, nothing written anywhere. */
	assert_int_equal(submit(&d, 0, 0, G_RAM - 256, 512, true), 1);
	assert_int_equal(submit(&d, 1, 0, G_RAM - 256, 512, false), 1);
	assert_int_equal(submit(&d, 0, 0, 0xfffffffffffffe00ull, 512, true), 1);
	file_bytes(0, buf, 512);
	assert_memory_equal(buf, pattern, 512);
	/* A header shorter than 16 bytes. */
	g_desc(d.g, G_DESC, 0, HDR, 8, LIBVM__VRING_DESC_F_NEXT, 1);
	g_desc(d.g, G_DESC, 1, STATUS, 1, LIBVM__VRING_DESC_F_WRITE, 0);
	g_avail(d.g, 16, 0);
	vdev_kick(&d, 0);
	assert_int_equal(d.g->buf[STATUS], 1);
	/* No status byte at all: completed empty, the device carries on. */
	g_desc(d.g, G_DESC, 0, HDR, 16, 0, 0);
	g_avail(d.g, 16, 0);
	vdev_kick(&d, 0);
	assert_int_equal(last_used_len(&d), 0);
	assert_int_equal(vd_rd(&d, 0x14, 1) & 0x40, 0);
	/* A descriptor loop: NEEDS_RESET. */
	g_desc(d.g, G_DESC, 0, HDR, 16, LIBVM__VRING_DESC_F_NEXT, 0);
	g_avail(d.g, 16, 0);
	vdev_kick(&d, 0);
	assert_int_equal(vd_rd(&d, 0x14, 1) & 0x40, 0x40);
	vdev_free(&d);
	unlink(path);
}

static void test_readonly_and_discard(void **state)
{
	struct vdev d;
	uint8_t buf[4096];
	libvm_virtio_blk *b;
	libvm_virtio_blk_options o = LIBVM_VIRTIO_BLK_OPTIONS_INIT;
	int st;

	(void)state;
	make_disk();
	blk_new(&d, LIBVM_VIRTIO_BLK_READONLY);
	/* F_RO offered, no discard. */
	vd_wr(&d, 0x00, 0, 4);
	assert_int_equal(vd_rd(&d, 0x04, 4) & (1u << 5 | 1u << 13), 1u << 5);
	memset(d.g->buf + BUF, 0, 512);
	assert_int_equal(submit(&d, 1, 0, BUF, 512, false), 1);
	assert_int_equal(submit(&d, 11, 0, BUF, 16, false), 1);
	assert_int_equal(submit(&d, 0, 0, BUF, 512, true), 0);
	file_bytes(0, buf, 512);
	assert_memory_equal(buf, pattern, 512);
	vdev_free(&d);

	/* Discard 8 sectors at 8: OK where holes can be punched, else UNSUPP. */
	blk_new(&d, 0);
	memset(d.g->buf + BUF, 0, 16);
	d.g->buf[BUF] = 8;
	d.g->buf[BUF + 8] = 8;
	st = submit(&d, 11, 0, BUF, 16, false);
	assert_true(st == 0 || st == 2);
	if (st == 0) {
		file_bytes(8 * 512, buf, 4096);
		for (int i = 0; i < 4096; i++)
			assert_int_equal(buf[i], 0);
	}
	/* Two segments (max_discard_seg is 1), or a range past the end. */
	assert_int_equal(submit(&d, 11, 0, BUF, 32, false), 1);
	d.g->buf[BUF] = 0xff;
	d.g->buf[BUF + 1] = 0xff;
	assert_int_equal(submit(&d, 11, 0, BUF, 16, false), 1);
	vdev_free(&d);

	/* Attach errors. */
	vdev_bus(&d);
	assert_int_equal(libvm_virtio_blk_attach(&b, d.bus, &o), -EINVAL);
	o.path = "/nonexistent/disk.img";
	assert_int_equal(libvm_virtio_blk_attach(&b, d.bus, &o), -ENOENT);
	assert_non_null(strstr(libvm_error_message(), "/nonexistent/disk.img"));
	o.path = "/tmp";
	assert_int_equal(libvm_virtio_blk_attach(&b, d.bus, &o), -EISDIR);
	o.path = path;
	o.flags = 2;
	assert_int_equal(libvm_virtio_blk_attach(&b, d.bus, &o), -EINVAL);
	vdev_free(&d);
	unlink(path);
}

/* Guest memory as the VM's regions: RAM, one page of ROM at @rom, RAM. */
static void map_with_rom(struct vdev *d, uint64_t rom)
{
	vdev_map_with_rom(d, rom);
}

static void assert_rom_intact(struct vdev *d, uint64_t rom)
{
	for (unsigned i = 0; i < 0x1000; i++)
		assert_int_equal(d->g->buf[rom + i], 0xa5);
}

/*
 * The guest's CPU cannot write its ROM, so neither may a device it drives:
 * a read into ROM fails with IOERR and nothing written (not even the part
 * in RAM of a buffer that straddles both), while reading from ROM is fine.
 */
static void test_no_writes_into_rom(void **state)
{
	struct vdev d;
	uint8_t buf[512];

	(void)state;
	make_disk();
	blk_new(&d, 0);
	map_with_rom(&d, BUF);
	/* The device reaches RAM through the VM: an ordinary read works. */
	assert_int_equal(submit(&d, 0, 3, BUF + 0x1000, 512, true), 0);
	assert_memory_equal(d.g->buf + BUF + 0x1000, pattern + 3 * 512, 512);
	/* Into ROM: I/O error, used length 1 (the status byte only). */
	assert_int_equal(submit(&d, 0, 3, BUF, 1024, true), 1);
	assert_int_equal(last_used_len(&d), 1);
	assert_rom_intact(&d, BUF);
	/* Straddling RAM and ROM: nothing written on either side. */
	memset(d.g->buf + BUF - 512, 0x3c, 512);
	assert_int_equal(submit(&d, 0, 3, BUF - 512, 1024, true), 1);
	for (int i = 0; i < 512; i++)
		assert_int_equal(d.g->buf[BUF - 512 + i], 0x3c);
	assert_rom_intact(&d, BUF);
	/* Get-id into ROM. */
	assert_int_equal(submit(&d, 8, 0, BUF, 20, true), 1);
	assert_rom_intact(&d, BUF);
	/* A disk write takes its data from ROM: allowed, the file gets it. */
	assert_int_equal(submit(&d, 1, 5, BUF, 512, false), 0);
	file_bytes(5 * 512, buf, 512);
	for (int i = 0; i < 512; i++)
		assert_int_equal(buf[i], 0xa5);
	vdev_free(&d);
	unlink(path);

	/* The status byte in ROM: nowhere to report, completed with length 0. */
	make_disk();
	blk_new(&d, 0);
	map_with_rom(&d, STATUS & ~0xfffull);
	assert_int_equal(submit(&d, 0, 3, BUF, 512, true), 0xee); /* as submit() left it */
	assert_int_equal(g_used_idx(d.g), 1);
	assert_int_equal(last_used_len(&d), 0);
	d.g->buf[STATUS] = 0xa5;
	assert_rom_intact(&d, STATUS & ~0xfffull);
	vdev_free(&d);
	unlink(path);

	/* The used ring in ROM: the device breaks (NEEDS_RESET), ROM intact. */
	make_disk();
	blk_new(&d, 0);
	map_with_rom(&d, G_USED);
	submit(&d, 0, 3, BUF, 512, true);
	assert_true(vd_rd(&d, 0x14, 1) & VIRTIO_STATUS_NEEDS_RESET);
	assert_rom_intact(&d, G_USED);
	vdev_free(&d);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_read_write_flush_id),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_readonly_and_discard),
		cmocka_unit_test(test_no_writes_into_rom),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
