/* SPDX-License-Identifier: MIT */
/*
 * Device state: the field encoder and decoder, the VM's registry of
 * devices with state, and the public calls over it (see state.h and
 * include/libvm/snapshot.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"

/* One device's state at most: bounds what a hostile file can make us hold. */
#define STATE_MAX (64u << 20)

void libvm__enc_init(struct libvm_state_writer *w)
{
	memset(w, 0, sizeof(*w));
}

void libvm__enc_fini(struct libvm_state_writer *w)
{
	free(w->buf);
	memset(w, 0, sizeof(*w));
}

void libvm__enc_bytes(struct libvm_state_writer *w, const void *p, size_t n)
{
	if (w->err || !n)
		return;
	if (n > STATE_MAX - w->len) {
		w->err = -E2BIG;
		return;
	}
	if (w->len + n > w->cap) {
		size_t cap = w->cap ? w->cap : 256;
		uint8_t *b;

		while (cap < w->len + n)
			cap *= 2;
		b = realloc(w->buf, cap);
		if (!b) {
			w->err = -ENOMEM;
			return;
		}
		w->buf = b;
		w->cap = cap;
	}
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

void libvm__enc_u8(struct libvm_state_writer *w, uint8_t v)
{
	libvm__enc_bytes(w, &v, 1);
}

void libvm__enc_u16(struct libvm_state_writer *w, uint16_t v)
{
	uint8_t b[2];

	libvm__put16(b, v);
	libvm__enc_bytes(w, b, sizeof(b));
}

void libvm__enc_u32(struct libvm_state_writer *w, uint32_t v)
{
	uint8_t b[4];

	libvm__put32(b, v);
	libvm__enc_bytes(w, b, sizeof(b));
}

void libvm__enc_u64(struct libvm_state_writer *w, uint64_t v)
{
	uint8_t b[8];

	libvm__put64(b, v);
	libvm__enc_bytes(w, b, sizeof(b));
}

LIBVM_EXPORT int libvm_state_write(libvm_state_writer *w, const void *data, size_t len)
{
	if (!w || (!data && len))
		return libvm__fail(-EINVAL, "libvm_state_write: %s is NULL", w ? "data" : "w");
	libvm__enc_bytes(w, data, len);
	if (w->err == -E2BIG)
		return libvm__fail(-E2BIG, "libvm_state_write: a device's state is over %u MiB",
				   STATE_MAX >> 20);
	if (w->err)
		return libvm__fail(w->err, "libvm_state_write: out of memory");
	return 0;
}

void libvm__dec_init(struct libvm__dec *d, const void *p, size_t len)
{
	*d = (struct libvm__dec){ .p = p, .len = len };
}

void libvm__dec_bytes(struct libvm__dec *d, void *out, size_t n)
{
	if (d->short_read || n > d->len - d->pos) {
		d->short_read = true;
		memset(out, 0, n);
		return;
	}
	memcpy(out, d->p + d->pos, n);
	d->pos += n;
}

uint8_t libvm__dec_u8(struct libvm__dec *d)
{
	uint8_t b = 0;

	libvm__dec_bytes(d, &b, 1);
	return b;
}

uint16_t libvm__dec_u16(struct libvm__dec *d)
{
	uint8_t b[2];

	libvm__dec_bytes(d, b, sizeof(b));
	return libvm__le16(b);
}

uint32_t libvm__dec_u32(struct libvm__dec *d)
{
	uint8_t b[4];

	libvm__dec_bytes(d, b, sizeof(b));
	return libvm__le32(b);
}

uint64_t libvm__dec_u64(struct libvm__dec *d)
{
	uint8_t b[8];

	libvm__dec_bytes(d, b, sizeof(b));
	return libvm__le64(b);
}

bool libvm__dec_bool(struct libvm__dec *d)
{
	uint8_t v = libvm__dec_u8(d);

	if (v > 1)
		d->short_read = true; /* not a bool: the state is corrupt */
	return v == 1;
}

int libvm__dec_done(const struct libvm__dec *d, const char *what)
{
	if (d->short_read)
		return libvm__fail(-EINVAL, "%s: saved state is malformed (%zu bytes: too short or a bad flag)",
				   what, d->len);
	if (d->pos != d->len)
		return libvm__fail(-EINVAL, "%s: saved state has %zu bytes, %zu expected", what,
				   d->len, d->pos);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The registry                                                        */
/* ------------------------------------------------------------------ */

void libvm__states_init(libvm_vm *vm)
{
	memset(&vm->states, 0, sizeof(vm->states));
	pthread_mutex_init(&vm->states.lock, NULL);
}

void libvm__states_fini(libvm_vm *vm)
{
	struct libvm__state_registry *r = &vm->states;

	while (r->head) {
		struct libvm__state_entry *e = r->head;

		r->head = e->next;
		free(e);
	}
	r->tail = NULL;
	r->count = 0;
	pthread_mutex_destroy(&r->lock);
}

static bool name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n >= LIBVM_STATE_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (name[i] < 0x21 || name[i] > 0x7e)
			return false;
	return true;
}

static struct libvm__state_entry *find_locked(struct libvm__state_registry *r, const char *name)
{
	for (struct libvm__state_entry *e = r->head; e; e = e->next)
		if (!strcmp(e->name, name))
			return e;
	return NULL;
}

static int add_entry(libvm_vm *vm, struct libvm__state_entry *n)
{
	struct libvm__state_registry *r = &vm->states;
	struct libvm__state_entry *e;

	e = malloc(sizeof(*e));
	if (!e)
		return libvm__fail(-ENOMEM, "device state: out of memory");
	*e = *n;
	e->next = NULL;
	pthread_mutex_lock(&r->lock);
	if (find_locked(r, e->name)) {
		pthread_mutex_unlock(&r->lock);
		free(e);
		return libvm__fail(-EEXIST, "device state '%s' is already registered", n->name);
	}
	if (r->tail)
		r->tail->next = e;
	else
		r->head = e;
	r->tail = e;
	r->count++;
	/* A device that joins a paused VM starts paused too. */
	if (r->paused && e->pause)
		e->pause(e->opaque, true);
	pthread_mutex_unlock(&r->lock);
	return 0;
}

int libvm__state_add(libvm_vm *vm, uint32_t version, uint32_t min_version,
		     int (*save)(libvm_state_writer *w, void *opaque),
		     int (*load)(const void *data, size_t len, uint32_t version, void *opaque),
		     void (*pause)(void *opaque, bool paused), void *opaque, const char *fmt, ...)
{
	struct libvm__state_entry e = {
		.version = version, .min_version = min_version ? min_version : version,
		.save = save, .load = load, .pause = pause, .opaque = opaque, .builtin = true,
	};
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e.name, sizeof(e.name), fmt, ap);
	va_end(ap);
	return add_entry(vm, &e);
}

/* Unlink @e (lock held); the caller frees it. */
static void unlink_locked(struct libvm__state_registry *r, struct libvm__state_entry *e)
{
	struct libvm__state_entry *prev = NULL;

	for (struct libvm__state_entry *i = r->head; i; prev = i, i = i->next) {
		if (i != e)
			continue;
		if (prev)
			prev->next = e->next;
		else
			r->head = e->next;
		if (r->tail == e)
			r->tail = prev;
		r->count--;
		return;
	}
}

void libvm__state_remove(libvm_vm *vm, void *opaque)
{
	struct libvm__state_registry *r = &vm->states;
	struct libvm__state_entry *e;

	pthread_mutex_lock(&r->lock);
	for (e = r->head; e && !(e->builtin && e->opaque == opaque); e = e->next)
		;
	if (e)
		unlink_locked(r, e);
	pthread_mutex_unlock(&r->lock);
	free(e);
}

void libvm__states_pause(libvm_vm *vm, bool paused)
{
	struct libvm__state_registry *r = &vm->states;

	pthread_mutex_lock(&r->lock);
	if (r->paused != paused) {
		r->paused = paused;
		for (struct libvm__state_entry *e = r->head; e; e = e->next)
			if (e->pause)
				e->pause(e->opaque, paused);
	}
	pthread_mutex_unlock(&r->lock);
}

int libvm__states_each(libvm_vm *vm, int (*fn)(struct libvm__state_entry *e, void *arg),
		       void *arg)
{
	struct libvm__state_registry *r = &vm->states;
	int err = 0;

	pthread_mutex_lock(&r->lock);
	for (struct libvm__state_entry *e = r->head; e && !err; e = e->next)
		err = fn(e, arg);
	pthread_mutex_unlock(&r->lock);
	return err;
}

int libvm__state_save_one(struct libvm__state_entry *e, struct libvm_state_writer *w)
{
	int err;

	w->len = 0;
	w->err = 0;
	libvm__clear_error();
	err = e->save(w, e->opaque);
	if (!err && w->err)
		err = libvm__fail(w->err, "device '%s': state too large or out of memory",
				  e->name);
	else if (err && !libvm_error_message()[0])
		libvm__fail(err, "device '%s': saving its state failed", e->name);
	return err;
}

int libvm__state_load_one(struct libvm__state_entry *e, const void *data, size_t len,
			  uint32_t version)
{
	int err;

	if (version > e->version)
		return libvm__fail(-ENOTSUP, "device '%s': state version %u is newer than this libvm reads (%u); use a newer libvm",
				   e->name, version, e->version);
	if (version < e->min_version)
		return libvm__fail(-ENOTSUP, "device '%s': state version %u is older than this libvm reads (%u .. %u)",
				   e->name, version, e->min_version, e->version);
	if (len > STATE_MAX)
		return libvm__fail(-EINVAL, "device '%s': state of %zu bytes is over %u MiB",
				   e->name, len, STATE_MAX >> 20);
	libvm__clear_error();
	err = e->load(data, len, version, e->opaque);
	if (err && !libvm_error_message()[0])
		libvm__fail(err, "device '%s': it refused its saved state", e->name);
	return err;
}

/* ------------------------------------------------------------------ */
/* Public calls                                                        */
/* ------------------------------------------------------------------ */

LIBVM_EXPORT int libvm_device_state_register(libvm_vm *vm, const libvm_device_state_ops *ops)
{
	libvm_device_state_ops o;
	struct libvm__state_entry e;
	int err;

	LIBVM__CHECK_VM(vm, "libvm_device_state_register");
	if (!ops)
		return libvm__fail(-EINVAL, "libvm_device_state_register: ops is NULL");
	err = libvm__copy_options(&o, sizeof(o), ops, "libvm_device_state_ops");
	if (err)
		return err;
	if (!o.name || !name_ok(o.name))
		return libvm__fail(-EINVAL, "device state: name must be 1 to %d printable ASCII characters without spaces",
				   LIBVM_STATE_NAME_MAX - 1);
	if (!o.save || !o.load)
		return libvm__fail(-EINVAL, "device state '%s': save and load are both required",
				   o.name);
	if (o.version == 0 || o.min_version > o.version)
		return libvm__fail(-EINVAL, "device state '%s': version %u / min_version %u (want 1 <= min_version <= version)",
				   o.name, o.version, o.min_version);
	memset(&e, 0, sizeof(e));
	snprintf(e.name, sizeof(e.name), "%s", o.name);
	e.version = o.version;
	e.min_version = o.min_version ? o.min_version : o.version;
	e.save = o.save;
	e.load = o.load;
	e.opaque = o.opaque;
	return add_entry(vm, &e);
}

LIBVM_EXPORT int libvm_device_state_unregister(libvm_vm *vm, const char *name)
{
	struct libvm__state_entry *e;

	LIBVM__CHECK_VM(vm, "libvm_device_state_unregister");
	if (!name)
		return libvm__fail(-EINVAL, "libvm_device_state_unregister: name is NULL");
	pthread_mutex_lock(&vm->states.lock);
	e = find_locked(&vm->states, name);
	if (e && e->builtin) {
		pthread_mutex_unlock(&vm->states.lock);
		return libvm__fail(-EINVAL, "device state '%s' belongs to a built-in device: detach the device instead",
				   name);
	}
	if (e)
		unlink_locked(&vm->states, e);
	pthread_mutex_unlock(&vm->states.lock);
	if (!e)
		return libvm__fail(-ENOENT, "no device state named '%s'", name);
	free(e);
	return 0;
}

LIBVM_EXPORT int libvm_device_state_save(libvm_vm *vm, const char *name, void *buf,
					 size_t *len, uint32_t *version)
{
	struct libvm_state_writer w;
	struct libvm__state_entry *e;
	int err;

	LIBVM__CHECK_VM(vm, "libvm_device_state_save");
	if (!name || !len)
		return libvm__fail(-EINVAL, "libvm_device_state_save: %s is NULL",
				   !name ? "name" : "len");
	libvm__enc_init(&w);
	pthread_mutex_lock(&vm->states.lock);
	e = find_locked(&vm->states, name);
	err = e ? libvm__state_save_one(e, &w) :
		  libvm__fail(-ENOENT, "no device state named '%s'", name);
	if (!err && version)
		*version = e->version;
	pthread_mutex_unlock(&vm->states.lock);
	if (!err) {
		if (buf && *len >= w.len)
			memcpy(buf, w.buf, w.len);
		else if (buf)
			err = libvm__fail(-E2BIG, "device '%s': its state needs %zu bytes", name,
					  w.len);
		*len = w.len;
	}
	libvm__enc_fini(&w);
	return err;
}

LIBVM_EXPORT int libvm_device_state_load(libvm_vm *vm, const char *name, const void *data,
					 size_t len, uint32_t version)
{
	struct libvm__state_entry *e;
	int err;

	LIBVM__CHECK_VM(vm, "libvm_device_state_load");
	if (!name || (!data && len))
		return libvm__fail(-EINVAL, "libvm_device_state_load: %s is NULL",
				   !name ? "name" : "data");
	pthread_mutex_lock(&vm->states.lock);
	e = find_locked(&vm->states, name);
	err = e ? libvm__state_load_one(e, data, len, version) :
		  libvm__fail(-ENOENT, "no device state named '%s'", name);
	pthread_mutex_unlock(&vm->states.lock);
	return err;
}
