/* SPDX-License-Identifier: MIT */
/*
 * The *_options_init() functions: the INIT macros' values for callers that
 * cannot use the macros (language bindings, C++ before C++20). Each one
 * writes only the bytes the caller's struct has, so a program built
 * against an older, shorter struct keeps working with a newer library.
 */
#include <errno.h>
#include <string.h>

#include <libvm/debug.h>
#include <libvm/devices.h>
#include <libvm/load.h>
#include <libvm/machine.h>
#include <libvm/pci.h>
#include <libvm/virtio.h>

#include "internal.h"

static int options_init(void *opts, size_t size, const void *defaults, size_t full,
			const char *fn)
{
	if (!opts)
		return libvm__fail(-EINVAL, "%s: opts is NULL", fn);
	if (size < sizeof(size_t) || size > full)
		return libvm__fail(-EINVAL, "%s: size %zu is not in %zu..%zu (this library's struct)",
				   fn, size, sizeof(size_t), full);
	memcpy(opts, defaults, size);
	/* Every options struct starts with its size. */
	memcpy(opts, &size, sizeof(size));
	return 0;
}

#define OPTIONS_INIT(type, macro)                                                      \
	LIBVM_EXPORT int type##_init(type *opts, size_t size)                          \
	{                                                                              \
		static const type defaults = macro;                                    \
		return options_init(opts, size, &defaults, sizeof(defaults),           \
				    #type "_init");                                    \
	}

OPTIONS_INIT(libvm_vm_options, LIBVM_VM_OPTIONS_INIT)
OPTIONS_INIT(libvm_region_options, LIBVM_REGION_OPTIONS_INIT)
OPTIONS_INIT(libvm_vm_run_options, LIBVM_VM_RUN_OPTIONS_INIT)
OPTIONS_INIT(libvm_uart_options, LIBVM_UART_OPTIONS_INIT)
OPTIONS_INIT(libvm_debugexit_options, LIBVM_DEBUGEXIT_OPTIONS_INIT)
OPTIONS_INIT(libvm_fwcfg_options, LIBVM_FWCFG_OPTIONS_INIT)
OPTIONS_INIT(libvm_i8042_options, LIBVM_I8042_OPTIONS_INIT)
OPTIONS_INIT(libvm_rtc_options, LIBVM_RTC_OPTIONS_INIT)
OPTIONS_INIT(libvm_port80_options, LIBVM_PORT80_OPTIONS_INIT)
OPTIONS_INIT(libvm_testdev_options, LIBVM_TESTDEV_OPTIONS_INIT)
OPTIONS_INIT(libvm_pmtimer_options, LIBVM_PMTIMER_OPTIONS_INIT)
OPTIONS_INIT(libvm_acpipm_options, LIBVM_ACPIPM_OPTIONS_INIT)
OPTIONS_INIT(libvm_pci_bus_options, LIBVM_PCI_BUS_OPTIONS_INIT)
OPTIONS_INIT(libvm_pci_dev_options, LIBVM_PCI_DEV_OPTIONS_INIT)
OPTIONS_INIT(libvm_virtio_rng_options, LIBVM_VIRTIO_RNG_OPTIONS_INIT)
OPTIONS_INIT(libvm_virtio_blk_options, LIBVM_VIRTIO_BLK_OPTIONS_INIT)
OPTIONS_INIT(libvm_virtio_net_options, LIBVM_VIRTIO_NET_OPTIONS_INIT)
OPTIONS_INIT(libvm_virtio_console_options, LIBVM_VIRTIO_CONSOLE_OPTIONS_INIT)
OPTIONS_INIT(libvm_load_options, LIBVM_LOAD_OPTIONS_INIT)
OPTIONS_INIT(libvm_acpi_options, LIBVM_ACPI_OPTIONS_INIT)
OPTIONS_INIT(libvm_mptable_options, LIBVM_MPTABLE_OPTIONS_INIT)
OPTIONS_INIT(libvm_machine_options, LIBVM_MACHINE_OPTIONS_INIT)
OPTIONS_INIT(libvm_machine_parts, LIBVM_MACHINE_PARTS_INIT)
OPTIONS_INIT(libvm_debug_options, LIBVM_DEBUG_OPTIONS_INIT)
