/*
 * Hyper-V enlightenments under vmrun --hyperv all (TLFS 6.0): the CPUID
 * leaves (a vendor, "Hv#1", the feature bits asked for, KVM's own
 * leaves moved to 0x40000100), the hypercall page, the VP index and VP
 * runtime MSRs, the reference counter and reference TSC page against the
 * PM timer, SynIC (control, message and event pages, SINT routing), a
 * synthetic timer delivering its expiry message through SINT 2, one in
 * direct mode delivering an APIC vector, and a hypercall the backend hands
 * to the VMM (HvPostMessage), which libvm answers "invalid hypercall code".
 */
#include "kernel.h"

#define HV_GUEST_OS_ID		0x40000000
#define HV_HYPERCALL		0x40000001
#define HV_VP_INDEX		0x40000002
#define HV_VP_RUNTIME		0x40000010
#define HV_TIME_REF_COUNT	0x40000020
#define HV_REFERENCE_TSC	0x40000021
#define HV_SCONTROL		0x40000080
#define HV_SVERSION		0x40000081
#define HV_SIEFP		0x40000082
#define HV_SIMP			0x40000083
#define HV_EOM			0x40000084
#define HV_SINT(n)		(0x40000090 + (n))
#define HV_STIMER_CONFIG(n)	(0x400000b0 + 2 * (n))
#define HV_STIMER_COUNT(n)	(0x400000b1 + 2 * (n))

#define SINT_VECTOR		0x50
#define DIRECT_VECTOR		0x51
#define HVMSG_TIMER_EXPIRED	0x80000010u
#define HVCALL_POST_MESSAGE	0x005c

static uint8_t hcall_page[4096] __attribute__((aligned(4096)));
static uint8_t msg_page[4096] __attribute__((aligned(4096)));
static uint8_t evt_page[4096] __attribute__((aligned(4096)));
static uint8_t tsc_page[4096] __attribute__((aligned(4096)));
static uint8_t in_page[4096] __attribute__((aligned(4096)));

static volatile uint32_t sint_irqs, direct_irqs;

static void sint_irq(struct irq_frame *f)
{
	(void)f;
	sint_irqs++;
	lapic_eoi();
}

static void direct_irq(struct irq_frame *f)
{
	(void)f;
	direct_irqs++;
	lapic_eoi();
}

static uint64_t hypercall(uint64_t control, uint64_t in, uint64_t out)
{
	register uint64_t r8 asm("r8") = out;
	uint64_t status;

	asm volatile("call *%[page]"
		     : "=a"(status), "+c"(control), "+d"(in), "+r"(r8)
		     : [page] "r"(hcall_page)
		     : "memory", "r9", "r10", "r11");
	return status;
}

static bool wait_for(volatile uint32_t *count, unsigned int ms)
{
	uint64_t t0 = pmtimer_now();

	irq_enable();
	while (!*count && pmtimer_us_since(t0) < ms * 1000ull)
		cpu_relax();
	irq_disable();
	return *count;
}

int main(int argc, char **argv)
{
	uint32_t r[4];
	char sig[13] = { 0 };
	uint64_t v0, v1, p0, us, ref;
	volatile uint32_t *msg;

	acpi_init();
	lapic_init();
	cpuid(0x40000000, 0, r);
	memcpy(sig, &r[1], 4);
	memcpy(sig + 4, &r[2], 4);
	memcpy(sig + 8, &r[3], 4);
	/* The vendor is the hypervisor's ("Linux KVM Hv"; QEMU says
	 * "Microsoft Hv"); the interface signature below is what counts. */
	report(sig[0] && r[0] >= 0x40000005 && r[0] < 0x40000008,
	       "leaf 0x40000000 vendor \"%s\", max leaf 0x%x", sig, r[0]);
	cpuid(0x40000001, 0, r);
	report(r[0] == 0x31237648, "leaf 0x40000001 interface \"Hv#1\"");
	cpuid(0x40000003, 0, r);
	report((r[0] & 0x27f) == 0x27f, "features: VP runtime, ref counter, SynIC, stimers, APIC MSRs, hypercall MSRs, VP index, ref TSC (EAX 0x%x)",
	       r[0]);
	report(r[3] & (1u << 19), "feature: direct synthetic timers (EDX 0x%x)", r[3]);
	cpuid(0x40000100, 0, r);
	memcpy(sig, &r[1], 4);
	memcpy(sig + 4, &r[2], 4);
	memcpy(sig + 8, &r[3], 4);
	report(!memcmp(sig, "KVMKVMKVM", 9), "KVM's leaves moved to 0x40000100");

	/* Hypercall page (TLFS 3.13): a guest OS id first. */
	wrmsr(HV_GUEST_OS_ID, 0x8100ull << 48 | 1);
	wrmsr(HV_HYPERCALL, (uint64_t)(uintptr_t)hcall_page | 1);
	report(rdmsr(HV_HYPERCALL) & 1, "hypercall page enabled");
	report(hcall_page[0] == 0x0f && hcall_page[1] == 0x01, "hypercall page holds VMCALL/VMMCALL (%02x %02x %02x)",
	       hcall_page[0], hcall_page[1], hcall_page[2]);
	report(rdmsr(HV_VP_INDEX) == 0, "VP index 0 on the boot CPU");
	v0 = rdmsr(HV_VP_RUNTIME);
	delay_us(10000);
	v1 = rdmsr(HV_VP_RUNTIME);
	report(v1 > v0, "VP runtime advances (%lu -> %lu)", v0, v1);

	/* Reference counter: 100 ns units. Its window lies inside the PM
	 * timer's (whose reads are exits, slow on a loaded host): it spans at
	 * least the 50 ms delay and at most the PM timer's count. */
	p0 = pmtimer_now();
	v0 = rdmsr(HV_TIME_REF_COUNT);
	delay_us(50000);
	v1 = rdmsr(HV_TIME_REF_COUNT);
	us = pmtimer_us_since(p0);
	report((v1 - v0) / 10 >= 50000 * 8 / 10 && (v1 - v0) / 10 <= us * 12 / 10 + 2000,
	       "reference counter: %lu us while the PM timer counted %lu us", (v1 - v0) / 10, us);
	wrmsr(HV_REFERENCE_TSC, (uint64_t)(uintptr_t)tsc_page | 1);
	if (*(volatile uint32_t *)tsc_page == 0) {
		report_skip("reference TSC page: sequence 0, the host's clock is not TSC-stable here");
	} else {
		uint64_t scale = *(volatile uint64_t *)(tsc_page + 8);
		int64_t off = *(volatile int64_t *)(tsc_page + 16);

		ref = (uint64_t)(((unsigned __int128)rdtsc() * scale) >> 64) + (uint64_t)off;
		v0 = rdmsr(HV_TIME_REF_COUNT);
		report(ref + 100000 > v0 && ref < v0 + 100000,
		       "reference TSC page time %lu agrees with the counter %lu (10 ms)", ref, v0);
	}

	/* SynIC (TLFS 11.8): pages, control, SINT 2 to a vector. */
	report((rdmsr(HV_SVERSION) & 0xffffffff) == 1, "SynIC version 1");
	wrmsr(HV_SIMP, (uint64_t)(uintptr_t)msg_page | 1);
	wrmsr(HV_SIEFP, (uint64_t)(uintptr_t)evt_page | 1);
	wrmsr(HV_SINT(2), SINT_VECTOR);
	wrmsr(HV_SCONTROL, 1);
	report(rdmsr(HV_SCONTROL) & 1, "SynIC enabled (its MSR writes went through the VMM)");
	report((rdmsr(HV_SINT(2)) & 0x100ff) == SINT_VECTOR, "SINT2 routed to vector 0x%x", SINT_VECTOR);
	set_handler(SINT_VECTOR, sint_irq);
	set_handler(DIRECT_VECTOR, direct_irq);

	/* Synthetic timer 0: one shot, 5 ms, message on SINT 2. */
	wrmsr(HV_STIMER_CONFIG(0), 1u | 2u << 16);
	wrmsr(HV_STIMER_COUNT(0), rdmsr(HV_TIME_REF_COUNT) + 50000);
	report(wait_for(&sint_irqs, 2000), "stimer 0 expired: SINT2 interrupt");
	msg = (volatile uint32_t *)(msg_page + 2 * 256);
	report(msg[0] == HVMSG_TIMER_EXPIRED && msg[4] == 0,
	       "timer-expired message in SINT2's slot (type 0x%x, timer %u)", msg[0], msg[4]);
	msg[0] = 0;
	wrmsr(HV_EOM, 0);

	/* Synthetic timer 1 in direct mode: an APIC vector, no message. */
	wrmsr(HV_STIMER_CONFIG(1), 1u | 1u << 12 | (uint32_t)DIRECT_VECTOR << 4);
	wrmsr(HV_STIMER_COUNT(1), rdmsr(HV_TIME_REF_COUNT) + 50000);
	report(wait_for(&direct_irqs, 2000), "stimer 1 in direct mode: vector 0x%x", DIRECT_VECTOR);

	/* A hypercall KVM leaves to the VMM. */
	memset(in_page, 0, sizeof(in_page));
	v0 = hypercall(HVCALL_POST_MESSAGE, (uint64_t)(uintptr_t)in_page, 0);
	report((v0 & 0xffff) == 2, "HvPostMessage answered by the VMM: status %lu (invalid code)",
	       v0 & 0xffff);
	wrmsr(HV_SCONTROL, 0);
	return 0;
}
