/* SPDX-License-Identifier: MIT */
/*
 * Definitions shared by the library's files: the real shape of the opaque
 * handles and the internal (libvm__) helpers. Never installed.
 */
#ifndef LIBVM_INTERNAL_H
#define LIBVM_INTERNAL_H

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>

#include <libvm/libvm.h>

#include "backend.h"
#include "bytes.h"
#include "rangemap.h"

struct kvm_coalesced_mmio_ring;

/* Highest guest-physical address + 1 that x86-64 can ever address. */
#define LIBVM__GPA_LIMIT (1ull << 52)
#define LIBVM__PAGE_SIZE 4096ull
#define LIBVM__HUGE_PAGE_SIZE (2ull << 20)
/* Every LIBVM_REGION_* flag this release knows. */
#define LIBVM__REGION_FLAGS (LIBVM_REGION_READONLY | LIBVM_REGION_NO_HUGEPAGE)
/* GSIs below this are the irqchip's own pins (KVM's default routes);
 * MSI routes get GSIs from here up. */
#define LIBVM__FIRST_MSI_GSI 24u
/* Upper bounds on array arguments, so a bad count cannot exhaust memory. */
#define LIBVM__MAX_MSRS 256u
#define LIBVM__MAX_CPUID 256u
/* Memory slots we track; backends offer more, but no VM here needs more. */
#define LIBVM__MAX_SLOTS 512u

/*
 * Handle magic (handle.c): the first member of every object libvm hands
 * out, cleared when it is destroyed. One value per type, so a handle of
 * the wrong type is told apart too.
 */
#define LIBVM__MAGIC(a, b, c, d) \
	((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)
enum {
	LIBVM__MAGIC_DEAD = LIBVM__MAGIC('d', 'e', 'a', 'd'),
	LIBVM__MAGIC_VM = LIBVM__MAGIC('V', 'M', 'v', 'm'),
	LIBVM__MAGIC_VCPU = LIBVM__MAGIC('V', 'C', 'P', 'U'),
	LIBVM__MAGIC_REGION = LIBVM__MAGIC('R', 'G', 'O', 'N'),
	LIBVM__MAGIC_UART = LIBVM__MAGIC('U', 'A', 'R', 'T'),
	LIBVM__MAGIC_DEBUGEXIT = LIBVM__MAGIC('D', 'X', 'I', 'T'),
	LIBVM__MAGIC_FWCFG = LIBVM__MAGIC('F', 'W', 'C', 'F'),
	LIBVM__MAGIC_I8042 = LIBVM__MAGIC('8', '0', '4', '2'),
	LIBVM__MAGIC_RTC = LIBVM__MAGIC('R', 'T', 'C', '0'),
	LIBVM__MAGIC_PORT80 = LIBVM__MAGIC('P', '8', '0', '0'),
	LIBVM__MAGIC_TESTDEV = LIBVM__MAGIC('T', 'D', 'E', 'V'),
	LIBVM__MAGIC_PMTIMER = LIBVM__MAGIC('P', 'M', 'T', 'M'),
	LIBVM__MAGIC_ACPIPM = LIBVM__MAGIC('A', 'C', 'P', 'M'),
	LIBVM__MAGIC_PCI_BUS = LIBVM__MAGIC('P', 'C', 'I', 'B'),
	LIBVM__MAGIC_PCI_DEV = LIBVM__MAGIC('P', 'C', 'I', 'D'),
	LIBVM__MAGIC_PCI_TESTDEV = LIBVM__MAGIC('P', 'C', 'I', 'T'),
	LIBVM__MAGIC_VIRTIO_RNG = LIBVM__MAGIC('V', 'R', 'N', 'G'),
	LIBVM__MAGIC_VIRTIO_BLK = LIBVM__MAGIC('V', 'B', 'L', 'K'),
	LIBVM__MAGIC_VIRTIO_NET = LIBVM__MAGIC('V', 'N', 'E', 'T'),
	LIBVM__MAGIC_VIRTIO_CONSOLE = LIBVM__MAGIC('V', 'C', 'O', 'N'),
	LIBVM__MAGIC_MACHINE = LIBVM__MAGIC('M', 'A', 'C', 'H'),
};

/* True when @obj is a live handle of the type @magic names. */
static inline bool libvm__live(const void *obj, uint32_t magic)
{
	return obj && *(const uint32_t *)obj == magic;
}

/* Retire @obj (@size bytes, from malloc): zero it, mark it dead, free it
 * later (handle.c). Use instead of free() for every handle. */
void libvm__bury(void *obj, size_t size);
/* -EBADF with a message for a non-NULL handle that is not live. */
int libvm__dead(const void *obj, uint32_t magic, const char *fn, const char *what);

/*
 * Argument checks for a handle @arg: -EINVAL for NULL, -EBADF for a
 * destroyed @type (or a handle of another type), each with a message
 * naming @fn.
 */
#define LIBVM__CHECK_HANDLE(obj, magic, fn, arg, type)                                 \
	do {                                                                           \
		if (!(obj))                                                            \
			return libvm__fail(-EINVAL, "%s: %s is NULL", (fn), (arg));    \
		if (*(const uint32_t *)(obj) != (magic))                               \
			return libvm__dead((obj), (magic), (fn), (type));              \
	} while (0)
#define LIBVM__CHECK_VM(vm, fn) LIBVM__CHECK_HANDLE(vm, LIBVM__MAGIC_VM, fn, "vm", "VM")
#define LIBVM__CHECK_PCI_BUS(bus, fn) \
	LIBVM__CHECK_HANDLE(bus, LIBVM__MAGIC_PCI_BUS, fn, "bus", "PCI bus")
#define LIBVM__CHECK_PCI_DEV(dev, fn) \
	LIBVM__CHECK_HANDLE(dev, LIBVM__MAGIC_PCI_DEV, fn, "dev", "PCI device")
#define LIBVM__CHECK_VCPU(vcpu, fn) \
	LIBVM__CHECK_HANDLE(vcpu, LIBVM__MAGIC_VCPU, fn, "vcpu", "vCPU")

struct libvm_region {
	uint32_t magic;
	libvm_vm *vm;
	uint64_t gpa;
	uint64_t length;
	void *host;
	uint32_t slot;
	uint32_t flags;
	bool owns_mapping;   /* libvm mmap()ed it: munmap on unmap */
	bool host_writable;  /* false for a read-only file mapping */
	char name[32];
};

/* An MSI route libvm added to the backend's GSI routing table (irqroute.c). */
struct libvm__msi_route {
	uint32_t gsi;
	uint32_t data;
	uint64_t addr;
};

/* A registered device range. */
struct libvm__device {
	uint64_t base;
	uint64_t length;
	libvm_io_fn fn;
	void *opaque;
	char name[32];
};

struct libvm_vm {
	uint32_t magic;
	const struct libvm__backend *backend;
	void *bk;                /* the backend's own state (its fds) */
	int kick_signal;
	libvm_log_fn log;
	void *log_opaque;
	char *device_path;

	uint32_t max_vcpus;
	uint32_t nr_slots;
	bool has_readonly_mem;
	bool has_irqchip;        /* libvm_irqchip_create() succeeded */
	atomic_bool stop_requested; /* libvm_vm_stop() before or during libvm_vm_run() */
	uint32_t runners;        /* libvm_vm_run() calls in progress (vcpu_lock) */
	uint32_t nr_vcpus;       /* vCPUs created so far (guarded by vcpu_lock) */

	/* Supported CPUID; a new vCPU gets it by default. Borrowed from the
	 * process-wide cache in vm.c unless cpuid_owned. */
	libvm_cpuid_entry *cpuid;
	uint32_t cpuid_count;
	bool cpuid_owned;

	/* Guarded by mem_lock: the region map and the slot bitmap. */
	pthread_rwlock_t mem_lock;
	struct libvm__rangemap regions;
	uint64_t slot_used[LIBVM__MAX_SLOTS / 64];

	/* Guarded by io_lock: the device maps, one per address space. */
	pthread_rwlock_t io_lock;
	struct libvm__rangemap io[2];

	/* Guarded by vcpu_lock: the vCPU table, indexed by id, and the
	 * objects (built-in devices) the VM releases when it is destroyed. */
	pthread_mutex_t vcpu_lock;
	libvm_vcpu **vcpus;
	struct libvm__owned *owned;

	/* GSI routing (irqroute.c). route_limit is the backend's
	 * KVM_CAP_IRQ_ROUTING answer (GSIs below it, and at most that many
	 * entries), read when the irqchip is created; 0 means no routing.
	 * Guarded by route_lock: the MSI routes, sorted by GSI. */
	uint32_t route_limit;
	pthread_mutex_t route_lock;
	struct libvm__msi_route *routes;
	uint32_t nr_routes, routes_cap;
	/* Coalesced I/O (coalesce.c): the page of the vCPU mapping that holds
	 * the VM's ring (KVM_CAP_COALESCED_MMIO), 0 for none; drained by one
	 * vCPU at a time under coalesced_lock. */
	uint32_t coalesced_page;
	pthread_mutex_t coalesced_lock;
};

/* An object a VM releases at destroy time unless it was released before. */
struct libvm__owned {
	void *obj;
	void (*release)(void *obj);
	void *parent; /* released with it (e.g. its PCI bus), or NULL */
	struct libvm__owned *next;
};

struct libvm_vcpu {
	uint32_t magic;
	libvm_vm *vm;
	uint32_t id;
	void *bk;                /* the backend's own state (its fd) */
	struct kvm_run *run;     /* shared with the backend (backend.h) */

	/* Stop protocol: see run.c. */
	atomic_bool stop_requested;
	pthread_mutex_t run_lock; /* guards running/thread */
	bool running;
	pthread_t thread;

	/* An unhandled read returned to the caller, completed on next run. */
	bool read_pending;
	uint32_t read_len;
	void *read_data; /* points into the kvm_run page */

	/* The VM's coalesced-I/O ring in this vCPU's mapping, or NULL. */
	struct kvm_coalesced_mmio_ring *coalesced_ring;

	/* Set by libvm_vcpu_end_run(): the exit to return instead of resuming. */
	uint32_t end_reason;
	uint64_t end_code;
};

/*
 * libvm__bk_NAME(vm or vcpu, arg): the backend's operation NAME
 * (backend.h), or -ENOTTY when the backend has none.
 */
#define LIBVM__BK_VM_CALL(name, req, type)                                             \
	static inline int libvm__bk_##name(libvm_vm *vm, type *arg)                    \
	{                                                                              \
		return vm->backend->name ? vm->backend->name(vm, arg) : -ENOTTY;       \
	}
#define LIBVM__BK_VCPU_CALL(name, req, type)                                           \
	static inline int libvm__bk_##name(libvm_vcpu *vcpu, type *arg)                \
	{                                                                              \
		const struct libvm__backend *b = vcpu->vm->backend;                    \
		return b->name ? b->name(vcpu, arg) : -ENOTTY;                         \
	}
LIBVM__BACKEND_VM_OPS(LIBVM__BK_VM_CALL)
LIBVM__BACKEND_VCPU_OPS(LIBVM__BK_VCPU_CALL)
#undef LIBVM__BK_VM_CALL
#undef LIBVM__BK_VCPU_CALL

/* error.c */
void libvm__clear_error(void);
int libvm__fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void libvm__log(const libvm_vm *vm, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* vm.c */
int libvm__check_extension(const libvm_vm *vm, long ext);
/* Make @vm call @release(@obj) when destroyed; -ENOMEM. */
int libvm__vm_own(libvm_vm *vm, void *obj, void (*release)(void *obj));
/* The same for an object that lives on @parent (a device on a bus): it is
 * also released, before the parent, by libvm__vm_release_children(). */
int libvm__vm_own_child(libvm_vm *vm, void *obj, void (*release)(void *obj), void *parent);
/* Release every object still owned whose parent is @parent. */
void libvm__vm_release_children(libvm_vm *vm, void *parent);
/* Forget @obj (its owner released it); no-op when unknown. */
void libvm__vm_disown(libvm_vm *vm, void *obj);

/* iobus.c */
/* True when this thread is inside a device handler of @vm. */
bool libvm__in_handler(const libvm_vm *vm);
/* Lock @vm's device maps for reading, unless this thread already holds
 * them (it is inside one of its handlers); returns whether it locked. */
bool libvm__iobus_rdlock(libvm_vm *vm);
void libvm__iobus_unlock(libvm_vm *vm);
/* The MMIO device overlapping [gpa, gpa + length), or NULL; device maps
 * locked by the caller. */
const struct libvm__device *libvm__iobus_mmio_overlap(const libvm_vm *vm, uint64_t gpa,
						       uint64_t length);
void libvm__iobus_init(libvm_vm *vm);
void libvm__iobus_fini(libvm_vm *vm);
/* 1 handled, 0 no device there, <0 the handler's error. */
int libvm__iobus_dispatch(libvm_vm *vm, enum libvm_space space, libvm_vcpu *vcpu,
			  uint64_t addr, void *data, uint32_t len, bool is_write);

/* irqroute.c */
void libvm__irqroutes_init(libvm_vm *vm);
void libvm__irqroutes_fini(libvm_vm *vm);
/* Send the irqchip pins' PC wiring (and the MSI routes) to the backend. */
int libvm__irqroutes_install(libvm_vm *vm);
/* Remove @n routes with one table update; all or nothing (-ENOENT for a GSI
 * that is not a route, the backend's error). */
int libvm__msi_routes_remove(libvm_vm *vm, const uint32_t *gsi, uint32_t n);
/* 1 when MSI routes can be added (irqchip and routing), else 0. */
int libvm__has_msi_routing(const libvm_vm *vm);

/* coalesce.c */
/* Hand the writes queued in the VM's coalesced ring to their handlers. */
void libvm__coalesced_drain(libvm_vcpu *vcpu);

/* region.c */
void libvm__regions_fini(libvm_vm *vm);
/* The writable region overlapping [gpa, gpa + length), or NULL; caller
 * holds mem_lock. */
const libvm_region *libvm__ram_overlap(const libvm_vm *vm, uint64_t gpa, uint64_t length);

/* vcpu.c */
void libvm__vcpus_fini(libvm_vm *vm);

/* run.c */
int libvm__kick_signal_install(int sig);
/* Drop a pending stop (and immediate_exit) of a vCPU that is not running. */
void libvm__vcpu_clear_stop(libvm_vcpu *vcpu);

/* Copy a possibly shorter caller options struct into a full-size one. */
int libvm__copy_options(void *dst, size_t dst_size, const void *src, const char *what);

#endif
