/* SPDX-License-Identifier: MIT */
/*
 * pc-testdev model (QEMU's x86 test device): plain state and pure access
 * functions, no KVM. The IRQ ports call a hook.
 */
#ifndef LIBVM_DEV_TESTDEV_H
#define LIBVM_DEV_TESTDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LIBVM__TESTDEV_IRQS 24          /* ports irq_port + 0 .. 23 */
#define LIBVM__TESTDEV_MMIO_MAX (16u << 20)

struct libvm__testdev {
	uint32_t scratch;        /* the 4-byte register at port + 0 */
	uint8_t *iomem;          /* the RAM-like window, iomem_size bytes */
	uint32_t iomem_size;
	uint32_t irq_levels;     /* bit n: the level port n last set */
	void (*set_irq)(void *opaque, uint32_t irq, bool level);
	void *opaque;
};

/* Scratch register at @offset 0..3; byte-addressable, little-endian. */
int libvm__testdev_scratch(struct libvm__testdev *t, uint32_t offset, void *data, uint32_t len,
			   bool is_write);

/* Write sink at port + 4 (@offset 0..3): writes vanish, reads give 0. */
int libvm__testdev_sink(struct libvm__testdev *t, uint32_t offset, void *data, uint32_t len,
			bool is_write);

/* IRQ line port @n: a write of v sets line n to (v != 0); reads give 0. */
int libvm__testdev_irq(struct libvm__testdev *t, uint32_t n, void *data, uint32_t len,
		       bool is_write);

/* The MMIO window at @offset: plain memory; bytes past its end read as
 * all-ones and ignore writes. */
int libvm__testdev_iomem(struct libvm__testdev *t, uint64_t offset, void *data, uint32_t len,
			 bool is_write);

/*
 * Saved state (docs/snapshot.md, "pc-testdev" version 1): the scratch
 * register, the IRQ levels the guest set (driven again on load) and the
 * MMIO window's contents; a window of another size refuses the state.
 */
#define LIBVM__TESTDEV_STATE_VERSION 1
struct libvm_state_writer;
void libvm__testdev_save(const struct libvm__testdev *t, struct libvm_state_writer *w);
int libvm__testdev_load(struct libvm__testdev *t, const void *data, size_t len, uint32_t version);

#endif
