/* SPDX-License-Identifier: MIT */
/*
 * Port 0x80: firmware writes POST codes here and Linux uses it as a short
 * I/O delay (outb_p), so it must be cheap and harmless. It only remembers
 * the last byte, for a launcher that wants to show where a guest stopped.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../state.h"
#include "common.h"
#include "port80.h"

int libvm__port80_access(struct libvm__port80 *p, uint32_t offset, void *data, uint32_t len,
			 bool is_write)
{
	if (is_write) {
		p->last = *(const uint8_t *)data;
		p->written = true;
	} else {
		memset(data, 0xff, len); /* nothing drives the bus */
	}
	return 0;
}

void libvm__port80_save(const struct libvm__port80 *p, struct libvm_state_writer *w)
{
	libvm__enc_bool(w, p->written);
	libvm__enc_u8(w, p->last);
}

int libvm__port80_load(struct libvm__port80 *p, const void *data, size_t len, uint32_t version)
{
	struct libvm__dec d;
	struct libvm__port80 t;
	int err;

	(void)version;
	libvm__dec_init(&d, data, len);
	t.written = libvm__dec_bool(&d);
	t.last = libvm__dec_u8(&d);
	err = libvm__dec_done(&d, "port80");
	if (!err)
		*p = t;
	return err;
}

struct libvm_port80 {
	uint32_t magic;
	libvm_vm *vm;
	pthread_mutex_t lock;
	struct libvm__devrange range;
	struct libvm__port80 st;
};

static int port80_io(libvm_vcpu *vcpu, uint64_t addr, void *data, uint32_t len, bool is_write,
		     void *opaque)
{
	libvm_port80 *p = opaque;

	pthread_mutex_lock(&p->lock);
	libvm__port80_access(&p->st, 0, data, len, is_write);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

static int port80_state_save(libvm_state_writer *w, void *opaque)
{
	libvm_port80 *p = opaque;

	pthread_mutex_lock(&p->lock);
	libvm__port80_save(&p->st, w);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

static int port80_state_load(const void *data, size_t len, uint32_t version, void *opaque)
{
	libvm_port80 *p = opaque;
	int err;

	pthread_mutex_lock(&p->lock);
	err = libvm__port80_load(&p->st, data, len, version);
	pthread_mutex_unlock(&p->lock);
	return err;
}

/* What libvm_vm_destroy() calls for a device still attached. */
static void port80_release(void *dev)
{
	libvm_port80_detach(dev);
}

LIBVM_EXPORT int libvm_port80_attach(libvm_port80 **out, libvm_vm *vm,
				     const libvm_port80_options *opts)
{
	libvm_port80_options o = LIBVM_PORT80_OPTIONS_INIT;
	libvm_port80 *p;
	int err;

	if (!out)
		return libvm__fail(-EINVAL, "libvm_port80_attach: out is NULL");
	LIBVM__CHECK_VM(vm, "libvm_port80_attach");
	err = libvm__dev_options(&o, sizeof(o), opts, "libvm_port80_attach");
	if (err)
		return err;
	if (!o.port)
		o.port = 0x80;
	p = calloc(1, sizeof(*p));
	if (!p)
		return libvm__fail(-ENOMEM, "port80: out of memory");
	p->magic = LIBVM__MAGIC_PORT80;
	p->vm = vm;
	pthread_mutex_init(&p->lock, NULL);
	p->range = (struct libvm__devrange){ LIBVM_SPACE_PIO, o.port, 1, "post", port80_io };
	err = libvm__dev_register(vm, &p->range, 1, p, port80_release);
	if (!err) {
		err = libvm__state_add(vm, LIBVM__PORT80_STATE_VERSION, 0, port80_state_save,
				       port80_state_load, NULL, p, "port80@0x%x", o.port);
		if (err)
			libvm__dev_unregister(vm, &p->range, 1, p);
	}
	if (err) {
		pthread_mutex_destroy(&p->lock);
		free(p);
		return err;
	}
	*out = p;
	return 0;
}

LIBVM_EXPORT void libvm_port80_detach(libvm_port80 *dev)
{
	if (!libvm__live(dev, LIBVM__MAGIC_PORT80) ||
	    !libvm__dev_unregister(dev->vm, &dev->range, 1, dev))
		return;
	pthread_mutex_destroy(&dev->lock);
	libvm__bury(dev, sizeof(*dev));
}

LIBVM_EXPORT int libvm_port80_last(libvm_port80 *dev)
{
	int r;

	LIBVM__CHECK_HANDLE(dev, LIBVM__MAGIC_PORT80, "libvm_port80_last", "dev", "port 0x80 sink");
	pthread_mutex_lock(&dev->lock);
	r = dev->st.written ? dev->st.last : -ENOENT;
	pthread_mutex_unlock(&dev->lock);
	if (r < 0)
		return libvm__fail(r, "port80: nothing written yet");
	return r;
}
