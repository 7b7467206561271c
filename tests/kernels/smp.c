/*
 * SMP bring-up: every CPU the MADT lists comes up through INIT-SIPI-SIPI
 * and the real-mode trampoline, reaches 64-bit mode on the kernel's page
 * tables, reports from there, takes part in locked arithmetic on shared
 * memory and sends the boot CPU an IPI. The CPU count must also be
 * fw_cfg's (test kernels wait for exactly that many), and the MP table,
 * which older guests read instead of the MADT, must agree with the MADT
 * on the CPUs, the IOAPIC and the pin of ISA IRQ 0.
 */
#include "kernel.h"

#define INCREMENTS	200
#define IPI_VECTOR	0x60	/* + CPU index: one vector each, so none merge in IRR */

static volatile uint32_t counter, ipis;
static volatile uint32_t ipi_seen[MAX_CPUS];
static uint32_t bsp_id;

static void add_to_counter(void)
{
	for (int i = 0; i < INCREMENTS; i++)
		__atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
}

static void ap_work(unsigned int cpu)
{
	uint32_t r[4];

	cpuid(1, 0, r);
	report(r[1] >> 24 == lapic_id(), "CPU %u: CPUID's initial APIC id %u is its LAPIC id", cpu,
	       r[1] >> 24);
	report(read_cr3() == (uintptr_t)pml4 && (read_cr0() & 0x80000001) == 0x80000001,
	       "CPU %u: in 64-bit mode on the kernel's page tables", cpu);
	report(!(rdmsr(MSR_IA32_APIC_BASE) & (1u << 8)), "CPU %u: not the BSP (APIC base MSR)", cpu);
	add_to_counter();
	lapic_ipi(bsp_id, IPI_VECTOR + cpu);
}

static void ipi_handler(struct irq_frame *f)
{
	ipi_seen[f->vector - IPI_VECTOR]++;
	ipis++;
	lapic_eoi();
}

static bool in_madt(uint32_t apic_id)
{
	for (uint32_t i = 0; i < acpi.nr_cpus; i++)
		if (acpi.apic_ids[i] == apic_id)
			return true;
	return false;
}

static void check_mptable(void)
{
	bool found = mptable_init(), listed = true;

	if (!report(found, "MP floating pointer found at 0x%lx", mp.floating))
		return;
	if (!report(mp.config_ok, "MP configuration table at 0x%x with a valid checksum", mp.config))
		return;
	for (uint32_t i = 0; i < mp.nr_cpus; i++)
		listed &= in_madt(mp.apic_ids[i]);
	/* SeaBIOS lists one logical CPU per package when CPUID shows HTT,
	 * so the MP table may name fewer CPUs than the MADT, never others. */
	report(mp.nr_cpus >= 1 && listed, "MP table: %u processors, all of them in the MADT",
	       mp.nr_cpus);
	if (mp.nr_cpus != acpi.nr_cpus)
		report_info("the MP table lists %u of the MADT's %u CPUs", mp.nr_cpus, acpi.nr_cpus);
	report(mp.bsp_count == 1 && mp.bsp_id == lapic_id(), "MP table: the boot CPU (%u) is the one BP",
	       mp.bsp_id);
	report(mp.nr_ioapics >= 1 && mp.ioapic_addr == acpi.ioapic_addr,
	       "MP table: IOAPIC at 0x%x as in the MADT", mp.ioapic_addr);
	report(mp.irq0_pin == (int)isa_irq_to_gsi(0) - (int)acpi.ioapic_gsi_base,
	       "MP table: ISA IRQ 0 on IOAPIC pin %d, as the MADT says (GSI %u)", mp.irq0_pin,
	       isa_irq_to_gsi(0));
}

int main(int argc, char **argv)
{
	unsigned int online, expected;
	uint64_t nb;

	acpi_init();
	report(acpi.madt_found, "MADT found, %u CPUs listed", acpi.nr_cpus);
	if (!report(!acpi.too_many_cpus, "at most %u CPUs (the library's limit)", MAX_CPUS))
		return 1;
	expected = acpi.nr_cpus;
	nb = fwcfg_read_le(FW_CFG_NB_CPUS, 2);
	report(nb == expected, "fw_cfg NB_CPUS %lu equals the MADT's count", nb);
	report(rdmsr(MSR_IA32_APIC_BASE) & (1u << 8), "the boot CPU has the BSP flag");

	lapic_init();
	bsp_id = lapic_id();
	check_mptable();
	for (unsigned int i = 0; i < expected; i++)
		set_handler((uint8_t)(IPI_VECTOR + i), ipi_handler);
	ap_main = ap_work;
	online = smp_boot(5000);
	for (unsigned int i = 0; i < expected; i++)
		report(cpu_online[i], "CPU %u (APIC id %u)%s checked in", i, acpi.apic_ids[i],
		       acpi.apic_ids[i] == bsp_id ? ", the boot CPU," : " came up via INIT/SIPI and");
	report(online == expected, "%u of %u CPUs online", online, expected);
	add_to_counter();
	report(counter == INCREMENTS * online, "locked increments from every CPU add up (%u)", counter);
	irq_wait(&ipis, online - 1, 2000);
	for (unsigned int i = 0; i < expected; i++)
		if (acpi.apic_ids[i] != bsp_id)
			report(ipi_seen[i] == 1, "the IPI from CPU %u reached the boot CPU", i);
	return 0;
}
