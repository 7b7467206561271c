/* SPDX-License-Identifier: MIT */
/*
 * vmrun: the reference launcher. Asks libvm for a PC (libvm_machine_create,
 * include/libvm/machine.h) with what the command line says, runs all its
 * vCPUs until the VM ends, and turns the ending into an exit status a test
 * harness can read like QEMU's isa-debug-exit status.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <libvm/machine.h>

#include "console.h"
#include "gdbstub.h"
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

/* Print a vCPU's registers to stderr (after a triple fault or an
 * emulation failure). */
static void dump_vcpu(libvm_machine *m, uint32_t id)
{
	libvm_vcpu *v = libvm_machine_vcpu(m, id);
	libvm_regs r;
	libvm_sregs s;

	if (!v || libvm_vcpu_get_regs(v, &r) || libvm_vcpu_get_sregs(v, &s))
		return;
	fprintf(stderr,
		"vCPU %u state:\n"
		" rip %016" PRIx64 " rflags %08" PRIx64 " rsp %016" PRIx64 "\n"
		" rax %016" PRIx64 " rbx %016" PRIx64 " rcx %016" PRIx64 " rdx %016" PRIx64 "\n"
		" rsi %016" PRIx64 " rdi %016" PRIx64 " rbp %016" PRIx64 "\n"
		" cs %04x base %" PRIx64 " l %u db %u  ss %04x  ds %04x\n"
		" cr0 %08" PRIx64 " cr2 %016" PRIx64 " cr3 %016" PRIx64 " cr4 %08" PRIx64
		" efer %" PRIx64 "\n"
		" gdt %" PRIx64 "/%x idt %" PRIx64 "/%x\n",
		id, r.rip, r.rflags, r.rsp, r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rbp,
		s.cs.selector, s.cs.base, s.cs.l, s.cs.db, s.ss.selector, s.ds.selector, s.cr0,
		s.cr2, s.cr3, s.cr4, s.efer, s.gdt.base, s.gdt.limit, s.idt.base, s.idt.limit);
}

static int status_of(libvm_machine *m, int err, const libvm_exit *ex, uint32_t id, bool quiet)
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
				id, libvm_vm_device_path(libvm_machine_vm(m)));
			return VMRUN_STATUS_TRIPLE_FAULT;
		}
		fprintf(stderr, "vmrun: vCPU %u: triple fault (shutdown); state at the fault:\n", id);
		dump_vcpu(m, id);
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
		dump_vcpu(m, id);
		return VMRUN_STATUS_CPU_ERROR;
	case LIBVM_EXIT_FAIL_ENTRY:
		fprintf(stderr, "vmrun: vCPU %u: entry failed (hardware reason 0x%llx)\n", id,
			(unsigned long long)ex->fail_entry.hardware_reason);
		dump_vcpu(m, id);
		return VMRUN_STATUS_CPU_ERROR;
	default:
		fprintf(stderr, "vmrun: vCPU %u: unexpected exit %u\n", id, ex->reason);
		dump_vcpu(m, id);
		return VMRUN_STATUS_CPU_ERROR;
	}
}

/* --verbose: libvm's diagnostics up to the level asked for. */
static void log_to_stderr(int level, const char *message, void *opaque)
{
	const struct vmrun_options *o = opaque;

	if (level <= LIBVM_LOG_WARN + (int)o->verbose)
		fprintf(stderr, "vmrun: libvm: %s\n", message);
}

/* What vmrun itself owns for the machine: the serial file it opened. */
struct owned {
	int serial_fd;
};

static const uint32_t formats[] = {
	[VMRUN_FORMAT_AUTO] = 0,
	[VMRUN_FORMAT_MULTIBOOT] = LIBVM_FORMAT_MULTIBOOT,
	[VMRUN_FORMAT_ELF] = LIBVM_FORMAT_ELF64, /* the machine sees a PVH note too */
	[VMRUN_FORMAT_FLAT] = LIBVM_FORMAT_FLAT,
	[VMRUN_FORMAT_BZIMAGE] = LIBVM_FORMAT_BZIMAGE,
};

/* The command line as a machine; prints why not and returns the error. */
static int build(libvm_machine **m, const struct vmrun_options *o, struct owned *own)
{
	libvm_machine_options mo = LIBVM_MACHINE_OPTIONS_INIT;
	libvm_vm_options vo = LIBVM_VM_OPTIONS_INIT;
	libvm_uart_options uo = LIBVM_UART_OPTIONS_INIT;
	libvm_machine_module mods[VMRUN_MAX_MODULES];
	libvm_virtio_blk_options blk[VMRUN_MAX_DISKS];
	const libvm_virtio_blk_options *disks[VMRUN_MAX_DISKS];
	libvm_virtio_net_options net = LIBVM_VIRTIO_NET_OPTIONS_INIT;
	const libvm_virtio_net_options *nets[1] = { &net };
	int err;

	vo.device_path = o->device;
	if (o->verbose) {
		vo.log = log_to_stderr;
		vo.log_opaque = (void *)o;
	}
	if (!strcmp(o->serial, "stdio")) {
		uo.output_fd = STDOUT_FILENO;
	} else if (strcmp(o->serial, "none") != 0) {
		own->serial_fd = open(o->serial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (own->serial_fd < 0) {
			fprintf(stderr, "vmrun: --serial %s: %s\n", o->serial, strerror(errno));
			return -errno;
		}
		uo.output_fd = own->serial_fd;
	}
	for (uint32_t i = 0; i < o->nr_modules; i++)
		mods[i] = (libvm_machine_module){ .path = o->modules[i].path,
						  .string = o->modules[i].string };
	for (uint32_t i = 0; i < o->nr_disks; i++) {
		blk[i] = (libvm_virtio_blk_options)LIBVM_VIRTIO_BLK_OPTIONS_INIT;
		blk[i].path = o->disks[i].path;
		blk[i].flags = o->disks[i].readonly ? LIBVM_VIRTIO_BLK_READONLY : 0;
		disks[i] = &blk[i];
	}
	net.tap = o->tap;

	mo.vm = &vo;
	/* --mem takes any size; RAM comes in pages. */
	mo.ram_size = o->mem & ~0xfffull;
	mo.nr_vcpus = o->smp;
	mo.kernel_path = o->kernel;
	mo.kernel_format = formats[o->format];
	mo.modules = mods;
	mo.nr_modules = o->nr_modules;
	mo.cmdline = o->cmdline;
	mo.load_addr = o->load_addr;
	mo.uart = &uo;
	mo.disks = disks;
	mo.nr_disks = o->nr_disks;
	mo.nets = nets;
	mo.nr_nets = o->tap ? 1 : 0;
	mo.nr_rngs = o->rng;
	if (o->pci_testdev)
		mo.flags |= LIBVM_MACHINE_PCI_TESTDEV;
	mo.cpu = o->cpu;
	mo.hyperv = o->hyperv;
	err = libvm_machine_create(m, &mo);
	if (err)
		fprintf(stderr, "vmrun: %s (%s)\n", libvm_error_message(), libvm_strerror(err));
	return err;
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
 * then wake it (libvm_machine_wake). Returns true to run on; false with
 * *status set when it ended meanwhile (timeout, quit) or the wake failed.
 */
static bool sleep_until_woken(libvm_machine *m, const libvm_machine_parts *parts,
			      const struct vmrun_options *o, int *status)
{
	struct pollfd p[2] = { { .fd = parts->rtc_wake_fd, .events = POLLIN },
			       { .fd = wake_request_fd, .events = POLLIN } };
	uint64_t v;
	bool by_rtc;

	if (!o->quiet)
		fprintf(stderr, "vmrun: the guest suspended to RAM (S3); its RTC alarm or SIGUSR1 (kill -USR1 %d) wakes it\n",
			(int)getpid());
	/* The counts of alarms that fired while it ran (the guest took them)
	 * and of requests made then are spent. */
	if (read(parts->rtc_wake_fd, &v, sizeof(v)) < 0)
		v = 0;
	if (read(wake_request_fd, &v, sizeof(v)) < 0)
		v = 0;
	/* But an alarm that went off before, and that the guest has not
	 * taken (it may have fired between the guest's sleep request and the
	 * drain above), is a pending wake event: a PC wakes at once. Asked
	 * after the drain, an alarm shows here or in wake_fd, never neither. */
	by_rtc = libvm_rtc_alarm_pending(parts->rtc) == 1;
	while (!by_rtc) {
		if (watchdog.fired || console_quit_requested())
			return true; /* the next run returns STOPPED and says why */
		if (poll(p, 2, 100) > 0) {
			by_rtc = p[0].revents & POLLIN;
			break;
		}
	}
	if (!o->quiet)
		fprintf(stderr, "vmrun: waking the guest (%s)\n", by_rtc ? "RTC alarm" : "SIGUSR1");
	if (read(parts->rtc_wake_fd, &v, sizeof(v)) < 0)
		v = 0;
	if (p[1].revents & POLLIN && read(wake_request_fd, &v, sizeof(v)) < 0)
		v = 0;
	if (libvm_machine_wake(m, by_rtc ? LIBVM_MACHINE_WAKE_RTC : 0)) {
		fprintf(stderr, "vmrun: wake the guest: %s\n", libvm_error_message());
		*status = VMRUN_STATUS_ERROR;
		return false;
	}
	return true;
}

/* gdb's register layout: amd64 unless the kernel is a 32-bit ELF. */
static bool kernel_is_64bit(const char *path)
{
	unsigned char ident[5] = { 0 };
	FILE *f = fopen(path, "rb");

	if (f) {
		if (fread(ident, 1, sizeof(ident), f) != sizeof(ident))
			ident[0] = 0;
		fclose(f);
	}
	return !(ident[0] == 0x7f && !memcmp(ident + 1, "ELF", 3) && ident[4] == 1);
}

int main(int argc, char **argv)
{
	struct vmrun_options o;
	struct owned own = { .serial_fd = -1 };
	libvm_machine *m = NULL;
	libvm_machine_parts parts = LIBVM_MACHINE_PARTS_INIT;
	libvm_vm *vm;
	pthread_t wd;
	bool wd_started = false;
	struct gdbstub *gdb = NULL;
	libvm_exit ex;
	uint32_t id = 0;
	int status, err;

	status = vmrun_parse_options(&o, argc, argv);
	if (status >= 0)
		return status;
	err = build(&m, &o, &own);
	if (err) {
		if (own.serial_fd >= 0)
			close(own.serial_fd);
		return VMRUN_STATUS_ERROR;
	}
	vm = libvm_machine_vm(m);
	libvm_machine_get_parts(m, &parts);
	if (!strcmp(o.serial, "stdio") && console_start(parts.uart, vm) < 0)
		fprintf(stderr, "vmrun: no console input: %s\n", strerror(errno));
	if (o.gdb_port) {
		gdb = gdbstub_open(m, o.gdb_port, o.gdb_wait, kernel_is_64bit(o.kernel));
		if (!gdb) {
			console_stop();
			libvm_machine_destroy(m);
			return VMRUN_STATUS_ERROR;
		}
	}
	if (o.timeout > 0) {
		watchdog.seconds = o.timeout;
		watchdog.vm = vm;
		wd_started = pthread_create(&wd, NULL, watchdog_main, NULL) == 0;
	}

	wake_request_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	signal(SIGUSR1, on_wake_request);
	status = -1;
	for (;;) {
		err = gdb ? gdbstub_run(gdb, &ex, &id) : libvm_vm_run(vm, NULL, &ex, &id);
		if (err || ex.reason != LIBVM_EXIT_SUSPEND || parts.rtc_wake_fd < 0)
			break;
		if (!sleep_until_woken(m, &parts, &o, &status))
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
	if (status >= 0) {
		/* ended while asleep, or the wake failed */
	} else if (gdb && err == 1) {
		fprintf(stderr, "vmrun: killed from gdb\n");
		status = VMRUN_STATUS_QUIT;
	} else {
		status = status_of(m, err, &ex, id, o.quiet);
	}
	gdbstub_close(gdb, status);
	libvm_machine_destroy(m);
	if (own.serial_fd >= 0)
		close(own.serial_fd);
	if (wake_request_fd >= 0)
		close(wake_request_fd);
	return status;
}
