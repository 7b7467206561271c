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


class ExitUnion(ctypes.Union):
    _fields_ = [("io", IoExit), ("reserved", ctypes.c_uint8 * 256)]


class Exit(ctypes.Structure):
    _anonymous_ = ("u",)
    _fields_ = [("reason", ctypes.c_uint32), ("padding", ctypes.c_uint32), ("u", ExitUnion)]


EXIT_HLT = 1
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


def _check(err, what):
    if err < 0:
        raise LibvmError(err, what)


def version():
    return _lib.libvm_version().decode()


class Vm:
    """A VM with one vCPU; closed with close() or a with-block."""

    def __init__(self):
        self._vm = ctypes.c_void_p()
        _check(_lib.libvm_vm_create(ctypes.byref(self._vm), None), "create VM")
        self._callbacks = []  # keep ctypes thunks alive as long as the VM

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

    def vcpu_real_mode(self, rip):
        self._cpu = ctypes.c_void_p()
        _check(_lib.libvm_vcpu_create(ctypes.byref(self._cpu), self._vm, 0), "create vCPU")
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
        if self._vm:
            _lib.libvm_vm_destroy(self._vm)
            self._vm = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
