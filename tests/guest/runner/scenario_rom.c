/*
 * rom: a read-only region after RAM. The guest reads what the host wrote
 * there, then writes to it: the run must return an MMIO exit for exactly
 * that write (address, width, data), the region must keep its contents,
 * and after resuming the guest sees the old value.
 */
#include <inttypes.h>
#include <stdio.h>

#include "check.h"
#include "scenarios.h"
#include "testdata.h"
#include "vm.h"

static bool map_rom(struct guest_vm *g)
{
	static const uint32_t contents[] = { ROM_WORD0, ROM_WORD1, ROM_WORD2 };
	libvm_region_options opts = LIBVM_REGION_OPTIONS_INIT;
	int rc;

	opts.gpa = GUEST_ROM_BASE;
	opts.length = GUEST_ROM_SIZE;
	opts.flags = LIBVM_REGION_READONLY;
	opts.name = "rom";
	rc = libvm_region_map(NULL, g->vm, &opts);
	if (!check(rc == 0, "map a read-only region at 0x%x: %s %s", GUEST_ROM_BASE,
		   libvm_strerror(rc), rc ? libvm_error_message() : ""))
		return false;
	/* Host writes to read-only regions are how ROM gets its contents. */
	rc = libvm_mem_write(g->vm, GUEST_ROM_BASE, contents, sizeof(contents));
	return check(rc == 0, "fill the read-only region: %s %s", libvm_strerror(rc),
		     rc ? libvm_error_message() : "");
}

static void write_exit(struct guest_vm *g, struct guest_cpu *c)
{
	uint32_t word = 0;
	char what[256];
	libvm_exit exit;
	int rc = guest_cpu_run(c, &exit);

	describe_exit(what, sizeof(what), &exit);
	if (!check(rc == 0 && exit.reason == LIBVM_EXIT_MMIO, "the write ends the run with an MMIO "
		   "exit (rc %d: %s)", rc, what))
		return;
	check(exit.io.addr == GUEST_ROM_BASE + ROM_WRITE_OFF && exit.io.size == 4 &&
	      exit.io.is_write && exit.io.data == ROM_WRITE_VAL,
	      "the exit is the guest's write32 of 0x%x at 0x%x (got %s)", ROM_WRITE_VAL,
	      GUEST_ROM_BASE + ROM_WRITE_OFF, what);
	rc = libvm_mem_read(g->vm, GUEST_ROM_BASE + ROM_WRITE_OFF, &word, sizeof(word));
	check(rc == 0 && word == ROM_WORD2, "the region still holds 0x%x (read 0x%x)", ROM_WORD2,
	      word);
	guest_cpu_run_to_exit(c);
}

int scenario_rom(const char *image)
{
	struct guest_vm g;
	int rc = guest_vm_create(&g, "vm0", image, 1, 0);

	if (rc)
		return rc;
	rc = libvm_has(g.vm, LIBVM_CAP_READONLY_MEM);
	if (rc != 1) {
		printf("SKIP: the backend %s has no read-only memory (libvm_has: %d)\n",
		       libvm_vm_device_path(g.vm), rc);
		guest_vm_destroy(&g);
		return rc == 0 ? RUNNER_SKIP : RUNNER_FAIL;
	}
	if (map_rom(&g))
		write_exit(&g, &g.cpu[0]);
	check_guest_passed(&g.cpu[0]);
	guest_vm_destroy(&g);
	return RUNNER_PASS;
}
