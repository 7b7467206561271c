/*
 * The snapshot and migration benchmark's guest (a multiboot kernel on the
 * test-kernel library, so QEMU boots it too): fills FILL MiB of RAM from
 * 16 MiB up with data that neither side can skip as zero pages, prints
 * READY, then rewrites RATE pages every 10 ms (by the PM timer) for ever,
 * printing a TICK line each second. Its working set and dirtying rate are
 * what a snapshot, a restore and a migration have to move.
 *
 * usage (kernel command line): fill=MIB rate=PAGES
 */
#include "kernel.h"

#define BASE (16ull << 20)

static uint64_t arg(const char *key, uint64_t dflt)
{
	size_t n = strlen(key);
	uint64_t v;

	for (int i = 1; i < kargc; i++)
		if (!strncmp(kargv[i], key, n) && kargv[i][n] == '=' && parse_u64(kargv[i] + n + 1, &v))
			return v;
	return dflt;
}

int main(int argc, char **argv)
{
	uint64_t fill = arg("fill", 64), rate = arg("rate", 100), pages, next = 0, x = 0x9e3779b97f4a7c15ull;
	volatile uint64_t *mem = (volatile uint64_t *)(uintptr_t)BASE;
	uint32_t gen = 0, ticks = 0;

	(void)argc;
	(void)argv;
	if (!acpi_init() || !acpi.pm_tmr_port) {
		printf("no ACPI PM timer\n");
		return 1;
	}
	pages = fill << 8;
	for (uint64_t i = 0; i < pages * 512; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		mem[i] = x | 1;
	}
	printf("READY %lu MiB\n", (unsigned long)fill);
	for (;;) {
		uint64_t t = pmtimer_now();

		gen++;
		for (uint64_t k = 0; k < rate; k++) {
			mem[next * 512 + (gen & 511)] = ((uint64_t)gen << 32) | next;
			next = next + 1 == pages ? 0 : next + 1;
		}
		while (pmtimer_us_since(t) < 10000)
			__asm__ volatile("pause");
		if (gen % 100 == 0)
			printf("TICK %u\n", ++ticks);
	}
}
