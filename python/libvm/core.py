# SPDX-License-Identifier: MIT
"""The Pythonic layer over libvm's C ABI: VMs, vCPUs, regions, device
callbacks, exits, built-in devices and loaders.

Rules shared by every class here:

- A failing call raises LibvmError, which carries the errno, libvm's
  strerror and libvm's own detail message (libvm_error_message()).
- Objects that own C resources are context managers and have close();
  a VM closes everything it owns (vCPUs, regions, devices) with it.
- Device handlers are Python callables run on the vCPU's thread, in the
  middle of a run. One that raises ends the run, and the run call raises
  that same exception (the guest's access is not completed).
- The GIL is released while a vCPU runs, so other Python threads go on
  (and may call stop()).
"""
from __future__ import annotations

import ctypes
import errno as _errno
import os
import threading
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

from . import _types as T
from ._ffi import lib

Bytes = Union[bytes, bytearray, memoryview]
#: A device handler: ``handler(vcpu, addr, data, size)`` where ``data`` is
#: the bytes written, or None for a read, which the handler answers with an
#: int (little-endian) or bytes (or None: all-ones).
IoHandler = Callable[["Vcpu", int, Optional[bytes], int], Optional[Union[int, bytes]]]
LogHandler = Callable[[T.LogLevel, str], None]


class LibvmError(OSError):
    """A libvm call failed.

    ``errno`` is the (positive) error number, ``strerror`` libvm's name for
    it, ``message`` libvm's detail message and ``call`` what was attempted.
    """

    def __init__(self, err: int, call: str) -> None:
        message = (lib.libvm_error_message() or b"").decode(errors="replace")
        name = (lib.libvm_strerror(err) or b"").decode()
        super().__init__(-err, name)
        self.message = message
        self.call = call

    def __str__(self) -> str:
        return "%s: %s (%s)" % (self.call, self.message or self.strerror, self.strerror)


def _check(err: int, call: str) -> int:
    if err < 0:
        raise LibvmError(err, call)
    return err


def version() -> str:
    """The version of the libvm library loaded, e.g. "0.1.0"."""
    return lib.libvm_version().decode()


def strerror(err: int) -> str:
    """libvm's short description of a (negative) return code."""
    return lib.libvm_strerror(err).decode()


def hyperv_features(features: Union[int, str]) -> int:
    """LIBVM_HV_* bits from their names ("hv_relaxed,hv_vapic", "all"), or
    the bits themselves."""
    if isinstance(features, int):
        return features
    v = ctypes.c_uint32(0)
    _check(lib.libvm_hyperv_parse(features.encode(), ctypes.byref(v)), "libvm_hyperv_parse")
    return v.value


def detect(image: Bytes) -> T.Format:
    """The format libvm_load_detect() finds in a kernel image."""
    buf = bytes(image)
    return T.Format(_check(lib.libvm_load_detect(buf, len(buf)), "libvm_load_detect"))


# --- exits ------------------------------------------------------------------

@dataclass(frozen=True)
class IoAccess:
    """The access of an IO, MMIO or DEVICE_ERROR exit."""
    addr: int
    data: int        #: the first value written (little-endian)
    size: int        #: bytes per access (1, 2, 4, 8)
    count: int       #: repetitions (string I/O)
    is_write: bool


@dataclass(frozen=True)
class InternalError:
    suberror: int    #: KVM_INTERNAL_ERROR_*
    data: Tuple[int, ...]


@dataclass(frozen=True)
class SystemEventInfo:
    type: Union[T.SystemEvent, int]
    backend_type: int
    data: Tuple[int, ...]


@dataclass(frozen=True)
class FailEntry:
    hardware_reason: int
    cpu: int


@dataclass(frozen=True)
class DebugEvent:
    """A DEBUG exit: exception 3 (an INT3), or 1 (a step: dr6 bit 14; a
    hardware breakpoint: dr6 bit n for breakpoint n)."""
    exception: int
    pc: int          #: linear address of the instruction
    dr6: int
    dr7: int


@dataclass(frozen=True)
class HypervEvent:
    """A HYPERV exit: a SynIC control MSR write (type SYNIC: msr, control,
    evt_page, msg_page) or a hypercall for the VMM (type HCALL: input,
    params; answer with Vcpu.hyperv_result)."""
    type: Union[T.HypervExit, int]
    msr: int = 0
    control: int = 0
    evt_page: int = 0
    msg_page: int = 0
    input: int = 0
    params: Tuple[int, int] = (0, 0)


@dataclass(frozen=True)
class Translation:
    """Where a guest-virtual address leads (Vcpu.translate)."""
    gpa: int
    writable: bool
    user: bool


@dataclass(frozen=True)
class Exit:
    """Why a run returned, with the details of that kind of exit."""
    reason: Union[T.ExitReason, int]
    io: Optional[IoAccess] = None                 #: IO, MMIO, DEVICE_ERROR
    code: Optional[int] = None                    #: GUEST_EXIT, RESET, POWEROFF, SUSPEND
    internal: Optional[InternalError] = None      #: INTERNAL_ERROR
    system_event: Optional[SystemEventInfo] = None  #: SYSTEM_EVENT
    fail_entry: Optional[FailEntry] = None        #: FAIL_ENTRY
    backend_reason: Optional[int] = None          #: UNKNOWN
    debug: Optional[DebugEvent] = None            #: DEBUG
    hyperv: Optional[HypervEvent] = None          #: HYPERV
    #: SHUTDOWN: the backend already reset the vCPU (its registers are not
    #: the ones at the triple fault; kvm-amd)
    state_lost: Optional[bool] = None

    @property
    def status(self) -> Optional[int]:
        """The guest's exit status (GUEST_EXIT), else None."""
        return self.code if self.reason == T.ExitReason.GUEST_EXIT else None

    @classmethod
    def from_struct(cls, s: T.ExitStruct) -> "Exit":
        try:
            reason: Union[T.ExitReason, int] = T.ExitReason(s.reason)
        except ValueError:
            reason = s.reason  # a reason newer than this binding
        R = T.ExitReason
        if reason in (R.IO, R.MMIO, R.DEVICE_ERROR):
            return cls(reason, io=IoAccess(s.io.addr, s.io.data, s.io.size, s.io.count,
                                           bool(s.io.is_write)))
        if reason in (R.GUEST_EXIT, R.RESET, R.POWEROFF, R.SUSPEND):
            return cls(reason, code=s.end.code)
        if reason == R.INTERNAL_ERROR:
            n = min(s.internal.ndata, 16)
            return cls(reason, internal=InternalError(s.internal.suberror,
                                                      tuple(s.internal.data[:n])))
        if reason == R.SYSTEM_EVENT:
            n = min(s.system_event.ndata, 16)
            try:
                kind: Union[T.SystemEvent, int] = T.SystemEvent(s.system_event.type)
            except ValueError:
                kind = s.system_event.type
            return cls(reason, system_event=SystemEventInfo(kind, s.system_event.backend_type,
                                                            tuple(s.system_event.data[:n])))
        if reason == R.FAIL_ENTRY:
            return cls(reason, fail_entry=FailEntry(s.fail_entry.hardware_reason,
                                                    s.fail_entry.cpu))
        if reason == R.UNKNOWN:
            return cls(reason, backend_reason=s.unknown.backend_reason)
        if reason == R.SHUTDOWN:
            return cls(reason, state_lost=bool(s.shutdown.state_lost))
        if reason == R.HYPERV:
            h = s.hyperv
            try:
                kind2: Union[T.HypervExit, int] = T.HypervExit(h.type)
            except ValueError:
                kind2 = h.type
            if kind2 == T.HypervExit.SYNIC:
                return cls(reason, hyperv=HypervEvent(kind2, msr=h.msr, control=h.control,
                                                      evt_page=h.evt_page,
                                                      msg_page=h.msg_page))
            return cls(reason, hyperv=HypervEvent(kind2, input=h.input,
                                                  params=(h.params[0], h.params[1])))
        if reason == R.DEBUG:
            return cls(reason, debug=DebugEvent(s.debug.exception, s.debug.pc, s.debug.dr6,
                                                s.debug.dr7))
        return cls(reason)


# --- VMs ----------------------------------------------------------------------

class _Pending:
    """The first exception a callback raised during a run (any thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._exc: Optional[BaseException] = None

    def set(self, exc: BaseException) -> None:
        with self._lock:
            if self._exc is None:
                self._exc = exc

    def take_peek(self) -> bool:
        """Whether an exception is waiting (it stays)."""
        with self._lock:
            return self._exc is not None

    def take(self) -> Optional[BaseException]:
        with self._lock:
            exc, self._exc = self._exc, None
            return exc


class Region:
    """Guest-physical memory mapped into a VM (libvm_region_map)."""

    def __init__(self, vm: "Vm", handle: int) -> None:
        self._vm = vm
        self._h: Optional[int] = handle

    @property
    def gpa(self) -> int:
        return lib.libvm_region_gpa(self._h)

    @property
    def length(self) -> int:
        return lib.libvm_region_length(self._h)

    @property
    def name(self) -> str:
        return lib.libvm_region_name(self._h).decode()

    @property
    def memory(self) -> memoryview:
        """The region's host memory as a writable memoryview of bytes.

        The guest may change it underneath at any time while a vCPU runs:
        copy what you read before you trust it. Invalid after unmap() or
        the VM's close."""
        if not self._h:
            raise ValueError("the region is unmapped")
        ptr = lib.libvm_region_volatile_ptr(self._h)
        return memoryview((ctypes.c_char * self.length).from_address(ptr)).cast("B")

    def unmap(self) -> None:
        """Remove the region from the guest (and free memory libvm allocated)."""
        if self._h:
            _check(lib.libvm_region_unmap(self._h), "libvm_region_unmap")
            self._h = None

    def __repr__(self) -> str:
        if not self._h:
            return "<libvm.Region (unmapped)>"
        return "<libvm.Region %r 0x%x+0x%x>" % (self.name, self.gpa, self.length)


class Vcpu:
    """A virtual CPU; run it from one thread at a time."""

    def __init__(self, vm: "Vm", handle: int, vid: int, owned: bool = True) -> None:
        self._vm = vm
        self._h: Optional[int] = handle
        self.id = vid
        self._owned = owned

    @property
    def handle(self) -> int:
        if not self._h:
            raise ValueError("the vCPU is destroyed")
        return self._h

    def run(self) -> Exit:
        """Run until something the devices do not handle; raises what a
        handler raised, or LibvmError."""
        ex = T.ExitStruct()
        err = lib.libvm_vcpu_run(self.handle, ctypes.byref(ex))
        self._vm._raise_pending()
        _check(err, "libvm_vcpu_run")
        return Exit.from_struct(ex)

    def stop(self) -> None:
        """Make the current (or next) run return STOPPED; any thread."""
        _check(lib.libvm_vcpu_stop(self.handle), "libvm_vcpu_stop")

    def complete_read(self, data: Bytes) -> None:
        """The value the last unhandled read returns to the guest."""
        buf = bytes(data)
        _check(lib.libvm_vcpu_complete_read(self.handle, buf, len(buf)),
               "libvm_vcpu_complete_read")

    def end_run(self, reason: T.ExitReason, code: int = 0) -> None:
        """From a handler: end the run with GUEST_EXIT, RESET or POWEROFF."""
        _check(lib.libvm_vcpu_end_run(self.handle, int(reason), code), "libvm_vcpu_end_run")

    def get_regs(self) -> T.Regs:
        r = T.Regs()
        _check(lib.libvm_vcpu_get_regs(self.handle, ctypes.byref(r)), "libvm_vcpu_get_regs")
        return r

    def set_regs(self, regs: T.Regs) -> None:
        _check(lib.libvm_vcpu_set_regs(self.handle, ctypes.byref(regs)), "libvm_vcpu_set_regs")

    def get_sregs(self) -> T.Sregs:
        s = T.Sregs()
        _check(lib.libvm_vcpu_get_sregs(self.handle, ctypes.byref(s)), "libvm_vcpu_get_sregs")
        return s

    def set_sregs(self, sregs: T.Sregs) -> None:
        _check(lib.libvm_vcpu_set_sregs(self.handle, ctypes.byref(sregs)),
               "libvm_vcpu_set_sregs")

    regs = property(get_regs, set_regs, doc="The general-purpose registers (a copy).")
    sregs = property(get_sregs, set_sregs, doc="The system registers (a copy).")

    def get_msrs(self, indices: Sequence[int]) -> Dict[int, int]:
        arr = (T.Msr * len(indices))(*[T.Msr(index=i) for i in indices])
        _check(lib.libvm_vcpu_get_msrs(self.handle, arr, len(indices)), "libvm_vcpu_get_msrs")
        return {m.index: m.value for m in arr}

    def set_msrs(self, values: Dict[int, int]) -> None:
        arr = (T.Msr * len(values))(*[T.Msr(index=i, value=v) for i, v in values.items()])
        _check(lib.libvm_vcpu_set_msrs(self.handle, arr, len(values)), "libvm_vcpu_set_msrs")

    def boot(self, boot: T.Boot) -> None:
        """Put the vCPU in a loader's entry state (libvm_boot_apply)."""
        _check(lib.libvm_boot_apply(self.handle, ctypes.byref(boot)), "libvm_boot_apply")

    def set_debug(self, *, singlestep: bool = False, sw_breakpoints: bool = False,
                  hw: Sequence[Tuple[int, T.HwBreakpointType, int]] = ()) -> None:
        """What ends this vCPU's runs with a DEBUG exit: single steps, the
        guest's INT3s, and up to 4 hardware breakpoints (linear address,
        type, length). All off with no arguments."""
        o = T.DebugOptions(flags=(T.DEBUG_SINGLESTEP if singlestep else 0) |
                           (T.DEBUG_SW_BREAKPOINTS if sw_breakpoints else 0) |
                           (T.DEBUG_HW_BREAKPOINTS if hw else 0), nr_hw=len(hw))
        if len(hw) > len(o.hw):
            raise ValueError("at most %d hardware breakpoints" % len(o.hw))
        for i, (addr, kind, length) in enumerate(hw):
            o.hw[i] = T.HwBreakpoint(addr, int(kind), length)
        _check(lib.libvm_vcpu_set_debug(self.handle, ctypes.byref(o)), "libvm_vcpu_set_debug")

    def translate(self, gva: int) -> "Translation":
        """Guest-virtual to guest-physical, as the vCPU's MMU would now."""
        t = T.Translation()
        _check(lib.libvm_vcpu_translate(self.handle, gva, ctypes.byref(t)),
               "libvm_vcpu_translate")
        return Translation(t.gpa, bool(t.writable), bool(t.user))

    def reset(self, wait_sipi: bool = False) -> None:
        """Put the vCPU in its INIT state (libvm_vcpu_reset); an AP with
        ``wait_sipi`` then waits for the guest's SIPI."""
        _check(lib.libvm_vcpu_reset(self.handle, T.VCPU_RESET_WAIT_SIPI if wait_sipi else 0),
               "libvm_vcpu_reset")

    def set_cpu(self, spec: str) -> None:
        """A CPU model and features for this vCPU, as libvm_cpuid_build()
        takes them ("Skylake-Client,-avx", "host")."""
        n = ctypes.c_uint32(0)
        vm = self._vm.handle
        _check(lib.libvm_cpuid_build(vm, spec.encode(), None, ctypes.byref(n)),
               "libvm_cpuid_build")
        arr = (T.CpuidEntry * max(n.value, 1))()
        _check(lib.libvm_cpuid_build(vm, spec.encode(), arr, ctypes.byref(n)),
               "libvm_cpuid_build")
        _check(lib.libvm_vcpu_set_cpuid(self.handle, arr, n.value), "libvm_vcpu_set_cpuid")

    def enable_hyperv(self, features: Union[int, str]) -> None:
        """Hyper-V enlightenments: LIBVM_HV_* bits, or their names as
        libvm_hyperv_parse() takes them ("hv_relaxed,hv_time", "all")."""
        _check(lib.libvm_vcpu_enable_hyperv(self.handle, hyperv_features(features)),
               "libvm_vcpu_enable_hyperv")

    def hyperv_result(self, result: int) -> None:
        """The answer to the hypercall of the HYPERV exit the last run
        returned (without one, the guest sees HV_STATUS_INVALID_HYPERCALL_CODE)."""
        _check(lib.libvm_vcpu_hyperv_result(self.handle, result), "libvm_vcpu_hyperv_result")

    def start_real_mode(self, ip: int, cs: int = 0) -> None:
        """Real mode at CS:IP (CS base = cs << 4)."""
        s = self.get_sregs()
        s.cs.selector, s.cs.base = cs, cs << 4
        self.set_sregs(s)
        self.set_regs(T.Regs(rip=ip, rflags=2))

    def close(self) -> None:
        """Destroy the vCPU (it must not be running)."""
        if self._h and self._owned:
            _check(lib.libvm_vcpu_destroy(self._h), "libvm_vcpu_destroy")
            self._vm._forget_vcpu(self)
        self._h = None

    def __repr__(self) -> str:
        return "<libvm.Vcpu %d>" % self.id


class Device:
    """A built-in device attached to a VM; detach() (or the VM's close)
    removes it."""

    def __init__(self, vm: "Vm", kind: str, handle: int, keep: Iterable[object] = ()) -> None:
        self._vm = vm
        self.kind = kind
        self._h: Optional[int] = handle
        self._keep = list(keep)

    @property
    def handle(self) -> int:
        if not self._h:
            raise ValueError("the %s is detached" % self.kind)
        return self._h

    def detach(self) -> None:
        if self._h and self._vm._h:
            getattr(lib, "libvm_%s_detach" % self.kind)(self._h)
        self._h = None

    def __repr__(self) -> str:
        return "<libvm.Device %s>" % self.kind


class Uart(Device):
    def input(self, data: Bytes) -> int:
        """Hand bytes to the guest's receiver; returns how many it took."""
        buf = bytes(data)
        return _check(lib.libvm_uart_input(self.handle, buf, len(buf)), "libvm_uart_input")


class Fwcfg(Device):
    def add_file(self, name: str, data: Bytes) -> None:
        buf = bytes(data)
        _check(lib.libvm_fwcfg_add_file(self.handle, name.encode(), buf, len(buf)),
               "libvm_fwcfg_add_file")


class Port80(Device):
    def last(self) -> Optional[int]:
        """The last POST code the guest wrote, or None."""
        r = lib.libvm_port80_last(self.handle)
        if r == -_errno.ENOENT:
            return None
        return _check(r, "libvm_port80_last")


_DEVICE_OPTIONS = {
    "uart": (T.UartOptions, Uart), "debugexit": (T.DebugexitOptions, Device),
    "fwcfg": (T.FwcfgOptions, Fwcfg), "i8042": (T.I8042Options, Device),
    "rtc": (T.RtcOptions, Device), "port80": (T.Port80Options, Port80),
    "testdev": (T.TestdevOptions, Device), "pmtimer": (T.PmtimerOptions, Device),
    "acpipm": (T.AcpipmOptions, Device),
}


def _uart_output(output: Callable[[bytes], None], pending: _Pending) -> object:
    def thunk(data: object, n: int, opaque: object) -> None:
        try:
            output(ctypes.string_at(data, n))
        except BaseException as e:  # reported when the run returns
            pending.set(e)
    return T.UartOutputFn(thunk)


class Vm:
    """A virtual machine (libvm_vm_create).

    ``device``: the KVM-compatible device ("/dev/kvm", "/dev/vmm"), or
    "fake" for libvm's test backend (no guest code runs); None means
    $LIBVM_DEVICE or /dev/kvm. ``log(level, message)`` receives libvm's
    diagnostics."""

    def __init__(self, device: Optional[str] = None, log: Optional[LogHandler] = None,
                 *, _handle: Optional[int] = None) -> None:
        self._pending = _Pending()
        self._keep: List[object] = []       # ctypes callbacks, alive as long as the VM
        self._vcpus: Dict[int, Vcpu] = {}   # by handle, for handlers
        self._devices: List[Device] = []
        self._regions: List[Region] = []
        self._owned = _handle is None
        if _handle is not None:
            self._h: Optional[int] = _handle
            return
        opts = T.VmOptions(device_path=device.encode() if device else None)
        if log is not None:
            def log_thunk(level: int, message: bytes, opaque: object) -> None:
                try:
                    log(T.LogLevel(level), message.decode(errors="replace"))
                except BaseException as e:
                    self._pending.set(e)
            cb = T.LogFn(log_thunk)
            self._keep.append(cb)
            opts.log = cb
        h = ctypes.c_void_p()
        _check(lib.libvm_vm_create(ctypes.byref(h), ctypes.byref(opts)), "libvm_vm_create")
        self._h = h.value

    @property
    def handle(self) -> int:
        if not self._h:
            raise ValueError("the VM is closed")
        return self._h

    @property
    def device_path(self) -> str:
        return lib.libvm_vm_device_path(self.handle).decode()

    @property
    def max_vcpus(self) -> int:
        return _check(lib.libvm_vm_max_vcpus(self.handle), "libvm_vm_max_vcpus")

    def has(self, cap: T.Cap) -> bool:
        return _check(lib.libvm_has(self.handle, int(cap)), "libvm_has") == 1

    # memory

    def map(self, gpa: int, length: int, *, readonly: bool = False, name: str = "",
            fd: int = -1, offset: int = 0) -> Region:
        """Map fresh RAM (or, with ``fd``, a file) at ``gpa``."""
        o = T.RegionOptions(gpa=gpa, length=length, name=name.encode(), fd=fd, offset=offset,
                            flags=T.REGION_READONLY if readonly else 0)
        h = ctypes.c_void_p()
        _check(lib.libvm_region_map(ctypes.byref(h), self.handle, ctypes.byref(o)),
               "libvm_region_map")
        r = Region(self, h.value)
        self._regions.append(r)
        return r

    def map_ram(self, gpa: int, length: int, name: str = "ram") -> Region:
        return self.map(gpa, length, name=name)

    def memory_map(self) -> List[Tuple[int, int, int]]:
        """The regions as (gpa, length, flags), in address order."""
        n = ctypes.c_uint32(0)
        _check(lib.libvm_vm_memory_map(self.handle, None, ctypes.byref(n)), "libvm_vm_memory_map")
        arr = (T.MemRange * max(n.value, 1))()
        _check(lib.libvm_vm_memory_map(self.handle, arr, ctypes.byref(n)), "libvm_vm_memory_map")
        return [(arr[i].gpa, arr[i].length, arr[i].flags) for i in range(n.value)]

    def read(self, gpa: int, length: int) -> bytes:
        """Guest-physical memory (any number of adjacent regions)."""
        buf = ctypes.create_string_buffer(length)
        _check(lib.libvm_mem_read(self.handle, gpa, buf, length), "libvm_mem_read")
        return buf.raw

    def write(self, gpa: int, data: Bytes) -> None:
        buf = bytes(data)
        _check(lib.libvm_mem_write(self.handle, gpa, buf, len(buf)), "libvm_mem_write")

    # devices

    def _vcpu_for(self, handle: int) -> Vcpu:
        v = self._vcpus.get(handle)
        if v is None:  # a vCPU created outside this object (a machine's)
            v = Vcpu(self, handle, lib.libvm_vcpu_id(handle), owned=False)
            self._vcpus[handle] = v
        return v

    def register(self, space: T.Space, base: int, length: int, handler: IoHandler,
                 name: str = "python") -> None:
        """Claim [base, base + length) in ``space`` for ``handler``."""
        pending = self._pending

        def thunk(vcpu: int, addr: int, data: int, size: int, is_write: bool,
                  opaque: object) -> int:
            try:
                buf = (ctypes.c_uint8 * size).from_address(data)
                value = handler(self._vcpu_for(vcpu), addr, bytes(buf) if is_write else None,
                                size)
                if not is_write and value is not None:
                    raw = value if isinstance(value, (bytes, bytearray)) else \
                        (int(value) & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
                    ctypes.memmove(data, bytes(raw[:size]), min(size, len(raw)))
                return 0
            except BaseException as e:
                pending.set(e)
                return -_errno.ECANCELED
        cb = T.IoFn(thunk)
        _check(lib.libvm_io_register(self.handle, int(space), base, length, name.encode(), cb,
                                     None), "libvm_io_register")
        self._keep.append(cb)

    def register_pio(self, port: int, count: int, handler: IoHandler, name: str = "python") -> None:
        self.register(T.Space.PIO, port, count, handler, name)

    def register_mmio(self, gpa: int, length: int, handler: IoHandler,
                      name: str = "python") -> None:
        self.register(T.Space.MMIO, gpa, length, handler, name)

    def unregister(self, space: T.Space, base: int) -> None:
        _check(lib.libvm_io_unregister(self.handle, int(space), base), "libvm_io_unregister")

    def attach(self, kind: str, **fields: object) -> Device:
        """A built-in device: "uart", "debugexit", "fwcfg", "i8042", "rtc",
        "port80", "testdev", "pmtimer" or "acpipm", with the fields of its
        options struct (zero means default). The UART takes ``output``, a
        callable that receives the bytes the guest sends."""
        if kind not in _DEVICE_OPTIONS:
            raise ValueError("no built-in device %r" % kind)
        opt_type, cls = _DEVICE_OPTIONS[kind]
        keep: List[object] = []
        output = fields.pop("output", None) if kind == "uart" else None
        for k, v in list(fields.items()):
            if isinstance(v, str):
                fields[k] = v.encode()
        opts = opt_type(**fields)
        if output is not None:
            cb = _uart_output(output, self._pending)  # type: ignore[arg-type]
            keep.append(cb)
            opts.output = cb
        keep.append(opts)
        h = ctypes.c_void_p()
        _check(getattr(lib, "libvm_%s_attach" % kind)(ctypes.byref(h), self.handle,
                                                     ctypes.byref(opts)),
               "libvm_%s_attach" % kind)
        dev = cls(self, kind, h.value, keep)
        self._devices.append(dev)
        return dev

    # interrupts

    def irqchip(self, pit: bool = True) -> None:
        """The in-kernel PIC, IOAPIC and LAPICs (and PIT); before any vCPU."""
        _check(lib.libvm_irqchip_create(self.handle, T.IRQCHIP_PIT if pit else 0),
               "libvm_irqchip_create")

    def irq(self, gsi: int, level: bool) -> None:
        _check(lib.libvm_irq_set(self.handle, gsi, level), "libvm_irq_set")

    def msi(self, addr: int, data: int) -> None:
        _check(lib.libvm_msi_send(self.handle, addr, data), "libvm_msi_send")

    # vCPUs and loading

    def vcpu(self, vid: int) -> Vcpu:
        """Create vCPU ``vid`` (its APIC id)."""
        h = ctypes.c_void_p()
        _check(lib.libvm_vcpu_create(ctypes.byref(h), self.handle, vid), "libvm_vcpu_create")
        v = Vcpu(self, h.value, vid)
        self._vcpus[h.value] = v
        return v

    def _forget_vcpu(self, v: Vcpu) -> None:
        self._vcpus.pop(v._h or 0, None)

    def load(self, image: Bytes, *, format: Optional[T.Format] = None,
             cmdline: Optional[str] = None, kernel_name: Optional[str] = None,
             modules: Sequence[Tuple[Bytes, str]] = (), load_addr: int = 0x100000,
             rsdp_gpa: int = 0) -> T.Boot:
        """Load a kernel image (multiboot, ELF/PVH, bzImage, or a flat binary
        at ``load_addr``); returns the entry state for Vcpu.boot()."""
        buf = bytes(image)
        fmt = T.Format(format) if format is not None else detect(buf)
        boot = T.Boot()
        if fmt in (T.Format.UNKNOWN, T.Format.FLAT):
            _check(lib.libvm_load_flat(ctypes.byref(boot), self.handle, buf, len(buf),
                                       load_addr), "libvm_load_flat")
            return boot
        datas = [bytes(d) for d, _ in modules]
        mods = (T.LoadModule * max(len(modules), 1))()
        for i, (d, s) in enumerate(zip(datas, [s for _, s in modules])):
            mods[i] = T.LoadModule(ctypes.cast(ctypes.c_char_p(d), ctypes.c_void_p), len(d),
                                   s.encode() if s else None)
        o = T.LoadOptions(kernel_name=kernel_name.encode() if kernel_name else None,
                          cmdline=cmdline.encode() if cmdline else None, modules=mods,
                          nr_modules=len(modules), rsdp_gpa=rsdp_gpa)
        loader = {T.Format.MULTIBOOT: "multiboot", T.Format.BZIMAGE: "bzimage"}.get(fmt, "elf")
        _check(getattr(lib, "libvm_load_" + loader)(ctypes.byref(boot), self.handle, buf, len(buf),
                                                   ctypes.byref(o)), "libvm_load_" + loader)
        return boot

    # running

    def _raise_pending(self) -> None:
        exc = self._pending.take()
        if exc is not None:
            raise exc

    def run(self, stop_on_unhandled: bool = False) -> Tuple[Exit, int]:
        """Run every vCPU on a thread of its own until the VM stops:
        (the exit that stopped it, the vCPU it came from)."""
        ex = T.ExitStruct()
        who = ctypes.c_uint32()
        o = T.VmRunOptions(flags=T.RUN_STOP_ON_UNHANDLED if stop_on_unhandled else 0)
        err = lib.libvm_vm_run(self.handle, ctypes.byref(o), ctypes.byref(ex), ctypes.byref(who))
        self._raise_pending()
        _check(err, "libvm_vm_run")
        return Exit.from_struct(ex), who.value

    def stop(self) -> None:
        """Make a running (or the next) run() return STOPPED; any thread."""
        _check(lib.libvm_vm_stop(self.handle), "libvm_vm_stop")

    def close(self) -> None:
        """Destroy the VM with its vCPUs, regions and devices."""
        if self._h and self._owned:
            _check(lib.libvm_vm_destroy(self._h), "libvm_vm_destroy")
        for d in self._devices:
            d._h = None
        for r in self._regions:
            r._h = None
        for v in self._vcpus.values():
            v._h = None
        self._h = None

    @property
    def closed(self) -> bool:
        return not self._h

    def __enter__(self) -> "Vm":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return "<libvm.Vm %s>" % (self.device_path if self._h else "(closed)")
