# SPDX-License-Identifier: MIT
"""Loading libvm.so.0 and declaring the C functions' prototypes.

Where the library is, in this order: $LIBVM_LIBRARY (a path; the build
tree's tests use it), the library installed with this package (its path
relative to the package, recorded by meson at configure time, so that a
package installed under any prefix or DESTDIR finds its own library), the
same as an absolute path, then the dynamic loader's search (libvm.so.0).
"""
from __future__ import annotations

import ctypes
import os
from typing import List, Optional

from ._types import (Boot, CpuidEntry, DebugOptions, ExitStruct, Fpu, IoFn, LoadOptions,
                     MachineOptions, MachineParts, MemRange, Msr, Regs, RegionOptions, Sregs,
                     Translation, VmOptions, VmRunOptions)

try:
    from . import _config  # type: ignore[attr-defined]
except ImportError:  # the source tree, not installed
    _config = None


def _candidates() -> List[str]:
    found = []
    env = os.environ.get("LIBVM_LIBRARY")
    if env:
        found.append(env)
    if _config is not None:
        here = os.path.dirname(os.path.abspath(__file__))
        found.append(os.path.normpath(os.path.join(here, _config.LIBRARY_FROM_PACKAGE)))
        found.append(_config.LIBRARY_PATH)
    found.append("libvm.so.0")
    return found


def _load() -> ctypes.CDLL:
    errors = []
    for path in _candidates():
        if os.sep in path and not os.path.exists(path):
            errors.append("%s: not there" % path)
            continue
        try:
            return ctypes.CDLL(path)
        except OSError as e:
            errors.append(str(e))
    raise ImportError("libvm: cannot load libvm.so.0 (%s)" % "; ".join(errors))


lib = _load()

P = ctypes.c_void_p
PP = ctypes.POINTER(ctypes.c_void_p)
I = ctypes.c_int
U32 = ctypes.c_uint32
U64 = ctypes.c_uint64
SZ = ctypes.c_size_t
S = ctypes.c_char_p
B = ctypes.c_bool


def _proto(name: str, restype: Optional[type], *argtypes: type) -> None:
    fn = getattr(lib, name)
    fn.restype = restype
    fn.argtypes = list(argtypes)


_proto("libvm_version", S)
_proto("libvm_version_number", U32)
_proto("libvm_strerror", S, I)
_proto("libvm_error_message", S)
_proto("libvm_vm_options_init", I, P, SZ)
_proto("libvm_vm_create", I, PP, ctypes.POINTER(VmOptions))
_proto("libvm_vm_destroy", I, P)
_proto("libvm_has", I, P, I)
_proto("libvm_vm_device_path", S, P)
_proto("libvm_vm_max_vcpus", I, P)
_proto("libvm_region_map", I, PP, P, ctypes.POINTER(RegionOptions))
_proto("libvm_region_unmap", I, P)
_proto("libvm_region_gpa", U64, P)
_proto("libvm_region_length", U64, P)
_proto("libvm_region_name", S, P)
_proto("libvm_region_volatile_ptr", P, P)
_proto("libvm_vm_memory_map", I, P, ctypes.POINTER(MemRange), ctypes.POINTER(U32))
_proto("libvm_mem_read", I, P, U64, P, SZ)
_proto("libvm_mem_write", I, P, U64, P, SZ)
_proto("libvm_io_register", I, P, I, U64, U64, S, IoFn, P)
_proto("libvm_io_unregister", I, P, I, U64)
_proto("libvm_vcpu_create", I, PP, P, U32)
_proto("libvm_vcpu_destroy", I, P)
_proto("libvm_vcpu_id", U32, P)
_proto("libvm_vcpu_get_regs", I, P, ctypes.POINTER(Regs))
_proto("libvm_vcpu_set_regs", I, P, ctypes.POINTER(Regs))
_proto("libvm_vcpu_get_sregs", I, P, ctypes.POINTER(Sregs))
_proto("libvm_vcpu_set_sregs", I, P, ctypes.POINTER(Sregs))
_proto("libvm_vcpu_get_fpu", I, P, ctypes.POINTER(Fpu))
_proto("libvm_vcpu_set_fpu", I, P, ctypes.POINTER(Fpu))
_proto("libvm_vcpu_get_msrs", I, P, ctypes.POINTER(Msr), U32)
_proto("libvm_vcpu_set_msrs", I, P, ctypes.POINTER(Msr), U32)
_proto("libvm_vm_supported_cpuid", I, P, ctypes.POINTER(CpuidEntry), ctypes.POINTER(U32))
_proto("libvm_vcpu_set_cpuid", I, P, ctypes.POINTER(CpuidEntry), U32)
_proto("libvm_vcpu_run", I, P, ctypes.POINTER(ExitStruct))
_proto("libvm_vcpu_complete_read", I, P, P, U32)
_proto("libvm_vcpu_stop", I, P)
_proto("libvm_vcpu_end_run", I, P, U32, U64)
_proto("libvm_vm_run", I, P, ctypes.POINTER(VmRunOptions), ctypes.POINTER(ExitStruct),
       ctypes.POINTER(U32))
_proto("libvm_vm_stop", I, P)
_proto("libvm_irqchip_create", I, P, U32)
_proto("libvm_irq_set", I, P, U32, B)
_proto("libvm_msi_send", I, P, U64, U32)
_proto("libvm_load_detect", I, P, SZ)
_proto("libvm_load_flat", I, ctypes.POINTER(Boot), P, P, SZ, U64)
for _loader in ("elf", "multiboot", "bzimage"):
    _proto("libvm_load_" + _loader, I, ctypes.POINTER(Boot), P, P, SZ, ctypes.POINTER(LoadOptions))
_proto("libvm_boot_apply", I, P, ctypes.POINTER(Boot))
_proto("libvm_acpi_build", I, ctypes.POINTER(U64), P, P)
_proto("libvm_mptable_build", I, ctypes.POINTER(U64), P, P)
for _dev in ("uart", "debugexit", "fwcfg", "i8042", "rtc", "port80", "testdev", "pmtimer",
             "acpipm"):
    _proto("libvm_%s_attach" % _dev, I, PP, P, P)
    _proto("libvm_%s_detach" % _dev, None, P)
_proto("libvm_uart_input", I, P, P, SZ)
_proto("libvm_fwcfg_add_file", I, P, S, P, SZ)
_proto("libvm_port80_last", I, P)
_proto("libvm_rtc_alarm_pending", I, P)
_proto("libvm_vcpu_set_debug", I, P, ctypes.POINTER(DebugOptions))
_proto("libvm_vcpu_translate", I, P, U64, ctypes.POINTER(Translation))
_proto("libvm_machine_create", I, PP, ctypes.POINTER(MachineOptions))
_proto("libvm_machine_destroy", I, P)
_proto("libvm_machine_vm", P, P)
_proto("libvm_machine_vcpu", P, P, U32)
_proto("libvm_machine_get_parts", I, P, ctypes.POINTER(MachineParts))
_proto("libvm_machine_wake", I, P, U32)
_proto("libvm_vcpu_reset", I, P, U32)
_proto("libvm_cpuid_build", I, P, S, ctypes.POINTER(CpuidEntry), ctypes.POINTER(U32))
_proto("libvm_hyperv_parse", I, S, ctypes.POINTER(U32))
_proto("libvm_vcpu_enable_hyperv", I, P, U32)
_proto("libvm_vcpu_hyperv_result", I, P, U64)
