/* SPDX-License-Identifier: MIT */
/*
 * The "machine" section of a snapshot (machine.c): what a VM is built of,
 * described from a live VM, encoded, decoded from a stream, and compared
 * with the VM a snapshot is to be restored into.
 */
#ifndef LIBVM_SNAPSHOT_MACHINE_H
#define LIBVM_SNAPSHOT_MACHINE_H

#include <libvm/snapshot.h>

#include "../internal.h"

#define LIBVM__MACHINE_VERSION 1

struct libvm__mregion {
	uint64_t gpa, length;
	uint32_t flags;
};

struct libvm__mvcpu {
	uint32_t id;
	uint32_t ncpuid;
	libvm_cpuid_entry *cpuid;
};

struct libvm__mdev {
	char name[LIBVM_STATE_NAME_MAX];
	uint32_t version;
};

struct libvm__machine {
	uint32_t nr_regions;
	struct libvm__mregion *regions;  /* ascending address */
	uint32_t nr_vcpus;
	struct libvm__mvcpu *vcpus;      /* ascending id */
	uint32_t vm_flags;
	uint32_t nr_devices;
	struct libvm__mdev *devices;     /* registration order */
};

struct libvm_state_writer;

int libvm__machine_describe(libvm_vm *vm, struct libvm__machine *m);
void libvm__machine_encode(const struct libvm__machine *m, struct libvm_state_writer *w);
/* -EBADMSG for a malformed description (message set). */
int libvm__machine_decode(struct libvm__machine *m, const void *p, size_t len);
/*
 * Does @saved (from a snapshot) fit @here (described from @vm)? 0; -EINVAL
 * with what differs; -ENOTSUP for a device state version @vm cannot read.
 */
int libvm__machine_compare(const struct libvm__machine *saved, const struct libvm__machine *here,
			   libvm_vm *vm);
void libvm__machine_free(struct libvm__machine *m);

#endif
