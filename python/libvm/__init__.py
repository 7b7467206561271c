# SPDX-License-Identifier: MIT
"""libvm from Python: embed x86-64 virtual machines through the KVM ABI.

    import libvm

    with libvm.Machine(kernel="kernel.elf", vcpus=2, serial=print_bytes) as m:
        exit, vcpu = m.run()
        print(exit.reason, exit.status)

    with libvm.Vm() as vm:                 # the pieces, as in C
        ram = vm.map_ram(0, 1 << 20)
        ram.memory[0x1000:0x1002] = b"\\xf4\\xf4"   # the guest's memory
        cpu = vm.vcpu(0)
        cpu.start_real_mode(0x1000)
        print(cpu.run().reason)            # ExitReason.HLT

Every failure raises LibvmError with libvm's own message; objects are
context managers; device handlers are plain callables and what they raise
comes out of the run call. See docs/python.md.
"""
from ._types import (AcpiOptions, Boot, BootMode, Cap, ExitReason, Format, HwBreakpointType,
                     HypervExit, LogLevel, MachineFlag, Regs, Segment, Sregs, Space,
                     SystemEvent)
from .core import (DebugEvent, Device, Exit, FailEntry, Fwcfg, HypervEvent, InternalError,
                   IoAccess, LibvmError, Port80, Region, SystemEventInfo, Translation, Uart,
                   Vcpu, Vm, detect, hyperv_features, strerror, version)
from .machine import Machine

try:
    from ._config import VERSION as __version__  # type: ignore[attr-defined]
except ImportError:  # the source tree
    __version__ = version()

__all__ = [
    "AcpiOptions", "Boot", "BootMode", "Cap", "DebugEvent", "Device", "Exit", "ExitReason",
    "FailEntry", "Format", "Fwcfg", "HwBreakpointType", "HypervEvent", "HypervExit",
    "InternalError", "IoAccess",
    "LibvmError", "LogLevel", "Machine", "MachineFlag", "Port80", "Region", "Regs", "Segment",
    "Sregs", "Space", "SystemEvent", "SystemEventInfo", "Translation", "Uart", "Vcpu", "Vm",
    "detect", "hyperv_features", "strerror", "version",
]
