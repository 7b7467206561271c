/*
 * The multiboot v1 hand-over as test kernels rely on it: the entry state
 * (EAX magic, flat CS/DS, paging and interrupts off), a command line whose
 * first word names the kernel (argv[0]) followed by the arguments, a
 * settings module of KEY=VALUE lines, mem_lower/mem_upper that agree with
 * the memory map, and RAM from physical 0. meson passes the arguments
 * "first second=2 --third" and settings.txt (NR_CPUS=2, MEMSIZE=128).
 */
#include "kernel.h"

#define KERNEL_FILE "multiboot.elf"

/* Available RAM in the map covering [a, a + len). */
static bool map_covers(const struct mb_info *mbi, uint64_t a, uint64_t len)
{
	uint64_t end = a + len;
	bool progress = true;

	/* Entries may come in any order; extend [a, end) until stuck. */
	while (a < end && progress) {
		const uint8_t *p = (const uint8_t *)(uintptr_t)mbi->mmap_addr;
		const uint8_t *stop = p + mbi->mmap_length;

		progress = false;
		for (; p < stop; p += ((const struct mb_mmap_entry *)p)->size + 4) {
			const struct mb_mmap_entry *e = (const void *)p;

			if (e->type == MB_MMAP_AVAILABLE && e->addr <= a && e->addr + e->len > a) {
				a = e->addr + e->len;
				progress = true;
			}
		}
	}
	return a >= end;
}

int main(int argc, char **argv)
{
	const struct mb_info *mbi = mb_info();
	const uint8_t *p, *stop;
	uint64_t ram = 0, nr_cpus, memsize, lowest_end = 0;
	bool ram_at_0 = false;
	volatile uint32_t *low = (volatile uint32_t *)0x3000;

	report(mb_magic == MULTIBOOT_LOADER_MAGIC, "EAX at entry is 0x%x (0x2badb002)", mb_magic);
	if (!mbi)
		return 1;
	report(boot_cs == 0x08 && boot_ds == 0x10, "entry selectors CS 0x%x, DS 0x%x (0x08, 0x10)",
	       boot_cs, boot_ds);
	report((boot_cr0 & 0x80000001) == 1, "entry CR0 0x%x: protected mode, paging off", boot_cr0);
	report(!(boot_eflags & (1u << 9)), "entry EFLAGS 0x%x: interrupts off", boot_eflags);
	report(mb_info_addr + sizeof(*mbi) <= 0x100000 || mb_info_addr >= (uintptr_t)__image_end,
	       "info struct at 0x%x does not overlap the kernel", mb_info_addr);

	/* Command line: argv[0] is the kernel's file, then the arguments. */
	report(mbi->flags & MBI_CMDLINE, "info flags 0x%x: command line", mbi->flags);
	report_info("command line \"%s\"", mb_cmdline());
	report(argc >= 1 && str_ends_with(argv[0], KERNEL_FILE), "argv[0] \"%s\" names the kernel",
	       argc >= 1 ? argv[0] : "");
	report(argc == 4 && !strcmp(argv[1], "first") && !strcmp(argv[2], "second=2") &&
	       !strcmp(argv[3], "--third"), "the arguments follow it in order (argc %d)", argc);

	/* The settings module. */
	if (report(mbi->flags & MBI_MODS && mbi->mods_count >= 1, "one module or more (%u)",
		   mbi->mods_count)) {
		const struct mb_module *m = (const void *)(uintptr_t)mbi->mods_addr;

		report_info("module 0 at 0x%x-0x%x, string \"%s\"", m->mod_start, m->mod_end,
			    m->string ? (const char *)(uintptr_t)m->string : "");
		report(m->mod_start >= (uintptr_t)__image_end, "the module lies after the kernel");
		report((m->mod_start & 0xfff) == 0, "the module is page aligned (header flag 0)");
		report(setting_u64("NR_CPUS", &nr_cpus), "settings: NR_CPUS=%s", setting("NR_CPUS"));
		acpi_init();
		report(nr_cpus == acpi.nr_cpus && nr_cpus == fwcfg_read_le(FW_CFG_NB_CPUS, 2),
		       "NR_CPUS is the MADT's and fw_cfg's CPU count (%u)", acpi.nr_cpus);
		report(setting_u64("MEMSIZE", &memsize), "settings: MEMSIZE=%s", setting("MEMSIZE"));
		report(memsize << 20 == fwcfg_read_le(FW_CFG_RAM_SIZE, 8),
		       "MEMSIZE is fw_cfg's RAM size in MiB");
	}

	/* Memory: the map, mem_lower/mem_upper and RAM at 0. */
	report((mbi->flags & (MBI_MEMORY | MBI_MMAP)) == (MBI_MEMORY | MBI_MMAP),
	       "info flags: mem_lower/mem_upper and a memory map");
	p = (const uint8_t *)(uintptr_t)mbi->mmap_addr;
	stop = p + mbi->mmap_length;
	for (; p < stop; p += ((const struct mb_mmap_entry *)p)->size + 4) {
		const struct mb_mmap_entry *e = (const void *)p;

		report_info("map 0x%09lx-0x%09lx type %u", e->addr, e->addr + e->len - 1, e->type);
		if (e->type != MB_MMAP_AVAILABLE)
			continue;
		ram += e->len;
		if (e->addr == 0) {
			ram_at_0 = true;
			lowest_end = e->len;
		}
	}
	report_info("mem_lower %u KiB, mem_upper %u KiB, %lu KiB available", mbi->mem_lower,
		    mbi->mem_upper, ram >> 10);
	report(ram_at_0, "the map has RAM from physical 0");
	/* The spec calls mem_lower/mem_upper a summary: QEMU says 640 KiB
	 * where its map ends low RAM at 639 KiB, and counts to the end of
	 * RAM where its map keeps the last 128 KiB reserved. So they must
	 * agree within those slips: a few KiB below 1 MiB, 1 MiB above. */
	report(mbi->mem_lower <= 640 && mbi->mem_lower * 1024ull <= lowest_end + 4096 &&
	       mbi->mem_lower * 1024ull + 4096 >= lowest_end,
	       "mem_lower %u KiB agrees with the map's low RAM (%lu KiB)", mbi->mem_lower,
	       lowest_end >> 10);
	report(mbi->mem_upper >= 1024 && map_covers(mbi, 0x100000, mbi->mem_upper * 1024ull - 0x100000),
	       "mem_upper %u KiB: the map has that RAM from 1 MiB on (within 1 MiB)", mbi->mem_upper);
	report(!map_covers(mbi, 0x100000, mbi->mem_upper * 1024ull + 0x100000),
	       "mem_upper is not short of the map's RAM from 1 MiB by over 1 MiB");
	*low = 0xc0ffee11;
	report(*low == 0xc0ffee11, "low RAM at 0x3000 holds a written value");
	return 0;
}
