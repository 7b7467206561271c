/* SPDX-License-Identifier: MIT */
/*
 * VM lifetime: pick the backend for the device path, let it open the
 * device and create the VM, query its limits, and tear everything down in
 * order (devices, vCPUs, regions, the backend).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define DEFAULT_DEVICE "/dev/kvm"
/* Where KVM on Intel hosts keeps the real-mode TSS: 3 pages below 4 GiB,
 * inside the range real firmware leaves unused. */
#define TSS_ADDR 0xfffbd000ul

int libvm__check_extension(const libvm_vm *vm, long ext)
{
	return vm->backend->check_extension(vm, ext);
}

/* Ask the device for the CPUID it supports; *out is malloc'ed. */
static int query_supported_cpuid(const libvm_vm *vm, libvm_cpuid_entry **out, uint32_t *count)
{
	/* 128 entries fit every host seen so far, so one call usually does. */
	uint32_t nent = 128;

	for (;;) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));
		int r;

		if (!c)
			return -ENOMEM;
		c->nent = nent;
		r = vm->backend->get_supported_cpuid(vm, c);
		if (r == -E2BIG && nent < LIBVM__MAX_CPUID) {
			free(c);
			nent *= 2;
			continue;
		}
		if (r < 0) {
			/* Not fatal: the vCPUs keep the backend's default. */
			libvm__log(vm, LIBVM_LOG_WARN, "KVM_GET_SUPPORTED_CPUID failed: %s",
				   strerror(-r));
			free(c);
			*count = 0;
			return 0;
		}
		*out = calloc(c->nent ? c->nent : 1, sizeof(**out));
		if (!*out) {
			free(c);
			return -ENOMEM;
		}
		for (uint32_t i = 0; i < c->nent; i++) {
			const struct kvm_cpuid_entry2 *e = &c->entries[i];

			(*out)[i] = (libvm_cpuid_entry){
				.function = e->function,
				.index = e->index,
				.flags = (e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) ?
						 LIBVM_CPUID_FLAG_INDEXED : 0,
				.eax = e->eax, .ebx = e->ebx, .ecx = e->ecx, .edx = e->edx,
			};
		}
		*count = c->nent;
		free(c);
		return 0;
	}
}

/*
 * KVM_GET_SUPPORTED_CPUID is the slowest step of creating a VM (about
 * 0.4 ms per call on our nested host, more than the VM itself) and its
 * answer is a property of the loaded module, so it is asked once per device
 * (by device number) and kept for the life of the process. A process that
 * reloads the module with other features must restart to see them.
 */
#define CPUID_CACHE_SLOTS 4
static struct {
	uint64_t device;
	libvm_cpuid_entry *entries;
	uint32_t count;
} cpuid_cache[CPUID_CACHE_SLOTS];
static uint32_t cpuid_cache_used;
static pthread_mutex_t cpuid_cache_lock = PTHREAD_MUTEX_INITIALIZER;

static int fetch_supported_cpuid(libvm_vm *vm)
{
	uint64_t device;
	int err = 0;

	if (!libvm__check_extension(vm, KVM_CAP_EXT_CPUID))
		return 0;
	if (vm->backend->device_id(vm, &device) < 0) {
		vm->cpuid_owned = true;
		return query_supported_cpuid(vm, &vm->cpuid, &vm->cpuid_count);
	}
	pthread_mutex_lock(&cpuid_cache_lock);
	for (uint32_t i = 0; i < cpuid_cache_used; i++) {
		if (cpuid_cache[i].device == device) {
			vm->cpuid = cpuid_cache[i].entries;
			vm->cpuid_count = cpuid_cache[i].count;
			goto out;
		}
	}
	err = query_supported_cpuid(vm, &vm->cpuid, &vm->cpuid_count);
	if (err || !vm->cpuid_count)
		goto out;
	if (cpuid_cache_used < CPUID_CACHE_SLOTS) {
		cpuid_cache[cpuid_cache_used].device = device;
		cpuid_cache[cpuid_cache_used].entries = vm->cpuid;
		cpuid_cache[cpuid_cache_used].count = vm->cpuid_count;
		cpuid_cache_used++;
	} else {
		vm->cpuid_owned = true;
	}
out:
	pthread_mutex_unlock(&cpuid_cache_lock);
	return err;
}

static int query_limits(libvm_vm *vm)
{
	int n;

	n = libvm__check_extension(vm, KVM_CAP_MAX_VCPUS);
	if (n <= 0)
		n = libvm__check_extension(vm, KVM_CAP_NR_VCPUS);
	vm->max_vcpus = n > 0 ? (uint32_t)n : 1;

	n = libvm__check_extension(vm, KVM_CAP_NR_MEMSLOTS);
	/* KVM before 2.6.x answered 0 here and had 32 slots. */
	vm->nr_slots = n > 0 ? (uint32_t)n : 32;
	if (vm->nr_slots > LIBVM__MAX_SLOTS)
		vm->nr_slots = LIBVM__MAX_SLOTS;

	vm->has_readonly_mem = libvm__check_extension(vm, KVM_CAP_READONLY_MEM) > 0;
	n = libvm__check_extension(vm, KVM_CAP_COALESCED_MMIO);
	vm->coalesced_page = n > 0 ? (uint32_t)n : 0; /* the backend checks its mapping */

	if (libvm__check_extension(vm, KVM_CAP_SET_TSS_ADDR) > 0) {
		int err = vm->backend->set_tss_addr(vm, TSS_ADDR);

		if (err < 0)
			libvm__log(vm, LIBVM_LOG_WARN, "KVM_SET_TSS_ADDR failed: %s",
				   strerror(-err));
	}
	return 0;
}

static void teardown(libvm_vm *vm);

/* The backend for a device path: the fake for "fake" and "fake:...". */
static const struct libvm__backend *backend_for(const char *path)
{
	if (!strncmp(path, "fake", 4) && (path[4] == '\0' || path[4] == ':'))
		return &libvm__backend_fake;
	return &libvm__backend_kvm;
}

LIBVM_EXPORT int libvm_vm_create(libvm_vm **out, const libvm_vm_options *opts)
{
	libvm_vm_options o = LIBVM_VM_OPTIONS_INIT;
	const char *path;
	libvm_vm *vm;
	int r;

	if (!out)
		return libvm__fail(-EINVAL, "libvm_vm_create: out is NULL");
	*out = NULL;
	if (opts) {
		r = libvm__copy_options(&o, sizeof(o), opts, "libvm_vm_options");
		if (r)
			return r;
	}
	if (o.kick_signal == 0)
		o.kick_signal = SIGRTMIN;
	if (o.kick_signal < 1 || o.kick_signal > SIGRTMAX || o.kick_signal == SIGKILL ||
	    o.kick_signal == SIGSTOP)
		return libvm__fail(-EINVAL, "kick_signal %d cannot be caught", o.kick_signal);

	/* NULL and "" both mean the default, so that a zero-filled or
	 * empty-string field from a binding behaves like C's NULL. */
	path = o.device_path;
	if (!path || !*path)
		path = getenv("LIBVM_DEVICE");
	if (!path || !*path)
		path = DEFAULT_DEVICE;

	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return libvm__fail(-ENOMEM, "libvm_vm_create: out of memory");
	vm->magic = LIBVM__MAGIC_VM;
	vm->backend = backend_for(path);
	vm->kick_signal = o.kick_signal;
	vm->log = o.log;
	vm->log_opaque = o.log_opaque;
	pthread_rwlock_init(&vm->mem_lock, NULL);
	pthread_mutex_init(&vm->vcpu_lock, NULL);
	pthread_mutex_init(&vm->coalesced_lock, NULL);
	libvm__iobus_init(vm);
	libvm__irqroutes_init(vm);

	vm->device_path = strdup(path);
	if (!vm->device_path) {
		r = libvm__fail(-ENOMEM, "libvm_vm_create: out of memory");
		goto fail;
	}
	r = vm->backend->vm_open(vm, path);
	if (r)
		goto fail;
	r = query_limits(vm);
	if (r)
		goto fail;
	vm->vcpus = calloc(vm->max_vcpus, sizeof(*vm->vcpus));
	if (!vm->vcpus) {
		r = libvm__fail(-ENOMEM, "libvm_vm_create: out of memory");
		goto fail;
	}
	r = fetch_supported_cpuid(vm);
	if (r) {
		libvm__fail(r, "libvm_vm_create: out of memory");
		goto fail;
	}
	r = libvm__kick_signal_install(vm->kick_signal);
	if (r)
		goto fail;
	libvm__log(vm, LIBVM_LOG_DEBUG, "created VM on %s (max %u vCPUs, %u slots)", path,
		   vm->max_vcpus, vm->nr_slots);
	*out = vm;
	return 0;
fail:
	teardown(vm);
	return r;
}

int libvm__vm_own(libvm_vm *vm, void *obj, void (*release)(void *obj))
{
	return libvm__vm_own_child(vm, obj, release, NULL);
}

int libvm__vm_own_child(libvm_vm *vm, void *obj, void (*release)(void *obj), void *parent)
{
	struct libvm__owned *o = malloc(sizeof(*o));

	if (!o)
		return libvm__fail(-ENOMEM, "out of memory");
	o->obj = obj;
	o->release = release;
	o->parent = parent;
	pthread_mutex_lock(&vm->vcpu_lock);
	o->next = vm->owned;
	vm->owned = o;
	pthread_mutex_unlock(&vm->vcpu_lock);
	return 0;
}

void libvm__vm_disown(libvm_vm *vm, void *obj)
{
	pthread_mutex_lock(&vm->vcpu_lock);
	for (struct libvm__owned **p = &vm->owned; *p; p = &(*p)->next) {
		if ((*p)->obj == obj) {
			struct libvm__owned *o = *p;

			*p = o->next;
			free(o);
			break;
		}
	}
	pthread_mutex_unlock(&vm->vcpu_lock);
}

void libvm__vm_release_children(libvm_vm *vm, void *parent)
{
	for (;;) {
		struct libvm__owned *o = NULL;

		pthread_mutex_lock(&vm->vcpu_lock);
		for (struct libvm__owned **p = &vm->owned; *p; p = &(*p)->next) {
			if ((*p)->parent == parent) {
				o = *p;
				*p = o->next;
				break;
			}
		}
		pthread_mutex_unlock(&vm->vcpu_lock);
		if (!o)
			break;
		/* Unlocked: the release detaches, which may disown (a no-op
		 * now) and take other locks. */
		o->release(o->obj);
		free(o);
	}
}

/* Release what the caller did not: devices still attached, newest first. */
static void release_owned(libvm_vm *vm)
{
	for (;;) {
		struct libvm__owned *o;

		pthread_mutex_lock(&vm->vcpu_lock);
		o = vm->owned;
		if (o)
			vm->owned = o->next;
		pthread_mutex_unlock(&vm->vcpu_lock);
		if (!o)
			break;
		o->release(o->obj);
		free(o);
	}
}

/*
 * May @vm go? Not from inside one of its device handlers, not while
 * libvm_vm_run() or a vCPU runs. When it may, its vCPUs are marked dead
 * under their run locks, so that a run starting on another thread from
 * here on fails with -EBADF instead of entering a vCPU being torn down.
 */
static int retire_vcpus(libvm_vm *vm)
{
	int err = 0;
	uint32_t locked = 0;

	if (libvm__in_handler(vm))
		return libvm__fail(-EDEADLK, "libvm_vm_destroy: called from inside a device "
				   "handler of this VM (stop the run, then destroy it)");
	pthread_mutex_lock(&vm->vcpu_lock);
	if (vm->runners) {
		err = libvm__fail(-EBUSY, "libvm_vm_destroy: libvm_vm_run() is running this VM "
				  "(libvm_vm_stop() it and wait for it to return)");
		goto out;
	}
	for (; locked < vm->max_vcpus; locked++) {
		libvm_vcpu *v = vm->vcpus[locked];

		if (!v)
			continue;
		pthread_mutex_lock(&v->run_lock);
		if (v->running) {
			bool self = pthread_equal(v->thread, pthread_self());

			pthread_mutex_unlock(&v->run_lock);
			err = libvm__fail(self ? -EDEADLK : -EBUSY,
					  "libvm_vm_destroy: vCPU %u is running%s", v->id,
					  self ? " on this thread" : " (stop it first)");
			break;
		}
	}
	/* Every vCPU below @locked is locked and idle. */
	for (uint32_t i = 0; i < locked; i++) {
		libvm_vcpu *v = vm->vcpus[i];

		if (!v)
			continue;
		if (!err)
			v->magic = LIBVM__MAGIC_DEAD;
		pthread_mutex_unlock(&v->run_lock);
	}
out:
	pthread_mutex_unlock(&vm->vcpu_lock);
	return err;
}

LIBVM_EXPORT int libvm_vm_destroy(libvm_vm *vm)
{
	int err;

	if (!vm)
		return 0;
	if (!libvm__live(vm, LIBVM__MAGIC_VM))
		return libvm__dead(vm, LIBVM__MAGIC_VM, "libvm_vm_destroy", "VM");
	err = retire_vcpus(vm);
	if (err)
		return err;
	teardown(vm);
	return 0;
}

/* Release everything of @vm, whole or half-built, and retire its handle. */
static void teardown(libvm_vm *vm)
{
	release_owned(vm);
	libvm__vcpus_fini(vm);
	libvm__regions_fini(vm);
	libvm__iobus_fini(vm);
	libvm__irqroutes_fini(vm);
	vm->backend->vm_close(vm);
	pthread_rwlock_destroy(&vm->mem_lock);
	pthread_mutex_destroy(&vm->vcpu_lock);
	pthread_mutex_destroy(&vm->coalesced_lock);
	free(vm->vcpus);
	if (vm->cpuid_owned)
		free(vm->cpuid);
	free(vm->device_path);
	libvm__bury(vm, sizeof(*vm));
}

LIBVM_EXPORT int libvm_has(libvm_vm *vm, enum libvm_cap cap)
{
	LIBVM__CHECK_VM(vm, "libvm_has");
	switch (cap) {
	case LIBVM_CAP_READONLY_MEM:
		return vm->has_readonly_mem;
	case LIBVM_CAP_IMMEDIATE_EXIT:
		return libvm__check_extension(vm, KVM_CAP_IMMEDIATE_EXIT) > 0;
	case LIBVM_CAP_IRQCHIP:
		return libvm__check_extension(vm, KVM_CAP_IRQCHIP) > 0;
	case LIBVM_CAP_IOEVENTFD:
		return libvm__check_extension(vm, KVM_CAP_IOEVENTFD) > 0;
	case LIBVM_CAP_IRQFD:
		return libvm__check_extension(vm, KVM_CAP_IRQFD) > 0;
	case LIBVM_CAP_SET_CPUID:
		return libvm__check_extension(vm, KVM_CAP_EXT_CPUID) > 0;
	case LIBVM_CAP_SUPPORTED_CPUID:
		return vm->cpuid_count > 0;
	case LIBVM_CAP_MSI_ROUTING:
		return libvm__has_msi_routing(vm);
	}
	return libvm__fail(-EINVAL, "libvm_has: unknown capability %d", (int)cap);
}

LIBVM_EXPORT const char *libvm_vm_device_path(const libvm_vm *vm)
{
	return libvm__live(vm, LIBVM__MAGIC_VM) ? vm->device_path : NULL;
}

LIBVM_EXPORT int libvm_vm_max_vcpus(libvm_vm *vm)
{
	LIBVM__CHECK_VM(vm, "libvm_vm_max_vcpus");
	return (int)vm->max_vcpus;
}
