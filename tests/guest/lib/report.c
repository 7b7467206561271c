/*
 * Checks and the end of a test: report() prints one PASS/FAIL line and
 * counts per vCPU, exit() turns the counts into the status the host reads
 * from EXIT_PORT, guest_start() is what entry.S calls on each vCPU.
 */
#include "guest.h"

/*
 * The per-vCPU stacks; entry.S points vCPU i at the top of cpu_stacks[i].
 * Counters are per vCPU too, so two vCPUs never race on them and no locked
 * instruction is needed.
 */
char cpu_stacks[GUEST_MAX_CPUS][1 << GUEST_STACK_SHIFT] __attribute__((aligned(16)));
static unsigned int checks[GUEST_MAX_CPUS];
static unsigned int failures[GUEST_MAX_CPUS];

unsigned int smp_id(void)
{
	uintptr_t sp;

	asm volatile("mov %%rsp, %0" : "=r"(sp));
	return (unsigned int)((sp - (uintptr_t)cpu_stacks) >> GUEST_STACK_SHIFT);
}

bool report(bool cond, const char *name, ...)
{
	unsigned int cpu = smp_id();
	va_list ap;

	checks[cpu]++;
	if (!cond)
		failures[cpu]++;
	puts(cond ? "PASS: " : "FAIL: ");
	va_start(ap, name);
	vprintf(name, ap);
	va_end(ap);
	putchar('\n');
	return cond;
}

void exit(int code)
{
	unsigned int cpu = smp_id();

	if (checks[cpu] == 0) {
		puts("FAIL: the test reported no checks\n");
		code = 1;
	} else if (failures[cpu] && code == 0) {
		code = 1;
	}
	printf("SUMMARY: %u checks, %u failed, exit code %d\n", checks[cpu], failures[cpu], code);
	outl(EXIT_PORT, (uint32_t)code);
	/* The host ends the vCPU at the write; never run on if it does not. */
	for (;;)
		asm volatile("cli; hlt");
}

void guest_start(unsigned int cpu, uint32_t param);

void guest_start(unsigned int cpu, uint32_t param)
{
	exit(guest_main(cpu, param));
}
