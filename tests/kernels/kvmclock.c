/*
 * The KVM paravirtual interface a guest finds on a VMM: the hypervisor bit
 * (CPUID.1:ECX[31]), the signature leaf 0x40000000 ("KVMKVMKVM"), the
 * features of leaf 0x40000001 with the kvmclock bits, and kvmclock itself
 * (Documentation/virt/kvm/x86/msr.rst): the system-time MSR publishes a
 * pvclock structure whose time advances as the PM timer does, and the
 * wall-clock MSR gives a plausible date. With the argument "absent" the
 * kernel checks instead that --cpu host,-kvmclock,-kvmclock2 hid them.
 */
#include "kernel.h"

#define MSR_KVM_WALL_CLOCK_NEW	0x4b564d00
#define MSR_KVM_SYSTEM_TIME_NEW	0x4b564d01
#define KVM_FEATURE_CLOCKSOURCE	(1u << 0)
#define KVM_FEATURE_CLOCKSOURCE2 (1u << 3)

struct pvclock_time {
	uint32_t version;
	uint32_t pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;
	uint8_t pad[2];
} __attribute__((packed));

struct pvclock_wall {
	uint32_t version;
	uint32_t sec;
	uint32_t nsec;
} __attribute__((packed));

static volatile struct pvclock_time clock __attribute__((aligned(64)));
static volatile struct pvclock_wall wall __attribute__((aligned(64)));

/* Nanoseconds of the pvclock (msr.rst: the version is odd while the
 * hypervisor updates the structure; read again then). */
static uint64_t kvmclock_ns(void)
{
	uint32_t v;
	uint64_t delta, ns;

	do {
		v = clock.version;
		asm volatile("" ::: "memory");
		delta = rdtsc() - clock.tsc_timestamp;
		if (clock.tsc_shift >= 0)
			delta <<= clock.tsc_shift;
		else
			delta >>= -clock.tsc_shift;
		ns = clock.system_time + (uint64_t)(((unsigned __int128)delta *
						    clock.tsc_to_system_mul) >> 32);
		asm volatile("" ::: "memory");
	} while ((v & 1) || v != clock.version);
	return ns;
}

int main(int argc, char **argv)
{
	bool absent = argc > 1 && !strcmp(argv[1], "absent");
	uint32_t r[4], feat;
	char sig[13];
	uint64_t k0, k1, p0, us, ns;

	cpuid(1, 0, r);
	report(r[2] & (1u << 31), "CPUID.1:ECX[31]: the hypervisor bit is set");
	cpuid(0x40000000, 0, r);
	memcpy(sig, &r[1], 4);
	memcpy(sig + 4, &r[2], 4);
	memcpy(sig + 8, &r[3], 4);
	sig[12] = 0;
	report(!memcmp(sig, "KVMKVMKVM\0\0\0", 12), "leaf 0x40000000 signature \"%s\"", sig);
	report(r[0] >= 0x40000001, "leaf 0x40000000 EAX 0x%x reaches the features leaf", r[0]);
	cpuid(0x40000001, 0, r);
	feat = r[0];
	report_info("KVM features 0x%x", feat);
	if (absent) {
		report(!(feat & (KVM_FEATURE_CLOCKSOURCE | KVM_FEATURE_CLOCKSOURCE2)),
		       "--cpu ...,-kvmclock,-kvmclock2 hides both kvmclock bits");
		return 0;
	}
	if (!report(feat & KVM_FEATURE_CLOCKSOURCE2, "CLOCKSOURCE2 (kvmclock) is offered"))
		return 1;

	acpi_init();
	wrmsr(MSR_KVM_SYSTEM_TIME_NEW, (uint64_t)(uintptr_t)&clock | 1);
	report(rdmsr(MSR_KVM_SYSTEM_TIME_NEW) == ((uint64_t)(uintptr_t)&clock | 1),
	       "the system-time MSR reads back what was written");
	report(clock.version != 0 && !(clock.version & 1), "pvclock published (version %u)",
	       clock.version);
	report(clock.tsc_to_system_mul != 0, "pvclock scale %u shift %d", clock.tsc_to_system_mul,
	       clock.tsc_shift);
	p0 = pmtimer_now();
	k0 = kvmclock_ns();
	delay_us(50000);
	k1 = kvmclock_ns();
	us = pmtimer_us_since(p0);
	ns = k1 - k0;
	report(k1 > k0, "kvmclock advances (%lu ns -> %lu ns)", k0, k1);
	/* Both count the host's time. The PM timer's reads are exits, slow on
	 * a loaded host: kvmclock's window lies inside theirs, so it spans at
	 * least the 50 ms delay and at most the PM timer's count. */
	report(ns / 1000 >= 50000 * 8 / 10 && ns / 1000 <= us * 12 / 10 + 2000,
	       "kvmclock: %lu us while the PM timer counted %lu us", ns / 1000, us);
	wrmsr(MSR_KVM_SYSTEM_TIME_NEW, 0);

	wrmsr(MSR_KVM_WALL_CLOCK_NEW, (uint64_t)(uintptr_t)&wall);
	report(!(wall.version & 1) && wall.sec > 1600000000u,
	       "wall clock: %u s since 1970 (after 2020)", wall.sec);
	return 0;
}
