#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
Snapshots, restores and live migrations of vmrun against QEMU's, on one
host and one guest: bench/snapshot/dirtier.c (FILL MiB of data that
neither can skip as zero pages, RATE pages rewritten every 10 ms).

- snapshot: a running guest paused, saved to a file, resumed: wall time of
  the request (vmrun: the control socket's "snapshot"; QEMU: "stop",
  "migrate" to "exec:cat > FILE" until completed, "cont": what virsh save
  does, as savevm needs a qcow2 disk) and the file's size;
- restore: from the process's start until it says the guest runs (vmrun:
  its control socket answers "running", which it opens once the state is
  in; QEMU -incoming "exec:cat FILE": query-status "paused" once loaded,
  then "cont");
- migration: two processes on 127.0.0.1, the guest dirtying all along:
  total time and downtime as each reports them, and bytes sent. QEMU runs
  with its default downtime limit (300 ms) and no bandwidth cap (its
  default cap of 128 MiB/s would slow it for nothing).

Each figure is the median of RUNS; the ratios are QEMU's over vmrun's.
usage: snapshot-vs-qemu.py VMRUN DIRTIER.ELF [--runs N] [--mem MIB]
       [--fill MIB] [--rate PAGES]   (exit 0, 1 failure, 77 skip)
"""
import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

DEV = os.environ.get("LIBVM_DEVICE", "/dev/kvm")


def wait_file(path, text, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with open(path, "rb") as f:
                if text.encode() in f.read():
                    return True
        except FileNotFoundError:
            pass
        time.sleep(0.01)
    return False


def count_in(path, text):
    try:
        with open(path, "rb") as f:
            return f.read().count(text.encode())
    except FileNotFoundError:
        return 0


class Lines:
    """One JSON object a line on a Unix socket (vmrun's control, QMP)."""

    def __init__(self, path, timeout=120):
        end = time.monotonic() + timeout
        while True:
            try:
                self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.s.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                self.s.close()
                if time.monotonic() > end:
                    raise
                time.sleep(0.002)
        self.f = self.s.makefile("rwb")

    def send(self, obj):
        self.f.write(json.dumps(obj).encode() + b"\n")
        self.f.flush()

    def recv(self):
        line = self.f.readline()
        if not line:
            raise EOFError("the other side closed the socket")
        return json.loads(line)

    def close(self):
        self.f.close()
        self.s.close()


class Vmrun:
    def __init__(self, vmrun, w, name, args):
        self.ctl = os.path.join(w, name + ".sock")
        self.serial = os.path.join(w, name + ".txt")
        self.err = open(os.path.join(w, name + ".err"), "wb")
        self.p = subprocess.Popen([vmrun, "--control", self.ctl, "--serial", self.serial] + args,
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=self.err)
        self.c = None

    def ask(self, req):
        if not self.c:
            self.c = Lines(self.ctl)
        self.c.send(req)
        return self.c.recv()

    def end(self):
        if self.c:
            self.c.close()
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()
        self.err.close()


class Qemu:
    def __init__(self, w, name, args):
        self.qmp_path = os.path.join(w, name + ".qmp")
        self.serial = os.path.join(w, name + ".txt")
        self.p = subprocess.Popen(
            ["qemu-system-x86_64", "-accel", "kvm", "-cpu", "qemu64", "-nodefaults",
             "-display", "none", "-no-reboot", "-serial", "file:" + self.serial,
             "-qmp", "unix:%s,server=on,wait=off" % self.qmp_path] + args,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.q = None

    def qmp(self, cmd, **args):
        if not self.q:
            self.q = Lines(self.qmp_path)
            self.q.recv()  # the greeting
            self.qmp("qmp_capabilities")
        self.q.send({"execute": cmd, "arguments": args} if args else {"execute": cmd})
        while True:
            r = self.q.recv()
            if "event" in r:
                continue
            if "error" in r:
                raise RuntimeError("QMP %s: %s" % (cmd, r["error"]))
            return r["return"]

    def migrated(self, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            r = self.qmp("query-migrate")
            if r.get("status") == "completed":
                return r
            if r.get("status") in ("failed", "cancelled"):
                raise RuntimeError("QEMU migration %s: %s" % (r["status"], r.get("error-desc")))
            time.sleep(0.005)
        raise RuntimeError("QEMU migration did not complete in %d s" % timeout)

    def end(self):
        if self.q:
            self.q.close()
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("vmrun")
    ap.add_argument("kernel")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--mem", type=int, default=256)
    ap.add_argument("--fill", type=int, default=64)
    ap.add_argument("--rate", type=int, default=10)
    a = ap.parse_args()
    if not shutil.which("qemu-system-x86_64"):
        print("SKIP: qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)")
        return 77
    if not os.access(DEV, os.R_OK | os.W_OK) or DEV != "/dev/kvm":
        print("SKIP: QEMU needs /dev/kvm (%s)" % DEV)
        return 77
    append = "fill=%d rate=%d" % (a.fill, a.rate)
    vm_args = ["--mem", "%dM" % a.mem, "--append", append, a.kernel]
    q_args = ["-m", str(a.mem), "-kernel", a.kernel, "-append", append]
    boot = 120
    print("guest: %d MiB, %d MiB of data, %d pages (%d KiB) rewritten every 10 ms; median of %d"
          % (a.mem, a.fill, a.rate, a.rate * 4, a.runs))
    fig = {k: [] for k in ("v_snap", "v_size", "q_snap", "q_size", "v_rest", "q_rest",
                           "v_total", "v_down", "v_bytes", "q_total", "q_down", "q_bytes")}
    w = tempfile.mkdtemp(prefix="libvm-bench-snap-")
    port = 47000 + os.getpid() % 1000
    try:
        for run in range(a.runs):
            # --- vmrun: snapshot, restore -----------------------------
            snap = os.path.join(w, "v.snap")
            v = Vmrun(a.vmrun, w, "v%d" % run, vm_args)
            if not wait_file(v.serial, "READY", boot):
                fail("vmrun: the guest did not get ready")
            time.sleep(0.5)
            t0 = time.monotonic()
            r = v.ask({"cmd": "snapshot", "file": snap})
            fig["v_snap"].append((time.monotonic() - t0) * 1000)
            if not r.get("ok"):
                fail("vmrun snapshot: %s" % r)
            fig["v_size"].append(os.path.getsize(snap))
            v.end()
            t0 = time.monotonic()
            v = Vmrun(a.vmrun, w, "vr%d" % run, ["--restore", snap])
            r = v.ask({"cmd": "status"})
            fig["v_rest"].append((time.monotonic() - t0) * 1000)
            if r.get("state") != "running":
                fail("vmrun restore: %s" % r)
            if not wait_file(v.serial, "TICK", 30):
                fail("vmrun: the restored guest does not tick")
            v.end()
            os.unlink(snap)

            # --- QEMU: the same -----------------------------------------
            snap = os.path.join(w, "q.snap")
            q = Qemu(w, "q%d" % run, q_args)
            if not wait_file(q.serial, "READY", boot):
                fail("QEMU: the guest did not get ready")
            time.sleep(0.5)
            t0 = time.monotonic()
            q.qmp("stop")
            q.qmp("migrate", uri="exec:cat > " + snap)
            q.migrated(120)
            q.qmp("cont")
            fig["q_snap"].append((time.monotonic() - t0) * 1000)
            fig["q_size"].append(os.path.getsize(snap))
            q.end()
            t0 = time.monotonic()
            q = Qemu(w, "qr%d" % run, q_args + ["-incoming", "exec:cat " + snap])
            # The file holds a stopped VM, which QEMU loads paused (as
            # virsh restore, which then resumes it).
            while True:
                st = q.qmp("query-status")["status"]
                if st == "paused":
                    q.qmp("cont")
                    break
                if st == "running":
                    break
                if time.monotonic() - t0 > 120:
                    fail("QEMU restore: %s after 120 s" % st)
                time.sleep(0.002)
            fig["q_rest"].append((time.monotonic() - t0) * 1000)
            if not wait_file(q.serial, "TICK", 30):
                fail("QEMU: the restored guest does not tick")
            q.end()
            os.unlink(snap)

            # --- live migration ---------------------------------------
            port += 1
            tgt = Vmrun(a.vmrun, w, "vt%d" % run, ["--incoming", "127.0.0.1:%d" % port])
            src = Vmrun(a.vmrun, w, "vs%d" % run, vm_args)
            if not wait_file(src.serial, "READY", boot) or \
               not wait_file(tgt.err.name, "waiting for a migration", 30):
                fail("vmrun: the source or the target did not get ready")
            time.sleep(1)
            r = src.ask({"cmd": "migrate", "host": "127.0.0.1", "port": port})
            if not r.get("ok"):
                fail("vmrun migrate: %s" % r)
            fig["v_total"].append(r["total_ms"])
            fig["v_down"].append(r["downtime_ms"])
            fig["v_bytes"].append(r["bytes"])
            if src.p.wait(60) != 12:
                fail("vmrun: the source ended with %s, not 12" % src.p.returncode)
            ticks = count_in(tgt.serial, "TICK")
            if not wait_file(tgt.serial, "TICK %d" % (ticks + 1) if ticks else "TICK", 30):
                fail("vmrun: the migrated guest does not tick")
            src.end()
            tgt.end()

            port += 1
            tgt = Qemu(w, "qt%d" % run, q_args + ["-incoming", "tcp:127.0.0.1:%d" % port])
            src = Qemu(w, "qs%d" % run, q_args)
            if not wait_file(src.serial, "READY", boot):
                fail("QEMU: the source did not get ready")
            tgt.qmp("query-status")
            time.sleep(1)
            src.qmp("migrate-set-parameters", **{"max-bandwidth": 1 << 40})
            src.qmp("migrate", uri="tcp:127.0.0.1:%d" % port)
            r = src.migrated(300)
            fig["q_total"].append(r["total-time"])
            fig["q_down"].append(r["downtime"])
            fig["q_bytes"].append(r["ram"]["transferred"])
            t0 = time.monotonic()
            while tgt.qmp("query-status")["status"] != "running":
                if time.monotonic() - t0 > 30:
                    fail("QEMU: the migrated guest does not run")
                time.sleep(0.01)
            src.end()
            tgt.end()
    finally:
        shutil.rmtree(w, ignore_errors=True)

    m = {k: statistics.median(v) for k, v in fig.items()}
    print("snapshot:  vmrun %7.1f ms %6.1f MB   qemu %7.1f ms %6.1f MB   qemu/vmrun: time %.2fx, size %.2fx"
          % (m["v_snap"], m["v_size"] / 1e6, m["q_snap"], m["q_size"] / 1e6,
             m["q_snap"] / m["v_snap"], m["q_size"] / m["v_size"]))
    print("restore:   vmrun %7.1f ms             qemu %7.1f ms             qemu/vmrun: time %.2fx"
          % (m["v_rest"], m["q_rest"], m["q_rest"] / m["v_rest"]))
    print("migration: vmrun total %7.1f ms, downtime %6.1f ms, %6.1f MB   qemu total %7.1f ms, downtime %6.1f ms, %6.1f MB"
          % (m["v_total"], m["v_down"], m["v_bytes"] / 1e6, m["q_total"], m["q_down"], m["q_bytes"] / 1e6))
    print("migration: qemu/vmrun: total %.2fx, downtime %.2fx, bytes %.2fx"
          % (m["q_total"] / m["v_total"], m["q_down"] / max(m["v_down"], 0.001),
             m["q_bytes"] / m["v_bytes"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
