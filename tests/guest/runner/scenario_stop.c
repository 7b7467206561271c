/*
 * stop: a vCPU spinning in the guest is stopped from another thread. The
 * guest announces its spin loop on the test port; the main thread waits
 * for that, lets it spin, calls libvm_vcpu_stop() and times how long the
 * runner thread's libvm_vcpu_run() takes to return LIBVM_EXIT_STOPPED. Then
 * a stop while idle must end the next run at once, and after the host
 * writes the release word a further run (on the main thread) finishes.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "scenarios.h"
#include "testdata.h"
#include "testdev.h"

/* How long the guest spins before the stop, and how fast the stop must act. */
#define SPIN_BEFORE_STOP_MS	50
#define STOP_LATENCY_MAX_MS	1000
#define SPIN_WAIT_S		10

struct stop_run {
	struct guest_cpu *cpu;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool spinning;		/* the guest wrote STOP_SPINNING */
	int rc;			/* the runner thread's libvm_vcpu_run() result */
	libvm_exit exit;
	struct timespec returned;
};

static double ms_between(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) * 1e3 + (b->tv_nsec - a->tv_nsec) / 1e6;
}

static void on_access(struct testdev *dev, const struct testdev_access *a)
{
	struct stop_run *s = dev->notify_opaque;

	if (!(a->is_write && a->data == STOP_SPINNING))
		return;
	pthread_mutex_lock(&s->lock);
	s->spinning = true;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

static void *runner_thread(void *arg)
{
	struct stop_run *s = arg;

	s->rc = guest_cpu_run(s->cpu, &s->exit);
	clock_gettime(CLOCK_MONOTONIC, &s->returned);
	return NULL;
}

static bool wait_until_spinning(struct stop_run *s)
{
	struct timespec deadline;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += SPIN_WAIT_S;
	pthread_mutex_lock(&s->lock);
	while (!s->spinning && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&s->cond, &s->lock, &deadline);
	pthread_mutex_unlock(&s->lock);
	return s->spinning;
}

static void stop_and_release(struct guest_vm *g, struct stop_run *s)
{
	struct guest_cpu *c = &g->cpu[0];
	struct timespec nap = { 0, SPIN_BEFORE_STOP_MS * 1000000L }, asked;
	uint32_t release = STOP_RELEASE;
	char what[256];
	libvm_exit exit;
	pthread_t t;
	int rc;

	if (pthread_create(&t, NULL, runner_thread, s)) {
		check(false, "start the runner thread");
		return;
	}
	if (!check(wait_until_spinning(s), "the guest reached its spin loop within %d s",
		   SPIN_WAIT_S)) {
		/* Still end the run, or the join below would wait for the watchdog. */
		libvm_vcpu_stop(c->vcpu);
		pthread_join(t, NULL);
		return;
	}
	nanosleep(&nap, NULL);
	clock_gettime(CLOCK_MONOTONIC, &asked);
	rc = libvm_vcpu_stop(c->vcpu);
	check(rc == 0, "libvm_vcpu_stop from the main thread: %s", libvm_strerror(rc));
	pthread_join(t, NULL);

	describe_exit(what, sizeof(what), &s->exit);
	check(s->rc == 0 && s->exit.reason == LIBVM_EXIT_STOPPED,
	      "the spinning run returned STOPPED (rc %d: %s)", s->rc, what);
	check(ms_between(&asked, &s->returned) < STOP_LATENCY_MAX_MS,
	      "it returned %.3f ms after the stop (limit %d ms)", ms_between(&asked, &s->returned),
	      STOP_LATENCY_MAX_MS);
	check(!c->exited, "the guest had not finished when stopped");

	/* A stop while nothing runs is kept for the next run, and used up by it. */
	rc = libvm_vcpu_stop(c->vcpu);
	check(rc == 0, "libvm_vcpu_stop while idle: %s", libvm_strerror(rc));
	rc = guest_cpu_run(c, &exit);
	describe_exit(what, sizeof(what), &exit);
	check(rc == 0 && exit.reason == LIBVM_EXIT_STOPPED,
	      "the next run returns STOPPED at once (rc %d: %s)", rc, what);

	rc = libvm_mem_write(g->vm, GUEST_MAILBOX, &release, sizeof(release));
	check(rc == 0, "write the release word: %s", libvm_strerror(rc));
	/* Another thread than before drives the vCPU now: allowed, one at a time. */
	guest_cpu_run_to_exit(c);
}

int scenario_stop(const char *image)
{
	struct stop_run s = {
		.lock = PTHREAD_MUTEX_INITIALIZER,
		.cond = PTHREAD_COND_INITIALIZER,
	};
	struct testdev dev = { 0 };
	struct guest_vm g;
	int rc = guest_vm_create(&g, "vm0", image, 1, 0);

	if (rc)
		return rc;
	s.cpu = &g.cpu[0];
	dev.notify = on_access;
	dev.notify_opaque = &s;
	if (testdev_attach(&dev, &g, LIBVM_SPACE_PIO, TESTDEV_PORT, TESTDEV_PORT_LEN, "spin-dev"))
		stop_and_release(&g, &s);
	check_guest_passed(&g.cpu[0]);
	guest_vm_destroy(&g);
	return RUNNER_PASS;
}
