/*
 * Checks and the end of a test kernel. Any CPU may report: a spinlock
 * keeps each line whole and the counters are shared (one verdict for the
 * kernel, unlike the tiny guests' per-vCPU verdicts). exit() turns the
 * counts into the value written to the exit device, so a kernel with a
 * failed check can never end with status 1 (QEMU's and vmrun's "passed").
 */
#include "kernel.h"

spinlock_t console_lock;
static volatile uint32_t tests, failures, skips;

void spin_lock(spinlock_t *l)
{
	/* xchg with memory is locked by itself (SDM vol. 3 8.1.2.1). */
	while (__atomic_exchange_n(&l->v, 1, __ATOMIC_ACQUIRE))
		while (l->v)
			cpu_relax();
}

void spin_unlock(spinlock_t *l)
{
	__atomic_store_n(&l->v, 0, __ATOMIC_RELEASE);
}

static void line(const char *prefix, const char *fmt, va_list ap)
{
	uint64_t flags = read_rflags();

	/* Interrupts off while holding the lock: a handler that reports
	 * on this CPU would otherwise spin on it forever. */
	irq_disable();
	spin_lock(&console_lock);
	puts(prefix);
	vprintf(fmt, ap);
	putchar('\n');
	spin_unlock(&console_lock);
	if (flags & (1u << 9))
		irq_enable();
}

bool report(bool cond, const char *name, ...)
{
	va_list ap;

	__atomic_fetch_add(&tests, 1, __ATOMIC_RELAXED);
	if (!cond)
		__atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED);
	va_start(ap, name);
	line(cond ? "PASS: " : "FAIL: ", name, ap);
	va_end(ap);
	return cond;
}

void report_skip(const char *fmt, ...)
{
	va_list ap;

	__atomic_fetch_add(&skips, 1, __ATOMIC_RELAXED);
	va_start(ap, fmt);
	line("SKIP: ", fmt, ap);
	va_end(ap);
}

void report_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	line("INFO: ", fmt, ap);
	va_end(ap);
}

unsigned int report_failures(void)
{
	return failures;
}

/* The SUMMARY line; returns the code to end with. Caller holds the lock. */
static int summary(int code)
{
	if (tests == 0) {
		puts("FAIL: the kernel reported no checks\n");
		code = 1;
	} else if (failures && code == 0) {
		code = 1;
	}
	printf("SUMMARY: %u tests, %u failures", tests, failures);
	if (skips)
		printf(", %u skipped", skips);
	putchar('\n');
	return code;
}

int report_summary(void)
{
	uint64_t flags = read_rflags();
	int code;

	irq_disable();
	spin_lock(&console_lock);
	code = summary(0);
	spin_unlock(&console_lock);
	if (flags & (1u << 9))
		irq_enable();
	return code;
}

void exit(int code)
{
	irq_disable();
	spin_lock(&console_lock);
	code = summary(code);
	/* isa-debug-exit: the VM ends with status (code << 1) | 1. */
	outl(EXITDEV_PORT, (uint32_t)code);
	/* No exit device: stop here rather than run on. */
	for (;;)
		asm volatile("cli; hlt");
}
