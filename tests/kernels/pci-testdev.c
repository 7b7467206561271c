/*
 * The PCI test device (QEMU's pci-testdev, 1b36:0005, vmrun --pci-testdev)
 * driven the way kvm-unit-tests' pci test drives it: find it on bus 0
 * through configuration mechanism #1, enable memory and I/O decoding, and
 * for each BAR (0: memory, 1: I/O) and each test the header offers, select
 * the test, check the header (count 0, a width of 1, 2 or 4), write the
 * test's value to its offset 16 times, and read back a count of 16. The
 * eventfd tests' writes go to an ioeventfd where the backend has one.
 */
#include "kernel.h"

#define NR_WRITES 16

static uint32_t cfg_read(unsigned int dev, unsigned int reg)
{
	outl(0xcf8, 0x80000000u | dev << 11 | (reg & 0xfc));
	return inl(0xcfc);
}

static void cfg_write16(unsigned int dev, unsigned int reg, uint16_t v)
{
	outl(0xcf8, 0x80000000u | dev << 11 | (reg & 0xfc));
	outw(0xcfc + (reg & 2), v);
}

struct bar {
	bool io;
	uint64_t base;
};

static uint8_t rd8(const struct bar *b, uint32_t off)
{
	return b->io ? inb((uint16_t)(b->base + off)) : mmio_read8(b->base + off);
}

static uint32_t rd32(const struct bar *b, uint32_t off)
{
	return b->io ? inl((uint16_t)(b->base + off)) : mmio_read32(b->base + off);
}

static void wr8(const struct bar *b, uint32_t off, uint8_t v)
{
	if (b->io)
		outb((uint16_t)(b->base + off), v);
	else
		mmio_write8(b->base + off, v);
}

static void wr(const struct bar *b, uint32_t off, uint32_t v, unsigned int width)
{
	if (b->io) {
		if (width == 1)
			outb((uint16_t)(b->base + off), (uint8_t)v);
		else if (width == 2)
			outw((uint16_t)(b->base + off), (uint16_t)v);
		else
			outl((uint16_t)(b->base + off), v);
	} else {
		if (width == 1)
			mmio_write8(b->base + off, (uint8_t)v);
		else if (width == 2)
			mmio_write16(b->base + off, (uint16_t)v);
		else
			mmio_write32(b->base + off, v);
	}
}

static bool want_ioeventfd;

static unsigned int run_tests(const struct bar *b)
{
	unsigned int n;

	for (n = 0; n < 16; n++) {
		char name[32];
		uint32_t count, data, off;
		uint8_t width;
		unsigned int i;

		wr8(b, 0, (uint8_t)n);
		for (i = 0; i < sizeof(name) - 1; i++) {
			name[i] = (char)rd8(b, 16 + i);
			if (!name[i])
				break;
		}
		name[i] = 0;
		if (!name[0])
			break;
		count = rd32(b, 12);
		width = rd8(b, 1);
		data = rd32(b, 8);
		off = rd32(b, 4);
		report(count == 0 && (width == 1 || width == 2 || width == 4),
		       "%s %s: header (count %u, width %u, offset 0x%x)", b->io ? "portio" : "mmio",
		       name, count, width, off);
		if (want_ioeventfd && strcmp(name, "no-eventfd"))
			report(rd8(b, 2) == 1, "%s %s: the writes go to an ioeventfd",
			       b->io ? "portio" : "mmio", name);
		for (i = 0; i < NR_WRITES; i++)
			wr(b, off, data, width);
		count = rd32(b, 12);
		report(count == NR_WRITES, "%s %s: %u of %u writes counted", b->io ? "portio" : "mmio",
		       name, count, NR_WRITES);
	}
	return n;
}

int main(int argc, char **argv)
{
	struct bar mem = { false, 0 }, io = { true, 0 };
	unsigned int dev;

	want_ioeventfd = argc > 1 && !strcmp(argv[1], "ioeventfd");
	for (dev = 1; dev < 32; dev++)
		if (cfg_read(dev, 0) == (0x0005u << 16 | 0x1b36u))
			break;
	if (!report(dev < 32, "pci-testdev 1b36:0005 found on bus 0 (slot %u)", dev))
		return 1;
	mem.base = cfg_read(dev, 0x10) & ~0xfull;
	io.base = cfg_read(dev, 0x14);
	report(io.base & 1, "BAR 1 is an I/O BAR (0x%lx)", io.base);
	io.base &= ~3ull;
	report(mem.base && !(cfg_read(dev, 0x10) & 1), "BAR 0 is a memory BAR (0x%lx)", mem.base);
	cfg_write16(dev, 0x04, 0x0003); /* I/O and memory space */
	report(run_tests(&mem) >= 3, "mmio: at least 3 tests");
	report(run_tests(&io) >= 3, "portio: at least 3 tests");
	/* Decoding off: the BAR answers nothing. */
	cfg_write16(dev, 0x04, 0x0000);
	report(rd32(&io, 12) == 0xffffffffu, "I/O space off: the BAR reads all-ones");
	return 0;
}
