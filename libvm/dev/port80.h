/* SPDX-License-Identifier: MIT */
/*
 * Port 0x80 (POST code) sink model: plain state and a pure access
 * function, no KVM.
 */
#ifndef LIBVM_DEV_PORT80_H
#define LIBVM_DEV_PORT80_H

#include <stdbool.h>
#include <stdint.h>

struct libvm__port80 {
	bool written;   /* a byte was written since attach */
	uint8_t last;   /* the last byte written */
};

/* Writes keep their first byte; reads return 0xff. Returns 0. */
int libvm__port80_access(struct libvm__port80 *p, uint32_t offset, void *data, uint32_t len,
			 bool is_write);

#endif
