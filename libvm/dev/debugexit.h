/* SPDX-License-Identifier: MIT */
/*
 * Test exit device model (QEMU isa-debug-exit semantics): plain state and
 * a pure access function, no KVM.
 */
#ifndef LIBVM_DEV_DEBUGEXIT_H
#define LIBVM_DEV_DEBUGEXIT_H

#include <stdbool.h>
#include <stdint.h>

struct libvm__debugexit {
	uint32_t width;   /* ports claimed: 1, 2 or 4 */
	uint64_t code;    /* status of the last exit request */
};

/*
 * A guest access at @offset (0 .. width-1). A write of v (the @len bytes,
 * little-endian) returns 1 and sets ->code = (v << 1) | 1: the caller ends
 * the run with that status. Reads return 0 and have no effect (returns 0).
 */
int libvm__debugexit_access(struct libvm__debugexit *d, uint32_t offset, void *data,
			    uint32_t len, bool is_write);

#endif
