/* SPDX-License-Identifier: MIT */
/*
 * The guest of examples/run64: plain freestanding 64-bit C. libvm's ELF
 * loader enters it in 64-bit mode with the low 4 GiB identity-mapped, so
 * pointers are guest-physical addresses. It reads its job from a fixed
 * address the host filled, computes, writes the answer back, prints a
 * line on the host's console port and ends through the exit device.
 * Built with gcc -ffreestanding -nostdlib (meson.build, docs/guide-64bit.md).
 */
#include <stdint.h>

#define JOB_GPA      0x200000 /* struct job, written by the host */
#define CONSOLE_PORT 0x3f8    /* each byte written goes to the host's stdout */
#define EXIT_PORT    0xf4     /* libvm's exit device: ends the run */

struct job {
	uint64_t n;      /* in: how many Fibonacci numbers to add up */
	uint64_t result; /* out */
};

/* The entry: a stack of our own, then C. No return: the exit device ends
 * the VM, and the HLT loop only guards against a host without one. */
__asm__(".section .text.entry, \"ax\"\n"
	".global _start\n"
	"_start:\n"
	"	lea stack_top(%rip), %rsp\n"
	"	call main64\n"
	"1:	hlt\n"
	"	jmp 1b\n"
	".section .bss\n"
	".balign 16\n"
	"	.skip 16384\n"
	"stack_top:\n"
	".previous\n");

static void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static void puts_port(const char *s)
{
	while (*s)
		outb(CONSOLE_PORT, (uint8_t)*s++);
}

static void put_u64(uint64_t v)
{
	char buf[21];
	int i = 20;

	buf[i] = 0;
	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	puts_port(&buf[i]);
}

void main64(void);

void main64(void)
{
	volatile struct job *job = (volatile struct job *)JOB_GPA;
	uint64_t a = 0, b = 1, sum = 0;

	for (uint64_t i = 0; i < job->n; i++) {
		uint64_t t = a + b;

		sum += a;
		a = b;
		b = t;
	}
	job->result = sum;
	puts_port("guest: the sum of the first ");
	put_u64(job->n);
	puts_port(" Fibonacci numbers is ");
	put_u64(sum);
	puts_port("\n");
	outb(EXIT_PORT, 0); /* status 0 */
}
