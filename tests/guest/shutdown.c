/*
 * Triple fault: with an empty IDT a divide error cannot be delivered, that
 * #GP cannot be delivered either, the resulting #DF neither, and the CPU
 * shuts down (SDM vol. 3 6.15, "Interrupt 8"). The host expects a shutdown
 * exit and no exit-port write; everything checked here is host-side.
 */
#include "guest.h"

int guest_main(unsigned int cpu, uint32_t param)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) empty_idt = { 0, 0 };
	uint32_t zero = 0;

	puts("triple fault next\n");
	asm volatile("lidt %0" : : "m"(empty_idt));
	/* A divide by a register holding zero: #DE at CPL0 with no IDT entry. */
	asm volatile("xor %%edx, %%edx; mov $1, %%eax; divl %0" : "+r"(zero) : : "eax", "edx");
	puts("FAIL: still running after the triple fault\n");
	return 1;
}
