/* SPDX-License-Identifier: MIT */
/*
 * Saved device state (include/libvm/snapshot.h): the little-endian field
 * encoder a device writes its state with, the bounds-checked decoder it
 * reads it back with, and the VM's registry of devices that have state.
 *
 * Every built-in device registers an entry at attach time (name, version,
 * save, load) and drops it at detach; an embedder's device does the same
 * through libvm_device_state_register(). A state blob is hostile input
 * when it is loaded (it came from a file or a socket): the decoder never
 * reads past its end, and each device validates every value it takes
 * before it changes anything, so a refused load leaves the device as it
 * was.
 */
#ifndef LIBVM_STATE_H
#define LIBVM_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libvm/snapshot.h>

#include "internal.h"

/* The writer behind libvm_state_writer: a growing buffer. */
struct libvm_state_writer {
	uint8_t *buf;
	size_t len, cap;
	int err;          /* first failure (-ENOMEM, -E2BIG); later writes are dropped */
};

void libvm__enc_init(struct libvm_state_writer *w);
void libvm__enc_fini(struct libvm_state_writer *w);
void libvm__enc_bytes(struct libvm_state_writer *w, const void *p, size_t n);
void libvm__enc_u8(struct libvm_state_writer *w, uint8_t v);
void libvm__enc_u16(struct libvm_state_writer *w, uint16_t v);
void libvm__enc_u32(struct libvm_state_writer *w, uint32_t v);
void libvm__enc_u64(struct libvm_state_writer *w, uint64_t v);
static inline void libvm__enc_bool(struct libvm_state_writer *w, bool v)
{
	libvm__enc_u8(w, v ? 1 : 0);
}

/*
 * The reader: fields come out in order; a read past the end yields zeros
 * and marks the decoder failed, so a device reads all its fields and then
 * asks libvm__dec_done() once whether they were all there (and no more).
 */
struct libvm__dec {
	const uint8_t *p;
	size_t len, pos;
	bool short_read;
};

void libvm__dec_init(struct libvm__dec *d, const void *p, size_t len);
void libvm__dec_bytes(struct libvm__dec *d, void *out, size_t n);
uint8_t libvm__dec_u8(struct libvm__dec *d);
uint16_t libvm__dec_u16(struct libvm__dec *d);
uint32_t libvm__dec_u32(struct libvm__dec *d);
uint64_t libvm__dec_u64(struct libvm__dec *d);
/* A bool field: 0 or 1; anything else marks the decoder failed. */
bool libvm__dec_bool(struct libvm__dec *d);
/*
 * 0 when every field was there and nothing is left over; else -EINVAL with
 * a message naming @what (the device) and what was wrong.
 */
int libvm__dec_done(const struct libvm__dec *d, const char *what);

/* Device state entries (one per device with state, in registration order). */
struct libvm__state_entry {
	char name[LIBVM_STATE_NAME_MAX];
	uint32_t version;
	uint32_t min_version;
	int (*save)(libvm_state_writer *w, void *opaque);
	int (*load)(const void *data, size_t len, uint32_t version, void *opaque);
	/*
	 * Built-in devices with threads of their own (virtio workers, the
	 * network receiver) stop touching guest memory and their state while
	 * paused, so that what is saved stays consistent with the memory saved
	 * after it. NULL for devices that only act on vCPU accesses.
	 */
	void (*pause)(void *opaque, bool paused);
	void *opaque;
	bool builtin;     /* a libvm device's: goes with its detach only */
	struct libvm__state_entry *next;
};

/*
 * Register a built-in device's state. @name is formatted (e.g. "uart@0x3f8").
 * 0; -EEXIST when the name is taken; -EINVAL; -ENOMEM.
 */
int libvm__state_add(libvm_vm *vm, uint32_t version, uint32_t min_version,
		     int (*save)(libvm_state_writer *w, void *opaque),
		     int (*load)(const void *data, size_t len, uint32_t version, void *opaque),
		     void (*pause)(void *opaque, bool paused), void *opaque, const char *fmt, ...)
	__attribute__((format(printf, 8, 9)));
/* Drop the entry whose opaque is @opaque (a device's detach); no-op if none. */
void libvm__state_remove(libvm_vm *vm, void *opaque);

/* Pause (true) or resume (false) every device that has a pause hook. */
void libvm__states_pause(libvm_vm *vm, bool paused);

/* Call @fn for each entry in registration order, registry locked. Stops at
 * the first non-zero return and returns it. */
int libvm__states_each(libvm_vm *vm, int (*fn)(struct libvm__state_entry *e, void *arg),
		       void *arg);

/* Save one entry's state into @w (reset first). 0 or the save's error. */
int libvm__state_save_one(struct libvm__state_entry *e, struct libvm_state_writer *w);
/*
 * Load @len bytes of state saved at @version into @e, refusing versions it
 * cannot read with -ENOTSUP and a message naming the device.
 */
int libvm__state_load_one(struct libvm__state_entry *e, const void *data, size_t len,
			  uint32_t version);

#endif
