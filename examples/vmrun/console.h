/* SPDX-License-Identifier: MIT */
/*
 * vmrun's stdio console: the guest's COM1 on the terminal. On a tty the
 * terminal goes raw (restored at exit, also after a fatal signal), and
 * Ctrl-A x quits; input bytes are fed to the UART by a thread.
 */
#ifndef VMRUN_CONSOLE_H
#define VMRUN_CONSOLE_H

#include <stdbool.h>

#include <libvm/devices.h>

/* Start forwarding stdin to @uart; Ctrl-A x calls libvm_vm_stop(@vm). */
int console_start(libvm_uart *uart, libvm_vm *vm);
/* Stop the input thread and restore the terminal. Safe to call twice. */
void console_stop(void);
/* True when the user quit with Ctrl-A x. */
bool console_quit_requested(void);

#endif
