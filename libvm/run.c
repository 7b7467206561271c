/* SPDX-License-Identifier: MIT */
/*
 * The run loop and the stop protocol.
 *
 * Stop: the stopper sets stop_requested, then run->immediate_exit, then, if
 * the vCPU is inside libvm_vcpu_run(), sends it the kick signal. The runner
 * checks stop_requested before every KVM_RUN. Whatever the interleaving, one
 * of these ends the run: the flag is seen before entering; immediate_exit is
 * set before KVM_RUN reads it (KVM returns -EINTR at once); or the signal
 * arrives while the thread is in the kernel (KVM returns -EINTR). Because
 * the signal is sent after immediate_exit is written, there is no window in
 * which neither is seen. The kick signal is unblocked for the duration of
 * the run, whatever the application's mask.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static void kick_handler(int sig)
{
	(void)sig; /* Its only job is to interrupt KVM_RUN. */
}

int libvm__kick_signal_install(int sig)
{
	struct sigaction old, sa;

	if (sigaction(sig, NULL, &old) < 0)
		return libvm__fail(-errno, "cannot query signal %d: %s", sig, strerror(errno));
	if (!(old.sa_flags & SA_SIGINFO) && (old.sa_handler == SIG_DFL || old.sa_handler == SIG_IGN)) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = kick_handler;
		/* SA_RESTART keeps the kick from failing device handlers' own
		 * system calls; KVM_RUN is never restarted (it returns -EINTR). */
		sa.sa_flags = SA_RESTART;
		sigemptyset(&sa.sa_mask);
		if (sigaction(sig, &sa, NULL) < 0)
			return libvm__fail(-errno, "cannot install handler for signal %d: %s", sig,
					   strerror(errno));
	}
	return 0;
}

LIBVM_EXPORT int libvm_vcpu_stop(libvm_vcpu *vcpu)
{
	LIBVM__CHECK_VCPU(vcpu, "libvm_vcpu_stop");
	atomic_store(&vcpu->stop_requested, true);
	__atomic_store_n(&vcpu->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	pthread_mutex_lock(&vcpu->run_lock);
	/* Under run_lock the thread cannot leave run and exit meanwhile. */
	if (vcpu->running && !pthread_equal(vcpu->thread, pthread_self()))
		pthread_kill(vcpu->thread, vcpu->vm->kick_signal);
	pthread_mutex_unlock(&vcpu->run_lock);
	return 0;
}

void libvm__vcpu_clear_stop(libvm_vcpu *vcpu)
{
	__atomic_store_n(&vcpu->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
	atomic_store(&vcpu->stop_requested, false);
}

/* True when a stop was pending; consumes it. */
static bool take_stop(libvm_vcpu *vcpu)
{
	__atomic_store_n(&vcpu->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
	return atomic_exchange(&vcpu->stop_requested, false);
}

static void fill_io_exit(libvm_exit *exit, uint32_t reason, uint64_t addr, const void *data,
			 uint32_t size, uint32_t count, bool is_write)
{
	exit->reason = reason;
	exit->io.addr = addr;
	exit->io.size = size;
	exit->io.count = count;
	exit->io.is_write = is_write;
	exit->io.data = 0;
	memcpy(&exit->io.data, data, size > 8 ? 8 : size);
}

/* Leave an unhandled read for libvm_vcpu_complete_read(); default all-ones. */
static void pend_read(libvm_vcpu *vcpu, void *data, uint32_t len)
{
	memset(data, 0xff, len);
	vcpu->read_pending = true;
	vcpu->read_data = data;
	vcpu->read_len = len;
}

/*
 * What a failed handler said: its own libvm_error_message() when it set
 * one (dispatch clears the message before calling it), else the errno
 * text. Copied, since the caller formats it into that same buffer.
 */
static const char *handler_message(int err)
{
	static _Thread_local char copy[200];

	if (libvm_error_message()[0])
		snprintf(copy, sizeof(copy), "%s", libvm_error_message());
	else
		snprintf(copy, sizeof(copy), "%s", strerror(-err));
	return copy;
}

/* 1: handled, keep running; 0: return to the caller; <0: handler error. */
static int handle_pio(libvm_vcpu *vcpu, libvm_exit *exit)
{
	struct kvm_run *run = vcpu->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool is_write = run->io.direction == KVM_EXIT_IO_OUT;
	uint32_t size = run->io.size;

	for (uint32_t i = 0; i < run->io.count; i++) {
		int r = libvm__iobus_dispatch(vcpu->vm, LIBVM_SPACE_PIO, vcpu, run->io.port,
					      data + i * size, size, is_write);

		if (r == 1)
			continue;
		fill_io_exit(exit, r < 0 ? LIBVM_EXIT_DEVICE_ERROR : LIBVM_EXIT_IO, run->io.port,
			     data + i * size, size, run->io.count, is_write);
		if (r < 0) {
			/* The error is the outcome; an ending the handler
			 * asked for must not end the next run instead. */
			vcpu->end_reason = 0;
			return libvm__fail(r, "handler for port 0x%x failed: %s", run->io.port,
					   handler_message(r));
		}
		/* No device: reads of unclaimed ports see all-ones, like a bus
		 * with nothing on it, unless the caller completes them. */
		if (!is_write)
			pend_read(vcpu, data + i * size, size * (run->io.count - i));
		return 0;
	}
	return 1;
}

static int handle_mmio(libvm_vcpu *vcpu, libvm_exit *exit)
{
	struct kvm_run *run = vcpu->run;
	uint32_t len = run->mmio.len > 8 ? 8 : run->mmio.len;
	int r = libvm__iobus_dispatch(vcpu->vm, LIBVM_SPACE_MMIO, vcpu, run->mmio.phys_addr,
				      run->mmio.data, len, run->mmio.is_write);

	if (r == 1)
		return 1;
	fill_io_exit(exit, r < 0 ? LIBVM_EXIT_DEVICE_ERROR : LIBVM_EXIT_MMIO, run->mmio.phys_addr,
		     run->mmio.data, len, 1, run->mmio.is_write);
	if (r < 0) {
		vcpu->end_reason = 0; /* as in handle_pio() */
		return libvm__fail(r, "handler for MMIO 0x%llx failed: %s",
				   (unsigned long long)run->mmio.phys_addr, handler_message(r));
	}
	if (!run->mmio.is_write)
		pend_read(vcpu, run->mmio.data, len);
	return 0;
}

static enum libvm_system_event system_event_type(uint32_t type)
{
	switch (type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		return LIBVM_SYSTEM_EVENT_SHUTDOWN;
	case KVM_SYSTEM_EVENT_RESET:
		return LIBVM_SYSTEM_EVENT_RESET;
	case KVM_SYSTEM_EVENT_CRASH:
		return LIBVM_SYSTEM_EVENT_CRASH;
	default:
		return LIBVM_SYSTEM_EVENT_OTHER;
	}
}

/* Copy a backend's data words, trusting its count only up to our 16. */
static uint32_t copy_data(uint64_t dst[16], const void *src, uint32_t n)
{
	if (n > 16)
		n = 16;
	memcpy(dst, src, n * sizeof(uint64_t));
	return n;
}

/*
 * Whether the vCPU's registers after a shutdown exit are its reset state
 * rather than the state at the triple fault: real mode at 0xf000:0xfff0
 * with the reset CS base (SDM vol. 3 9.1.4). A guest cannot be caught
 * there by a triple fault of its own (the first instruction would have to
 * fault three times with no IDT change). Unknown (an ioctl failed) counts
 * as lost.
 */
static uint32_t shutdown_state_lost(libvm_vcpu *vcpu)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (libvm__bk_get_regs(vcpu, &r) < 0 || libvm__bk_get_sregs(vcpu, &s) < 0)
		return 1;
	return r.rip == 0xfff0 && s.cs.selector == 0xf000 && s.cs.base == 0xffff0000ull &&
	       !(s.cr0 & 1);
}

/* Translate one KVM exit. 1: keep running; 0: return; <0: error. */
static int handle_exit(libvm_vcpu *vcpu, libvm_exit *exit)
{
	struct kvm_run *run = vcpu->run;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		return handle_pio(vcpu, exit);
	case KVM_EXIT_MMIO:
		return handle_mmio(vcpu, exit);
	case KVM_EXIT_HLT:
		exit->reason = LIBVM_EXIT_HLT;
		return 0;
	case KVM_EXIT_SHUTDOWN:
		exit->reason = LIBVM_EXIT_SHUTDOWN;
		exit->shutdown.state_lost = shutdown_state_lost(vcpu);
		return 0;
	case KVM_EXIT_INTR:
		return 1; /* a signal; the loop checks for a stop */
	case KVM_EXIT_INTERNAL_ERROR:
		exit->reason = LIBVM_EXIT_INTERNAL_ERROR;
		exit->internal.suberror = run->internal.suberror;
		exit->internal.ndata = copy_data(exit->internal.data, run->internal.data,
						 run->internal.ndata);
		return 0;
	case KVM_EXIT_SYSTEM_EVENT:
		exit->reason = LIBVM_EXIT_SYSTEM_EVENT;
		exit->system_event.backend_type = run->system_event.type;
		exit->system_event.type = system_event_type(run->system_event.type);
		exit->system_event.ndata = copy_data(exit->system_event.data,
						     run->system_event.data, run->system_event.ndata);
		return 0;
	case KVM_EXIT_HYPERV:
		exit->reason = LIBVM_EXIT_HYPERV;
		exit->hyperv.type = run->hyperv.type;
		if (run->hyperv.type == KVM_EXIT_HYPERV_SYNIC) {
			exit->hyperv.msr = run->hyperv.u.synic.msr;
			exit->hyperv.control = run->hyperv.u.synic.control;
			exit->hyperv.evt_page = run->hyperv.u.synic.evt_page;
			exit->hyperv.msg_page = run->hyperv.u.synic.msg_page;
		} else if (run->hyperv.type == KVM_EXIT_HYPERV_HCALL) {
			exit->hyperv.input = run->hyperv.u.hcall.input;
			exit->hyperv.params[0] = run->hyperv.u.hcall.params[0];
			exit->hyperv.params[1] = run->hyperv.u.hcall.params[1];
			/* Unless the VMM answers: no such hypercall (TLFS 3.10). */
			run->hyperv.u.hcall.result = 2;
		}
		return 0;
	case KVM_EXIT_DEBUG:
		exit->reason = LIBVM_EXIT_DEBUG;
		exit->debug.exception = run->debug.arch.exception;
		exit->debug.pc = run->debug.arch.pc;
		exit->debug.dr6 = run->debug.arch.dr6;
		exit->debug.dr7 = run->debug.arch.dr7;
		return 0;
	case KVM_EXIT_FAIL_ENTRY:
		exit->reason = LIBVM_EXIT_FAIL_ENTRY;
		exit->fail_entry.hardware_reason = run->fail_entry.hardware_entry_failure_reason;
		exit->fail_entry.cpu = run->fail_entry.cpu;
		return 0;
	default:
		exit->reason = LIBVM_EXIT_UNKNOWN;
		exit->unknown.backend_reason = run->exit_reason;
		return 0;
	}
}

/* A handler asked to end the run: report that instead of resuming. */
static bool take_end(libvm_vcpu *vcpu, libvm_exit *exit)
{
	if (!vcpu->end_reason)
		return false;
	memset(exit, 0, sizeof(*exit));
	exit->reason = vcpu->end_reason;
	exit->end.code = vcpu->end_code;
	vcpu->end_reason = 0;
	return true;
}

/*
 * KVM finishes a port or MMIO access that a handler served (storing a
 * read's data in the guest's register, moving RIP past the instruction)
 * only on the next KVM_RUN. Before the loop returns a stop or an ending
 * right after such an exit, it lets KVM do that with immediate_exit set
 * (KVM completes the access, then returns -EINTR without running the
 * guest), so a caller that reads or writes the registers of a stopped
 * vCPU sees the instruction done and loses nothing the device returned.
 * 1: done; 0: the completion itself exited (the rest of a string I/O
 * instruction) and *exit says how, for the caller; <0: error.
 */
static int handle_exit(libvm_vcpu *vcpu, libvm_exit *exit);

/*
 * One KVM_RUN. 0: an exit to handle; 1: interrupted (a signal or
 * immediate_exit; immediate_exit is cleared again, or the loop would spin:
 * a stop racing with that store has set its flag first, so the loop's
 * check still sees it); <0: error. Any pending read is consumed by it, and
 * a served access completed, even when it was interrupted.
 */
static int enter(libvm_vcpu *vcpu)
{
	int r = vcpu->vm->backend->vcpu_run(vcpu);

	vcpu->read_pending = false;
	/* Queued writes first: the exit may be a read that depends on them. */
	libvm__coalesced_drain(vcpu);
	if (r >= 0)
		return 0;
	if (r == -EINTR || r == -EAGAIN) {
		__atomic_store_n(&vcpu->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
		return 1;
	}
	return libvm__fail(r, "vCPU %u: KVM_RUN failed: %s", vcpu->id, strerror(-r));
}

static int complete_access(libvm_vcpu *vcpu, libvm_exit *exit)
{
	/* A string instruction may need several exits; each is served. */
	for (int i = 0; i < 64; i++) {
		int r;

		__atomic_store_n(&vcpu->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
		r = enter(vcpu);
		__atomic_store_n(&vcpu->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
		if (r)
			return r; /* done (interrupted), or an error */
		/* The rest of a string instruction exited again: serve it. */
		r = handle_exit(vcpu, exit);
		if (r <= 0)
			return r;
	}
	return 1;
}

static int run_loop(libvm_vcpu *vcpu, libvm_exit *exit)
{
	bool served = false; /* the last exit was an access a handler served */

	for (;;) {
		int r;

		if (served && (vcpu->end_reason || atomic_load(&vcpu->stop_requested))) {
			served = false;
			r = complete_access(vcpu, exit);
			if (r <= 0)
				return r;
		}
		if (take_end(vcpu, exit))
			return 0;

		if (atomic_load(&vcpu->stop_requested) && take_stop(vcpu)) {
			exit->reason = LIBVM_EXIT_STOPPED;
			return 0;
		}
		/* Interrupted: a stop (checked at the top), a foreign signal,
		 * or an immediate_exit left by a stop an earlier run consumed. */
		r = enter(vcpu);
		served = false;
		if (r < 0)
			return r;
		if (r)
			continue;
		r = handle_exit(vcpu, exit);
		if (r <= 0)
			return r;
		/* KVM completes the access on the next KVM_RUN, or in
		 * complete_access() when the loop is about to return. */
		served = vcpu->run->exit_reason == KVM_EXIT_IO ||
			 vcpu->run->exit_reason == KVM_EXIT_MMIO;
	}
}

LIBVM_EXPORT int libvm_vcpu_run(libvm_vcpu *vcpu, libvm_exit *exit)
{
	sigset_t kick, old;
	bool unblocked = false;
	int r;

	LIBVM__CHECK_VCPU(vcpu, "libvm_vcpu_run");
	if (!exit)
		return libvm__fail(-EINVAL, "libvm_vcpu_run: exit is NULL");
	memset(exit, 0, sizeof(*exit));

	pthread_mutex_lock(&vcpu->run_lock);
	/* Again under the lock: a destroy on another thread marks it dead
	 * under this lock before tearing it down. */
	if (vcpu->magic != LIBVM__MAGIC_VCPU) {
		pthread_mutex_unlock(&vcpu->run_lock);
		return libvm__dead(vcpu, LIBVM__MAGIC_VCPU, "libvm_vcpu_run", "vCPU");
	}
	if (vcpu->running) {
		pthread_mutex_unlock(&vcpu->run_lock);
		return libvm__fail(-EBUSY, "vCPU %u is already running on another thread",
				   vcpu->id);
	}
	vcpu->running = true;
	vcpu->thread = pthread_self();
	pthread_mutex_unlock(&vcpu->run_lock);

	sigemptyset(&kick);
	sigaddset(&kick, vcpu->vm->kick_signal);
	if (pthread_sigmask(SIG_UNBLOCK, &kick, &old) == 0)
		unblocked = sigismember(&old, vcpu->vm->kick_signal) == 1;

	r = run_loop(vcpu, exit);

	if (unblocked)
		pthread_sigmask(SIG_BLOCK, &kick, NULL);
	pthread_mutex_lock(&vcpu->run_lock);
	vcpu->running = false;
	pthread_mutex_unlock(&vcpu->run_lock);
	return r;
}

LIBVM_EXPORT int libvm_vcpu_complete_read(libvm_vcpu *vcpu, const void *data, uint32_t len)
{
	LIBVM__CHECK_VCPU(vcpu, "libvm_vcpu_complete_read");
	if (!data)
		return libvm__fail(-EINVAL, "libvm_vcpu_complete_read: data is NULL");
	if (!vcpu->read_pending)
		return libvm__fail(-EINVAL, "vCPU %u has no unhandled read to complete", vcpu->id);
	if (len == 0 || len > vcpu->read_len)
		return libvm__fail(-EINVAL, "read of %u bytes pending, %u given", vcpu->read_len,
				   len);
	memcpy(vcpu->read_data, data, len);
	return 0;
}

LIBVM_EXPORT int libvm_vcpu_end_run(libvm_vcpu *vcpu, uint32_t reason, uint64_t code)
{
	LIBVM__CHECK_VCPU(vcpu, "libvm_vcpu_end_run");
	if (reason != LIBVM_EXIT_GUEST_EXIT && reason != LIBVM_EXIT_RESET &&
	    reason != LIBVM_EXIT_POWEROFF && reason != LIBVM_EXIT_SUSPEND)
		return libvm__fail(-EINVAL, "libvm_vcpu_end_run: reason %u is not an ending",
				   reason);
	vcpu->end_reason = reason;
	vcpu->end_code = code;
	return 0;
}
