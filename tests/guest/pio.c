/*
 * Port I/O of 1, 2 and 4 bytes. The host's recording device checks the
 * writes (port, width, value) and answers the reads with testdev_read_value();
 * the guest checks that each read returned exactly that value.
 */
#include "guest.h"
#include "testdata.h"

int guest_main(unsigned int cpu, uint32_t param)
{
	uint8_t b;
	uint16_t w;
	uint32_t l;

	/* Host side checks these three in this order. */
	outb(TESTDEV_PORT + PIO_OUTB_OFF, PIO_OUTB_VAL);
	outw(TESTDEV_PORT + PIO_OUTW_OFF, PIO_OUTW_VAL);
	outl(TESTDEV_PORT + PIO_OUTL_OFF, PIO_OUTL_VAL);

	b = inb(TESTDEV_PORT + PIO_INB_OFF);
	w = inw(TESTDEV_PORT + PIO_INW_OFF);
	l = inl(TESTDEV_PORT + PIO_INL_OFF);

	report(b == (uint8_t)testdev_read_value(PIO_INB_OFF, 1), "inb: 0x%x", b);
	report(w == (uint16_t)testdev_read_value(PIO_INW_OFF, 2), "inw: 0x%x", w);
	report(l == (uint32_t)testdev_read_value(PIO_INL_OFF, 4), "inl: 0x%x", l);
	return 0;
}
