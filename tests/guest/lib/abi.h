/*
 * The contract between a tiny guest and the host that loads it: where the
 * flat image goes, the state it starts in, and the ports and addresses of
 * the devices it talks to. Included by the freestanding guest library, by
 * entry.S and by the host runner, so it holds only constants (and, outside
 * assembly, small inline functions over <stdint.h>).
 */
#ifndef GUEST_ABI_H
#define GUEST_ABI_H

/*
 * Memory map. RAM starts at guest-physical 0; the flat image is copied to
 * GUEST_LOAD_ADDR and entered in real mode at CS:IP = 0x1000:0000, so its
 * first byte is the 16-bit entry point. lib/guest.ld links the image at the
 * same address: change both together.
 */
#define GUEST_RAM_SIZE		0x400000	/* 4 MiB of RAM at GPA 0 */
#define GUEST_LOAD_ADDR		0x10000
#define GUEST_IMAGE_LIMIT	0x100000	/* image + bss end below 1 MiB */
#define GUEST_MAILBOX		0x8000		/* a RAM page the host writes to talk to the guest */
#define GUEST_MAX_CPUS		4
#define GUEST_STACK_SHIFT	13		/* 8 KiB stack per vCPU */

/*
 * Entry state set by the host on every vCPU: real mode, CS = 0x1000 (base
 * GUEST_LOAD_ADDR), IP = 0, interrupts off, ESI = vCPU index (0-based,
 * below GUEST_MAX_CPUS), EDI = a 32-bit parameter chosen by the scenario.
 */

/* Devices every guest can rely on. */
#define CONSOLE_PORT		0x3f8	/* byte writes to +0 print (the future 16550's THR) */
#define CONSOLE_PORT_LEN	8
#define CONSOLE_LSR		5	/* reads 0x60: transmitter empty, so polling guests go on */
#define EXIT_PORT		0xf4	/* 32-bit write of v ends the vCPU with status (v << 1) | 1 */
#define EXIT_PORT_LEN		4

/* Recording test devices some scenarios attach. */
#define TESTDEV_PORT		0x600	/* 8 ports */
#define TESTDEV_PORT_LEN	8
#define TESTDEV_MMIO_BASE	0xd0000000	/* above 3 GiB: needs the 4 GiB identity map */
#define TESTDEV_MMIO_LEN	0x1000

/* The read-only region of the "rom" scenario, right after RAM. */
#define GUEST_ROM_BASE		0x400000
#define GUEST_ROM_SIZE		0x1000

/* GDT selectors set up by entry.S. */
#define GDT_CODE32		0x08
#define GDT_DATA		0x10
#define GDT_CODE64		0x18

#ifndef __ASSEMBLER__
#include <stdint.h>

/*
 * What a test device returns for a read of @len bytes at @offset from its
 * base. Every byte depends on both the offset and the width, so a read that
 * reaches the device at the wrong address or with the wrong size gives the
 * guest a different value than it expects.
 */
static inline uint64_t testdev_read_value(uint64_t offset, uint32_t len)
{
	uint64_t v = 0;

	for (uint32_t i = 0; i < len; i++)
		v |= (uint64_t)(uint8_t)((offset + i) * 7 + len * 0x31 + 0x15) << (8 * i);
	return v;
}
#endif

#endif /* GUEST_ABI_H */
