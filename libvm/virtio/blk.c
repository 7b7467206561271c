/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk (virtio 1.x, 5.2) backed by a file or block device: read,
 * write, flush (fdatasync), get-id and discard (hole punching). Every
 * request is checked before the file is touched: the header and status
 * byte must be where 5.2.6 puts them, data lengths whole sectors, and the
 * sector range inside the capacity (overflow-safe). Data moves through a
 * bounded bounce buffer, so no guest-given length sizes an allocation.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../state.h"
#include "virtio_internal.h"

/* Feature bits (5.2.3). */
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_F_DISCARD 13

/* Request types and status values (5.2.6). */
#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_T_DISCARD 11
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2

#define SECTOR 512u
#define ID_BYTES 20
#define CONFIG_SIZE 60 /* struct virtio_blk_config through write_zeroes_may_unmap */
#define BOUNCE 0x10000u
#define MAX_DISCARD_SECTORS 0x400000u /* 2 GiB per segment */

struct libvm_virtio_blk {
	struct libvm__virtio v; /* first: the transport's callbacks cast back */
	struct libvm__virtio_ops ops;
	int fd;
	bool readonly;
	uint64_t capacity;      /* sectors */
	char id[ID_BYTES];
	uint8_t config[CONFIG_SIZE];
	uint8_t bounce[BOUNCE];
};


/* [sector, sector + bytes / 512) inside the disk, bytes whole sectors. */
static bool range_ok(const libvm_virtio_blk *b, uint64_t sector, uint64_t bytes)
{
	if (bytes % SECTOR)
		return false;
	return sector <= b->capacity && bytes / SECTOR <= b->capacity - sector;
}

static uint8_t do_read(libvm_virtio_blk *b, uint64_t sector, uint64_t len, uint32_t *written)
{
	const struct libvm__vmem *m = &b->v.mem;
	uint64_t done = 0;

	if (!range_ok(b, sector, len))
		return VIRTIO_BLK_S_IOERR;
	while (done < len) {
		size_t chunk = len - done < BOUNCE ? (size_t)(len - done) : BOUNCE;
		ssize_t n = pread(b->fd, b->bounce, chunk, (off_t)(sector * SECTOR + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return VIRTIO_BLK_S_IOERR;
		if (libvm__vq_write(m, &b->v.req, done, b->bounce, (size_t)n))
			return VIRTIO_BLK_S_IOERR;
		done += (uint64_t)n;
	}
	*written = (uint32_t)len;
	return VIRTIO_BLK_S_OK;
}

static uint8_t do_write(libvm_virtio_blk *b, uint64_t sector, uint64_t len)
{
	const struct libvm__vmem *m = &b->v.mem;
	uint64_t done = 0;

	if (b->readonly || !range_ok(b, sector, len))
		return VIRTIO_BLK_S_IOERR;
	while (done < len) {
		size_t chunk = len - done < BOUNCE ? (size_t)(len - done) : BOUNCE;
		size_t put = 0;

		if (libvm__vq_read(m, &b->v.req, 16 + done, b->bounce, chunk))
			return VIRTIO_BLK_S_IOERR;
		while (put < chunk) {
			ssize_t n = pwrite(b->fd, b->bounce + put, chunk - put,
					   (off_t)(sector * SECTOR + done + put));

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return VIRTIO_BLK_S_IOERR;
			put += (size_t)n;
		}
		done += chunk;
	}
	return VIRTIO_BLK_S_OK;
}

static uint8_t do_discard(libvm_virtio_blk *b, uint64_t len)
{
	uint8_t seg[16];
	uint64_t sector;
	uint32_t num;

	if (!libvm__virtio_has(&b->v, VIRTIO_BLK_F_DISCARD))
		return VIRTIO_BLK_S_UNSUPP;
	/* One segment, as max_discard_seg says (5.2.6.2). */
	if (len != sizeof(seg) || libvm__vq_read(&b->v.mem, &b->v.req, 16, seg, sizeof(seg)))
		return VIRTIO_BLK_S_IOERR;
	sector = libvm__get_le(seg, 8);
	num = (uint32_t)libvm__get_le(seg + 8, 4);
	if (num > MAX_DISCARD_SECTORS || !range_ok(b, sector, (uint64_t)num * SECTOR))
		return VIRTIO_BLK_S_IOERR;
	if (!num)
		return VIRTIO_BLK_S_OK;
	if (fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)(sector * SECTOR),
		      (off_t)num * SECTOR) == 0)
		return VIRTIO_BLK_S_OK;
	return errno == EOPNOTSUPP ? VIRTIO_BLK_S_UNSUPP : VIRTIO_BLK_S_IOERR;
}

/* One request; returns the bytes written into the driver's buffers. */
static uint32_t handle(libvm_virtio_blk *b)
{
	struct libvm__vq_req *r = &b->v.req;
	uint8_t hdr[16], status;
	uint32_t written = 0, type;
	uint64_t sector, in_data;

	/* 5.2.6: a 16-byte readable header first, a writable status byte last. */
	if (r->in_bytes < 1)
		return 0; /* nowhere to put a status: complete it empty */
	in_data = r->in_bytes - 1;
	if (r->out_bytes < sizeof(hdr) || libvm__vq_read(&b->v.mem, r, 0, hdr, sizeof(hdr))) {
		status = VIRTIO_BLK_S_IOERR;
		goto done;
	}
	type = (uint32_t)libvm__get_le(hdr, 4);
	sector = libvm__get_le(hdr + 8, 8);
	switch (type) {
	case VIRTIO_BLK_T_IN:
		status = do_read(b, sector, in_data, &written);
		break;
	case VIRTIO_BLK_T_OUT:
		status = do_write(b, sector, r->out_bytes - sizeof(hdr));
		break;
	case VIRTIO_BLK_T_FLUSH:
		status = fdatasync(b->fd) == 0 || errno == EINVAL ? VIRTIO_BLK_S_OK :
								    VIRTIO_BLK_S_IOERR;
		break;
	case VIRTIO_BLK_T_GET_ID: {
		size_t n = in_data < ID_BYTES ? (size_t)in_data : ID_BYTES;

		status = libvm__vq_write(&b->v.mem, r, 0, b->id, n) ? VIRTIO_BLK_S_IOERR :
								       VIRTIO_BLK_S_OK;
		written = status == VIRTIO_BLK_S_OK ? (uint32_t)n : 0;
		break;
	}
	case VIRTIO_BLK_T_DISCARD:
		status = b->readonly ? VIRTIO_BLK_S_IOERR :
				       do_discard(b, r->out_bytes - sizeof(hdr));
		break;
	default:
		status = VIRTIO_BLK_S_UNSUPP;
		break;
	}
done:
	if (libvm__vq_write(&b->v.mem, r, in_data, &status, 1))
		return 0;
	return written + 1;
}

static uint32_t blk_request(struct libvm__virtio *v)
{
	return handle((libvm_virtio_blk *)v);
}

static void blk_notify(struct libvm__virtio *v, uint16_t q)
{
	libvm__virtio_serve(v, q, "malformed request queue", blk_request);
}

static void blk_config_read(struct libvm__virtio *v, uint32_t off, void *data, uint32_t len)
{
	memcpy(data, ((libvm_virtio_blk *)v)->config + off, len);
}

/*
 * Saved state beyond the transport's: nothing is in flight (requests are
 * served whole), but the disk must be the same size and mode, or the
 * driver's view of it would be wrong. The disk's contents are not in the
 * state: the restored VM must be given the image as it was at the save.
 */
static void blk_state_save(struct libvm__virtio *v, struct libvm_state_writer *w)
{
	libvm_virtio_blk *b = (libvm_virtio_blk *)v;

	libvm__enc_u64(w, b->capacity);
	libvm__enc_bool(w, b->readonly);
}

static int blk_state_load(struct libvm__virtio *v, struct libvm__dec *d, bool commit)
{
	libvm_virtio_blk *b = (libvm_virtio_blk *)v;
	uint64_t capacity = libvm__dec_u64(d);
	bool readonly = libvm__dec_bool(d);

	(void)commit;
	if (!d->short_read && (capacity != b->capacity || readonly != b->readonly))
		return libvm__fail(-EINVAL, "virtio-blk: the snapshot's disk has %llu sectors%s, this one %llu%s",
				   (unsigned long long)capacity, readonly ? " (read-only)" : "",
				   (unsigned long long)b->capacity, b->readonly ? " (read-only)" : "");
	return 0;
}

static void blk_release(void *blk)
{
	libvm_virtio_blk_detach(blk);
}

static int open_backing(libvm_virtio_blk *b, const libvm_virtio_blk_options *o)
{
	struct stat st;
	uint64_t bytes;

	b->readonly = o->flags & LIBVM_VIRTIO_BLK_READONLY;
	b->fd = open(o->path, (b->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (b->fd < 0)
		return libvm__fail(-errno, "virtio-blk: %s: %s", o->path, strerror(errno));
	if (fstat(b->fd, &st) < 0)
		return libvm__fail(-errno, "virtio-blk: %s: %s", o->path, strerror(errno));
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(b->fd, BLKGETSIZE64, &bytes) < 0)
			return libvm__fail(-errno, "virtio-blk: %s: %s", o->path, strerror(errno));
	} else if (S_ISREG(st.st_mode)) {
		bytes = (uint64_t)st.st_size;
	} else {
		return libvm__fail(-EINVAL, "virtio-blk: %s is neither a file nor a block device",
				   o->path);
	}
	b->capacity = bytes / SECTOR;
	return 0;
}

LIBVM_EXPORT int libvm_virtio_blk_attach(libvm_virtio_blk **out, libvm_pci_bus *bus,
					 const libvm_virtio_blk_options *opts)
{
	libvm_virtio_blk_options o = LIBVM_VIRTIO_BLK_OPTIONS_INIT;
	libvm_virtio_blk *b;
	const char *id;
	int err;

	if (!out || !opts)
		return libvm__fail(-EINVAL, "libvm_virtio_blk_attach: %s is NULL", out ? "opts" : "out");
	LIBVM__CHECK_PCI_BUS(bus, "libvm_virtio_blk_attach");
	err = libvm__copy_options(&o, sizeof(o), opts, "libvm_virtio_blk_attach");
	if (err)
		return err;
	if (!o.path)
		return libvm__fail(-EINVAL, "virtio-blk: no backing file (path is NULL)");
	if (o.flags & ~LIBVM_VIRTIO_BLK_READONLY)
		return libvm__fail(-EINVAL, "virtio-blk: unknown flags 0x%x",
				   o.flags & ~LIBVM_VIRTIO_BLK_READONLY);
	b = calloc(1, sizeof(*b));
	if (!b)
		return libvm__fail(-ENOMEM, "virtio-blk: out of memory");
	b->v.magic = LIBVM__MAGIC_VIRTIO_BLK;
	err = open_backing(b, &o);
	if (err) {
		if (b->fd >= 0)
			close(b->fd);
		free(b);
		return err;
	}
	id = o.serial;
	if (!id) {
		id = strrchr(o.path, '/');
		id = id ? id + 1 : o.path;
	}
	/* NUL-padded, unterminated when 20 bytes long (5.2.6); b is zeroed. */
	memcpy(b->id, id, strnlen(id, ID_BYTES));

	b->ops = (struct libvm__virtio_ops){
		.device_type = 2,
		.class_code = 0x018000,
		.features = 1ull << VIRTIO_BLK_F_SEG_MAX | 1ull << VIRTIO_BLK_F_BLK_SIZE |
			    1ull << VIRTIO_BLK_F_FLUSH,
		.num_queues = 1,
		.queue_size = LIBVM__VQ_MAX_SIZE,
		.config_size = CONFIG_SIZE,
		.config_read = blk_config_read,
		.queue_notify = blk_notify,
		.state_save = blk_state_save,
		.state_load = blk_state_load,
	};
	libvm__put_le(b->config, b->capacity, 8);
	libvm__put_le(b->config + 12, LIBVM__VQ_MAX_SIZE - 2, 4); /* seg_max: header and status aside */
	libvm__put_le(b->config + 20, SECTOR, 4);                  /* blk_size */
	if (b->readonly) {
		b->ops.features |= 1ull << VIRTIO_BLK_F_RO;
	} else {
		b->ops.features |= 1ull << VIRTIO_BLK_F_DISCARD;
		libvm__put_le(b->config + 36, MAX_DISCARD_SECTORS, 4); /* max_discard_sectors */
		libvm__put_le(b->config + 40, 1, 4);                   /* max_discard_seg */
		libvm__put_le(b->config + 44, 8, 4);                   /* discard_sector_alignment: 4 KiB */
	}
	err = libvm__virtio_init(&b->v, bus, o.slot, &b->ops, "virtio-blk");
	if (!err) {
		err = libvm__vm_own_child(b->v.vm, b, blk_release, libvm__pci_dev_bus(b->v.pci));
		if (err)
			libvm__virtio_fini(&b->v);
	}
	if (err) {
		close(b->fd);
		free(b);
		return err;
	}
	*out = b;
	return 0;
}

LIBVM_EXPORT void libvm_virtio_blk_detach(libvm_virtio_blk *blk)
{
	if (!libvm__live(blk, LIBVM__MAGIC_VIRTIO_BLK))
		return;
	libvm__vm_disown(blk->v.vm, blk);
	libvm__virtio_fini(&blk->v);
	close(blk->fd);
	libvm__bury(blk, sizeof(*blk));
}
