/* SPDX-License-Identifier: MIT */
/*
 * See console.h. The input thread polls stdin and a self-pipe (so that
 * console_stop() can wake it), recognizes the Ctrl-A escape only when stdin
 * is a terminal (a pipe carries data, not keystrokes), and offers bytes to
 * the UART until its FIFO takes them: input is never dropped.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "console.h"

#define CTRL_A 0x01

static struct {
	libvm_uart *uart;
	libvm_vm *vm;
	bool tty;
	bool raw;
	struct termios saved;
	int wake[2];
	pthread_t thread;
	bool started;
	atomic_bool quit;
} con = { .wake = { -1, -1 } };

static void restore_terminal(void)
{
	if (con.raw) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &con.saved);
		con.raw = false;
	}
}

static void fatal_signal(int sig)
{
	/* tcsetattr is async-signal-safe; restore, then die of the signal. */
	restore_terminal();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void make_raw(void)
{
	struct termios t;

	/* A background job must leave the terminal alone (tcsetattr would
	 * stop it with SIGTTOU); it still reads input when brought forward. */
	pid_t fg = tcgetpgrp(STDIN_FILENO);

	if (fg >= 0 && fg != getpgrp())
		return;
	if (tcgetattr(STDIN_FILENO, &con.saved) < 0)
		return;
	t = con.saved;
	cfmakeraw(&t);
	/* Keep output post-processing so the guest's "\n" still returns the
	 * carriage on the host terminal, as a serial console expects. */
	t.c_oflag |= OPOST | ONLCR;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) == 0) {
		con.raw = true;
		atexit(restore_terminal);
		/* Whatever ends vmrun must give the terminal back. ISIG is
		 * off, so SIGINT and SIGQUIT come only from kill(1). */
		static const int fatal[] = { SIGTERM, SIGHUP, SIGINT, SIGQUIT,
					     SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL };

		for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
			signal(fatal[i], fatal_signal);
	}
}

/* Offer @len bytes to the UART until it took them all or we must stop. */
static bool feed(const unsigned char *p, size_t len)
{
	while (len) {
		int n = libvm_uart_input(con.uart, p, len);

		if (n < 0)
			return false;
		p += n;
		len -= (size_t)n;
		if (len) {
			/* FIFO full: wait a little for the guest to drain it. */
			struct pollfd w = { .fd = con.wake[0], .events = POLLIN };

			if (poll(&w, 1, 5) > 0)
				return false;
		}
	}
	return true;
}

static void *input_thread(void *arg)
{
	bool escape = false;

	(void)arg;
	for (;;) {
		struct pollfd fds[2] = {
			{ .fd = STDIN_FILENO, .events = POLLIN },
			{ .fd = con.wake[0], .events = POLLIN },
		};
		unsigned char buf[64], out[64];
		size_t n_out = 0;
		ssize_t n;

		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (fds[1].revents)
			break;
		n = read(STDIN_FILENO, buf, sizeof(buf));
		if (n <= 0) {
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			break; /* end of input: the guest simply gets no more */
		}
		for (ssize_t i = 0; i < n; i++) {
			if (!con.tty) {
				out[n_out++] = buf[i];
			} else if (escape) {
				escape = false;
				if (buf[i] == 'x' || buf[i] == 'X') {
					atomic_store(&con.quit, true);
					libvm_vm_stop(con.vm);
					return NULL;
				}
				out[n_out++] = buf[i]; /* Ctrl-A Ctrl-A and unknown keys pass */
			} else if (buf[i] == CTRL_A) {
				escape = true;
			} else {
				out[n_out++] = buf[i];
			}
		}
		if (n_out && !feed(out, n_out))
			break;
	}
	return NULL;
}

int console_start(libvm_uart *uart, libvm_vm *vm)
{
	con.uart = uart;
	con.vm = vm;
	con.tty = isatty(STDIN_FILENO);
	if (pipe(con.wake) < 0)
		return -errno;
	if (con.tty)
		make_raw();
	if (pthread_create(&con.thread, NULL, input_thread, NULL) != 0) {
		restore_terminal();
		return -EAGAIN;
	}
	con.started = true;
	return 0;
}

void console_stop(void)
{
	if (con.started) {
		ssize_t r = write(con.wake[1], "x", 1);

		(void)r;
		pthread_join(con.thread, NULL);
		con.started = false;
	}
	for (int i = 0; i < 2; i++) {
		if (con.wake[i] >= 0)
			close(con.wake[i]);
		con.wake[i] = -1;
	}
	restore_terminal();
}

bool console_quit_requested(void)
{
	return atomic_load(&con.quit);
}
