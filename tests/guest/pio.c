/*
 * Port I/O of 1, 2 and 4 bytes, then string I/O (rep outsb / rep insw).
 * The host's recording device checks the writes (port, width, value) and
 * answers the reads with testdev_read_value(); the guest checks that each
 * read returned exactly that value.
 */
#include "guest.h"
#include "testdata.h"

int guest_main(unsigned int cpu, uint32_t param)
{
	static const uint8_t bytes[] = PIO_OUTSB_BYTES;
	/* One word more than insw fills: it must stay untouched. */
	uint16_t words[PIO_INSW_COUNT + 1] = { [PIO_INSW_COUNT] = 0x7777 };
	uint8_t b;
	uint16_t w;
	uint32_t l;

	/* Host side checks these accesses in this order. */
	outb(TESTDEV_PORT + PIO_OUTB_OFF, PIO_OUTB_VAL);
	outw(TESTDEV_PORT + PIO_OUTW_OFF, PIO_OUTW_VAL);
	outl(TESTDEV_PORT + PIO_OUTL_OFF, PIO_OUTL_VAL);
	b = inb(TESTDEV_PORT + PIO_INB_OFF);
	w = inw(TESTDEV_PORT + PIO_INW_OFF);
	l = inl(TESTDEV_PORT + PIO_INL_OFF);
	/* A string instruction reaches the device once per element. */
	outsb(TESTDEV_PORT + PIO_OUTSB_OFF, bytes, sizeof(bytes));
	insw(TESTDEV_PORT + PIO_INSW_OFF, words, PIO_INSW_COUNT);

	report(b == (uint8_t)testdev_read_value(PIO_INB_OFF, 1), "inb: 0x%x", b);
	report(w == (uint16_t)testdev_read_value(PIO_INW_OFF, 2), "inw: 0x%x", w);
	report(l == (uint32_t)testdev_read_value(PIO_INL_OFF, 4), "inl: 0x%x", l);
	for (int i = 0; i < PIO_INSW_COUNT; i++)
		report(words[i] == (uint16_t)testdev_read_value(PIO_INSW_OFF, 2),
		       "rep insw element %d: 0x%x", i, words[i]);
	report(words[PIO_INSW_COUNT] == 0x7777, "rep insw stopped after %d words", PIO_INSW_COUNT);
	return 0;
}
