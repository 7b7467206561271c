/* SPDX-License-Identifier: MIT */
/*
 * libvm built-in device models: the legacy PC platform pieces that guests
 * written for QEMU's "pc" machine expect. Each device is opt-in: attach the
 * ones you want, in any combination, or none and register your own handlers
 * with libvm_io_register().
 *
 * Common rules for every device below:
 *
 * - libvm_<dev>_attach(&dev, vm, opts) claims the device's port/MMIO ranges
 *   on @vm with libvm_io_register() and hands out a handle the caller owns.
 *   @opts may be NULL for the defaults; otherwise start from the device's
 *   LIBVM_<DEV>_OPTIONS_INIT or libvm_<dev>_options_init() (they set .size
 *   and the defaults). A field's zero value means its default (0 for a
 *   port is the device's usual port, for an IRQ its usual IRQ; -1 means
 *   none), except where a field says otherwise. Fields are only ever
 *   appended; the library reads no further than .size.
 *   Returns 0; -EINVAL for a NULL @out/@vm, a bad .size or bad options;
 *   -EEXIST when a range is already claimed (the message names the owner);
 *   -EDEADLK from inside a device handler; -ENOMEM. On failure nothing stays
 *   registered and *@out is untouched.
 * - libvm_<dev>_detach(dev) unregisters the ranges and frees the handle.
 *   NULL is a no-op. When it returns the device's handlers are no longer
 *   running. A device still attached when its VM is destroyed is detached
 *   and freed by libvm_vm_destroy(); a detach of its handle afterwards, or
 *   a second detach, does nothing, and the device's other calls fail with
 *   -EBADF (within the limit libvm.h describes under "Misuse").
 *   Never detach from inside a device handler (the ranges cannot be
 *   released there; the handle is then deliberately leaked rather than
 *   freed under a running handler).
 * - Thread rules: the guest side (handlers on vCPU threads) and the other
 *   calls of a device may run concurrently on any threads; each device
 *   serializes them with its own lock. Attach/detach follow the rules of
 *   libvm_io_register()/libvm_io_unregister().
 * - Interrupts go through libvm_irq_set() on the device's VM. Without an
 *   in-kernel irqchip the line changes are dropped silently, so polling
 *   guests keep working.
 *
 * Unclaimed ports: libvm_vcpu_run() returns LIBVM_EXIT_IO for a port no
 * device claims; the guest's read then already sees all-ones and a write
 * has no effect, so a launcher that wants the PC behaviour ("nothing on the
 * bus") simply runs the vCPU again on LIBVM_EXIT_IO (see docs/devices.md).
 */
#ifndef LIBVM_DEVICES_H
#define LIBVM_DEVICES_H

#include <libvm/libvm.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* 16550A UART                                                         */
/* ------------------------------------------------------------------ */

typedef struct libvm_uart libvm_uart;

/**
 * libvm_uart_output_fn - receives the bytes the guest transmits.
 * @data:   the bytes (borrowed for the duration of the call).
 * @len:    their number (currently always 1).
 * @opaque: the options' @output_opaque.
 *
 * Called on the vCPU thread with the UART's lock held: it must not call
 * back into the same UART. It should not block for long (the vCPU waits).
 */
typedef void (*libvm_uart_output_fn)(const uint8_t *data, size_t len, void *opaque);

/**
 * struct libvm_uart_options - a 16550A serial port.
 * @size:          sizeof(struct libvm_uart_options); set by the INIT macro.
 * @port:          first of its 8 I/O ports; 0 means 0x3f8 (COM1).
 * @irq:           ISA IRQ / GSI it raises, 1 .. 23; 0 means 4; -1 none.
 * @output_fd:     file descriptor that receives transmitted bytes, or -1
 *                 (the default; 0 is fd 0, not the default).
 *                 Not owned (never closed). A pipe or socket whose reader
 *                 went away does not raise SIGPIPE; output stops instead.
 * @input_fd:      file descriptor whose bytes the guest receives, or -1
 *                 (the default; 0 is stdin).
 *                 Not owned. Read without blocking whenever the guest looks
 *                 at the receiver and by libvm_uart_poll_input(); end of
 *                 file stops the reading.
 * @output:        callback for transmitted bytes, or NULL. At most one of
 *                 @output and @output_fd may be given; with neither, output
 *                 is discarded.
 * @output_opaque: passed to @output.
 */
typedef struct libvm_uart_options {
	size_t size;
	uint16_t port;
	uint16_t reserved0;
	int32_t irq;
	int32_t output_fd;
	int32_t input_fd;
	uint32_t reserved1;
	libvm_uart_output_fn output;
	void *output_opaque;
} libvm_uart_options;

#define LIBVM_UART_OPTIONS_INIT                                                     \
	LIBVM__OPTIONS_INIT_WITH(libvm_uart_options, libvm_uart_options_init,       \
				 .output_fd = -1, .input_fd = -1)

/** libvm_uart_options_init() - the defaults; see libvm_vm_options_init(). */
LIBVM_EXPORT int libvm_uart_options_init(libvm_uart_options *opts, size_t size);

/**
 * libvm_uart_attach() - add a 16550A UART to @vm.
 * @out:  receives the UART; the caller owns it (libvm_uart_detach()).
 * @vm:   the VM.
 * @opts: options, or NULL for COM1 (0x3f8, IRQ 4) with output discarded.
 *
 * Returns: as the common rules say; -EINVAL also for a port range past
 * 0xffff, an IRQ outside -1..23, or both @output and @output_fd given.
 */
LIBVM_EXPORT int libvm_uart_attach(libvm_uart **out, libvm_vm *vm,
				   const libvm_uart_options *opts);

/** libvm_uart_detach() - remove and free the UART (see the common rules). */
LIBVM_EXPORT void libvm_uart_detach(libvm_uart *uart);

/**
 * libvm_uart_input() - hand bytes to the guest's receiver.
 * @uart: the UART.
 * @data: the bytes.
 * @len:  their number.
 *
 * Takes as many as the receive FIFO has room for (16, or 1 with the FIFO
 * disabled) and raises the receive interrupt if the guest enabled it;
 * nothing is ever dropped silently: offer the rest again later.
 * Thread: any. Returns: the number of bytes taken (0 .. 16), or -EINVAL.
 */
LIBVM_EXPORT int libvm_uart_input(libvm_uart *uart, const void *data, size_t len);

/**
 * libvm_uart_poll_input() - move bytes waiting on @input_fd into the FIFO.
 *
 * For interrupt-driven guests: call it from your event loop when @input_fd
 * is readable, so the receive interrupt arrives without the guest looking.
 * Never blocks. Thread: any.
 * Returns: the number of bytes taken; 0 when nothing is waiting, the FIFO is
 * full, there is no input fd or it reached end of file; -EINVAL for NULL;
 * a negative errno when reading failed.
 */
LIBVM_EXPORT int libvm_uart_poll_input(libvm_uart *uart);

/* ------------------------------------------------------------------ */
/* Test exit device (QEMU isa-debug-exit)                              */
/* ------------------------------------------------------------------ */

typedef struct libvm_debugexit libvm_debugexit;

/**
 * struct libvm_debugexit_options - the test exit device.
 * @size:  sizeof(struct libvm_debugexit_options); set by the INIT macro.
 * @port:  first port; 0 means 0xf4.
 * @width: number of ports it claims, 1, 2 or 4; 0 means 4.
 *
 * A guest write of value v (the bytes written, little-endian) to any of its
 * ports ends the run: libvm_vcpu_run() returns 0 with reason
 * LIBVM_EXIT_GUEST_EXIT and exit->end.code = (v << 1) | 1, so a status is
 * always odd and never 0. Reads return 0.
 */
typedef struct libvm_debugexit_options {
	size_t size;
	uint16_t port;
	uint16_t width;
	uint32_t reserved0;
} libvm_debugexit_options;

#define LIBVM_DEBUGEXIT_OPTIONS_INIT \
	LIBVM__OPTIONS_INIT(libvm_debugexit_options, libvm_debugexit_options_init)

/** libvm_debugexit_options_init() - the defaults; see libvm_vm_options_init(). */
LIBVM_EXPORT int libvm_debugexit_options_init(libvm_debugexit_options *opts, size_t size);

/**
 * libvm_debugexit_attach() - add the test exit device to @vm.
 * Returns: as the common rules say; -EINVAL also for a width other than 0,
 * 1, 2 or 4 or a range past port 0xffff.
 */
LIBVM_EXPORT int libvm_debugexit_attach(libvm_debugexit **out, libvm_vm *vm,
					const libvm_debugexit_options *opts);

/** libvm_debugexit_detach() - remove and free the device. */
LIBVM_EXPORT void libvm_debugexit_detach(libvm_debugexit *dev);

/* ------------------------------------------------------------------ */
/* fw_cfg (QEMU firmware configuration, traditional I/O interface)     */
/* ------------------------------------------------------------------ */

typedef struct libvm_fwcfg libvm_fwcfg;

/**
 * struct libvm_fwcfg_options - the fw_cfg device.
 * @size:     sizeof(struct libvm_fwcfg_options); set by the INIT macro.
 * @port:     selector port (16-bit); the data port is @port + 1; 0 means
 *            0x510 (data 0x511).
 * @nb_cpus:  FW_CFG_NB_CPUS. Required (1 or more; 0 is refused, there is
 *            no default): pass the number of vCPUs the launcher creates
 *            and starts. Test kernels wait for exactly this many
 *            processors to come up, so it must be the real count.
 * @max_cpus: FW_CFG_MAX_CPUS; 0 means @nb_cpus. Must not be below @nb_cpus.
 * @ram_size: FW_CFG_RAM_SIZE in bytes (all guest RAM, below and above 4 GiB).
 * @cmdline:  kernel command line for FW_CFG_CMDLINE_SIZE/_DATA (copied), or
 *            NULL for none (size 0).
 *
 * Signature "QEMU" and ID 1 (traditional interface; no DMA interface).
 */
typedef struct libvm_fwcfg_options {
	size_t size;
	uint16_t port;
	uint16_t nb_cpus;
	uint16_t max_cpus;
	uint16_t reserved0;
	uint64_t ram_size;
	const char *cmdline;
} libvm_fwcfg_options;

#define LIBVM_FWCFG_OPTIONS_INIT LIBVM__OPTIONS_INIT(libvm_fwcfg_options, libvm_fwcfg_options_init)

/** libvm_fwcfg_options_init() - the defaults; see libvm_vm_options_init(). */
LIBVM_EXPORT int libvm_fwcfg_options_init(libvm_fwcfg_options *opts, size_t size);

/**
 * libvm_fwcfg_attach() - add fw_cfg to @vm.
 * @out:  receives the device; the caller owns it (libvm_fwcfg_detach()).
 * @vm:   the VM.
 * @opts: options; required, since @nb_cpus has no default.
 * Returns: as the common rules say; -EINVAL also for NULL @opts, @nb_cpus 0,
 * @max_cpus below @nb_cpus, or a command line longer than 1 MiB.
 */
LIBVM_EXPORT int libvm_fwcfg_attach(libvm_fwcfg **out, libvm_vm *vm,
				    const libvm_fwcfg_options *opts);

/** libvm_fwcfg_detach() - remove and free the device and its files. */
LIBVM_EXPORT void libvm_fwcfg_detach(libvm_fwcfg *fwcfg);

/**
 * libvm_fwcfg_add_file() - publish a named blob in the file directory.
 * @fwcfg: the device.
 * @name:  the file name, e.g. "etc/test-config"; 1 to 55 bytes (copied).
 * @data:  the contents (copied); may be NULL when @len is 0.
 * @len:   their size, below 4 GiB.
 *
 * The file gets the next free selector from 0x0020 on, in the order files
 * are added; the directory (selector 0x0019) lists them sorted by name.
 * Best called before the guest starts. Thread: any.
 * Returns: 0; -EINVAL for bad arguments; -EEXIST when @name exists;
 * -ENOSPC when all selectors are taken; -ENOMEM.
 */
LIBVM_EXPORT int libvm_fwcfg_add_file(libvm_fwcfg *fwcfg, const char *name, const void *data,
				      size_t len);

/* ------------------------------------------------------------------ */
/* i8042 keyboard controller                                           */
/* ------------------------------------------------------------------ */

typedef struct libvm_i8042 libvm_i8042;

/**
 * struct libvm_i8042_options - the PS/2 controller at ports 0x60/0x64.
 * @size: sizeof(struct libvm_i8042_options); set by the INIT macro.
 * @irq:  keyboard IRQ, 1 .. 23; 0 means 1; -1 none.
 * @aux_irq: mouse (AUX port) IRQ, 1 .. 23; 0 means 12; -1 none (since 0.2).
 *
 * Command 0xFE (and the other output-port pulses that drive the reset line,
 * or 0xD1 with bit 0 clear) ends the run with LIBVM_EXIT_RESET; the reset
 * itself is the caller's business. A keyboard without keys and a PS/2
 * mouse that never moves answer their commands; the AUX loopback (0xD3)
 * raises @aux_irq as on a PC. ACPI guests find both through the DSDT
 * devices libvm_acpi_isa_aml() writes (PNP0303, PNP0F13).
 */
typedef struct libvm_i8042_options {
	size_t size;
	int32_t irq;
	uint32_t reserved0;
	int32_t aux_irq;
	uint32_t reserved1;
} libvm_i8042_options;

#define LIBVM_I8042_OPTIONS_INIT LIBVM__OPTIONS_INIT(libvm_i8042_options, libvm_i8042_options_init)

/** libvm_i8042_options_init() - the defaults; see libvm_vm_options_init(). */
LIBVM_EXPORT int libvm_i8042_options_init(libvm_i8042_options *opts, size_t size);

/**
 * libvm_i8042_attach() - add the i8042 to @vm (ports 0x60 and 0x64).
 * Returns: as the common rules say; -EINVAL also for an IRQ outside -1..23.
 */
LIBVM_EXPORT int libvm_i8042_attach(libvm_i8042 **out, libvm_vm *vm,
				    const libvm_i8042_options *opts);

/** libvm_i8042_detach() - remove and free the controller. */
LIBVM_EXPORT void libvm_i8042_detach(libvm_i8042 *dev);

/* ------------------------------------------------------------------ */
/* CMOS RTC (MC146818) and NVRAM                                       */
/* ------------------------------------------------------------------ */

typedef struct libvm_rtc libvm_rtc;

/**
 * struct libvm_rtc_options - the CMOS clock at ports 0x70 (index) and 0x71.
 * @size:           sizeof(struct libvm_rtc_options); set by the INIT macro.
 * @ram_size:       guest RAM in bytes, for the memory-size bytes.
 * @ram_below_4g:   how much of @ram_size sits below 4 GiB (the rest is
 *                  counted above 4 GiB); 0 means min(@ram_size, 3 GiB).
 * @offset_seconds: added to the host's UTC time (e.g. the local time zone's
 *                  offset for guests that keep the RTC in local time).
 * @irq:            the RTC's IRQ, 1 .. 23; 0 means 8; -1 none (since 0.2).
 * @wake_fd:        a file descriptor (an eventfd, say) that gets an 8-byte 1
 *                  written each time an alarm interrupt fires: how a
 *                  launcher learns that a suspended guest's alarm went off
 *                  (since 0.2). 0 (the default) or -1: none. Not owned.
 *
 * The clock starts as the host's time plus @offset_seconds, in BCD and
 * 24-hour mode; a guest that sets it moves only its own offset. Update-
 * ended, alarm and periodic interrupts follow registers B and C of the
 * MC146818A; a thread per RTC times them.
 */
typedef struct libvm_rtc_options {
	size_t size;
	uint64_t ram_size;
	uint64_t ram_below_4g;
	int64_t offset_seconds;
	int32_t irq;
	int32_t wake_fd;
} libvm_rtc_options;

#define LIBVM_RTC_OPTIONS_INIT LIBVM__OPTIONS_INIT(libvm_rtc_options, libvm_rtc_options_init)

/** libvm_rtc_options_init() - the defaults; see libvm_vm_options_init(). */
LIBVM_EXPORT int libvm_rtc_options_init(libvm_rtc_options *opts, size_t size);

/**
 * libvm_rtc_attach() - add the RTC to @vm.
 * Returns: as the common rules say; -EINVAL also for @ram_below_4g above
 * 4 GiB or above @ram_size.
 */
LIBVM_EXPORT int libvm_rtc_attach(libvm_rtc **out, libvm_vm *vm, const libvm_rtc_options *opts);

/** libvm_rtc_detach() - remove and free the RTC. */
LIBVM_EXPORT void libvm_rtc_detach(libvm_rtc *rtc);

/**
 * libvm_rtc_alarm_pending() - has an alarm interrupt fired that the guest
 * has not taken? (Register C holds AF with AIE on in register B: the
 * guest has not read C since.) For a launcher whose guest went to sleep
 * (LIBVM_EXIT_SUSPEND): such an alarm is a pending wake event, and a PC
 * wakes at once. Ask after draining @wake_fd: an alarm then either shows
 * here or writes @wake_fd afterwards, never neither (since 0.2).
 * Thread: any. Returns: 1 or 0; -EINVAL for NULL; -EBADF after detach.
 */
LIBVM_EXPORT int libvm_rtc_alarm_pending(libvm_rtc *rtc);

/* ------------------------------------------------------------------ */
/* Port 0x80 (POST code sink)                                          */
/* ------------------------------------------------------------------ */

typedef struct libvm_port80 libvm_port80;

/**
 * struct libvm_port80_options - the POST-code port.
 * @size: sizeof(struct libvm_port80_options); set by the INIT macro.
 * @port: the port; 0 means 0x80.
 *
 * Writes are swallowed (Linux uses the port as an I/O delay) and the last
 * byte is kept; reads return 0xff, as on a bus where nothing answers.
 */
typedef struct libvm_port80_options {
	size_t size;
	uint16_t port;
	uint16_t reserved0;
	uint32_t reserved1;
} libvm_port80_options;

#define LIBVM_PORT80_OPTIONS_INIT \
	LIBVM__OPTIONS_INIT(libvm_port80_options, libvm_port80_options_init)

/** libvm_port80_options_init() - the defaults; see libvm_vm_options_init(). */
LIBVM_EXPORT int libvm_port80_options_init(libvm_port80_options *opts, size_t size);

/** libvm_port80_attach() - add the sink to @vm. Returns: as the common rules say. */
LIBVM_EXPORT int libvm_port80_attach(libvm_port80 **out, libvm_vm *vm,
				     const libvm_port80_options *opts);

/** libvm_port80_detach() - remove and free the sink. */
LIBVM_EXPORT void libvm_port80_detach(libvm_port80 *dev);

/**
 * libvm_port80_last() - the last byte the guest wrote (its last POST code).
 * Thread: any. Returns: 0 .. 255; -ENOENT when nothing was written yet;
 * -EINVAL for NULL.
 */
LIBVM_EXPORT int libvm_port80_last(libvm_port80 *dev);

/* ------------------------------------------------------------------ */
/* pc-testdev (QEMU's x86 test device)                                 */
/* ------------------------------------------------------------------ */

typedef struct libvm_testdev libvm_testdev;

/**
 * struct libvm_testdev_options - the test device kvm-unit-tests style
 * kernels use.
 * @size:      sizeof(struct libvm_testdev_options); set by the INIT macro.
 * @port:      4-byte scratch register; 0 means 0xe0. The 4-byte write
 *             sink follows at @port + 4.
 * @irq_port:  first of 24 one-byte ports: a write of v to @irq_port + n sets
 *             the level of ISA IRQ / GSI n to (v != 0); 0 means 0x2000.
 * @mmio_size: the size of a RAM-like MMIO window in bytes, at most 16 MiB;
 *             0 means 64 KiB. Served through exits; accesses of any width
 *             read back what was written.
 * @mmio_base: where the window lies; 0 means 0xff000000.
 * @flags:     LIBVM_TESTDEV_* flags.
 */
typedef struct libvm_testdev_options {
	size_t size;
	uint16_t port;
	uint16_t irq_port;
	uint32_t mmio_size;
	uint64_t mmio_base;
	uint32_t flags;
	uint32_t reserved0;
} libvm_testdev_options;

/* libvm_testdev_options.flags */
#define LIBVM_TESTDEV_NO_MMIO (1u << 0) /* leave the MMIO window out */

#define LIBVM_TESTDEV_OPTIONS_INIT \
	LIBVM__OPTIONS_INIT(libvm_testdev_options, libvm_testdev_options_init)

/** libvm_testdev_options_init() - the defaults; see libvm_vm_options_init(). */
LIBVM_EXPORT int libvm_testdev_options_init(libvm_testdev_options *opts, size_t size);

/**
 * libvm_testdev_attach() - add the pc-testdev to @vm.
 * Returns: as the common rules say; -EINVAL also for ranges past port
 * 0xffff or a window that is too large or wraps.
 */
LIBVM_EXPORT int libvm_testdev_attach(libvm_testdev **out, libvm_vm *vm,
				      const libvm_testdev_options *opts);

/** libvm_testdev_detach() - remove and free the device and its window. */
LIBVM_EXPORT void libvm_testdev_detach(libvm_testdev *dev);

/* ------------------------------------------------------------------ */
/* ACPI PM timer                                                       */
/* ------------------------------------------------------------------ */

typedef struct libvm_pmtimer libvm_pmtimer;

/**
 * struct libvm_pmtimer_options - the ACPI power-management timer.
 * @size: sizeof(struct libvm_pmtimer_options); set by the INIT macro.
 * @port: its 4-byte I/O block; 0 means 0x608 (QEMU q35's PM_TMR_BLK).
 * @bits: counter width, 24 or 32; 0 means 24. Must match the FADT's
 *        TMR_VAL_EXT flag (set for 32).
 *
 * Counts at 3.579545 MHz from 0 at attach time, from the host's monotonic
 * clock, and wraps at 2^@bits. Writes are ignored.
 */
typedef struct libvm_pmtimer_options {
	size_t size;
	uint16_t port;
	uint8_t bits;
	uint8_t reserved0;
	uint32_t reserved1;
} libvm_pmtimer_options;

#define LIBVM_PMTIMER_OPTIONS_INIT \
	LIBVM__OPTIONS_INIT(libvm_pmtimer_options, libvm_pmtimer_options_init)

/** libvm_pmtimer_options_init() - the defaults; see libvm_vm_options_init(). */
LIBVM_EXPORT int libvm_pmtimer_options_init(libvm_pmtimer_options *opts, size_t size);

/**
 * libvm_pmtimer_attach() - add the PM timer to @vm.
 * Returns: as the common rules say; -EINVAL also for @bits other than 0,
 * 24 or 32, or a block past port 0xffff.
 */
LIBVM_EXPORT int libvm_pmtimer_attach(libvm_pmtimer **out, libvm_vm *vm,
				      const libvm_pmtimer_options *opts);

/** libvm_pmtimer_detach() - remove and free the timer. */
LIBVM_EXPORT void libvm_pmtimer_detach(libvm_pmtimer *dev);

/* ------------------------------------------------------------------ */
/* ACPI PM1a event and control blocks (power off)                      */
/* ------------------------------------------------------------------ */

typedef struct libvm_acpipm libvm_acpipm;

/**
 * struct libvm_acpipm_options - the ACPI fixed power-management registers.
 * @size:     sizeof(struct libvm_acpipm_options); set by the INIT macro.
 * @evt_port: PM1a event block, 4 ports: PM1_STS, PM1_EN; 0 means 0x600
 *            (what libvm_acpi_build() puts in the FADT).
 * @cnt_port: PM1a control block, 2 ports: PM1_CNT; 0 means 0x604.
 * @s5_typ:   the SLP_TYP value of the soft-off state S5: what the DSDT's
 *            \_S5 package says, 1 .. 7; 0 means 5 (what
 *            libvm_pci_acpi_aml() writes). For a DSDT whose \_S5 says 0
 *            (PIIX4 style), set LIBVM_ACPIPM_S5_TYP_0 in @flags.
 * @flags:    LIBVM_ACPIPM_* flags.
 * @s3_typ:   the SLP_TYP of suspend to RAM (S3): what \_S3 says, 1 .. 7;
 *            0 means 1 (what libvm_acpi_isa_aml() writes), or none when
 *            @s5_typ is 1; LIBVM_ACPIPM_NO_S3 for none (since 0.2).
 *
 * A guest write to PM1_CNT with SLP_EN and SLP_TYP = @s5_typ (how an ACPI
 * OS powers off) ends the run: libvm_vcpu_run() returns 0 with reason
 * LIBVM_EXIT_POWEROFF and end.code 0. With SLP_TYP = @s3_typ it ends with
 * LIBVM_EXIT_SUSPEND (end.code 3): the guest's memory stays as it is, and
 * the launcher wakes it when it likes (docs/devices.md, "ACPI S3"): call
 * libvm_acpipm_wake(), reset the vCPUs (libvm_vcpu_reset()) and start the
 * boot vCPU at the FACS waking vector (libvm_acpi_waking_vector()).
 * Other sleep types are ignored. SCI_EN reads 1; PM1_STS bits are
 * write-one-to-clear, set only by libvm_acpipm_wake().
 */
typedef struct libvm_acpipm_options {
	size_t size;
	uint16_t evt_port;
	uint16_t cnt_port;
	uint8_t s5_typ;
	uint8_t flags;
	uint8_t s3_typ;
	uint8_t reserved0;
} libvm_acpipm_options;

/* libvm_acpipm_options.s3_typ: no S3 */
#define LIBVM_ACPIPM_NO_S3 0xff

/* libvm_acpipm_options.flags */
#define LIBVM_ACPIPM_S5_TYP_0 (1u << 0) /* S5's SLP_TYP is 0 (@s5_typ must be 0) */

#define LIBVM_ACPIPM_OPTIONS_INIT \
	LIBVM__OPTIONS_INIT(libvm_acpipm_options, libvm_acpipm_options_init)

/** libvm_acpipm_options_init() - the defaults; see libvm_vm_options_init(). */
LIBVM_EXPORT int libvm_acpipm_options_init(libvm_acpipm_options *opts, size_t size);

/**
 * libvm_acpipm_attach() - add the PM1a blocks to @vm.
 * Returns: as the common rules say; -EINVAL also for blocks past port
 * 0xffff, @s5_typ above 7, unknown @flags, LIBVM_ACPIPM_S5_TYP_0 with
 * an @s5_typ, or an @s3_typ above 7 or equal to @s5_typ.
 */
LIBVM_EXPORT int libvm_acpipm_attach(libvm_acpipm **out, libvm_vm *vm,
				     const libvm_acpipm_options *opts);

#define LIBVM_ACPIPM_WAKE_RTC (1u << 0) /* the RTC alarm woke it: RTC_STS too */

/**
 * libvm_acpipm_wake() - the platform wakes from a sleep state: set WAK_STS
 * in PM1_STS (and RTC_STS with LIBVM_ACPIPM_WAKE_RTC), which the guest's
 * resume code reads and clears. Thread: any.
 * Returns: 0; -EINVAL for NULL or unknown flags; -EBADF for a detached device.
 */
LIBVM_EXPORT int libvm_acpipm_wake(libvm_acpipm *pm, uint32_t flags);

/** libvm_acpipm_detach() - remove and free the device. */
LIBVM_EXPORT void libvm_acpipm_detach(libvm_acpipm *pm);

#ifdef __cplusplus
}
#endif

#endif /* LIBVM_DEVICES_H */
