/* SPDX-License-Identifier: MIT */
/*
 * i8042 keyboard controller model: plain state and a pure access
 * function, no KVM. The keyboard IRQ goes through a hook.
 */
#ifndef LIBVM_DEV_I8042_H
#define LIBVM_DEV_I8042_H

#include <stdbool.h>
#include <stdint.h>

#define LIBVM__I8042_DATA 0   /* port 0x60 */
#define LIBVM__I8042_CMD 4    /* port 0x64: status on read, command on write */

#define LIBVM__I8042_STR_OBF 0x01
#define LIBVM__I8042_STR_IBF 0x02
#define LIBVM__I8042_STR_SYS 0x04
#define LIBVM__I8042_STR_CMD 0x08 /* last write went to the command port */
#define LIBVM__I8042_STR_UNLOCKED 0x10
#define LIBVM__I8042_STR_AUXDATA 0x20 /* the byte in the output buffer is the mouse's */

#define LIBVM__I8042_CTR_KBDINT 0x01
#define LIBVM__I8042_CTR_AUXINT 0x02
#define LIBVM__I8042_CTR_SYS 0x04
#define LIBVM__I8042_CTR_KBDDIS 0x10
#define LIBVM__I8042_CTR_AUXDIS 0x20
#define LIBVM__I8042_CTR_XLATE 0x40

#define LIBVM__I8042_QUEUE 16

struct libvm__i8042 {
	uint8_t ctr;          /* controller configuration ("command byte") */
	uint8_t outport;      /* output port: bit 0 is the CPU reset line (active low) */
	uint8_t status_cmd;   /* STR_CMD as last set */
	uint8_t pending_cmd;  /* controller command waiting for its data byte */
	uint8_t kbd_pending;  /* keyboard command waiting for its parameter */
	uint8_t scancode_set;
	uint8_t last_read;    /* data port value when the buffer is empty */
	uint8_t queue[LIBVM__I8042_QUEUE]; /* output buffer contents, in order */
	uint8_t from_aux[LIBVM__I8042_QUEUE]; /* 1: that byte came from the mouse */
	uint8_t head, count;
	bool irq_level;       /* keyboard line (IRQ 1) */
	bool aux_irq_level;   /* mouse line (IRQ 12) */
	/* The PS/2 mouse on the AUX port: a mouse that never moves. */
	uint8_t aux_pending;  /* mouse command waiting for its parameter */
	uint8_t aux_rate;     /* samples per second */
	uint8_t aux_resolution;
	bool aux_reporting;   /* data reporting enabled (0xf4) */
	bool aux_scaling21;
	bool aux_remote;

	void (*set_irq)(void *opaque, bool level);     /* keyboard IRQ; may be NULL */
	void (*set_aux_irq)(void *opaque, bool level); /* mouse IRQ; may be NULL */
	void *opaque;
};

/* Power-on state as firmware leaves it. Keeps the hooks. */
void libvm__i8042_reset(struct libvm__i8042 *k);

/*
 * A guest access at @offset LIBVM__I8042_DATA or LIBVM__I8042_CMD (one
 * byte; wider accesses use their first byte). Returns 1 when the access
 * pulses the CPU reset line (the caller reports a reset), else 0.
 */
int libvm__i8042_access(struct libvm__i8042 *k, uint32_t offset, void *data, uint32_t len,
			bool is_write);

#endif
