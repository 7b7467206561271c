/* SPDX-License-Identifier: MIT */
/*
 * A guest that drives vmrun's virtio devices by hand on a real VM: finds
 * virtio-rng and virtio-blk on PCI bus 0 through ports 0xcf8/0xcfc, checks
 * the modern capabilities, initializes each device (virtio 1.x, 3.1.1),
 * and submits requests on split queues in its own RAM: random bytes, a
 * sector read compared with the disk file ("/" first: the test passes a
 * source file), a write to the read-only disk and a read past its end
 * (both VIRTIO_BLK_S_IOERR), then a descriptor loop that must leave the
 * device in DEVICE_NEEDS_RESET. The guest polls the used ring (requests
 * complete on the notifying vCPU, or on the device's thread when the
 * notification went through an ioeventfd), so no interrupts are needed.
 * Exits through port 0xf4 with 0, or with the number of the failed step.
 *
 * Run as: vmrun --disk FILE,ro --rng virtio.bin (expects status 1).
 */
#include <stdint.h>

__asm__(".section .text\n"
	".code32\n"
	".globl _start\n"
	"mb_header:\n"
	".long 0x1BADB002, 0x00010000, -(0x1BADB002 + 0x00010000)\n"
	".long mb_header, mb_header, 0, 0, _start\n"
	"_start:\n"
	"mov $0x180000, %esp\n"
	"call guest_main\n"
	"1: hlt\n"
	"jmp 1b\n");

#define RING 0x200000u   /* desc at +0, avail at +0x1000, used at +0x2000 */
#define DATA 0x210000u
#define QSIZE 8
/*
 * How long to poll the used ring before calling a request lost. The device
 * may serve it on its own thread (ioeventfd), which on a one-CPU host runs
 * only once the scheduler preempts this vCPU's thread: 2 million polls
 * (about 10 ms in the emulated KVM host) were sometimes too few on a
 * loaded machine. 100 million take seconds there, well inside the test's
 * time limit, and fail no sooner than a lost request should.
 */
#define POLLS 100000000u

static inline void outb(uint16_t p, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(p));
}

static inline void outw(uint16_t p, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(p));
}

static inline void outl(uint16_t p, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(p));
}

static inline uint32_t inl(uint16_t p)
{
	uint32_t v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(p));
	return v;
}

static void puts(const char *s)
{
	while (*s)
		outb(0x3f8, (uint8_t)*s++);
}

static void __attribute__((noreturn)) finish(uint32_t step)
{
	puts(step ? "virtio guest: FAIL\n" : "virtio guest: PASS\n");
	outl(0xf4, step);
	for (;;)
		__asm__ volatile("hlt");
}

static uint32_t cfg_read(uint32_t slot, uint32_t reg)
{
	outl(0xcf8, 0x80000000u | slot << 11 | (reg & 0xfc));
	return inl(0xcfc) >> (8 * (reg & 3));
}

static void cfg_write16(uint32_t slot, uint32_t reg, uint16_t v)
{
	outl(0xcf8, 0x80000000u | slot << 11 | (reg & 0xfc));
	outw((uint16_t)(0xcfc + (reg & 2)), v);
}

#define M8(a) (*(volatile uint8_t *)(uintptr_t)(a))
#define M16(a) (*(volatile uint16_t *)(uintptr_t)(a))
#define M32(a) (*(volatile uint32_t *)(uintptr_t)(a))

static void zero(uint32_t a, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		M8(a + i) = 0;
}

/* Find device 0x1040 + @type; returns BAR 0 (memory decoding on), 0 if absent. */
static uint32_t find(uint32_t type, uint32_t step)
{
	for (uint32_t slot = 1; slot < 32; slot++) {
		uint32_t id = cfg_read(slot, 0), cap, bar;
		int common = 0;

		if (id != ((0x1040u + type) << 16 | 0x1af4u))
			continue;
		/* The common configuration capability points at BAR 0 offset 0. */
		for (cap = cfg_read(slot, 0x34) & 0xff; cap; cap = cfg_read(slot, cap + 1) & 0xff)
			if ((cfg_read(slot, cap) & 0xff) == 0x09 && (cfg_read(slot, cap + 3) & 0xff) == 1 &&
			    (cfg_read(slot, cap + 4) & 0xff) == 0 && cfg_read(slot, cap + 8) == 0)
				common = 1;
		if (!common)
			finish(step + 1);
		cfg_write16(slot, 0x04, 0x0006);
		bar = cfg_read(slot, 0x10) & ~0xfu;
		if (!bar)
			finish(step + 2);
		return bar;
	}
	finish(step);
}

/* Driver initialization with VERSION_1 only and queue 0 at RING. */
static void init(uint32_t bar, uint32_t step)
{
	M8(bar + 0x14) = 0;
	M8(bar + 0x14) = 1 | 2;
	M32(bar + 0x08) = 1;
	M32(bar + 0x0c) = 1; /* VIRTIO_F_VERSION_1 */
	M32(bar + 0x08) = 0;
	M32(bar + 0x0c) = 0;
	M8(bar + 0x14) = 1 | 2 | 8;
	if (!(M8(bar + 0x14) & 8))
		finish(step);
	zero(RING, 0x3000);
	M16(bar + 0x16) = 0;
	M16(bar + 0x18) = QSIZE;
	M32(bar + 0x20) = RING;
	M32(bar + 0x24) = 0;
	M32(bar + 0x28) = RING + 0x1000;
	M32(bar + 0x2c) = 0;
	M32(bar + 0x30) = RING + 0x2000;
	M32(bar + 0x34) = 0;
	M16(bar + 0x1c) = 1;
	M8(bar + 0x14) = 1 | 2 | 8 | 4;
}

static void desc(uint16_t i, uint32_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint32_t d = RING + 16u * i;

	M32(d) = addr;
	M32(d + 4) = 0;
	M32(d + 8) = len;
	M16(d + 12) = flags;
	M16(d + 14) = next;
}

/* Offer chain @head, notify queue 0, and return the used length. */
static uint32_t submit(uint32_t bar, uint16_t head, uint32_t step)
{
	uint16_t idx = M16(RING + 0x1000 + 2);
	uint16_t used = M16(RING + 0x2000 + 2);

	M16(RING + 0x1000 + 4 + 2u * (idx % QSIZE)) = head;
	M16(RING + 0x1000 + 2) = (uint16_t)(idx + 1);
	M16(bar + 0x3000) = 0;
	for (uint32_t spin = 0; M16(RING + 0x2000 + 2) != (uint16_t)(used + 1); spin++)
		if (spin > POLLS)
			finish(step);
	return M32(RING + 0x2000 + 4 + 8u * (used % QSIZE) + 4);
}

void guest_main(void);

void guest_main(void)
{
	uint32_t rng = find(4, 10), blk = find(2, 20), nonzero = 0;

	/* virtio-rng: 32 random bytes. */
	init(rng, 30);
	zero(DATA, 32);
	desc(0, DATA, 32, 2 /* WRITE */, 0);
	if (submit(rng, 0, 31) != 32)
		finish(32);
	for (uint32_t i = 0; i < 32; i++)
		nonzero += M8(DATA + i) != 0;
	if (nonzero < 16)
		finish(33);

	/* virtio-blk: read sector 0; write it (read-only disk); read past the end. */
	init(blk, 40);
	if (M32(blk + 0x2000) != 1 || M32(blk + 0x2004) != 0) /* one sector */
		finish(41);
	zero(DATA, 0x1000);
	desc(0, DATA, 16, 1 /* NEXT */, 1);
	desc(1, DATA + 0x200, 512, 1 | 2, 2);
	desc(2, DATA + 0x400, 1, 2, 0);
	M8(DATA + 0x400) = 0xee;
	if (submit(blk, 0, 42) != 513 || M8(DATA + 0x400) != 0 || M8(DATA + 0x200) != '/')
		finish(43);
	M32(DATA) = 1; /* VIRTIO_BLK_T_OUT */
	desc(1, DATA + 0x200, 512, 1, 2);
	submit(blk, 0, 44);
	if (M8(DATA + 0x400) != 1)
		finish(45);
	M32(DATA) = 0;
	M32(DATA + 8) = 1; /* sector 1: past the end */
	desc(1, DATA + 0x200, 512, 1 | 2, 2);
	submit(blk, 0, 46);
	if (M8(DATA + 0x400) != 1)
		finish(47);

	/* A descriptor loop: the device must stop with NEEDS_RESET. */
	desc(0, DATA, 16, 1, 0);
	{
		uint16_t idx = M16(RING + 0x1000 + 2);

		M16(RING + 0x1000 + 4 + 2u * (idx % QSIZE)) = 0;
		M16(RING + 0x1000 + 2) = (uint16_t)(idx + 1);
		M16(blk + 0x3000) = 0;
	}
	for (uint32_t spin = 0; !(M8(blk + 0x14) & 0x40); spin++)
		if (spin > POLLS)
			finish(48);
	finish(0);
}
