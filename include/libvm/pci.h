/* SPDX-License-Identifier: MIT */
/*
 * libvm PCI: a host bridge with configuration mechanism #1 (ports
 * 0xcf8/0xcfc, PCI Local Bus 3.0, 3.2.2.3.2) serving bus 0, and the
 * interface through which a device -- libvm's virtio devices or an
 * embedder's own -- plugs into it: a type 0 configuration header built from
 * options, 32-bit memory BARs placed by the bus in its MMIO window, INTx
 * routed to IOAPIC pins, MSI-X (table and PBA kept by the bus, messages sent
 * through the in-kernel irqchip: an MSI route and irqfd per vector where
 * the VM has them, else libvm_msi_send()) and capabilities of the device's
 * own.
 *
 * Guest view: device 00.0 is the host bridge (class 06 00 00). Other
 * devices take slots 1-31, function 0 only. BARs are assigned at add time,
 * in slot order, from the MMIO window, with memory decoding left off for
 * the guest to enable (Linux keeps firmware assignments inside the host
 * bridge's _CRS window). The bus claims the whole window once, so a guest
 * that moves a BAR inside the window is served at the new place; a BAR
 * moved outside it is not reachable. INTx pin P (1 = INTA) of slot S
 * raises GSI irq_base + ((S + P - 1) mod 4), level-triggered, as the _PRT
 * from libvm_pci_acpi_aml() says.
 *
 * Thread rules: guest accesses (on vCPU threads) and the calls below may
 * run concurrently; the bus serializes configuration space and MSI-X
 * state with its own lock. BAR callbacks run on the vCPU thread without
 * that lock held: a device serializes its own state. Adding and removing
 * devices follows the rules of libvm_io_register() and must not race with
 * running vCPUs (do it before the guest starts or after it stopped).
 * Errors: 0 or a negative errno, with libvm_error_message() saying what.
 */
#ifndef LIBVM_PCI_H
#define LIBVM_PCI_H

#include <libvm/libvm.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct libvm_pci_bus libvm_pci_bus;
typedef struct libvm_pci_dev libvm_pci_dev;

/**
 * struct libvm_pci_bus_options - the host bridge.
 * @size:      sizeof(struct libvm_pci_bus_options); set by the INIT macro.
 * @port:      the CONFIG_ADDRESS port; CONFIG_DATA is @port + 4; 0 means
 *             0xcf8.
 * @irq_base:  first of the four GSIs INTA-INTD are swizzled onto, 1 .. 20;
 *             0 means 16 (the IOAPIC pins above the ISA ones).
 * @mmio_base: start of the window BARs are placed in, 4 KiB aligned, below
 *             4 GiB; 0 means 0xc0000000 (right above 3 GiB of low RAM).
 * @mmio_size: its size; 0 means 0x20000000 (512 MiB). The window must end
 *             at or below 4 GiB and must not overlap RAM.
 */
typedef struct libvm_pci_bus_options {
	size_t size;
	uint16_t port;
	uint8_t irq_base;
	uint8_t reserved0;
	uint32_t reserved1;
	uint64_t mmio_base;
	uint64_t mmio_size;
} libvm_pci_bus_options;

#define LIBVM_PCI_BUS_OPTIONS_INIT \
	LIBVM__OPTIONS_INIT(libvm_pci_bus_options, libvm_pci_bus_options_init)

/** libvm_pci_bus_options_init() - the defaults; see libvm_vm_options_init(). */
LIBVM_EXPORT int libvm_pci_bus_options_init(libvm_pci_bus_options *opts, size_t size);

/**
 * libvm_pci_bus_attach() - add a PCI host bridge and bus 0 to @vm.
 * @out:  receives the bus; the caller owns it (libvm_pci_bus_detach()).
 * @vm:   the VM.
 * @opts: options, or NULL for the defaults.
 *
 * Claims ports @port .. @port + 7 and the MMIO window; the I/O window
 * for I/O BARs (ports 0xc000-0xffff) only once a device with an I/O BAR
 * is added (libvm_pci_dev_add()). Thread: any.
 * Returns: 0; -EINVAL for bad options; -EEXIST when a range is taken;
 * -EDEADLK from a handler; -ENOMEM.
 */
LIBVM_EXPORT int libvm_pci_bus_attach(libvm_pci_bus **out, libvm_vm *vm,
				      const libvm_pci_bus_options *opts);

/**
 * libvm_pci_bus_detach() - remove the bus with every device still on it.
 * NULL is a no-op. Devices added to it must not be used afterwards. A bus
 * still attached when its VM is destroyed is detached by the VM (after the
 * devices attached later, such as virtio devices, are released).
 */
LIBVM_EXPORT void libvm_pci_bus_detach(libvm_pci_bus *bus);

/** libvm_pci_bus_vm() - the VM of a bus (borrowed; NULL for NULL). */
LIBVM_EXPORT libvm_vm *libvm_pci_bus_vm(const libvm_pci_bus *bus);

/**
 * libvm_pci_acpi_aml() - AML for the DSDT describing this bus.
 * @bus: the bus.
 * @buf: where the AML goes, or NULL to ask for the length.
 * @len: in: capacity of @buf; out: the AML's length.
 *
 * The AML declares \_SB.PCI0 (PNP0A03, _UID 0, _BBN 0, a _CRS with bus 0,
 * the configuration ports, the rest of the I/O space and the MMIO window,
 * and a _PRT routing INTA-INTD of slots 1-31 to the GSIs above) and \_S5
 * (SLP_TYP 5, what libvm_acpipm_attach() expects by default). Pass it as
 * libvm_acpi_options.dsdt_aml so that an ACPI OS finds the bus (Linux looks
 * for PCI host bridges only in the DSDT when ACPI is present) and can power
 * off. Thread: any.
 * Returns: 0; -E2BIG when @buf is too small (@len then holds the size
 * needed); -EINVAL for NULL @bus or @len.
 */
LIBVM_EXPORT int libvm_pci_acpi_aml(libvm_pci_bus *bus, void *buf, size_t *len);

/**
 * libvm_pci_bar_fn - a guest access to one of a device's BARs (memory or I/O).
 * @dev:      the device.
 * @bar:      the BAR number, 0 .. 5.
 * @offset:   the offset inside the BAR.
 * @data:     @len bytes, little-endian: the value written, or the buffer
 *            for a read (preset to all-ones).
 * @len:      1, 2, 4 or 8.
 * @is_write: true for a guest write.
 * @opaque:   the options' @opaque.
 *
 * Runs on a vCPU thread without the bus lock; it may call
 * libvm_pci_dev_set_irq() and libvm_pci_dev_msix_notify(). Accesses to the
 * MSI-X table and PBA never reach it. Returns: 0, or a negative errno that
 * ends the vCPU's run (see libvm_io_fn).
 */
typedef int (*libvm_pci_bar_fn)(libvm_pci_dev *dev, uint32_t bar, uint64_t offset, void *data,
				uint32_t len, bool is_write, void *opaque);

/**
 * struct libvm_pci_cap - a capability of the device's own (e.g. virtio's
 * vendor-specific ones).
 * @data: the capability's bytes: data[0] is the capability ID; data[1]
 *        (the next pointer) is filled in by the bus.
 * @len:  its length, 2 .. 64; the guest sees it read-only.
 */
typedef struct libvm_pci_cap {
	const void *data;
	uint32_t len;
	uint32_t reserved0;
} libvm_pci_cap;

/**
 * struct libvm_pci_dev_options - a PCI function on bus 0.
 * @size:          sizeof(struct libvm_pci_dev_options); set by the INIT macro.
 * @vendor_id, @device_id, @subsystem_vendor_id, @subsystem_id, @revision:
 *                 the identification registers.
 * @class_code:    base class << 16 | subclass << 8 | programming interface.
 * @slot:          the device number 1 .. 31, or 0 for the first free one.
 * @interrupt_pin: 0 for no INTx, 1 .. 4 for INTA .. INTD.
 * @bar_size:      size of each BAR: 0 for none; a 32-bit memory BAR is a
 *                 power of two from 4 KiB to 256 MiB, an I/O BAR (see
 *                 @bar_io) a power of two from 4 to 256 bytes.
 * @msix_vectors:  number of MSI-X vectors, 0 (none) .. 128. The table is at
 *                 offset 0 of BAR @msix_bar and the PBA at offset 0x800; that
 *                 BAR must be at least 4 KiB (it can be shared with the
 *                 device's registers from 0x1000 on).
 * @msix_bar:      the BAR holding them.
 * @caps:          @nr_caps capabilities (0 .. 8), chained after the MSI-X one.
 * @bar_fn:        the BAR access handler; required when a BAR is present.
 * @opaque:        passed to @bar_fn.
 * @name:          for messages (copied), or NULL.
 * @bar_io:        bit i set: BAR i is an I/O BAR, placed in the bus's I/O
 *                 window (ports 0xc000-0xffff) and decoded while the guest
 *                 has I/O Space on in the command register (since 0.2).
 */
typedef struct libvm_pci_dev_options {
	size_t size;
	uint16_t vendor_id;
	uint16_t device_id;
	uint16_t subsystem_vendor_id;
	uint16_t subsystem_id;
	uint32_t class_code;
	uint8_t revision;
	uint8_t slot;
	uint8_t interrupt_pin;
	uint8_t msix_bar;
	uint32_t bar_size[6];
	uint16_t msix_vectors;
	uint16_t reserved0;
	uint32_t nr_caps;
	const libvm_pci_cap *caps;
	libvm_pci_bar_fn bar_fn;
	void *opaque;
	const char *name;
	uint32_t bar_io;
	uint32_t reserved1;
} libvm_pci_dev_options;

#define LIBVM_PCI_DEV_OPTIONS_INIT \
	LIBVM__OPTIONS_INIT(libvm_pci_dev_options, libvm_pci_dev_options_init)

/** libvm_pci_dev_options_init() - the defaults; see libvm_vm_options_init(). */
LIBVM_EXPORT int libvm_pci_dev_options_init(libvm_pci_dev_options *opts, size_t size);

/**
 * libvm_pci_dev_add() - plug a device into @bus.
 * @out:  receives the device, owned by the bus; remove it with
 *        libvm_pci_dev_remove() or let libvm_pci_bus_detach() free it.
 * @bus:  the bus.
 * @opts: the device (required).
 *
 * Its BARs get addresses in the window right away. Thread: any, but see the
 * rules at the top. Returns: 0; -EINVAL for bad options; -EEXIST when
 * @slot is taken, or for the first I/O BAR when other devices hold ports
 * of the I/O window; -ENOSPC when no slot or not enough window is left;
 * -EDEADLK from a handler (first I/O BAR); -ENOMEM.
 */
LIBVM_EXPORT int libvm_pci_dev_add(libvm_pci_dev **out, libvm_pci_bus *bus,
				   const libvm_pci_dev_options *opts);

/**
 * libvm_pci_dev_remove() - unplug and free a device (not a hot-unplug the
 * guest is told about: do it while no vCPU runs). NULL is a no-op.
 */
LIBVM_EXPORT void libvm_pci_dev_remove(libvm_pci_dev *dev);

/** libvm_pci_dev_slot() - the device number (1 .. 31), or -EINVAL for NULL. */
LIBVM_EXPORT int libvm_pci_dev_slot(const libvm_pci_dev *dev);

/**
 * libvm_pci_dev_bar_addr() - where BAR @bar is now (the guest may move it).
 * Returns: the guest-physical address; 0 for no such BAR or NULL.
 */
LIBVM_EXPORT uint64_t libvm_pci_dev_bar_addr(libvm_pci_dev *dev, uint32_t bar);

/**
 * libvm_pci_dev_set_irq() - drive the device's INTx line.
 * @dev:   the device.
 * @level: true asserted. The line is level-triggered: keep it asserted
 *         until the guest acknowledged the device's condition.
 *
 * While the guest has set Interrupt Disable in the command register, the
 * pin stays deasserted (and is asserted again when it clears the bit).
 * Thread: any. Returns: 0; -EINVAL for NULL or a device without a pin.
 */
LIBVM_EXPORT int libvm_pci_dev_set_irq(libvm_pci_dev *dev, bool level);

/**
 * libvm_pci_dev_msix_enabled() - whether the guest enabled MSI-X (then
 * INTx is not used). Returns: 1, 0, or -EINVAL for NULL.
 */
LIBVM_EXPORT int libvm_pci_dev_msix_enabled(libvm_pci_dev *dev);

/**
 * libvm_pci_dev_msix_notify() - signal MSI-X vector @vector.
 *
 * Sends the message the guest programmed, or sets the vector's pending bit
 * while it or the function is masked (sent when unmasked; PCI 3.0, 6.8.2).
 * Where the VM has MSI routing and irqfd (LIBVM_CAP_MSI_ROUTING,
 * LIBVM_CAP_IRQFD), the bus keeps an MSI route and an eventfd for each
 * vector the guest has unmasked, made or updated when the guest programs
 * it, and sending is one eventfd write; otherwise, or when a vector's route
 * could not be made, libvm_msi_send(). The routes and eventfds go away
 * with the device. Thread: any. Returns: 0 (sent or pending); -ENOENT when
 * MSI-X is not enabled (use INTx then); -EINVAL for a vector out of range
 * or NULL; or the error of libvm_msi_send().
 */
LIBVM_EXPORT int libvm_pci_dev_msix_notify(libvm_pci_dev *dev, uint16_t vector);

/* ------------------------------------------------------------------ */
/* pci-testdev (QEMU's PCI test device, 1b36:0005)                     */
/* ------------------------------------------------------------------ */

typedef struct libvm_pci_testdev libvm_pci_testdev;

/**
 * libvm_pci_testdev_attach() - add the PCI test device kvm-unit-tests-style
 * kernels use: BAR 0 (4 KiB memory) and BAR 1 (256 I/O ports) each hold a
 * header at offset 0 (test select u8, width u8, offset u32 at 4, data u32
 * at 8, count u32 at 12, name at 16) and count the guest's writes of the
 * selected test's value to its offset. Tests: "no-eventfd" (writes exit
 * to the device), "wildcard-eventfd" and "datamatch-eventfd" (writes
 * signal an ioeventfd bound when the test is selected, where the backend
 * has ioeventfd; the device reads the eventfd to count). docs/devices.md.
 * @out:  receives the device; the caller owns it (libvm_pci_testdev_detach()),
 *        or the bus releases it when detached first.
 * @bus:  the bus.
 * @slot: 1 .. 31, or 0 for the first free slot.
 * Thread: any. Returns: 0; -EINVAL; -EEXIST or -ENOSPC from the bus; -ENOMEM.
 */
LIBVM_EXPORT int libvm_pci_testdev_attach(libvm_pci_testdev **out, libvm_pci_bus *bus,
					  uint32_t slot);

/** libvm_pci_testdev_detach() - remove and free the device (NULL: no-op). */
LIBVM_EXPORT void libvm_pci_testdev_detach(libvm_pci_testdev *dev);

#ifdef __cplusplus
}
#endif

#endif /* LIBVM_PCI_H */
