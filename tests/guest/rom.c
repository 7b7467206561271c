/*
 * A write to a read-only region: reads see the contents the host put there,
 * the write leaves the guest as an MMIO exit the host checks (address,
 * width, data) and is dropped, so the memory keeps its old value.
 */
#include "guest.h"
#include "testdata.h"

int guest_main(unsigned int cpu, uint32_t param)
{
	volatile uint32_t *rom = (volatile uint32_t *)GUEST_ROM_BASE;

	report(rom[0] == ROM_WORD0 && rom[1] == ROM_WORD1, "ROM reads see the host's contents");
	mmio_write32(GUEST_ROM_BASE + ROM_WRITE_OFF, ROM_WRITE_VAL);
	report(rom[ROM_WRITE_OFF / 4] == ROM_WORD2, "the write to ROM was dropped (0x%x)",
	       rom[ROM_WRITE_OFF / 4]);
	return 0;
}
