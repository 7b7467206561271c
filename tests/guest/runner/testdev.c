/*
 * The recording test device. The lock is there because two vCPUs of one VM
 * may hit the device at once (the smp scenario).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "testdev.h"

static int testdev_io(libvm_vcpu *vcpu, uint64_t addr, void *data, uint32_t len,
		      bool is_write, void *opaque)
{
	struct testdev *dev = opaque;
	struct guest_cpu *c = guest_cpu_of(dev->vm, vcpu);
	struct testdev_access a = {
		.addr = addr,
		.len = len,
		.is_write = is_write,
		.vcpu_id = libvm_vcpu_id(vcpu),
	};

	if (!c || len == 0 || len > 8)
		return -EINVAL;
	a.on_vcpu_thread = pthread_equal(pthread_self(), c->thread);
	if (!a.on_vcpu_thread)
		c->wrong_thread++;
	if (is_write) {
		memcpy(&a.data, data, len);
	} else {
		a.data = testdev_read_value(addr - dev->base, len);
		memcpy(data, &a.data, len); /* little-endian host, as the guest */
	}
	pthread_mutex_lock(&dev->lock);
	if (dev->count < TESTDEV_LOG_MAX)
		dev->log[dev->count] = a;
	dev->count++;
	pthread_mutex_unlock(&dev->lock);
	if (dev->notify)
		dev->notify(dev, &a);
	return 0;
}

bool testdev_attach(struct testdev *dev, struct guest_vm *g, enum libvm_space space,
		    uint64_t base, uint64_t len, const char *name)
{
	int rc;

	dev->name = name;
	dev->vm = g;
	dev->space = space;
	dev->base = base;
	dev->count = 0;
	pthread_mutex_init(&dev->lock, NULL);
	rc = libvm_io_register(g->vm, space, base, len, name, testdev_io, dev);
	return check(rc == 0, "register %s at %s 0x%" PRIx64 "+0x%" PRIx64 "%s%s%s%s", name,
		     space == LIBVM_SPACE_PIO ? "port" : "GPA", base, len, rc ? ": " : "",
		     rc ? libvm_strerror(rc) : "", rc ? " " : "", rc ? libvm_error_message() : "");
}

unsigned int testdev_snapshot(struct testdev *dev, struct testdev_access *out, unsigned int max)
{
	unsigned int n;

	pthread_mutex_lock(&dev->lock);
	n = dev->count;
	memcpy(out, dev->log, sizeof(*out) * (n < max ? n : max));
	pthread_mutex_unlock(&dev->lock);
	return n;
}

static void describe(char *buf, size_t size, const struct testdev_access *a)
{
	snprintf(buf, size, "cpu%u %s%u 0x%" PRIx64 " = 0x%" PRIx64, a->vcpu_id,
		 a->is_write ? "write" : "read", a->len * 8, a->addr, a->data);
}

void testdev_expect(struct testdev *dev, const struct testdev_access *want, unsigned int n)
{
	struct testdev_access got[TESTDEV_LOG_MAX];
	unsigned int count = testdev_snapshot(dev, got, TESTDEV_LOG_MAX);

	check(count == n, "%s saw %u accesses, %u expected", dev->name, count, n);
	for (unsigned int i = 0; i < n && i < count && i < TESTDEV_LOG_MAX; i++) {
		struct testdev_access w = want[i];
		char g_text[96], w_text[96];
		bool same;

		/* A read must return exactly what the device model answers. */
		if (!w.is_write)
			w.data = testdev_read_value(w.addr - dev->base, w.len);
		same = got[i].addr == w.addr && got[i].len == w.len &&
		       got[i].is_write == w.is_write && got[i].data == w.data &&
		       got[i].vcpu_id == w.vcpu_id;
		describe(g_text, sizeof(g_text), &got[i]);
		describe(w_text, sizeof(w_text), &w);
		if (same)
			check(true, "%s access %u: %s", dev->name, i, g_text);
		else
			check(false, "%s access %u: %s, expected %s", dev->name, i, g_text, w_text);
	}
}
