/* SPDX-License-Identifier: MIT */
/*
 * vmrun's GDB remote stub (--gdb PORT): `gdb kernel.elf` and `target remote
 * :PORT` get registers, memory by virtual address, breakpoints (hardware
 * debug registers first, INT3 beyond four), watchpoints, single-step,
 * continue, Ctrl-C, and every vCPU as a thread, over libvm's debugging API
 * (include/libvm/debug.h). All-stop: a stop in one vCPU stops them all.
 */
#ifndef VMRUN_GDBSTUB_H
#define VMRUN_GDBSTUB_H

#include <stdbool.h>
#include <stdint.h>

#include <libvm/machine.h>

struct gdbstub;

/*
 * Listen on 127.0.0.1:@port for @m. With @wait, block until gdb connects
 * and keep the guest stopped at its first instruction until gdb lets it
 * go; without, the guest runs at once and gdb may attach (and stop it) at
 * any time. @x86_64 picks the register layout gdb expects: amd64 (an
 * ELF64 kernel) or i386. NULL on failure, with the reason on stderr.
 */
struct gdbstub *gdbstub_open(libvm_machine *m, uint16_t port, bool wait, bool x86_64);

/*
 * Run the machine under gdb's control until the guest ends: returns as
 * libvm_vm_run() does (@exit, @vcpu_id), or 1 when gdb killed the guest.
 */
int gdbstub_run(struct gdbstub *s, libvm_exit *exit, uint32_t *vcpu_id);

/* Tell gdb the guest exited with @status (when connected), and close. */
void gdbstub_close(struct gdbstub *s, int status);

#endif
