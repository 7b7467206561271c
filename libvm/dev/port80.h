/* SPDX-License-Identifier: MIT */
/*
 * Port 0x80 (POST code) sink model: plain state and a pure access
 * function, no KVM.
 */
#ifndef LIBVM_DEV_PORT80_H
#define LIBVM_DEV_PORT80_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct libvm__port80 {
	bool written;   /* a byte was written since attach */
	uint8_t last;   /* the last byte written */
};

/* Writes keep their first byte; reads return 0xff. Returns 0. */
int libvm__port80_access(struct libvm__port80 *p, uint32_t offset, void *data, uint32_t len,
			 bool is_write);

/* Saved state (docs/snapshot.md, "port80" version 1): the last byte. */
#define LIBVM__PORT80_STATE_VERSION 1
struct libvm_state_writer;
void libvm__port80_save(const struct libvm__port80 *p, struct libvm_state_writer *w);
int libvm__port80_load(struct libvm__port80 *p, const void *data, size_t len, uint32_t version);

#endif
