/*
 * One of several VMs alive at once: the guest echoes its VM's parameter
 * (EDI at entry, different in every VM) to the test port and into its own
 * RAM. The host checks that each VM's device and memory saw only its own.
 */
#include "guest.h"
#include "testdata.h"

int guest_main(unsigned int cpu, uint32_t param)
{
	volatile uint32_t *echo = (volatile uint32_t *)(GUEST_MAILBOX + MULTIVM_ECHO_OFF);

	report((param & 0xffff0000u) == (MULTIVM_PARAM(0) & 0xffff0000u),
	       "got a multivm parameter (0x%x)", param);
	outl(TESTDEV_PORT, param);
	*echo = param;
	return 0;
}
