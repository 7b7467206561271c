# SPDX-License-Identifier: MIT
"""The C ABI's structs and constants as ctypes declarations.

Each struct mirrors include/libvm/*.h field for field; ``_c_name_`` names
the C type, and tests/python/test_layout.py compiles a C program that
checks every size and offset against the C compiler's.
"""
from __future__ import annotations

import ctypes
import enum

c_u8, c_u16, c_u32, c_u64 = ctypes.c_uint8, ctypes.c_uint16, ctypes.c_uint32, ctypes.c_uint64
c_i32, c_i64 = ctypes.c_int32, ctypes.c_int64
c_ptr, c_str, c_size = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t


class Options(ctypes.Structure):
    """A size-first options struct: ``size`` is set on creation, every other
    field is zero, which means its default (see docs/api.md)."""

    _c_name_ = ""

    def __init__(self, **fields: object) -> None:
        super().__init__(size=ctypes.sizeof(self))
        for name, value in fields.items():
            setattr(self, name, value)


# Callbacks (include/libvm/libvm.h, devices.h).
LogFn = ctypes.CFUNCTYPE(None, ctypes.c_int, c_str, c_ptr)
IoFn = ctypes.CFUNCTYPE(ctypes.c_int, c_ptr, c_u64, c_ptr, c_u32, ctypes.c_bool, c_ptr)
UartOutputFn = ctypes.CFUNCTYPE(None, ctypes.POINTER(c_u8), c_size, c_ptr)


class VmOptions(Options):
    _c_name_ = "libvm_vm_options"
    _fields_ = [("size", c_size), ("device_path", c_str), ("kick_signal", c_i32),
                ("reserved0", c_u32), ("log", LogFn), ("log_opaque", c_ptr)]


class RegionOptions(Options):
    _c_name_ = "libvm_region_options"
    _fields_ = [("size", c_size), ("gpa", c_u64), ("length", c_u64), ("flags", c_u32),
                ("fd", c_i32), ("offset", c_u64), ("host_addr", c_ptr), ("name", c_str)]

    def __init__(self, **fields: object) -> None:
        super().__init__(**{"fd": -1, **fields})


class MemRange(ctypes.Structure):
    _c_name_ = "libvm_mem_range"
    _fields_ = [("gpa", c_u64), ("length", c_u64), ("flags", c_u32), ("padding", c_u32)]


class VmRunOptions(Options):
    _c_name_ = "libvm_vm_run_options"
    _fields_ = [("size", c_size), ("flags", c_u32), ("reserved0", c_u32)]


class Regs(ctypes.Structure):
    """General-purpose registers, RIP and RFLAGS."""
    _c_name_ = "libvm_regs"
    _fields_ = [(n, c_u64) for n in (
        "rax rbx rcx rdx rsi rdi rsp rbp r8 r9 r10 r11 r12 r13 r14 r15 rip rflags").split()]


class Segment(ctypes.Structure):
    _c_name_ = "libvm_segment"
    _fields_ = [("base", c_u64), ("limit", c_u32), ("selector", c_u16)] + \
        [(n, c_u8) for n in "type present dpl db s l g avl unusable padding".split()]


class DTable(ctypes.Structure):
    _c_name_ = "libvm_dtable"
    _fields_ = [("base", c_u64), ("limit", c_u16), ("padding", c_u16 * 3)]


class Sregs(ctypes.Structure):
    """Segment, descriptor-table and control registers."""
    _c_name_ = "libvm_sregs"
    _fields_ = [(n, Segment) for n in "cs ds es fs gs ss tr ldt".split()] + \
        [("gdt", DTable), ("idt", DTable)] + \
        [(n, c_u64) for n in "cr0 cr2 cr3 cr4 cr8 efer apic_base".split()]


class Fpu(ctypes.Structure):
    _c_name_ = "libvm_fpu"
    _fields_ = [("fpr", (c_u8 * 16) * 8), ("fcw", c_u16), ("fsw", c_u16), ("ftwx", c_u8),
                ("padding1", c_u8), ("last_opcode", c_u16), ("last_ip", c_u64),
                ("last_dp", c_u64), ("xmm", (c_u8 * 16) * 16), ("mxcsr", c_u32),
                ("padding2", c_u32)]


class Msr(ctypes.Structure):
    _c_name_ = "libvm_msr"
    _fields_ = [("index", c_u32), ("reserved", c_u32), ("value", c_u64)]


class CpuidEntry(ctypes.Structure):
    _c_name_ = "libvm_cpuid_entry"
    _fields_ = [("function", c_u32), ("index", c_u32), ("flags", c_u32), ("eax", c_u32),
                ("ebx", c_u32), ("ecx", c_u32), ("edx", c_u32), ("padding", c_u32)]


class IoExitData(ctypes.Structure):
    _c_name_ = ""
    _fields_ = [("addr", c_u64), ("data", c_u64), ("size", c_u32), ("count", c_u32),
                ("is_write", c_u8), ("padding", c_u8 * 7)]


class InternalExitData(ctypes.Structure):
    _c_name_ = ""
    _fields_ = [("suberror", c_u32), ("ndata", c_u32), ("data", c_u64 * 16)]


class SystemEventExitData(ctypes.Structure):
    _c_name_ = ""
    _fields_ = [("type", c_u32), ("backend_type", c_u32), ("ndata", c_u32), ("padding", c_u32),
                ("data", c_u64 * 16)]


class FailEntryExitData(ctypes.Structure):
    _c_name_ = ""
    _fields_ = [("hardware_reason", c_u64), ("cpu", c_u32), ("padding", c_u32)]


class UnknownExitData(ctypes.Structure):
    _c_name_ = ""
    _fields_ = [("backend_reason", c_u32), ("padding", c_u32)]


class EndExitData(ctypes.Structure):
    _c_name_ = ""
    _fields_ = [("code", c_u64)]


class HypervExitData(ctypes.Structure):
    _c_name_ = ""
    _fields_ = [("type", c_u32), ("msr", c_u32), ("control", c_u64), ("evt_page", c_u64),
                ("msg_page", c_u64), ("input", c_u64), ("params", c_u64 * 2)]


class ShutdownExitData(ctypes.Structure):
    _c_name_ = ""
    _fields_ = [("state_lost", c_u32), ("padding", c_u32)]


class DebugExitData(ctypes.Structure):
    _c_name_ = ""
    _fields_ = [("exception", c_u32), ("padding", c_u32), ("pc", c_u64), ("dr6", c_u64),
                ("dr7", c_u64)]


class _ExitUnion(ctypes.Union):
    _fields_ = [("io", IoExitData), ("internal", InternalExitData),
                ("system_event", SystemEventExitData), ("fail_entry", FailEntryExitData),
                ("unknown", UnknownExitData), ("end", EndExitData), ("hyperv", HypervExitData),
                ("shutdown", ShutdownExitData), ("debug", DebugExitData),
                ("reserved", c_u8 * 256)]


class ExitStruct(ctypes.Structure):
    """struct libvm_exit as libvm fills it (see libvm.Exit for the Python view)."""
    _c_name_ = "libvm_exit"
    _anonymous_ = ("u",)
    _fields_ = [("reason", c_u32), ("padding", c_u32), ("u", _ExitUnion)]


class Boot(ctypes.Structure):
    """A vCPU's entry state, as a loader computes it (include/libvm/load.h)."""
    _c_name_ = "libvm_boot"
    _fields_ = [("mode", c_u32), ("format", c_u32), ("entry", c_u64),
                ("code_selector", c_u16), ("data_selector", c_u16), ("gdt_limit", c_u16),
                ("reserved0", c_u16), ("gdt_base", c_u64), ("cr3", c_u64)] + \
        [(n, c_u64) for n in "rax rbx rcx rdx rsi rdi rbp rsp".split()] + \
        [(n, c_u64) for n in "kernel_start kernel_end info_gpa modules_end".split()] + \
        [("reserved", c_u64 * 8)]


class LoadModule(ctypes.Structure):
    _c_name_ = "libvm_load_module"
    _fields_ = [("data", c_ptr), ("size", c_u64), ("string", c_str)]


class LoadOptions(Options):
    _c_name_ = "libvm_load_options"
    _fields_ = [("size", c_size), ("kernel_name", c_str), ("cmdline", c_str),
                ("modules", ctypes.POINTER(LoadModule)), ("nr_modules", c_u32),
                ("flags", c_u32), ("rsdp_gpa", c_u64)]


class AcpiOptions(Options):
    _c_name_ = "libvm_acpi_options"
    _fields_ = [("size", c_size), ("nr_cpus", c_u32), ("flags", c_u32), ("gpa", c_u64),
                ("pm1a_evt_port", c_u16), ("pm1a_cnt_port", c_u16), ("pm_timer_port", c_u16),
                ("sci_irq", c_u8), ("ioapic_id", c_u8), ("ioapic_addr", c_u32),
                ("reserved0", c_u32), ("dsdt_aml", c_ptr), ("dsdt_aml_size", c_u64)]


class MptableOptions(Options):
    _c_name_ = "libvm_mptable_options"
    _fields_ = [("size", c_size), ("nr_cpus", c_u32), ("ioapic_id", c_u32), ("gpa", c_u64),
                ("ioapic_addr", c_u32), ("reserved0", c_u32)]


# Devices (include/libvm/devices.h).

class UartOptions(Options):
    _c_name_ = "libvm_uart_options"
    _fields_ = [("size", c_size), ("port", c_u16), ("reserved0", c_u16), ("irq", c_i32),
                ("output_fd", c_i32), ("input_fd", c_i32), ("reserved1", c_u32),
                ("output", UartOutputFn), ("output_opaque", c_ptr)]

    def __init__(self, **fields: object) -> None:
        super().__init__(**{"output_fd": -1, "input_fd": -1, **fields})


class DebugexitOptions(Options):
    _c_name_ = "libvm_debugexit_options"
    _fields_ = [("size", c_size), ("port", c_u16), ("width", c_u16), ("reserved0", c_u32)]


class FwcfgOptions(Options):
    _c_name_ = "libvm_fwcfg_options"
    _fields_ = [("size", c_size), ("port", c_u16), ("nb_cpus", c_u16), ("max_cpus", c_u16),
                ("reserved0", c_u16), ("ram_size", c_u64), ("cmdline", c_str)]


class I8042Options(Options):
    _c_name_ = "libvm_i8042_options"
    _fields_ = [("size", c_size), ("irq", c_i32), ("reserved0", c_u32), ("aux_irq", c_i32),
                ("reserved1", c_u32)]


class RtcOptions(Options):
    _c_name_ = "libvm_rtc_options"
    _fields_ = [("size", c_size), ("ram_size", c_u64), ("ram_below_4g", c_u64),
                ("offset_seconds", c_i64), ("irq", c_i32), ("wake_fd", c_i32)]


class Port80Options(Options):
    _c_name_ = "libvm_port80_options"
    _fields_ = [("size", c_size), ("port", c_u16), ("reserved0", c_u16), ("reserved1", c_u32)]


class TestdevOptions(Options):
    _c_name_ = "libvm_testdev_options"
    _fields_ = [("size", c_size), ("port", c_u16), ("irq_port", c_u16), ("mmio_size", c_u32),
                ("mmio_base", c_u64), ("flags", c_u32), ("reserved0", c_u32)]


class PmtimerOptions(Options):
    _c_name_ = "libvm_pmtimer_options"
    _fields_ = [("size", c_size), ("port", c_u16), ("bits", c_u8), ("reserved0", c_u8),
                ("reserved1", c_u32)]


class AcpipmOptions(Options):
    _c_name_ = "libvm_acpipm_options"
    _fields_ = [("size", c_size), ("evt_port", c_u16), ("cnt_port", c_u16), ("s5_typ", c_u8),
                ("flags", c_u8), ("s3_typ", c_u8), ("reserved0", c_u8)]


# PCI and virtio (include/libvm/pci.h, virtio.h).

class PciBusOptions(Options):
    _c_name_ = "libvm_pci_bus_options"
    _fields_ = [("size", c_size), ("port", c_u16), ("irq_base", c_u8), ("reserved0", c_u8),
                ("reserved1", c_u32), ("mmio_base", c_u64), ("mmio_size", c_u64)]


class VirtioRngOptions(Options):
    _c_name_ = "libvm_virtio_rng_options"
    _fields_ = [("size", c_size), ("slot", c_u8), ("reserved0", c_u8 * 7)]


class VirtioBlkOptions(Options):
    _c_name_ = "libvm_virtio_blk_options"
    _fields_ = [("size", c_size), ("path", c_str), ("flags", c_u32), ("slot", c_u8),
                ("reserved0", c_u8 * 3), ("serial", c_str)]


class VirtioNetOptions(Options):
    _c_name_ = "libvm_virtio_net_options"
    _fields_ = [("size", c_size), ("tap", c_str), ("mac", c_u8 * 6), ("slot", c_u8),
                ("reserved0", c_u8)]


class VirtioConsoleOptions(Options):
    _c_name_ = "libvm_virtio_console_options"
    _fields_ = [("size", c_size), ("input_fd", c_i32), ("output_fd", c_i32), ("slot", c_u8),
                ("reserved0", c_u8 * 7)]

    def __init__(self, **fields: object) -> None:
        super().__init__(**{"input_fd": -1, "output_fd": -1, **fields})


# The PC machine (include/libvm/machine.h).

class MachineModule(ctypes.Structure):
    _c_name_ = "libvm_machine_module"
    _fields_ = [("path", c_str), ("data", c_ptr), ("size", c_u64), ("string", c_str)]


class MachineOptions(Options):
    _c_name_ = "libvm_machine_options"
    _fields_ = [("size", c_size), ("vm", ctypes.POINTER(VmOptions)), ("ram_size", c_u64),
                ("ram_below_4g", c_u64), ("nr_vcpus", c_u32), ("flags", c_u32),
                ("kernel_path", c_str), ("kernel_image", c_ptr), ("kernel_size", c_u64),
                ("kernel_name", c_str), ("kernel_format", c_u32), ("nr_modules", c_u32),
                ("modules", ctypes.POINTER(MachineModule)), ("initrd_path", c_str),
                ("cmdline", c_str), ("load_addr", c_u64),
                ("uart", ctypes.POINTER(UartOptions)), ("pci", ctypes.POINTER(PciBusOptions)),
                ("nr_disks", c_u32), ("nr_nets", c_u32),
                ("disks", ctypes.POINTER(ctypes.POINTER(VirtioBlkOptions))),
                ("nets", ctypes.POINTER(ctypes.POINTER(VirtioNetOptions))),
                ("nr_consoles", c_u32), ("nr_rngs", c_u32),
                ("consoles", ctypes.POINTER(ctypes.POINTER(VirtioConsoleOptions))),
                ("cpu", c_str), ("hyperv", c_u32), ("reserved0", c_u32)]


class MachineParts(Options):
    _c_name_ = "libvm_machine_parts"
    _fields_ = [("size", c_size), ("vm", c_ptr), ("nr_vcpus", c_u32), ("nr_disks", c_u32),
                ("vcpus", ctypes.POINTER(c_ptr))] + \
        [(n, c_ptr) for n in
         "uart debugexit fwcfg i8042 rtc port80 testdev pmtimer acpipm pci".split()] + \
        [("disks", ctypes.POINTER(c_ptr)), ("nr_nets", c_u32), ("nr_consoles", c_u32),
         ("nets", ctypes.POINTER(c_ptr)), ("consoles", ctypes.POINTER(c_ptr)), ("rng", c_ptr),
         ("kernel_format", c_u32), ("reserved0", c_u32), ("rsdp_gpa", c_u64),
         ("mptable_gpa", c_u64), ("boot", Boot), ("pci_testdev", c_ptr),
         ("rtc_wake_fd", c_i32), ("reserved1", c_u32)]


# Guest debugging (include/libvm/debug.h).

class HwBreakpoint(ctypes.Structure):
    _c_name_ = "libvm_hw_breakpoint"
    _fields_ = [("addr", c_u64), ("type", c_u32), ("len", c_u32)]


class DebugOptions(Options):
    _c_name_ = "libvm_debug_options"
    _fields_ = [("size", c_size), ("flags", c_u32), ("nr_hw", c_u32), ("hw", HwBreakpoint * 4)]


class Translation(ctypes.Structure):
    _c_name_ = "libvm_translation"
    _fields_ = [("gpa", c_u64), ("writable", c_u8), ("user", c_u8), ("reserved", c_u8 * 6)]


class HwBreakpointType(enum.IntEnum):
    EXEC = 0
    WRITE = 1
    ACCESS = 3


DEBUG_SINGLESTEP = 1 << 0
DEBUG_SW_BREAKPOINTS = 1 << 1
DEBUG_HW_BREAKPOINTS = 1 << 2


# Every struct that mirrors a C type, for the layout test.
C_STRUCTS = [VmOptions, RegionOptions, MemRange, VmRunOptions, Regs, Segment, DTable, Sregs,
             Fpu, Msr, CpuidEntry, ExitStruct, Boot, LoadModule, LoadOptions, AcpiOptions,
             MptableOptions, UartOptions, DebugexitOptions, FwcfgOptions, I8042Options,
             RtcOptions, Port80Options, TestdevOptions, PmtimerOptions, AcpipmOptions,
             PciBusOptions, VirtioRngOptions, VirtioBlkOptions, VirtioNetOptions,
             VirtioConsoleOptions, MachineModule, MachineOptions, MachineParts, HwBreakpoint,
             DebugOptions, Translation]


class ExitReason(enum.IntEnum):
    """Why a run returned (enum libvm_exit_reason)."""
    NONE = 0
    HLT = 1
    SHUTDOWN = 2
    IO = 3
    MMIO = 4
    STOPPED = 5
    INTERNAL_ERROR = 6
    SYSTEM_EVENT = 7
    FAIL_ENTRY = 8
    UNKNOWN = 9
    DEVICE_ERROR = 10
    GUEST_EXIT = 11
    RESET = 12
    POWEROFF = 13
    SUSPEND = 14
    HYPERV = 15
    DEBUG = 16


class HypervExit(enum.IntEnum):
    """libvm_exit.hyperv.type."""
    SYNIC = 1
    HCALL = 2


class SystemEvent(enum.IntEnum):
    SHUTDOWN = 1
    RESET = 2
    CRASH = 3
    OTHER = 255


class Cap(enum.IntEnum):
    """Capabilities libvm_has() reports."""
    READONLY_MEM = 1
    IMMEDIATE_EXIT = 2
    IRQCHIP = 3
    IOEVENTFD = 4
    IRQFD = 5
    SET_CPUID = 6
    SUPPORTED_CPUID = 7
    MSI_ROUTING = 8


class Space(enum.IntEnum):
    PIO = 0
    MMIO = 1


class Format(enum.IntEnum):
    """Kernel image formats (enum libvm_image_format)."""
    UNKNOWN = 0
    ELF32 = 1
    ELF64 = 2
    MULTIBOOT = 3
    BZIMAGE = 4
    PVH = 5
    FLAT = 6


class BootMode(enum.IntEnum):
    REAL16 = 1
    PROT32 = 2
    LONG64 = 3


class LogLevel(enum.IntEnum):
    ERROR = 0
    WARN = 1
    INFO = 2
    DEBUG = 3


class MachineFlag(enum.IntFlag):
    """libvm_machine_options.flags: parts to leave out, and PCI."""
    NO_IRQCHIP = 1 << 0
    NO_PIT = 1 << 1
    NO_UART = 1 << 2
    NO_DEBUGEXIT = 1 << 3
    NO_FWCFG = 1 << 4
    NO_I8042 = 1 << 5
    NO_RTC = 1 << 6
    NO_PORT80 = 1 << 7
    NO_TESTDEV = 1 << 8
    NO_ACPI = 1 << 9
    NO_MPTABLE = 1 << 10
    PCI = 1 << 11
    NO_PCI = 1 << 12
    PCI_TESTDEV = 1 << 13


MACHINE_WAKE_RTC = 1 << 0
VCPU_RESET_WAIT_SIPI = 1 << 0


REGION_READONLY = 1 << 0
REGION_NO_HUGEPAGE = 1 << 1
IRQCHIP_PIT = 1 << 0
RUN_STOP_ON_UNHANDLED = 1 << 0
ACPI_PM_TIMER_32BIT = 1 << 0
VIRTIO_BLK_READONLY = 1 << 0
