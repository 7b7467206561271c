/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the virtio tests, no KVM: guest RAM as a buffer behind the
 * virtqueue memory accessor (refusing and counting anything outside it)
 * for the virtqueue functions alone; a VM on the fake backend whose RAM a
 * driver here fills with descriptors and rings; and a device on it driven
 * through the real PCI bus dispatch (configuration ports and BAR 0).
 */
#ifndef VTEST_H
#define VTEST_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../dev/devtest.h"
#include "pci/pci_internal.h"
#include "virtio/virtio_internal.h"

#define G_RAM (4u << 20)
#define G_DESC 0x10000u
#define G_AVAIL 0x20000u
#define G_USED 0x30000u
#define G_DATA 0x100000u

struct gmem {
	uint8_t *buf;
	uint64_t size;
	unsigned outside;
};

static int g_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	struct gmem *g = ctx;

	if (gpa > g->size || len > g->size - gpa) {
		g->outside++;
		return -EFAULT;
	}
	memcpy(buf, g->buf + gpa, len);
	return 0;
}

static int g_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	struct gmem *g = ctx;

	if (gpa > g->size || len > g->size - gpa) {
		g->outside++;
		return -EFAULT;
	}
	memcpy(g->buf + gpa, buf, len);
	return 0;
}

static inline struct gmem *gmem_new(void)
{
	struct gmem *g = calloc(1, sizeof(*g));

	g->size = G_RAM;
	g->buf = calloc(1, G_RAM);
	return g;
}

static inline void gmem_free(struct gmem *g)
{
	free(g->buf);
	free(g);
}

static inline struct libvm__vmem gmem_accessor(struct gmem *g)
{
	return (struct libvm__vmem){ g_read, g_write, g };
}

static inline void g_put16(struct gmem *g, uint64_t a, uint16_t v)
{
	g->buf[a] = (uint8_t)v;
	g->buf[a + 1] = (uint8_t)(v >> 8);
}

static inline uint16_t g_get16(struct gmem *g, uint64_t a)
{
	return (uint16_t)(g->buf[a] | g->buf[a + 1] << 8);
}

static inline uint32_t g_get32(struct gmem *g, uint64_t a)
{
	return (uint32_t)g_get16(g, a) | (uint32_t)g_get16(g, a + 2) << 16;
}

/* The driver's side of one split queue of @size at G_DESC/G_AVAIL/G_USED. */
static inline void g_desc(struct gmem *g, uint64_t table, uint16_t i, uint64_t addr, uint32_t len,
			  uint16_t flags, uint16_t next)
{
	uint8_t *d = g->buf + table + 16u * i;

	for (int k = 0; k < 8; k++)
		d[k] = (uint8_t)(addr >> (8 * k));
	for (int k = 0; k < 4; k++)
		d[8 + k] = (uint8_t)(len >> (8 * k));
	d[12] = (uint8_t)flags;
	d[13] = (uint8_t)(flags >> 8);
	d[14] = (uint8_t)next;
	d[15] = (uint8_t)(next >> 8);
}

/* Offer chain @head on the avail ring at @avail: slot, then the index. */
static inline void g_avail_at(struct gmem *g, uint64_t avail, uint16_t size, uint16_t head)
{
	uint16_t idx = g_get16(g, avail + 2);

	g_put16(g, avail + 4 + 2u * (idx % size), head);
	g_put16(g, avail + 2, (uint16_t)(idx + 1));
}

static inline void g_avail(struct gmem *g, uint16_t size, uint16_t head)
{
	g_avail_at(g, G_AVAIL, size, head);
}

static inline uint16_t g_used_idx(struct gmem *g)
{
	return g_get16(g, G_USED + 2);
}

static inline uint32_t g_used_len(struct gmem *g, uint16_t slot)
{
	return g_get32(g, G_USED + 4 + 8u * slot + 4);
}

/* --- a virtio device on a test bus ------------------------------------ */

struct vdev {
	libvm_vm *vm;
	libvm_vcpu *vcpu;
	libvm_pci_bus *bus;
	struct gmem *g;
	struct libvm__virtio *v;
	uint64_t bar0;
	libvm_region *ram;  /* the RAM vdev_bus() mapped */
	uint8_t *own_buf;   /* vdev_map_with_rom()'s memory */
};

/* The fake backend of the VM under test: its MSIs and pin levels. */
static struct libvm__fake_vm *vt;

/*
 * A VM on the fake backend with an irqchip (so the devices' interrupts
 * reach it), MSIs sent with libvm_msi_send() (no routes) and queue
 * notifications as exits (no ioeventfd: no worker thread), @d->g over its
 * G_RAM of RAM at 0, and a PCI bus; vdev_bus_on() with other fake
 * backend keys (@config).
 */
static inline void vdev_bus_on(struct vdev *d, const char *config)
{
	memset(d, 0, sizeof(*d));
	d->vm = devtest_vm_on(config);
	if (libvm_irqchip_create(d->vm, 0))
		abort();
	vt = libvm__fake_vm(d->vm);
	d->vcpu = devtest_vcpu(d->vm);
	d->g = calloc(1, sizeof(*d->g));
	d->g->size = G_RAM;
	d->ram = fakevm_ram(d->vm, 0, G_RAM, "ram");
	d->g->buf = libvm_region_volatile_ptr(d->ram);
	if (libvm_pci_bus_attach(&d->bus, d->vm, NULL))
		abort();
}

static inline void vdev_bus(struct vdev *d)
{
	vdev_bus_on(d, "routing=0,ioeventfd=0");
}

/* After the device was attached as @v: enable its decoding. */
static inline void vdev_plug(struct vdev *d, struct libvm__virtio *v)
{
	uint32_t slot;

	d->v = v;
	slot = (uint32_t)libvm_pci_dev_slot(v->pci);
	devtest_out(d->vcpu, 0xcf8, 0x80000000u | slot << 11 | 0x04, 4);
	devtest_out(d->vcpu, 0xcfc, 0x0006, 2);
	d->bar0 = libvm_pci_dev_bar_addr(v->pci, 0);
}

/* Vendor and device ID of the device, through configuration mechanism #1. */
static inline uint32_t cfg_rd_id(struct vdev *d)
{
	uint32_t slot = (uint32_t)libvm_pci_dev_slot(d->v->pci);

	devtest_out(d->vcpu, 0xcf8, 0x80000000u | slot << 11, 4);
	return devtest_in(d->vcpu, 0xcfc, 4);
}

/*
 * Guest memory as RAM, one read-only page (ROM) at @rom, RAM again: three
 * regions over one buffer that replaces the VM's RAM, so that d->g->buf
 * still addresses all of it (the rings stay where vdev_init() put them).
 * The ROM page is filled with 0xa5.
 */
static inline void vdev_map_with_rom(struct vdev *d, uint64_t rom)
{
	const uint64_t at[3] = { 0, rom, rom + 0x1000 };
	const uint64_t len[3] = { rom, 0x1000, G_RAM - rom - 0x1000 };
	uint8_t *buf = aligned_alloc(0x1000, G_RAM);
	libvm_mem_range r[1];
	uint32_t n = 1;

	if (!buf || libvm_vm_memory_map(d->vm, r, &n) || n != 1)
		abort();
	memcpy(buf, d->g->buf, G_RAM);
	if (libvm_region_unmap(d->ram))
		abort();
	for (int i = 0; i < 3; i++) {
		libvm_region_options o = LIBVM_REGION_OPTIONS_INIT;

		o.gpa = at[i];
		o.length = len[i];
		o.host_addr = buf + at[i];
		o.flags = i == 1 ? LIBVM_REGION_READONLY : 0;
		o.name = i == 1 ? "rom" : "ram";
		if (len[i] && libvm_region_map(NULL, d->vm, &o))
			abort();
	}
	memset(buf + rom, 0xa5, 0x1000);
	d->g->buf = buf;
	d->own_buf = buf;
}

static inline void vdev_free(struct vdev *d)
{
	devtest_vm_free(d->vm); /* releases the device, then the bus, then RAM */
	free(d->own_buf);
	free(d->g);
}

static inline uint64_t vd_rd(struct vdev *d, uint64_t off, uint32_t len)
{
	uint64_t x = ~0ull;

	devtest_io(d->vcpu, LIBVM_SPACE_MMIO, d->bar0 + off, &x, len, false);
	return len < 8 ? x & ((1ull << (8 * len)) - 1) : x;
}

static inline void vd_wr(struct vdev *d, uint64_t off, uint64_t x, uint32_t len)
{
	devtest_io(d->vcpu, LIBVM_SPACE_MMIO, d->bar0 + off, &x, len, true);
}

/* Driver initialization (3.1.1) with @features, queue @q at the G_* rings. */
static inline int vdev_init(struct vdev *d, uint64_t features, uint16_t nq, uint16_t size)
{
	vd_wr(d, 0x14, 0, 1);
	vd_wr(d, 0x14, 1 | 2, 1);
	vd_wr(d, 0x08, 0, 4);
	vd_wr(d, 0x0c, (uint32_t)features, 4);
	vd_wr(d, 0x08, 1, 4);
	vd_wr(d, 0x0c, (uint32_t)(features >> 32), 4);
	vd_wr(d, 0x14, 1 | 2 | 8, 1);
	if (!(vd_rd(d, 0x14, 1) & 8))
		return -1;
	for (uint16_t q = 0; q < nq; q++) {
		uint64_t off = 0x40000ull * q; /* queue q's rings: G_* + off */

		vd_wr(d, 0x16, q, 2);
		vd_wr(d, 0x18, size, 2);
		vd_wr(d, 0x20, G_DESC + off, 8);
		vd_wr(d, 0x28, G_AVAIL + off, 8);
		vd_wr(d, 0x30, G_USED + off, 8);
		vd_wr(d, 0x1c, 1, 2);
	}
	vd_wr(d, 0x14, 1 | 2 | 8 | 4, 1);
	return 0;
}

static inline void vdev_kick(struct vdev *d, uint16_t q)
{
	vd_wr(d, 0x3000 + 4u * q, q, 2);
}

/*
 * Wait up to 2 s for a device thread to bring the used ring at @used to
 * index @want (receive queues are filled from the device's own thread).
 */
static inline bool vdev_wait_used(struct vdev *d, uint64_t used, uint16_t want)
{
	for (int i = 0; i < 2000; i++) {
		if (__atomic_load_n((uint16_t *)(d->g->buf + used + 2), __ATOMIC_ACQUIRE) == want)
			return true;
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
	return false;
}

#define F_VERSION_1 (1ull << 32)
#define F_EVENT_IDX (1ull << 29)
#define F_INDIRECT (1ull << 28)

#endif
