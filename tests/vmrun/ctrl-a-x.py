#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""vmrun on a terminal: the terminal goes raw while the guest runs, Ctrl-A x
quits with status 130, and the terminal settings are restored afterwards.

Usage: ctrl-a-x.py VMRUN SPIN_KERNEL. Skips (77) without a usable KVM device.
"""
import os
import pty
import select
import sys
import termios
import time


def main():
    vmrun, kernel = sys.argv[1], sys.argv[2]
    dev = os.environ.get("LIBVM_DEVICE", "/dev/kvm")
    if not os.access(dev, os.R_OK | os.W_OK):
        print("SKIP: %s is not usable" % dev)
        return 77
    master, slave = pty.openpty()
    before = termios.tcgetattr(slave)
    pid = os.fork()
    if pid == 0:
        os.setsid()
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        os.execv(vmrun, [vmrun, "--timeout", "20", kernel])
    # Wait until vmrun made the terminal raw (ICANON off), then quit.
    deadline = time.time() + 10
    raw = False
    while time.time() < deadline and not raw:
        raw = not (termios.tcgetattr(slave)[3] & termios.ICANON)
        time.sleep(0.02)
    os.write(master, b"\x01x")
    output = b""
    status = None
    while time.time() < deadline + 10:
        r, _, _ = select.select([master], [], [], 0.1)
        if r:
            try:
                output += os.read(master, 4096)
            except OSError:
                pass
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = os.waitstatus_to_exitcode(st)
            break
    after = termios.tcgetattr(slave)
    checks = [
        (raw, "the terminal was raw while the guest ran"),
        (status == 130, "Ctrl-A x ended vmrun with status 130 (got %s)" % status),
        (after == before, "the terminal settings were restored"),
    ]
    if status is None:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    for ok, what in checks:
        print("%s: %s" % ("PASS" if ok else "FAIL", what))
    if not all(ok for ok, _ in checks):
        print("vmrun said: %r" % output)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
