/*
 * shutdown: the guest triple-faults on purpose. The run must return a
 * shutdown exit (not an error, not a process exit), the VM must still
 * answer the host and be destroyable, and a fresh VM must work afterwards.
 */
#include <inttypes.h>
#include <string.h>

#include "check.h"
#include "scenarios.h"
#include "vm.h"

/* Run one VM into its triple fault and check what the host sees. */
static int triple_fault(const char *image, const char *name)
{
	struct guest_vm g;
	struct guest_cpu *c = &g.cpu[0];
	char what[256];
	libvm_exit exit;
	libvm_regs r;
	uint8_t byte;
	int rc = guest_vm_create(&g, name, image, 1, 0);

	if (rc)
		return rc;
	rc = guest_cpu_run(c, &exit);
	describe_exit(what, sizeof(what), &exit);
	check(rc == 0 && exit.reason == LIBVM_EXIT_SHUTDOWN, "%s: run ends with a SHUTDOWN exit "
	      "(rc %d: %s)", name, rc, what);
	guest_console_flush(c);
	check(!strcmp(c->last_line, "triple fault next"),
	      "%s: the guest got to its fault in long mode (last line \"%s\")", name, c->last_line);
	check(!c->exited, "%s: the guest did not write the exit port", name);
	/* The shut-down VM is still an object the host can inspect. */
	rc = libvm_vcpu_get_regs(c->vcpu, &r);
	check(rc == 0, "%s: registers readable after the shutdown: %s (RIP 0x%" PRIx64 ")", name,
	      libvm_strerror(rc), r.rip);
	rc = libvm_mem_read(g.vm, GUEST_LOAD_ADDR, &byte, 1);
	check(rc == 0 && byte == 0xfa, "%s: memory readable after the shutdown (first byte 0x%02x)",
	      name, byte);
	guest_vm_destroy(&g);
	check(true, "%s destroyed after its shutdown", name);
	return RUNNER_PASS;
}

int scenario_shutdown(const char *image)
{
	int rc = triple_fault(image, "vm0");

	/* A second VM in the same process shows the first left nothing broken. */
	if (rc == RUNNER_PASS)
		rc = triple_fault(image, "vm1");
	return rc;
}
