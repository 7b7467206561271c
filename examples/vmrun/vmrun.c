/* SPDX-License-Identifier: MIT */
/*
 * vmrun: the reference launcher. Builds a PC-like machine (machine.c) for a
 * kernel, runs all its vCPUs until the VM ends, and turns the ending into an
 * exit status a test harness can read like QEMU's isa-debug-exit status.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "console.h"
#include "machine.h"
#include "options.h"

/* --timeout: a thread that stops the VM unless woken first. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
	bool fired;
	double seconds;
	libvm_vm *vm;
} watchdog = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

static void *watchdog_main(void *arg)
{
	struct timespec deadline;
	int rc = 0;

	(void)arg;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += (time_t)watchdog.seconds;
	deadline.tv_nsec += (long)((watchdog.seconds - (double)(time_t)watchdog.seconds) * 1e9);
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&watchdog.lock);
	while (!watchdog.done && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&watchdog.cond, &watchdog.lock, &deadline);
	if (!watchdog.done) {
		watchdog.fired = true;
		libvm_vm_stop(watchdog.vm);
	}
	pthread_mutex_unlock(&watchdog.lock);
	return NULL;
}

static int status_of(struct machine *m, int err, const libvm_exit *ex, uint32_t id, bool quiet)
{
	if (err) {
		fprintf(stderr, "vmrun: vCPU %u: %s (%s)\n", id, libvm_strerror(err),
			libvm_error_message());
		return VMRUN_STATUS_ERROR;
	}
	switch (ex->reason) {
	case LIBVM_EXIT_GUEST_EXIT:
		return (int)(ex->end.code & 0xff);
	case LIBVM_EXIT_SUSPEND:
		fprintf(stderr, "vmrun: the guest suspended to RAM and cannot be woken here\n");
		return VMRUN_STATUS_CPU_ERROR;
	case LIBVM_EXIT_POWEROFF:
		if (!quiet)
			fprintf(stderr, "vmrun: the guest powered off\n");
		return VMRUN_STATUS_POWEROFF;
	case LIBVM_EXIT_RESET:
		if (!quiet)
			fprintf(stderr, "vmrun: the guest requested a reset\n");
		return VMRUN_STATUS_RESET;
	case LIBVM_EXIT_SYSTEM_EVENT:
		if (ex->system_event.type == LIBVM_SYSTEM_EVENT_RESET)
			return VMRUN_STATUS_RESET;
		if (ex->system_event.type == LIBVM_SYSTEM_EVENT_SHUTDOWN)
			return VMRUN_STATUS_POWEROFF;
		fprintf(stderr, "vmrun: vCPU %u: system event %u\n", id, ex->system_event.backend_type);
		return VMRUN_STATUS_CPU_ERROR;
	case LIBVM_EXIT_SHUTDOWN:
		if (ex->shutdown.state_lost) {
			fprintf(stderr,
				"vmrun: vCPU %u: triple fault (shutdown); its state at the fault is lost: %s reset the vCPU before reporting it (AMD SVM leaves the VMCB undefined at a shutdown)\n",
				id, libvm_vm_device_path(m->vm));
			return VMRUN_STATUS_TRIPLE_FAULT;
		}
		fprintf(stderr, "vmrun: vCPU %u: triple fault (shutdown); state at the fault:\n", id);
		machine_dump_vcpu(m, id);
		return VMRUN_STATUS_TRIPLE_FAULT;
	case LIBVM_EXIT_HLT:
		fprintf(stderr, "vmrun: vCPU %u halted with no interrupt controller to wake it\n", id);
		return VMRUN_STATUS_HALTED;
	case LIBVM_EXIT_STOPPED:
		if (watchdog.fired) {
			fprintf(stderr, "vmrun: timeout after %g s\n", watchdog.seconds);
			return VMRUN_STATUS_TIMEOUT;
		}
		if (console_quit_requested()) {
			fprintf(stderr, "\r\nvmrun: quit\n");
			return VMRUN_STATUS_QUIT;
		}
		return VMRUN_STATUS_ERROR;
	case LIBVM_EXIT_INTERNAL_ERROR:
		/* The backend could not emulate an instruction: end at once
		 * with the state, rather than hang like a VM that spins. */
		fprintf(stderr, "vmrun: vCPU %u: emulation failure (KVM internal error %u", id,
			ex->internal.suberror);
		for (uint32_t i = 0; i < ex->internal.ndata; i++)
			fprintf(stderr, "%s%llx", i ? " " : ", data ",
				(unsigned long long)ex->internal.data[i]);
		fprintf(stderr, ")\n");
		machine_dump_vcpu(m, id);
		return VMRUN_STATUS_CPU_ERROR;
	case LIBVM_EXIT_FAIL_ENTRY:
		fprintf(stderr, "vmrun: vCPU %u: entry failed (hardware reason 0x%llx)\n", id,
			(unsigned long long)ex->fail_entry.hardware_reason);
		machine_dump_vcpu(m, id);
		return VMRUN_STATUS_CPU_ERROR;
	default:
		fprintf(stderr, "vmrun: vCPU %u: unexpected exit %u\n", id, ex->reason);
		machine_dump_vcpu(m, id);
		return VMRUN_STATUS_CPU_ERROR;
	}
}

/* SIGUSR1 while the guest sleeps in S3: the control request that wakes it. */
static int wake_request_fd = -1;

static void on_wake_request(int sig)
{
	uint64_t one = 1;

	(void)sig;
	if (write(wake_request_fd, &one, sizeof(one)) < 0)
		return; /* nothing to do in a signal handler */
}

/*
 * The guest entered S3: keep everything, wait for the RTC alarm or SIGUSR1,
 * then wake it (machine_resume). Returns true to run on; false with
 * *status set when it ended meanwhile (timeout, quit) or the wake failed.
 */
static bool sleep_until_woken(struct machine *m, const struct vmrun_options *o, int *status)
{
	struct pollfd p[2] = { { .fd = m->rtc_wake_fd, .events = POLLIN },
			       { .fd = wake_request_fd, .events = POLLIN } };
	uint64_t v;

	if (!o->quiet)
		fprintf(stderr, "vmrun: the guest suspended to RAM (S3); its RTC alarm or SIGUSR1 (kill -USR1 %d) wakes it\n",
			(int)getpid());
	/* Only what happens from now on wakes it: alarms that fired while it
	 * ran, and requests made then, are spent. */
	if (read(m->rtc_wake_fd, &v, sizeof(v)) < 0)
		v = 0;
	if (read(wake_request_fd, &v, sizeof(v)) < 0)
		v = 0;
	for (;;) {
		if (watchdog.fired || console_quit_requested())
			return true; /* the next run returns STOPPED and says why */
		if (poll(p, 2, 100) > 0)
			break;
	}
	if (!o->quiet)
		fprintf(stderr, "vmrun: waking the guest (%s)\n",
			p[0].revents & POLLIN ? "RTC alarm" : "SIGUSR1");
	if (p[0].revents & POLLIN && read(m->rtc_wake_fd, &v, sizeof(v)) < 0)
		v = 0;
	if (p[1].revents & POLLIN && read(wake_request_fd, &v, sizeof(v)) < 0)
		v = 0;
	if (machine_resume(m, p[0].revents & POLLIN)) {
		*status = VMRUN_STATUS_ERROR;
		return false;
	}
	return true;
}

int main(int argc, char **argv)
{
	struct vmrun_options o;
	struct machine m;
	pthread_t wd;
	bool wd_started = false;
	libvm_exit ex;
	uint32_t id = 0;
	int status, err;

	status = vmrun_parse_options(&o, argc, argv);
	if (status >= 0)
		return status;
	err = machine_build(&m, &o);
	if (err) {
		machine_destroy(&m);
		return VMRUN_STATUS_ERROR;
	}
	if (!strcmp(o.serial, "stdio") && console_start(m.uart, m.vm) < 0)
		fprintf(stderr, "vmrun: no console input: %s\n", strerror(errno));
	if (o.timeout > 0) {
		watchdog.seconds = o.timeout;
		watchdog.vm = m.vm;
		wd_started = pthread_create(&wd, NULL, watchdog_main, NULL) == 0;
	}

	wake_request_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	signal(SIGUSR1, on_wake_request);
	status = -1;
	for (;;) {
		err = libvm_vm_run(m.vm, NULL, &ex, &id);
		if (err || ex.reason != LIBVM_EXIT_SUSPEND || m.rtc_wake_fd < 0)
			break;
		if (!sleep_until_woken(&m, &o, &status))
			break;
	}

	if (wd_started) {
		pthread_mutex_lock(&watchdog.lock);
		watchdog.done = true;
		pthread_cond_broadcast(&watchdog.cond);
		pthread_mutex_unlock(&watchdog.lock);
		pthread_join(wd, NULL);
	}
	console_stop();
	if (status < 0)
		status = status_of(&m, err, &ex, id, o.quiet);
	machine_destroy(&m);
	return status;
}
