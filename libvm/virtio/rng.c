/* SPDX-License-Identifier: MIT */
/*
 * virtio-rng (virtio 1.x, 5.4): one request queue; each chain's writable
 * buffers are filled from getrandom(2). No device configuration, no
 * device-specific features.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#include "virtio_internal.h"

#define RNG_MAX_PER_REQUEST 0x10000

struct libvm_virtio_rng {
	struct libvm__virtio v; /* first: the transport's callbacks cast back */
	uint8_t buf[RNG_MAX_PER_REQUEST];
};

/* Fill one request's writable buffers with random bytes. */
static uint32_t rng_request(struct libvm__virtio *v)
{
	libvm_virtio_rng *rng = (libvm_virtio_rng *)v;
	uint64_t want = v->req.in_bytes;
	uint32_t done = 0;

	if (want > RNG_MAX_PER_REQUEST)
		want = RNG_MAX_PER_REQUEST;
	while (done < want) {
		ssize_t got = getrandom(rng->buf + done, want - done, 0);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		done += (uint32_t)got;
	}
	if (done && libvm__vq_write(&v->mem, &v->req, 0, rng->buf, done))
		done = 0; /* buffers outside RAM: nothing delivered */
	return done;
}

static void rng_notify(struct libvm__virtio *v, uint16_t q)
{
	libvm__virtio_serve(v, q, "malformed request queue", rng_request);
}

static const struct libvm__virtio_ops rng_ops = {
	.device_type = 4,
	.class_code = 0x00ff00,
	.num_queues = 1,
	.queue_size = LIBVM__VQ_MAX_SIZE,
	.queue_notify = rng_notify,
};

static void rng_release(void *rng)
{
	libvm_virtio_rng_detach(rng);
}

LIBVM_EXPORT int libvm_virtio_rng_attach(libvm_virtio_rng **out, libvm_pci_bus *bus,
					 const libvm_virtio_rng_options *opts)
{
	libvm_virtio_rng_options o = LIBVM_VIRTIO_RNG_OPTIONS_INIT;
	libvm_virtio_rng *rng;
	int err;

	if (!out)
		return libvm__fail(-EINVAL, "libvm_virtio_rng_attach: out is NULL");
	LIBVM__CHECK_PCI_BUS(bus, "libvm_virtio_rng_attach");
	if (opts) {
		err = libvm__copy_options(&o, sizeof(o), opts, "libvm_virtio_rng_attach");
		if (err)
			return err;
	}
	rng = calloc(1, sizeof(*rng));
	if (!rng)
		return libvm__fail(-ENOMEM, "virtio-rng: out of memory");
	rng->v.magic = LIBVM__MAGIC_VIRTIO_RNG;
	err = libvm__virtio_init(&rng->v, bus, o.slot, &rng_ops, "virtio-rng");
	if (!err) {
		err = libvm__vm_own_child(rng->v.vm, rng, rng_release, libvm__pci_dev_bus(rng->v.pci));
		if (err)
			libvm__virtio_fini(&rng->v);
	}
	if (err) {
		free(rng);
		return err;
	}
	*out = rng;
	return 0;
}

LIBVM_EXPORT void libvm_virtio_rng_detach(libvm_virtio_rng *rng)
{
	if (!libvm__live(rng, LIBVM__MAGIC_VIRTIO_RNG))
		return;
	libvm__vm_disown(rng->v.vm, rng);
	libvm__virtio_fini(&rng->v);
	libvm__bury(rng, sizeof(*rng));
}
