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

#define LIBVM_DEVICE_STATE_OPS_INIT \
	LIBVM__OPTIONS_INIT(libvm_device_state_ops, libvm_device_state_ops_init)

/** libvm_device_state_ops_init() - the defaults (all zero); see libvm_vm_options_init(). */
LIBVM_EXPORT int libvm_device_state_ops_init(libvm_device_state_ops *ops, size_t size);

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


/* ------------------------------------------------------------------ */
/* Snapshots of a whole VM                                             */
/* ------------------------------------------------------------------ */

/*
 * A snapshot is a stream (docs/snapshot.md): a header with a magic and a
 * format version, a description of the machine (memory map, vCPUs and
 * their CPUID, irqchip, devices with their state versions), the
 * application's own bytes, each vCPU's state, the VM's (PICs, IOAPIC,
 * PIT, kvmclock, MSI routes), each device's, and guest memory last, every
 * section checksummed. Disk images are not part of it: a restored VM must
 * be given the same images, as they were when the snapshot was taken.
 *
 * Restoring goes into a VM the application has built the same way as the
 * saved one (same regions, vCPUs, irqchip, devices, CPUID) and not run
 * yet; the application's bytes (libvm_snapshot_app_data()) are where it
 * keeps what it needs to build it, as vmrun keeps its command line. A file
 * that is truncated, corrupted, of a newer format, or does not match the
 * VM is refused with a message saying which, before any vCPU runs; the VM
 * it was being restored into must then be destroyed (its memory may be
 * half-written).
 */

/** Options of libvm_snapshot_save(). */
typedef struct libvm_snapshot_options {
	size_t size;            /* sizeof(struct libvm_snapshot_options) */
	uint32_t flags;         /* none yet: 0 */
	uint32_t reserved0;
	const void *app_data;   /* the application's bytes (copied into the file), or NULL */
	size_t app_data_len;    /* their number, at most 16 MiB */
} libvm_snapshot_options;

#define LIBVM_SNAPSHOT_OPTIONS_INIT \
	LIBVM__OPTIONS_INIT(libvm_snapshot_options, libvm_snapshot_options_init)

/** libvm_snapshot_options_init() - the defaults (all zero); see libvm_vm_options_init(). */
LIBVM_EXPORT int libvm_snapshot_options_init(libvm_snapshot_options *opts, size_t size);

/**
 * libvm_snapshot_save() - write a snapshot of @vm to @fd.
 * @vm:   the VM; none of its vCPUs may be running (stop it first, e.g.
 *        libvm_vm_stop() and wait for libvm_vm_run() to return).
 * @fd:   where to write: a file, pipe or socket, written sequentially from
 *        its current position (not closed, not synced: fsync() it yourself
 *        for durability).
 * @opts: options, or NULL.
 *
 * The VM's devices with threads of their own (virtio) are paused during the
 * save and resumed after, so the VM can go on running afterwards.
 * Thread: any, with no vCPU of @vm running. Returns: 0; -EBUSY when a vCPU
 * runs; -EINVAL for bad arguments; a device's error; the write's error
 * (-ENOSPC, -EPIPE, ...), with what failed in the message.
 */
LIBVM_EXPORT int libvm_snapshot_save(libvm_vm *vm, int fd, const libvm_snapshot_options *opts);

/** A snapshot being read (opaque). */
typedef struct libvm_snapshot libvm_snapshot;

/**
 * libvm_snapshot_open() - read a snapshot's header and machine description
 * from @fd, so the application can build the VM to restore it into.
 * @out: receives the handle (libvm_snapshot_close() frees it).
 * @fd:  read sequentially from its current position; stays the caller's
 *       and must stay open until the handle is closed.
 * Returns: 0; -EBADMSG for a file that is not a snapshot, is truncated or
 * corrupted; -ENOTSUP for a newer format; -EINVAL; the read's error.
 */
LIBVM_EXPORT int libvm_snapshot_open(libvm_snapshot **out, int fd);

/**
 * libvm_snapshot_app_data() - the application's bytes saved with it.
 * @len: receives their number (0 when none).
 * Returns: a pointer owned by @s (valid until it is closed), or NULL when
 * there are none.
 */
LIBVM_EXPORT const void *libvm_snapshot_app_data(const libvm_snapshot *s, size_t *len);

/**
 * libvm_snapshot_memory_map() - the saved VM's regions, as
 * libvm_vm_memory_map() lists them. Returns: as that call.
 */
LIBVM_EXPORT int libvm_snapshot_memory_map(const libvm_snapshot *s, libvm_mem_range *ranges,
					   uint32_t *count);

/** libvm_snapshot_nr_vcpus() - how many vCPUs the saved VM had (0 for NULL). */
LIBVM_EXPORT uint32_t libvm_snapshot_nr_vcpus(const libvm_snapshot *s);

/**
 * libvm_snapshot_restore() - read the rest of the snapshot into @vm.
 * @s:  an open snapshot, not restored yet.
 * @vm: a VM built as the saved one was, none of whose vCPUs has run.
 *
 * Checks the machine (memory layout, vCPUs, CPUID, irqchip, devices and
 * their state versions) first, then reads the sections, checking each
 * checksum, writes memory, and only once the end is read and everything
 * checked applies the state: MSI routes, devices, interrupt controllers,
 * vCPUs, the clock. Then libvm_vm_run() goes on where the saved VM was.
 * Thread: any, with no vCPU of @vm running.
 * Returns: 0; -EINVAL when the snapshot does not match @vm (the message
 * says what differs); -ENOTSUP for a state this libvm or backend cannot
 * take (a newer device version, a missing state call); -EBADMSG for a
 * truncated or corrupted file; -EBUSY when a vCPU runs; -EALREADY when @s
 * was restored before; the backend's error. On an error no vCPU has run,
 * but @vm is not usable: destroy it.
 */
LIBVM_EXPORT int libvm_snapshot_restore(libvm_snapshot *s, libvm_vm *vm);

/** libvm_snapshot_close() - free the handle (NULL: no-op). The fd stays open. */
LIBVM_EXPORT void libvm_snapshot_close(libvm_snapshot *s);

/* ------------------------------------------------------------------ */
/* Live migration                                                      */
/* ------------------------------------------------------------------ */

/** Figures of a live migration, filled by libvm_migrate_send(). */
typedef struct libvm_migrate_stats {
	uint64_t total_ns;      /* from the start to the target's answer */
	uint64_t downtime_ns;   /* from the pause to the target's answer */
	uint64_t bytes;         /* sent in all */
	uint64_t pages;         /* memory pages sent, every round */
	uint64_t final_pages;   /* ... of which after the pause */
	uint32_t rounds;        /* pre-copy rounds after the first full copy */
	uint32_t reserved0;
	uint64_t reserved[4];
} libvm_migrate_stats;

/**
 * libvm_migrate_pause_fn - stop the VM for the final copy: stop every vCPU
 * and return 0 once none runs (or a negative errno to abandon the
 * migration). Called once, on the thread of libvm_migrate_send().
 */
typedef int (*libvm_migrate_pause_fn)(void *opaque);

/** Options of libvm_migrate_send(). */
typedef struct libvm_migrate_options {
	size_t size;                  /* sizeof(struct libvm_migrate_options) */
	uint32_t flags;               /* none yet: 0 */
	uint32_t max_rounds;          /* pre-copy rounds at most; 0: 30 */
	uint64_t final_pages;         /* pause once a round finds fewer dirty pages; 0: 256 (1 MiB) */
	const void *app_data;         /* as for snapshots: how to build the target's VM */
	size_t app_data_len;
	libvm_migrate_pause_fn pause; /* required */
	void *opaque;                 /* passed to @pause */
	libvm_migrate_stats *stats;   /* filled when not NULL */
} libvm_migrate_options;

#define LIBVM_MIGRATE_OPTIONS_INIT \
	LIBVM__OPTIONS_INIT(libvm_migrate_options, libvm_migrate_options_init)

/** libvm_migrate_options_init() - the defaults (zero: 30 rounds, 256 final pages); see
 * libvm_vm_options_init(). */
LIBVM_EXPORT int libvm_migrate_options_init(libvm_migrate_options *opts, size_t size);

/**
 * libvm_migrate_send() - move @vm, while it runs, to a receiver on @fd.
 * @vm:   the VM, usually running (its vCPUs on other threads).
 * @fd:   a connected stream socket (or pipe) to the receiver, which calls
 *        libvm_snapshot_open(), builds its VM, libvm_snapshot_restore() and
 *        libvm_snapshot_ack().
 * @opts: options; @pause is required.
 *
 * Pre-copy: all memory is sent while the guest runs, then, in rounds, the
 * pages the dirty log reports written meanwhile, until a round finds few
 * enough (@final_pages) or @max_rounds is reached; then @pause stops the
 * VM, the remaining pages and all state follow, and the call waits for the
 * receiver's answer. Returns 0 only once the receiver confirmed it took
 * the VM over: the caller then ends its copy. On any error (the receiver
 * refused or went away) the VM here is intact: after a pause, resume it
 * (run it again) and it carries on. Thread: any but the vCPUs' threads.
 * Returns: 0; -EINVAL for bad options; -ENOTSUP when the backend has no
 * dirty log; the receiver's refusal as -ECONNREFUSED (its message
 * reported); the stream's error (-EPIPE, -ECONNRESET, ...); @pause's error.
 */
LIBVM_EXPORT int libvm_migrate_send(libvm_vm *vm, int fd, const libvm_migrate_options *opts);

/**
 * libvm_snapshot_ack() - the receiver's answer to a live migration, once
 * libvm_snapshot_restore() returned: @status 0 takes the VM over (the
 * sender may then end), a negative errno refuses it (the sender resumes
 * its VM). The refusal carries this thread's libvm_error_message(). A
 * no-op for a snapshot read from a file. Returns: 0; -EINVAL; the write's
 * error.
 */
LIBVM_EXPORT int libvm_snapshot_ack(libvm_snapshot *s, int status);

#ifdef __cplusplus
}
#endif

#endif /* LIBVM_SNAPSHOT_H */
