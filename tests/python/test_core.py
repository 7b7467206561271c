# SPDX-License-Identifier: MIT
"""The binding on libvm's fake backend (no KVM): errors carry libvm's
message, objects are context managers, guest memory as a memoryview,
built-in devices, vCPU state, loaders, options zero-filled by ctypes."""
import ctypes
import errno

import pytest

import libvm
from libvm import _types


def test_version():
    assert libvm.version() == libvm.__version__
    assert libvm.version().count(".") == 2


def test_error_carries_libvm_message(fake_vm):
    fake_vm.map_ram(0, 0x10000)
    with pytest.raises(libvm.LibvmError) as e:
        fake_vm.map_ram(0x8000, 0x10000, name="rom")
    assert e.value.errno == errno.EEXIST
    assert e.value.message == "region 'rom' 0x8000+0x10000 overlaps region 'ram' 0x0+0x10000"
    assert e.value.call == "libvm_region_map"
    assert "overlaps region 'ram'" in str(e.value)
    assert isinstance(e.value, OSError)


def test_bad_device_and_backend_keys():
    with pytest.raises(libvm.LibvmError) as e:
        libvm.Vm("/nonexistent/kvm")
    assert e.value.errno == errno.ENOENT
    assert "/nonexistent/kvm" in e.value.message
    with pytest.raises(libvm.LibvmError) as e:
        libvm.Vm("fake:nonsense=1")
    assert e.value.message == "fake backend: unknown key 'nonsense'"


def test_context_managers_close_everything():
    with libvm.Vm("fake") as vm:
        region = vm.map_ram(0, 0x1000)
        cpu = vm.vcpu(0)
        uart = vm.attach("uart")
        assert not vm.closed
    assert vm.closed
    with pytest.raises(ValueError):
        vm.handle
    with pytest.raises(ValueError):
        region.memory
    with pytest.raises(ValueError):
        cpu.run()
    uart.detach()  # nothing left to do: no error


def test_memory_is_a_memoryview(fake_vm):
    low = fake_vm.map_ram(0, 0x2000)
    high = fake_vm.map_ram(0x2000, 0x1000, name="high")
    mem = low.memory
    assert isinstance(mem, memoryview) and mem.format == "B" and len(mem) == 0x2000
    mem[0x10:0x15] = b"hello"
    assert fake_vm.read(0x10, 5) == b"hello"
    # Reads and writes cross adjacent regions; nothing is copied past them.
    fake_vm.write(0x1ffe, b"ABCD")
    assert bytes(high.memory[:2]) == b"CD"
    with pytest.raises(libvm.LibvmError) as e:
        fake_vm.read(0x2ffe, 4)
    assert e.value.errno == errno.EFAULT
    assert fake_vm.memory_map() == [(0, 0x2000, 0), (0x2000, 0x1000, 0)]
    high.unmap()
    assert fake_vm.memory_map() == [(0, 0x2000, 0)]
    assert repr(high) == "<libvm.Region (unmapped)>"


def test_vcpu_state_and_capabilities():
    with libvm.Vm("fake:max_vcpus=2,irqchip=0") as vm:
        assert vm.max_vcpus == 2
        assert not vm.has(libvm.Cap.IRQCHIP)
        assert vm.has(libvm.Cap.IRQFD)
        cpu = vm.vcpu(1)
        regs = cpu.regs
        assert regs.rip == 0xfff0  # the reset state
        cpu.start_real_mode(0x1234, cs=0x100)
        assert cpu.regs.rip == 0x1234 and cpu.sregs.cs.base == 0x1000
        cpu.set_msrs({0x10: 5, 0x174: 8})
        assert cpu.get_msrs([0x174, 0x10]) == {0x174: 8, 0x10: 5}
        # The fake runs no code: a run is a HLT.
        assert cpu.run().reason == libvm.ExitReason.HLT
        cpu.stop()
        assert cpu.run().reason == libvm.ExitReason.STOPPED
        with pytest.raises(libvm.LibvmError) as e:
            vm.vcpu(2)
        assert "out of range" in e.value.message
        cpu.close()
        vm.vcpu(1).close()  # the id is free again


def test_vcpu_reset_cpu_model_and_hyperv_names(fake_vm):
    cpu = fake_vm.vcpu(0)
    cpu.start_real_mode(0x1234)
    cpu.reset()
    assert cpu.regs.rip == 0xfff0
    cpu.set_cpu("host")
    with pytest.raises(libvm.LibvmError) as e:
        cpu.set_cpu("host,+nonsense")
    assert e.value.errno == errno.EINVAL
    assert libvm.hyperv_features("hv_relaxed,hv_vapic") == 3
    assert libvm.hyperv_features(5) == 5
    with pytest.raises(libvm.LibvmError):
        libvm.hyperv_features("hv_nonsense")
    with pytest.raises(libvm.LibvmError):
        cpu.enable_hyperv("all")  # the fake has no Hyper-V CPUID


def test_built_in_devices(fake_vm):
    fake_vm.irqchip()
    fw = fake_vm.attach("fwcfg", nb_cpus=2, cmdline="x=1")
    fw.add_file("etc/test", b"data")
    with pytest.raises(libvm.LibvmError) as e:
        fw.add_file("etc/test", b"again")
    assert e.value.errno == errno.EEXIST
    p80 = fake_vm.attach("port80")
    assert p80.last() is None
    uart = fake_vm.attach("uart", output=lambda b: None)
    assert uart.input(b"abc") == 1  # the FIFO is off at reset: one byte
    with pytest.raises(libvm.LibvmError) as e:
        fake_vm.attach("debugexit", width=3)
    assert "width 3" in e.value.message
    with pytest.raises(ValueError):
        fake_vm.attach("nosuchdevice")
    for kind in ("debugexit", "i8042", "rtc", "testdev", "pmtimer", "acpipm"):
        fake_vm.attach(kind).detach()


def test_flat_loader(fake_vm):
    fake_vm.map_ram(0, 0x200000)
    boot = fake_vm.load(b"\xf4" * 16, load_addr=0x100000)
    assert boot.mode == libvm.BootMode.PROT32 and boot.entry == 0x100000
    cpu = fake_vm.vcpu(0)
    cpu.boot(boot)
    assert cpu.regs.rip == 0x100000
    assert fake_vm.read(0x100000, 2) == b"\xf4\xf4"
    assert libvm.detect(b"\x7fELF" + bytes(60)) in (libvm.Format.UNKNOWN, libvm.Format.ELF32,
                                                  libvm.Format.ELF64)


def test_ctypes_zero_filled_options_are_defaults(fake_vm):
    # What a binding gets without the INIT macros: zero plus size. A UART
    # of zero-filled options (fds -1, the documented exception) is COM1.
    opts = _types.UartOptions()
    assert opts.size == ctypes.sizeof(opts) and opts.port == 0 and opts.irq == 0
    fake_vm.attach("uart")
    with pytest.raises(libvm.LibvmError) as e:
        fake_vm.register_pio(0x3f8, 1, lambda *a: None)
    assert e.value.errno == errno.EEXIST and "'uart'" in e.value.message


def test_debug_state_and_translation(fake_vm):
    fake_vm.map_ram(0, 0x100000)
    cpu = fake_vm.vcpu(0)
    cpu.set_debug(singlestep=True, hw=[(0x1000, libvm.HwBreakpointType.EXEC, 1)])
    with pytest.raises(libvm.LibvmError) as e:
        cpu.set_debug(hw=[(0x1001, libvm.HwBreakpointType.WRITE, 2)])
    assert "aligned" in e.value.message
    cpu.set_debug()
    # Paging off: linear is physical.
    assert cpu.translate(0x1234) == libvm.Translation(0x1234, True, True)


def test_log_callback():
    seen = []
    with libvm.Vm("fake", log=lambda level, msg: seen.append((level, msg))) as vm:
        vm.map_ram(0, 0x1000)
    assert any(level == libvm.LogLevel.DEBUG and "created VM on fake" in msg
               for level, msg in seen)
