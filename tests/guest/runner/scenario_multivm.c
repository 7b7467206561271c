/*
 * multivm: MULTIVM_COUNT VMs exist at once, each with its own RAM, devices
 * and parameter, and run concurrently on their own threads. Each device
 * and each RAM must have seen only its own VM's value; destroying some VMs
 * must leave the others running.
 */
#include <inttypes.h>

#include "check.h"
#include "scenarios.h"
#include "testdata.h"
#include "testdev.h"

static struct guest_vm vms[MULTIVM_COUNT];
static struct testdev devs[MULTIVM_COUNT];
static const char *const names[MULTIVM_COUNT] = { "vm0", "vm1", "vm2", "vm3" };

static void check_vm(unsigned int i)
{
	struct testdev_access want = {
		.addr = TESTDEV_PORT, .len = 4, .is_write = true, .data = MULTIVM_PARAM(i),
	};
	uint32_t echo = 0;
	int rc;

	check_guest_passed(&vms[i].cpu[0]);
	testdev_expect(&devs[i], &want, 1);
	rc = libvm_mem_read(vms[i].vm, GUEST_MAILBOX + MULTIVM_ECHO_OFF, &echo, sizeof(echo));
	check(rc == 0 && echo == MULTIVM_PARAM(i), "%s RAM holds its own parameter 0x%x (read 0x%x)",
	      names[i], MULTIVM_PARAM(i), echo);
}

/* After its exit write the guest parks in cli; hlt: the next run is a HLT exit. */
static void check_still_runs(unsigned int i)
{
	libvm_exit exit;
	int rc = guest_cpu_run(&vms[i].cpu[0], &exit);

	check(rc == 0 && exit.reason == LIBVM_EXIT_HLT,
	      "%s still runs after other VMs were destroyed (rc %d, %s)", names[i], rc,
	      exit_reason_name(exit.reason));
}

int scenario_multivm(const char *image)
{
	pthread_t t[MULTIVM_COUNT];
	bool started[MULTIVM_COUNT] = { false };
	unsigned int created = 0;
	int rc = RUNNER_PASS;

	/* All VMs exist before any runs. */
	for (; created < MULTIVM_COUNT; created++) {
		struct guest_vm *g = &vms[created];

		rc = guest_vm_create(g, names[created], image, 1, MULTIVM_PARAM(created));
		if (rc)
			goto out;
		if (!testdev_attach(&devs[created], g, LIBVM_SPACE_PIO, TESTDEV_PORT, TESTDEV_PORT_LEN,
				    names[created])) {
			created++;
			goto out;
		}
	}
	check(true, "%u VMs alive at once", created);
	for (unsigned int i = 0; i < MULTIVM_COUNT; i++)
		started[i] = guest_cpu_spawn(&vms[i].cpu[0], &t[i]) == 0;
	for (unsigned int i = 0; i < MULTIVM_COUNT; i++)
		if (started[i])
			pthread_join(t[i], NULL);
	for (unsigned int i = 0; i < MULTIVM_COUNT; i++) {
		check(started[i] && vms[i].cpu[0].run_ok, "%s ran to its exit", names[i]);
		check_vm(i);
	}
	/* Tear down out of creation order; the survivors must not notice. */
	guest_vm_destroy(&vms[1]);
	guest_vm_destroy(&vms[3]);
	check_still_runs(0);
	check_still_runs(2);
out:
	for (unsigned int i = 0; i < created; i++)
		guest_vm_destroy(&vms[i]);
	return rc;
}
