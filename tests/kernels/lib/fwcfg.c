/*
 * fw_cfg through its traditional I/O interface: a 16-bit write of the key
 * to the selector port, then the item's bytes one at a time from the data
 * port, the offset advancing with each read (QEMU docs/specs/fw_cfg.rst).
 */
#include "kernel.h"

void fwcfg_select(uint16_t key)
{
	outw(FWCFG_PORT_SEL, key);
}

void fwcfg_read(void *buf, uint32_t len)
{
	uint8_t *p = buf;

	while (len--)
		*p++ = inb(FWCFG_PORT_DATA);
}

uint64_t fwcfg_read_le(uint16_t key, uint32_t len)
{
	uint8_t b[8] = { 0 };
	uint64_t v = 0;

	fwcfg_select(key);
	fwcfg_read(b, len > 8 ? 8 : len);
	for (int i = 7; i >= 0; i--)
		v = v << 8 | b[i];
	return v;
}

bool fwcfg_present(void)
{
	char sig[4];

	fwcfg_select(FW_CFG_SIGNATURE);
	fwcfg_read(sig, 4);
	return !memcmp(sig, "QEMU", 4);
}
