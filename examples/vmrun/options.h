/* SPDX-License-Identifier: MIT */
/*
 * vmrun's command line: what the user asked for, parsed and checked.
 */
#ifndef VMRUN_OPTIONS_H
#define VMRUN_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#define VMRUN_MAX_MODULES 64
#define VMRUN_MAX_DISKS 8

/* What Linux gets without --cmdline: the console on COM1, reboot on panic. */
#define VMRUN_LINUX_CMDLINE "console=ttyS0 panic=-1"

/* vmrun's own exit statuses. The guest's exit device gives odd ones. */
enum vmrun_status {
	VMRUN_STATUS_POWEROFF = 0,     /* the guest powered off */
	VMRUN_STATUS_RESET = 2,        /* the guest asked for a reset */
	VMRUN_STATUS_TRIPLE_FAULT = 4, /* shutdown exit (triple fault) */
	VMRUN_STATUS_CPU_ERROR = 6,    /* emulation failure, entry failure, ... */
	VMRUN_STATUS_HALTED = 8,       /* HLT with nothing left to wake the CPU */
	VMRUN_STATUS_TIMEOUT = 124,    /* --timeout expired */
	VMRUN_STATUS_ERROR = 126,      /* bad usage, unreadable kernel, setup failure */
	VMRUN_STATUS_QUIT = 130,       /* Ctrl-A x */
};

enum vmrun_format {
	VMRUN_FORMAT_AUTO,
	VMRUN_FORMAT_MULTIBOOT,
	VMRUN_FORMAT_ELF,
	VMRUN_FORMAT_FLAT,
	VMRUN_FORMAT_BZIMAGE,
};

struct vmrun_module {
	const char *path;
	const char *string; /* what the guest sees as the module's string */
};

struct vmrun_disk {
	const char *path;
	bool readonly;
};

struct vmrun_options {
	const char *kernel;
	uint64_t mem;            /* bytes */
	uint32_t smp;
	const char *cmdline;
	struct vmrun_module modules[VMRUN_MAX_MODULES];
	uint32_t nr_modules;
	const char *serial;      /* "stdio", "none" or a file */
	const char *device;      /* NULL: $LIBVM_DEVICE or /dev/kvm */
	double timeout;          /* seconds; 0 = none */
	enum vmrun_format format;
	uint64_t load_addr;      /* flat binaries */
	bool quiet;
	uint32_t verbose;        /* -v count: libvm's log from info (1) or debug (2) */
	struct vmrun_disk disks[VMRUN_MAX_DISKS]; /* virtio-blk, in PCI slot order */
	uint32_t nr_disks;
	const char *tap;         /* virtio-net on this tap, or NULL */
	bool rng;                /* virtio-rng */
	const char *cpu;         /* --cpu MODEL[,+feat][,-feat]..., or NULL (host) */
	bool pci_testdev;        /* --pci-testdev */
	uint32_t hyperv;         /* --hyperv: LIBVM_HV_* features, 0 for none */
	uint16_t gdb_port;       /* --gdb: the stub's TCP port, 0 for none */
	bool gdb_wait;           /* --gdb-wait: stopped at the first instruction */
};

/*
 * Fill @o from argv. Returns -1 to go on, or an exit status to end with
 * (0 after --help/--version, VMRUN_STATUS_ERROR after a usage error).
 */
int vmrun_parse_options(struct vmrun_options *o, int argc, char **argv);

#endif
