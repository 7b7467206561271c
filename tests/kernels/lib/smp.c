/*
 * Bringing up the application processors the MADT lists: copy the
 * real-mode trampoline (entry.S) below 1 MiB, then INIT, 10 ms, SIPI,
 * 200 us, SIPI to each one in turn, the universal start-up algorithm of
 * the Intel SDM vol. 3 section 8.4.4.1, and wait for it to check in.
 */
#include "kernel.h"

extern char trampoline_start[], trampoline_end[];

void (*volatile ap_main)(unsigned int cpu);
volatile bool cpu_online[MAX_CPUS];
volatile uint32_t cpu_apic_id[MAX_CPUS];
volatile uint32_t cpus_online;
static volatile bool cpu_done[MAX_CPUS];

static int cpu_index(uint32_t apic_id)
{
	for (uint32_t i = 0; i < acpi.nr_cpus; i++)
		if (acpi.apic_ids[i] == apic_id)
			return (int)i;
	return -1;
}

unsigned int smp_id(void)
{
	int i = acpi.madt_found ? cpu_index(lapic_id()) : -1;

	return i < 0 ? 0 : (unsigned int)i;
}

static void check_in(int i, uint32_t id)
{
	cpu_apic_id[i] = id;
	__atomic_store_n(&cpu_online[i], true, __ATOMIC_RELEASE);
	__atomic_fetch_add(&cpus_online, 1, __ATOMIC_RELAXED);
}

void ap_start(void);

/* Called by entry.S on each AP, in long mode on its own stack. */
void ap_start(void)
{
	uint32_t id;
	int i;

	idt_load();
	lapic_init();
	id = lapic_id();
	i = cpu_index(id);
	if (i >= 0) {
		check_in(i, id);
		if (ap_main)
			ap_main((unsigned int)i);
		__atomic_store_n(&cpu_done[i], true, __ATOMIC_RELEASE);
	}
	for (;;)
		asm volatile("cli; hlt");
}

/* Without a PM timer, a pause loop is the only clock: slow CPUs only wait longer. */
static void wait_us(uint64_t us)
{
	if (acpi.pm_tmr_port) {
		delay_us(us);
		return;
	}
	for (uint64_t n = 0; n < us * 100; n++)
		cpu_relax();
}

static bool wait_done(int i, unsigned int timeout_ms)
{
	uint64_t start = acpi.pm_tmr_port ? pmtimer_now() : 0;
	uint64_t spins = 0;

	while (!__atomic_load_n(&cpu_done[i], __ATOMIC_ACQUIRE)) {
		if (acpi.pm_tmr_port ? pmtimer_us_since(start) >= timeout_ms * 1000ull
				     : ++spins >= timeout_ms * 100000ull)
			return false;
		cpu_relax();
	}
	return true;
}

unsigned int smp_boot(unsigned int timeout_ms)
{
	uint32_t self;
	int me;

	acpi_init();
	lapic_init();
	memcpy((void *)TRAMPOLINE_ADDR, trampoline_start,
	       (size_t)(trampoline_end - trampoline_start));
	self = lapic_id();
	me = cpu_index(self);
	if (me >= 0 && !cpu_online[me]) {
		check_in(me, self);
		cpu_done[me] = true;
	}
	for (uint32_t i = 0; i < acpi.nr_cpus; i++) {
		uint32_t id = acpi.apic_ids[i];

		if ((int)i == me || cpu_online[i])
			continue;
		/* INIT (delivery mode 101b), level assert. */
		lapic_ipi(id, 0x4500);
		wait_us(10000);
		for (int sipi = 0; sipi < 2 && !cpu_online[i]; sipi++) {
			/* Start-up (110b); the vector is the page number. */
			lapic_ipi(id, 0x4600 | (TRAMPOLINE_ADDR >> 12));
			wait_us(200);
		}
		wait_done((int)i, timeout_ms);
	}
	return cpus_online;
}
