/* SPDX-License-Identifier: MIT */
/*
 * virtio-rng through the PCI bus and the modern transport: capabilities,
 * feature negotiation, a request filled with random bytes, MSI-X and INTx
 * interrupts, a hostile ring that puts the device into NEEDS_RESET
 * until the driver resets it, and the queue's ioeventfd following BAR 0
 * when the guest moves it or turns memory decoding off.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>

#include "vtest.h"

static libvm_virtio_rng *rng_new(struct vdev *d)
{
	libvm_virtio_rng *rng;

	vdev_bus(d);
	assert_int_equal(libvm_virtio_rng_attach(&rng, d->bus, NULL), 0);
	vdev_plug(d, (struct libvm__virtio *)rng);
	return rng;
}

static uint32_t cfg(struct vdev *d, uint32_t reg, uint32_t len)
{
	uint32_t slot = (uint32_t)libvm_pci_dev_slot(d->v->pci);

	devtest_out(d->vcpu, 0xcf8, 0x80000000u | slot << 11 | (reg & 0xfc), 4);
	return devtest_in(d->vcpu, (uint16_t)(0xcfc + (reg & 3)), len);
}

static void test_identity_and_caps(void **state)
{
	struct vdev d;
	uint32_t at, seen = 0;

	(void)state;
	rng_new(&d);
	assert_int_equal(cfg(&d, 0, 4), 0x10441af4);
	assert_int_equal(cfg(&d, 8, 1), 1); /* revision 1: modern only */
	assert_int_equal(cfg(&d, 0x2e, 2), 0x40);
	for (at = cfg(&d, 0x34, 1); at; at = cfg(&d, at + 1, 1)) {
		if (cfg(&d, at, 1) != 0x09)
			continue;
		seen |= 1u << cfg(&d, at + 3, 1);
		assert_int_equal(cfg(&d, at + 4, 1), 0); /* all in BAR 0 */
		if (cfg(&d, at + 3, 1) == 2)
			assert_int_equal(cfg(&d, at + 16, 4), 4); /* notify_off_multiplier */
	}
	assert_int_equal(seen, 1u << 1 | 1u << 2 | 1u << 3); /* common, notify, ISR; no device cfg */
	/* Features: VERSION_1, EVENT_IDX, INDIRECT_DESC. */
	vd_wr(&d, 0x00, 1, 4);
	assert_int_equal(vd_rd(&d, 0x04, 4), 1);
	vd_wr(&d, 0x00, 0, 4);
	assert_int_equal(vd_rd(&d, 0x04, 4), 3u << 28);
	assert_int_equal(vd_rd(&d, 0x12, 2), 1);
	/* A legacy driver (no VERSION_1) does not get FEATURES_OK. */
	assert_int_equal(vdev_init(&d, 0, 1, 8), -1);
	/* Nor one asking for features not offered. */
	assert_int_equal(vdev_init(&d, F_VERSION_1 | 1ull << 5, 1, 8), -1);
	vdev_free(&d);
}

static void test_random_request_msix(void **state)
{
	struct vdev d;
	uint64_t msix;

	(void)state;
	rng_new(&d);
	assert_int_equal(vdev_init(&d, F_VERSION_1, 1, 8), 0);
	/* MSI-X on, vector 0 for the queue. */
	msix = libvm_pci_dev_bar_addr(d.v->pci, 1);
	{
		uint32_t slot = (uint32_t)libvm_pci_dev_slot(d.v->pci), cap;

		devtest_out(d.vcpu, 0xcf8, 0x80000000u | slot << 11 | 0x34, 4);
		cap = devtest_in(d.vcpu, 0xcfc, 1);
		devtest_out(d.vcpu, 0xcf8, 0x80000000u | slot << 11 | cap, 4);
		devtest_out(d.vcpu, 0xcfe, 0x8000, 2);
	}
	{
		uint64_t x = 0xfee00000, y = 0x31, z = 0;

		devtest_io(d.vcpu, LIBVM_SPACE_MMIO, msix, &x, 4, true);
		devtest_io(d.vcpu, LIBVM_SPACE_MMIO, msix + 8, &y, 4, true);
		devtest_io(d.vcpu, LIBVM_SPACE_MMIO, msix + 12, &z, 4, true);
	}
	vd_wr(&d, 0x16, 0, 2);
	vd_wr(&d, 0x1a, 0, 2);
	assert_int_equal(vd_rd(&d, 0x1a, 2), 0);
	vd_wr(&d, 0x1a, 7, 2); /* no such vector: NO_VECTOR */
	assert_int_equal(vd_rd(&d, 0x1a, 2), 0xffff);
	vd_wr(&d, 0x1a, 0, 2);

	g_desc(d.g, G_DESC, 0, G_DATA, 64, LIBVM__VRING_DESC_F_WRITE, 0);
	g_avail(d.g, 8, 0);
	vdev_kick(&d, 0);
	assert_int_equal(g_used_idx(d.g), 1);
	assert_int_equal(g_used_len(d.g, 0), 64);
	{
		int nonzero = 0;

		for (int i = 0; i < 64; i++)
			nonzero += d.g->buf[G_DATA + i] != 0;
		assert_true(nonzero > 32);
	}
	assert_int_equal(vt->msis, 1);
	assert_int_equal(vt->last_msi.data, 0x31);
	/* A huge request is capped at 64 KiB. */
	g_desc(d.g, G_DESC, 1, G_DATA, 0xffffffff, LIBVM__VRING_DESC_F_WRITE, 0);
	g_avail(d.g, 8, 1);
	vdev_kick(&d, 0);
	assert_int_equal(g_used_len(d.g, 1), 0x10000);
	/* A buffer outside RAM: completed with nothing written. */
	g_desc(d.g, G_DESC, 2, G_RAM - 8, 64, LIBVM__VRING_DESC_F_WRITE, 0);
	g_avail(d.g, 8, 2);
	vdev_kick(&d, 0);
	assert_int_equal(g_used_idx(d.g), 3);
	assert_int_equal(g_used_len(d.g, 2), 0);
	assert_int_equal(vd_rd(&d, 0x14, 1) & 0x40, 0);
	vdev_free(&d);
}

static void test_hostile_ring_needs_reset_intx(void **state)
{
	struct vdev d;

	(void)state;
	rng_new(&d);
	assert_int_equal(vdev_init(&d, F_VERSION_1, 1, 8), 0);
	/* A descriptor loop: NEEDS_RESET, and with INTx the ISR says "config". */
	g_desc(d.g, G_DESC, 0, G_DATA, 4, LIBVM__VRING_DESC_F_WRITE | LIBVM__VRING_DESC_F_NEXT, 0);
	g_avail(d.g, 8, 0);
	vdev_kick(&d, 0);
	assert_int_equal(vd_rd(&d, 0x14, 1) & 0x40, 0x40);
	assert_int_equal(g_used_idx(d.g), 0);
	assert_true(vt->irq_level[16 + (libvm_pci_dev_slot(d.v->pci) % 4)]);
	assert_int_equal(vd_rd(&d, 0x1000, 1), 2);
	assert_false(vt->irq_level[16 + (libvm_pci_dev_slot(d.v->pci) % 4)]);
	assert_int_equal(vd_rd(&d, 0x1000, 1), 0);
	/* Further notifications are ignored until reset. */
	g_desc(d.g, G_DESC, 1, G_DATA, 4, LIBVM__VRING_DESC_F_WRITE, 0);
	g_avail(d.g, 8, 1);
	vdev_kick(&d, 0);
	assert_int_equal(g_used_idx(d.g), 0);
	/* Reset and start over: the device works again. */
	memset(d.g->buf + G_AVAIL, 0, 0x100);
	memset(d.g->buf + G_USED, 0, 0x100);
	assert_int_equal(vdev_init(&d, F_VERSION_1, 1, 8), 0);
	assert_int_equal(vd_rd(&d, 0x14, 1) & 0x40, 0);
	g_avail(d.g, 8, 1);
	vdev_kick(&d, 0);
	assert_int_equal(g_used_idx(d.g), 1);
	assert_int_equal(g_used_len(d.g, 0), 4);
	/* Queue configuration errors: a size that is not a power of two. */
	vd_wr(&d, 0x14, 0, 1);
	vd_wr(&d, 0x16, 0, 2);
	vd_wr(&d, 0x18, 6, 2);
	vd_wr(&d, 0x1c, 1, 2);
	assert_int_equal(vd_rd(&d, 0x14, 1) & 0x40, 0x40);
	assert_int_equal(vd_rd(&d, 0x1c, 2), 0);
	vdev_free(&d);
}

/* Status bits are only set, a reset (0) clears them, and DRIVER_OK
 * without accepted features is a driver error (virtio 1.x 2.1.2, 3.1.1). */
static void test_status_rules(void **state)
{
	struct vdev d;

	(void)state;
	rng_new(&d);
	assert_int_equal(vdev_init(&d, F_VERSION_1, 1, 8), 0);
	assert_int_equal(vd_rd(&d, 0x14, 1), 1 | 2 | 4 | 8);
	vd_wr(&d, 0x14, 1 | 2, 1); /* tries to drop FEATURES_OK and DRIVER_OK */
	assert_int_equal(vd_rd(&d, 0x14, 1), 1 | 2 | 4 | 8);
	vd_wr(&d, 0x14, 0, 1);
	assert_int_equal(vd_rd(&d, 0x14, 1), 0);
	vd_wr(&d, 0x14, 1 | 2 | 4, 1); /* DRIVER_OK, no FEATURES_OK */
	assert_int_equal(vd_rd(&d, 0x14, 1) & 64, 64);
	vdev_free(&d);
}

/* Detaching the bus first detaches the virtio device on it (no use of
 * freed slots afterwards: ASan watches in the sanitizer build). */
static void test_bus_detach_takes_its_devices(void **state)
{
	struct vdev d;
	int owned = 0;

	(void)state;
	rng_new(&d);
	libvm_pci_bus_detach(d.bus);
	for (struct libvm__owned *o = d.vm->owned; o; o = o->next)
		owned++;
	assert_int_equal(owned, 0);
	d.bus = NULL;
	vdev_free(&d);
}

/* Where the backend has eventfd @fd bound, or 0; and how many it has. */
static uint64_t bound_at(int fd)
{
	for (uint32_t i = 0; i < vt->nr_ioeventfds; i++)
		if (vt->ioeventfd[i].fd == fd)
			return vt->ioeventfd[i].addr;
	return 0;
}

static void cfg_wr(struct vdev *d, uint32_t reg, uint32_t v, uint32_t len)
{
	uint32_t slot = (uint32_t)libvm_pci_dev_slot(d->v->pci);

	devtest_out(d->vcpu, 0xcf8, 0x80000000u | slot << 11 | (reg & 0xfc), 4);
	devtest_out(d->vcpu, (uint16_t)(0xcfc + (reg & 3)), v, len);
}

/*
 * The queue's notification eventfd is bound where BAR 0 decodes: after the
 * guest moves BAR 0 it answers at the new address and no longer at the
 * old one (which would swallow writes meant for whatever lives there now);
 * with Memory Space off or BAR 0 outside the window it is not bound at all.
 */
static void test_notify_eventfd_follows_bar(void **state)
{
	libvm_virtio_rng *rng;
	struct vdev d;
	uint64_t old, moved;
	int qfd;

	(void)state;
	vdev_bus_on(&d, "routing=0"); /* with ioeventfd: a worker thread */
	assert_int_equal(libvm_virtio_rng_attach(&rng, d.bus, NULL), 0);
	vdev_plug(&d, (struct libvm__virtio *)rng);
	assert_true(d.v->use_ioeventfd);
	qfd = d.v->qfd[0];
	assert_int_equal(vt->nr_ioeventfds, 0); /* no queue enabled yet */
	assert_int_equal(vdev_init(&d, F_VERSION_1, 1, 16), 0);
	old = d.bar0;
	assert_int_equal(vt->nr_ioeventfds, 1);
	assert_int_equal(bound_at(qfd), old + 0x3000);
	assert_int_equal(vt->ioeventfd[0].len, 2);

	/* The guest moves BAR 0 up by 1 MiB. */
	moved = old + 0x100000;
	cfg_wr(&d, 0x10, (uint32_t)moved, 4);
	assert_int_equal(libvm_pci_dev_bar_addr(d.v->pci, 0), moved);
	assert_int_equal(vt->nr_ioeventfds, 1);
	assert_int_equal(bound_at(qfd), moved + 0x3000);
	/* The device answers there (the common config reads back). */
	d.bar0 = moved;
	assert_int_equal(vd_rd(&d, 0x14, 1), 1 | 2 | 4 | 8);

	/* Memory Space off: nothing decodes, nothing bound; on again: back. */
	cfg_wr(&d, 0x04, 0x0004, 2);
	assert_int_equal(vt->nr_ioeventfds, 0);
	cfg_wr(&d, 0x04, 0x0006, 2);
	assert_int_equal(bound_at(qfd), moved + 0x3000);

	/* Sizing writes all-ones: the BAR lands outside the window. */
	cfg_wr(&d, 0x10, 0xffffffff, 4);
	assert_int_equal(vt->nr_ioeventfds, 0);
	cfg_wr(&d, 0x10, (uint32_t)old, 4);
	assert_int_equal(bound_at(qfd), old + 0x3000);

	/* A reset takes the queue down and the binding with it. */
	d.bar0 = old;
	vd_wr(&d, 0x14, 0, 1);
	assert_int_equal(vt->nr_ioeventfds, 0);
	assert_int_equal(vdev_init(&d, F_VERSION_1, 1, 16), 0);
	assert_int_equal(vt->nr_ioeventfds, 1);
	libvm_virtio_rng_detach(rng);
	assert_int_equal(vt->nr_ioeventfds, 0); /* detach unbinds */
	vdev_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity_and_caps),
		cmocka_unit_test(test_random_request_msix),
		cmocka_unit_test(test_hostile_ring_needs_reset_intx),
		cmocka_unit_test(test_bus_detach_takes_its_devices),
		cmocka_unit_test(test_status_rules),
		cmocka_unit_test(test_notify_eventfd_follows_bar),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
