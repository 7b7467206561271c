/*
 * pio: the guest writes and reads 1, 2 and 4 bytes at the recording test
 * device, then does string I/O; here we check every access's port, width,
 * direction and data (a string instruction is one access per element).
 */
#include "check.h"
#include "scenarios.h"
#include "testdata.h"
#include "testdev.h"

int scenario_pio(const char *image)
{
	static const struct testdev_access want[] = {
		{ .addr = TESTDEV_PORT + PIO_OUTB_OFF, .len = 1, .is_write = true, .data = PIO_OUTB_VAL },
		{ .addr = TESTDEV_PORT + PIO_OUTW_OFF, .len = 2, .is_write = true, .data = PIO_OUTW_VAL },
		{ .addr = TESTDEV_PORT + PIO_OUTL_OFF, .len = 4, .is_write = true, .data = PIO_OUTL_VAL },
		{ .addr = TESTDEV_PORT + PIO_INB_OFF, .len = 1 },
		{ .addr = TESTDEV_PORT + PIO_INW_OFF, .len = 2 },
		{ .addr = TESTDEV_PORT + PIO_INL_OFF, .len = 4 },
		{ .addr = TESTDEV_PORT + PIO_OUTSB_OFF, .len = 1, .is_write = true, .data = PIO_OUTSB_0 },
		{ .addr = TESTDEV_PORT + PIO_OUTSB_OFF, .len = 1, .is_write = true, .data = PIO_OUTSB_1 },
		{ .addr = TESTDEV_PORT + PIO_OUTSB_OFF, .len = 1, .is_write = true, .data = PIO_OUTSB_2 },
		{ .addr = TESTDEV_PORT + PIO_INSW_OFF, .len = 2 },
		{ .addr = TESTDEV_PORT + PIO_INSW_OFF, .len = 2 },
	};
	struct testdev dev = { 0 };
	struct guest_vm g;
	int rc = guest_vm_create(&g, "vm0", image, 1, 0);

	if (rc)
		return rc;
	if (testdev_attach(&dev, &g, LIBVM_SPACE_PIO, TESTDEV_PORT, TESTDEV_PORT_LEN, "pio-dev")) {
		guest_cpu_run_to_exit(&g.cpu[0]);
		check_guest_passed(&g.cpu[0]);
		testdev_expect(&dev, want, sizeof(want) / sizeof(want[0]));
	}
	guest_vm_destroy(&g);
	return RUNNER_PASS;
}
