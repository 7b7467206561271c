/* SPDX-License-Identifier: MIT */
/*
 * i8042 keyboard controller at ports 0x60 (data) and 0x64 (status and
 * command), after the IBM PC/AT technical reference and the commands
 * Linux's i8042 and atkbd drivers issue. Its job here is the reset line:
 * 0xFE (pulse output bit 0) is how Linux and most test kernels reboot.
 * Around it, enough of a controller that probing drivers get coherent
 * answers: the configuration byte, self tests, the output port, and a
 * keyboard with no keys that acknowledges its commands, and a PS/2 mouse
 * on the AUX port that never moves (the commands of the IBM PS/2 mouse
 * technical reference: reset, identify, status, rates, resolution,
 * reporting), with its own interrupt (IRQ 12), the AUX loopback command
 * 0xD3 that Linux uses to test that interrupt, and the AUXDATA status bit.
 * Commands complete at once, so IBF is never set.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "i8042.h"

/* The byte at the head of the output buffer raises the line of its
 * source, when the configuration byte enables that interrupt. */
static void update_irq(struct libvm__i8042 *k)
{
	bool aux = k->count && k->from_aux[k->head];
	bool level = k->count && !aux && (k->ctr & LIBVM__I8042_CTR_KBDINT);
	bool aux_level = aux && (k->ctr & LIBVM__I8042_CTR_AUXINT);

	if (level != k->irq_level) {
		k->irq_level = level;
		if (k->set_irq)
			k->set_irq(k->opaque, level);
	}
	if (aux_level != k->aux_irq_level) {
		k->aux_irq_level = aux_level;
		if (k->set_aux_irq)
			k->set_aux_irq(k->opaque, aux_level);
	}
}

static void push_from(struct libvm__i8042 *k, uint8_t byte, bool aux)
{
	uint8_t at;

	if (k->count == LIBVM__I8042_QUEUE)
		return; /* nothing reads it: drop, as the keyboard would */
	at = (uint8_t)((k->head + k->count) % LIBVM__I8042_QUEUE);
	k->queue[at] = byte;
	k->from_aux[at] = aux;
	k->count++;
	update_irq(k);
}

static void push(struct libvm__i8042 *k, uint8_t byte)
{
	push_from(k, byte, false);
}

static void aux_push(struct libvm__i8042 *k, uint8_t byte)
{
	push_from(k, byte, true);
}

static void aux_defaults(struct libvm__i8042 *k)
{
	k->aux_rate = 100;
	k->aux_resolution = 2; /* 4 counts/mm */
	k->aux_reporting = false;
	k->aux_scaling21 = false;
	k->aux_remote = false;
}

/* A byte for the mouse (command 0xD4 then the data port). */
static void aux_write(struct libvm__i8042 *k, uint8_t v)
{
	if (k->aux_pending) {
		uint8_t cmd = k->aux_pending;

		k->aux_pending = 0;
		if (cmd == 0xf3)
			k->aux_rate = v;
		else if (cmd == 0xe8)
			k->aux_resolution = v & 3;
		aux_push(k, 0xfa);
		return;
	}
	switch (v) {
	case 0xff: /* reset: acknowledge, self test passed, device id */
		aux_defaults(k);
		aux_push(k, 0xfa);
		aux_push(k, 0xaa);
		aux_push(k, 0x00);
		break;
	case 0xf2: /* identify: a standard PS/2 mouse */
		aux_push(k, 0xfa);
		aux_push(k, 0x00);
		break;
	case 0xe9: /* status: mode, buttons; resolution; sample rate */
		aux_push(k, 0xfa);
		aux_push(k, (uint8_t)((k->aux_remote ? 0x40 : 0) | (k->aux_reporting ? 0x20 : 0) |
				      (k->aux_scaling21 ? 0x10 : 0)));
		aux_push(k, k->aux_resolution);
		aux_push(k, k->aux_rate);
		break;
	case 0xeb: /* read data: no movement, no buttons */
		aux_push(k, 0xfa);
		aux_push(k, 0x08);
		aux_push(k, 0x00);
		aux_push(k, 0x00);
		break;
	case 0xf3: /* sample rate */
	case 0xe8: /* resolution */
		aux_push(k, 0xfa);
		k->aux_pending = v;
		break;
	case 0xf4:
	case 0xf5:
		k->aux_reporting = v == 0xf4;
		aux_push(k, 0xfa);
		break;
	case 0xf6:
		aux_defaults(k);
		aux_push(k, 0xfa);
		break;
	case 0xe6:
	case 0xe7:
		k->aux_scaling21 = v == 0xe7;
		aux_push(k, 0xfa);
		break;
	case 0xf0:
	case 0xea:
		k->aux_remote = v == 0xf0;
		aux_push(k, 0xfa);
		break;
	case 0xec: /* reset wrap mode */
	case 0xee: /* wrap mode: not modelled, acknowledged */
		aux_push(k, 0xfa);
		break;
	default:
		aux_push(k, 0xfe); /* resend: not a command it knows */
		break;
	}
}

void libvm__i8042_reset(struct libvm__i8042 *k)
{
	void (*set_irq)(void *, bool) = k->set_irq;
	void (*set_aux_irq)(void *, bool) = k->set_aux_irq;
	void *opaque = k->opaque;

	memset(k, 0, sizeof(*k));
	k->set_irq = set_irq;
	k->set_aux_irq = set_aux_irq;
	k->opaque = opaque;
	/* What a BIOS leaves: keyboard interrupt on, translation on, POST
	 * passed, the AUX port disabled until the OS wants it. */
	k->ctr = LIBVM__I8042_CTR_KBDINT | LIBVM__I8042_CTR_SYS | LIBVM__I8042_CTR_AUXDIS |
		 LIBVM__I8042_CTR_XLATE;
	k->outport = 0x03; /* reset line inactive (high), A20 on */
	k->scancode_set = 2;
	aux_defaults(k);
}

/* A byte for the keyboard itself (port 0x60 with no command pending). */
static void keyboard_write(struct libvm__i8042 *k, uint8_t v)
{
	if (k->kbd_pending) {
		uint8_t cmd = k->kbd_pending;

		k->kbd_pending = 0;
		push(k, 0xfa);
		if (cmd == 0xf0) { /* scan code set: 0 asks, 1-3 sets */
			if (v == 0)
				push(k, k->scancode_set);
			else if (v <= 3)
				k->scancode_set = v;
		}
		return;
	}
	switch (v) {
	case 0xed: /* set LEDs */
	case 0xf3: /* typematic rate */
	case 0xf0: /* scan code set */
		push(k, 0xfa);
		k->kbd_pending = v;
		break;
	case 0xee: /* echo */
		push(k, 0xee);
		break;
	case 0xf2: /* identify: MF2 keyboard */
		push(k, 0xfa);
		push(k, 0xab);
		push(k, 0x83);
		break;
	case 0xff: /* reset and self test */
		k->scancode_set = 2;
		push(k, 0xfa);
		push(k, 0xaa);
		break;
	case 0xf4: /* enable */
	case 0xf5: /* disable */
	case 0xf6: /* defaults */
	case 0xf7: case 0xf8: case 0xf9: case 0xfa: case 0xfb: case 0xfc: case 0xfd:
		push(k, 0xfa);
		break;
	default:
		push(k, 0xfe); /* resend: not a command it knows */
		break;
	}
}

/* The data byte of a two-byte controller command. Returns 1 for reset. */
static int command_data(struct libvm__i8042 *k, uint8_t cmd, uint8_t v)
{
	switch (cmd) {
	case 0x60: /* write configuration byte */
		k->ctr = v;
		update_irq(k);
		return 0;
	case 0xd1: /* write output port: bit 0 low holds the CPU in reset */
		k->outport = v;
		return !(v & 0x01);
	case 0xd2: /* write keyboard output buffer: as if the keyboard sent it */
		push(k, v);
		return 0;
	case 0xd3: /* write AUX output buffer: as if the mouse sent it */
		aux_push(k, v);
		return 0;
	case 0xd4: /* write to the mouse */
		aux_write(k, v);
		return 0;
	default: /* RAM writes 0x61-0x7f: no effect */
		return 0;
	}
}

/* A controller command (port 0x64). Returns 1 for reset. */
static int command(struct libvm__i8042 *k, uint8_t cmd)
{
	switch (cmd) {
	case 0x20:
		push(k, k->ctr);
		return 0;
	case 0x60:
	case 0xd1:
	case 0xd2:
	case 0xd3:
	case 0xd4:
		k->pending_cmd = cmd;
		return 0;
	case 0xa7:
		k->ctr |= LIBVM__I8042_CTR_AUXDIS;
		return 0;
	case 0xa8:
		k->ctr &= (uint8_t)~LIBVM__I8042_CTR_AUXDIS;
		return 0;
	case 0xa9:
		push(k, 0x00); /* AUX interface test passed */
		return 0;
	case 0xaa:
		push(k, 0x55); /* controller self test passed */
		return 0;
	case 0xab:
		push(k, 0x00); /* keyboard interface test passed */
		return 0;
	case 0xad:
		k->ctr |= LIBVM__I8042_CTR_KBDDIS;
		return 0;
	case 0xae:
		k->ctr &= (uint8_t)~LIBVM__I8042_CTR_KBDDIS;
		return 0;
	case 0xc0:
		push(k, 0x80); /* input port: keyboard not inhibited */
		return 0;
	case 0xd0:
		push(k, k->outport);
		return 0;
	case 0xdd:
		k->outport &= (uint8_t)~0x02; /* A20 off: KVM has no A20 gate */
		return 0;
	case 0xdf:
		k->outport |= 0x02;
		return 0;
	case 0xe0:
		push(k, 0x00); /* test inputs */
		return 0;
	default:
		/* 0xF0-0xFF pulse output port bits 0-3 low for 6 us; bit 0 is
		 * the reset line, so any even command there resets (0xFE is
		 * the usual one). */
		if (cmd >= 0xf0)
			return !(cmd & 0x01);
		return 0; /* 0x21-0x3f RAM reads and the rest: ignored */
	}
}

int libvm__i8042_access(struct libvm__i8042 *k, uint32_t offset, void *data, uint32_t len,
			bool is_write)
{
	uint8_t *b = data;

	if (!is_write) {
		if (offset == LIBVM__I8042_CMD) {
			b[0] = (k->count ? LIBVM__I8042_STR_OBF : 0) | LIBVM__I8042_STR_UNLOCKED |
			       (k->count && k->from_aux[k->head] ? LIBVM__I8042_STR_AUXDATA : 0) |
			       (k->ctr & LIBVM__I8042_CTR_SYS ? LIBVM__I8042_STR_SYS : 0) |
			       k->status_cmd;
			return 0;
		}
		if (k->count) {
			k->last_read = k->queue[k->head];
			k->head = (uint8_t)((k->head + 1) % LIBVM__I8042_QUEUE);
			k->count--;
			/* Reading deasserts the line; if more is queued it
			 * rises again, giving the edge-triggered PIC a new
			 * edge for the next byte. */
			if (k->irq_level) {
				k->irq_level = false;
				if (k->set_irq)
					k->set_irq(k->opaque, false);
			}
			if (k->aux_irq_level) {
				k->aux_irq_level = false;
				if (k->set_aux_irq)
					k->set_aux_irq(k->opaque, false);
			}
			update_irq(k);
		}
		b[0] = k->last_read; /* an empty buffer repeats the last byte */
		return 0;
	}

	if (offset == LIBVM__I8042_CMD) {
		k->status_cmd = LIBVM__I8042_STR_CMD;
		k->pending_cmd = 0; /* a new command cancels a pending one */
		return command(k, b[0]);
	}
	k->status_cmd = 0;
	if (k->pending_cmd) {
		uint8_t cmd = k->pending_cmd;

		k->pending_cmd = 0;
		return command_data(k, cmd, b[0]);
	}
	keyboard_write(k, b[0]);
	return 0;
}

enum { R_DATA, R_CMD, NR_RANGES };

struct libvm_i8042 {
	uint32_t magic;
	libvm_vm *vm;
	pthread_mutex_t lock;
	struct libvm__devrange range[NR_RANGES];
	int irq;
	int aux_irq;
	struct libvm__i8042 st;
};

static void i8042_set_irq(void *opaque, bool level)
{
	libvm_i8042 *k = opaque;

	libvm__dev_irq(k->vm, k->irq, level);
}

static void i8042_set_aux_irq(void *opaque, bool level)
{
	libvm_i8042 *k = opaque;

	libvm__dev_irq(k->vm, k->aux_irq, level);
}

static int i8042_io(libvm_vcpu *vcpu, uint64_t addr, void *data, uint32_t len, bool is_write,
		    void *opaque)
{
	libvm_i8042 *k = opaque;
	int reset;

	pthread_mutex_lock(&k->lock);
	reset = libvm__i8042_access(&k->st, addr == 0x64 ? LIBVM__I8042_CMD : LIBVM__I8042_DATA,
				    data, len, is_write);
	pthread_mutex_unlock(&k->lock);
	if (reset)
		return libvm_vcpu_end_run(vcpu, LIBVM_EXIT_RESET, 0);
	return 0;
}

/* What libvm_vm_destroy() calls for a device still attached. */
static void i8042_release(void *dev)
{
	libvm_i8042_detach(dev);
}

LIBVM_EXPORT int libvm_i8042_attach(libvm_i8042 **out, libvm_vm *vm,
				    const libvm_i8042_options *opts)
{
	libvm_i8042_options o = LIBVM_I8042_OPTIONS_INIT;
	libvm_i8042 *k;
	int err;

	if (!out)
		return libvm__fail(-EINVAL, "libvm_i8042_attach: out is NULL");
	LIBVM__CHECK_VM(vm, "libvm_i8042_attach");
	err = libvm__dev_options(&o, sizeof(o), opts, "libvm_i8042_attach");
	if (err)
		return err;
	if (!o.irq)
		o.irq = 1;
	if (o.irq < -1 || o.irq > 23)
		return libvm__fail(-EINVAL, "i8042: IRQ %d is not in -1..23", (int)o.irq);
	if (!o.aux_irq)
		o.aux_irq = 12; /* the PC's mouse IRQ (also for older, shorter structs) */
	if (o.aux_irq < -1 || o.aux_irq > 23)
		return libvm__fail(-EINVAL, "i8042: AUX IRQ %d is not in -1..23", (int)o.aux_irq);
	k = calloc(1, sizeof(*k));
	if (!k)
		return libvm__fail(-ENOMEM, "i8042: out of memory");
	k->magic = LIBVM__MAGIC_I8042;
	k->vm = vm;
	k->irq = o.irq;
	k->aux_irq = o.aux_irq;
	pthread_mutex_init(&k->lock, NULL);
	k->st.set_irq = i8042_set_irq;
	k->st.set_aux_irq = i8042_set_aux_irq;
	k->st.opaque = k;
	libvm__i8042_reset(&k->st);
	/* Two single ports: 0x61-0x63 belong to others (0x61 is the PIT's
	 * speaker/refresh port). */
	k->range[R_DATA] = (struct libvm__devrange){ LIBVM_SPACE_PIO, 0x60, 1, "i8042", i8042_io };
	k->range[R_CMD] = (struct libvm__devrange){ LIBVM_SPACE_PIO, 0x64, 1, "i8042", i8042_io };
	err = libvm__dev_register(vm, k->range, NR_RANGES, k, i8042_release);
	if (err) {
		pthread_mutex_destroy(&k->lock);
		free(k);
		return err;
	}
	*out = k;
	return 0;
}

LIBVM_EXPORT void libvm_i8042_detach(libvm_i8042 *dev)
{
	if (!libvm__live(dev, LIBVM__MAGIC_I8042) ||
	    !libvm__dev_unregister(dev->vm, dev->range, NR_RANGES, dev))
		return;
	pthread_mutex_destroy(&dev->lock);
	libvm__bury(dev, sizeof(*dev));
}
