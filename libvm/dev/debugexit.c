/* SPDX-License-Identifier: MIT */
/*
 * Test exit device: a guest write of v ends the VM with status
 * (v << 1) | 1, like QEMU's isa-debug-exit, so test kernels report
 * PASS/FAIL as the launcher's exit status. The status is never 0 or even,
 * which lets a harness tell "the guest asked to exit" from other endings.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "debugexit.h"

int libvm__debugexit_access(struct libvm__debugexit *d, uint32_t offset, void *data,
			    uint32_t len, bool is_write)
{
	uint64_t v = 0;

	if (!is_write) {
		memset(data, 0, len);
		return 0;
	}
	/* The value as written, whatever the offset: QEMU ignores it too. */
	memcpy(&v, data, len > sizeof(v) ? sizeof(v) : len);
	d->code = (v << 1) | 1;
	return 1;
}

struct libvm_debugexit {
	uint32_t magic;
	libvm_vm *vm;
	struct libvm__devrange range;
	struct libvm__debugexit st;
};

static int debugexit_io(libvm_vcpu *vcpu, uint64_t addr, void *data, uint32_t len,
			bool is_write, void *opaque)
{
	libvm_debugexit *d = opaque;
	struct libvm__debugexit st = d->st; /* per-call copy: no lock needed */

	if (libvm__debugexit_access(&st, (uint32_t)(addr - d->range.base), data, len, is_write))
		return libvm_vcpu_end_run(vcpu, LIBVM_EXIT_GUEST_EXIT, st.code);
	return 0;
}

/* What libvm_vm_destroy() calls for a device still attached. */
static void debugexit_release(void *dev)
{
	libvm_debugexit_detach(dev);
}

LIBVM_EXPORT int libvm_debugexit_attach(libvm_debugexit **out, libvm_vm *vm,
					const libvm_debugexit_options *opts)
{
	libvm_debugexit_options o = LIBVM_DEBUGEXIT_OPTIONS_INIT;
	libvm_debugexit *d;
	int err;

	if (!out)
		return libvm__fail(-EINVAL, "libvm_debugexit_attach: out is NULL");
	LIBVM__CHECK_VM(vm, "libvm_debugexit_attach");
	err = libvm__dev_options(&o, sizeof(o), opts, "libvm_debugexit_attach");
	if (err)
		return err;
	if (!o.port)
		o.port = 0xf4;
	if (!o.width)
		o.width = 4;
	if (o.width != 1 && o.width != 2 && o.width != 4)
		return libvm__fail(-EINVAL, "debug-exit: width %u is not 1, 2 or 4", o.width);
	if (!libvm__dev_ports_ok(o.port, o.width))
		return libvm__fail(-EINVAL, "debug-exit: ports 0x%x+%u go past 0xffff", o.port,
				   o.width);
	d = calloc(1, sizeof(*d));
	if (!d)
		return libvm__fail(-ENOMEM, "debug-exit: out of memory");
	d->magic = LIBVM__MAGIC_DEBUGEXIT;
	d->vm = vm;
	d->st.width = o.width;
	d->range = (struct libvm__devrange){ LIBVM_SPACE_PIO, o.port, o.width, "debug-exit",
					     debugexit_io };
	err = libvm__dev_register(vm, &d->range, 1, d, debugexit_release);
	if (err) {
		free(d);
		return err;
	}
	*out = d;
	return 0;
}

LIBVM_EXPORT void libvm_debugexit_detach(libvm_debugexit *dev)
{
	if (!libvm__live(dev, LIBVM__MAGIC_DEBUGEXIT) ||
	    !libvm__dev_unregister(dev->vm, &dev->range, 1, dev))
		return;
	libvm__bury(dev, sizeof(*dev));
}
