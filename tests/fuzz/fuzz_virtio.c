/* SPDX-License-Identifier: MIT */
/*
 * The virtio devices (rng, blk on a memfd, net on a socketpair, console on
 * pipes) through the real PCI bus and the real guest-memory path of a VM
 * with no backend: 2 MiB of RAM with a ROM page in it, mapped as regions,
 * so device writes go through libvm_mem_dma_write() as in a real VM. The
 * first byte picks the device and options (read-only disk, ioeventfd, which
 * the fake backend the VM runs on records); then operations: configuration
 * space, BAR 0 and BAR 1 (MSI-X) accesses at the BARs' current addresses,
 * anything in the PCI window, driver writes to guest memory, queue kicks,
 * a whole driver initialization with fuzzed features and rings, frames
 * and console input from the host side.
 *
 * Invariants: the ROM page changes only by the driver's own writes (a
 * device writing there is F1); an eventfd is bound at most once, inside
 * BAR 0, and nothing is left bound after the device is gone.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "fakevm.h"
#include "pci/pci_internal.h"
#include "virtio/net.h"
#include "virtio/virtio_internal.h"

#define RAM_LEN 0x200000ull
#define ROM_AT 0xf0000ull
#define ROM_LEN 0x1000ull

static uint8_t *ram;
static uint8_t rom_shadow[ROM_LEN];
static int disk_fd = -1;
static char disk_path[64];

/*
 * The backend's ioeventfds (the fake backend keeps KVM's table): each fd
 * once, each inside BAR 0 where BAR 0 decodes now.
 */
static void check_ioeventfds(libvm_vm *vm, libvm_pci_dev *dev)
{
	struct libvm__fake_vm *f = libvm__fake_vm(vm);
	uint64_t bar = libvm__pci_bar_addr(dev, 0);
	bool decodes = libvm__pci_cfg_read(dev, PCI_COMMAND, 2) & PCI_CMD_MEMORY;

	for (uint32_t i = 0; i < f->nr_ioeventfds; i++) {
		const struct kvm_ioeventfd *e = &f->ioeventfd[i];

		for (uint32_t j = 0; j < i; j++)
			if (f->ioeventfd[j].fd == e->fd)
				fuzz_fail("eventfd %d bound twice", e->fd);
		if (!decodes || e->len != 2 || e->addr < bar ||
		    e->addr + e->len > bar + LIBVM__VIRTIO_BAR0_SIZE)
			fuzz_fail("eventfd bound at 0x%llx+%u, BAR 0 %s at 0x%llx",
				  (unsigned long long)e->addr, e->len,
				  decodes ? "decodes" : "does not decode", (unsigned long long)bar);
	}
}

static void add_region(libvm_vm *vm, uint64_t gpa, uint64_t len, uint32_t flags)
{
	libvm_region_options o = LIBVM_REGION_OPTIONS_INIT;

	o.gpa = gpa;
	o.length = len;
	o.host_addr = ram + gpa;
	o.flags = flags;
	o.name = flags ? "rom" : "ram";
	if (libvm_region_map(NULL, vm, &o))
		fuzz_fail("region 0x%llx: %s", (unsigned long long)gpa, libvm_error_message());
}

static void setup_once(void)
{
	ram = fm_reserve(RAM_LEN);
	disk_fd = memfd_create("fuzz-disk", 0);
	if (disk_fd < 0 || ftruncate(disk_fd, 64 * 1024) < 0)
		abort();
	snprintf(disk_path, sizeof(disk_path), "/proc/self/fd/%d", disk_fd);
}

static void io(libvm_vcpu *c, enum libvm_space s, uint64_t addr, uint64_t v, uint32_t len,
	       bool write)
{
	libvm__iobus_dispatch(c->vm, s, c, addr, &v, len, write);
}

static void cfg(libvm_vcpu *c, uint32_t slot, uint32_t reg, uint32_t v, uint32_t len, bool write)
{
	io(c, LIBVM_SPACE_PIO, 0xcf8, 0x80000000u | slot << 11 | (reg & 0xfc), 4, true);
	io(c, LIBVM_SPACE_PIO, 0xcfc + (reg & 3), v, len, write);
}

/* The driver's initialization (3.1.1) with the fuzzer's features and rings. */
static void driver_init(libvm_vcpu *c, uint32_t slot, uint64_t bar, struct fin *f, unsigned nq)
{
	uint64_t features = fin_u64(f);

	cfg(c, slot, 0x04, 0x0006, 2, true);
	io(c, LIBVM_SPACE_MMIO, bar + 0x14, 0, 1, true);
	io(c, LIBVM_SPACE_MMIO, bar + 0x14, 3, 1, true);
	for (uint32_t sel = 0; sel < 2; sel++) {
		io(c, LIBVM_SPACE_MMIO, bar + 0x08, sel, 4, true);
		io(c, LIBVM_SPACE_MMIO, bar + 0x0c, (uint32_t)(features >> (32 * sel)), 4, true);
	}
	io(c, LIBVM_SPACE_MMIO, bar + 0x14, 3 | 8, 1, true);
	for (unsigned q = 0; q < nq; q++) {
		uint64_t base = 0x10000ull * (q + 1) + (fin_u8(f) & 0xf0) * 0x10ull;

		io(c, LIBVM_SPACE_MMIO, bar + 0x16, q, 2, true);
		io(c, LIBVM_SPACE_MMIO, bar + 0x18, 1u << (fin_u8(f) % 9), 2, true);
		io(c, LIBVM_SPACE_MMIO, bar + 0x1a, fin_u8(f) % 6, 2, true);
		io(c, LIBVM_SPACE_MMIO, bar + 0x20, base, 8, true);
		io(c, LIBVM_SPACE_MMIO, bar + 0x28, base + 0x1000, 8, true);
		io(c, LIBVM_SPACE_MMIO, bar + 0x30, base + 0x2000, 8, true);
		io(c, LIBVM_SPACE_MMIO, bar + 0x1c, 1, 2, true);
	}
	io(c, LIBVM_SPACE_MMIO, bar + 0x14, 3 | 8 | 4, 1, true);
}

static void check_rom(const char *after)
{
	if (memcmp(ram + ROM_AT, rom_shadow, ROM_LEN))
		fuzz_fail("a device wrote the guest's ROM (after %s)", after);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t lens[4] = { 1, 2, 4, 8 };
	struct fin f = { data, size };
	libvm_vm *vm;
	libvm_vcpu *vcpu;
	libvm_pci_bus *bus;
	struct libvm__virtio *v = NULL;
	int sv[2] = { -1, -1 }, in_pipe[2] = { -1, -1 };
	uint8_t sel = fin_u8(&f);
	unsigned dev = sel % 4, steps = 0;
	uint32_t slot;
	int err;

	if (!ram)
		setup_once();
	memset(ram, 0, RAM_LEN);
	memset(rom_shadow, 0, sizeof(rom_shadow));
	vm = fakevm_new(sel & 0x10 ? "routing=0" : "routing=0,ioeventfd=0");
	if (libvm_irqchip_create(vm, 0))
		abort();
	add_region(vm, 0, ROM_AT, 0);
	add_region(vm, ROM_AT, ROM_LEN, LIBVM_REGION_READONLY);
	add_region(vm, ROM_AT + ROM_LEN, RAM_LEN - ROM_AT - ROM_LEN, 0);
	vcpu = fakevm_vcpu(vm, 0);
	if (libvm_pci_bus_attach(&bus, vm, NULL))
		abort();
	switch (dev) {
	case 0:
		err = libvm_virtio_rng_attach((libvm_virtio_rng **)&v, bus, NULL);
		break;
	case 1: {
		libvm_virtio_blk_options o = LIBVM_VIRTIO_BLK_OPTIONS_INIT;

		o.path = disk_path;
		o.flags = sel & 0x20 ? LIBVM_VIRTIO_BLK_READONLY : 0;
		err = libvm_virtio_blk_attach((libvm_virtio_blk **)&v, bus, &o);
		break;
	}
	case 2: {
		libvm_virtio_net_options o = LIBVM_VIRTIO_NET_OPTIONS_INIT;

		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv))
			abort();
		err = libvm__virtio_net_attach_fd((libvm_virtio_net **)&v, bus, &o, sv[0]);
		break;
	}
	default: {
		libvm_virtio_console_options o = LIBVM_VIRTIO_CONSOLE_OPTIONS_INIT;

		if (pipe2(in_pipe, O_CLOEXEC | O_NONBLOCK))
			abort();
		o.input_fd = in_pipe[0];
		err = libvm_virtio_console_attach((libvm_virtio_console **)&v, bus, &o);
		break;
	}
	}
	if (err)
		fuzz_fail("attaching device %u failed: %d %s", dev, err, libvm_error_message());
	slot = (uint32_t)libvm_pci_dev_slot(v->pci);

	while (f.n && steps++ < 4096) {
		uint8_t op = fin_u8(&f);
		uint64_t bar0 = libvm_pci_dev_bar_addr(v->pci, 0);
		uint64_t bar1 = libvm_pci_dev_bar_addr(v->pci, 1);
		uint32_t len = lens[(op >> 4) & 3];
		bool wr = op & 0x80;

		switch (op & 15) {
		case 0:
			cfg(vcpu, slot, fin_u8(&f), fin_u32(&f), len == 8 ? 4 : len, wr);
			break;
		case 1:
		case 2:
			io(vcpu, LIBVM_SPACE_MMIO, bar0 + fin_u16(&f) % LIBVM__VIRTIO_BAR0_SIZE,
			   fin_u64(&f), len, wr);
			break;
		case 3:
			io(vcpu, LIBVM_SPACE_MMIO, bar0 + fin_u8(&f), fin_u64(&f), len, wr);
			break;
		case 4:
			io(vcpu, LIBVM_SPACE_MMIO, bar1 + fin_u16(&f) % 0x1000, fin_u64(&f), len,
			   wr);
			break;
		case 5: { /* the driver (guest CPU) writes memory, ROM included */
			uint64_t at = fin_u32(&f) % RAM_LEN;
			size_t n;
			const uint8_t *p = fin_take(&f, fin_u8(&f), &n);

			if (n > RAM_LEN - at)
				n = RAM_LEN - at;
			memcpy(ram + at, p, n);
			for (size_t i = 0; i < n; i++)
				if (at + i >= ROM_AT && at + i < ROM_AT + ROM_LEN)
					rom_shadow[at + i - ROM_AT] = p[i];
			break;
		}
		case 6:
		case 7:
			io(vcpu, LIBVM_SPACE_MMIO, bar0 + 0x3000 + 4 * (fin_u8(&f) % 4), 0, 2, true);
			break;
		case 8:
			driver_init(vcpu, slot, bar0, &f, v->ops->num_queues);
			break;
		case 9: { /* the host side: a frame for net, input for console */
			size_t n;
			const uint8_t *p = fin_take(&f, fin_u16(&f) % 1600, &n);

			if (sv[1] >= 0 && send(sv[1], p, n, MSG_DONTWAIT) < 0) {
				/* full: dropped, as a busy tap would */
			}
			if (in_pipe[1] >= 0 && write(in_pipe[1], p, n) < 0) {
				/* full */
			}
			break;
		}
		case 10:
			io(vcpu, LIBVM_SPACE_MMIO, bus->mmio_base + fin_u32(&f) % bus->mmio_size,
			   fin_u64(&f), len, wr);
			break;
		default:
			io(vcpu, LIBVM_SPACE_PIO, 0xcf8 + fin_u8(&f) % 8, fin_u32(&f),
			   len == 8 ? 4 : len, wr);
			break;
		}
		check_rom("an operation");
		check_ioeventfds(vm, v->pci);
	}
	if (getenv("FUZZ_VERBOSE")) {
		usleep(20000); /* let the receive threads run */
		fprintf(stderr, "device %u: status 0x%02x, used idx %u/%u, %u eventfds bound\n", dev,
			v->status, v->vq[0].used_idx, v->vq[1].used_idx,
			libvm__fake_vm(vm)->nr_ioeventfds);
	}
	libvm_pci_bus_detach(bus); /* detaches the device, then the bus */
	if (libvm__fake_vm(vm)->nr_ioeventfds)
		fuzz_fail("%u eventfds still bound after the device left",
			  libvm__fake_vm(vm)->nr_ioeventfds);
	check_rom("detach");
	libvm_vm_destroy(vm);
	if (sv[1] >= 0)
		close(sv[1]);
	if (in_pipe[0] >= 0) {
		close(in_pipe[0]);
		close(in_pipe[1]);
	}
	return 0;
}
