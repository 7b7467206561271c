# SPDX-License-Identifier: MIT
"""A thin ctypes binding of libvm's C ABI.

Only what examples need is bound; every call checks its return code and
raises LibvmError with libvm's own detail message. The structs mirror
include/libvm/libvm.h field for field (fixed-width types only).
"""
import ctypes
import ctypes.util
import os

_lib = ctypes.CDLL(os.environ.get("LIBVM_LIBRARY") or ctypes.util.find_library("vm") or "libvm.so.0")


class LibvmError(OSError):
    def __init__(self, err, what):
        msg = _lib.libvm_error_message().decode()
        super().__init__(-err, "%s: %s (%s)" % (what, _lib.libvm_strerror(err).decode(), msg))


class Regs(ctypes.Structure):
    _fields_ = [(n, ctypes.c_uint64) for n in (
        "rax rbx rcx rdx rsi rdi rsp rbp r8 r9 r10 r11 r12 r13 r14 r15 rip rflags").split()]


class Segment(ctypes.Structure):
    _fields_ = [("base", ctypes.c_uint64), ("limit", ctypes.c_uint32), ("selector", ctypes.c_uint16)] + \
        [(n, ctypes.c_uint8) for n in "type present dpl db s l g avl unusable padding".split()]


class DTable(ctypes.Structure):
    _fields_ = [("base", ctypes.c_uint64), ("limit", ctypes.c_uint16), ("padding", ctypes.c_uint16 * 3)]


class Sregs(ctypes.Structure):
    _fields_ = [(n, Segment) for n in "cs ds es fs gs ss tr ldt".split()] + \
        [("gdt", DTable), ("idt", DTable)] + \
        [(n, ctypes.c_uint64) for n in "cr0 cr2 cr3 cr4 cr8 efer apic_base".split()]


class IoExit(ctypes.Structure):
    _fields_ = [("addr", ctypes.c_uint64), ("data", ctypes.c_uint64), ("size", ctypes.c_uint32),
                ("count", ctypes.c_uint32), ("is_write", ctypes.c_uint8), ("padding", ctypes.c_uint8 * 7)]


class EndExit(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint64)]


class ExitUnion(ctypes.Union):
    _fields_ = [("io", IoExit), ("end", EndExit), ("reserved", ctypes.c_uint8 * 256)]


class Exit(ctypes.Structure):
    _anonymous_ = ("u",)
    _fields_ = [("reason", ctypes.c_uint32), ("padding", ctypes.c_uint32), ("u", ExitUnion)]


def _options(*fields):
    """A size-first options struct (include/libvm/*.h): size is preset."""
    class Options(ctypes.Structure):
        _fields_ = [("size", ctypes.c_size_t)] + list(fields)

        def __init__(self, **kw):
            super().__init__(size=ctypes.sizeof(self), **kw)
    return Options


UartOutputFn = ctypes.CFUNCTYPE(None, ctypes.POINTER(ctypes.c_uint8), ctypes.c_size_t, ctypes.c_void_p)
UartOptions = _options(("port", ctypes.c_uint16), ("reserved0", ctypes.c_uint16), ("irq", ctypes.c_int32),
                       ("output_fd", ctypes.c_int32), ("input_fd", ctypes.c_int32),
                       ("reserved1", ctypes.c_uint32), ("output", UartOutputFn),
                       ("output_opaque", ctypes.c_void_p))
FwcfgOptions = _options(("port", ctypes.c_uint16), ("nb_cpus", ctypes.c_uint16), ("max_cpus", ctypes.c_uint16),
                        ("reserved0", ctypes.c_uint16), ("ram_size", ctypes.c_uint64),
                        ("cmdline", ctypes.c_char_p))
RtcOptions = _options(("ram_size", ctypes.c_uint64), ("ram_below_4g", ctypes.c_uint64),
                      ("offset_seconds", ctypes.c_int64))
PmtimerOptions = _options(("port", ctypes.c_uint16), ("bits", ctypes.c_uint8), ("reserved0", ctypes.c_uint8),
                          ("reserved1", ctypes.c_uint32))
AcpiOptions = _options(("nr_cpus", ctypes.c_uint32), ("flags", ctypes.c_uint32), ("gpa", ctypes.c_uint64),
                       ("pm1a_evt_port", ctypes.c_uint16), ("pm1a_cnt_port", ctypes.c_uint16),
                       ("pm_timer_port", ctypes.c_uint16), ("sci_irq", ctypes.c_uint8),
                       ("ioapic_id", ctypes.c_uint8), ("ioapic_addr", ctypes.c_uint32),
                       ("reserved0", ctypes.c_uint32), ("dsdt_aml", ctypes.c_void_p),
                       ("dsdt_aml_size", ctypes.c_uint64))
MptableOptions = _options(("nr_cpus", ctypes.c_uint32), ("ioapic_id", ctypes.c_uint32), ("gpa", ctypes.c_uint64),
                          ("ioapic_addr", ctypes.c_uint32), ("reserved0", ctypes.c_uint32))
LoadOptions = _options(("kernel_name", ctypes.c_char_p), ("cmdline", ctypes.c_char_p),
                       ("modules", ctypes.c_void_p), ("nr_modules", ctypes.c_uint32),
                       ("flags", ctypes.c_uint32), ("rsdp_gpa", ctypes.c_uint64))
VmRunOptions = _options(("flags", ctypes.c_uint32), ("reserved0", ctypes.c_uint32))


class MachineOptions(ctypes.Structure):
    """struct libvm_machine_options (include/libvm/machine.h)."""
    _fields_ = [("size", ctypes.c_size_t), ("vm", ctypes.c_void_p), ("ram_size", ctypes.c_uint64),
                ("ram_below_4g", ctypes.c_uint64), ("nr_vcpus", ctypes.c_uint32),
                ("flags", ctypes.c_uint32), ("kernel_path", ctypes.c_char_p),
                ("kernel_image", ctypes.c_char_p), ("kernel_size", ctypes.c_uint64),
                ("kernel_name", ctypes.c_char_p), ("kernel_format", ctypes.c_uint32),
                ("nr_modules", ctypes.c_uint32), ("modules", ctypes.c_void_p),
                ("initrd_path", ctypes.c_char_p), ("cmdline", ctypes.c_char_p),
                ("load_addr", ctypes.c_uint64), ("uart", ctypes.c_void_p), ("pci", ctypes.c_void_p),
                ("nr_disks", ctypes.c_uint32), ("nr_nets", ctypes.c_uint32),
                ("disks", ctypes.c_void_p), ("nets", ctypes.c_void_p),
                ("nr_consoles", ctypes.c_uint32), ("nr_rngs", ctypes.c_uint32),
                ("consoles", ctypes.c_void_p)]

    def __init__(self, **kw):
        super().__init__(size=ctypes.sizeof(self), **kw)


class Boot(ctypes.Structure):
    _fields_ = [("mode", ctypes.c_uint32), ("format", ctypes.c_uint32), ("entry", ctypes.c_uint64),
                ("code_selector", ctypes.c_uint16), ("data_selector", ctypes.c_uint16),
                ("gdt_limit", ctypes.c_uint16), ("reserved0", ctypes.c_uint16),
                ("gdt_base", ctypes.c_uint64), ("cr3", ctypes.c_uint64)] + \
        [(n, ctypes.c_uint64) for n in "rax rbx rcx rdx rsi rdi rbp rsp".split()] + \
        [(n, ctypes.c_uint64) for n in "kernel_start kernel_end info_gpa modules_end".split()] + \
        [("reserved", ctypes.c_uint64 * 8)]


EXIT_HLT = 1
EXIT_SHUTDOWN = 2
EXIT_GUEST_EXIT = 11
EXIT_RESET = 12
EXIT_POWEROFF = 13
IRQCHIP_PIT = 1
ACPI_PM_TIMER_32BIT = 1
SPACE_PIO = 0
IoFn = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_void_p,
                        ctypes.c_uint32, ctypes.c_bool, ctypes.c_void_p)

_lib.libvm_strerror.restype = ctypes.c_char_p
_lib.libvm_error_message.restype = ctypes.c_char_p
_lib.libvm_version.restype = ctypes.c_char_p
_lib.libvm_vm_destroy.restype = None
_lib.libvm_region_map_ram.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint64]
_lib.libvm_mem_write.argtypes = [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_char_p, ctypes.c_size_t]
_lib.libvm_io_register.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint64, ctypes.c_uint64,
                                   ctypes.c_char_p, IoFn, ctypes.c_void_p]
_lib.libvm_vcpu_create.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p, ctypes.c_uint32]
for _f in ("libvm_vcpu_get_sregs", "libvm_vcpu_set_sregs", "libvm_vcpu_set_regs", "libvm_vcpu_run"):
    getattr(_lib, _f).argtypes = [ctypes.c_void_p, ctypes.c_void_p]
_lib.libvm_vm_destroy.argtypes = [ctypes.c_void_p]
_P = ctypes.c_void_p
_PP = ctypes.POINTER(ctypes.c_void_p)
_lib.libvm_irqchip_create.argtypes = [_P, ctypes.c_uint32]
for _dev in ("uart", "debugexit", "fwcfg", "rtc", "pmtimer", "i8042", "port80", "testdev"):
    getattr(_lib, "libvm_%s_attach" % _dev).argtypes = [_PP, _P, _P]
    getattr(_lib, "libvm_%s_detach" % _dev).argtypes = [_P]
    getattr(_lib, "libvm_%s_detach" % _dev).restype = None
_lib.libvm_acpi_build.argtypes = [ctypes.POINTER(ctypes.c_uint64), _P, _P]
_lib.libvm_mptable_build.argtypes = [ctypes.POINTER(ctypes.c_uint64), _P, _P]
_lib.libvm_load_multiboot.argtypes = [_P, _P, ctypes.c_char_p, ctypes.c_size_t, _P]
_lib.libvm_boot_apply.argtypes = [_P, _P]
_lib.libvm_vm_run.argtypes = [_P, _P, _P, ctypes.POINTER(ctypes.c_uint32)]
_lib.libvm_vm_stop.argtypes = [_P]


_lib.libvm_machine_create.argtypes = [_PP, _P]
_lib.libvm_machine_destroy.argtypes = [_P]
_lib.libvm_machine_vm.argtypes = [_P]
_lib.libvm_machine_vm.restype = _P


def _check(err, what):
    if err < 0:
        raise LibvmError(err, what)


def version():
    return _lib.libvm_version().decode()


class Vm:
    """A VM; closed (devices, then the VM) with close() or a with-block."""

    def __init__(self):
        self._vm = ctypes.c_void_p()
        _check(_lib.libvm_vm_create(ctypes.byref(self._vm), None), "create VM")
        self._callbacks = []  # keep ctypes thunks alive as long as the VM
        self._devices = []    # (detach function, handle), detached in reverse
        self._vcpus = []

    def map_ram(self, gpa, size):
        _check(_lib.libvm_region_map_ram(None, self._vm, gpa, size), "map RAM")

    def write(self, gpa, data):
        _check(_lib.libvm_mem_write(self._vm, gpa, data, len(data)), "write guest memory")

    def on_port(self, port, count, fn):
        """fn(port, data: bytes or None, size) -> int value for reads."""
        def thunk(vcpu, addr, data, size, is_write, opaque):
            buf = (ctypes.c_uint8 * size).from_address(data)
            value = fn(addr, bytes(buf) if is_write else None, size)
            if not is_write and value is not None:
                buf[:] = list(int(value).to_bytes(size, "little"))
            return 0
        cb = IoFn(thunk)
        self._callbacks.append(cb)
        _check(_lib.libvm_io_register(self._vm, SPACE_PIO, port, count, b"py", cb, None), "register port")

    def irqchip(self, pit=True):
        """The in-kernel PIC, IOAPIC and LAPICs (and PIT): before any vCPU."""
        _check(_lib.libvm_irqchip_create(self._vm, IRQCHIP_PIT if pit else 0), "create the irqchip")

    def attach(self, device, options=None):
        """Attach built-in device "uart", "debugexit", "fwcfg", ... with its options struct."""
        handle = ctypes.c_void_p()
        opts = ctypes.byref(options) if options is not None else None
        _check(getattr(_lib, "libvm_%s_attach" % device)(ctypes.byref(handle), self._vm, opts),
               "attach " + device)
        self._devices.append((getattr(_lib, "libvm_%s_detach" % device), handle, options))
        return handle

    def uart(self, output):
        """COM1 (0x3f8, IRQ 4) whose output goes to output(bytes)."""
        cb = UartOutputFn(lambda data, n, opaque: output(ctypes.string_at(data, n)))
        self._callbacks.append(cb)
        return self.attach("uart", UartOptions(port=0x3f8, irq=4, output_fd=-1, input_fd=-1, output=cb))

    def acpi_tables(self, options):
        rsdp = ctypes.c_uint64()
        _check(_lib.libvm_acpi_build(ctypes.byref(rsdp), self._vm, ctypes.byref(options)), "build ACPI tables")
        return rsdp.value

    def mptable(self, options):
        _check(_lib.libvm_mptable_build(None, self._vm, ctypes.byref(options)), "build the MP table")

    def load_multiboot(self, image, options):
        boot = Boot()
        _check(_lib.libvm_load_multiboot(ctypes.byref(boot), self._vm, image, len(image),
                                         ctypes.byref(options)), "load the multiboot kernel")
        return boot

    def add_vcpus(self, n):
        for i in range(n):
            cpu = ctypes.c_void_p()
            _check(_lib.libvm_vcpu_create(ctypes.byref(cpu), self._vm, i), "create vCPU %d" % i)
            self._vcpus.append(cpu)

    def boot_apply(self, vcpu, boot):
        _check(_lib.libvm_boot_apply(self._vcpus[vcpu], ctypes.byref(boot)), "set the entry state")

    def run_all(self):
        """Run every vCPU on its own thread until the VM stops: (exit, vcpu id)."""
        ex = Exit()
        who = ctypes.c_uint32()
        _check(_lib.libvm_vm_run(self._vm, None, ctypes.byref(ex), ctypes.byref(who)), "run the VM")
        return ex, who.value

    def vcpu_real_mode(self, rip):
        self.add_vcpus(1)
        self._cpu = self._vcpus[0]
        s = Sregs()
        _check(_lib.libvm_vcpu_get_sregs(self._cpu, ctypes.byref(s)), "get sregs")
        s.cs.base, s.cs.selector = 0, 0
        _check(_lib.libvm_vcpu_set_sregs(self._cpu, ctypes.byref(s)), "set sregs")
        _check(_lib.libvm_vcpu_set_regs(self._cpu, ctypes.byref(Regs(rip=rip, rflags=2))), "set regs")

    def run(self):
        ex = Exit()
        _check(_lib.libvm_vcpu_run(self._cpu, ctypes.byref(ex)), "run")
        return ex

    def close(self):
        while self._devices:
            detach, handle, _ = self._devices.pop()
            detach(handle)
        if self._vm:
            _lib.libvm_vm_destroy(self._vm)
            self._vm = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Machine:
    """libvm's PC (libvm_machine_create): RAM, irqchip, devices, tables,
    the kernel, vCPUs. COM1's output goes to output(bytes)."""

    def __init__(self, output, **options):
        self._cb = UartOutputFn(lambda data, n, opaque: output(ctypes.string_at(data, n)))
        self._uart = UartOptions(output_fd=-1, input_fd=-1, output=self._cb)
        opts = MachineOptions(uart=ctypes.addressof(self._uart), **options)
        self._m = ctypes.c_void_p()
        _check(_lib.libvm_machine_create(ctypes.byref(self._m), ctypes.byref(opts)),
               "create the machine")
        self._vm = _lib.libvm_machine_vm(self._m)

    def run_all(self):
        """Run every vCPU on its own thread until the VM stops: (exit, vcpu id)."""
        ex = Exit()
        who = ctypes.c_uint32()
        _check(_lib.libvm_vm_run(self._vm, None, ctypes.byref(ex), ctypes.byref(who)), "run the VM")
        return ex, who.value

    def close(self):
        if self._m:
            _lib.libvm_machine_destroy(self._m)
            self._m = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
