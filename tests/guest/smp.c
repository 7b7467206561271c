/*
 * Two vCPUs in one VM, each driven by its own host thread and running its
 * own function here. They hand a token back and forth through shared RAM,
 * which only completes if both run at the same time; each also tags the
 * test port so the host can check which vCPU (and thread) did the access.
 */
#include "guest.h"
#include "testdata.h"

/*
 * How long a vCPU waits for the other: 2^33 TSC ticks, 3 to 9 s at the
 * usual 1 to 3 GHz, so a lost hand-off fails here, before the host's
 * watchdog, while a slow start of the other thread (a PIO exit costs about
 * 100 us under TCG) is no failure.
 */
#define SPIN_TSC_LIMIT (1ull << 33)

static volatile uint32_t ping, pong;

static bool wait_for(volatile uint32_t *flag, uint32_t value)
{
	uint64_t start = rdtsc();

	while (rdtsc() - start < SPIN_TSC_LIMIT) {
		if (*flag == value)
			return true;
		cpu_relax();
	}
	return *flag == value;
}

static int cpu0_main(void)
{
	outb(TESTDEV_PORT + 0, SMP_CPU_TAG(0));
	ping = 1;
	report(wait_for(&pong, 1), "cpu0 got cpu1's answer");
	ping = 2;
	return 0;
}

static int cpu1_main(void)
{
	outb(TESTDEV_PORT + 1, SMP_CPU_TAG(1));
	report(wait_for(&ping, 1), "cpu1 saw cpu0's ping");
	pong = 1;
	report(wait_for(&ping, 2), "cpu1 saw cpu0 finish");
	return 0;
}

int guest_main(unsigned int cpu, uint32_t param)
{
	report(smp_id() == cpu, "running on the stack of vCPU %u", cpu);
	switch (cpu) {
	case 0:
		return cpu0_main();
	case 1:
		return cpu1_main();
	default:
		report(false, "unexpected vCPU %u", cpu);
		return 1;
	}
}
