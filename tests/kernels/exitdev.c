/*
 * The exit device (isa-debug-exit at 0xf4): reads do not end the VM, and
 * the value written ends it with status (v << 1) | 1 whatever the access
 * width. "code=N width=1|2|4" on the command line pick the value and the
 * width of the final write; meson checks the status vmrun returns.
 */
#include "kernel.h"

int main(int argc, char **argv)
{
	uint64_t code = 0, width = 4;

	for (int i = 1; i < argc; i++) {
		if (!strncmp(argv[i], "code=", 5))
			report(parse_u64(argv[i] + 5, &code) && code < 128, "argument %s", argv[i]);
		else if (!strncmp(argv[i], "width=", 6))
			report(parse_u64(argv[i] + 6, &width) &&
			       (width == 1 || width == 2 || width == 4), "argument %s", argv[i]);
	}
	/* Reads are harmless: the VM is still running after them. */
	(void)inb(EXITDEV_PORT);
	(void)inl(EXITDEV_PORT);
	report(true, "reads of the exit device leave the VM running");
	if (report_summary())
		exit(1);
	printf("exiting with code %lu through a %lu-byte write: expect status %lu\n",
	       code, width, code << 1 | 1);
	/* The kernel's own write, of the requested width; exit() would use 4. */
	if (width == 1)
		outb(EXITDEV_PORT, (uint8_t)code);
	else if (width == 2)
		outw(EXITDEV_PORT, (uint16_t)code);
	else
		outl(EXITDEV_PORT, (uint32_t)code);
	report(false, "the VM runs on after a write to the exit device");
	return 1;
}
