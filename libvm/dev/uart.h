/* SPDX-License-Identifier: MIT */
/*
 * 16550A UART model: plain state and pure functions, no KVM. The glue in
 * uart.c adds the lock, the host fds and the IRQ line; unit tests drive
 * the model directly through these calls.
 */
#ifndef LIBVM_DEV_UART_H
#define LIBVM_DEV_UART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Register offsets (DLAB = LCR bit 7 switches 0/1 to the divisor latch). */
#define LIBVM__UART_RBR 0 /* read: receive buffer; write: THR */
#define LIBVM__UART_IER 1
#define LIBVM__UART_IIR 2 /* read: IIR; write: FCR */
#define LIBVM__UART_LCR 3
#define LIBVM__UART_MCR 4
#define LIBVM__UART_LSR 5
#define LIBVM__UART_MSR 6
#define LIBVM__UART_SCR 7

#define LIBVM__UART_IER_RDI 0x01  /* receive data available */
#define LIBVM__UART_IER_THRI 0x02 /* transmit holding register empty */
#define LIBVM__UART_IER_RLSI 0x04 /* receiver line status */
#define LIBVM__UART_IER_MSI 0x08  /* modem status */

#define LIBVM__UART_IIR_NO_INT 0x01
#define LIBVM__UART_IIR_MSI 0x00
#define LIBVM__UART_IIR_THRI 0x02
#define LIBVM__UART_IIR_RDI 0x04
#define LIBVM__UART_IIR_RLSI 0x06
#define LIBVM__UART_IIR_TIMEOUT 0x0c
#define LIBVM__UART_IIR_FIFO 0xc0 /* both bits: 16550A with FIFOs on */

#define LIBVM__UART_FCR_ENABLE 0x01
#define LIBVM__UART_FCR_CLEAR_RX 0x02
#define LIBVM__UART_FCR_CLEAR_TX 0x04

#define LIBVM__UART_LCR_DLAB 0x80

#define LIBVM__UART_MCR_DTR 0x01
#define LIBVM__UART_MCR_RTS 0x02
#define LIBVM__UART_MCR_OUT1 0x04
#define LIBVM__UART_MCR_OUT2 0x08
#define LIBVM__UART_MCR_LOOP 0x10

#define LIBVM__UART_LSR_DR 0x01
#define LIBVM__UART_LSR_OE 0x02
#define LIBVM__UART_LSR_PE 0x04
#define LIBVM__UART_LSR_FE 0x08
#define LIBVM__UART_LSR_BI 0x10
#define LIBVM__UART_LSR_THRE 0x20
#define LIBVM__UART_LSR_TEMT 0x40
#define LIBVM__UART_LSR_FIFOE 0x80
#define LIBVM__UART_LSR_ERRORS 0x1e

#define LIBVM__UART_MSR_DCTS 0x01
#define LIBVM__UART_MSR_DDSR 0x02
#define LIBVM__UART_MSR_TERI 0x04
#define LIBVM__UART_MSR_DDCD 0x08
#define LIBVM__UART_MSR_CTS 0x10
#define LIBVM__UART_MSR_DSR 0x20
#define LIBVM__UART_MSR_RI 0x40
#define LIBVM__UART_MSR_DCD 0x80

#define LIBVM__UART_FIFO_SIZE 16

struct libvm__uart {
	uint8_t ier;
	uint8_t lcr;
	uint8_t mcr;
	uint8_t lsr_errors;  /* OE/PE/FE/BI since the last LSR read */
	uint8_t msr;         /* modem lines and their delta bits */
	uint8_t scr;
	uint8_t dll, dlm;    /* divisor latch: kept, has no effect */
	uint8_t fcr;         /* FIFO enable and receive trigger bits */
	bool thr_ipending;   /* THRE interrupt latched (IIR read / THR write clear it) */
	bool irq_level;      /* what the line was last driven to */

	uint8_t rx[LIBVM__UART_FIFO_SIZE];
	uint8_t rx_head;
	uint8_t rx_count;

	/* Hooks, called with the caller's lock held; any may be NULL. */
	void (*tx)(void *opaque, uint8_t byte);       /* a transmitted byte */
	void (*set_irq)(void *opaque, bool level);    /* the IRQ line changed */
	void *opaque;
};

/* Reset state: no interrupts, FIFOs off, transmitter empty. Keeps hooks. */
void libvm__uart_reset(struct libvm__uart *u);

/*
 * A guest access at register @offset (0..7) of @len bytes; wider accesses
 * are split into byte accesses of consecutive registers, as an 8-bit ISA
 * device sees them. Returns 0.
 */
int libvm__uart_access(struct libvm__uart *u, uint32_t offset, void *data, uint32_t len,
		       bool is_write);

/* Bytes the receive FIFO can still take (16-level FIFO, or 1 without). */
size_t libvm__uart_rx_room(const struct libvm__uart *u);

/* Host input: take up to @len bytes into the FIFO. Returns the count. */
size_t libvm__uart_receive(struct libvm__uart *u, const uint8_t *buf, size_t len);

/* The interrupt identification the guest would read now (no side effects). */
uint8_t libvm__uart_iir(const struct libvm__uart *u);

/*
 * Saved state (docs/snapshot.md, "uart" version 1): the registers and the
 * receive FIFO. Load checks every field first and changes nothing when it
 * refuses one (-EINVAL, message set); then it drives the IRQ line to what
 * the loaded registers say.
 */
#define LIBVM__UART_STATE_VERSION 1
struct libvm_state_writer;
void libvm__uart_save(const struct libvm__uart *u, struct libvm_state_writer *w);
int libvm__uart_load(struct libvm__uart *u, const void *data, size_t len, uint32_t version);

#endif
