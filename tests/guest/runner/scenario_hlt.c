/*
 * hlt: the guest halts with interrupts off; the run must return a HLT exit
 * with RIP just past the HLT instruction. While it is halted we change RAX
 * and a mailbox word, then resume: the guest checks it saw both.
 */
#include <inttypes.h>

#include "check.h"
#include "scenarios.h"
#include "testdata.h"
#include "vm.h"

#define HLT_OPCODE 0xf4

int scenario_hlt(const char *image)
{
	struct guest_vm g;
	struct guest_cpu *c = &g.cpu[0];
	uint32_t mailbox = HLT_MAILBOX_VAL;
	uint8_t opcode = 0;
	libvm_exit exit;
	libvm_regs r;
	int rc = guest_vm_create(&g, "vm0", image, 1, 0);

	if (rc)
		return rc;
	rc = guest_cpu_run(c, &exit);
	if (!check(rc == 0 && exit.reason == LIBVM_EXIT_HLT, "first run ends with a HLT exit (rc %d, %s)",
		   rc, exit_reason_name(exit.reason)))
		goto out;
	rc = libvm_vcpu_get_regs(c->vcpu, &r);
	if (!check(rc == 0, "get_regs while halted: %s", libvm_strerror(rc)))
		goto out;
	check(r.rax == HLT_RAX_AT_HLT, "RAX at the HLT is 0x%" PRIx64, r.rax);
	/* Identity mapped, so RIP is also the guest-physical address. */
	rc = libvm_mem_read(g.vm, r.rip - 1, &opcode, 1);
	check(rc == 0 && opcode == HLT_OPCODE, "RIP 0x%" PRIx64 " is just past a HLT (byte 0x%02x)",
	      r.rip, opcode);

	r.rax = HLT_RAX_FROM_HOST;
	rc = libvm_vcpu_set_regs(c->vcpu, &r);
	check(rc == 0, "set RAX while halted: %s", libvm_strerror(rc));
	rc = libvm_mem_write(g.vm, GUEST_MAILBOX, &mailbox, sizeof(mailbox));
	check(rc == 0, "write the mailbox while halted: %s", libvm_strerror(rc));
	guest_cpu_run_to_exit(c);
out:
	check_guest_passed(c);
	guest_vm_destroy(&g);
	return RUNNER_PASS;
}
