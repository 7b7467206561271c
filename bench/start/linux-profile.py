#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Boot-time profile, side by side: where Linux spends its time under
vmrun and under QEMU -M pc in the same KVM.

It runs bench/start/linux-boot.sh with "initcall_debug libvm_profile" on
the kernel command line (the initramfs's /init then dumps the kernel log
after its marker), vmrun and pc only, keeping each boot's console, and
compares the logs: the initcalls whose durations differ most (median over
the rounds), the time at which each boot milestone was reached, and the
longest silences in vmrun's log (what the kernel waited for).

usage: bench/start/linux-profile.py [--rounds N] [--logs DIR] VMRUN
       bench/start/linux-profile.py --parse DIR     (logs from an earlier run)
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile

LINE = re.compile(r"^\[\s*(\d+\.\d+)\]\s(.*)$")
INITCALL = re.compile(r"initcall (\S+?)(?:\+0x[0-9a-f]+/0x[0-9a-f]+)?(?: \[\S+\])? returned -?\d+ after (\d+) usecs")
MILESTONES = [
    ("hypervisor", r"Hypervisor detected|Booting paravirtualized kernel"),
    ("tsc calibrated", r"tsc: (Detected|Fast TSC calibration|Unable)"),
    ("delay loop", r"Calibrating delay|BogoMIPS \(lpj"),
    ("ioapic timer", r"IO-APIC.*timer|8254 timer|ENABLING IO-APIC"),
    ("smp up", r"smp: Brought up"),
    ("acpi interpreter", r"ACPI: Interpreter enabled"),
    ("pci root", r"PCI host bridge|PCI: Using"),
    ("clocksource switch", r"clocksource: Switched to clocksource"),
    ("i8042", r"i8042:"),
    ("serio kbd", r"serio: i8042 KBD"),
    ("serial 8250", r"Serial: 8250/16550|ttyS0 at"),
    ("freeing init", r"Freeing unused kernel"),
    ("run init", r"Run /init"),
]
MESSAGES = [
    "Booting paravirtualized kernel on bare hardware", "Fast TSC calibration failed",
    "8254 timer not connected to IO-APIC", "Unable to calibrate against PIT",
    "Marking TSC unstable", "No PS/2 controller found",
]


def parse(path):
    """(printk lines as (t, text), {initcall: usecs}) of one console log."""
    lines, calls = [], {}
    with open(path, errors="replace") as f:
        for raw in f:
            m = LINE.match(raw.strip())
            if not m:
                continue
            t, text = float(m.group(1)), m.group(2)
            lines.append((t, text))
            c = INITCALL.search(text)
            if c:
                calls[c.group(1)] = int(c.group(2))
    # The console shows the early lines once and the dmesg dump again.
    seen, uniq = set(), []
    for t, text in lines:
        if (t, text) not in seen:
            seen.add((t, text))
            uniq.append((t, text))
    uniq.sort(key=lambda x: x[0])
    return uniq, calls


def report(logdir):
    runs = {}
    for name in sorted(os.listdir(logdir)):
        m = re.match(r"(vmrun|pc|microvm|kvmtool)-(\d+)\.log$", name)
        if m:
            runs.setdefault(m.group(1), []).append(parse(os.path.join(logdir, name)))
    if "vmrun" not in runs or "pc" not in runs:
        sys.exit("linux-profile: need vmrun-N.log and pc-N.log in " + logdir)
    med = {}
    for side, rs in runs.items():
        names = set().union(*(c for _, c in rs))
        med[side] = {n: statistics.median(c.get(n, 0) for _, c in rs) for n in names}
    diff = sorted(set(med["vmrun"]) | set(med["pc"]),
                  key=lambda n: -abs(med["vmrun"].get(n, 0) - med["pc"].get(n, 0)))
    print("Initcalls whose time differs most (median usecs over %d/%d boots):"
          % (len(runs["vmrun"]), len(runs["pc"])))
    print("  %-44s %10s %10s %10s" % ("initcall", "vmrun", "qemu-pc", "diff"))
    for n in diff[:20]:
        a, b = med["vmrun"].get(n, 0), med["pc"].get(n, 0)
        print("  %-44s %10d %10d %+10d" % (n[:44], a, b, a - b))
    tot = {s: sum(m.values()) for s, m in med.items()}
    print("  %-44s %10d %10d %+10d" % ("(all initcalls)", tot["vmrun"], tot["pc"],
                                       tot["vmrun"] - tot["pc"]))
    print("\nMilestones (guest clock, s; first boot of each):")
    print("  %-20s %10s %10s" % ("", "vmrun", "qemu-pc"))
    for label, rx in MILESTONES:
        row = []
        for side in ("vmrun", "pc"):
            lines = runs[side][0][0]
            t = next((t for t, text in lines if re.search(rx, text)), None)
            row.append("%10.3f" % t if t is not None else "%10s" % "-")
        print("  %-20s %s %s" % (label, row[0], row[1]))
    for side in ("vmrun", "pc"):
        lines = runs[side][0][0]
        gaps = sorted(((lines[i + 1][0] - lines[i][0], lines[i][1]) for i in range(len(lines) - 1)
                       if "initcall" not in lines[i][1] or "returned" in lines[i][1]),
                      reverse=True)[:8]
        print("\nLongest silences under %s (s, the line before):" % side)
        for g, text in gaps:
            print("  %7.3f  %s" % (g, text[:100]))
    print("\nIssue 15's messages in the logs (vmrun / qemu-pc boots showing them):")
    for msg in MESSAGES:
        c = {s: sum(any(msg in text for _, text in r[0]) for r in runs[s]) for s in ("vmrun", "pc")}
        print("  %-50s %d/%d  %d/%d" % (msg, c["vmrun"], len(runs["vmrun"]), c["pc"],
                                         len(runs["pc"])))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--logs")
    ap.add_argument("--parse")
    ap.add_argument("vmrun", nargs="?")
    a = ap.parse_args()
    if a.parse:
        report(a.parse)
        return
    if not a.vmrun:
        ap.error("VMRUN is needed")
    logdir = a.logs or tempfile.mkdtemp(prefix="linux-profile-")
    os.makedirs(logdir, exist_ok=True)
    here = os.path.dirname(os.path.abspath(__file__))
    r = subprocess.run(["bash", os.path.join(here, "linux-boot.sh"), "--rounds", str(a.rounds),
                        "--sides", "vmrun pc", "--append", "initcall_debug libvm_profile",
                        "--profile", logdir, a.vmrun])
    if r.returncode:
        sys.exit(r.returncode)
    print("\nlogs in", logdir)
    report(logdir)


if __name__ == "__main__":
    main()
