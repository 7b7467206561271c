/*
 * Port I/O of every width: the pc-testdev's 4-byte scratch register at
 * 0xe0 is byte-addressable (a write of n bytes at 0xe0 + k replaces those
 * bytes), string I/O reaches the port once per element, the write sink at
 * 0xe4 takes a value and leaves RAM alone, and a port nobody claims reads
 * all-ones at every width and ignores writes.
 */
#include "kernel.h"

/* COM4's ports: no device on QEMU's pc machine or on vmrun answers them. */
#define UNCLAIMED_PORT 0x2e8

static uint8_t page[4096] __attribute__((aligned(4096)));

int main(int argc, char **argv)
{
	static const uint8_t bytes[3] = { 0x11, 0x22, 0x33 };
	uint16_t words[2] = { 0, 0 };
	uint32_t v;

	outl(TESTDEV_SCRATCH, 0x12345678);
	v = inl(TESTDEV_SCRATCH);
	report(v == 0x12345678, "outl/inl: scratch reads back 0x%08x", v);
	report(inw(TESTDEV_SCRATCH) == 0x5678 && inw(TESTDEV_SCRATCH + 2) == 0x1234,
	       "inw: low half 0x5678 at 0xe0, high half 0x1234 at 0xe2");
	report(inb(TESTDEV_SCRATCH) == 0x78 && inb(TESTDEV_SCRATCH + 1) == 0x56 &&
	       inb(TESTDEV_SCRATCH + 2) == 0x34 && inb(TESTDEV_SCRATCH + 3) == 0x12,
	       "inb: the four bytes in little-endian order");
	outb(TESTDEV_SCRATCH + 1, 0xab);
	v = inl(TESTDEV_SCRATCH);
	report(v == 0x1234ab78, "outb to 0xe1 changes only that byte (0x%08x)", v);
	outw(TESTDEV_SCRATCH + 2, 0xcdef);
	v = inl(TESTDEV_SCRATCH);
	report(v == 0xcdefab78, "outw to 0xe2 changes only the high half (0x%08x)", v);
	outb(TESTDEV_SCRATCH, 0x00);
	outb(TESTDEV_SCRATCH, 0x9c);
	report(inb(TESTDEV_SCRATCH) == 0x9c, "outb to 0xe0: the last write wins");

	outsb(TESTDEV_SCRATCH, bytes, 3);
	v = inl(TESTDEV_SCRATCH);
	report(v == 0xcdefab33, "rep outsb: three writes to 0xe0, the last one stays (0x%08x)", v);
	insw(TESTDEV_SCRATCH, words, 2);
	report(words[0] == 0xab33 && words[1] == 0xab33, "rep insw: two reads of 0xe0 (0x%04x 0x%04x)",
	       words[0], words[1]);

	page[0] = 0x5a;
	page[4095] = 0xa5;
	outl(TESTDEV_FLUSH, (uint32_t)(uintptr_t)page);
	report(page[0] == 0x5a && page[4095] == 0xa5, "outl to the sink at 0xe4 leaves RAM intact");

	report(inb(UNCLAIMED_PORT) == 0xff, "inb from unclaimed port 0x%x reads 0xff", UNCLAIMED_PORT);
	report(inw(UNCLAIMED_PORT) == 0xffff, "inw from unclaimed port 0x%x reads 0xffff", UNCLAIMED_PORT);
	report(inl(UNCLAIMED_PORT) == 0xffffffff, "inl from unclaimed port 0x%x reads 0xffffffff",
	       UNCLAIMED_PORT);
	outb(UNCLAIMED_PORT, 0);
	outw(UNCLAIMED_PORT, 0);
	outl(UNCLAIMED_PORT, 0);
	report(inl(UNCLAIMED_PORT) == 0xffffffff, "writes to an unclaimed port are ignored");
	return 0;
}
