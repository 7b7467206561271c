/* SPDX-License-Identifier: MIT */
/*
 * What snapshots (snapshot.c) and live migration (migrate.c) share: the
 * writing of a stream's parts, and the handle a receiver reads with.
 */
#ifndef LIBVM_SNAPSHOT_INTERNAL_H
#define LIBVM_SNAPSHOT_INTERNAL_H

#include <libvm/snapshot.h>

#include "../internal.h"
#include "machine.h"
#include "ram.h"
#include "stream.h"

#define LIBVM__SNAP_APP_MAX (16u << 20)

/* The migration's answer: magic, status, message length, message, CRC. */
#define LIBVM__SNAP_ACK_MAGIC "LIBVMACK"
/* The receiver's word that its VM is built and it reads memory now: the
 * sender pauses only after it, so the pause does not wait for the build. */
#define LIBVM__SNAP_READY_MAGIC LIBVM__SNAP_READY_WORD

struct libvm_snapshot {
	uint32_t magic;
	int fd;
	struct libvm__sin in;
	uint32_t flags;           /* the header's */
	uint32_t writer_version;
	struct libvm__machine machine;
	uint8_t *app;
	size_t app_len;
	bool pending;             /* a section header read ahead, payload not yet */
	uint64_t sections;        /* read so far (for the end's count) */
	bool restored;
	bool acked;
};

/* Header, machine description and the application's bytes. */
int libvm__snap_write_head(struct libvm__sout *o, libvm_vm *vm, uint32_t flags, const void *app,
			   size_t app_len);
/* Every vCPU, the VM, every device. */
int libvm__snap_write_state(struct libvm__sout *o, libvm_vm *vm);
/* The end section, then flush. */
int libvm__snap_write_end(struct libvm__sout *o, uint64_t ram_pages);
/* Every vCPU idle? 0 or -EBUSY with the message. */
int libvm__snap_vcpus_idle(libvm_vm *vm, const char *fn);

#endif
