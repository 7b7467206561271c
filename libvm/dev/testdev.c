/* SPDX-License-Identifier: MIT */
/*
 * pc-testdev, the device QEMU's x86 test kernels (kvm-unit-tests) use:
 * a 4-byte scratch register at 0xe0 (string I/O tests read back what they
 * wrote), a write sink at 0xe4 (QEMU's TLB-flush port, which has no
 * meaning here), ports 0x2000 + n that set the level of ISA IRQ n, and a
 * 64 KiB RAM-like MMIO window at 0xff000000 that has no memory slot, so
 * every access exits and goes through the instruction emulator (that is
 * what the emulator tests want to exercise).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../state.h"
#include "common.h"
#include "testdev.h"

int libvm__testdev_scratch(struct libvm__testdev *t, uint32_t offset, void *data, uint32_t len,
			   bool is_write)
{
	uint8_t *b = data;

	for (uint32_t i = 0; i < len && offset + i < 4; i++) {
		uint32_t shift = 8 * (offset + i);

		if (is_write)
			t->scratch = (t->scratch & ~(0xffu << shift)) | ((uint32_t)b[i] << shift);
		else
			b[i] = (uint8_t)(t->scratch >> shift);
	}
	return 0;
}

int libvm__testdev_sink(struct libvm__testdev *t, uint32_t offset, void *data, uint32_t len,
			bool is_write)
{
	if (!is_write)
		memset(data, 0, len);
	return 0;
}

int libvm__testdev_irq(struct libvm__testdev *t, uint32_t n, void *data, uint32_t len,
		       bool is_write)
{
	bool level = false;

	if (!is_write) {
		memset(data, 0, len);
		return 0;
	}
	if (n >= LIBVM__TESTDEV_IRQS)
		return 0;
	for (uint32_t i = 0; i < len; i++)
		level |= ((const uint8_t *)data)[i] != 0;
	t->irq_levels = (t->irq_levels & ~(1u << n)) | (uint32_t)level << n;
	if (t->set_irq)
		t->set_irq(t->opaque, n, level);
	return 0;
}

int libvm__testdev_iomem(struct libvm__testdev *t, uint64_t offset, void *data, uint32_t len,
			 bool is_write)
{
	uint64_t n;

	if (offset >= t->iomem_size)
		return 0;
	n = t->iomem_size - offset;
	if (n > len)
		n = len;
	if (is_write)
		memcpy(t->iomem + offset, data, n);
	else
		memcpy(data, t->iomem + offset, n);
	return 0;
}

void libvm__testdev_save(const struct libvm__testdev *t, struct libvm_state_writer *w)
{
	libvm__enc_u32(w, t->scratch);
	libvm__enc_u32(w, t->irq_levels);
	libvm__enc_u32(w, t->iomem_size);
	libvm__enc_bytes(w, t->iomem, t->iomem_size);
}

int libvm__testdev_load(struct libvm__testdev *t, const void *data, size_t len, uint32_t version)
{
	struct libvm__dec d;
	uint32_t scratch, levels, size, changed;
	int err;

	(void)version;
	libvm__dec_init(&d, data, len);
	scratch = libvm__dec_u32(&d);
	levels = libvm__dec_u32(&d);
	size = libvm__dec_u32(&d);
	if (size != t->iomem_size)
		return libvm__fail(-EINVAL, "pc-testdev: the snapshot's MMIO window has %u bytes, this one %u",
				   size, t->iomem_size);
	/* Checked before the window is touched: all or nothing. */
	if (len != 12u + (size_t)size)
		return libvm__fail(-EINVAL, "pc-testdev: saved state has %zu bytes, %zu expected",
				   len, 12u + (size_t)size);
	if (levels >> LIBVM__TESTDEV_IRQS)
		return libvm__fail(-EINVAL, "pc-testdev: saved IRQ levels 0x%x name lines past %d",
				   levels, LIBVM__TESTDEV_IRQS - 1);
	libvm__dec_bytes(&d, t->iomem, size);
	err = libvm__dec_done(&d, "pc-testdev");
	if (err)
		return err;
	t->scratch = scratch;
	changed = levels ^ t->irq_levels;
	t->irq_levels = levels;
	for (uint32_t n = 0; n < LIBVM__TESTDEV_IRQS && t->set_irq; n++)
		if (changed & (1u << n))
			t->set_irq(t->opaque, n, (levels >> n) & 1);
	return 0;
}

enum { R_SCRATCH, R_SINK, R_IRQ, R_IOMEM, NR_RANGES };

struct libvm_testdev {
	uint32_t magic;
	libvm_vm *vm;
	pthread_mutex_t lock;
	struct libvm__devrange range[NR_RANGES];
	unsigned int nr_ranges;
	struct libvm__testdev st;
};

static void testdev_set_irq(void *opaque, uint32_t irq, bool level)
{
	libvm_testdev *t = opaque;

	libvm__dev_irq(t->vm, (int)irq, level);
}

#define TESTDEV_HANDLER(name, which, model)                                                \
	static int name(libvm_vcpu *vcpu, uint64_t addr, void *data, uint32_t len,           \
			bool is_write, void *opaque)                                         \
	{                                                                                    \
		libvm_testdev *t = opaque;                                                   \
		int r;                                                                       \
                                                                                             \
		pthread_mutex_lock(&t->lock);                                                \
		r = model(&t->st, (uint32_t)(addr - t->range[which].base), data, len, is_write); \
		pthread_mutex_unlock(&t->lock);                                              \
		return r;                                                                    \
	}

TESTDEV_HANDLER(scratch_io, R_SCRATCH, libvm__testdev_scratch)
TESTDEV_HANDLER(sink_io, R_SINK, libvm__testdev_sink)
TESTDEV_HANDLER(irq_io, R_IRQ, libvm__testdev_irq)
TESTDEV_HANDLER(iomem_io, R_IOMEM, libvm__testdev_iomem)

static int testdev_state_save(libvm_state_writer *w, void *opaque)
{
	libvm_testdev *t = opaque;

	pthread_mutex_lock(&t->lock);
	libvm__testdev_save(&t->st, w);
	pthread_mutex_unlock(&t->lock);
	return 0;
}

static int testdev_state_load(const void *data, size_t len, uint32_t version, void *opaque)
{
	libvm_testdev *t = opaque;
	int err;

	pthread_mutex_lock(&t->lock);
	err = libvm__testdev_load(&t->st, data, len, version);
	pthread_mutex_unlock(&t->lock);
	return err;
}

/* What libvm_vm_destroy() calls for a device still attached. */
static void testdev_release(void *dev)
{
	libvm_testdev_detach(dev);
}

LIBVM_EXPORT int libvm_testdev_attach(libvm_testdev **out, libvm_vm *vm,
				      const libvm_testdev_options *opts)
{
	libvm_testdev_options o = LIBVM_TESTDEV_OPTIONS_INIT;
	libvm_testdev *t;
	int err;

	if (!out)
		return libvm__fail(-EINVAL, "libvm_testdev_attach: out is NULL");
	LIBVM__CHECK_VM(vm, "libvm_testdev_attach");
	err = libvm__dev_options(&o, sizeof(o), opts, "libvm_testdev_attach");
	if (err)
		return err;
	if (o.flags & ~LIBVM_TESTDEV_NO_MMIO)
		return libvm__fail(-EINVAL, "testdev: unknown flags 0x%x", o.flags);
	if (!o.port)
		o.port = 0xe0;
	if (!o.irq_port)
		o.irq_port = 0x2000;
	if (!o.mmio_size)
		o.mmio_size = 0x10000;
	if (!o.mmio_base)
		o.mmio_base = 0xff000000ull;
	if (o.flags & LIBVM_TESTDEV_NO_MMIO)
		o.mmio_size = 0;
	if (!libvm__dev_ports_ok(o.port, 8) || !libvm__dev_ports_ok(o.irq_port, LIBVM__TESTDEV_IRQS))
		return libvm__fail(-EINVAL, "pc-testdev: ports 0x%x+8 or 0x%x+%u go past 0xffff",
				   o.port, o.irq_port, LIBVM__TESTDEV_IRQS);
	if (o.mmio_size > LIBVM__TESTDEV_MMIO_MAX ||
	    (o.mmio_size && o.mmio_base > UINT64_MAX - o.mmio_size))
		return libvm__fail(-EINVAL, "pc-testdev: MMIO window 0x%llx+0x%x is too large or wraps",
				   (unsigned long long)o.mmio_base, o.mmio_size);
	t = calloc(1, sizeof(*t));
	if (!t)
		return libvm__fail(-ENOMEM, "pc-testdev: out of memory");
	t->magic = LIBVM__MAGIC_TESTDEV;
	if (o.mmio_size) {
		t->st.iomem = calloc(1, o.mmio_size);
		if (!t->st.iomem) {
			free(t);
			return libvm__fail(-ENOMEM, "pc-testdev: out of memory");
		}
	}
	t->vm = vm;
	pthread_mutex_init(&t->lock, NULL);
	t->st.iomem_size = o.mmio_size;
	t->st.set_irq = testdev_set_irq;
	t->st.opaque = t;
	t->range[R_SCRATCH] = (struct libvm__devrange){ LIBVM_SPACE_PIO, o.port, 4,
							"pc-testdev", scratch_io };
	t->range[R_SINK] = (struct libvm__devrange){ LIBVM_SPACE_PIO, o.port + 4u, 4,
						     "pc-testdev-sink", sink_io };
	t->range[R_IRQ] = (struct libvm__devrange){ LIBVM_SPACE_PIO, o.irq_port,
						    LIBVM__TESTDEV_IRQS, "pc-testdev-irq", irq_io };
	t->range[R_IOMEM] = (struct libvm__devrange){ LIBVM_SPACE_MMIO, o.mmio_base, o.mmio_size,
						      "pc-testdev-iomem", iomem_io };
	t->nr_ranges = o.mmio_size ? NR_RANGES : R_IOMEM;
	err = libvm__dev_register(vm, t->range, t->nr_ranges, t, testdev_release);
	if (!err) {
		err = libvm__state_add(vm, LIBVM__TESTDEV_STATE_VERSION, 0, testdev_state_save,
				       testdev_state_load, NULL, t, "pc-testdev@0x%x", o.port);
		if (err)
			libvm__dev_unregister(vm, t->range, t->nr_ranges, t);
	}
	if (err) {
		pthread_mutex_destroy(&t->lock);
		free(t->st.iomem);
		free(t);
		return err;
	}
	*out = t;
	return 0;
}

LIBVM_EXPORT void libvm_testdev_detach(libvm_testdev *dev)
{
	if (!libvm__live(dev, LIBVM__MAGIC_TESTDEV) ||
	    !libvm__dev_unregister(dev->vm, dev->range, dev->nr_ranges, dev))
		return;
	pthread_mutex_destroy(&dev->lock);
	free(dev->st.iomem);
	libvm__bury(dev, sizeof(*dev));
}
