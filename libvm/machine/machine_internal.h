/* SPDX-License-Identifier: MIT */
/*
 * The PC machine's state, shared by pc.c (layout, devices, tables, vCPUs)
 * and kernel.c (reading and loading the kernel and its modules).
 */
#ifndef LIBVM_MACHINE_INTERNAL_H
#define LIBVM_MACHINE_INTERNAL_H

#include <libvm/machine.h>

struct libvm_machine {
	uint32_t magic;
	libvm_vm *vm;
	bool irqchip;
	uint32_t nr_vcpus;
	libvm_vcpu **vcpus;

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
	libvm_virtio_blk **disks;
	libvm_virtio_net **nets;
	libvm_virtio_console **consoles;
	uint32_t nr_disks, nr_nets, nr_consoles;
	libvm_virtio_rng *rng;
	libvm_pci_testdev *pci_testdev;
	int rtc_wake_fd;          /* the RTC alarm's eventfd, -1 without an RTC */

	/* The kernel: its bytes while it is being loaded (kernel.c), then
	 * only what the parts report. */
	bool has_kernel;
	uint32_t kernel_format;   /* LIBVM_FORMAT_* detected or forced */
	const void *image;
	size_t image_size;
	bool image_mapped;        /* mmap()ed from kernel_path: munmap */
	char *cmdline;            /* the command line in effect (copied) */
	uint64_t rsdp, mptable;
	libvm_boot boot;
};

/* kernel.c: read the kernel (file or memory), decide its format and the
 * command line; load it with its modules once the machine exists; let go
 * of the file. */
int libvm__machine_kernel_open(libvm_machine *m, const libvm_machine_options *o);
int libvm__machine_kernel_load(libvm_machine *m, const libvm_machine_options *o);
void libvm__machine_kernel_fini(libvm_machine *m);

/* pc.c: -err with "machine: <step>: <the part's message>". */
int libvm__machine_fail(int err, const char *step);

#endif
