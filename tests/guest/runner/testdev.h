/*
 * A recording test device for PIO or MMIO: it logs every access (address,
 * width, direction, data, vCPU, thread) and answers reads with
 * testdev_read_value() from abi.h, so both sides can check the bus.
 */
#ifndef RUNNER_TESTDEV_H
#define RUNNER_TESTDEV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vm.h"

#define TESTDEV_LOG_MAX 32

struct testdev_access {
	uint64_t addr;		/* absolute port or guest-physical address */
	uint64_t data;		/* written value, or the value the device returned */
	uint32_t len;
	bool is_write;
	uint32_t vcpu_id;
	bool on_vcpu_thread;	/* the handler ran on the thread driving that vCPU */
};

struct testdev {
	const char *name;
	struct guest_vm *vm;
	enum libvm_space space;
	uint64_t base;
	pthread_mutex_t lock;
	struct testdev_access log[TESTDEV_LOG_MAX];
	unsigned int count;	/* every access, also those past the log's end */
	/* Optional: called (outside the lock) after each access is logged. */
	void (*notify)(struct testdev *dev, const struct testdev_access *access);
	void *notify_opaque;
};

/* Register @dev over [@base, @base + @len) of @space in @g; false on error (printed). */
bool testdev_attach(struct testdev *dev, struct guest_vm *g, enum libvm_space space,
		    uint64_t base, uint64_t len, const char *name);

/*
 * Check the log against @want (addr, len, is_write and, for writes, data;
 * for reads the data must be testdev_read_value()): one check line per
 * access plus one for the count. vcpu_id is compared too.
 */
void testdev_expect(struct testdev *dev, const struct testdev_access *want, unsigned int n);

/* A snapshot of the log under the lock; returns the access count. */
unsigned int testdev_snapshot(struct testdev *dev, struct testdev_access *out, unsigned int max);

#endif /* RUNNER_TESTDEV_H */
