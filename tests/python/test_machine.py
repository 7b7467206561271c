# SPDX-License-Identifier: MIT
"""libvm.Machine on the fake backend: the parts, the options, the errors."""
import errno
import os

import pytest

import libvm


def test_default_pc():
    with libvm.Machine(device="fake") as m:
        assert len(m.vcpus) == 1
        for dev in (m.uart, m.debugexit, m.fwcfg, m.i8042, m.rtc, m.port80, m.testdev,
                    m.pmtimer, m.acpipm):
            assert dev is not None
        assert not m.has_pci
        assert m.kernel_format == libvm.Format.UNKNOWN
        assert m.rsdp_gpa == 0xe0000 and m.mptable_gpa == 0xf0000
        assert m.vm.memory_map() == [(0, 128 << 20, 0)]
    assert m.vm.closed


def test_options():
    with libvm.Machine(device="fake", ram_size=1 << 30, vcpus=3, rng=True,
                       flags=libvm.MachineFlag.NO_TESTDEV | libvm.MachineFlag.NO_MPTABLE,
                       kernel=b"\xf4" * 8, load_addr=0x8000, cmdline="a=b") as m:
        assert [v.id for v in m.vcpus] == [0, 1, 2]
        assert m.testdev is None and m.mptable_gpa == 0
        assert m.has_pci and m.has_rng
        assert m.kernel_format == libvm.Format.FLAT
        assert m.boot.mode == libvm.BootMode.REAL16
        assert m.vm.read(0x8000, 8) == b"\xf4" * 8
        # The fake runs no code: vCPU 0 halts at once.
        ex, vcpu = m.run()
        assert ex.reason == libvm.ExitReason.HLT


def test_serial_callback_and_fd(tmp_path):
    out = []
    with libvm.Machine(device="fake", serial=out.append) as m:
        assert m.uart is not None
    path = tmp_path / "serial"
    with open(path, "wb") as f:
        with libvm.Machine(device="fake", serial=f.fileno()):
            pass


def test_kernel_from_file_and_modules(tmp_path):
    kernel = tmp_path / "kernel.bin"
    kernel.write_bytes(b"\xf4" * 4)
    with libvm.Machine(device="fake", kernel=kernel) as m:
        assert m.kernel_format == libvm.Format.FLAT
    with pytest.raises(libvm.LibvmError) as e:
        libvm.Machine(device="fake", kernel=kernel, modules=[(b"x", "mod")])
    assert "a flat binary takes no modules" in e.value.message


def test_errors():
    with pytest.raises(libvm.LibvmError) as e:
        libvm.Machine(device="fake", kernel="/nonexistent/kernel")
    assert e.value.errno == errno.ENOENT
    assert e.value.message == "machine: kernel /nonexistent/kernel: No such file or directory"
    with pytest.raises(libvm.LibvmError) as e:
        libvm.Machine(device="fake", ram_size=12345)
    assert e.value.errno == errno.EINVAL and "multiples of 4 KiB" in e.value.message
    with pytest.raises(libvm.LibvmError) as e:
        libvm.Machine(device="fake", disks=["/nonexistent/disk"])
    assert "attach virtio-blk 0" in e.value.message


def test_callback_exception_during_build():
    def log(level, message):
        raise RuntimeError("from the log callback")
    with pytest.raises(RuntimeError, match="from the log callback"):
        libvm.Machine(device="fake", log=log)


def test_pci_testdev_cpu_model_and_wake():
    with libvm.Machine(device="fake", pci_testdev=True, vcpus=2, cpu="host,-fpu") as m:
        assert m.has_pci and m.has_pci_testdev
        assert m.rtc_wake_fd >= 0
        assert m.rtc_alarm_pending() is False
        # The guest never suspended: no waking vector in the FACS.
        with pytest.raises(libvm.LibvmError) as e:
            m.wake(by_rtc=True)
        assert e.value.errno == errno.EINVAL and "Firmware_Waking_Vector" in e.value.message
    with pytest.raises(ValueError):
        m.wake()
    with libvm.Machine(device="fake", flags=libvm.MachineFlag.NO_ACPI
                       | libvm.MachineFlag.NO_RTC) as m:
        assert m.rtc_wake_fd == -1
        assert m.rtc_alarm_pending() is False
        with pytest.raises(libvm.LibvmError) as e:
            m.wake()
        assert e.value.errno == errno.ENOTSUP
    with pytest.raises(libvm.LibvmError) as e:
        libvm.Machine(device="fake", cpu="no-such-cpu")
    assert "CPU model" in e.value.message
    # The fake has no Hyper-V CPUID to offer.
    with pytest.raises(libvm.LibvmError) as e:
        libvm.Machine(device="fake", hyperv="hv_relaxed")
    assert "Hyper-V" in e.value.message
