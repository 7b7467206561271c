/* SPDX-License-Identifier: MIT */
/*
 * virtio-console (virtio 1.x, 5.3), a single port without the optional
 * features: queue 0 receives, queue 1 transmits. Transmitted bytes go to an
 * output file descriptor on the thread that processes the queue; a thread
 * per device reads the input descriptor and hands the bytes to the
 * driver's receive buffers, splitting them over as many buffers as it
 * takes (a console is a byte stream, unlike a network card's frames).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "../state.h"
#include "virtio_internal.h"

#define RXQ 0
#define TXQ 1
#define CHUNK 4096
#define CONFIG_SIZE 12 /* cols, rows, max_nr_ports, emerg_wr: all unused */

struct libvm_virtio_console {
	struct libvm__virtio v; /* first: the transport's callbacks cast back */
	int in_fd, out_fd;      /* not owned */
	int wake;
	pthread_t thread;
	bool thread_started;
	atomic_bool stop;
	bool rx_blocked;
	size_t pending, done;   /* input bytes read and not yet delivered */
	uint8_t rxbuf[CHUNK];
	uint8_t txbuf[CHUNK];
};

static void kick_thread(libvm_virtio_console *c)
{
	uint64_t one = 1;

	if (c->wake >= 0 && write(c->wake, &one, sizeof(one)) < 0) {
		/* the counter is full: the thread has wake-ups enough */
	}
}

/* Copy one transmitted chain to the output fd. */
static uint32_t con_tx_request(struct libvm__virtio *v)
{
	libvm_virtio_console *c = (libvm_virtio_console *)v;
	uint64_t off = 0;

	/* Bounded chunks: the guest's length sizes nothing on the host. */
	while (off < v->req.out_bytes) {
		size_t n = v->req.out_bytes - off < CHUNK ? (size_t)(v->req.out_bytes - off) : CHUNK;
		size_t put = 0;

		if (libvm__vq_read(&v->mem, &v->req, off, c->txbuf, n))
			break; /* outside RAM: the rest is dropped */
		while (c->out_fd >= 0 && put < n) {
			ssize_t w = write(c->out_fd, c->txbuf + put, n - put);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				break;
			put += (size_t)w;
		}
		off += n;
	}
	return 0;
}

static void con_tx(libvm_virtio_console *c)
{
	libvm__virtio_serve(&c->v, TXQ, "malformed transmit queue", con_tx_request);
}

static void con_notify(struct libvm__virtio *v, uint16_t q)
{
	libvm_virtio_console *c = (libvm_virtio_console *)v;

	if (q == TXQ)
		con_tx(c);
	else
		kick_thread(c);
}

static void con_reset(struct libvm__virtio *v)
{
	libvm_virtio_console *c = (libvm_virtio_console *)v;

	c->rx_blocked = false;
	c->pending = c->done = 0;
	kick_thread(c);
}

/* Lock held: move pending input into receive buffers while there are some. */
static void rx_deliver(libvm_virtio_console *c)
{
	struct libvm__virtio *v = &c->v;
	struct libvm__vq *vq = &v->vq[RXQ];
	bool used = false;

	if (v->paused)
		return; /* kept for the resume (or the snapshot) */
	if (!libvm__virtio_running(v) || !vq->enabled) {
		c->pending = c->done = 0; /* nobody listening: dropped */
		return;
	}
	while (c->done < c->pending) {
		size_t n = c->pending - c->done;
		int r = libvm__vq_pop(vq, &v->mem, &v->req);
		uint32_t len = 0;

		if (r == 0) {
			c->rx_blocked = true;
			break;
		}
		if (r < 0) {
			libvm__virtio_broken(v, "malformed receive queue", r);
			c->pending = c->done = 0;
			break;
		}
		if (n > v->req.in_bytes)
			n = (size_t)v->req.in_bytes;
		if (libvm__vq_write(&v->mem, &v->req, 0, c->rxbuf + c->done, n) == 0) {
			len = (uint32_t)n;
			c->done += n;
		} else {
			c->pending = c->done = 0; /* buffer outside RAM: input dropped */
		}
		if (libvm__vq_push(vq, &v->mem, v->req.head, len)) {
			libvm__virtio_broken(v, "used ring outside guest RAM", -EFAULT);
			break;
		}
		used = true;
	}
	if (c->done >= c->pending)
		c->pending = c->done = 0;
	if (used)
		libvm__virtio_used(v, RXQ);
}

static void *rx_main(void *arg)
{
	libvm_virtio_console *c = arg;

	while (!atomic_load(&c->stop)) {
		struct pollfd p[2] = { { .fd = c->wake, .events = POLLIN },
				       { .fd = c->in_fd, .events = POLLIN } };
		bool waiting;

		pthread_mutex_lock(&c->v.lock);
		/* Read more only when what was read is delivered. */
		waiting = c->rx_blocked || c->pending || c->in_fd < 0 || c->v.paused;
		pthread_mutex_unlock(&c->v.lock);
		if (poll(p, waiting ? 1 : 2, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents & POLLIN) {
			uint64_t cnt;

			if (read(c->wake, &cnt, sizeof(cnt)) < 0) {
				/* spurious */
			}
			pthread_mutex_lock(&c->v.lock);
			c->rx_blocked = false;
			if (c->pending)
				rx_deliver(c);
			pthread_mutex_unlock(&c->v.lock);
		}
		if (!waiting && (p[1].revents & (POLLIN | POLLERR | POLLHUP))) {
			ssize_t got = read(c->in_fd, c->rxbuf, sizeof(c->rxbuf));

			if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
				c->in_fd = -1; /* end of input: no more reading */
				continue;
			}
			if (got < 0)
				continue;
			pthread_mutex_lock(&c->v.lock);
			c->pending = (size_t)got;
			c->done = 0;
			rx_deliver(c);
			pthread_mutex_unlock(&c->v.lock);
		}
	}
	return NULL;
}

static void con_config_read(struct libvm__virtio *v, uint32_t off, void *data, uint32_t len)
{
	(void)v;
	(void)off;
	memset(data, 0, len); /* no F_SIZE / F_MULTIPORT: nothing to report */
}

/*
 * Saved state beyond the transport's: input read from the host and not yet
 * delivered (in flight), and whether the driver ran out of buffers.
 */
static void con_state_save(struct libvm__virtio *v, struct libvm_state_writer *w)
{
	libvm_virtio_console *c = (libvm_virtio_console *)v;

	libvm__enc_bool(w, c->rx_blocked);
	libvm__enc_u32(w, (uint32_t)(c->pending - c->done));
	libvm__enc_bytes(w, c->rxbuf + c->done, c->pending - c->done);
}

static int con_state_load(struct libvm__virtio *v, struct libvm__dec *d, bool commit)
{
	libvm_virtio_console *c = (libvm_virtio_console *)v;
	bool blocked = libvm__dec_bool(d);
	uint32_t pending = libvm__dec_u32(d);

	if (d->short_read)
		return 0;
	if (pending > CHUNK)
		return libvm__fail(-EINVAL, "virtio-console: saved input of %u bytes", pending);
	if (!commit) {
		if (pending > d->len - d->pos)
			d->short_read = true;
		else
			d->pos += pending;
		return 0;
	}
	libvm__dec_bytes(d, c->rxbuf, pending);
	c->pending = pending;
	c->done = 0;
	c->rx_blocked = blocked;
	return 0;
}

static const struct libvm__virtio_ops con_ops = {
	.device_type = 3,
	.class_code = 0x078000,
	.num_queues = 2,
	.queue_size = LIBVM__VQ_MAX_SIZE,
	.config_size = CONFIG_SIZE,
	.config_read = con_config_read,
	.queue_notify = con_notify,
	.reset = con_reset,
	.state_save = con_state_save,
	.state_load = con_state_load,
};

static void con_release(void *c)
{
	libvm_virtio_console_detach(c);
}

LIBVM_EXPORT int libvm_virtio_console_attach(libvm_virtio_console **out, libvm_pci_bus *bus,
					     const libvm_virtio_console_options *opts)
{
	libvm_virtio_console_options o = LIBVM_VIRTIO_CONSOLE_OPTIONS_INIT;
	libvm_virtio_console *c;
	int err;

	if (!out)
		return libvm__fail(-EINVAL, "libvm_virtio_console_attach: out is NULL");
	LIBVM__CHECK_PCI_BUS(bus, "libvm_virtio_console_attach");
	if (opts) {
		err = libvm__copy_options(&o, sizeof(o), opts, "libvm_virtio_console_attach");
		if (err)
			return err;
	}
	if ((o.input_fd >= 0 && fcntl(o.input_fd, F_GETFD) < 0) ||
	    (o.output_fd >= 0 && fcntl(o.output_fd, F_GETFD) < 0))
		return libvm__fail(-EBADF, "virtio-console: input fd %d or output fd %d is not open",
				   o.input_fd, o.output_fd);
	c = calloc(1, sizeof(*c));
	if (!c)
		return libvm__fail(-ENOMEM, "virtio-console: out of memory");
	c->v.magic = LIBVM__MAGIC_VIRTIO_CONSOLE;
	c->in_fd = o.input_fd;
	c->out_fd = o.output_fd;
	c->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->wake < 0) {
		err = libvm__fail(-errno, "virtio-console: eventfd: %s", strerror(errno));
		free(c);
		return err;
	}
	err = libvm__virtio_init(&c->v, bus, o.slot, &con_ops, "virtio-console");
	if (err) {
		close(c->wake);
		free(c);
		return err;
	}
	err = pthread_create(&c->thread, NULL, rx_main, c);
	if (err) {
		libvm__virtio_fini(&c->v);
		close(c->wake);
		free(c);
		return libvm__fail(-EAGAIN, "virtio-console: cannot start the input thread: %s",
				   strerror(err));
	}
	c->thread_started = true;
	err = libvm__vm_own_child(c->v.vm, c, con_release, libvm__pci_dev_bus(c->v.pci));
	if (err) {
		libvm_virtio_console_detach(c);
		return err;
	}
	*out = c;
	return 0;
}

LIBVM_EXPORT void libvm_virtio_console_detach(libvm_virtio_console *c)
{
	if (!libvm__live(c, LIBVM__MAGIC_VIRTIO_CONSOLE))
		return;
	libvm__vm_disown(c->v.vm, c);
	if (c->thread_started) {
		atomic_store(&c->stop, true);
		kick_thread(c);
		pthread_join(c->thread, NULL);
	}
	libvm__virtio_fini(&c->v);
	close(c->wake);
	libvm__bury(c, sizeof(*c));
}
