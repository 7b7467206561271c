/* SPDX-License-Identifier: MIT */
/*
 * virtio-net (virtio 1.x, 5.1) on a Linux tap device: queue 0 receives,
 * queue 1 transmits. The tap is opened with IFF_VNET_HDR and a 12-byte
 * header, which is exactly struct virtio_net_hdr_v1 (5.1.6), so frames
 * pass through with their header untouched; no offloads are offered and
 * TUNSETOFFLOAD(0) keeps the host from sending GSO or partial-checksum
 * frames. Transmission happens on the notifying vCPU thread; a thread per
 * device waits on the tap and on an eventfd the driver's receive-queue
 * notifications signal when it had no buffers.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../state.h"
#include "virtio_internal.h"
#include "net.h"

#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_S_LINK_UP 1
#define NET_HDR 12 /* struct virtio_net_hdr_v1 */
#define FRAME_MAX (NET_HDR + 65535)
#define RXQ 0
#define TXQ 1

struct libvm_virtio_net {
	struct libvm__virtio v; /* first: the transport's callbacks cast back */
	int tap;
	int wake;
	pthread_t thread;
	bool thread_started;
	atomic_bool stop;
	bool rx_blocked;        /* the driver had no receive buffer: wait for a notify */
	size_t pending;         /* bytes of a received frame waiting in rxbuf */
	uint8_t mac[6];
	uint8_t rxbuf[FRAME_MAX];
	uint8_t txbuf[FRAME_MAX];
};

static void kick_thread(libvm_virtio_net *n)
{
	uint64_t one = 1;

	if (write(n->wake, &one, sizeof(one)) < 0) {
		/* The counter is full: the thread has wake-ups enough. */
	}
}

/* Send one transmitted frame to the tap. */
static uint32_t net_tx_request(struct libvm__virtio *v)
{
	libvm_virtio_net *n = (libvm_virtio_net *)v;
	uint64_t len = v->req.out_bytes;

	/* Frames that cannot be a frame, or that point outside RAM, are dropped. */
	if (len > NET_HDR && len <= FRAME_MAX &&
	    libvm__vq_read(&v->mem, &v->req, 0, n->txbuf, (size_t)len) == 0) {
		/* No offload was offered, so the guest's header can say
		 * nothing valid; zeroed, it never reaches the host
		 * kernel's GSO parsing with the guest's values. */
		memset(n->txbuf, 0, NET_HDR);
		if (write(n->tap, n->txbuf, (size_t)len) < 0) {
			/* tap full or down: dropped, as on a wire */
		}
	}
	return 0;
}

static void net_tx(libvm_virtio_net *n)
{
	libvm__virtio_serve(&n->v, TXQ, "malformed transmit queue", net_tx_request);
}

static void net_notify(struct libvm__virtio *v, uint16_t q)
{
	libvm_virtio_net *n = (libvm_virtio_net *)v;

	if (q == TXQ)
		net_tx(n);
	else
		kick_thread(n); /* new receive buffers */
}

static void net_reset(struct libvm__virtio *v)
{
	libvm_virtio_net *n = (libvm_virtio_net *)v;

	n->rx_blocked = false;
	n->pending = 0;
	if (n->wake >= 0)
		kick_thread(n);
}

/* Lock held: deliver the pending frame into a receive buffer if there is one. */
static void rx_deliver(libvm_virtio_net *n)
{
	struct libvm__virtio *v = &n->v;
	struct libvm__vq *vq = &v->vq[RXQ];
	uint32_t len = 0;
	int r;

	if (v->paused)
		return; /* kept for the resume (or the snapshot) */
	if (!libvm__virtio_running(v) || !vq->enabled) {
		n->pending = 0; /* nobody to receive: dropped */
		return;
	}
	r = libvm__vq_pop(vq, &v->mem, &v->req);
	if (r == 0) {
		n->rx_blocked = true;
		return;
	}
	if (r < 0) {
		libvm__virtio_broken(v, "malformed receive queue", r);
		n->pending = 0;
		return;
	}
	/* Without mergeable buffers a frame must fit one chain (5.1.6.3.1);
	 * a buffer too small or outside RAM gets the frame dropped. */
	if (n->pending <= v->req.in_bytes &&
	    libvm__vq_write(&v->mem, &v->req, 0, n->rxbuf, n->pending) == 0)
		len = (uint32_t)n->pending;
	n->pending = 0;
	if (libvm__vq_push(vq, &v->mem, v->req.head, len)) {
		libvm__virtio_broken(v, "used ring outside guest RAM", -EFAULT);
		return;
	}
	libvm__virtio_used(v, RXQ);
}

static void *rx_main(void *arg)
{
	libvm_virtio_net *n = arg;

	while (!atomic_load(&n->stop)) {
		struct pollfd p[2] = { { .fd = n->wake, .events = POLLIN },
				       { .fd = n->tap, .events = POLLIN } };
		bool blocked;

		pthread_mutex_lock(&n->v.lock);
		/* Paused for a snapshot: the tap waits (the host queues or
		 * drops, as for a busy guest); the resume kicks us. */
		blocked = n->rx_blocked || n->v.paused;
		pthread_mutex_unlock(&n->v.lock);
		if (poll(p, blocked ? 1 : 2, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents & POLLIN) {
			uint64_t cnt;

			if (read(n->wake, &cnt, sizeof(cnt)) < 0) {
				/* spurious: nothing to consume */
			}
			pthread_mutex_lock(&n->v.lock);
			n->rx_blocked = false;
			if (n->pending)
				rx_deliver(n);
			pthread_mutex_unlock(&n->v.lock);
		}
		if (!blocked && (p[1].revents & (POLLIN | POLLERR | POLLHUP))) {
			pthread_mutex_lock(&n->v.lock);
			if (!n->pending && !n->rx_blocked && !n->v.paused) {
				ssize_t got = read(n->tap, n->rxbuf, sizeof(n->rxbuf));

				/* num_buffers (the header's last field) is 1 without
				 * mergeable buffers (5.1.6.4); the tap leaves it as is. */
				if (got >= NET_HDR) {
					n->rxbuf[NET_HDR - 2] = 1;
					n->rxbuf[NET_HDR - 1] = 0;
					n->pending = (size_t)got;
				} else if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
					atomic_store(&n->stop, true); /* the tap went away */
				} /* else: nothing there, or a runt without a header: dropped */
			}
			if (n->pending)
				rx_deliver(n);
			pthread_mutex_unlock(&n->v.lock);
		}
	}
	return NULL;
}

static void net_config_read(struct libvm__virtio *v, uint32_t off, void *data, uint32_t len)
{
	libvm_virtio_net *n = (libvm_virtio_net *)v;
	uint8_t c[8];

	memcpy(c, n->mac, 6);
	c[6] = VIRTIO_NET_S_LINK_UP;
	c[7] = 0;
	memcpy(data, c + off, len);
}

/*
 * Saved state beyond the transport's: the MAC (a device with another one
 * refuses the state: the driver has read it), whether the driver ran out
 * of receive buffers, and a received frame not yet delivered (in flight
 * between the tap and the guest).
 */
static void net_state_save(struct libvm__virtio *v, struct libvm_state_writer *w)
{
	libvm_virtio_net *n = (libvm_virtio_net *)v;

	libvm__enc_bytes(w, n->mac, sizeof(n->mac));
	libvm__enc_bool(w, n->rx_blocked);
	libvm__enc_u32(w, (uint32_t)n->pending);
	libvm__enc_bytes(w, n->rxbuf, n->pending);
}

static int net_state_load(struct libvm__virtio *v, struct libvm__dec *d, bool commit)
{
	libvm_virtio_net *n = (libvm_virtio_net *)v;
	uint8_t mac[6];
	bool blocked;
	uint32_t pending;

	libvm__dec_bytes(d, mac, sizeof(mac));
	blocked = libvm__dec_bool(d);
	pending = libvm__dec_u32(d);
	if (d->short_read)
		return 0; /* the caller reports it */
	if (memcmp(mac, n->mac, sizeof(mac)))
		return libvm__fail(-EINVAL, "virtio-net: the snapshot's card has MAC %02x:%02x:%02x:%02x:%02x:%02x, this one %02x:%02x:%02x:%02x:%02x:%02x",
				   mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], n->mac[0],
				   n->mac[1], n->mac[2], n->mac[3], n->mac[4], n->mac[5]);
	if (pending > FRAME_MAX || (pending && pending < NET_HDR))
		return libvm__fail(-EINVAL, "virtio-net: saved frame of %u bytes", pending);
	if (!commit) {
		if (pending > d->len - d->pos)
			d->short_read = true;
		else
			d->pos += pending;
		return 0;
	}
	libvm__dec_bytes(d, n->rxbuf, pending);
	n->pending = pending;
	n->rx_blocked = blocked;
	return 0;
}

static const struct libvm__virtio_ops net_ops = {
	.device_type = 1,
	.class_code = 0x020000,
	.features = 1ull << VIRTIO_NET_F_MAC | 1ull << VIRTIO_NET_F_STATUS,
	.num_queues = 2,
	.queue_size = LIBVM__VQ_MAX_SIZE,
	.config_size = 8,
	.config_read = net_config_read,
	.queue_notify = net_notify,
	.reset = net_reset,
	.state_save = net_state_save,
	.state_load = net_state_load,
};

static void net_release(void *net)
{
	libvm_virtio_net_detach(net);
}

int libvm__virtio_net_attach_fd(libvm_virtio_net **out, libvm_pci_bus *bus,
				const libvm_virtio_net_options *o, int fd)
{
	static const uint8_t zero[6];
	libvm_virtio_net *n = calloc(1, sizeof(*n));
	int err;

	if (!n) {
		close(fd);
		return libvm__fail(-ENOMEM, "virtio-net: out of memory");
	}
	n->v.magic = LIBVM__MAGIC_VIRTIO_NET;
	n->tap = fd;
	n->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (n->wake < 0) {
		err = libvm__fail(-errno, "virtio-net: eventfd: %s", strerror(errno));
		close(fd);
		free(n);
		return err;
	}
	err = libvm__virtio_init(&n->v, bus, o->slot, &net_ops, "virtio-net");
	if (err) {
		close(n->wake);
		close(fd);
		free(n);
		return err;
	}
	memcpy(n->mac, o->mac, 6);
	if (!memcmp(n->mac, zero, 6)) {
		/* 52:54:00 is the locally administered prefix QEMU made customary. */
		static const uint8_t def[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x50 };

		memcpy(n->mac, def, 6);
		n->mac[5] = (uint8_t)(0x50 + libvm_pci_dev_slot(n->v.pci));
	}
	err = pthread_create(&n->thread, NULL, rx_main, n);
	if (err) {
		libvm__virtio_fini(&n->v);
		close(n->wake);
		close(fd);
		free(n);
		return libvm__fail(-EAGAIN, "virtio-net: cannot start the receive thread: %s",
				   strerror(err));
	}
	n->thread_started = true;
	err = libvm__vm_own_child(n->v.vm, n, net_release, libvm__pci_dev_bus(n->v.pci));
	if (err) {
		libvm_virtio_net_detach(n);
		return err;
	}
	*out = n;
	return 0;
}

static int open_tap(const char *name)
{
	struct ifreq ifr;
	int fd, hdr = NET_HDR, err;

	if (strlen(name) >= IFNAMSIZ)
		return libvm__fail(-EINVAL, "virtio-net: tap name \"%s\" is longer than %d bytes",
				   name, IFNAMSIZ - 1);
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return libvm__fail(-errno, "virtio-net: /dev/net/tun: %s (no tap support here)",
				   strerror(errno));
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		err = -errno;
		close(fd);
		return libvm__fail(err,
				   "virtio-net: cannot attach to tap \"%s\": %s (it needs CAP_NET_ADMIN, or a tap made for this user: ip tuntap add dev %s mode tap user $USER)",
				   name, strerror(-err), name);
	}
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0 || ioctl(fd, TUNSETOFFLOAD, 0) < 0) {
		err = -errno;
		close(fd);
		return libvm__fail(err, "virtio-net: tap \"%s\": %s", name, strerror(-err));
	}
	return fd;
}

LIBVM_EXPORT int libvm_virtio_net_attach(libvm_virtio_net **out, libvm_pci_bus *bus,
					 const libvm_virtio_net_options *opts)
{
	libvm_virtio_net_options o = LIBVM_VIRTIO_NET_OPTIONS_INIT;
	int err, fd;

	if (!out || !opts)
		return libvm__fail(-EINVAL, "libvm_virtio_net_attach: %s is NULL", out ? "opts" : "out");
	LIBVM__CHECK_PCI_BUS(bus, "libvm_virtio_net_attach");
	err = libvm__copy_options(&o, sizeof(o), opts, "libvm_virtio_net_attach");
	if (err)
		return err;
	if (!o.tap || !o.tap[0])
		return libvm__fail(-EINVAL, "virtio-net: no tap device named");
	fd = open_tap(o.tap);
	if (fd < 0)
		return fd;
	return libvm__virtio_net_attach_fd(out, bus, &o, fd);
}

LIBVM_EXPORT void libvm_virtio_net_detach(libvm_virtio_net *net)
{
	if (!libvm__live(net, LIBVM__MAGIC_VIRTIO_NET))
		return;
	libvm__vm_disown(net->v.vm, net);
	if (net->thread_started) {
		atomic_store(&net->stop, true);
		kick_thread(net);
		pthread_join(net->thread, NULL);
	}
	libvm__virtio_fini(&net->v);
	close(net->wake);
	close(net->tap);
	libvm__bury(net, sizeof(*net));
}
