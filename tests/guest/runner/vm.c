/*
 * VM setup for tiny guests through the public API only, and the run loop
 * helpers the scenarios share. The entry state here is the one documented
 * in abi.h and docs/guest-tests.md; plain architectural real mode, so any
 * KVM-compatible backend (LIBVM_DEVICE) can run it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "vm.h"

static const char *device_path(void)
{
	const char *env = getenv("LIBVM_DEVICE");

	return env && *env ? env : "/dev/kvm";
}

/* The errors libvm_vm_create() gives when the device is missing or closed to us. */
static bool device_unavailable(int rc)
{
	return rc == -ENOENT || rc == -EACCES || rc == -EPERM || rc == -ENODEV || rc == -ENXIO;
}

static int load_image(struct guest_vm *g, const char *path)
{
	static unsigned char buf[GUEST_IMAGE_LIMIT - GUEST_LOAD_ADDR + 1];
	FILE *f = fopen(path, "rb");
	size_t n;
	int rc;

	if (!check(f != NULL, "open guest image %s%s%s", path, f ? "" : ": ",
		   f ? "" : strerror(errno)))
		return -1;
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (!check(n > 0 && n < sizeof(buf), "image %s is %zu bytes (1 .. %u)", path, n,
		   GUEST_IMAGE_LIMIT - GUEST_LOAD_ADDR))
		return -1;
	rc = libvm_mem_write(g->vm, GUEST_LOAD_ADDR, buf, n);
	if (rc) {
		check(false, "copy the image to 0x%x: %s (%s)", GUEST_LOAD_ADDR,
		      libvm_strerror(rc), libvm_error_message());
		return -1;
	}
	g->image_size = n;
	return 0;
}

/*
 * Real mode with CS:IP = (GUEST_LOAD_ADDR >> 4):0. Only CS changes from the
 * reset state; the guest loads its own data segments.
 */
static int set_entry_state(struct guest_cpu *c, uint32_t param)
{
	libvm_sregs sregs;
	libvm_regs regs;
	int rc;

	rc = libvm_vcpu_get_sregs(c->vcpu, &sregs);
	if (rc)
		goto fail;
	sregs.cs.selector = GUEST_LOAD_ADDR >> 4;
	sregs.cs.base = GUEST_LOAD_ADDR;
	rc = libvm_vcpu_set_sregs(c->vcpu, &sregs);
	if (rc)
		goto fail;
	memset(&regs, 0, sizeof(regs));
	regs.rip = 0;
	regs.rflags = 0x2; /* bit 1 is reserved as 1; IF clear */
	regs.rsi = c->index;
	regs.rdi = param;
	rc = libvm_vcpu_set_regs(c->vcpu, &regs);
	if (rc)
		goto fail;
	return 0;
fail:
	check(false, "set the entry state of cpu%u: %s (%s)", c->index, libvm_strerror(rc),
	      libvm_error_message());
	return rc;
}

int guest_vm_create(struct guest_vm *g, const char *name, const char *image,
		    unsigned int ncpus, uint32_t param)
{
	return guest_vm_create_with(g, name, image, ncpus, param, NULL);
}

int guest_vm_create_with(struct guest_vm *g, const char *name, const char *image,
			 unsigned int ncpus, uint32_t param, const struct guest_vm_setup *setup)
{
	libvm_vm_options opts = LIBVM_VM_OPTIONS_INIT;
	int rc;

	if (ncpus == 0 || ncpus > GUEST_MAX_CPUS) {
		check(false, "%s: %u vCPUs asked, 1 .. %u possible", name, ncpus, GUEST_MAX_CPUS);
		return RUNNER_FAIL;
	}
	memset(g, 0, sizeof(*g));
	g->name = name;
	g->ncpus = ncpus;
	if (setup) {
		opts.log = setup->log;
		opts.log_opaque = setup->log_opaque;
	}
	rc = libvm_vm_create(&g->vm, &opts);
	if (device_unavailable(rc)) {
		printf("SKIP: cannot open %s%s: %s (%s)\n", device_path(),
		       getenv("LIBVM_DEVICE") ? " (from LIBVM_DEVICE)" : "", libvm_strerror(rc),
		       libvm_error_message());
		return RUNNER_SKIP;
	}
	if (rc) {
		check(false, "create %s on %s: %s (%s)", name, device_path(), libvm_strerror(rc),
		      libvm_error_message());
		return RUNNER_FAIL;
	}
	rc = libvm_region_map_ram(&g->ram, g->vm, 0, GUEST_RAM_SIZE);
	if (rc) {
		check(false, "map %u KiB of RAM at 0: %s (%s)", GUEST_RAM_SIZE >> 10,
		      libvm_strerror(rc), libvm_error_message());
		goto fail;
	}
	if (load_image(g, image) || guest_devices_register(g))
		goto fail;
	if (setup && setup->irqchip) {
		rc = libvm_irqchip_create(g->vm, 0);
		if (rc == -ENOTSUP) {
			printf("SKIP: %s has no in-kernel irqchip: %s\n", device_path(),
			       libvm_error_message());
			guest_vm_destroy(g);
			return RUNNER_SKIP;
		}
		if (rc) {
			check(false, "create the irqchip of %s: %s (%s)", name, libvm_strerror(rc),
			      libvm_error_message());
			goto fail;
		}
	}
	for (unsigned int i = 0; i < ncpus; i++) {
		struct guest_cpu *c = &g->cpu[i];

		c->vm = g;
		c->index = i;
		rc = libvm_vcpu_create(&c->vcpu, g->vm, i);
		if (rc) {
			check(false, "create cpu%u of %s: %s (%s)", i, name, libvm_strerror(rc),
			      libvm_error_message());
			goto fail;
		}
		if (set_entry_state(c, param))
			goto fail;
	}
	return RUNNER_PASS;
fail:
	guest_vm_destroy(g);
	return RUNNER_FAIL;
}

void guest_vm_destroy(struct guest_vm *g)
{
	for (unsigned int i = 0; i < g->ncpus; i++)
		guest_console_flush(&g->cpu[i]);
	/* The VM owns its vCPUs, regions and devices: one call frees them all. */
	libvm_vm_destroy(g->vm);
	g->vm = NULL;
}

int guest_cpu_run(struct guest_cpu *c, libvm_exit *exit)
{
	c->thread = pthread_self();
	memset(exit, 0, sizeof(*exit));
	return libvm_vcpu_run(c->vcpu, exit);
}

bool guest_cpu_run_to_exit(struct guest_cpu *c)
{
	libvm_exit exit;
	char what[256];
	int rc = guest_cpu_run(c, &exit);

	describe_exit(what, sizeof(what), &exit);
	if (rc == 0 && exit.reason == LIBVM_EXIT_GUEST_EXIT && c->exited)
		return check(exit.end.code == (((uint64_t)c->exit_value << 1) | 1),
			     "%s cpu%u: the run ended with the exit port's status: %s", c->vm->name,
			     c->index, what);
	if (rc)
		check(false, "%s cpu%u: run failed: %s (%s); exit: %s", c->vm->name, c->index,
		      libvm_strerror(rc), libvm_error_message(), what);
	else
		check(false, "%s cpu%u: unexpected exit before the exit port: %s", c->vm->name,
		      c->index, what);
	return false;
}

static void *spawn_main(void *arg)
{
	struct guest_cpu *c = arg;

	c->run_ok = guest_cpu_run_to_exit(c);
	return NULL;
}

int guest_cpu_spawn(struct guest_cpu *c, pthread_t *thread)
{
	int rc = pthread_create(thread, NULL, spawn_main, c);

	if (rc)
		check(false, "start a thread for %s cpu%u: %s", c->vm->name, c->index,
		      strerror(rc));
	return rc;
}

void check_guest_passed(struct guest_cpu *c)
{
	const char *who = c->vm->name;

	guest_console_flush(c);
	if (check(c->exited, "%s cpu%u wrote the exit port", who, c->index))
		check(c->exit_value == 0, "%s cpu%u exit status %u (PASS is 1)", who, c->index,
		      (c->exit_value << 1) | 1);
	check(c->pass_lines > 0 && c->fail_lines == 0,
	      "%s cpu%u console: %u PASS and %u FAIL lines", who, c->index, c->pass_lines,
	      c->fail_lines);
	check(c->wrong_thread == 0, "%s cpu%u: every device callback ran on its vCPU's thread "
	      "(%u did not)", who, c->index, c->wrong_thread);
}

const char *exit_reason_name(uint32_t reason)
{
	static const char *const names[] = {
		[LIBVM_EXIT_NONE] = "NONE",
		[LIBVM_EXIT_HLT] = "HLT",
		[LIBVM_EXIT_SHUTDOWN] = "SHUTDOWN",
		[LIBVM_EXIT_IO] = "IO",
		[LIBVM_EXIT_MMIO] = "MMIO",
		[LIBVM_EXIT_STOPPED] = "STOPPED",
		[LIBVM_EXIT_INTERNAL_ERROR] = "INTERNAL_ERROR",
		[LIBVM_EXIT_SYSTEM_EVENT] = "SYSTEM_EVENT",
		[LIBVM_EXIT_FAIL_ENTRY] = "FAIL_ENTRY",
		[LIBVM_EXIT_UNKNOWN] = "UNKNOWN",
		[LIBVM_EXIT_DEVICE_ERROR] = "DEVICE_ERROR",
		[LIBVM_EXIT_GUEST_EXIT] = "GUEST_EXIT",
		[LIBVM_EXIT_RESET] = "RESET",
		[LIBVM_EXIT_POWEROFF] = "POWEROFF",
	};

	if (reason < sizeof(names) / sizeof(names[0]) && names[reason])
		return names[reason];
	return "(not a libvm exit reason)";
}

void describe_exit(char *buf, size_t size, const libvm_exit *exit)
{
	const char *name = exit_reason_name(exit->reason);

	switch (exit->reason) {
	case LIBVM_EXIT_IO:
	case LIBVM_EXIT_MMIO:
	case LIBVM_EXIT_DEVICE_ERROR:
		snprintf(buf, size, "%s %s of %u bytes at 0x%llx data 0x%llx count %u", name,
			 exit->io.is_write ? "write" : "read", exit->io.size,
			 (unsigned long long)exit->io.addr, (unsigned long long)exit->io.data,
			 exit->io.count);
		break;
	case LIBVM_EXIT_INTERNAL_ERROR:
		/* All four words: the second to fourth say where an NPF was. */
		snprintf(buf, size, "%s suberror %u ndata %u data 0x%llx 0x%llx 0x%llx 0x%llx", name,
			 exit->internal.suberror, exit->internal.ndata,
			 (unsigned long long)exit->internal.data[0],
			 (unsigned long long)exit->internal.data[1],
			 (unsigned long long)exit->internal.data[2],
			 (unsigned long long)exit->internal.data[3]);
		break;
	case LIBVM_EXIT_SYSTEM_EVENT:
		snprintf(buf, size, "%s type %u (backend %u)", name, exit->system_event.type,
			 exit->system_event.backend_type);
		break;
	case LIBVM_EXIT_FAIL_ENTRY:
		snprintf(buf, size, "%s hardware reason 0x%llx", name,
			 (unsigned long long)exit->fail_entry.hardware_reason);
		break;
	case LIBVM_EXIT_GUEST_EXIT:
	case LIBVM_EXIT_RESET:
	case LIBVM_EXIT_POWEROFF:
		snprintf(buf, size, "%s code %llu", name, (unsigned long long)exit->end.code);
		break;
	case LIBVM_EXIT_UNKNOWN:
		snprintf(buf, size, "%s backend reason %u", name, exit->unknown.backend_reason);
		break;
	default:
		snprintf(buf, size, "%s", name);
		break;
	}
}
