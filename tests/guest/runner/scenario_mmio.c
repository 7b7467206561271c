/*
 * mmio: the guest writes and reads 1, 2, 4 and 8 bytes at a device above
 * 3 GiB; here we check every access reached the registered callback with
 * the right guest-physical address, width, direction and data.
 */
#include "check.h"
#include "scenarios.h"
#include "testdata.h"
#include "testdev.h"

#define AT(off) (TESTDEV_MMIO_BASE + (off))

int scenario_mmio(const char *image)
{
	static const struct testdev_access want[] = {
		{ .addr = AT(MMIO_W8_OFF), .len = 1, .is_write = true, .data = MMIO_W8_VAL },
		{ .addr = AT(MMIO_W16_OFF), .len = 2, .is_write = true, .data = MMIO_W16_VAL },
		{ .addr = AT(MMIO_W32_OFF), .len = 4, .is_write = true, .data = MMIO_W32_VAL },
		{ .addr = AT(MMIO_W64_OFF), .len = 8, .is_write = true, .data = MMIO_W64_VAL },
		{ .addr = AT(MMIO_R8_OFF), .len = 1 },
		{ .addr = AT(MMIO_R16_OFF), .len = 2 },
		{ .addr = AT(MMIO_R32_OFF), .len = 4 },
		{ .addr = AT(MMIO_R64_OFF), .len = 8 },
	};
	struct testdev dev = { 0 };
	struct guest_vm g;
	int rc = guest_vm_create(&g, "vm0", image, 1, 0);

	if (rc)
		return rc;
	if (testdev_attach(&dev, &g, LIBVM_SPACE_MMIO, TESTDEV_MMIO_BASE, TESTDEV_MMIO_LEN,
			   "mmio-dev")) {
		guest_cpu_run_to_exit(&g.cpu[0]);
		check_guest_passed(&g.cpu[0]);
		testdev_expect(&dev, want, sizeof(want) / sizeof(want[0]));
	}
	guest_vm_destroy(&g);
	return RUNNER_PASS;
}
