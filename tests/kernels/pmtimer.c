/*
 * The ACPI PM timer the FADT describes (ACPI 6.x 4.8.3.3): its block is
 * there, 4 ports long, it counts up across reads, and it runs at
 * 3.579545 MHz, measured against the CMOS RTC's seconds (two whole
 * seconds of the RTC must take 3579545 ticks each, within 10%).
 */
#include "kernel.h"

static uint8_t rtc_seconds(void)
{
	outb(0x70, 0x00);
	return inb(0x71);
}

/* Wait for the RTC's second to change; false after @ms by the PM timer. */
static bool next_second(unsigned int ms)
{
	uint8_t s = rtc_seconds();
	uint64_t start = pmtimer_now();

	while (rtc_seconds() == s)
		if (pmtimer_us_since(start) > ms * 1000ull)
			return false;
	return true;
}

int main(int argc, char **argv)
{
	uint32_t prev, v, mask, high = 0;
	uint64_t sum = 0, max_step = 0, t1, t2;
	bool monotonic = true;

	bool found = acpi_init();

	report(found, "RSDP found at 0x%lx (revision %u)", acpi.rsdp, acpi.revision);
	report(acpi.fadt_found, "FADT found (revision %u)", acpi.fadt_revision);
	if (!report(acpi.pm_tmr_port != 0, "FADT PM timer block at port 0x%x", acpi.pm_tmr_port))
		return 1;
	report(acpi.pm_tmr_len == 4, "PM_TMR_LEN is 4 (%u)", acpi.pm_tmr_len);
	report_info("the timer is %s bits wide (TMR_VAL_EXT)", acpi.pm_tmr_32bit ? "32" : "24");

	mask = acpi.pm_tmr_32bit ? 0xffffffffu : 0xffffffu;
	prev = pmtimer_read();
	for (int i = 0; i < 50; i++) {
		uint32_t step;

		v = pmtimer_read();
		step = (v - prev) & mask;
		high |= v & ~mask;
		/* A read must never go back: a step over half the range would
		 * mean it did (or that a read took seconds). */
		if (step > mask / 2)
			monotonic = false;
		sum += step;
		if (step > max_step)
			max_step = step;
		prev = v;
	}
	report(monotonic && sum > 0, "50 reads count up (%lu ticks, largest step %lu)", sum, max_step);
	report(high == 0, "bits above the timer's width read 0");

	if (!report(next_second(3000), "the RTC's seconds advance")) {
		return 1;
	}
	t1 = pmtimer_now();
	report(next_second(3000) && next_second(3000), "two more RTC seconds pass");
	t2 = pmtimer_now();
	report(t2 - t1 >= PMTIMER_HZ * 2 * 9 / 10 && t2 - t1 <= PMTIMER_HZ * 2 * 11 / 10,
	       "PM timer: %lu ticks in 2 RTC seconds (3579545 Hz expected, 10%% margin)", t2 - t1);
	return 0;
}
