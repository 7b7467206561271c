/* SPDX-License-Identifier: MIT */
/*
 * libvm: embed x86-64 virtual machines through the KVM ioctl ABI.
 *
 * This is the whole public API of the core library. Every function that can
 * fail returns 0 or a negative errno value; libvm_strerror() names the code
 * and libvm_error_message() says what exactly was wrong on this thread.
 *
 * Handles (libvm_vm, libvm_vcpu, libvm_region) are opaque. An object handed
 * out through an `**out` parameter is owned by the caller and released by
 * its `_destroy` (or `_unmap`) call. Pointers returned by getters are
 * borrowed and live as long as the object they came from.
 *
 * Misuse: a handle that was destroyed (directly, or with its VM) is
 * recognised as such for a while, since libvm keeps the memory of the last
 * few thousand destroyed objects marked dead: a second destroy, unmap or
 * detach, or any call on it, fails with -EBADF (calls without a return
 * value do nothing) instead of touching freed memory. That is a safety
 * net, not a licence: after enough other objects were destroyed the memory
 * is reused, and a stale handle is then undefined behaviour.
 *
 * Thread rules, unless a function says otherwise: a VM and its regions and
 * devices may be used from any thread, but calls that change the VM layout
 * (region map/unmap, device register/unregister, vCPU create/destroy) must
 * not race with libvm_vm_destroy(). A given vCPU is driven by one thread at a
 * time (run, register access); libvm_vcpu_stop() may be called from any
 * thread at any time.
 */
#ifndef LIBVM_LIBVM_H
#define LIBVM_LIBVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libvm/version.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(LIBVM_BUILDING) && defined(__GNUC__)
#define LIBVM_EXPORT __attribute__((visibility("default")))
#else
#define LIBVM_EXPORT
#endif

/* Anonymous unions are C11 (and C++); GCC and Clang accept them in C99
 * without a -pedantic warning when told they are an extension. */
#if !defined(__cplusplus) && defined(__GNUC__) && \
	(!defined(__STDC_VERSION__) || __STDC_VERSION__ < 201112L)
#define LIBVM__ANON __extension__
#else
#define LIBVM__ANON
#endif

/*
 * The options INIT macros: in C a designated initializer (a constant
 * expression, usable for static objects); in C++, which has designated
 * initializers only from C++20, a call of the struct's _options_init()
 * function, which gives the same values.
 */
#ifdef __cplusplus
#define LIBVM__OPTIONS_INIT(type, init) (libvm__cxx_options<type>(init))
#define LIBVM__OPTIONS_INIT_WITH(type, init, ...) (libvm__cxx_options<type>(init))
#else
#define LIBVM__OPTIONS_INIT(type, init) { .size = sizeof(type) }
#define LIBVM__OPTIONS_INIT_WITH(type, init, ...) { .size = sizeof(type), __VA_ARGS__ }
#endif

typedef struct libvm_vm libvm_vm;
typedef struct libvm_vcpu libvm_vcpu;
typedef struct libvm_region libvm_region;

/* ------------------------------------------------------------------ */
/* Version and errors                                                  */
/* ------------------------------------------------------------------ */

/**
 * libvm_version() - the library's version string, e.g. "0.1.0".
 *
 * Compare with LIBVM_VERSION_STRING to spot a header/library mismatch.
 * Thread: any. Returns: a static string.
 */
LIBVM_EXPORT const char *libvm_version(void);

/**
 * libvm_version_number() - the run-time version as
 * LIBVM_VERSION_ENCODE(major, minor, patch). Thread: any.
 */
LIBVM_EXPORT uint32_t libvm_version_number(void);

/**
 * libvm_strerror() - a short description of a libvm return code.
 * @err: a value returned by a libvm call (0 or a negative errno).
 *
 * Thread: any. Returns: a static string; never NULL.
 */
LIBVM_EXPORT const char *libvm_strerror(int err);

/**
 * libvm_error_message() - the detail of the last failure on this thread.
 *
 * Says what exactly was wrong ("region 0x1000+0x2000 overlaps region
 * 'ram'"). Only meaningful right after a call returned an error: successful
 * calls do NOT clear it (it may still hold an old failure, or a step a
 * call recovered from), and libvm_vcpu_run() empties it before each device
 * handler so that a handler's own failure can be told apart. Use the
 * return code, never this string, to detect errors.
 *
 * Thread: any; the message is thread-local. Returns: the thread's message
 * buffer, owned by the library (the pointer stays valid for the thread's
 * life; its text changes with the next failure on this thread); "" when
 * no call on this thread has failed yet.
 */
LIBVM_EXPORT const char *libvm_error_message(void);

/* ------------------------------------------------------------------ */
/* Virtual machines                                                    */
/* ------------------------------------------------------------------ */

/** Log levels passed to a libvm_log_fn. */
enum libvm_log_level {
	LIBVM_LOG_ERROR = 0,
	LIBVM_LOG_WARN = 1,
	LIBVM_LOG_INFO = 2,
	LIBVM_LOG_DEBUG = 3,
};

/**
 * libvm_log_fn - receives the library's diagnostics. The library never
 * prints by itself. Called on the thread that made the call being logged.
 */
typedef void (*libvm_log_fn)(int level, const char *message, void *opaque);

/**
 * struct libvm_vm_options - creation options of a VM.
 * @size:        sizeof(struct libvm_vm_options); set by LIBVM_VM_OPTIONS_INIT.
 * @device_path: KVM-compatible device to open. NULL or "" means the
 *               environment variable LIBVM_DEVICE when set and not empty,
 *               else "/dev/kvm". Our own
 *               module lives at "/dev/vmm". "fake" (or "fake:KEY=VALUE,...")
 *               selects libvm's test backend instead: no kernel, no guest
 *               code runs (a vCPU's run returns LIBVM_EXIT_HLT), but
 *               memory, devices and interrupts work, for testing code
 *               built on libvm where there is no KVM (docs/api.md).
 * @kick_signal: signal used by libvm_vcpu_stop() to kick a vCPU thread out
 *               of the kernel. 0 means SIGRTMIN. libvm installs an empty
 *               handler for it only when its disposition is SIG_DFL or
 *               SIG_IGN; a handler of the application's is kept (any handler
 *               interrupts the kernel's run loop).
 * @log:         diagnostics sink, or NULL for none.
 * @log_opaque:  passed to @log.
 *
 * Fields are only ever appended; the library reads no further than @size.
 */
typedef struct libvm_vm_options {
	size_t size;
	const char *device_path;
	int32_t kick_signal;
	uint32_t reserved0;
	libvm_log_fn log;
	void *log_opaque;
} libvm_vm_options;

#define LIBVM_VM_OPTIONS_INIT LIBVM__OPTIONS_INIT(libvm_vm_options, libvm_vm_options_init)

/**
 * libvm_vm_options_init() - fill @opts with the defaults, as
 * LIBVM_VM_OPTIONS_INIT does; for bindings and C++ code.
 * @opts: the struct to fill.
 * @size: sizeof(*opts) as the caller knows it (a struct from an older
 *        header is shorter; only @size bytes are written).
 *
 * Every *_options struct has such a function. The rule for all of them:
 * a field's zero value means its default, except where the field's
 * documentation says otherwise (file descriptors, where 0 is stdin, and
 * required fields); fields added later always follow it, so zero-filling
 * a struct and setting .size is as good as the INIT macro for them.
 * Thread: any. Returns: 0; -EINVAL for NULL @opts, or @size smaller than
 * a size_t or larger than this library's struct.
 */
LIBVM_EXPORT int libvm_vm_options_init(libvm_vm_options *opts, size_t size);

/**
 * libvm_vm_create() - open the device and create an empty VM.
 * @out:  receives the VM; the caller owns it (libvm_vm_destroy()).
 * @opts: options, or NULL for the defaults.
 *
 * Several VMs may exist in one process. Thread: any.
 * Returns: 0; -EINVAL for bad arguments or an options struct whose size is
 * unknown; -ENOENT/-EACCES when the device cannot be opened; -ENOTSUP when
 * the device speaks another KVM API version or lacks a required extension;
 * -ENOMEM.
 */
LIBVM_EXPORT int libvm_vm_create(libvm_vm **out, const libvm_vm_options *opts);

/**
 * libvm_vm_destroy() - destroy a VM with all its vCPUs, regions and devices.
 * @vm: the VM, or NULL (no-op, returns 0).
 *
 * Devices still attached are detached (their handles become invalid:
 * a later detach of one does nothing), vCPUs destroyed, regions unmapped,
 * MSI routes dropped. Refused while the VM is in use: stop its runs first.
 * Thread: any, but not concurrently with any other call on the same VM or
 * its objects; never from inside one of its device handlers.
 * Returns: 0 (the VM is gone); -EBUSY while libvm_vm_run() or one of its
 * vCPUs runs on another thread; -EDEADLK from inside a device handler of
 * this VM or while one of its vCPUs runs on the calling thread; -EBADF for
 * a VM destroyed before. The VM is unchanged unless 0 is returned.
 */
LIBVM_EXPORT int libvm_vm_destroy(libvm_vm *vm);

/** Capabilities that libvm_has() can report. */
enum libvm_cap {
	LIBVM_CAP_READONLY_MEM = 1,  /* read-only regions (writes become MMIO) */
	LIBVM_CAP_IMMEDIATE_EXIT = 2, /* race-free stop via immediate_exit */
	LIBVM_CAP_IRQCHIP = 3,       /* in-kernel PIC/IOAPIC/LAPIC */
	LIBVM_CAP_IOEVENTFD = 4,
	LIBVM_CAP_IRQFD = 5,
	LIBVM_CAP_SET_CPUID = 6,     /* CPUID can be set per vCPU */
	LIBVM_CAP_SUPPORTED_CPUID = 7, /* the backend reports supported CPUID */
	LIBVM_CAP_MSI_ROUTING = 8,   /* libvm_msi_route_add(): GSI routing to MSIs, with an irqchip */
};

/**
 * libvm_has() - ask the VM's backend at run time whether it has @cap.
 * Thread: any. Returns: 1 yes, 0 no, -EINVAL for a NULL VM or unknown cap.
 */
LIBVM_EXPORT int libvm_has(libvm_vm *vm, enum libvm_cap cap);

/**
 * libvm_vm_device_path() - the device this VM was created on.
 * Returns: a borrowed string, valid while the VM lives; NULL for a NULL VM.
 */
LIBVM_EXPORT const char *libvm_vm_device_path(const libvm_vm *vm);

/**
 * libvm_vm_max_vcpus() - the largest number of vCPUs this VM can have.
 * Returns: the count (at least 1), or -EINVAL for a NULL VM.
 */
LIBVM_EXPORT int libvm_vm_max_vcpus(libvm_vm *vm);

/* ------------------------------------------------------------------ */
/* Memory regions                                                      */
/* ------------------------------------------------------------------ */

/** Region flags. */
#define LIBVM_REGION_READONLY (1u << 0) /* guest writes become MMIO exits */
/* Memory libvm allocates is placed so that the host address and the guest
 * address agree modulo 2 MiB and advised MADV_HUGEPAGE (from 2 MiB up), so
 * that the kernel can back it, and KVM map it, with 2 MiB pages (with
 * transparent huge pages set to "madvise" or "always"). This flag opts a
 * region out: 4 KiB pages only (MADV_NOHUGEPAGE). No effect on caller or
 * file memory. */
#define LIBVM_REGION_NO_HUGEPAGE (1u << 1)

/**
 * struct libvm_region_options - what to map into guest-physical memory.
 * @size:      sizeof(struct libvm_region_options); set by the INIT macro.
 * @gpa:       guest-physical address; page aligned (4 KiB).
 * @length:    length in bytes; page aligned, non-zero.
 * @flags:     LIBVM_REGION_* flags.
 * @host_addr: caller-owned memory to map (page aligned, at least @length
 *             bytes, must outlive the region), or NULL.
 * @fd:        file to map (MAP_SHARED) when >= 0 and @host_addr is NULL.
 *             -1 (the INIT default) for none. 0 is fd 0, not the
 *             default: start from the INIT macro or
 *             libvm_region_options_init().
 * @offset:    offset into @fd; page aligned. A regular file must reach
 *             @offset + @length (rounded up to a page): pages past its end
 *             could not be touched, so such a region is refused (-EINVAL).
 * @name:      a name for messages (copied), or NULL.
 *
 * With neither @host_addr nor @fd, libvm allocates zeroed anonymous memory
 * and frees it when the region is unmapped.
 */
typedef struct libvm_region_options {
	size_t size;
	uint64_t gpa;
	uint64_t length;
	uint32_t flags;
	int32_t fd;
	uint64_t offset;
	void *host_addr;
	const char *name;
} libvm_region_options;

#define LIBVM_REGION_OPTIONS_INIT \
	LIBVM__OPTIONS_INIT_WITH(libvm_region_options, libvm_region_options_init, .fd = -1)

/** libvm_region_options_init() - the defaults (.fd = -1); see libvm_vm_options_init(). */
LIBVM_EXPORT int libvm_region_options_init(libvm_region_options *opts, size_t size);

/**
 * libvm_region_map() - map memory into the guest-physical address space.
 * @out:  receives the region handle (may be NULL if not wanted); it is owned
 *        by the VM and stays valid until libvm_region_unmap() or the VM's
 *        destruction.
 * @vm:   the VM.
 * @opts: what to map.
 *
 * RAM may not cover an MMIO device (libvm_io_register()): the guest's
 * accesses there would never reach it. A LIBVM_REGION_READONLY region may:
 * the guest reads the memory and its writes go to the device (flash).
 *
 * Thread: any, but not concurrently with running vCPUs of the VM touching
 * the same addresses. Returns: 0; -EINVAL for a zero length, misalignment,
 * a range that wraps or leaves the backend's physical address space, or bad
 * options; -EEXIST when the range overlaps another region or (unless
 * read-only) an MMIO device (the message names it); -ENOSPC when the backend has no free memory slot; -ENOTSUP for
 * LIBVM_REGION_READONLY on a backend without it; -ENOMEM; or the backend's
 * error.
 */
LIBVM_EXPORT int libvm_region_map(libvm_region **out, libvm_vm *vm,
				  const libvm_region_options *opts);

/**
 * libvm_region_map_ram() - shorthand: map @length bytes of fresh zeroed RAM
 * at @gpa. Same rules and errors as libvm_region_map().
 */
LIBVM_EXPORT int libvm_region_map_ram(libvm_region **out, libvm_vm *vm,
				      uint64_t gpa, uint64_t length);

/**
 * libvm_region_unmap() - remove a region from the guest and free it.
 * @region: the region, or NULL (no-op, returns 0).
 *
 * Memory libvm allocated is freed; caller memory and files are left alone.
 * Returns: 0; -EBADF when it was unmapped before (also by its VM's
 * destroy); or the backend's error (the region then stays mapped).
 */
LIBVM_EXPORT int libvm_region_unmap(libvm_region *region);

/** libvm_region_gpa() - guest-physical base of a region (0 for NULL). */
LIBVM_EXPORT uint64_t libvm_region_gpa(const libvm_region *region);
/** libvm_region_length() - length of a region in bytes (0 for NULL). */
LIBVM_EXPORT uint64_t libvm_region_length(const libvm_region *region);
/** libvm_region_name() - the region's name (borrowed; "" when unnamed). */
LIBVM_EXPORT const char *libvm_region_name(const libvm_region *region);

/**
 * libvm_region_volatile_ptr() - the host mapping of a region.
 *
 * The guest may change this memory underneath the caller at any time while
 * a vCPU runs: copy what you read before validating it, and prefer
 * libvm_mem_read()/libvm_mem_write(). Returns: the pointer, or NULL.
 */
LIBVM_EXPORT void *libvm_region_volatile_ptr(const libvm_region *region);

/** struct libvm_mem_range - one mapped region, as libvm_vm_memory_map() lists it. */
typedef struct libvm_mem_range {
	uint64_t gpa;
	uint64_t length;
	uint32_t flags;    /* LIBVM_REGION_* */
	uint32_t padding;
} libvm_mem_range;

/**
 * libvm_vm_memory_map() - the VM's regions in ascending address order.
 * @vm:     the VM.
 * @ranges: array to fill, or NULL to ask for the count.
 * @count:  in: capacity of @ranges; out: number of regions.
 *
 * Loaders use it to build e820 and multiboot memory maps. Thread: any.
 * Returns: 0; -E2BIG when @ranges is too small (@count holds the number
 * needed); -EINVAL for NULL @vm or @count.
 */
LIBVM_EXPORT int libvm_vm_memory_map(libvm_vm *vm, libvm_mem_range *ranges, uint32_t *count);

/**
 * libvm_mem_read() - copy guest-physical memory into @buf.
 * @vm:  the VM.
 * @gpa: first guest-physical address.
 * @buf: destination, @len bytes.
 * @len: byte count; 0 is allowed.
 *
 * The range may span adjacent regions. Thread: any.
 * Returns: 0; -EFAULT when any byte is outside mapped memory (nothing is
 * copied then); -EINVAL for NULL arguments.
 */
LIBVM_EXPORT int libvm_mem_read(libvm_vm *vm, uint64_t gpa, void *buf, size_t len);

/**
 * libvm_mem_write() - copy @buf into guest-physical memory, as the host.
 *
 * For the program that sets the guest up: loaders, firmware tables, ROM
 * contents. Like libvm_mem_read(). Host writes to LIBVM_REGION_READONLY
 * regions are allowed (that is how ROM gets its contents); writes into a
 * region backed by a read-only file mapping fail with -EACCES. Nothing is
 * written unless the whole range is mapped.
 *
 * A device model writing on the guest's behalf (DMA: buffers and rings a
 * guest driver pointed it at) must use libvm_mem_dma_write() instead, or
 * the guest could change its own ROM through the device.
 */
LIBVM_EXPORT int libvm_mem_write(libvm_vm *vm, uint64_t gpa, const void *buf, size_t len);

/**
 * libvm_mem_dma_write() - copy @buf into guest-physical memory, as a device.
 * @vm:  the VM.
 * @gpa: first guest-physical address (guest-controlled: hostile input).
 * @buf: source, @len bytes.
 * @len: byte count; 0 is allowed.
 *
 * What a device writes for the guest is limited to what the guest's own
 * CPU could write: a LIBVM_REGION_READONLY region (ROM, flash) is refused.
 * Nothing is written unless the whole range is mapped and writable, so a
 * device can fail the request (e.g. an I/O error status) with guest memory
 * untouched. Thread: any.
 * Returns: 0; -EFAULT when any byte is outside mapped memory; -EACCES when
 * any byte lies in a read-only region; -EINVAL for NULL arguments.
 */
LIBVM_EXPORT int libvm_mem_dma_write(libvm_vm *vm, uint64_t gpa, const void *buf, size_t len);

/* ------------------------------------------------------------------ */
/* Devices: port I/O and MMIO callbacks                                */
/* ------------------------------------------------------------------ */

/** Address spaces a device can claim. */
enum libvm_space {
	LIBVM_SPACE_PIO = 0,  /* x86 I/O ports, 0 .. 0xffff */
	LIBVM_SPACE_MMIO = 1, /* guest-physical addresses not backed by RAM */
};

/**
 * libvm_io_fn - a device's access handler, one shape for PIO and MMIO.
 * @vcpu:     the vCPU doing the access.
 * @addr:     the absolute port number or guest-physical address accessed.
 * @data:     @len bytes, little-endian: the value written, or a buffer the
 *            handler fills for a read (preset to all-ones).
 * @len:      1, 2, 4 or 8.
 * @is_write: true for a guest write.
 * @opaque:   the pointer given at registration.
 *
 * Runs on the vCPU's thread, in the middle of libvm_vcpu_run(). It may call
 * libvm_mem_read/write, libvm_vcpu_stop and register accessors of @vcpu,
 * but must not register or unregister devices of its own VM (that fails
 * with -EDEADLK; another VM's devices may change).
 *
 * Concurrency: the same handler may run on several vCPU threads at once
 * (one call per vCPU; libvm holds no lock of the device), and concurrently
 * with the embedder's other threads: a device shared by vCPUs locks its own
 * state.
 *
 * Returns: 0 or any positive value: the access is done (a read returns
 * what @data holds). A negative errno ends libvm_vcpu_run() with that value
 * and LIBVM_EXIT_DEVICE_ERROR (exit->io describes the access). The guest's
 * instruction is not undone: it completes when the vCPU runs next, a read
 * with whatever @data holds (all-ones unless written), and for string I/O
 * the rest of that exit's elements reach no device.
 */
typedef int (*libvm_io_fn)(libvm_vcpu *vcpu, uint64_t addr, void *data,
			   uint32_t len, bool is_write, void *opaque);

/**
 * libvm_io_register() - claim [@base, @base + @length) in @space.
 * @vm:     the VM.
 * @space:  LIBVM_SPACE_PIO or LIBVM_SPACE_MMIO.
 * @base:   first address.
 * @length: number of addresses, non-zero; PIO ranges end at or below 0x10000.
 * @name:   name for messages (copied), or NULL.
 * @fn:     the handler.
 * @opaque: passed to @fn.
 *
 * An MMIO range may not lie under RAM (the guest's accesses would go to the
 * memory); under a read-only region it receives the writes.
 * Lookup is a binary search; dispatch does not allocate. Thread: any; a
 * registration waits for handlers running at that moment to finish.
 * Returns: 0; -EEXIST when the range overlaps a registered one or, for
 * MMIO, a writable region (the message names it); -EINVAL for a bad space, zero length, wrap-around or NULL @fn;
 * -EDEADLK when called from inside a handler of this VM; -ENOMEM.
 */
LIBVM_EXPORT int libvm_io_register(libvm_vm *vm, enum libvm_space space,
				   uint64_t base, uint64_t length, const char *name,
				   libvm_io_fn fn, void *opaque);

/**
 * libvm_io_unregister() - release the range that starts exactly at @base.
 * Thread: as libvm_io_register(); when it returns, @fn is no longer running
 * and will not be called again. Returns: 0; -ENOENT when no range starts at
 * @base; -EINVAL; -EDEADLK from inside a handler of this VM.
 */
LIBVM_EXPORT int libvm_io_unregister(libvm_vm *vm, enum libvm_space space, uint64_t base);

/* ------------------------------------------------------------------ */
/* vCPUs and their state                                               */
/* ------------------------------------------------------------------ */

/**
 * libvm_vcpu_create() - create vCPU number @id.
 * @out: receives the vCPU; owned by the caller (libvm_vcpu_destroy()), and
 *       destroyed with the VM at the latest.
 * @vm:  the VM.
 * @id:  the vCPU's id (its initial APIC id), below libvm_vm_max_vcpus().
 *
 * The vCPU starts in the architectural reset state (real mode at
 * 0xf000:fff0, CS base 0xffff0000) with the CPUID the backend supports
 * already set (plus the TSC-deadline bit when the VM's in-kernel LAPIC
 * offers it). With an irqchip, vCPUs other than 0 wait for INIT/SIPI from
 * the guest. Thread: any.
 * Returns: 0; -EINVAL for a bad id; -EEXIST when @id already exists;
 * -ENOMEM; or the backend's error.
 */
LIBVM_EXPORT int libvm_vcpu_create(libvm_vcpu **out, libvm_vm *vm, uint32_t id);

/**
 * libvm_vcpu_destroy() - destroy a vCPU that is not running.
 * @vcpu: the vCPU, or NULL (no-op, returns 0).
 *
 * Its id may be created again. Thread: any, not concurrently with other
 * calls on the vCPU. Returns: 0; -EBUSY while it runs on another thread
 * (alone or under libvm_vm_run()); -EDEADLK from inside one of its own
 * device handlers; -EBADF when it was destroyed before (also by its VM's
 * destroy).
 */
LIBVM_EXPORT int libvm_vcpu_destroy(libvm_vcpu *vcpu);

/** libvm_vcpu_id() - the vCPU's id (0 for NULL). */
LIBVM_EXPORT uint32_t libvm_vcpu_id(const libvm_vcpu *vcpu);
/** libvm_vcpu_vm() - the VM a vCPU belongs to (borrowed; NULL for NULL). */
LIBVM_EXPORT libvm_vm *libvm_vcpu_vm(const libvm_vcpu *vcpu);

/** struct libvm_regs - general-purpose registers, RIP and RFLAGS. */
typedef struct libvm_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rip, rflags;
} libvm_regs;

/** struct libvm_segment - a segment register with its hidden part. */
typedef struct libvm_segment {
	uint64_t base;
	uint32_t limit;
	uint16_t selector;
	uint8_t type;     /* 4-bit descriptor type */
	uint8_t present;
	uint8_t dpl;
	uint8_t db;       /* default operation size (32-bit) */
	uint8_t s;        /* code/data (1) or system (0) */
	uint8_t l;        /* 64-bit code */
	uint8_t g;        /* limit in 4 KiB units */
	uint8_t avl;
	uint8_t unusable;
	uint8_t padding;
} libvm_segment;

/** struct libvm_dtable - GDTR or IDTR. */
typedef struct libvm_dtable {
	uint64_t base;
	uint16_t limit;
	uint16_t padding[3];
} libvm_dtable;

/** struct libvm_sregs - segments, descriptor tables and control registers. */
typedef struct libvm_sregs {
	libvm_segment cs, ds, es, fs, gs, ss, tr, ldt;
	libvm_dtable gdt, idt;
	uint64_t cr0, cr2, cr3, cr4, cr8;
	uint64_t efer;
	uint64_t apic_base;
} libvm_sregs;

/** struct libvm_fpu - x87/SSE state (FXSAVE-style contents). */
typedef struct libvm_fpu {
	uint8_t fpr[8][16];
	uint16_t fcw;
	uint16_t fsw;
	uint8_t ftwx;     /* abridged tag word */
	uint8_t padding1;
	uint16_t last_opcode;
	uint64_t last_ip;
	uint64_t last_dp;
	uint8_t xmm[16][16];
	uint32_t mxcsr;
	uint32_t padding2;
} libvm_fpu;

/** struct libvm_msr - one model-specific register. */
typedef struct libvm_msr {
	uint32_t index;
	uint32_t reserved;
	uint64_t value;
} libvm_msr;

/** struct libvm_cpuid_entry - one CPUID leaf/subleaf. */
typedef struct libvm_cpuid_entry {
	uint32_t function;
	uint32_t index;   /* subleaf, when LIBVM_CPUID_FLAG_INDEXED */
	uint32_t flags;
	uint32_t eax, ebx, ecx, edx;
	uint32_t padding;
} libvm_cpuid_entry;

#define LIBVM_CPUID_FLAG_INDEXED (1u << 0) /* the subleaf in ECX matters */

/*
 * Register accessors. All take a vCPU that is not running on another thread
 * (call them from the thread that runs it, or while it is stopped) and
 * return 0, -EINVAL for NULL arguments, or the backend's error.
 */
LIBVM_EXPORT int libvm_vcpu_get_regs(libvm_vcpu *vcpu, libvm_regs *regs);
LIBVM_EXPORT int libvm_vcpu_set_regs(libvm_vcpu *vcpu, const libvm_regs *regs);
LIBVM_EXPORT int libvm_vcpu_get_sregs(libvm_vcpu *vcpu, libvm_sregs *sregs);
LIBVM_EXPORT int libvm_vcpu_set_sregs(libvm_vcpu *vcpu, const libvm_sregs *sregs);
LIBVM_EXPORT int libvm_vcpu_get_fpu(libvm_vcpu *vcpu, libvm_fpu *fpu);
LIBVM_EXPORT int libvm_vcpu_set_fpu(libvm_vcpu *vcpu, const libvm_fpu *fpu);

/**
 * libvm_vcpu_get_msrs() / libvm_vcpu_set_msrs() - read or write @count MSRs.
 * @vcpu:  the vCPU, not running on another thread.
 * @msrs:  array; for get, fill in .index and receive .value.
 * @count: 1 .. 256.
 *
 * All or nothing: Returns 0 when every MSR was transferred; -EINVAL for bad
 * arguments; -EPERM (with the failing index in the message) when the backend
 * refused one of them; -ENOTSUP when the backend has no MSR access. A set
 * reads the current values first and puts back those written before a
 * refused one, so a failed set changes nothing (-EIO in the unlikely case
 * that putting them back fails too).
 */
LIBVM_EXPORT int libvm_vcpu_get_msrs(libvm_vcpu *vcpu, libvm_msr *msrs, uint32_t count);
LIBVM_EXPORT int libvm_vcpu_set_msrs(libvm_vcpu *vcpu, const libvm_msr *msrs, uint32_t count);

/**
 * libvm_vm_supported_cpuid() - the CPUID leaves the backend supports.
 * @vm:      the VM.
 * @entries: array to fill, or NULL to ask for the count only.
 * @count:   in: capacity of @entries; out: number of entries available.
 *
 * Returns: 0; -E2BIG when @entries is too small (@count then holds the
 * number needed); -ENOTSUP when the backend cannot report it.
 */
LIBVM_EXPORT int libvm_vm_supported_cpuid(libvm_vm *vm, libvm_cpuid_entry *entries,
					  uint32_t *count);

/**
 * libvm_vcpu_set_cpuid() - set the CPUID a vCPU's guest sees.
 * @vcpu:    the vCPU, not running.
 * @entries: the leaves (libvm_vm_supported_cpuid(), libvm_cpuid_build(), or
 *           your own); copied.
 * @count:   1 .. 256 entries.
 * Call before the first run (backends may refuse later changes). The
 * vCPU's own id replaces the initial APIC id in leaf 1 EBX[31:24], so every
 * vCPU of an SMP guest tells itself apart whatever the entries say; the
 * topology leaves 0xB/0x1F are passed on as given.
 * Returns: 0; -EINVAL; -ENOTSUP; or the backend's error.
 */
LIBVM_EXPORT int libvm_vcpu_set_cpuid(libvm_vcpu *vcpu, const libvm_cpuid_entry *entries,
				      uint32_t count);

#define LIBVM_VCPU_RESET_WAIT_SIPI (1u << 0) /* an AP: wait for the guest's SIPI */

/**
 * libvm_vcpu_reset() - put a vCPU that is not running into the state INIT
 * and power-on leave it in: real mode at 0xf000:0xfff0 (CS base
 * 0xffff0000), CR0 0x60000010, paging and long mode off, FPU reset, the
 * in-kernel LAPIC's interrupts and LVTs cleared and masked (its id kept).
 * With LIBVM_VCPU_RESET_WAIT_SIPI the vCPU then waits for a SIPI from the
 * guest (an application processor); otherwise it runs from the reset
 * vector (or wherever the caller puts it next, e.g. a waking vector).
 * Memory, CPUID and MSRs other than EFER are left alone.
 * Returns: 0; -EINVAL; -ENOTSUP for WAIT_SIPI without an irqchip; the
 * backend's error.
 */
LIBVM_EXPORT int libvm_vcpu_reset(libvm_vcpu *vcpu, uint32_t flags);

/* ------------------------------------------------------------------ */
/* Running                                                             */
/* ------------------------------------------------------------------ */

/** Why libvm_vcpu_run() returned. */
enum libvm_exit_reason {
	LIBVM_EXIT_NONE = 0,
	LIBVM_EXIT_HLT = 1,            /* guest executed HLT */
	LIBVM_EXIT_SHUTDOWN = 2,       /* triple fault (or shutdown) */
	LIBVM_EXIT_IO = 3,             /* port I/O no device handled: .io */
	LIBVM_EXIT_MMIO = 4,           /* MMIO no device handled: .io */
	LIBVM_EXIT_STOPPED = 5,        /* libvm_vcpu_stop() was called */
	LIBVM_EXIT_INTERNAL_ERROR = 6, /* backend could not continue: .internal */
	LIBVM_EXIT_SYSTEM_EVENT = 7,   /* reset/shutdown request: .system_event */
	LIBVM_EXIT_FAIL_ENTRY = 8,     /* hardware refused the guest state: .fail_entry */
	LIBVM_EXIT_UNKNOWN = 9,        /* backend exit libvm does not know: .unknown */
	LIBVM_EXIT_DEVICE_ERROR = 10,  /* a device handler failed: .io, run returned its error */
	LIBVM_EXIT_GUEST_EXIT = 11,    /* a device ended the VM with a status: .end.code */
	LIBVM_EXIT_RESET = 12,         /* a device requested a reset: .end.code */
	LIBVM_EXIT_POWEROFF = 13,      /* a device requested power-off: .end.code */
	LIBVM_EXIT_SUSPEND = 14,       /* a device put the machine to sleep (ACPI S3): .end.code = 3 */
	LIBVM_EXIT_HYPERV = 15,        /* Hyper-V SynIC MSR write or hypercall: .hyperv */
	LIBVM_EXIT_DEBUG = 16,         /* a breakpoint or single step (<libvm/debug.h>): .debug */
};

/** Types in libvm_exit.hyperv.type (libvm_vcpu_enable_hyperv()). */
enum libvm_hyperv_exit {
	LIBVM_HYPERV_SYNIC = 1, /* SynIC control MSR written: .msr, .control, .evt_page, .msg_page */
	LIBVM_HYPERV_HCALL = 2, /* hypercall for the VMM: .input, .params; answer: libvm_vcpu_hyperv_result() */
};

/** System event types in libvm_exit.system_event.type. */
enum libvm_system_event {
	LIBVM_SYSTEM_EVENT_SHUTDOWN = 1,
	LIBVM_SYSTEM_EVENT_RESET = 2,
	LIBVM_SYSTEM_EVENT_CRASH = 3,
	LIBVM_SYSTEM_EVENT_OTHER = 255,
};

/**
 * struct libvm_exit - what happened, filled by libvm_vcpu_run().
 *
 * .io (LIBVM_EXIT_IO, LIBVM_EXIT_MMIO, LIBVM_EXIT_DEVICE_ERROR):
 *   @addr port or guest-physical address, @size 1/2/4/8 bytes per access,
 *   @count repetitions (string I/O), @is_write, and @data, the first value
 *   written (little-endian). For an unhandled read the guest receives
 *   all-ones unless libvm_vcpu_complete_read() sets a value before the next
 *   run.
 */
typedef struct libvm_exit {
	uint32_t reason; /* enum libvm_exit_reason */
	uint32_t padding;
	LIBVM__ANON union {
		struct {
			uint64_t addr;
			uint64_t data;
			uint32_t size;
			uint32_t count;
			uint8_t is_write;
			uint8_t padding[7];
		} io;
		struct {
			uint32_t suberror; /* backend code (KVM_INTERNAL_ERROR_*) */
			uint32_t ndata;
			uint64_t data[16];
		} internal;
		struct {
			uint32_t type; /* enum libvm_system_event */
			uint32_t backend_type;
			uint32_t ndata;
			uint32_t padding;
			uint64_t data[16];
		} system_event;
		struct {
			uint64_t hardware_reason;
			uint32_t cpu;
			uint32_t padding;
		} fail_entry;
		struct {
			uint32_t backend_reason;
			uint32_t padding;
		} unknown;
		struct {
			uint64_t code; /* e.g. the exit device's status */
		} end;
		struct {
			uint32_t type;     /* enum libvm_hyperv_exit */
			uint32_t msr;      /* SYNIC: the MSR written */
			uint64_t control;  /* SYNIC: SCONTROL */
			uint64_t evt_page; /* SYNIC: SIEFP */
			uint64_t msg_page; /* SYNIC: SIMP */
			uint64_t input;    /* HCALL: the hypercall input value */
			uint64_t params[2];/* HCALL: input and output parameter GPAs (or values) */
		} hyperv;
		struct {
			/*
			 * LIBVM_EXIT_SHUTDOWN: 1 when the backend had already put
			 * the vCPU back into its reset state when it reported the
			 * shutdown (kvm-amd: AMD SVM leaves the VMCB undefined at
			 * a shutdown intercept, and KVM INITs the vCPU), so its
			 * registers are not the ones at the fault; 0 when they
			 * are (KVM on Intel VMX keeps them).
			 */
			uint32_t state_lost;
			uint32_t padding;
		} shutdown;
		struct {
			uint32_t exception; /* 1: #DB (step, hardware breakpoint), 3: #BP (INT3) */
			uint32_t padding;
			uint64_t pc;        /* linear address of the instruction (CS base + RIP) */
			uint64_t dr6;       /* B0..B3 say which hardware breakpoint, BS a step */
			uint64_t dr7;
		} debug;
		uint8_t reserved[256];
	};
} libvm_exit;

/**
 * libvm_vcpu_run() - run the vCPU until something its devices do not handle.
 * @vcpu: the vCPU.
 * @exit: receives the reason and details.
 *
 * Accesses to registered devices are handled inside; the call returns on
 * halt, shutdown, an unhandled access, a stop request, or an error. It
 * never ends the process. Thread: the one thread currently driving @vcpu.
 *
 * Returns: 0 with @exit filled; a handler's negative error (@exit->reason is
 * LIBVM_EXIT_DEVICE_ERROR, with the access in .io); -EINVAL for NULL
 * arguments; -EBUSY when another thread is already running this vCPU; or
 * the backend's error.
 */
LIBVM_EXPORT int libvm_vcpu_run(libvm_vcpu *vcpu, libvm_exit *exit);

/**
 * libvm_vcpu_complete_read() - value for the unhandled read just returned.
 * @vcpu: the vCPU whose last run returned LIBVM_EXIT_IO/MMIO for a read.
 * @data: @len bytes to hand to the guest (little-endian).
 * @len:  1 .. size * count of the exit (string reads take several values;
 *        bytes not given stay all-ones).
 *
 * Returns: 0; -EINVAL when no read is pending or @len is out of range.
 */
LIBVM_EXPORT int libvm_vcpu_complete_read(libvm_vcpu *vcpu, const void *data, uint32_t len);

/**
 * libvm_vcpu_stop() - make the vCPU's current or next run return promptly.
 * @vcpu: the vCPU.
 *
 * If the vCPU is in libvm_vcpu_run(), that call returns LIBVM_EXIT_STOPPED
 * soon (the kernel run loop is interrupted by the kick signal); otherwise
 * the next run returns LIBVM_EXIT_STOPPED at once. A stop is never lost and
 * is consumed by exactly one run. An access a handler served just before is
 * completed first, so the stopped vCPU's registers hold its result.
 * Thread: any, device handlers included; not from a signal handler.
 * Returns: 0, or -EINVAL for NULL.
 */
LIBVM_EXPORT int libvm_vcpu_stop(libvm_vcpu *vcpu);

/**
 * libvm_vcpu_end_run() - from a device handler, end the current run.
 * @vcpu:   the vCPU whose handler is running.
 * @reason: LIBVM_EXIT_GUEST_EXIT, LIBVM_EXIT_RESET, LIBVM_EXIT_POWEROFF or
 *          LIBVM_EXIT_SUSPEND.
 * @code:   reported in exit->end.code (the exit status for GUEST_EXIT).
 *
 * The access completes, then libvm_vcpu_run() returns 0 with this exit
 * instead of resuming the guest. Thread: the vCPU's own (inside a handler);
 * outside a handler it applies to the next run. Returns: 0 or -EINVAL.
 */
LIBVM_EXPORT int libvm_vcpu_end_run(libvm_vcpu *vcpu, uint32_t reason, uint64_t code);

/* ------------------------------------------------------------------ */
/* Running a whole VM                                                  */
/* ------------------------------------------------------------------ */

/** Flags of struct libvm_vm_run_options. */
#define LIBVM_RUN_STOP_ON_UNHANDLED (1u << 0) /* unclaimed I/O ends the run */

/**
 * struct libvm_vm_run_options - how libvm_vm_run() treats its vCPUs.
 * @size:  sizeof(struct libvm_vm_run_options); set by the INIT macro.
 * @flags: LIBVM_RUN_* flags. By default an access no device claims is
 *         dropped (writes) or answered with all-ones (reads) and the guest
 *         goes on, as on a PC bus with nothing behind the address.
 */
typedef struct libvm_vm_run_options {
	size_t size;
	uint32_t flags;
	uint32_t reserved0;
} libvm_vm_run_options;

#define LIBVM_VM_RUN_OPTIONS_INIT \
	LIBVM__OPTIONS_INIT(libvm_vm_run_options, libvm_vm_run_options_init)

/** libvm_vm_run_options_init() - the defaults; see libvm_vm_options_init(). */
LIBVM_EXPORT int libvm_vm_run_options_init(libvm_vm_run_options *opts, size_t size);

/**
 * libvm_vm_run() - run every vCPU of the VM, each on a thread of its own,
 * until the VM stops.
 * @vm:      the VM, with its vCPUs created (and, for SMP guests that start
 *           their application processors with INIT/SIPI, an irqchip).
 * @opts:    options, or NULL for the defaults.
 * @exit:    receives the exit that stopped the VM.
 * @vcpu_id: receives the id of the vCPU it came from (may be NULL).
 *
 * The VM stops at the first vCPU exit that ends it: a device's ending
 * (guest exit status, reset, power-off), shutdown (triple fault), HLT
 * without an irqchip, an internal or entry error, a system event, an
 * unknown exit, a device error (returned as the error), an unclaimed access
 * with LIBVM_RUN_STOP_ON_UNHANDLED, or libvm_vm_stop(). The other vCPUs are
 * then stopped and joined before the call returns, and no stop is left
 * pending on them. Thread: any one thread; no vCPU of the VM may be run
 * elsewhere meanwhile.
 * Returns: 0; a device handler's error; -EINVAL; -ENOENT when the VM has no
 * vCPU; -EAGAIN/-ENOMEM when threads cannot be created.
 */
LIBVM_EXPORT int libvm_vm_run(libvm_vm *vm, const libvm_vm_run_options *opts,
			      libvm_exit *exit, uint32_t *vcpu_id);

/**
 * libvm_vm_stop() - make a running (or the next) libvm_vm_run() return
 * LIBVM_EXIT_STOPPED promptly. Thread: any. Returns: 0 or -EINVAL.
 */
LIBVM_EXPORT int libvm_vm_stop(libvm_vm *vm);

/* ------------------------------------------------------------------ */
/* Interrupts                                                          */
/* ------------------------------------------------------------------ */

#define LIBVM_IRQCHIP_PIT (1u << 0) /* also create the in-kernel i8254 PIT */

/**
 * libvm_irqchip_create() - create the in-kernel interrupt controllers:
 * the two i8259 PICs, the IOAPIC and a LAPIC per vCPU (and the PIT with
 * LIBVM_IRQCHIP_PIT), wired as on a PC: GSIs 0-15 are the ISA IRQs, each
 * reaching its PIC pin and IOAPIC pin n, except IRQ 0 (the PIT), which
 * reaches IOAPIC pin 2 (what the MADT's and MP table's source override
 * tell the guest), and IRQ 2 (the cascade), which reaches no IOAPIC pin;
 * GSIs 16-23 reach IOAPIC pins 16-23. (On a backend without GSI routing,
 * its default wiring stays: KVM's is GSI n to IOAPIC pin n.)
 * Call before creating any vCPU. With it, HLT no longer exits (the LAPIC
 * waits for an interrupt in the kernel).
 * Returns: 0; -ENOTSUP when the backend has none; -EBUSY when vCPUs exist or
 * it was already created; -EINVAL for unknown flags or NULL; the backend's
 * error from setting the wiring (the irqchip then exists with the backend's
 * default wiring).
 */
LIBVM_EXPORT int libvm_irqchip_create(libvm_vm *vm, uint32_t flags);

/**
 * libvm_irq_set() - drive interrupt line @gsi to @level (true: asserted).
 * Edge-triggered sources pulse it (set, then clear). Thread: any.
 * Returns: 0; -ENOTSUP without an irqchip; -EINVAL for a bad GSI.
 */
LIBVM_EXPORT int libvm_irq_set(libvm_vm *vm, uint32_t gsi, bool level);

/**
 * libvm_msi_send() - deliver a message-signalled interrupt.
 * @vm:   the VM, with an irqchip.
 * @addr: the MSI address (0xfeexxxxx).
 * @data: the MSI data. Thread: any.
 * Returns: 0; -ENOTSUP without an irqchip or MSI support; the backend's error.
 */
LIBVM_EXPORT int libvm_msi_send(libvm_vm *vm, uint64_t addr, uint32_t data);

/**
 * libvm_msi_route_add() - make a GSI that raises a message-signalled
 * interrupt, for an irqfd to trigger.
 * @gsi:  receives the GSI, 24 or above (below 24 are the irqchip's pins).
 * @vm:   the VM, with its in-kernel irqchip created.
 * @addr: the MSI address as a device would write it (x86: 0xfeeXXXXX,
 *        destination APIC id in bits 19:12).
 * @data: the MSI data (vector in bits 7:0, delivery mode, trigger mode).
 *
 * Bind an eventfd to the GSI with libvm_irqfd_add(): then any thread, or
 * another process holding the eventfd, raises the MSI by writing to it,
 * and the kernel delivers it to the LAPICs without this process. The
 * backend keeps one routing table that every change replaces whole; libvm
 * keeps its copy and always puts the irqchip pins' wiring (GSIs 0-23, see
 * libvm_irqchip_create()) back in, so libvm_irq_set() goes on working. GSIs are handed out lowest free first.
 *
 * Ownership: the route belongs to the VM until libvm_msi_route_remove() or
 * the VM's destruction; eventfds stay the caller's. Thread: any; route calls
 * are serialized by the VM, and each one that changes the table waits for
 * the kernel to switch tables (tens of microseconds on our hosts): do it
 * when the guest programs a vector, not per interrupt.
 * Returns: 0; -ENOTSUP when the backend has no GSI routing or the VM no
 * irqchip (libvm_has(vm, LIBVM_CAP_MSI_ROUTING) tells beforehand);
 * -ENOSPC when the backend's table is full; -EINVAL for NULL arguments;
 * -ENOMEM; the backend's error.
 */
LIBVM_EXPORT int libvm_msi_route_add(uint32_t *gsi, libvm_vm *vm, uint64_t addr, uint32_t data);

/**
 * libvm_msi_route_update() - point MSI route @gsi at a new message (the
 * guest reprogrammed the vector). An irqfd bound to it keeps working and
 * raises the new message from the next write on. Thread: as above.
 * Returns: 0 (also when nothing changed); -ENOENT when @gsi is not an MSI
 * route of this VM; -EINVAL for an irqchip pin (below 24) or NULL;
 * -ENOTSUP as for libvm_msi_route_add(); the backend's error (the route
 * then keeps its old message).
 */
LIBVM_EXPORT int libvm_msi_route_update(libvm_vm *vm, uint32_t gsi, uint64_t addr, uint32_t data);

/**
 * libvm_msi_route_remove() - remove MSI route @gsi; its number may be
 * handed out again. Remove the irqfds bound to it first: writes to them
 * raise nothing once the route is gone. Thread: as above.
 * Returns: 0; -ENOENT when @gsi is not an MSI route of this VM; -EINVAL for
 * an irqchip pin or NULL; -ENOTSUP; the backend's error (the route stays).
 */
LIBVM_EXPORT int libvm_msi_route_remove(libvm_vm *vm, uint32_t gsi);

/**
 * libvm_irqfd_add() / libvm_irqfd_remove() - let a write to eventfd @fd
 * raise @gsi inside the kernel, without a trip through this process.
 * @gsi is an irqchip pin (an edge: the write pulses it) or an MSI route
 * from libvm_msi_route_add(). The eventfd stays the caller's; close it
 * after the remove. Thread: any.
 * Returns: 0; -ENOTSUP without irqfd; -EINVAL; the backend's error.
 */
LIBVM_EXPORT int libvm_irqfd_add(libvm_vm *vm, int fd, uint32_t gsi);
LIBVM_EXPORT int libvm_irqfd_remove(libvm_vm *vm, int fd, uint32_t gsi);

/**
 * libvm_io_coalesce_add() / libvm_io_coalesce_remove() - let the backend
 * queue guest writes to [@addr, @addr + @len) in @space instead of exiting
 * for each (KVM's coalesced MMIO and PIO). The queued writes reach the
 * range's handler (libvm_io_register()) in order, on a vCPU thread, as
 * soon as any vCPU of the VM next leaves the kernel and before that exit
 * is handled; reads still exit as usual. The handler's @vcpu is the vCPU
 * that found them queued, not necessarily the one that wrote. Only for
 * writes that need no immediate effect: a guest that waits for one
 * without causing an exit (an interrupt it expects, say) would wait until
 * something else exits.
 * Remove takes the same arguments as add. Thread: any.
 * Returns: 0; -EINVAL for a bad space or range; -ENOTSUP where the backend
 * cannot (libvm then keeps exiting for each write); the backend's error.
 */
LIBVM_EXPORT int libvm_io_coalesce_add(libvm_vm *vm, enum libvm_space space, uint64_t addr,
				       uint32_t len);
LIBVM_EXPORT int libvm_io_coalesce_remove(libvm_vm *vm, enum libvm_space space, uint64_t addr,
					  uint32_t len);

#define LIBVM_IOEVENTFD_DATAMATCH (1u << 0) /* only writes of @data signal */

/**
 * libvm_ioeventfd_add() / libvm_ioeventfd_remove() - turn guest writes of
 * @len bytes (1, 2, 4, 8; 0 for any width on MMIO) to @addr in @space into
 * a signal on eventfd @fd, handled in the kernel without an exit.
 * Remove takes the same arguments as add. Returns: 0; -ENOTSUP; -EINVAL;
 * the backend's error (e.g. -EEXIST for a duplicate).
 */
LIBVM_EXPORT int libvm_ioeventfd_add(libvm_vm *vm, enum libvm_space space, uint64_t addr,
				     uint32_t len, int fd, uint32_t flags, uint64_t data);
LIBVM_EXPORT int libvm_ioeventfd_remove(libvm_vm *vm, enum libvm_space space, uint64_t addr,
					uint32_t len, int fd, uint32_t flags, uint64_t data);

#ifdef __cplusplus
}

/* What the INIT macros expand to in C++ (see LIBVM__OPTIONS_INIT). */
template <typename T>
inline T libvm__cxx_options(int (*init)(T *, size_t))
{
	T o = T();

	init(&o, sizeof(o));
	return o;
}
#endif

#endif /* LIBVM_LIBVM_H */
