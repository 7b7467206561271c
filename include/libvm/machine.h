/* SPDX-License-Identifier: MIT */
/*
 * libvm's PC machine: one call builds the whole PC that QEMU-style test
 * kernels, multiboot kernels and Linux expect, from libvm's own pieces,
 * and hands back the handles of every part.
 *
 * Layout. RAM from physical 0 up to @ram_below_4g (3 GiB at most), the
 * rest from 4 GiB up. Below 4 GiB above RAM: the PCI window (0xc0000000,
 * 512 MiB), the IOAPIC (0xfec00000), the LAPICs (0xfee00000) and the
 * pc-testdev's window (0xff000000). The firmware tables (ACPI at 0xe0000,
 * MP at 0xf0000) and the boot structures live in low RAM where
 * <libvm/load.h> says.
 *
 * Devices, each one on unless a LIBVM_MACHINE_NO_* flag leaves it out:
 * the in-kernel irqchip (PIC, IOAPIC, a LAPIC per vCPU) and PIT; COM1
 * (IRQ 4); the exit device (0xf4); fw_cfg (0x510) with the real CPU count,
 * the RAM size and the command line; the i8042 (reset, keyboard, mouse);
 * the CMOS RTC with the memory-size bytes and alarms that can wake a
 * sleeping guest; port 0x80; the pc-testdev; the ACPI PM timer (0x608, 32
 * bits) and PM1a blocks (power off, suspend to RAM); ACPI tables (MADT,
 * FADT, a DSDT describing the i8042, the RTC, S3 and S5) and, up to 254
 * vCPUs, an MP table. A PCI host bridge (0xcf8) with the virtio devices
 * asked for (and QEMU's PCI test device with LIBVM_MACHINE_PCI_TESTDEV)
 * when there are any, when the kernel is a Linux kernel, or with
 * LIBVM_MACHINE_PCI; the DSDT then describes it. The vCPUs get the CPU
 * model and Hyper-V enlightenments asked for (<libvm/cpu.h>).
 *
 * Kernel. A file (@kernel_path) or bytes in memory (@kernel_image); its
 * format detected from its header unless @kernel_format says: multiboot
 * v1, ELF (a PVH entry note is used when there is one), Linux bzImage,
 * and a flat binary when no header is recognised. The boot processor
 * (vCPU 0) starts at the entry in the state the format defines; the
 * others wait for INIT/SIPI from the guest.
 *
 * Running: libvm_vm_run(libvm_machine_vm(m), ...), or drive the vCPUs
 * yourself. A guest's exit status comes back as LIBVM_EXIT_GUEST_EXIT,
 * an ACPI power off as LIBVM_EXIT_POWEROFF, an i8042 reset as
 * LIBVM_EXIT_RESET, a suspend to RAM as LIBVM_EXIT_SUSPEND: wake it with
 * libvm_machine_wake() (when the RTC alarm fires, parts.rtc_wake_fd is
 * readable; drain it first and ask libvm_rtc_alarm_pending(parts.rtc)
 * for an alarm that fired before) and run it again.
 *
 * Thread rules: libvm_machine_create() and libvm_machine_destroy() as
 * libvm_vm_create() and libvm_vm_destroy(); the parts follow their own.
 */
#ifndef LIBVM_MACHINE_H
#define LIBVM_MACHINE_H

#include <libvm/cpu.h>
#include <libvm/devices.h>
#include <libvm/libvm.h>
#include <libvm/load.h>
#include <libvm/pci.h>
#include <libvm/virtio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct libvm_machine libvm_machine;

/* libvm_machine_options.flags: parts to leave out, and PCI. */
#define LIBVM_MACHINE_NO_IRQCHIP   (1u << 0)  /* no in-kernel irqchip (1 vCPU only) */
#define LIBVM_MACHINE_NO_PIT       (1u << 1)  /* no in-kernel i8254 PIT */
#define LIBVM_MACHINE_NO_UART      (1u << 2)
#define LIBVM_MACHINE_NO_DEBUGEXIT (1u << 3)
#define LIBVM_MACHINE_NO_FWCFG     (1u << 4)
#define LIBVM_MACHINE_NO_I8042     (1u << 5)
#define LIBVM_MACHINE_NO_RTC       (1u << 6)
#define LIBVM_MACHINE_NO_PORT80    (1u << 7)
#define LIBVM_MACHINE_NO_TESTDEV   (1u << 8)
#define LIBVM_MACHINE_NO_ACPI      (1u << 9)  /* no ACPI tables, PM timer, PM1a blocks */
#define LIBVM_MACHINE_NO_MPTABLE   (1u << 10)
#define LIBVM_MACHINE_PCI          (1u << 11) /* a PCI bus even without virtio or Linux */
#define LIBVM_MACHINE_NO_PCI       (1u << 12) /* never a PCI bus (no virtio then) */
#define LIBVM_MACHINE_PCI_TESTDEV  (1u << 13) /* QEMU's PCI test device (1b36:0005) */

/**
 * struct libvm_machine_module - a boot module (multiboot modules; for
 * Linux, the initrd).
 * @path:   a file to load, or NULL to take @data.
 * @data:   the module's bytes when @path is NULL (copied).
 * @size:   their number.
 * @string: the multiboot module string, or NULL for "".
 */
typedef struct libvm_machine_module {
	const char *path;
	const void *data;
	uint64_t size;
	const char *string;
} libvm_machine_module;

/**
 * struct libvm_machine_options - what PC to build. Zero means default for
 * every field.
 * @size:          sizeof(libvm_machine_options); set by the INIT macro.
 * @vm:            options of the VM (device path, log, kick signal), or
 *                 NULL for the defaults.
 * @ram_size:      guest RAM in bytes, a multiple of 4 KiB; 0 means 128 MiB.
 * @ram_below_4g:  how much of it lies below 4 GiB, a multiple of 4 KiB, at
 *                 most 3 GiB; 0 means min(@ram_size, 3 GiB).
 * @nr_vcpus:      vCPUs, ids 0 .. @nr_vcpus - 1; 0 means 1.
 * @flags:         LIBVM_MACHINE_* flags.
 * @kernel_path:   the kernel file, or NULL for @kernel_image, or neither
 *                 for a machine without a kernel (load your own code).
 * @kernel_image:  the kernel in memory when @kernel_path is NULL (copied
 *                 into the guest; not kept).
 * @kernel_size:   its size.
 * @kernel_name:   multiboot: the first word of the command line (argv[0]
 *                 of test kernels); NULL means @kernel_path, or "kernel".
 * @kernel_format: LIBVM_FORMAT_MULTIBOOT, _ELF32/_ELF64/_PVH (ELF),
 *                 _BZIMAGE or _FLAT to force a loader; 0 detects it.
 * @nr_modules:    entries in @modules, 0 .. 64.
 * @modules:       boot modules, loaded after the kernel in this order;
 *                 Linux takes one (its initrd).
 * @initrd_path:   shorthand for one module from a file (not with
 *                 @modules).
 * @cmdline:       the kernel's command line (multiboot: its arguments
 *                 after the name), also fw_cfg's; NULL means none, or
 *                 LIBVM_MACHINE_LINUX_CMDLINE for a Linux kernel.
 * @load_addr:     where a flat binary goes and starts (real mode if below
 *                 1 MiB, else 32-bit protected mode); 0 means 0x100000.
 * @uart:          COM1's options (where its output goes; its input), or
 *                 NULL for COM1 with output discarded.
 * @pci:           the PCI bus's options, or NULL for the defaults.
 * @nr_disks:      entries in @disks.
 * @disks:         virtio-blk devices, in slot order (pointers, so that
 *                 each struct keeps its own size).
 * @nr_nets, @nets: virtio-net devices.
 * @nr_consoles, @consoles: virtio-console devices.
 * @nr_rngs:       virtio-rng devices (0 or 1).
 * @cpu:           the vCPUs' CPU model and features, as libvm_cpuid_build()
 *                 takes them ("Skylake-Client,-avx"), or NULL for what the
 *                 backend supports.
 * @hyperv:        LIBVM_HV_* enlightenments for every vCPU
 *                 (libvm_vcpu_enable_hyperv()); 0 for none.
 *
 * Fields are only ever appended; the library reads no further than @size.
 */
typedef struct libvm_machine_options {
	size_t size;
	const libvm_vm_options *vm;
	uint64_t ram_size;
	uint64_t ram_below_4g;
	uint32_t nr_vcpus;
	uint32_t flags;
	const char *kernel_path;
	const void *kernel_image;
	uint64_t kernel_size;
	const char *kernel_name;
	uint32_t kernel_format;
	uint32_t nr_modules;
	const libvm_machine_module *modules;
	const char *initrd_path;
	const char *cmdline;
	uint64_t load_addr;
	const libvm_uart_options *uart;
	const libvm_pci_bus_options *pci;
	uint32_t nr_disks;
	uint32_t nr_nets;
	const libvm_virtio_blk_options *const *disks;
	const libvm_virtio_net_options *const *nets;
	uint32_t nr_consoles;
	uint32_t nr_rngs;
	const libvm_virtio_console_options *const *consoles;
	const char *cpu;
	uint32_t hyperv;
	uint32_t reserved0;
} libvm_machine_options;

#define LIBVM_MACHINE_OPTIONS_INIT \
	LIBVM__OPTIONS_INIT(libvm_machine_options, libvm_machine_options_init)

/* What a Linux kernel gets without @cmdline: the console on COM1, and a
 * reboot (a reset exit) instead of a hang on panic. */
#define LIBVM_MACHINE_LINUX_CMDLINE "console=ttyS0 panic=-1"

/** libvm_machine_options_init() - the defaults; see libvm_vm_options_init(). */
LIBVM_EXPORT int libvm_machine_options_init(libvm_machine_options *opts, size_t size);

/**
 * libvm_machine_create() - build a PC.
 * @out:  receives the machine; the caller owns it (libvm_machine_destroy()).
 * @opts: what to build, or NULL for a bare 128 MiB, 1-vCPU PC without a
 *        kernel.
 *
 * Everything is in place when it returns: RAM, devices, tables, the kernel
 * and its modules in guest memory, vCPUs with vCPU 0 at the kernel's
 * entry. Nothing runs yet.
 * Returns: 0; -EINVAL for bad options (the message names the field);
 * -ENOENT/-EACCES for files (kernel, modules, disks) that cannot be
 * opened; -ENOEXEC for a kernel its loader refuses; -E2BIG for a kernel
 * or modules that do not fit RAM; -ENOTSUP for vCPUs beyond 1 without an
 * irqchip, or what the backend lacks; the VM's and devices' errors. On
 * failure nothing is left behind and *@out is NULL; the message says
 * which step failed and why.
 */
LIBVM_EXPORT int libvm_machine_create(libvm_machine **out, const libvm_machine_options *opts);

/**
 * libvm_machine_destroy() - destroy the machine: its VM with all devices
 * and vCPUs (libvm_vm_destroy()). Handles from it become invalid.
 * @m: the machine, or NULL (no-op, returns 0).
 * Returns: 0; -EBUSY/-EDEADLK as libvm_vm_destroy() (the machine is then
 * unchanged); -EBADF for a machine destroyed before.
 */
LIBVM_EXPORT int libvm_machine_destroy(libvm_machine *m);

/** libvm_machine_vm() - the machine's VM (borrowed), or NULL. */
LIBVM_EXPORT libvm_vm *libvm_machine_vm(const libvm_machine *m);

/** libvm_machine_vcpu() - vCPU @id of the machine (borrowed), or NULL. */
LIBVM_EXPORT libvm_vcpu *libvm_machine_vcpu(const libvm_machine *m, uint32_t id);

/**
 * struct libvm_machine_parts - every part of a machine (borrowed handles,
 * valid until libvm_machine_destroy(); NULL for a part left out).
 * @size:          sizeof(libvm_machine_parts); set by the INIT macro.
 * @vm:            the VM.
 * @nr_vcpus:      vCPUs in @vcpus.
 * @vcpus:         the vCPUs, by id.
 * @uart ... @acpipm: the legacy devices.
 * @pci:           the PCI bus.
 * @disks, @nets, @consoles: the virtio devices, as in the options.
 * @rng:           the virtio-rng.
 * @pci_testdev:   the PCI test device.
 * @kernel_format: the kernel's LIBVM_FORMAT_* as detected (or forced);
 *                 LIBVM_FORMAT_UNKNOWN without a kernel.
 * @rsdp_gpa:      the ACPI RSDP (0 without ACPI).
 * @mptable_gpa:   the MP floating pointer (0 without an MP table).
 * @boot:          vCPU 0's entry state (libvm_boot_apply() it again to
 *                 restart the kernel after restoring memory).
 * @rtc_wake_fd:   an eventfd (the machine's) that becomes readable when the
 *                 RTC's alarm interrupt fires: poll it while the guest is
 *                 suspended; -1 without an RTC.
 */
typedef struct libvm_machine_parts {
	size_t size;
	libvm_vm *vm;
	uint32_t nr_vcpus;
	uint32_t nr_disks;
	libvm_vcpu *const *vcpus;
	libvm_uart *uart;
	libvm_debugexit *debugexit;
	libvm_fwcfg *fwcfg;
	libvm_i8042 *i8042;
	libvm_rtc *rtc;
	libvm_port80 *port80;
	libvm_testdev *testdev;
	libvm_pmtimer *pmtimer;
	libvm_acpipm *acpipm;
	libvm_pci_bus *pci;
	libvm_virtio_blk *const *disks;
	uint32_t nr_nets;
	uint32_t nr_consoles;
	libvm_virtio_net *const *nets;
	libvm_virtio_console *const *consoles;
	libvm_virtio_rng *rng;
	uint32_t kernel_format;
	uint32_t reserved0;
	uint64_t rsdp_gpa;
	uint64_t mptable_gpa;
	libvm_boot boot;
	libvm_pci_testdev *pci_testdev;
	int32_t rtc_wake_fd;
	uint32_t reserved1;
} libvm_machine_parts;

#define LIBVM_MACHINE_PARTS_INIT LIBVM__OPTIONS_INIT(libvm_machine_parts, libvm_machine_parts_init)

/** libvm_machine_parts_init() - an empty parts struct with its size set. */
LIBVM_EXPORT int libvm_machine_parts_init(libvm_machine_parts *parts, size_t size);

/**
 * libvm_machine_get_parts() - fill @parts (up to its .size) with the handles.
 * Thread: any. Returns: 0; -EINVAL for NULL or a bad .size; -EBADF for a
 * destroyed machine.
 */
LIBVM_EXPORT int libvm_machine_get_parts(const libvm_machine *m, libvm_machine_parts *parts);

/* libvm_machine_wake() flags */
#define LIBVM_MACHINE_WAKE_RTC (1u << 0) /* the RTC alarm woke it (RTC_STS too) */

/**
 * libvm_machine_wake() - the firmware's part of waking a machine that
 * suspended to RAM (its run returned LIBVM_EXIT_SUSPEND): the wake bits in
 * PM1_STS (libvm_acpipm_wake()), every vCPU reset (the APs waiting for a
 * SIPI; libvm_vcpu_reset()), vCPU 0 at the waking vector the guest left
 * in the FACS (libvm_acpi_waking_vector()). Then run it again.
 * @m:     the machine, not running.
 * @flags: LIBVM_MACHINE_WAKE_* flags.
 * Thread: any, with no vCPU running. Returns: 0; -EINVAL for NULL or
 * unknown flags, or a guest that left no waking vector (it never
 * suspended); -ENOTSUP without ACPI; the parts' errors.
 */
LIBVM_EXPORT int libvm_machine_wake(libvm_machine *m, uint32_t flags);

#ifdef __cplusplus
}
#endif

#endif /* LIBVM_MACHINE_H */
