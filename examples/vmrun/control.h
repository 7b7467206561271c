/* SPDX-License-Identifier: MIT */
/*
 * vmrun's control plane: pausing and resuming the running VM, snapshots
 * and live migration, asked for by signals (SIGUSR1/SIGUSR2 with
 * --snapshot) or by requests on the control socket (--control PATH, one
 * JSON object per line; docs/snapshot.md has the protocol). The main
 * thread runs the VM in control_run(), which goes back to running after a
 * pause and ends when the guest does or a request ends vmrun.
 */
#ifndef VMRUN_CONTROL_H
#define VMRUN_CONTROL_H

#include <stdbool.h>

#include <libvm/machine.h>

#include "options.h"

/* Block SIGUSR1/SIGUSR2: first thing in main, before any thread starts
 * (threads inherit the mask). */
void control_block_signals(void);

/*
 * Set up: start the signal thread when @o->snapshot is set and the
 * control socket when @o->control is. @kernel_format goes into snapshots.
 * Returns 0, or a negative errno after printing why.
 */
int control_start(libvm_machine *m, const struct vmrun_options *o, int kernel_format);

/*
 * Run the VM until it ends (the guest's ending, an error) or a request
 * ends vmrun. Returns 0 with *@ex / *@vcpu as libvm_vm_run() filled them
 * for the guest's ending; or a libvm error; or, with *@status set >= 0,
 * the status a request ended vmrun with (snapshot-and-end, migrated,
 * quit). Called again after a suspend to RAM, it runs the VM on. A stop that is neither a pause nor a request ends the run only
 * when @stop_is_end() says so (the watchdog, Ctrl-A x).
 */
int control_run(libvm_exit *ex, uint32_t *vcpu, int *status, bool (*stop_is_end)(void));

/*
 * The guest sleeps in S3 (@wake_fd >= 0: SIGUSR1 writes 1 there to wake
 * it, as it does without --snapshot) or runs again (-1). Pauses and
 * snapshots wait meanwhile for the guest to run.
 */
void control_asleep(int wake_fd);

/* Stop the control threads and remove the socket. */
void control_stop(void);

/* Save the VM to @path (it pauses around the save); @end: it stays paused
 * after a good save, for the caller to end vmrun. For the control socket
 * and the signals. */
int control_snapshot(const char *path, bool end, uint64_t *bytes, double *ms);

/*
 * Receive a VM from a live migration: listen on @where ([HOST:]PORT),
 * accept one sender, and open its stream. *@fd receives the connection
 * (to acknowledge on), *@snap the opened snapshot. 0, or a negative errno
 * after printing why.
 */
struct libvm_snapshot;
int control_incoming(const char *where, bool quiet, int *fd, struct libvm_snapshot **snap);

#endif
