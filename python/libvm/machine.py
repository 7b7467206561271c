# SPDX-License-Identifier: MIT
"""libvm's PC machine from Python (include/libvm/machine.h, docs/machine.md)."""
from __future__ import annotations

import ctypes
import os
from typing import Callable, List, Optional, Sequence, Tuple, Union

from . import _types as T
from ._ffi import lib
from .core import Bytes, Device, Exit, Fwcfg, LogHandler, Port80, Uart, Vcpu, Vm, \
    _check, _uart_output, hyperv_features

PathLike = Union[str, "os.PathLike[str]"]


def _path(p: Optional[PathLike]) -> Optional[bytes]:
    return os.fsencode(p) if p is not None else None


class Machine:
    """A PC: RAM, irqchip, the legacy devices, ACPI and MP tables, PCI and
    virtio devices when wanted, the kernel loaded and vCPU 0 at its entry.

    Every argument is optional (a bare 128 MiB, 1-vCPU PC):

    - ``ram_size``, ``ram_below_4g`` (bytes), ``vcpus``, ``flags``
      (MachineFlag: parts to leave out, PCI);
    - ``kernel``: a path, or the image's bytes; ``kernel_format`` (Format)
      forces a loader; ``kernel_name``, ``cmdline``, ``load_addr`` (flat);
      ``modules``: (path or bytes, string) pairs; ``initrd``: a path;
    - ``serial``: where COM1's output goes: a callable taking bytes, a file
      descriptor, or None (discarded); ``serial_input_fd`` feeds its input;
    - ``disks`` (paths, or (path, readonly) pairs), ``taps`` (tap names for
      virtio-net), ``rng`` (a virtio-rng), ``consoles`` ((input_fd,
      output_fd) pairs); ``pci_testdev`` (QEMU's PCI test device);
    - ``cpu``: the vCPUs' CPU model and features ("Skylake-Client,-avx");
      ``hyperv``: Hyper-V enlightenments (LIBVM_HV_* bits or their names,
      "hv_relaxed,hv_time" or "all");
    - ``device``, ``log``: as for Vm.

    A guest that suspends to RAM ends a run with ExitReason.SUSPEND: drain
    ``rtc_wake_fd``, wake at once if rtc_alarm_pending() (the alarm fired
    before), else wait for ``rtc_wake_fd`` to become readable (the RTC
    alarm fired); call wake() and run again.
    """

    def __init__(self, *, ram_size: int = 0, ram_below_4g: int = 0, vcpus: int = 0,
                 flags: int = 0, kernel: Optional[Union[PathLike, Bytes]] = None,
                 kernel_format: Optional[T.Format] = None, kernel_name: Optional[str] = None,
                 cmdline: Optional[str] = None, load_addr: int = 0,
                 modules: Sequence[Tuple[Union[PathLike, Bytes], str]] = (),
                 initrd: Optional[PathLike] = None,
                 serial: Optional[Union[Callable[[bytes], None], int]] = None,
                 serial_input_fd: int = -1,
                 disks: Sequence[Union[PathLike, Tuple[PathLike, bool]]] = (),
                 taps: Sequence[str] = (), rng: bool = False,
                 consoles: Sequence[Tuple[int, int]] = (), pci_testdev: bool = False,
                 cpu: Optional[str] = None, hyperv: Union[int, str] = 0,
                 device: Optional[str] = None, log: Optional[LogHandler] = None) -> None:
        self._h: Optional[int] = None
        self._keep: List[object] = []
        # The VM's wrapper exists first so that callbacks have somewhere to
        # report an exception; its handle comes once the machine is built.
        vm = Vm(_handle=0)
        vo = T.VmOptions(device_path=device.encode() if device else None)
        if log is not None:
            def log_thunk(level: int, message: bytes, opaque: object) -> None:
                try:
                    log(T.LogLevel(level), message.decode(errors="replace"))
                except BaseException as e:
                    vm._pending.set(e)
            cb = T.LogFn(log_thunk)
            self._keep.append(cb)
            vo.log = cb
        uo = T.UartOptions(input_fd=serial_input_fd)
        if callable(serial):
            cb = _uart_output(serial, vm._pending)
            self._keep.append(cb)
            uo.output = cb
        elif serial is not None:
            uo.output_fd = int(serial)
        o = T.MachineOptions(vm=ctypes.pointer(vo), ram_size=ram_size, ram_below_4g=ram_below_4g,
                             nr_vcpus=vcpus, flags=int(flags), cmdline=cmdline.encode()
                             if cmdline else None, load_addr=load_addr,
                             kernel_name=kernel_name.encode() if kernel_name else None,
                             kernel_format=int(kernel_format or 0),
                             uart=ctypes.pointer(uo), initrd_path=_path(initrd))
        self._keep += [vo, uo]
        if isinstance(kernel, (bytes, bytearray, memoryview)):
            image = bytes(kernel)
            self._keep.append(image)
            o.kernel_image = ctypes.cast(ctypes.c_char_p(image), ctypes.c_void_p)
            o.kernel_size = len(image)
        elif kernel is not None:
            o.kernel_path = _path(kernel)
        if modules:
            mods = (T.MachineModule * len(modules))()
            for i, (src, string) in enumerate(modules):
                mods[i].string = string.encode() if string else None
                if isinstance(src, (bytes, bytearray, memoryview)):
                    data = bytes(src)
                    self._keep.append(data)
                    mods[i].data = ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p)
                    mods[i].size = len(data)
                else:
                    mods[i].path = _path(src)
            self._keep.append(mods)
            o.modules, o.nr_modules = mods, len(modules)
        o.disks, o.nr_disks = self._array(T.VirtioBlkOptions, [
            T.VirtioBlkOptions(path=_path(d if isinstance(d, (str, os.PathLike)) else d[0]),
                               flags=T.VIRTIO_BLK_READONLY
                               if not isinstance(d, (str, os.PathLike)) and d[1] else 0)
            for d in disks])
        o.nets, o.nr_nets = self._array(T.VirtioNetOptions,
                                        [T.VirtioNetOptions(tap=t.encode()) for t in taps])
        o.consoles, o.nr_consoles = self._array(T.VirtioConsoleOptions, [
            T.VirtioConsoleOptions(input_fd=i, output_fd=out) for i, out in consoles])
        o.nr_rngs = 1 if rng else 0
        if pci_testdev:
            o.flags |= T.MachineFlag.PCI_TESTDEV
        o.cpu = cpu.encode() if cpu else None
        o.hyperv = hyperv_features(hyperv)

        h = ctypes.c_void_p()
        err = lib.libvm_machine_create(ctypes.byref(h), ctypes.byref(o))
        if err == 0 and vm._pending.take_peek():
            lib.libvm_machine_destroy(h.value)  # a callback raised: no machine
        vm._raise_pending()
        _check(err, "libvm_machine_create")
        self._h = h.value
        vm._h = lib.libvm_machine_vm(self._h)
        self.vm = vm
        self._parts()

    def _array(self, typ: type, items: list) -> Tuple[object, int]:
        """An array of pointers to options structs, kept alive with us."""
        if not items:
            return None, 0
        arr = (ctypes.POINTER(typ) * len(items))(*[ctypes.pointer(x) for x in items])
        self._keep += items + [arr]
        return arr, len(items)

    def _parts(self) -> None:
        p = T.MachineParts()
        _check(lib.libvm_machine_get_parts(self._h, ctypes.byref(p)), "libvm_machine_get_parts")
        vm = self.vm
        self.vcpus: List[Vcpu] = [vm._vcpu_for(p.vcpus[i]) for i in range(p.nr_vcpus)]

        def dev(cls: type, kind: str, handle: Optional[int]) -> Optional[Device]:
            return cls(vm, kind, handle) if handle else None
        self.uart: Optional[Uart] = dev(Uart, "uart", p.uart)  # type: ignore[assignment]
        self.debugexit = dev(Device, "debugexit", p.debugexit)
        self.fwcfg: Optional[Fwcfg] = dev(Fwcfg, "fwcfg", p.fwcfg)  # type: ignore[assignment]
        self.i8042 = dev(Device, "i8042", p.i8042)
        self.rtc = dev(Device, "rtc", p.rtc)
        self.port80: Optional[Port80] = dev(Port80, "port80", p.port80)  # type: ignore[assignment]
        self.testdev = dev(Device, "testdev", p.testdev)
        self.pmtimer = dev(Device, "pmtimer", p.pmtimer)
        self.acpipm = dev(Device, "acpipm", p.acpipm)
        for d in (self.uart, self.debugexit, self.fwcfg, self.i8042, self.rtc, self.port80,
                  self.testdev, self.pmtimer, self.acpipm):
            if d is not None:
                vm._devices.append(d)
        self.has_pci = bool(p.pci)
        self.nr_disks, self.nr_nets, self.nr_consoles = p.nr_disks, p.nr_nets, p.nr_consoles
        self.has_rng = bool(p.rng)
        self.has_pci_testdev = bool(p.pci_testdev)
        #: an eventfd readable when the RTC alarm fired (-1 without an RTC)
        self.rtc_wake_fd: int = p.rtc_wake_fd
        self.kernel_format = T.Format(p.kernel_format)
        self.rsdp_gpa, self.mptable_gpa = p.rsdp_gpa, p.mptable_gpa
        self.boot = T.Boot.from_buffer_copy(p.boot)

    def run(self, stop_on_unhandled: bool = False) -> Tuple[Exit, int]:
        """Run every vCPU until the VM stops: (exit, vCPU id); see Vm.run."""
        return self.vm.run(stop_on_unhandled)

    def stop(self) -> None:
        self.vm.stop()

    def rtc_alarm_pending(self) -> bool:
        """Has the RTC's alarm interrupt fired without the guest taking it
        (a pending wake event for a suspended guest)? False without an RTC."""
        if self.rtc is None:
            return False
        return bool(_check(lib.libvm_rtc_alarm_pending(self.rtc.handle),
                           "libvm_rtc_alarm_pending"))

    def wake(self, by_rtc: bool = False) -> None:
        """Wake a guest that suspended to RAM (its run returned SUSPEND):
        vCPU 0 at its waking vector, the others waiting for a SIPI. Run it
        again afterwards."""
        if not self._h:
            raise ValueError("the machine is destroyed")
        _check(lib.libvm_machine_wake(self._h, T.MACHINE_WAKE_RTC if by_rtc else 0),
               "libvm_machine_wake")

    def close(self) -> None:
        """Destroy the machine with its VM, devices and vCPUs."""
        if self._h:
            _check(lib.libvm_machine_destroy(self._h), "libvm_machine_destroy")
            self._h = None
            self.vm.close()  # only forgets the handles: the VM went with the machine

    def __enter__(self) -> "Machine":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        if not self._h:
            return "<libvm.Machine (closed)>"
        return "<libvm.Machine %d vCPUs, kernel %s>" % (len(self.vcpus), self.kernel_format.name)
