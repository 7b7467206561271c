/*
 * guest-runner: run one tiny guest scenario through libvm and print a
 * verdict. Usage: guest-runner <scenario> <image.bin>. Exit status 0 PASS,
 * 1 FAIL, 77 SKIP (no usable KVM device), as meson's test() expects.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libvm/libvm.h>

#include "check.h"
#include "scenarios.h"

/* Below meson's 60 s test timeout, so a hung guest still gets a clear line. */
#define WATCHDOG_SECONDS 30

static const struct scenario {
	const char *name;
	int (*run)(const char *image);
	const char *what;
} scenarios[] = {
	{ "pio", scenario_pio, "port I/O of 1, 2 and 4 bytes reaches a device" },
	{ "mmio", scenario_mmio, "MMIO of 1, 2, 4 and 8 bytes reaches a device" },
	{ "longmode", scenario_longmode, "the entry code reaches 64-bit long mode" },
	{ "hlt", scenario_hlt, "HLT exits to the host and resumes" },
	{ "shutdown", scenario_shutdown, "a triple fault gives a shutdown exit" },
	{ "stop", scenario_stop, "another thread stops a spinning vCPU" },
	{ "rom", scenario_rom, "a write to a read-only region is an MMIO exit" },
	{ "smp", scenario_smp, "two vCPUs on two threads in one VM" },
	{ "multivm", scenario_multivm, "several VMs alive and running at once" },
	{ "msi", scenario_msi, "MSI routes and irqfd reach the in-kernel LAPIC" },
};

static void *watchdog(void *arg)
{
	struct timespec t = { .tv_sec = WATCHDOG_SECONDS };
	const char *name = arg;

	while (nanosleep(&t, &t))
		;
	printf("FAIL: %s: watchdog: not finished after %d s (a guest hangs?)\n", name,
	       WATCHDOG_SECONDS);
	fflush(stdout);
	_exit(RUNNER_FAIL);
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: guest-runner <scenario> <image.bin>\nscenarios:\n");
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		fprintf(f, "  %-10s %s\n", scenarios[i].name, scenarios[i].what);
}

int main(int argc, char **argv)
{
	const struct scenario *s = NULL;
	pthread_t dog;
	int rc;

	/* Line-buffered even into meson's log pipe, so a hang shows where it was. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 3) {
		usage(stderr);
		return RUNNER_FAIL;
	}
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		if (!strcmp(argv[1], scenarios[i].name))
			s = &scenarios[i];
	if (!s) {
		fprintf(stderr, "guest-runner: unknown scenario '%s'\n", argv[1]);
		usage(stderr);
		return RUNNER_FAIL;
	}
	printf("scenario %s: %s (libvm %s, image %s)\n", s->name, s->what, libvm_version(),
	       argv[2]);
	if (pthread_create(&dog, NULL, watchdog, (void *)s->name) == 0)
		pthread_detach(dog);

	rc = s->run(argv[2]);
	if (rc == RUNNER_SKIP) {
		printf("SKIP: %s\n", s->name);
		return RUNNER_SKIP;
	}
	if (rc == RUNNER_PASS && check_count() > 0 && check_failures() == 0) {
		printf("PASS: %s (%u host checks)\n", s->name, check_count());
		return RUNNER_PASS;
	}
	printf("FAIL: %s (%u of %u host checks failed%s)\n", s->name, check_failures(),
	       check_count(), rc == RUNNER_PASS ? "" : "; the scenario gave up early");
	return RUNNER_FAIL;
}
