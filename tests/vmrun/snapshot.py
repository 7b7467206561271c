#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""vmrun's snapshots and live migration with a guest that counts (counter.S):

- the control socket: status, pause (the count stops), resume, bad requests;
  a snapshot that ends vmrun (status 10); a new vmrun restores it and the
  count carries on from where it was (no second START) to the end (status 1);
- signals: SIGUSR1 saves and runs on, SIGUSR2 saves and ends; both restore;
- live migration to a vmrun started with --incoming, over TCP on localhost:
  the source ends (status 12) only once the target took over, and the
  target's count carries on; a target that refuses (other memory size) is
  reported and the source runs on;
- bad files: --restore of a truncated or foreign file ends with status 126
  and says why, running nothing; so does --gdb with --snapshot or --control.

usage: snapshot.py VMRUN COUNTER_KERNEL   (exit 0 pass, 1 fail, 77 skip)
"""
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time

VMRUN, KERNEL = sys.argv[1], sys.argv[2]
failures = 0


def check(cond, what):
    global failures
    print(("PASS: " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        failures += 1


def counts(path):
    """The counts a guest printed, and whether it printed START."""
    try:
        text = open(path, errors="replace").read()
    except FileNotFoundError:
        return [], False
    return [int(x, 16) for x in re.findall(r"COUNT ([0-9a-f]{8})", text)], "START" in text


def wait_count(path, n, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        c, _ = counts(path)
        if len(c) >= n:
            return c
        time.sleep(0.05)
    return counts(path)[0]


started = []


def vmrun(*args, quiet=True):
    p = subprocess.Popen([VMRUN] + (["-q"] if quiet else []) + list(args),
                         stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    started.append(p)
    return p


def target(port, *args):
    """A vmrun waiting for a migration: started once it says it listens."""
    p = vmrun("--incoming", f"127.0.0.1:{port}", *args, quiet=False)
    end = time.time() + 60
    while time.time() < end:
        r, _, _ = select.select([p.stderr], [], [], 1)
        if r and "waiting for a migration" in p.stderr.readline():
            return p
        if p.poll() is not None:
            break
    return p


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Control:
    def __init__(self, path, timeout=20):
        end = time.time() + timeout
        while True:
            try:
                self.s = socket.socket(socket.AF_UNIX)
                self.s.connect(path)
                break
            except OSError:
                self.s.close()
                if time.time() > end:
                    raise
                time.sleep(0.05)
        self.f = self.s.makefile("rw")

    def ask(self, req):
        self.f.write((req if isinstance(req, str) else json.dumps(req)) + "\n")
        self.f.flush()
        line = self.f.readline()
        return json.loads(line) if line else None


def continues(before, after, what):
    """The restored run goes on from the saved count, without a reboot."""
    b, _ = before
    a, started = after
    check(a and not started and a[0] == b[-1] + 1 and a == list(range(a[0], a[0] + len(a)))
          and a[-1] == 120,
          f"{what}: counts {b[0] if b else None}..{b[-1] if b else None} then "
          f"{a[0] if a else None}..{a[-1] if a else None}, no START after the restore")


def migration(p, r, src, dst):
    """The live migration's checks, from the answer @r on; then a refusal."""
    check(r and r["ok"], f"migrate: {r}")
    src.wait(timeout=30)
    check(src.returncode == 12, f"the source ends with status 12 once the target took over ({src.returncode})")
    before = counts(p("e.txt"))
    dst.wait(timeout=60)
    check(dst.returncode == 1, f"the target's guest ends with status 1 ({dst.returncode})")
    continues(before, counts(p("f.txt")), "live migration")
    if r and r.get("ok"):
        print(f"FIGURES: migration of the counter guest (32 MiB): total {r['total_ms']:.1f} ms, "
              f"downtime {r['downtime_ms']:.1f} ms, {r['bytes']} bytes, {r['rounds']} rounds")

    # --- a target that refuses: the source runs on ---
    port = free_port()
    dst = target(port, "--mem", "64M", "--serial", p("h.txt"))
    src = vmrun("--control", p("ctl3"), "--mem", "32M", "--serial", p("g.txt"), KERNEL)
    c = Control(p("ctl3"))
    wait_count(p("g.txt"), 3)
    r = c.ask({"cmd": "migrate", "host": "127.0.0.1", "port": port})
    check(r and not r["ok"] and "does not match" in r["error"],
          f"a target with other memory refuses: {r}")
    dst.wait(timeout=30)
    check(dst.returncode == 126, f"the refusing target ends with status 126 ({dst.returncode})")
    src.wait(timeout=60)
    g, started = counts(p("g.txt"))
    check(src.returncode == 1 and g == list(range(1, 121)),
          f"the source ran on to the end (status {src.returncode}, {len(g)} counts)")


def main():
    dev = os.environ.get("LIBVM_DEVICE", "/dev/kvm")
    if not os.access(dev, os.R_OK | os.W_OK):
        print(f"SKIP: {dev} is not usable by this user")
        return 77
    w = tempfile.mkdtemp(prefix="libvm-snap-")
    p = lambda name: os.path.join(w, name)

    # --- the control socket and a snapshot that ends vmrun ---
    src = vmrun("--control", p("ctl"), "--mem", "32M", "--serial", p("a.txt"), KERNEL)
    c = Control(p("ctl"))
    wait_count(p("a.txt"), 3)
    st = c.ask({"cmd": "status"})
    check(st and st["ok"] and st["state"] == "running" and st["vcpus"] == 1,
          f"status while running: {st}")
    check(c.ask({"cmd": "pause"}) == {"ok": True}, "pause")
    n1 = len(counts(p("a.txt"))[0])
    time.sleep(0.3)
    n2 = len(counts(p("a.txt"))[0])
    st = c.ask({"cmd": "status"})
    check(n1 == n2 and st["state"] == "paused", f"paused: the count stays at {n2}, {st['state']}")
    r = c.ask("{not json")
    check(r and not r["ok"] and "not a JSON object" in r["error"], f"bad JSON: {r}")
    r = c.ask({"cmd": "launch"})
    check(r and not r["ok"] and "unknown command" in r["error"], f"unknown command: {r}")
    r = c.ask({"cmd": "snapshot"})
    check(r and not r["ok"] and "file" in r["error"], f"snapshot without a file: {r}")
    r = c.ask({"cmd": "snapshot", "file": p("no/such/dir/snap")})
    check(r and not r["ok"] and not os.path.exists(p("no")), f"snapshot into a missing directory: {r}")
    check(c.ask({"cmd": "resume"}) == {"ok": True}, "resume")
    wait_count(p("a.txt"), n2 + 3)
    r = c.ask({"cmd": "snapshot", "file": p("snap1"), "end": True})
    check(r and r["ok"] and r["bytes"] > 0, f"snapshot and end: {r}")
    src.wait(timeout=30)
    check(src.returncode == 10, f"the source ends with status 10 ({src.returncode})")
    left = [f for f in os.listdir(w) if ".tmp-" in f]
    check(not left, f"the snapshot was written to a temporary name and renamed ({left})")
    before = counts(p("a.txt"))
    dst = vmrun("--restore", p("snap1"), "--serial", p("b.txt"))
    dst.wait(timeout=60)
    check(dst.returncode == 1, f"the restored guest ends with status 1 ({dst.returncode})")
    continues(before, counts(p("b.txt")), "restore after a control-socket snapshot")

    # --- signals ---
    src = vmrun("--snapshot", p("snap2"), "--mem", "32M", "--serial", p("c.txt"), KERNEL)
    wait_count(p("c.txt"), 3)
    src.send_signal(signal.SIGUSR1)
    end = time.time() + 20
    while time.time() < end and not (os.path.exists(p("snap2")) and os.path.getsize(p("snap2"))):
        time.sleep(0.05)
    n = len(wait_count(p("c.txt"), len(counts(p("c.txt"))[0]) + 3))
    check(src.poll() is None and n > 3, f"SIGUSR1 saves and runs on ({n} counts)")
    size1 = os.path.getsize(p("snap2"))
    src.send_signal(signal.SIGUSR2)
    src.wait(timeout=30)
    check(src.returncode == 10 and os.path.getsize(p("snap2")) > 0,
          f"SIGUSR2 saves and ends with status 10 ({src.returncode}; {size1} bytes)")
    before = counts(p("c.txt"))
    dst = vmrun("--restore", p("snap2"), "--serial", p("d.txt"))
    dst.wait(timeout=60)
    check(dst.returncode == 1, f"restored from the SIGUSR2 snapshot: status {dst.returncode}")
    continues(before, counts(p("d.txt")), "restore after SIGUSR2")

    # --- live migration over TCP on localhost ---
    port = free_port()
    dst = target(port, "--serial", p("f.txt"))
    src = vmrun("--control", p("ctl2"), "--mem", "32M", "--serial", p("e.txt"), KERNEL)
    c = Control(p("ctl2"))
    wait_count(p("e.txt"), 5)
    r = c.ask({"cmd": "migrate", "host": "127.0.0.1", "port": port})
    if r and not r["ok"] and "no dirty-page log" in r["error"]:
        # A backend without a dirty log (our module, for now): no migration.
        print(f"SKIP: live migration: {r['error']}")
        dst.kill()
        dst.wait()
        src.wait(timeout=60)
    else:
        migration(p, r, src, dst)

    # --- bad files ---
    data = open(p("snap1"), "rb").read()
    for name, blob, want in [("truncated", data[: len(data) // 2], "truncated"),
                             ("not a snapshot", b"#!/bin/sh\n" * 10, "not a libvm snapshot"),
                             ("empty", b"", "shorter than a header")]:
        open(p("bad"), "wb").write(blob)
        r = subprocess.run([VMRUN, "--restore", p("bad"), "--serial", p("bad.txt")],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
        ran = os.path.exists(p("bad.txt")) and os.path.getsize(p("bad.txt")) > 0
        check(r.returncode == 126 and want in r.stderr and not ran,
              f"--restore of a {name} file: status {r.returncode}, "
              f"\"{r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ''}\"")

    # --- options that do not go together ---
    for extra in (["--snapshot", p("gdb.snap")], ["--control", p("gdb.sock")]):
        r = subprocess.run([VMRUN, "--gdb", str(free_port())] + extra + [KERNEL],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
        check(r.returncode == 126 and "--gdb with --snapshot or --control" in r.stderr,
              f"--gdb with {extra[0]} is refused: status {r.returncode}, \"{r.stderr.strip()}\"")
    return 1 if failures else 0


status = 1
try:
    status = main()
finally:
    for proc in started:
        if proc.poll() is None:
            print(f"FAIL: {proc.args} still runs: killed")
            proc.kill()
            status = 1
sys.exit(status)
