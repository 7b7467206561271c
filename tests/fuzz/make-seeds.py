#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed corpora of tests/fuzz/corpus/ (small, deterministic).

Each target's seeds are valid inputs of the shape its harness reads, so
that the fuzzer starts deep inside the parser rather than at its first
check. Run from anywhere: python3 tests/fuzz/make-seeds.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# --- loaders: 16-byte header (fuzz_load.c) + image ------------------------

def load_hdr(flags=0, cmdlen=0, mods=(0, 0, 0), gpa=0):
    return struct.pack("<BB3HQ", flags, cmdlen, *mods, gpa)


def elf64(segs, entry, note=None):
    """segs: (paddr, vaddr, filesz, memsz); contents follow the headers."""
    phnum = len(segs) + (1 if note else 0)
    off = 64 + 56 * phnum
    body = b""
    ph = b""
    for paddr, vaddr, filesz, memsz in segs:
        ph += struct.pack("<IIQQQQQQ", 1, 7, off + len(body), vaddr, paddr, filesz, memsz, 0x1000)
        body += bytes((i * 7 + 1) & 0xff for i in range(filesz))
    if note:
        ph += struct.pack("<IIQQQQQQ", 4, 4, off + len(body), 0, 0, len(note), len(note), 4)
        body += note
    hdr = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    hdr += struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, entry, 64, 0, 0, 64, 56, phnum, 64, 0, 0)
    return hdr + ph + body


def elf32(segs, entry, note=None):
    phnum = len(segs) + (1 if note else 0)
    off = 52 + 32 * phnum
    body = b""
    ph = b""
    for paddr, vaddr, filesz, memsz in segs:
        ph += struct.pack("<IIIIIIII", 1, off + len(body), vaddr, paddr, filesz, memsz, 7, 0x1000)
        body += bytes((i * 5 + 3) & 0xff for i in range(filesz))
    if note:
        ph += struct.pack("<IIIIIIII", 4, off + len(body), 0, 0, len(note), len(note), 4, 4)
        body += note
    hdr = b"\x7fELF" + bytes([1, 1, 1]) + bytes(9)
    hdr += struct.pack("<HHIIIIIHHHHHH", 2, 3, 1, entry, 52, 0, 0, 52, 32, phnum, 40, 0, 0)
    return hdr + ph + body


def pvh_note(entry):
    return struct.pack("<III", 4, 4, 18) + b"Xen\0" + struct.pack("<I", entry)


def multiboot_aout(load=0x100000, size=0x200, bss=0x1000, flags=0x10003):
    hdr_off = 0x40
    magic = 0x1BADB002
    h = struct.pack("<III", magic, flags, (-(magic + flags)) & 0xffffffff)
    h += struct.pack("<IIIII", load + hdr_off, load, load + size, load + size + bss, load + 0x80)
    img = bytearray((i * 13 + 5) & 0xff for i in range(size))
    img[hdr_off:hdr_off + len(h)] = h
    return bytes(img)


def multiboot_elf():
    magic = 0x1BADB002
    flags = 0x3
    h = struct.pack("<III", magic, flags, (-(magic + flags)) & 0xffffffff)
    img = bytearray(elf32([(0x100000, 0x100000, 0x300, 0x2000)], 0x100010))
    img[0x60:0x60 + len(h)] = h  # inside the first segment's bytes
    return bytes(img)


def bzimage(version=0x020F, reloc=1, align=0x200000, pref=0x1000000, init=0x200000, kernel=0x1000):
    setup_sects = 4
    setup = (setup_sects + 1) * 512
    img = bytearray((i * 7 + 3) & 0xff for i in range(setup + kernel))
    img[0x1F1] = setup_sects
    struct.pack_into("<I", img, 0x1F4, kernel // 16)
    struct.pack_into("<H", img, 0x1FE, 0xAA55)
    img[0x200] = 0xEB
    img[0x201] = 0x6A
    img[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", img, 0x206, version)
    img[0x210] = 0
    img[0x211] = 1
    struct.pack_into("<IIII", img, 0x218, 0, 0, 0, 0)
    struct.pack_into("<I", img, 0x228, 0)
    struct.pack_into("<I", img, 0x22C, 0x7FFFFFFF)
    struct.pack_into("<I", img, 0x230, align)
    img[0x234] = reloc
    struct.pack_into("<H", img, 0x236, 3)
    struct.pack_into("<I", img, 0x238, 2047)
    struct.pack_into("<Q", img, 0x258, pref)
    struct.pack_into("<I", img, 0x260, init)
    return bytes(img)


def loader_seeds():
    k = 0xffffffff80000000
    e64 = elf64([(0x100000, k + 0x100000, 0x200, 0x1000), (0x200000, k + 0x200000, 0x80, 0x80)],
                k + 0x100010)
    e64_pvh = elf64([(0x100000, k + 0x100000, 0x200, 0x1000)], k + 0x100010, pvh_note(0x100040))
    e32 = elf32([(0x100000, 0xc0100000, 0x200, 0x400)], 0xc0100010)
    e32_pvh = elf32([(0x100000, 0x100000, 0x100, 0x100)], 0x100000, pvh_note(0x100020))
    mb = multiboot_aout()
    mbe = multiboot_elf()
    bz = bzimage()
    bz_fixed = bzimage(reloc=0, pref=0x100000)
    put("load-elf", "elf64", load_hdr() + e64)
    put("load-elf", "elf64-pvh-cmdline-mods", load_hdr(0x04 | 0x10, 40, (100, 3000, 0), 0xe0000) + e64_pvh)
    put("load-elf", "elf32", load_hdr() + e32)
    put("load-elf", "elf32-pvh-nopvh", load_hdr(0x20) + e32_pvh)
    put("load-elf", "elf64-high-ram", load_hdr(0x02 | 0x01) + e64)
    put("load-multiboot", "aout", load_hdr(0x80) + mb)
    put("load-multiboot", "aout-cmdline-mods", load_hdr(0x80 | 0x04 | 0x18, 60, (20, 4096, 1)) + mb)
    put("load-multiboot", "elf", load_hdr(0x04, 10) + mbe)
    put("load-multiboot", "aout-rom", load_hdr(0x01) + multiboot_aout(load=0x200000, size=0x400, bss=0))
    put("load-bzimage", "reloc", load_hdr() + bz)
    put("load-bzimage", "reloc-initrd-cmdline", load_hdr(0x04 | 0x08 | 0x40, 200, (0x3000, 0, 0), 0xe0000) + bz)
    put("load-bzimage", "fixed-1m", load_hdr() + bz_fixed)
    put("load-bzimage", "high-ram", load_hdr(0x02) + bzimage(align=0x200000, pref=0xffe00000))
    put("load-detect", "flat", load_hdr(0, 0, (0, 0, 0), 0x7c00) + bytes(range(64)))
    put("load-detect", "flat-high", load_hdr(0, 0, (0, 0, 0), 0x200000) + bytes(512))
    put("load-detect", "elf64", load_hdr() + e64)
    put("load-detect", "elf32-pvh", load_hdr(0x04, 30) + e32_pvh)
    put("load-detect", "multiboot", load_hdr() + mb)
    put("load-detect", "bzimage", load_hdr() + bz)


# --- virtqueue (fuzz_virtqueue.c) ---------------------------------------

def desc(addr, length, flags, nxt):
    return struct.pack("<QIHH", addr, length, flags, nxt)


def vq_write(at, data):
    out = b""
    while data:
        chunk, data = data[:255], data[255:]
        out += struct.pack("<BHB", 0, at, len(chunk)) + chunk
        at += len(chunk)
    return out


def vq_seeds():
    NEXT, WRITE, INDIRECT = 1, 2, 4
    hdr = struct.pack("<BHHHIB", 4 | 0x10 | 0x20, 0x1000, 0x2000, 0x3000, 0, 0)
    chain = desc(0x4000, 16, NEXT, 1) + desc(0x5000, 512, NEXT | WRITE, 2) + desc(0x6000, 1, WRITE, 0)
    ops = vq_write(0x1000, chain)
    ops += struct.pack("<BH", 1, 0)                 # avail head 0
    ops += bytes([2])                               # pop
    ops += struct.pack("<BHH", 3, 0, 16)            # read the header
    ops += struct.pack("<BHH", 0x83, 0, 513)        # write all writable bytes
    ops += struct.pack("<BI", 4, 513)               # push
    ops += bytes([5])                               # notify?
    put("virtqueue", "chain", hdr + ops)
    table = desc(0x4000, 16, NEXT, 1) + desc(0x5000, 64, WRITE, 0)
    ind = vq_write(0x1000, desc(0x7000, 32, INDIRECT, 0)) + vq_write(0x7000, table)
    ind += struct.pack("<BH", 1, 0) + bytes([2]) + struct.pack("<BHH", 0x83, 0, 64)
    ind += struct.pack("<BI", 4, 64) + bytes([5])
    put("virtqueue", "indirect", hdr + ind)
    loop = vq_write(0x1000, desc(0x4000, 16, NEXT, 1) + desc(0x4000, 16, NEXT, 0))
    put("virtqueue", "loop", hdr + loop + struct.pack("<BH", 1, 0) + bytes([2]))


# --- virtio devices over PCI (fuzz_virtio.c) ------------------------------

def vio_mem(at, data):
    out = b""
    while data:
        chunk, data = data[:255], data[255:]
        out += struct.pack("<BIB", 5, at, len(chunk)) + chunk
        at += len(chunk)
    return out


def vio_init(features, nq):
    out = struct.pack("<BQ", 8, features)
    for _ in range(nq):
        out += bytes([0, 4, 0])  # ring offset 0, size 16, MSI-X vector 0
    return out


def vio_chain(q, descs, head=0, idx=1):
    """Descriptors at queue q's table, then head in the avail ring, idx."""
    base = 0x10000 * (q + 1)
    out = vio_mem(base, b"".join(desc(*d) for d in descs))
    out += vio_mem(base + 0x1000 + 4 + 2 * ((idx - 1) % 16), struct.pack("<H", head))
    out += vio_mem(base + 0x1000 + 2, struct.pack("<H", idx))
    out += bytes([6, q])  # kick
    return out


def virtio_seeds():
    NEXT, WRITE = 1, 2
    feat = (1 << 32) | (1 << 29) | (1 << 28)
    msix_on = struct.pack("<BBI", 0x90, 0x40 + 2, 0x8000)  # MSI-X enable (16-bit write)
    # rng: one buffer of 64 bytes; then the same into ROM.
    rng = vio_init(feat, 1) + vio_chain(0, [(0x40000, 64, WRITE, 0)])
    put("virtio", "rng", bytes([0]) + msix_on + rng)
    put("virtio", "rng-rom", bytes([0x10]) + vio_init(feat, 1) + vio_chain(0, [(0xf0000, 64, WRITE, 0)]))
    # blk: read sector 1, write sector 2, get-id into ROM.
    hdr_in = struct.pack("<IIQ", 0, 0, 1)
    hdr_out = struct.pack("<IIQ", 1, 0, 2)
    hdr_id = struct.pack("<IIQ", 8, 0, 0)
    blk = vio_init(feat | (1 << 9) | (1 << 13), 1)
    blk += vio_mem(0x40000, hdr_in) + vio_chain(0, [(0x40000, 16, NEXT, 1), (0x41000, 512, NEXT | WRITE, 2), (0x42000, 1, WRITE, 0)])
    blk += vio_mem(0x40000, hdr_out) + vio_chain(0, [(0x40000, 16, NEXT, 1), (0x41000, 512, NEXT, 2), (0x42000, 1, WRITE, 0)], 0, 2)
    put("virtio", "blk", bytes([1]) + blk)
    blk_rom = vio_init(feat, 1) + vio_mem(0x40000, hdr_id)
    blk_rom += vio_chain(0, [(0x40000, 16, NEXT, 1), (0xf0000, 20, NEXT | WRITE, 2), (0x42000, 1, WRITE, 0)])
    put("virtio", "blk-rom-ioeventfd", bytes([1 | 0x10]) + blk_rom)
    put("virtio", "blk-readonly", bytes([1 | 0x20]) + blk)
    # net: a receive buffer, a frame from the host, a frame to send.
    net = vio_init(feat | (1 << 5) | (1 << 16), 2)
    net += vio_chain(0, [(0x40000, 1526, WRITE, 0)])
    frame = bytes(6) + bytes([0x52, 0x54, 0, 0x12, 0x34, 0x56]) + b"\x08\x00" + bytes(range(46))
    net += struct.pack("<BH", 9, len(frame)) + frame
    net += vio_mem(0x50000, bytes(12) + frame) + vio_chain(1, [(0x50000, 12 + len(frame), 0, 0)])
    put("virtio", "net", bytes([2]) + net)
    # console: output from the guest, input from the host.
    con = vio_init(feat, 2) + vio_chain(0, [(0x40000, 128, WRITE, 0)])
    con += struct.pack("<BH", 9, 6) + b"hello\n"
    con += vio_mem(0x50000, b"out\n") + vio_chain(1, [(0x50000, 4, 0, 0)])
    put("virtio", "console", bytes([3]) + con)
    # BAR 0 moved while a queue's eventfd is bound.
    move = vio_init(feat, 1) + struct.pack("<BBI", 0xa0, 0x10, 0xc0100000) + bytes([6, 0])
    put("virtio", "rng-bar-move", bytes([0x10]) + move)


# --- PCI bus, MSI-X, routes (fuzz_pci.c) ------------------------------------

def pci_cfg(slot, reg, value, length, dev=0):
    lensel = {1: 0, 2: 1, 4: 2}[length]
    return struct.pack("<BBBBBI", 0x80 | lensel << 4 | 2, dev, slot, reg & 0xfc, reg & 3, value)


def pci_bar(k, off, value, length=4, write=True):
    lensel = {1: 0, 2: 1, 4: 2, 8: 3}[length]
    return struct.pack("<BBHQ", (0x80 if write else 0) | lensel << 4 | (4 + k), 0, off, value)


def pci_seeds():
    for irqfd in (0, 1):
        s = bytes([irqfd << 4 | 4, 5])
        for slot in (1, 2, 3):
            s += pci_cfg(slot, 0x04, 0x0006, 2)
        s += pci_cfg(1, 0x42, 0x8000, 2)               # device 0: MSI-X on
        s += pci_cfg(2, 0x42, 0xc000, 2)               # device 1: on, all masked
        for v in range(2):
            s += pci_bar(0, 16 * v, 0xfee00000) + pci_bar(0, 16 * v + 8, 0x30 + v)
            s += pci_bar(0, 16 * v + 12, 0)            # unmask
        s += struct.pack("<BBH", 6, 0, 0) + struct.pack("<BBH", 6, 0, 1)
        s += pci_bar(1, 12, 0) + struct.pack("<BBH", 6, 1, 0)   # pending while masked
        s += pci_cfg(2, 0x42, 0x8000, 2)               # unmask all: pending goes out
        s += struct.pack("<BB", 0x87, 2) + struct.pack("<BB", 0x07, 2)  # INTx up, down
        s += struct.pack("<BBHI", 8, 0, 0x1000, 0x55) + struct.pack("<BBBI", 9, 0, 24, 0x66)
        s += struct.pack("<BBB", 10, 0, 24)
        s += struct.pack("<BBBBH", 0x2c, 0, 0, 0, 0x10)  # ioeventfd at BAR 0 + 0x10
        s += pci_cfg(1, 0x10, 0xc0100000, 4)           # move BAR 0
        s += struct.pack("<BBB", 13, 0, 0) + struct.pack("<BBBB", 13, 0, 0, 7)
        s += struct.pack("<BBB", 14, 0, 1)
        put("pci", "msix-irqfd" if irqfd else "msix-msi", s)


# --- device models (fuzz_devices.c) ----------------------------------------

DEV_PORTS = [0x3f8, 0xf4, 0x510, 0x60, 0x70, 0x80, 0xe0, 0x2000, 0x608, 0x600, 0x2f8]


def dport(base, off, value=0, length=1, write=False):
    lensel = {1: 0, 2: 1, 4: 2}[length]
    return struct.pack("<BQBB", (0x80 if write else 0) | lensel << 4, value, DEV_PORTS.index(base), off)


def devices_seeds():
    hdr = bytes([0x13]) + struct.pack("<I", 0x8000)   # 4 CPUs, cmdline, 128 MiB
    uart = dport(0x3f8, 3, 0x80, 1, True) + dport(0x3f8, 0, 1, 1, True) + dport(0x3f8, 3, 3, 1, True)
    uart += dport(0x3f8, 1, 0x0f, 1, True) + dport(0x3f8, 4, 0x0b, 1, True)
    uart += b"".join(dport(0x3f8, 0, c, 1, True) for c in b"hi\n") + dport(0x3f8, 5)
    uart += struct.pack("<BQB", 5, 0, 4) + b"abcd" + dport(0x3f8, 0) + dport(0x3f8, 2)
    fw = dport(0x510, 0, 0, 2, True) + b"".join(dport(0x510, 1) for _ in range(4))
    fw += struct.pack("<BQB", 6, 0, 8) + b"contents"
    fw += dport(0x510, 0, 0x19, 2, True) + b"".join(dport(0x510, 1) for _ in range(12))
    fw += dport(0x510, 0, 0x20, 2, True) + dport(0x510, 1) + dport(0x510, 0, 0x5, 2, True) + dport(0x510, 1, 0, 4)
    kbd = dport(0x60, 4, 0x20, 1, True) + dport(0x60, 0) + dport(0x60, 4, 0x60, 1, True) + dport(0x60, 0, 0x47, 1, True)
    kbd += dport(0x60, 0, 0xff, 1, True) + dport(0x60, 0) + dport(0x60, 4) + dport(0x60, 4, 0xaa, 1, True) + dport(0x60, 0)
    rtc = b"".join(dport(0x70, 0, r, 1, True) + dport(0x70, 1) for r in (0, 2, 4, 7, 8, 9, 0x0a, 0x0b, 0x0c, 0x0d, 0x34, 0x35))
    rtc += dport(0x70, 0, 0x0b, 1, True) + dport(0x70, 1, 0x06, 1, True) + dport(0x70, 0, 0, 1, True) + dport(0x70, 1, 0x59, 1, True)
    misc = dport(0x80, 0, 0x42, 1, True) + dport(0xe0, 0, 0x12345678, 4, True) + dport(0xe0, 0, 0, 4)
    misc += dport(0xe0, 4, 7, 4, True) + dport(0x2000, 4, 1, 1, True) + dport(0x2000, 4, 0, 1, True)
    misc += dport(0x608, 0, 0, 4) + dport(0x600, 2, 0x0100, 2, True) + dport(0x600, 0, 0xffff, 2, True) + dport(0x600, 4)
    win = struct.pack("<BQH", 0x80 | 3 << 4 | 4, 0x1122334455667788, 0x100) + struct.pack("<BQH", 0x10 | 4, 0, 0x102)
    ends = dport(0xf4, 0, 0x10, 4, True) + dport(0x600, 4, 0x3400, 2, True) + dport(0x60, 4, 0xfe, 1, True)
    put("devices", "uart", hdr + uart)
    put("devices", "fwcfg", hdr + fw)
    put("devices", "i8042", hdr + kbd)
    put("devices", "rtc", hdr + rtc)
    put("devices", "misc-window-ends", bytes([0x20]) + struct.pack("<I", 0x100000) + misc + win + ends)


# --- ACPI and MP tables (fuzz_firmware.c) -----------------------------------

def fw_seeds():
    aml = bytes([0x10, 0x0a, 0x5c, 0x5f, 0x53, 0x42, 0x5f, 0x5b, 0x82, 0x02, 0x41, 0x30])
    def acpi(which, cpus, gpa_r, gpa_sel, aml_bytes=b"", flags=0):
        return (bytes([which]) + struct.pack("<HBHHHBBI", cpus, flags, 0, 0, 0, 0, 0, 0)
                + struct.pack("<IB", gpa_r, gpa_sel) + struct.pack("<H", len(aml_bytes)) + aml_bytes)
    put("firmware", "acpi-2cpus", acpi(0, 2, 0, 0, aml))
    put("firmware", "acpi-300cpus-x2apic", acpi(0, 300, 0, 0, b"", 1))
    put("firmware", "acpi-rom", acpi(2, 1, 0, 1, aml))
    put("firmware", "acpi-ram-end", acpi(0, 8, 0x10000, 2))
    def mp(which, cpus, gpa_r, gpa_sel):
        return bytes([which]) + struct.pack("<HBI", cpus, 0, 0) + struct.pack("<IB", gpa_r, gpa_sel)
    put("firmware", "mp-2cpus", mp(1, 2, 0, 0))
    put("firmware", "mp-254cpus", mp(1, 254, 0, 0))
    put("firmware", "mp-rom", mp(3, 4, 0x100, 1))


# --- decoder (fuzz_decode.c): mode byte, then the instruction --------------

def decode_seeds():
    insns = {
        "mov-store64": (2, "48 89 03"),
        "mov-load-disp8": (2, "8b 43 08"),
        "movzx": (2, "0f b6 4b 08"),
        "movsxd": (2, "48 63 07"),
        "store-imm-sib": (2, "c7 44 24 10 0d 00 00 00"),
        "rip-relative": (2, "8b 05 10 00 00 00"),
        "moffs64": (2, "48 a1 00 00 00 ff 00 00 00 00"),
        "fs-rex-high8": (2, "64 40 88 24 25 00 10 00 00"),
        "mov32-16bit-addr": (1, "67 66 89 07"),
        "real-mode-store": (0, "89 47 02"),
        "real-mode-moffs": (0, "a0 34 12"),
        "prot-store-imm8": (1, "c6 80 00 00 00 ff 5a"),
        "long-15": (0x82, "2e 2e 2e 2e 2e 2e 2e 2e 2e c7 00 01 02 03 04"),
        "cpuid": (2, "0f a2"),
        "out-dx": (1, "66 ef"),
        "rep-outsb": (2, "f3 6e"),
    }
    for name, (mode, hexs) in insns.items():
        put("decode", name, bytes([mode]) + bytes.fromhex(hexs.replace(" ", "")))


if __name__ == "__main__":
    loader_seeds()
    vq_seeds()
    virtio_seeds()
    pci_seeds()
    devices_seeds()
    fw_seeds()
    decode_seeds()
