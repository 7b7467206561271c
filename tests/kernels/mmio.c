/*
 * MMIO to a registered device: the pc-testdev's 64 KiB RAM-like window at
 * 0xff000000, served through exits. Accesses of 1, 2, 4 and 8 bytes read
 * back what was written, at any width, up to the window's last byte, and
 * so do the instructions an MMIO emulator must decode beyond a plain mov:
 * read-modify-write, xchg, sign extension, string moves and stores, and an
 * access that straddles a page boundary inside the window.
 */
#include "kernel.h"

#define W TESTDEV_IORAM

int main(int argc, char **argv)
{
	uint8_t ram[16], back[16];
	uint64_t q, old;
	uint32_t d;
	bool ok;

	mmio_write8(W, 0x11);
	mmio_write16(W + 2, 0x2233);
	mmio_write32(W + 4, 0x44556677);
	mmio_write64(W + 8, 0x8899aabbccddeeffull);
	report(mmio_read8(W) == 0x11, "8-bit write and read");
	report(mmio_read16(W + 2) == 0x2233, "16-bit write and read");
	report(mmio_read32(W + 4) == 0x44556677, "32-bit write and read");
	q = mmio_read64(W + 8);
	report(q == 0x8899aabbccddeeffull, "64-bit write and read (0x%lx)", q);

	mmio_write64(W + 16, 0x0807060504030201ull);
	ok = true;
	for (int i = 0; i < 8; i++)
		ok &= mmio_read8(W + 16 + i) == i + 1;
	report(ok, "a 64-bit write reads back byte by byte");
	report(mmio_read16(W + 18) == 0x0403 && mmio_read32(W + 20) == 0x08070605,
	       "and as 16- and 32-bit pieces");
	mmio_write8(W + 17, 0xee);
	report(mmio_read64(W + 16) == 0x080706050403ee01ull, "an 8-bit write inside a quadword");

	mmio_write64(W + TESTDEV_IORAM_SIZE - 8, 0x0123456789abcdefull);
	report(mmio_read64(W + TESTDEV_IORAM_SIZE - 8) == 0x0123456789abcdefull &&
	       mmio_read8(W + TESTDEV_IORAM_SIZE - 1) == 0x01, "the window's last quadword and byte");
	mmio_write64(W + 0x1000 - 4, 0xfeedfacecafebeefull);
	report(mmio_read64(W + 0x1000 - 4) == 0xfeedfacecafebeefull &&
	       mmio_read32(W + 0x1000) == 0xfeedface, "a quadword across a page boundary of the window");

	/* Instructions beyond mov. */
	mmio_write32(W + 0x30, 10);
	asm volatile("addl $5, %0" : "+m"(*(volatile uint32_t *)(W + 0x30)));
	report(mmio_read32(W + 0x30) == 15, "add to MMIO (read-modify-write)");
	asm volatile("orb $0x80, %0" : "+m"(*(volatile uint8_t *)(W + 0x30)));
	report(mmio_read32(W + 0x30) == 0x8f, "or of one byte");
	old = 0x5555;
	asm volatile("xchgq %0, %1" : "+r"(old), "+m"(*(volatile uint64_t *)(W + 0x38)));
	report(old == 0 && mmio_read64(W + 0x38) == 0x5555, "xchg swaps a register with MMIO");
	mmio_write8(W + 0x40, 0x80);
	asm volatile("movsbq %1, %0" : "=r"(q) : "m"(*(volatile int8_t *)(W + 0x40)));
	report(q == 0xffffffffffffff80ull, "movsbq sign-extends an MMIO byte");
	asm volatile("movzwl %1, %0" : "=r"(d) : "m"(*(volatile uint16_t *)(W + 0x40)));
	report(d == 0x0080, "movzwl zero-extends an MMIO word");

	for (int i = 0; i < 16; i++)
		ram[i] = (uint8_t)(0xa0 + i);
	{
		void *dst = (void *)(W + 0x100);
		const void *src = ram;
		uint64_t n = sizeof(ram);

		asm volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
		dst = back;
		src = (const void *)(W + 0x100);
		n = sizeof(back);
		asm volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
	}
	report(!memcmp(ram, back, sizeof(ram)), "rep movsb from RAM to MMIO and back");
	{
		void *dst = (void *)(W + 0x200);
		uint64_t n = 4;

		asm volatile("rep stosl" : "+D"(dst), "+c"(n) : "a"(0x600dcafe) : "memory");
	}
	report(mmio_read32(W + 0x200) == 0x600dcafe && mmio_read32(W + 0x20c) == 0x600dcafe,
	       "rep stosl fills MMIO");
	return 0;
}
