/*
 * The demo kernel: the default guest of README's main job. It boots like
 * any test kernel and prints what it finds: the boot loader and command
 * line, the memory map, the CPUs the MADT lists (and brings each one up),
 * and the devices: fw_cfg, the UART, the PM timer, the IOAPIC and LAPIC,
 * the RTC's clock. It ends with exit code 0 (vmrun status 1) when all of
 * it was there.
 */
#include "kernel.h"

static volatile uint32_t hellos;

static void ap_hello(unsigned int cpu)
{
	spin_lock(&console_lock);
	printf("  CPU %u (APIC id %u) says hello from 64-bit mode\n", cpu, lapic_id());
	spin_unlock(&console_lock);
	__atomic_fetch_add(&hellos, 1, __ATOMIC_RELAXED);
}

static uint8_t cmos(uint8_t reg)
{
	outb(0x70, reg);
	return inb(0x71);
}

static void memory(const struct mb_info *mbi)
{
	const uint8_t *p = (const uint8_t *)(uintptr_t)mbi->mmap_addr;
	uint64_t ram = 0;

	printf("Memory map (multiboot):\n");
	for (const uint8_t *e = p; e < p + mbi->mmap_length;
	     e += ((const struct mb_mmap_entry *)e)->size + 4) {
		const struct mb_mmap_entry *m = (const void *)e;

		printf("  0x%010lx-0x%010lx %s\n", m->addr, m->addr + m->len - 1,
		       m->type == MB_MMAP_AVAILABLE ? "RAM" : "reserved");
		if (m->type == MB_MMAP_AVAILABLE)
			ram += m->len;
	}
	printf("  %lu KiB of RAM; mem_lower %u KiB, mem_upper %u KiB\n", ram >> 10, mbi->mem_lower,
	       mbi->mem_upper);
	report(ram > 0, "memory map with %lu MiB of RAM", ram >> 20);
}

static void cpus(void)
{
	unsigned int online;

	printf("CPUs (ACPI MADT at RSDP 0x%lx):\n", acpi.rsdp);
	for (unsigned int i = 0; i < acpi.nr_cpus; i++)
		printf("  CPU %u: APIC id %u%s\n", i, acpi.apic_ids[i],
		       acpi.apic_ids[i] == lapic_id() ? " (boot CPU)" : "");
	ap_main = ap_hello;
	online = smp_boot(5000);
	report(online == acpi.nr_cpus, "%u of %u CPUs running", online, acpi.nr_cpus);
}

static void devices(void)
{
	uint8_t iir;
	uint32_t t0, t1;

	printf("Devices:\n");
	if (report(fwcfg_present(), "fw_cfg at 0x%x", FWCFG_PORT_SEL))
		printf("  fw_cfg: %lu CPUs, %lu MiB of RAM\n", fwcfg_read_le(FW_CFG_NB_CPUS, 2),
		       fwcfg_read_le(FW_CFG_RAM_SIZE, 8) >> 20);
	outb(COM1_PORT + 2, 0x07);
	iir = inb(COM1_PORT + 2);
	outb(COM1_PORT + 2, 0x00);
	report((iir & 0xc0) == 0xc0, "16550A UART at 0x%x, IRQ %u", COM1_PORT, COM1_IRQ);
	if (acpi.pm_tmr_port) {
		t0 = pmtimer_read();
		delay_us(1000);
		t1 = pmtimer_read();
		report(t1 != t0, "ACPI PM timer at 0x%x (%s-bit) counting", acpi.pm_tmr_port,
		       acpi.pm_tmr_32bit ? "32" : "24");
	} else {
		report(false, "ACPI PM timer in the FADT");
	}
	report(acpi.nr_ioapics > 0, "IOAPIC id %u at 0x%x with %u pins", acpi.ioapic_id,
	       acpi.ioapic_addr, ((ioapic_read(IOAPIC_VERSION) >> 16) & 0xff) + 1);
	report(true, "LAPIC at 0x%x, version 0x%x", acpi.lapic_addr, lapic_read(APIC_VERSION) & 0xff);
	printf("  RTC: 20%02x-%02x-%02x %02x:%02x:%02x UTC\n", cmos(9), cmos(8), cmos(7), cmos(4),
	       cmos(2), cmos(0));
	outb(TESTDEV_SCRATCH, 0x42);
	if (inb(TESTDEV_SCRATCH) == 0x42)
		printf("  pc-testdev at 0x%x\n", TESTDEV_SCRATCH);
}

int main(int argc, char **argv)
{
	const struct mb_info *mbi = mb_info();

	printf("\nlibvm demo kernel: hello from a multiboot guest\n");
	if (!report(mbi != NULL, "booted by a multiboot loader"))
		return 1;
	if (mbi->flags & MBI_LOADER_NAME)
		printf("  boot loader: %s\n", (const char *)(uintptr_t)mbi->boot_loader_name);
	printf("  command line: %s\n", mb_cmdline());
	if (mbi->flags & MBI_MMAP)
		memory(mbi);
	if (report(acpi_init() && acpi.madt_found, "ACPI tables with a MADT")) {
		lapic_init();
		cpus();
	}
	devices();
	printf("Done: powering off through the exit device.\n");
	return 0;
}
