/*
 * A tiny guest's VM as the runner sets it up through the public libvm API:
 * RAM at GPA 0, the flat image at GUEST_LOAD_ADDR, the console and exit
 * devices, and vCPUs in real mode at the image (the contract in abi.h).
 */
#ifndef RUNNER_VM_H
#define RUNNER_VM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libvm/libvm.h>

#include "abi.h"

struct guest_vm;

struct guest_cpu {
	struct guest_vm *vm;
	libvm_vcpu *vcpu;
	unsigned int index;
	/* The thread in guest_cpu_run() now or last; handlers compare with it. */
	pthread_t thread;
	unsigned int wrong_thread;	/* handler calls seen on another thread */
	/* Set by the exit device (on this vCPU's thread). */
	bool exited;
	uint32_t exit_value;
	/* The console, line-buffered per vCPU so two vCPUs' output stays readable. */
	char line[256];
	size_t line_len;
	unsigned int lines, pass_lines, fail_lines;
	char last_line[256];	/* the last complete line */
	/* Result of a guest_cpu_spawn() thread. */
	bool run_ok;
};

struct guest_vm {
	const char *name;	/* prefixes console lines: "[vm0 cpu1] ..." */
	libvm_vm *vm;
	libvm_region *ram;
	size_t image_size;
	unsigned int ncpus;
	struct guest_cpu cpu[GUEST_MAX_CPUS];
};

/*
 * Create the VM, map RAM, load @image, add the console and exit devices and
 * @ncpus vCPUs at the entry state (ESI = index, EDI = @param). Returns
 * RUNNER_PASS, RUNNER_SKIP when the device cannot be opened (reason
 * printed), or RUNNER_FAIL (reason printed; the VM is destroyed).
 */
int guest_vm_create(struct guest_vm *g, const char *name, const char *image,
		    unsigned int ncpus, uint32_t param);

/* What some scenarios add to the VM guest_vm_create() builds. */
struct guest_vm_setup {
	bool irqchip;       /* the in-kernel PIC/IOAPIC/LAPICs, before the vCPUs */
	libvm_log_fn log;   /* the VM's log callback, or NULL */
	void *log_opaque;
};

/* guest_vm_create() with @setup (NULL: the same as guest_vm_create()); also
 * RUNNER_SKIP when an irqchip is asked for and the backend has none. */
int guest_vm_create_with(struct guest_vm *g, const char *name, const char *image,
			 unsigned int ncpus, uint32_t param, const struct guest_vm_setup *setup);
void guest_vm_destroy(struct guest_vm *g);

/* One libvm_vcpu_run() on the calling thread, which becomes the vCPU's thread. */
int guest_cpu_run(struct guest_cpu *c, libvm_exit *exit);

/*
 * Run until the guest writes the exit port. Any other exit, or an error,
 * is a failed check (described). Returns true when the guest exited.
 */
bool guest_cpu_run_to_exit(struct guest_cpu *c);

/* Run guest_cpu_run_to_exit() on a new thread; the result lands in c->run_ok. */
int guest_cpu_spawn(struct guest_cpu *c, pthread_t *thread);

/*
 * The checks every guest that runs to its end needs: it wrote the exit port
 * with status 1, printed PASS lines and no FAIL line, and all its device
 * callbacks ran on the thread driving it.
 */
void check_guest_passed(struct guest_cpu *c);

/* Print a partial console line still buffered. */
void guest_console_flush(struct guest_cpu *c);

/* "HLT", "MMIO", ...; and a one-line description of an exit (with details). */
const char *exit_reason_name(uint32_t reason);
void describe_exit(char *buf, size_t size, const libvm_exit *exit);

/* Map a handler's vCPU to its guest_cpu (NULL if it is not one of @g's). */
struct guest_cpu *guest_cpu_of(struct guest_vm *g, libvm_vcpu *vcpu);

/* Register the console and exit devices (devices.c). */
int guest_devices_register(struct guest_vm *g);

#endif /* RUNNER_VM_H */
