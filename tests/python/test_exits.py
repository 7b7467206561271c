# SPDX-License-Identifier: MIT
"""Every exit reason of enum libvm_exit_reason decodes into libvm.Exit
with the details of its kind (from C structs built here; the ones a real
guest can produce are also seen live in test_kvm.py)."""
import pytest

import libvm
from libvm import _types


def make(reason, fill=None):
    s = _types.ExitStruct(reason=reason)
    if fill:
        fill(s)
    return libvm.Exit.from_struct(s)


def test_every_reason_is_known():
    assert [r.value for r in libvm.ExitReason] == list(range(17))


@pytest.mark.parametrize("reason", [libvm.ExitReason.IO, libvm.ExitReason.MMIO,
                                    libvm.ExitReason.DEVICE_ERROR])
def test_io_exits(reason):
    def fill(s):
        s.io.addr, s.io.data, s.io.size, s.io.count, s.io.is_write = 0x3f8, 0x41, 1, 3, 1
    ex = make(reason, fill)
    assert ex.reason == reason
    assert ex.io == libvm.IoAccess(0x3f8, 0x41, 1, 3, True)
    assert ex.code is None and ex.status is None


@pytest.mark.parametrize("reason", [libvm.ExitReason.GUEST_EXIT, libvm.ExitReason.RESET,
                                    libvm.ExitReason.POWEROFF, libvm.ExitReason.SUSPEND])
def test_endings(reason):
    def fill(s):
        s.end.code = 7
    ex = make(reason, fill)
    assert ex.code == 7
    assert ex.status == (7 if reason == libvm.ExitReason.GUEST_EXIT else None)


def test_internal_error_keeps_at_most_16_words():
    def fill(s):
        s.internal.suberror, s.internal.ndata = 1, 99
        for i in range(16):
            s.internal.data[i] = i
    ex = make(libvm.ExitReason.INTERNAL_ERROR, fill)
    assert ex.internal.suberror == 1 and ex.internal.data == tuple(range(16))


def test_system_event():
    def fill(s):
        s.system_event.type, s.system_event.backend_type, s.system_event.ndata = 2, 2, 1
        s.system_event.data[0] = 5
    ex = make(libvm.ExitReason.SYSTEM_EVENT, fill)
    assert ex.system_event == libvm.SystemEventInfo(libvm.SystemEvent.RESET, 2, (5,))
    ex = make(libvm.ExitReason.SYSTEM_EVENT, lambda s: setattr(s.system_event, "type", 77))
    assert ex.system_event.type == 77  # newer than this binding: kept as a number


def test_fail_entry_and_unknown():
    def fill(s):
        s.fail_entry.hardware_reason, s.fail_entry.cpu = 0x80000021, 3
    assert make(libvm.ExitReason.FAIL_ENTRY, fill).fail_entry == libvm.FailEntry(0x80000021, 3)
    ex = make(libvm.ExitReason.UNKNOWN, lambda s: setattr(s.unknown, "backend_reason", 1234))
    assert ex.backend_reason == 1234


def test_debug():
    def fill(s):
        s.debug.exception, s.debug.pc, s.debug.dr6, s.debug.dr7 = 1, 0x1003, 1 << 14, 0x400
    ex = make(libvm.ExitReason.DEBUG, fill)
    assert ex.debug == libvm.DebugEvent(1, 0x1003, 1 << 14, 0x400)


def test_hyperv():
    def synic(s):
        h = s.hyperv
        h.type, h.msr, h.control, h.evt_page, h.msg_page = 1, 0x40000080, 1, 0x5000, 0x6000
    ex = make(libvm.ExitReason.HYPERV, synic)
    assert ex.hyperv == libvm.HypervEvent(libvm.HypervExit.SYNIC, msr=0x40000080, control=1,
                                          evt_page=0x5000, msg_page=0x6000)

    def hcall(s):
        h = s.hyperv
        h.type, h.input, h.params[0], h.params[1] = 2, 0x10008, 0x1000, 0x2000
    ex = make(libvm.ExitReason.HYPERV, hcall)
    assert ex.hyperv == libvm.HypervEvent(libvm.HypervExit.HCALL, input=0x10008,
                                          params=(0x1000, 0x2000))


def test_shutdown_says_whether_the_state_is_lost():
    assert make(libvm.ExitReason.SHUTDOWN).state_lost is False
    ex = make(libvm.ExitReason.SHUTDOWN, lambda s: setattr(s.shutdown, "state_lost", 1))
    assert ex.state_lost is True


@pytest.mark.parametrize("reason", [libvm.ExitReason.NONE, libvm.ExitReason.HLT,
                                    libvm.ExitReason.STOPPED])
def test_plain_reasons(reason):
    ex = make(reason)
    assert ex == libvm.Exit(reason)


def test_reason_newer_than_the_binding():
    assert make(99).reason == 99
