/* SPDX-License-Identifier: MIT */
/*
 * The PC-like machine vmrun builds from libvm's pieces: RAM, the in-kernel
 * irqchip, the built-in devices, ACPI and MP tables, the kernel, vCPUs.
 */
#ifndef VMRUN_MACHINE_H
#define VMRUN_MACHINE_H

#include <libvm/cpu.h>
#include <libvm/devices.h>
#include <libvm/libvm.h>
#include <libvm/load.h>
#include <libvm/pci.h>
#include <libvm/virtio.h>

#include "options.h"

struct machine {
	libvm_vm *vm;
	libvm_vcpu *vcpus[256];
	uint32_t nr_vcpus;
	bool irqchip;
	int serial_fd;    /* -1, stdout, or an opened file */
	bool serial_owned;

	libvm_uart *uart;
	libvm_debugexit *debugexit;
	libvm_fwcfg *fwcfg;
	libvm_i8042 *i8042;
	libvm_rtc *rtc;
	libvm_port80 *port80;
	libvm_testdev *testdev;
	libvm_pmtimer *pmtimer;
	libvm_acpipm *acpipm;
	libvm_pci_bus *pci;          /* for Linux kernels and virtio devices */
	libvm_virtio_blk *disks[VMRUN_MAX_DISKS];
	libvm_virtio_net *net;
	libvm_virtio_rng *rng;
	libvm_pci_testdev *pci_testdev;
	int rtc_wake_fd;             /* eventfd the RTC writes at an alarm interrupt */
	int kernel_format;           /* LIBVM_FORMAT_* of the kernel file */
	uint64_t rsdp;
	libvm_boot boot;
};

/* Build everything; on failure prints why and returns a negative errno. */
int machine_build(struct machine *m, const struct vmrun_options *o);
/*
 * Wake a guest that suspended to RAM (S3), the firmware's part: PM1_STS's
 * wake bits, every vCPU reset (the APs waiting for SIPI), the boot vCPU at
 * the FACS waking vector. @by_rtc: the RTC alarm woke it. 0 or -errno.
 */
int machine_resume(struct machine *m, bool by_rtc);
/* Print a vCPU's registers to stderr (after an emulation failure). */
void machine_dump_vcpu(struct machine *m, uint32_t id);
void machine_destroy(struct machine *m);

#endif
