/*
 * MMIO reads and writes of 1, 2, 4 and 8 bytes to a device above 3 GiB
 * (reached through the 4 GiB identity map). The host checks each access's
 * address, width and data; the guest checks the values the reads returned.
 */
#include "guest.h"
#include "testdata.h"

#define DEV(off) (TESTDEV_MMIO_BASE + (off))

int guest_main(unsigned int cpu, uint32_t param)
{
	uint8_t b;
	uint16_t w;
	uint32_t l;
	uint64_t q;

	mmio_write8(DEV(MMIO_W8_OFF), MMIO_W8_VAL);
	mmio_write16(DEV(MMIO_W16_OFF), MMIO_W16_VAL);
	mmio_write32(DEV(MMIO_W32_OFF), MMIO_W32_VAL);
	mmio_write64(DEV(MMIO_W64_OFF), MMIO_W64_VAL);

	b = mmio_read8(DEV(MMIO_R8_OFF));
	w = mmio_read16(DEV(MMIO_R16_OFF));
	l = mmio_read32(DEV(MMIO_R32_OFF));
	q = mmio_read64(DEV(MMIO_R64_OFF));

	report(b == (uint8_t)testdev_read_value(MMIO_R8_OFF, 1), "read8: 0x%x", b);
	report(w == (uint16_t)testdev_read_value(MMIO_R16_OFF, 2), "read16: 0x%x", w);
	report(l == (uint32_t)testdev_read_value(MMIO_R32_OFF, 4), "read32: 0x%x", l);
	report(q == testdev_read_value(MMIO_R64_OFF, 8), "read64: 0x%lx", q);
	return 0;
}
