/* SPDX-License-Identifier: MIT */
/*
 * Device buses: one rangemap per address space (PIO, MMIO) mapping address
 * ranges to handlers. Dispatch takes the bus lock for reading, so vCPU
 * threads never block each other, and a registration (write lock) waits
 * until running handlers are done; that is what lets unregister promise the
 * handler is no longer running. A handler that tried to (un)register would
 * wait for itself, so a thread-local flag turns that into -EDEADLK.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* The VM whose device handler this thread is running, if any. */
static _Thread_local const libvm_vm *in_handler;

bool libvm__in_handler(const libvm_vm *vm)
{
	return in_handler == vm;
}

bool libvm__iobus_rdlock(libvm_vm *vm)
{
	/* A handler of this VM holds it already: taking it again could wait
	 * behind a queued writer that waits for this very handler. */
	if (in_handler == vm)
		return false;
	pthread_rwlock_rdlock(&vm->io_lock);
	return true;
}

void libvm__iobus_unlock(libvm_vm *vm)
{
	pthread_rwlock_unlock(&vm->io_lock);
}

const struct libvm__device *libvm__iobus_mmio_overlap(const libvm_vm *vm, uint64_t gpa,
						       uint64_t length)
{
	size_t i, end;

	libvm__rangemap_overlaps(&vm->io[LIBVM_SPACE_MMIO], gpa, length, &i, &end);
	return i < end ? vm->io[LIBVM_SPACE_MMIO].v[i].item : NULL;
}

static const char *space_name(enum libvm_space space)
{
	return space == LIBVM_SPACE_PIO ? "port" : "MMIO";
}

void libvm__iobus_init(libvm_vm *vm)
{
	pthread_rwlockattr_t attr;

	/*
	 * Writers first: dispatch holds the read lock for a whole handler, so
	 * with glibc's default (readers first) the handlers of busy vCPUs
	 * overlap and a registration could wait for as long as they keep
	 * coming. A thread never takes the read lock twice (a handler cannot
	 * reach dispatch again), so this kind cannot deadlock here.
	 */
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&vm->io_lock, &attr);
	pthread_rwlockattr_destroy(&attr);
}

void libvm__iobus_fini(libvm_vm *vm)
{
	for (int s = 0; s < 2; s++) {
		for (size_t i = 0; i < vm->io[s].n; i++)
			free(vm->io[s].v[i].item);
		libvm__rangemap_free(&vm->io[s]);
	}
	pthread_rwlock_destroy(&vm->io_lock);
}

static int check_call(const libvm_vm *vm, enum libvm_space space, const char *fn)
{
	LIBVM__CHECK_VM(vm, fn);
	if (space != LIBVM_SPACE_PIO && space != LIBVM_SPACE_MMIO)
		return libvm__fail(-EINVAL, "%s: unknown address space %d", fn, (int)space);
	/* Its own VM's map is read-locked for the handler; another VM's is
	 * free to change. */
	if (in_handler == vm)
		return libvm__fail(-EDEADLK, "%s: called from inside a device handler of this VM",
				   fn);
	return 0;
}

LIBVM_EXPORT int libvm_io_register(libvm_vm *vm, enum libvm_space space, uint64_t base,
				   uint64_t length, const char *name, libvm_io_fn fn, void *opaque)
{
	const struct libvm__range *conflict = NULL;
	struct libvm__device *d;
	int err = check_call(vm, space, "libvm_io_register");

	if (err)
		return err;
	if (!fn)
		return libvm__fail(-EINVAL, "libvm_io_register: handler is NULL");
	if (!libvm__range_valid(base, length))
		return libvm__fail(-EINVAL, "%s range 0x%llx+0x%llx is empty or wraps",
				   space_name(space), (unsigned long long)base,
				   (unsigned long long)length);
	if (space == LIBVM_SPACE_PIO && (base > 0xffff || length > 0x10000 - base))
		return libvm__fail(-EINVAL, "port range 0x%llx+0x%llx goes past port 0xffff",
				   (unsigned long long)base, (unsigned long long)length);

	d = calloc(1, sizeof(*d));
	if (!d)
		return libvm__fail(-ENOMEM, "libvm_io_register: out of memory");
	d->base = base;
	d->length = length;
	d->fn = fn;
	d->opaque = opaque;
	snprintf(d->name, sizeof(d->name), "%s", name ? name : "");

	pthread_rwlock_wrlock(&vm->io_lock);
	if (space == LIBVM_SPACE_MMIO) {
		/* A device under RAM would never be called: the guest's
		 * accesses go to the memory. Under a read-only region it gets
		 * the writes (see libvm_region_map()). Lock order: device
		 * maps, then memory. */
		const libvm_region *ram;

		pthread_rwlock_rdlock(&vm->mem_lock);
		ram = libvm__ram_overlap(vm, base, length);
		if (ram)
			err = libvm__fail(-EEXIST, "MMIO range '%s' 0x%llx+0x%llx overlaps RAM region '%s' 0x%llx+0x%llx",
					  d->name, (unsigned long long)base,
					  (unsigned long long)length, libvm_region_name(ram),
					  (unsigned long long)libvm_region_gpa(ram),
					  (unsigned long long)libvm_region_length(ram));
		pthread_rwlock_unlock(&vm->mem_lock);
		if (err) {
			pthread_rwlock_unlock(&vm->io_lock);
			free(d);
			return err;
		}
	}
	err = libvm__rangemap_insert(&vm->io[space], base, length, d, &conflict);
	if (err == -EEXIST) {
		const struct libvm__device *c = conflict->item;

		err = libvm__fail(-EEXIST, "%s range '%s' 0x%llx+0x%llx overlaps '%s' 0x%llx+0x%llx",
				  space_name(space), d->name, (unsigned long long)base,
				  (unsigned long long)length, c->name,
				  (unsigned long long)c->base, (unsigned long long)c->length);
	} else if (err) {
		err = libvm__fail(err, "libvm_io_register: out of memory");
	}
	pthread_rwlock_unlock(&vm->io_lock);
	if (err)
		free(d);
	return err;
}

LIBVM_EXPORT int libvm_io_unregister(libvm_vm *vm, enum libvm_space space, uint64_t base)
{
	struct libvm__device *d;
	int err = check_call(vm, space, "libvm_io_unregister");

	if (err)
		return err;
	pthread_rwlock_wrlock(&vm->io_lock);
	d = libvm__rangemap_remove(&vm->io[space], base);
	pthread_rwlock_unlock(&vm->io_lock);
	if (!d)
		return libvm__fail(-ENOENT, "no %s range starts at 0x%llx", space_name(space),
				   (unsigned long long)base);
	free(d);
	return 0;
}

int libvm__iobus_dispatch(libvm_vm *vm, enum libvm_space space, libvm_vcpu *vcpu,
			  uint64_t addr, void *data, uint32_t len, bool is_write)
{
	const struct libvm__range *e;
	const struct libvm__device *d;
	int r;

	pthread_rwlock_rdlock(&vm->io_lock);
	e = libvm__rangemap_find(&vm->io[space], addr);
	if (!e) {
		pthread_rwlock_unlock(&vm->io_lock);
		return 0;
	}
	d = e->item;
	if (!is_write)
		memset(data, 0xff, len);
	/* A fresh message, so that one the handler sets on failure is told
	 * apart from a stale one (run.c keeps it). */
	libvm__clear_error();
	in_handler = vm;
	r = d->fn(vcpu, addr, data, len, is_write, d->opaque);
	in_handler = NULL;
	pthread_rwlock_unlock(&vm->io_lock);
	if (r > 0)
		r = 0;
	return r < 0 ? r : 1;
}
