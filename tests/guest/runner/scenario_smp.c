/*
 * smp: one VM, two vCPUs, each driven by its own host thread at the same
 * time. The guest's two vCPUs run different functions and hand a token
 * through shared RAM (which needs both running at once); here we check each
 * tagged the test port from its own vCPU on its own thread and both passed.
 */
#include <inttypes.h>

#include "check.h"
#include "scenarios.h"
#include "testdata.h"
#include "testdev.h"

static void check_tags(struct testdev *dev)
{
	struct testdev_access log[TESTDEV_LOG_MAX];
	unsigned int n = testdev_snapshot(dev, log, TESTDEV_LOG_MAX);

	check(n == 2, "the test port saw %u accesses, 2 expected", n);
	for (unsigned int cpu = 0; cpu < 2; cpu++) {
		bool found = false;

		/* The order between the vCPUs is up to the scheduler: look it up. */
		for (unsigned int i = 0; i < n && i < TESTDEV_LOG_MAX; i++)
			if (log[i].vcpu_id == cpu)
				found = log[i].addr == TESTDEV_PORT + cpu && log[i].len == 1 &&
					log[i].is_write && log[i].data == SMP_CPU_TAG(cpu) &&
					log[i].on_vcpu_thread;
		check(found, "cpu%u wrote 0x%x to port 0x%x on its own thread", cpu,
		      SMP_CPU_TAG(cpu), TESTDEV_PORT + cpu);
	}
}

int scenario_smp(const char *image)
{
	struct testdev dev = { 0 };
	struct guest_vm g;
	pthread_t t[2];
	bool started[2] = { false, false };
	int rc = guest_vm_create(&g, "vm0", image, 2, 0);

	if (rc)
		return rc;
	if (!testdev_attach(&dev, &g, LIBVM_SPACE_PIO, TESTDEV_PORT, TESTDEV_PORT_LEN, "tag-dev"))
		goto out;
	for (unsigned int i = 0; i < 2; i++)
		started[i] = guest_cpu_spawn(&g.cpu[i], &t[i]) == 0;
	for (unsigned int i = 0; i < 2; i++)
		if (started[i])
			pthread_join(t[i], NULL);
	for (unsigned int i = 0; i < 2; i++) {
		check(started[i] && g.cpu[i].run_ok, "cpu%u ran to its exit on its thread", i);
		check_guest_passed(&g.cpu[i]);
	}
	check(!pthread_equal(g.cpu[0].thread, g.cpu[1].thread), "the vCPUs ran on different threads");
	check_tags(&dev);
out:
	guest_vm_destroy(&g);
	return RUNNER_PASS;
}
