#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""boot.py as a test: the demo kernel boots on 2 vCPUs from Python and ends
with status 1 (it wrote 0 to the exit device); a truncated kernel and a
kernel too big for RAM raise LibvmError with libvm's message, and the VM is
released each time. Exit 77 where no VM can be created here."""
import sys

import boot
import libvm


def check(cond, what):
    print("%s: %s" % ("PASS" if cond else "FAIL", what))
    return cond


def main(demo):
    try:
        libvm.Vm().close()
    except libvm.LibvmError as e:
        print("SKIP: no VM here: %s" % e)
        return 77
    with open(demo, "rb") as f:
        image = f.read()
    out = []
    ok = True

    ex, vcpu = boot.boot(image, "demo", smp=2, mem_mib=64, output=out.append)
    text = b"".join(out).decode(errors="replace")
    sys.stdout.write(text)
    ok &= check(ex.reason == libvm.ExitReason.GUEST_EXIT and boot.status_of(ex) == 1,
                "demo kernel ended through the exit device with status %d (reason %d, vCPU %d)"
                % (boot.status_of(ex), ex.reason, vcpu))
    ok &= check("PASS: 2 of 2 CPUs running" in text, "both vCPUs came up (INIT/SIPI from the guest)")
    ok &= check("fw_cfg: 2 CPUs, 64 MiB of RAM" in text, "fw_cfg reports the CPUs and RAM given from Python")
    ok &= check(", 0 failures" in text, "the demo kernel's own checks passed")

    for what, bad, mem in (("truncated kernel", image[:64], 64), ("kernel larger than RAM", image, 1)):
        try:
            boot.boot(bad, "bad", mem_mib=mem, output=out.append)
            ok &= check(False, "%s refused" % what)
        except libvm.LibvmError as e:
            ok &= check(e.call == "libvm_machine_create" and
                        e.message.startswith("machine: load the kernel: "),
                        "%s refused: %s" % (what, e))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
