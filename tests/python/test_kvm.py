# SPDX-License-Identifier: MIT
"""The binding on a real KVM (marker kvm; the session ends with status 77
where there is none): device handlers in Python, a handler that raises,
the exits a guest of a few real-mode instructions can cause, stopping from
another thread, and the PC machine booting the demo test kernel."""
import threading
import time

import pytest

import libvm

pytestmark = pytest.mark.kvm

CODE = 0x1000


def guest(vm, code, irqchip=False):
    if irqchip:
        vm.irqchip()
    vm.map_ram(0, 0x10000)
    vm.write(CODE, code)
    cpu = vm.vcpu(0)
    cpu.start_real_mode(CODE)
    return cpu


def test_port_handlers():
    seen = []

    def dev(vcpu, addr, data, size):
        seen.append((vcpu.id, addr, data, size))
        return None if data is not None else 0x99

    # mov al, 0x42; out 0x10, al; in al, 0x11; out 0x12, al; hlt
    code = bytes([0xb0, 0x42, 0xe6, 0x10, 0xe4, 0x11, 0xe6, 0x12, 0xf4])
    with libvm.Vm() as vm:
        cpu = guest(vm, code)
        vm.register_pio(0x10, 3, dev)
        ex = cpu.run()
        assert ex.reason == libvm.ExitReason.HLT
        assert seen == [(0, 0x10, b"\x42", 1), (0, 0x11, None, 1), (0, 0x12, b"\x99", 1)]
        assert cpu.regs.rax & 0xff == 0x99


def test_handler_exception_comes_out_of_run():
    class Boom(Exception):
        pass

    def dev(vcpu, addr, data, size):
        raise Boom("from the device")

    with libvm.Vm() as vm:
        cpu = guest(vm, bytes([0xe6, 0x10, 0xf4]))  # out 0x10, al; hlt
        vm.register_pio(0x10, 1, dev)
        with pytest.raises(Boom, match="from the device"):
            cpu.run()


def test_unhandled_io_and_mmio_exits():
    # in al, 0x20; mov bx, 0x2000; mov ds, bx; mov [0], al; hlt
    code = bytes([0xe4, 0x20, 0xbb, 0x00, 0x20, 0x8e, 0xdb, 0xa2, 0x00, 0x00, 0xf4])
    with libvm.Vm() as vm:
        cpu = guest(vm, code)
        ex = cpu.run()
        assert ex.reason == libvm.ExitReason.IO
        assert (ex.io.addr, ex.io.size, ex.io.is_write) == (0x20, 1, False)
        cpu.complete_read(b"\x55")
        ex = cpu.run()  # the write to 0x20000, where there is no RAM
        assert ex.reason == libvm.ExitReason.MMIO
        assert (ex.io.addr, ex.io.data, ex.io.is_write) == (0x20000, 0x55, True)
        assert cpu.run().reason == libvm.ExitReason.HLT


def test_mmio_handler():
    got = []
    # mov bx, 0x2000; mov ds, bx; mov word [4], 0x1234; mov ax, [8]; hlt
    code = bytes([0xbb, 0x00, 0x20, 0x8e, 0xdb, 0xc7, 0x06, 0x04, 0x00, 0x34, 0x12,
                  0xa1, 0x08, 0x00, 0xf4])
    with libvm.Vm() as vm:
        cpu = guest(vm, code)
        vm.register_mmio(0x20000, 0x1000,
                         lambda v, a, d, n: got.append((a, d, n)) or (None if d else b"\xcd\xab"))
        assert cpu.run().reason == libvm.ExitReason.HLT
        assert got == [(0x20004, b"\x34\x12", 2), (0x20008, None, 2)]
        assert cpu.regs.rax & 0xffff == 0xabcd


def test_device_endings():
    with libvm.Vm() as vm:
        # mov al, 3; out 0xf4, al -> status (3 << 1) | 1
        cpu = guest(vm, bytes([0xb0, 0x03, 0xe6, 0xf4, 0xf4]))
        vm.attach("debugexit")
        ex = cpu.run()
        assert ex.reason == libvm.ExitReason.GUEST_EXIT and ex.status == 7
    with libvm.Vm() as vm:
        cpu = guest(vm, bytes([0xb0, 0xfe, 0xe6, 0x64, 0xf4]))  # i8042 reset pulse
        vm.attach("i8042")
        assert cpu.run().reason == libvm.ExitReason.RESET
    with libvm.Vm() as vm:
        # mov dx, 0x604; mov ax, SLP_EN | 5 << 10; out dx, ax
        cpu = guest(vm, bytes([0xba, 0x04, 0x06, 0xb8, 0x00, 0x34, 0xef, 0xf4]))
        vm.attach("acpipm")
        ex = cpu.run()
        assert ex.reason == libvm.ExitReason.POWEROFF and ex.code == 0


def test_triple_fault_is_shutdown():
    # 32-bit protected mode (the hardware, not an emulator, takes the
    # faults): lidt [0x1100] (a zero-limit IDT); xor ecx, ecx; div ecx:
    # #DE, #GP, #DF, shutdown.
    code = bytes([0x0f, 0x01, 0x1d, 0x00, 0x11, 0x00, 0x00, 0x31, 0xc9, 0xf7, 0xf1])
    with libvm.Vm() as vm:
        cpu = guest(vm, code)
        vm.write(0x1100, bytes(6))
        s = cpu.sregs
        for seg, typ in ((s.cs, 11), (s.ds, 3), (s.es, 3), (s.ss, 3)):
            seg.base, seg.limit, seg.selector = 0, 0xffffffff, 8 if typ == 11 else 16
            seg.type, seg.s, seg.present, seg.db, seg.g = typ, 1, 1, 1, 1
        s.cr0 |= 1
        cpu.sregs = s
        cpu.regs = libvm.Regs(rip=CODE, rflags=2)
        assert cpu.run().reason == libvm.ExitReason.SHUTDOWN


def test_stop_from_another_thread():
    with libvm.Vm() as vm:
        cpu = guest(vm, bytes([0xeb, 0xfe]))  # jmp $
        t = threading.Timer(0.2, cpu.stop)
        t.start()
        start = time.monotonic()
        ex = cpu.run()
        t.join()
        assert ex.reason == libvm.ExitReason.STOPPED
        assert time.monotonic() - start < 10


def test_serial_output_callback_raising():
    def output(data):
        raise ValueError("the console is full")

    # mov dx, 0x3f8; mov al, 'x'; out dx, al; hlt
    with libvm.Vm() as vm:
        cpu = guest(vm, bytes([0xba, 0xf8, 0x03, 0xb0, 0x78, 0xee, 0xf4]))
        vm.attach("uart", output=output)
        with pytest.raises(ValueError, match="the console is full"):
            cpu.run()


def test_machine_boots_the_demo_kernel():
    from conftest import env_path
    demo = env_path("LIBVM_TEST_DEMO_KERNEL")
    out = []
    with libvm.Machine(kernel=demo, vcpus=2, ram_size=64 << 20, serial=out.append) as m:
        assert m.kernel_format in (libvm.Format.MULTIBOOT, libvm.Format.ELF32)
        ex, vcpu = m.run()
    text = b"".join(out).decode(errors="replace")
    assert ex.reason == libvm.ExitReason.GUEST_EXIT and ex.status == 1, text
    assert "PASS: 2 of 2 CPUs running" in text
    assert "fw_cfg: 2 CPUs, 64 MiB of RAM" in text
    assert ", 0 failures" in text


def test_machine_runs_64_bit_code():
    """docs/guide-64bit.md's Python variant: examples/run64's guest as the
    machine's kernel (an ELF64, entered in 64-bit mode), its job written
    into guest memory before the run and the answer read back after."""
    import struct
    from conftest import env_path
    guest = env_path("LIBVM_TEST_RUN64_GUEST")
    out = []
    with libvm.Machine(kernel=guest, serial=out.append) as m:
        assert m.kernel_format == libvm.Format.ELF64
        assert m.boot.mode == libvm.BootMode.LONG64
        m.vm.write(0x200000, struct.pack("<QQ", 90, 0))
        ex, _ = m.run()
        n, result = struct.unpack("<QQ", m.vm.read(0x200000, 16))
    assert ex.reason == libvm.ExitReason.GUEST_EXIT and ex.code >> 1 == 0
    a, b, want = 0, 1, 0
    for _ in range(n):
        want, a, b = want + a, b, a + b
    assert result == want == 4660046610375530308
    assert b"".join(out).decode() == \
        "guest: the sum of the first 90 Fibonacci numbers is %d\n" % want
