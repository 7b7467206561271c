/* SPDX-License-Identifier: MIT */
/*
 * Live migration's sending side (include/libvm/snapshot.h): the snapshot
 * stream with memory sent first and in rounds while the guest runs, the
 * dirty log saying which pages to send again; then a pause, the last pages
 * and the state, and the receiver's answer. The receiving side is the
 * snapshot reader (snapshot.c) with libvm_snapshot_ack().
 *
 * Why rounds end where they do: each round sends what the guest wrote
 * during the one before, so a guest that writes slower than the stream
 * carries converges to a small set; one that writes faster never does, and
 * @max_rounds ends the pre-copy anyway (the final copy is then larger and
 * the pause longer, as with QEMU without auto-converge).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "../state.h"
#include "snapshot_internal.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Dirty bitmaps of every region, one allocation each. */
struct bitmaps {
	size_t n;
	uint64_t **map;
};

static void bitmaps_free(struct bitmaps *b)
{
	for (size_t i = 0; b->map && i < b->n; i++)
		free(b->map[i]);
	free(b->map);
}

static int bitmaps_alloc(libvm_vm *vm, struct bitmaps *b)
{
	b->n = vm->regions.n;
	b->map = calloc(b->n ? b->n : 1, sizeof(*b->map));
	if (!b->map)
		return libvm__fail(-ENOMEM, "migration: out of memory");
	for (size_t i = 0; i < b->n; i++) {
		const libvm_region *r = vm->regions.v[i].item;

		b->map[i] = calloc((r->length / LIBVM__PAGE_SIZE + 63) / 64 + 1, sizeof(uint64_t));
		if (!b->map[i])
			return libvm__fail(-ENOMEM, "migration: out of memory");
	}
	return 0;
}

/*
 * One round: fetch every region's log, then send what it reports (or
 * everything, @all). Fetch first, copy after: a write that lands between
 * is in this round's copy and in the next round's log.
 */
static int64_t round_send(struct libvm__sout *o, libvm_vm *vm, struct bitmaps *b, bool all,
			  bool copy, struct libvm__ram_stats *st)
{
	int64_t dirty = 0;
	int err = 0;

	pthread_rwlock_rdlock(&vm->mem_lock);
	if (vm->regions.n != b->n) {
		pthread_rwlock_unlock(&vm->mem_lock);
		return libvm__fail(-EBUSY, "migration: the VM's memory map changed while it moved");
	}
	for (size_t i = 0; !all && i < b->n; i++) {
		int64_t n = libvm__dirty_fetch_locked(vm->regions.v[i].item, b->map[i]);

		if (n < 0) {
			pthread_rwlock_unlock(&vm->mem_lock);
			return n;
		}
		dirty += n;
	}
	for (size_t i = 0; !err && i < b->n; i++) {
		libvm_region *r = vm->regions.v[i].item;

		if (all)
			dirty += (int64_t)(r->length / LIBVM__PAGE_SIZE);
		err = libvm__ram_send(o, r, all ? NULL : b->map[i], copy, st);
	}
	pthread_rwlock_unlock(&vm->mem_lock);
	if (!err)
		err = libvm__sout_flush(o);
	return err ? err : dirty;
}

/* Exactly @n bytes from @fd; -ECONNRESET when it closes first. */
static int read_exact(int fd, void *p, size_t n)
{
	uint8_t *b = p;

	while (n) {
		ssize_t r = read(fd, b, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return libvm__fail(-errno, "migration: reading the receiver's answer: %s",
					   strerror(errno));
		if (r == 0)
			return libvm__fail(-ECONNRESET, "migration: the receiver closed the connection without an answer");
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

/* The rest of the receiver's answer after its magic: 0 it took the VM,
 * else its refusal. */
static int read_ack_rest(int fd)
{
	uint8_t h[16], t[4], msg[256];
	uint32_t n, status, crc;
	int err;

	memcpy(h, LIBVM__SNAP_ACK_MAGIC, 8);
	if ((err = read_exact(fd, h + 8, 8)))
		return err;
	n = libvm__le32(h + 12);
	if (n >= sizeof(msg))
		return libvm__fail(-EPROTO, "migration: the receiver's answer is garbled");
	if ((err = read_exact(fd, msg, n)) || (err = read_exact(fd, t, sizeof(t))))
		return err;
	crc = (uint32_t)crc32(crc32(0, h, sizeof(h)), msg, n);
	if (libvm__le32(t) != crc)
		return libvm__fail(-EPROTO, "migration: the receiver's answer has a wrong checksum");
	msg[n] = '\0';
	status = libvm__le32(h + 8);
	if (status)
		return libvm__fail(-ECONNREFUSED, "migration: the receiver refused the VM: %s (%s)",
				   libvm_strerror((int)status), msg);
	return 0;
}

/* The next word from the receiver: 1 ready, 0 nothing yet (when not
 * @wait), or its refusal / the connection's error. */
static int receiver_word(int fd, bool wait)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint8_t magic[8];
	int n, err;

	do
		n = poll(&p, 1, wait ? -1 : 0);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return n < 0 ? libvm__fail(-errno, "migration: poll: %s", strerror(errno)) : 0;
	if ((err = read_exact(fd, magic, sizeof(magic))))
		return err;
	if (!memcmp(magic, LIBVM__SNAP_READY_MAGIC, 8))
		return 1;
	if (!memcmp(magic, LIBVM__SNAP_ACK_MAGIC, 8)) {
		err = read_ack_rest(fd);
		return err ? err : libvm__fail(-EPROTO, "migration: the receiver confirmed before the end");
	}
	return libvm__fail(-EPROTO, "migration: the receiver's answer is garbled");
}

/* After the end: the receiver's answer. */
static int read_ack(int fd)
{
	uint8_t magic[8];
	int err = read_exact(fd, magic, sizeof(magic));

	if (err)
		return err;
	if (memcmp(magic, LIBVM__SNAP_ACK_MAGIC, 8))
		return libvm__fail(-EPROTO, "migration: the receiver's answer is garbled");
	return read_ack_rest(fd);
}

LIBVM_EXPORT int libvm_migrate_send(libvm_vm *vm, int fd, const libvm_migrate_options *opts)
{
	libvm_migrate_options o;
	libvm_migrate_stats stats = { 0 };
	struct libvm__ram_stats st = { 0 };
	struct bitmaps b = { 0 };
	struct libvm__sout out;
	uint64_t t0 = now_ns(), t_pause = 0, final_before;
	bool logging = false, paused = false, ready = false;
	char msg[256];
	int64_t dirty = 0;
	int err;

	LIBVM__CHECK_VM(vm, "libvm_migrate_send");
	if (fd < 0 || !opts)
		return libvm__fail(-EINVAL, "libvm_migrate_send: %s", fd < 0 ? "bad fd" : "opts is NULL");
	if ((err = libvm__copy_options(&o, sizeof(o), opts, "libvm_migrate_options")))
		return err;
	if (!o.pause || o.flags)
		return libvm__fail(-EINVAL, "libvm_migrate_send: %s",
				   o.flags ? "unknown flags" : "a pause callback is required");
	if (o.app_data_len > LIBVM__SNAP_APP_MAX || (o.app_data_len && !o.app_data))
		return libvm__fail(-EINVAL, "libvm_migrate_send: app_data of %zu bytes (at most 16 MiB)",
				   o.app_data_len);
	if (!o.max_rounds)
		o.max_rounds = 30;
	if (!o.final_pages)
		o.final_pages = 256;
	if ((err = libvm__sout_init(&out, fd)))
		return err;
	out.watch_peer = out.sock;
	if ((err = libvm_vm_dirty_log_start(vm)))
		goto out;
	logging = true;
	pthread_rwlock_rdlock(&vm->mem_lock);
	err = bitmaps_alloc(vm, &b);
	pthread_rwlock_unlock(&vm->mem_lock);
	if (err)
		goto out;
	if ((err = libvm__snap_write_head(&out, vm, LIBVM__SNAP_FLAG_MIGRATION, o.app_data,
					  o.app_data_len)))
		goto out;
	/* Round 0: everything, as the guest runs; the log has it from now.
	 * Then rounds of what was written meanwhile, until few pages are
	 * left (or the rounds run out) and the receiver has its VM built. */
	dirty = round_send(&out, vm, &b, true, true, &st);
	for (uint32_t round = 1;; round++) {
		if (dirty < 0) {
			err = (int)dirty;
			goto out;
		}
		ready = ready || out.peer_ready;
		if (!ready) {
			int r = receiver_word(fd, round > o.max_rounds);

			if (r < 0) {
				err = r;
				goto out;
			}
			ready = r == 1;
		}
		if (ready && ((uint64_t)dirty < o.final_pages || round > o.max_rounds))
			break;
		/* Converged, still building over there: do not spin. */
		if ((uint64_t)dirty < o.final_pages)
			nanosleep(&(struct timespec){ .tv_nsec = 5000000 }, NULL);
		dirty = round_send(&out, vm, &b, false, true, &st);
		if (round <= o.max_rounds)
			stats.rounds = round;
		libvm__log(vm, LIBVM_LOG_DEBUG, "migration: round %u sent %lld dirty pages", round,
			   (long long)dirty);
	}
	/* Stop the guest, then its devices' threads; the rest is final. */
	t_pause = now_ns();
	if ((err = o.pause(o.opaque))) {
		libvm__fail(err, "migration: the pause callback failed (%s)%s", strerror(-err),
			    err == -ESRCH ? ": the VM had ended" : "");
		goto out;
	}
	paused = true;
	libvm__log(vm, LIBVM_LOG_DEBUG, "migration: paused after %.1f ms", (now_ns() - t_pause) / 1e6);
	if ((err = libvm__snap_vcpus_idle(vm, "libvm_migrate_send")))
		goto out;
	libvm__states_pause(vm, true);
	final_before = st.pages;
	dirty = round_send(&out, vm, &b, false, false, &st);
	stats.final_pages = st.pages - final_before;
	if (dirty < 0) {
		err = (int)dirty;
		goto out;
	}
	libvm__log(vm, LIBVM_LOG_DEBUG, "migration: last pages sent after %.1f ms", (now_ns() - t_pause) / 1e6);
	if ((err = libvm__snap_write_state(&out, vm)) ||
	    (err = libvm__snap_write_end(&out, st.pages)))
		goto out;
	libvm__log(vm, LIBVM_LOG_DEBUG, "migration: state sent after %.1f ms", (now_ns() - t_pause) / 1e6);
	err = read_ack(fd);
out:
	/* The receiver spoke up mid-stream: its refusal is the error. */
	if (err == LIBVM__SNAP_PEER_SPOKE) {
		int r;

		while ((r = receiver_word(fd, true)) == 1)
			;
		err = r < 0 ? r : libvm__fail(-EPROTO, "migration: the receiver spoke out of turn");
	}
	if (err)
		snprintf(msg, sizeof(msg), "%s", libvm_error_message());
	if (logging)
		libvm_vm_dirty_log_stop(vm);
	/* Refused or failed after the pause: the VM here goes on, devices
	 * and all, when the caller runs it again. Taken over: it stays
	 * paused for the caller to end. */
	if (paused && err)
		libvm__states_pause(vm, false);
	if (err)
		libvm__fail(err, "%s", msg);
	stats.total_ns = now_ns() - t0;
	stats.downtime_ns = t_pause ? now_ns() - t_pause : 0;
	stats.bytes = out.bytes;
	stats.pages = st.pages;
	if (o.stats)
		*o.stats = stats;
	libvm__log(vm, LIBVM_LOG_INFO, "migration: %s: %llu bytes, %llu pages in %u rounds, %llu after the pause; %.1f ms in all, %.1f ms paused",
		   err ? "failed" : "done", (unsigned long long)stats.bytes,
		   (unsigned long long)stats.pages, stats.rounds,
		   (unsigned long long)stats.final_pages, stats.total_ns / 1e6,
		   stats.downtime_ns / 1e6);
	bitmaps_free(&b);
	libvm__sout_fini(&out);
	return err;
}
