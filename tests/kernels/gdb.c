/*
 * The GDB stub's kernel (tests/vmrun/gdb.sh): built with debug info, it
 * calls gdb_target() three times, each adding its argument to
 * gdb_counter, writes gdb_watched once, and exits with status 1. gdb sets
 * a breakpoint in gdb_target, reads gdb_counter, steps, watches
 * gdb_watched and lets it run to the end.
 */
#include "kernel.h"

volatile uint32_t gdb_counter = 0x1234;
volatile uint64_t gdb_watched;

__attribute__((noinline)) void gdb_target(uint32_t n)
{
	gdb_counter += n;
}

int main(int argc, char **argv)
{
	for (uint32_t i = 1; i <= 3; i++)
		gdb_target(i);
	gdb_watched = 0x5678;
	report(gdb_counter == 0x1234 + 1 + 2 + 3, "gdb_target ran three times (counter 0x%x)",
	       gdb_counter);
	exit(report_summary() ? 1 : 0);
	return 1;
}
