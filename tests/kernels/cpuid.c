/*
 * CPUID as the in-kernel LAPIC needs it on every vCPU: the APIC, x2APIC
 * and TSC-deadline feature bits (CPUID.01H:EDX[9], ECX[21], ECX[24]), an
 * initial APIC id that is the LAPIC's id, the APIC base MSR, and x2APIC
 * mode really working when the bit says so.
 */
#include "kernel.h"

#define APIC_BASE_BSP		(1u << 8)
#define APIC_BASE_X2APIC	(1u << 10)
#define APIC_BASE_ENABLE	(1u << 11)

static void check_bits(unsigned int cpu)
{
	uint32_t r[4];

	cpuid(1, 0, r);
	report(r[3] & (1u << 9), "CPU %u: CPUID.01H:EDX.APIC[9]", cpu);
	report(r[2] & (1u << 21), "CPU %u: CPUID.01H:ECX.x2APIC[21]", cpu);
	report(r[2] & (1u << 24), "CPU %u: CPUID.01H:ECX.TSC-Deadline[24]", cpu);
	report(r[1] >> 24 == lapic_id(), "CPU %u: initial APIC id %u is the LAPIC id %u", cpu,
	       r[1] >> 24, lapic_id());
}

int main(int argc, char **argv)
{
	uint64_t base;
	uint32_t r[4], id, version;

	cpuid(0, 0, r);
	report(r[0] >= 1, "CPUID leaf 1 exists (max leaf %u)", r[0]);
	base = rdmsr(MSR_IA32_APIC_BASE);
	report((base & ~(uint64_t)0xfff) == LAPIC_DEFAULT_BASE, "APIC base 0x%lx",
	       base & ~(uint64_t)0xfff);
	report((base & (APIC_BASE_ENABLE | APIC_BASE_X2APIC)) == APIC_BASE_ENABLE,
	       "the LAPIC is enabled in xAPIC mode at reset");
	report(base & APIC_BASE_BSP, "the boot CPU has the BSP flag");

	/* Every vCPU must see the same bits: the APs check themselves. */
	ap_main = check_bits;
	smp_boot(5000);
	check_bits(0);
	report(cpus_online == acpi.nr_cpus, "%u of %u CPUs checked", cpus_online, acpi.nr_cpus);

	cpuid(1, 0, r);
	if (!(r[2] & (1u << 21))) {
		report_skip("x2APIC mode: no x2APIC");
		return 0;
	}
	/* x2APIC mode after all the xAPIC MMIO use above (SDM 10.12.5). */
	id = lapic_id();
	version = lapic_read(APIC_VERSION);
	wrmsr(MSR_IA32_APIC_BASE, base | APIC_BASE_X2APIC);
	report(rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_X2APIC, "x2APIC mode turns on");
	report(rdmsr(0x802) == id, "x2APIC: MSR 0x802 reads the APIC id %u", id);
	report((uint32_t)rdmsr(0x803) == version, "x2APIC: MSR 0x803 reads the version 0x%x", version);
	return 0;
}
