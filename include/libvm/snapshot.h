/* SPDX-License-Identifier: MIT */
/*
 * libvm saved state: per-device state with a name and a version, the
 * plug-in through which an embedder's own device joins it, and (below)
 * snapshots of a whole VM in a file and live migration between processes.
 *
 * Device state. Every device that has state the guest can see -- each of
 * libvm's built-in devices, and any device of the embedder's that registers
 * itself here -- is an entry of its VM with a unique name (the built-ins
 * name themselves after their place, e.g. "uart@0x3f8", "pci@0xcf8",
 * "virtio-blk@pci.01") and a version. Saving asks each entry for its state
 * as bytes; loading hands each entry the bytes saved under its name with
 * the version they were saved at. An entry refuses versions it cannot read:
 * newer than its own version always, older than its min_version by choice.
 * A later release that changes a device's state raises its version and
 * either still reads the older layout or raises min_version, so an old
 * snapshot is read correctly or refused with a clear error, never
 * misread. docs/snapshot.md lists the built-in devices' layouts.
 *
 * Thread rules: registration follows libvm_io_register() (any thread, not
 * from inside a device handler of the same VM). Saving and loading run
 * with no vCPU of the VM running; the callbacks run on the calling thread.
 */
#ifndef LIBVM_SNAPSHOT_H
#define LIBVM_SNAPSHOT_H

#include <libvm/libvm.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Longest device state name, with its NUL. */
#define LIBVM_STATE_NAME_MAX 64

/** Where a save callback writes its device's state (opaque). */
typedef struct libvm_state_writer libvm_state_writer;

/**
 * libvm_state_write() - append @len bytes to the state being saved.
 * @w:    the writer passed to the save callback.
 * @data: the bytes (copied); may be NULL when @len is 0.
 * @len:  their number. One device's state is at most 64 MiB in all.
 *
 * Call it as many times as needed; the pieces are concatenated. Write
 * integers in a fixed byte order (libvm's devices use little-endian) so a
 * snapshot moves between hosts. Thread: the save callback's.
 * Returns: 0; -EINVAL for NULL arguments; -E2BIG past 64 MiB; -ENOMEM.
 */
LIBVM_EXPORT int libvm_state_write(libvm_state_writer *w, const void *data, size_t len);

/**
 * libvm_state_save_fn - write the device's current state.
 * @w:      where to write it (libvm_state_write()).
 * @opaque: the ops' @opaque.
 * Returns: 0, or a negative errno that fails the whole save.
 */
typedef int (*libvm_state_save_fn)(libvm_state_writer *w, void *opaque);

/**
 * libvm_state_load_fn - take on a saved state.
 * @data:    the bytes one save wrote (borrowed for the call). They come from
 *           a file or a socket: check every value before using it.
 * @len:     their number.
 * @version: the version the state was saved at, between the ops'
 *           @min_version and @version (others never reach the callback).
 * @opaque:  the ops' @opaque.
 * Returns: 0, or a negative errno (-EINVAL for a state it refuses; set the
 * detail with no library call, libvm says which device failed) that fails
 * the restore. A refused state should leave the device unchanged.
 */
typedef int (*libvm_state_load_fn)(const void *data, size_t len, uint32_t version,
				   void *opaque);

/**
 * struct libvm_device_state_ops - a device's part in the VM's saved state.
 * @size:        sizeof(struct libvm_device_state_ops); set by the INIT macro.
 * @name:        unique in the VM, 1 .. LIBVM_STATE_NAME_MAX - 1 bytes of
 *               printable ASCII (copied). Must be the same in the VM that
 *               saves and the one that loads: name it after what the device
 *               is, not after the order of creation.
 * @version:     the version of the layout save() writes, 1 or more.
 * @min_version: the oldest layout load() reads; 0 means @version.
 * @save:        writes the state (required).
 * @load:        reads it back (required).
 * @opaque:      passed to both.
 */
typedef struct libvm_device_state_ops {
	size_t size;
	const char *name;
	uint32_t version;
	uint32_t min_version;
	libvm_state_save_fn save;
	libvm_state_load_fn load;
	void *opaque;
} libvm_device_state_ops;

#define LIBVM_DEVICE_STATE_OPS_INIT { .size = sizeof(libvm_device_state_ops) }

/**
 * libvm_device_state_register() - add a device's state to the VM's.
 * @vm:  the VM.
 * @ops: what to call (copied).
 *
 * The entry stays until libvm_device_state_unregister() or the VM's
 * destruction. Thread: as libvm_io_register().
 * Returns: 0; -EINVAL for NULL arguments, a bad @size, a missing callback,
 * a bad name, version 0 or @min_version above @version; -EEXIST when the
 * name is taken (the built-in devices' names included); -ENOMEM.
 */
LIBVM_EXPORT int libvm_device_state_register(libvm_vm *vm, const libvm_device_state_ops *ops);

/**
 * libvm_device_state_unregister() - remove the entry named @name.
 * Returns: 0; -ENOENT when there is none; -EINVAL for NULL arguments or a
 * built-in device's entry (those go with their device's detach).
 */
LIBVM_EXPORT int libvm_device_state_unregister(libvm_vm *vm, const char *name);

/**
 * libvm_device_state_save() - the current state of one device, as bytes.
 * @vm:      the VM.
 * @name:    the entry's name.
 * @buf:     where to copy it, or NULL to ask for the size.
 * @len:     in: the room in @buf; out: the state's size.
 * @version: receives the version it was saved at (may be NULL).
 *
 * For embedders with a format of their own and for tests; snapshots do
 * this for every entry. No vCPU may run meanwhile. Thread: any.
 * Returns: 0; -E2BIG when @buf is too small (@len then holds the size);
 * -ENOENT when no entry has that name; -EINVAL; the save callback's error.
 */
LIBVM_EXPORT int libvm_device_state_save(libvm_vm *vm, const char *name, void *buf,
					 size_t *len, uint32_t *version);

/**
 * libvm_device_state_load() - hand one device a state saved at @version.
 * Returns: 0; -ENOENT when no entry has that name; -ENOTSUP when @version
 * is outside the entry's min_version .. version (the message says which
 * versions it reads); -EINVAL for a state the device refuses (the message
 * names the device and the field); the load callback's error.
 */
LIBVM_EXPORT int libvm_device_state_load(libvm_vm *vm, const char *name, const void *data,
					 size_t len, uint32_t version);

#ifdef __cplusplus
}
#endif

#endif /* LIBVM_SNAPSHOT_H */
