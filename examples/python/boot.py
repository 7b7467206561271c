#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Boot a kernel from Python with the libvm package.

usage: boot.py [--smp N] [--mem MIB] [--append TEXT] KERNEL

The platform is libvm's PC machine (libvm_machine_create), the one vmrun
boots: RAM from 0, the in-kernel PIC/IOAPIC/LAPIC and PIT, COM1 (its
output handed to a Python function), the exit device at 0xf4, fw_cfg, an
RTC, the i8042, port 0x80, the pc-testdev, an ACPI PM timer, ACPI tables
and an MP table; the kernel's format (multiboot, ELF, bzImage) is found
from its header. Every vCPU runs on a thread of libvm's; the call returns
when the VM stops. The exit status follows vmrun's: the guest's
exit-device status ((v << 1) | 1), 0 power-off, 2 reset, 4 triple fault,
6 anything else; 77 when there is no KVM device to open (as hello.py, and
meson's "skipped"), 126 when libvm refuses the kernel or the options.
"""
import errno
import argparse
import os
import sys

import libvm


def status_of(ex):
    """vmrun's exit status for how the VM ended."""
    if ex.reason == libvm.ExitReason.GUEST_EXIT:
        return ex.code
    return {libvm.ExitReason.POWEROFF: 0, libvm.ExitReason.RESET: 2,
            libvm.ExitReason.SHUTDOWN: 4}.get(ex.reason, 6)


def boot(image, name="kernel", smp=1, mem_mib=128, cmdline=None, output=None):
    """Boot kernel bytes; returns (libvm.Exit, vCPU that ended it).

    output(bytes) receives the serial console (default: standard output).
    Raises libvm.LibvmError with libvm's own message when something is wrong.
    """
    if output is None:
        def output(data):
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
    with libvm.Machine(ram_size=mem_mib << 20, vcpus=smp, kernel=image, kernel_name=name,
                       cmdline=cmdline, serial=output) as m:
        return m.run()


def main():
    ap = argparse.ArgumentParser(description="Boot a multiboot kernel with libvm from Python.")
    ap.add_argument("--smp", type=int, default=1)
    ap.add_argument("--mem", type=int, default=128, help="MiB of RAM")
    ap.add_argument("--append", default=None, help="kernel arguments")
    ap.add_argument("kernel")
    args = ap.parse_args()
    with open(args.kernel, "rb") as f:
        image = f.read()
    try:
        ex, vcpu = boot(image, os.path.basename(args.kernel), args.smp, args.mem, args.append)
    except libvm.LibvmError as e:
        print("boot.py: %s" % e, file=sys.stderr)
        # The VM could not be created at all: no (usable) KVM device here.
        no_kvm = e.errno in (errno.ENOENT, errno.EACCES) and "machine: create the VM" in e.message
        return 77 if no_kvm else 126
    status = status_of(ex)
    print("boot.py: vCPU %d ended the VM (%s), status %d" % (vcpu, ex.reason.name, status),
          file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
