#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""examples/hello.c in Python (the libvm package): a guest prints through a
port handled by a Python callback, then reads a value the callback returns."""
import sys

import libvm

# mov dx,0x3f8; mov si,msg; lodsb; test al,al; jz done; out dx,al; jmp loop;
# done: mov dx,0x3f9; in al,dx; out dx,al; hlt; msg: "Hello from Python\n\0"
CODE = bytes([0xba, 0xf8, 0x03, 0xbe, 0x14, 0x10, 0xac, 0x84, 0xc0, 0x74, 0x03, 0xee, 0xeb,
              0xf8, 0xba, 0xf9, 0x03, 0xec, 0xee, 0xf4]) + b"Hello from Python\n\0"


def main():
    out = []
    echoed = []

    def console(vcpu, port, data, size):
        if port == 0x3f8 and data is not None:
            out.append(data.decode())
        elif port == 0x3f9 and data is None:
            return 0x2a
        elif port == 0x3f9:
            echoed.append(data[0])
        return None

    try:
        vm = libvm.Vm()
    except libvm.LibvmError as e:
        print("SKIP: %s" % e)
        return 77
    with vm:
        vm.map_ram(0, 0x10000)
        vm.write(0x1000, CODE)
        vm.register_pio(0x3f8, 2, console)
        cpu = vm.vcpu(0)
        cpu.start_real_mode(0x1000)
        ex = cpu.run()
    text = "".join(out)
    sys.stdout.write(text)
    ok = ex.reason == libvm.ExitReason.HLT and text == "Hello from Python\n" and echoed == [0x2a]
    print("%s: libvm %s from Python, exit %s, read back %s" %
          ("PASS" if ok else "FAIL", libvm.version(), ex.reason.name, echoed))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
