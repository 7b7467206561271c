/*
 * Stop from another thread: the guest tells the host it is spinning, then
 * spins until the host writes STOP_RELEASE into the mailbox. The host stops
 * the vCPU from another thread while it spins, writes the release word and
 * resumes it; the guest checks it was released by the host, not by chance.
 */
#include "guest.h"
#include "testdata.h"

int guest_main(unsigned int cpu, uint32_t param)
{
	volatile uint32_t *release = (volatile uint32_t *)GUEST_MAILBOX;
	uint64_t spins = 0;

	report(*release == 0, "mailbox clear before spinning");
	outl(TESTDEV_PORT, STOP_SPINNING);
	while (*release != STOP_RELEASE) {
		spins++;
		cpu_relax();
	}
	report(spins > 0, "spun %lu times until the host's release", spins);
	return 0;
}
