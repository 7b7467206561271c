/*
 * fw_cfg through the traditional I/O interface: the "QEMU" signature, the
 * interface id, a CPU count equal to the CPUs the MADT lists (guests wait
 * for exactly that many), the RAM size against the memory map and the
 * settings module, the command line, and a readable file directory.
 */
#include "kernel.h"

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int main(int argc, char **argv)
{
	const struct mb_info *mbi = mb_info();
	uint64_t nb, max, ram, avail = 0, memsize;
	uint32_t id, size, count;
	uint8_t entry[64];
	char prev[57] = "", name[57];
	bool sorted = true;

	report(fwcfg_present(), "signature \"QEMU\" at selector 0");
	id = (uint32_t)fwcfg_read_le(FW_CFG_ID, 4);
	report(id & 1, "interface id 0x%x: traditional I/O interface", id);

	acpi_init();
	nb = fwcfg_read_le(FW_CFG_NB_CPUS, 2);
	max = fwcfg_read_le(FW_CFG_MAX_CPUS, 2);
	report(acpi.madt_found && nb == acpi.nr_cpus, "NB_CPUS %lu is the MADT's CPU count %u", nb,
	       acpi.nr_cpus);
	report(max >= nb, "MAX_CPUS %lu is at least NB_CPUS", max);
	if (setting_u64("NR_CPUS", &nb))
		report(nb == acpi.nr_cpus, "the settings' NR_CPUS %lu agrees", nb);

	ram = fwcfg_read_le(FW_CFG_RAM_SIZE, 8);
	if (mbi && (mbi->flags & MBI_MMAP)) {
		const uint8_t *p = (const uint8_t *)(uintptr_t)mbi->mmap_addr;

		for (const uint8_t *e = p; e < p + mbi->mmap_length;
		     e += ((const struct mb_mmap_entry *)e)->size + 4)
			if (((const struct mb_mmap_entry *)e)->type == MB_MMAP_AVAILABLE)
				avail += ((const struct mb_mmap_entry *)e)->len;
	}
	/* The map holds back the legacy hole and firmware areas: at most a
	 * few MiB less than all of RAM, never more. */
	report(avail <= ram && avail + (4u << 20) >= ram,
	       "RAM_SIZE %lu MiB matches the memory map (%lu KiB available)", ram >> 20, avail >> 10);
	if (setting_u64("MEMSIZE", &memsize))
		report(memsize << 20 == ram, "the settings' MEMSIZE %lu MiB agrees", memsize);

	size = (uint32_t)fwcfg_read_le(FW_CFG_CMDLINE_SIZE, 4);
	if (size == 0) {
		/* QEMU keeps a multiboot kernel's command line out of fw_cfg. */
		report_skip("no command line in fw_cfg (CMDLINE_SIZE 0)");
	} else {
		char cmd[256];
		const char *args = mb_cmdline();

		report(size < sizeof(cmd), "CMDLINE_SIZE %u", size);
		if (size < sizeof(cmd)) {
			fwcfg_select(FW_CFG_CMDLINE_DATA);
			fwcfg_read(cmd, size);
			cmd[size] = '\0';
			/* The arguments: the multiboot line after argv[0]. */
			while (*args && *args != ' ')
				args++;
			while (*args == ' ')
				args++;
			report(!strcmp(cmd, args) || !strcmp(cmd, mb_cmdline()),
			       "fw_cfg command line \"%s\" is the kernel's", cmd);
		}
	}

	fwcfg_select(FW_CFG_FILE_DIR);
	fwcfg_read(entry, 4);
	count = be32(entry);
	report(count < 4096, "file directory with %u files", count);
	for (uint32_t i = 0; i < count && i < 64; i++) {
		fwcfg_read(entry, 64);
		memcpy(name, entry + 8, 56);
		name[56] = '\0';
		if (strcmp(prev, name) > 0)
			sorted = false;
		memcpy(prev, name, sizeof(prev));
	}
	report(sorted, "file names are sorted");
	return 0;
}
