/* SPDX-License-Identifier: MIT */
/*
 * The PCI test device of QEMU's (vendor 0x1b36, device 0x0005) as
 * kvm-unit-tests-style kernels drive it: BAR 0 (memory) and BAR 1 (I/O)
 * each start with a header that selects a test and describes it, and the
 * kernel writes the test's value to the test's offset a number of times
 * and reads back how many writes the device saw:
 *
 *   0x00 test   (u8, write: select; 0 .. n-1, the name of an unknown one is "")
 *   0x01 width  (u8: bytes per write)
 *   0x02 ioeventfd (u8: 1 when the test's writes go to a bound ioeventfd;
 *                   libvm's own addition, QEMU leaves it 0)
 *   0x04 offset (u32: where in the BAR to write)
 *   0x08 data   (u32: the value to write)
 *   0x0c count  (u32: matching writes since the test was selected)
 *   0x10 name   (NUL-terminated)
 *
 * Tests per BAR: "no-eventfd" (every write exits to the handler, which
 * counts), "wildcard-eventfd" (an ioeventfd of any value: the writes
 * complete in the kernel and the count comes from the eventfd) and
 * "datamatch-eventfd" (an ioeventfd matching the value). The ioeventfd is
 * bound when a test is selected, at the BAR's address then; without
 * ioeventfd the handler counts those writes as well.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <libvm/pci.h>

#include "pci_internal.h"

#define MEM_BAR_SIZE 0x1000
#define IO_BAR_SIZE 0x100
#define HDR_NAME 0x10
#define TEST_OFFSET 0x80
#define TEST_DATA 0x5aa5f00du

enum { T_NO_EVENTFD, T_WILDCARD, T_DATAMATCH, NR_TESTS };

static const char *const test_names[NR_TESTS] = {
	"no-eventfd", "wildcard-eventfd", "datamatch-eventfd",
};

struct bar_state {
	uint8_t test;         /* selected test; NR_TESTS and above: none */
	uint32_t count;       /* writes the handler counted */
	int efd;              /* the eventfd of the eventfd tests */
	bool bound;           /* efd is bound to the VM ... */
	uint64_t bound_addr;  /* ... at this address, */
	uint32_t bound_flags; /* with these flags */
};

struct libvm_pci_testdev {
	uint32_t magic;
	libvm_pci_dev *dev;
	libvm_vm *vm;
	pthread_mutex_t lock;
	bool has_ioeventfd;
	struct bar_state bar[2]; /* 0: memory, 1: I/O */
};

static enum libvm_space space_of(uint32_t bar)
{
	return bar ? LIBVM_SPACE_PIO : LIBVM_SPACE_MMIO;
}

static void unbind(libvm_pci_testdev *t, uint32_t bar)
{
	struct bar_state *b = &t->bar[bar];

	if (!b->bound)
		return;
	libvm_ioeventfd_remove(t->vm, space_of(bar), b->bound_addr, 4, b->efd, b->bound_flags,
			       TEST_DATA);
	b->bound = false;
}

/* The eventfd's counter since the last drain (non-blocking read). */
static uint32_t drain(struct bar_state *b)
{
	uint64_t v = 0;

	if (b->efd >= 0 && read(b->efd, &v, sizeof(v)) != sizeof(v))
		v = 0;
	return (uint32_t)v;
}

/* Select test @n of @bar: count from 0, (re)bind the eventfd for it. */
static void select_test(libvm_pci_testdev *t, uint32_t bar, uint8_t n)
{
	struct bar_state *b = &t->bar[bar];

	unbind(t, bar);
	drain(b);
	b->test = n;
	b->count = 0;
	if ((n == T_WILDCARD || n == T_DATAMATCH) && t->has_ioeventfd && b->efd >= 0) {
		uint64_t addr = libvm_pci_dev_bar_addr(t->dev, bar) + TEST_OFFSET;
		uint32_t flags = n == T_DATAMATCH ? LIBVM_IOEVENTFD_DATAMATCH : 0;

		if (libvm_ioeventfd_add(t->vm, space_of(bar), addr, 4, b->efd, flags,
					TEST_DATA) == 0) {
			b->bound = true;
			b->bound_addr = addr;
			b->bound_flags = flags;
		}
	}
}

static uint8_t header_byte(libvm_pci_testdev *t, uint32_t bar, uint64_t off)
{
	struct bar_state *b = &t->bar[bar];
	uint8_t hdr[HDR_NAME] = { 0 };
	const char *name = b->test < NR_TESTS ? test_names[b->test] : "";

	if (off >= HDR_NAME)
		return off - HDR_NAME <= strlen(name) ? (uint8_t)name[off - HDR_NAME] : 0;
	if (b->test < NR_TESTS) {
		b->count += drain(b);
		hdr[0] = b->test;
		hdr[1] = 4;
		hdr[2] = b->bound;
		libvm__put32(hdr + 4, TEST_OFFSET);
		libvm__put32(hdr + 8, TEST_DATA);
		libvm__put32(hdr + 12, b->count);
	} else {
		hdr[0] = b->test;
	}
	return hdr[off];
}

static int testdev_bar(libvm_pci_dev *dev, uint32_t bar, uint64_t off, void *data, uint32_t len,
		       bool is_write, void *opaque)
{
	libvm_pci_testdev *t = opaque;
	uint8_t *d = data;

	(void)dev;
	if (bar > 1)
		return 0;
	pthread_mutex_lock(&t->lock);
	if (!is_write) {
		for (uint32_t i = 0; i < len; i++)
			d[i] = off + i < TEST_OFFSET ? header_byte(t, bar, off + i) : 0;
	} else if (off == 0) {
		select_test(t, bar, d[0]);
	} else if (off == TEST_OFFSET && len == 4 && t->bar[bar].test < NR_TESTS &&
		   libvm__le32(d) == TEST_DATA) {
		/* The write exited here: no eventfd test, or none bound. */
		t->bar[bar].count++;
	}
	pthread_mutex_unlock(&t->lock);
	return 0;
}

/* What the bus (or the VM) calls when it goes first. */
static void testdev_release(void *t)
{
	libvm_pci_testdev_detach(t);
}

LIBVM_EXPORT int libvm_pci_testdev_attach(libvm_pci_testdev **out, libvm_pci_bus *bus,
					  uint32_t slot)
{
	libvm_pci_dev_options o = LIBVM_PCI_DEV_OPTIONS_INIT;
	libvm_pci_testdev *t;
	int err;

	if (!out)
		return libvm__fail(-EINVAL, "libvm_pci_testdev_attach: out is NULL");
	LIBVM__CHECK_PCI_BUS(bus, "libvm_pci_testdev_attach");
	if (slot > 31)
		return libvm__fail(-EINVAL, "pci-testdev: slot %u; bus 0 has 1 .. 31", slot);
	t = calloc(1, sizeof(*t));
	if (!t)
		return libvm__fail(-ENOMEM, "pci-testdev: out of memory");
	t->magic = LIBVM__MAGIC_PCI_TESTDEV;
	t->vm = libvm_pci_bus_vm(bus);
	pthread_mutex_init(&t->lock, NULL);
	t->has_ioeventfd = libvm_has(t->vm, LIBVM_CAP_IOEVENTFD) == 1;
	for (int i = 0; i < 2; i++) {
		t->bar[i].test = NR_TESTS;
		t->bar[i].efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	}
	o.vendor_id = 0x1b36; /* Red Hat, Inc. */
	o.device_id = 0x0005; /* QEMU's PCI test device */
	o.class_code = 0x00ff00;
	o.slot = (uint8_t)slot;
	o.bar_size[0] = MEM_BAR_SIZE;
	o.bar_size[1] = IO_BAR_SIZE;
	o.bar_io = 1u << 1;
	o.bar_fn = testdev_bar;
	o.opaque = t;
	o.name = "pci-testdev";
	err = libvm_pci_dev_add(&t->dev, bus, &o);
	if (!err) {
		err = libvm__vm_own_child(t->vm, t, testdev_release, bus);
		if (err)
			libvm_pci_dev_remove(t->dev);
	}
	if (err) {
		for (int i = 0; i < 2; i++)
			if (t->bar[i].efd >= 0)
				close(t->bar[i].efd);
		pthread_mutex_destroy(&t->lock);
		free(t);
		return err;
	}
	*out = t;
	return 0;
}

LIBVM_EXPORT void libvm_pci_testdev_detach(libvm_pci_testdev *t)
{
	/* A second detach, or one after the bus or the VM took the device
	 * along (testdev_release), finds it dead and does nothing. */
	if (!libvm__live(t, LIBVM__MAGIC_PCI_TESTDEV))
		return;
	libvm__vm_disown(t->vm, t);
	libvm_pci_dev_remove(t->dev);
	for (uint32_t i = 0; i < 2; i++) {
		unbind(t, i);
		if (t->bar[i].efd >= 0)
			close(t->bar[i].efd);
	}
	pthread_mutex_destroy(&t->lock);
	libvm__bury(t, sizeof(*t));
}
