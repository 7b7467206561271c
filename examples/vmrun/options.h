/* SPDX-License-Identifier: MIT */
/*
 * vmrun's command line: what the user asked for, parsed and checked.
 */
#ifndef VMRUN_OPTIONS_H
#define VMRUN_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
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
	VMRUN_STATUS_SNAPSHOT = 10,    /* a snapshot was taken and vmrun was asked to end */
	VMRUN_STATUS_MIGRATED = 12,    /* the VM moved to another vmrun, which took it over */
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

	/* Snapshots and migration (these are not saved with the VM). */
	const char *snapshot;    /* SIGUSR1/SIGUSR2 write it, or NULL */
	const char *restore;     /* start from this snapshot, or NULL */
	const char *incoming;    /* [HOST:]PORT: start from a migration received there */
	const char *control;     /* the control socket's path, or NULL */
};

/*
 * Fill @o from argv. Returns -1 to go on, or an exit status to end with
 * (0 after --help/--version, VMRUN_STATUS_ERROR after a usage error).
 * With --restore or --incoming no KERNEL is needed (the snapshot says it).
 */
int vmrun_parse_options(struct vmrun_options *o, int argc, char **argv);

/*
 * The options that make the machine (memory, vCPUs, kernel and format,
 * command line, modules, devices), as arguments vmrun_parse_options()
 * reads back: what vmrun saves with a snapshot. Without disks or modules
 * when @no_disks / @no_modules (the new command line gives its own).
 * Returns a NULL-terminated array of malloc'ed strings (*n of them), or
 * NULL when out of memory. vmrun_free_args() frees it.
 */
char **vmrun_machine_args(const struct vmrun_options *o, bool no_disks, bool no_modules, int *n);
void vmrun_free_args(char **args);

#endif
