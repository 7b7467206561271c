/* SPDX-License-Identifier: MIT */
/*
 * 16550A UART (National Semiconductor PC16550D data sheet register set).
 *
 * The model transmits instantly: the holding register is empty again as
 * soon as it is written, so LSR always shows THRE|TEMT (what polling guests
 * spin on) and a THRE interrupt is latched again after every byte, which is
 * what Linux's 8250 driver expects when it refills the FIFO from its
 * interrupt handler. The receiver has the 16-byte FIFO; host input is only
 * taken when there is room, so nothing is dropped. The IRQ pin is gated by
 * MCR.OUT2 as on PC boards (Linux sets OUT2 for ISA ports).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "uart.h"

/* ------------------------------------------------------------------ */
/* The model                                                           */
/* ------------------------------------------------------------------ */

static bool fifo_on(const struct libvm__uart *u)
{
	return u->fcr & LIBVM__UART_FCR_ENABLE;
}

/* FCR bits 7:6 select the receive trigger level (data sheet, FCR). */
static unsigned int rx_trigger(const struct libvm__uart *u)
{
	static const uint8_t level[4] = { 1, 4, 8, 14 };

	return level[u->fcr >> 6];
}

size_t libvm__uart_rx_room(const struct libvm__uart *u)
{
	size_t cap = fifo_on(u) ? LIBVM__UART_FIFO_SIZE : 1;

	return u->rx_count >= cap ? 0 : cap - u->rx_count;
}

static void rx_push(struct libvm__uart *u, uint8_t byte)
{
	u->rx[(u->rx_head + u->rx_count) % LIBVM__UART_FIFO_SIZE] = byte;
	u->rx_count++;
}

static uint8_t rx_pop(struct libvm__uart *u)
{
	uint8_t byte;

	if (!u->rx_count)
		return 0;
	byte = u->rx[u->rx_head];
	u->rx_head = (uint8_t)((u->rx_head + 1) % LIBVM__UART_FIFO_SIZE);
	u->rx_count--;
	return byte;
}

static void rx_clear(struct libvm__uart *u)
{
	u->rx_head = 0;
	u->rx_count = 0;
}

uint8_t libvm__uart_iir(const struct libvm__uart *u)
{
	uint8_t fifo = fifo_on(u) ? LIBVM__UART_IIR_FIFO : 0;

	/* Priorities from the data sheet: line status, received data (or the
	 * character timeout), THR empty, modem status. */
	if ((u->ier & LIBVM__UART_IER_RLSI) && u->lsr_errors)
		return fifo | LIBVM__UART_IIR_RLSI;
	if ((u->ier & LIBVM__UART_IER_RDI) && u->rx_count) {
		/* Below the trigger level the real chip waits four character
		 * times and then reports a timeout; with no clock here the
		 * timeout is reported at once. Drivers treat both alike. */
		if (fifo && u->rx_count < rx_trigger(u))
			return fifo | LIBVM__UART_IIR_TIMEOUT;
		return fifo | LIBVM__UART_IIR_RDI;
	}
	if ((u->ier & LIBVM__UART_IER_THRI) && u->thr_ipending)
		return fifo | LIBVM__UART_IIR_THRI;
	if ((u->ier & LIBVM__UART_IER_MSI) && (u->msr & 0x0f))
		return fifo | LIBVM__UART_IIR_MSI;
	return fifo | LIBVM__UART_IIR_NO_INT;
}

static void update_irq(struct libvm__uart *u)
{
	/* OUT2 enables the IRQ driver on PC boards; in loopback mode OUT2 is
	 * routed to DCD internally and the pin stays inactive. */
	bool level = !(libvm__uart_iir(u) & LIBVM__UART_IIR_NO_INT) &&
		     (u->mcr & (LIBVM__UART_MCR_OUT2 | LIBVM__UART_MCR_LOOP)) ==
			     LIBVM__UART_MCR_OUT2;

	if (level == u->irq_level)
		return;
	u->irq_level = level;
	if (u->set_irq)
		u->set_irq(u->opaque, level);
}

/* Recompute the modem status lines and latch their delta bits. */
static void update_msr(struct libvm__uart *u)
{
	uint8_t old = u->msr, lines, delta = 0;

	if (u->mcr & LIBVM__UART_MCR_LOOP) {
		/* Loopback wiring: RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD. */
		lines = (u->mcr & LIBVM__UART_MCR_RTS ? LIBVM__UART_MSR_CTS : 0) |
			(u->mcr & LIBVM__UART_MCR_DTR ? LIBVM__UART_MSR_DSR : 0) |
			(u->mcr & LIBVM__UART_MCR_OUT1 ? LIBVM__UART_MSR_RI : 0) |
			(u->mcr & LIBVM__UART_MCR_OUT2 ? LIBVM__UART_MSR_DCD : 0);
	} else {
		/* A peer that is always there and always ready. */
		lines = LIBVM__UART_MSR_CTS | LIBVM__UART_MSR_DSR | LIBVM__UART_MSR_DCD;
	}
	if ((old ^ lines) & LIBVM__UART_MSR_CTS)
		delta |= LIBVM__UART_MSR_DCTS;
	if ((old ^ lines) & LIBVM__UART_MSR_DSR)
		delta |= LIBVM__UART_MSR_DDSR;
	if ((old & LIBVM__UART_MSR_RI) && !(lines & LIBVM__UART_MSR_RI))
		delta |= LIBVM__UART_MSR_TERI; /* trailing edge only */
	if ((old ^ lines) & LIBVM__UART_MSR_DCD)
		delta |= LIBVM__UART_MSR_DDCD;
	u->msr = lines | (old & 0x0f) | delta;
}

void libvm__uart_reset(struct libvm__uart *u)
{
	void (*tx)(void *, uint8_t) = u->tx;
	void (*set_irq)(void *, bool) = u->set_irq;
	void *opaque = u->opaque;

	memset(u, 0, sizeof(*u));
	u->tx = tx;
	u->set_irq = set_irq;
	u->opaque = opaque;
	u->lcr = 0x03; /* 8N1, what firmware leaves behind */
	u->dll = 0x01; /* 115200 baud */
	/* Modem lines start in their steady state with no deltas latched. */
	update_msr(u);
	u->msr &= 0xf0;
}

size_t libvm__uart_receive(struct libvm__uart *u, const uint8_t *buf, size_t len)
{
	size_t n = libvm__uart_rx_room(u);

	if (n > len)
		n = len;
	for (size_t i = 0; i < n; i++)
		rx_push(u, buf[i]);
	if (n)
		update_irq(u);
	return n;
}

static void transmit(struct libvm__uart *u, uint8_t byte)
{
	if (u->mcr & LIBVM__UART_MCR_LOOP) {
		/* Loopback: the byte comes straight back to the receiver. A
		 * full FIFO overruns (the byte in the shift register is lost). */
		if (libvm__uart_rx_room(u))
			rx_push(u, byte);
		else
			u->lsr_errors |= LIBVM__UART_LSR_OE;
	} else if (u->tx) {
		u->tx(u->opaque, byte);
	}
	/* Sent at once: THR is empty again, which latches a new THRE
	 * interrupt (and clears the one this write acknowledged). */
	u->thr_ipending = true;
}

static uint8_t read_reg(struct libvm__uart *u, uint32_t reg)
{
	bool dlab = u->lcr & LIBVM__UART_LCR_DLAB;
	uint8_t v;

	switch (reg) {
	case LIBVM__UART_RBR:
		if (dlab)
			return u->dll;
		v = rx_pop(u);
		update_irq(u);
		return v;
	case LIBVM__UART_IER:
		return dlab ? u->dlm : u->ier;
	case LIBVM__UART_IIR:
		v = libvm__uart_iir(u);
		/* Reading IIR while it reports THRE acknowledges that source
		 * (data sheet, table "Interrupt Control Functions"). */
		if ((v & 0x0f) == LIBVM__UART_IIR_THRI) {
			u->thr_ipending = false;
			update_irq(u);
		}
		return v;
	case LIBVM__UART_LCR:
		return u->lcr;
	case LIBVM__UART_MCR:
		return u->mcr;
	case LIBVM__UART_LSR:
		v = LIBVM__UART_LSR_THRE | LIBVM__UART_LSR_TEMT | u->lsr_errors;
		if (u->rx_count)
			v |= LIBVM__UART_LSR_DR;
		u->lsr_errors = 0; /* error bits clear on read */
		update_irq(u);
		return v;
	case LIBVM__UART_MSR:
		v = u->msr;
		u->msr &= 0xf0; /* delta bits clear on read */
		update_irq(u);
		return v;
	default:
		return u->scr;
	}
}

static void write_reg(struct libvm__uart *u, uint32_t reg, uint8_t v)
{
	bool dlab = u->lcr & LIBVM__UART_LCR_DLAB;
	uint8_t old;

	switch (reg) {
	case LIBVM__UART_RBR:
		if (dlab)
			u->dll = v;
		else
			transmit(u, v);
		break;
	case LIBVM__UART_IER:
		if (dlab) {
			u->dlm = v;
			break;
		}
		old = u->ier;
		/* Bits 4-7 read as 0: Linux's probe checks that, and that
		 * bit 6 (XScale's UUE) does not stick. */
		u->ier = v & 0x0f;
		/* Enabling THRI while THR is empty raises it at once; Linux
		 * tests this at startup (UART_BUG_THRE / TXEN). */
		if ((u->ier & LIBVM__UART_IER_THRI) && !(old & LIBVM__UART_IER_THRI))
			u->thr_ipending = true;
		break;
	case LIBVM__UART_IIR: /* FCR */
		if ((v ^ u->fcr) & LIBVM__UART_FCR_ENABLE)
			rx_clear(u); /* toggling the FIFO mode resets the FIFOs */
		if (v & LIBVM__UART_FCR_ENABLE) {
			if (v & LIBVM__UART_FCR_CLEAR_RX)
				rx_clear(u);
			/* Keep enable and trigger only: bit 5 (64-byte FIFO of
			 * the 16750) must not show in IIR, or Linux would take
			 * us for a 16750. */
			u->fcr = v & (LIBVM__UART_FCR_ENABLE | 0xc0);
		} else {
			/* Other FCR bits only take with FCR0 set. */
			u->fcr = 0;
		}
		break;
	case LIBVM__UART_LCR:
		u->lcr = v;
		break;
	case LIBVM__UART_MCR:
		u->mcr = v & 0x1f;
		update_msr(u);
		break;
	case LIBVM__UART_LSR:
	case LIBVM__UART_MSR:
		break; /* factory test registers: writes ignored */
	default:
		u->scr = v;
		break;
	}
	update_irq(u);
}

int libvm__uart_access(struct libvm__uart *u, uint32_t offset, void *data, uint32_t len,
		       bool is_write)
{
	uint8_t *bytes = data;

	for (uint32_t i = 0; i < len; i++) {
		uint32_t reg = offset + i;

		if (reg > LIBVM__UART_SCR)
			break; /* past the device: reads stay all-ones */
		if (is_write)
			write_reg(u, reg, bytes[i]);
		else
			bytes[i] = read_reg(u, reg);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Glue: lock, host fds, IRQ                                           */
/* ------------------------------------------------------------------ */

struct libvm_uart {
	uint32_t magic;
	libvm_vm *vm;
	pthread_mutex_t lock;
	struct libvm__uart st;
	struct libvm__devrange range;
	int irq;
	int out_fd;
	int in_fd;
	bool in_eof;
	bool out_broken;
	bool out_socket;  /* send(MSG_NOSIGNAL) avoids SIGPIPE */
	bool out_pipe;    /* SIGPIPE must be blocked around write() */
	libvm_uart_output_fn output;
	void *output_opaque;
	libvm_vcpu *cur_vcpu; /* the vCPU whose access is being handled */
	bool can_coalesce;    /* the backend queues port writes (coalesced PIO) */
	bool coalesced;       /* THR writes are queued now */
};

/*
 * THR writes need no exit while the transmitter interrupt is off: the
 * guest then learns that a byte went out only by reading LSR, which exits
 * and finds the queued bytes sent (coalesce.c drains first). A console
 * that polls LSR between bytes (Linux's, most test kernels') then costs
 * one exit a byte instead of two. With ETBEI on, every write exits, so
 * that the THRE interrupt comes when the byte is taken.
 */
static void update_coalescing(libvm_uart *u)
{
	bool want = u->can_coalesce && !(u->st.ier & LIBVM__UART_IER_THRI);

	if (want == u->coalesced)
		return;
	if (want)
		u->coalesced = libvm_io_coalesce_add(u->vm, LIBVM_SPACE_PIO, u->range.base, 1) == 0;
	else
		u->coalesced = libvm_io_coalesce_remove(u->vm, LIBVM_SPACE_PIO, u->range.base, 1) != 0;
}

static void uart_set_irq(void *opaque, bool level)
{
	libvm_uart *u = opaque;

	libvm__dev_irq(u->vm, u->irq, level);
}

/*
 * write() to a pipe whose reader is gone raises SIGPIPE, which would end
 * the embedding process: block it for the call and swallow the one this
 * write raised (unless one was already pending for someone else).
 */
static ssize_t write_nosigpipe(int fd, const void *buf, size_t len)
{
	sigset_t pipe_set, old, pending;
	bool was_pending;
	ssize_t r;
	int saved;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE) == 1;
	do
		r = write(fd, buf, len);
	while (r < 0 && errno == EINTR);
	saved = errno;
	if (r < 0 && saved == EPIPE && !was_pending) {
		const struct timespec zero = { 0, 0 };

		while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return r;
}

/* How often a blocked output fd looks for a stop of its vCPU. */
#define TX_STOP_POLL_MS 20

/*
 * Wait until the output fd takes a byte. A reader that stopped reading (a
 * full pipe, a suspended terminal) would otherwise hold the vCPU in write()
 * for ever, where neither the kick signal (the handler is SA_RESTART and
 * writes retry on EINTR) nor immediate_exit reaches it; so the wait gives
 * up, and the byte is lost, once a stop is pending on the vCPU.
 */
static bool tx_ready(libvm_uart *u)
{
	for (;;) {
		struct pollfd p = { .fd = u->out_fd, .events = POLLOUT };
		int n = poll(&p, 1, TX_STOP_POLL_MS);

		if (n > 0 || (n < 0 && errno != EINTR))
			return true; /* writable, or let write() report the error */
		if (u->cur_vcpu && atomic_load(&u->cur_vcpu->stop_requested))
			return false;
	}
}

static void uart_tx(void *opaque, uint8_t byte)
{
	libvm_uart *u = opaque;
	ssize_t r;

	if (u->output) {
		u->output(&byte, 1, u->output_opaque);
		return;
	}
	if (u->out_fd < 0 || u->out_broken || !tx_ready(u))
		return;
	if (u->out_socket) {
		do
			r = send(u->out_fd, &byte, 1, MSG_NOSIGNAL);
		while (r < 0 && errno == EINTR);
	} else if (u->out_pipe) {
		r = write_nosigpipe(u->out_fd, &byte, 1);
	} else {
		do
			r = write(u->out_fd, &byte, 1);
		while (r < 0 && errno == EINTR);
	}
	/* A full non-blocking fd loses the byte, like a line with no one
	 * listening; any other failure stops output for good. */
	if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
		u->out_broken = true;
		libvm__log(u->vm, LIBVM_LOG_WARN, "uart 0x%x: output stopped: %s",
			   (unsigned int)u->range.base, strerror(errno));
	}
}

/* Move what is waiting on the input fd into the FIFO; lock held. */
static int pull_input(libvm_uart *u)
{
	uint8_t buf[LIBVM__UART_FIFO_SIZE];
	struct pollfd p = { .fd = u->in_fd, .events = POLLIN };
	size_t room = libvm__uart_rx_room(&u->st);
	ssize_t n;

	if (u->in_fd < 0 || u->in_eof || !room)
		return 0;
	if (poll(&p, 1, 0) <= 0)
		return 0;
	if (p.revents & POLLNVAL) {
		u->in_eof = true;
		return -EBADF;
	}
	n = read(u->in_fd, buf, room);
	if (n == 0) {
		u->in_eof = true;
		return 0;
	}
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 0;
		/* A hard error will not heal: stop reading, like at EOF,
		 * rather than fail again at every look at the receiver. */
		u->in_eof = true;
		return -errno;
	}
	return (int)libvm__uart_receive(&u->st, buf, (size_t)n);
}

static int uart_io(libvm_vcpu *vcpu, uint64_t addr, void *data, uint32_t len, bool is_write,
		   void *opaque)
{
	libvm_uart *u = opaque;
	uint32_t off = (uint32_t)(addr - u->range.base);

	pthread_mutex_lock(&u->lock);
	u->cur_vcpu = vcpu;
	/* Looking at the receiver is the polling guest's way to ask for
	 * input: fetch it then. */
	if (!is_write && (off == LIBVM__UART_RBR || off == LIBVM__UART_IIR ||
			  off == LIBVM__UART_LSR))
		pull_input(u);
	libvm__uart_access(&u->st, off, data, len, is_write);
	u->cur_vcpu = NULL;
	if (is_write && off == LIBVM__UART_IER)
		update_coalescing(u);
	pthread_mutex_unlock(&u->lock);
	return 0;
}

/* What libvm_vm_destroy() calls for a device still attached. */
static void uart_release(void *dev)
{
	libvm_uart_detach(dev);
}

LIBVM_EXPORT int libvm_uart_attach(libvm_uart **out, libvm_vm *vm, const libvm_uart_options *opts)
{
	libvm_uart_options o = LIBVM_UART_OPTIONS_INIT;
	struct stat st;
	libvm_uart *u;
	int err;

	if (!out)
		return libvm__fail(-EINVAL, "libvm_uart_attach: out is NULL");
	LIBVM__CHECK_VM(vm, "libvm_uart_attach");
	err = libvm__dev_options(&o, sizeof(o), opts, "libvm_uart_attach");
	if (err)
		return err;
	/* Zero means the default (devices.h). */
	if (!o.port)
		o.port = 0x3f8;
	if (!o.irq)
		o.irq = 4;
	if (!libvm__dev_ports_ok(o.port, 8))
		return libvm__fail(-EINVAL, "uart: ports 0x%x+8 go past 0xffff", o.port);
	if (o.irq < -1 || o.irq > 23)
		return libvm__fail(-EINVAL, "uart: IRQ %d is not in -1..23", (int)o.irq);
	if (o.output_fd < -1 || o.input_fd < -1)
		return libvm__fail(-EINVAL, "uart: bad file descriptor");
	if (o.output && o.output_fd >= 0)
		return libvm__fail(-EINVAL, "uart: give an output callback or an output fd, not both");

	u = calloc(1, sizeof(*u));
	if (!u)
		return libvm__fail(-ENOMEM, "uart: out of memory");
	u->magic = LIBVM__MAGIC_UART;
	u->vm = vm;
	pthread_mutex_init(&u->lock, NULL);
	u->irq = o.irq;
	u->out_fd = o.output_fd;
	u->in_fd = o.input_fd;
	u->output = o.output;
	u->output_opaque = o.output_opaque;
	if (u->out_fd >= 0 && fstat(u->out_fd, &st) == 0) {
		u->out_socket = S_ISSOCK(st.st_mode);
		u->out_pipe = S_ISFIFO(st.st_mode);
	}
	u->st.tx = uart_tx;
	u->st.set_irq = uart_set_irq;
	u->st.opaque = u;
	libvm__uart_reset(&u->st);
	u->range = (struct libvm__devrange){ LIBVM_SPACE_PIO, o.port, 8, "uart", uart_io };

	err = libvm__dev_register(vm, &u->range, 1, u, uart_release);
	if (err) {
		pthread_mutex_destroy(&u->lock);
		free(u);
		return err;
	}
	/* ETBEI is off at reset: THR writes can be queued from the start. */
	u->can_coalesce = true;
	update_coalescing(u);
	u->can_coalesce = u->coalesced;
	libvm__clear_error();
	*out = u;
	return 0;
}

LIBVM_EXPORT void libvm_uart_detach(libvm_uart *uart)
{
	if (!libvm__live(uart, LIBVM__MAGIC_UART))
		return;
	if (uart->coalesced)
		libvm_io_coalesce_remove(uart->vm, LIBVM_SPACE_PIO, uart->range.base, 1);
	if (!libvm__dev_unregister(uart->vm, &uart->range, 1, uart))
		return;
	pthread_mutex_destroy(&uart->lock);
	libvm__bury(uart, sizeof(*uart));
}

LIBVM_EXPORT int libvm_uart_input(libvm_uart *uart, const void *data, size_t len)
{
	size_t n;

	LIBVM__CHECK_HANDLE(uart, LIBVM__MAGIC_UART, "libvm_uart_input", "uart", "UART");
	if (!data && len)
		return libvm__fail(-EINVAL, "libvm_uart_input: data is NULL");
	pthread_mutex_lock(&uart->lock);
	n = libvm__uart_receive(&uart->st, data, len);
	pthread_mutex_unlock(&uart->lock);
	return (int)n;
}

LIBVM_EXPORT int libvm_uart_poll_input(libvm_uart *uart)
{
	int r;

	LIBVM__CHECK_HANDLE(uart, LIBVM__MAGIC_UART, "libvm_uart_poll_input", "uart", "UART");
	pthread_mutex_lock(&uart->lock);
	r = pull_input(uart);
	pthread_mutex_unlock(&uart->lock);
	if (r < 0)
		return libvm__fail(r, "uart: reading input failed: %s", strerror(-r));
	return r;
}
