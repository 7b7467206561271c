#!/bin/sh
# SPDX-License-Identifier: MIT
# Snapshots and live migration of a Linux guest, inside the emulated KVM
# host (scripts/kvmhost: mainline kvm-amd, or our modules with --vmm), on
# the Debian cloud kernel with a busybox initramfs built here.
#
# 1. Snapshot and restore: the guest (2 vCPUs, a virtio disk and NIC)
#    mounts its disk, writes a file, and prints a counter with its uptime
#    and wall clock every half second. vmrun --snapshot gets SIGUSR2 mid-
#    count: it saves the VM and ends. A new vmrun --restore carries on: the
#    count goes on from where it stopped (no reboot), the clocks go on
#    (never back, and at the pace of real time), the file written before
#    the snapshot reads back, a file written after it reaches the disk
#    image, and the guest pings the tap's other end.
# 2. Live migration between two network namespaces joined by a veth pair:
#    a vmrun in the first runs a guest that keeps rewriting 48 MiB (400
#    KiB every 100 ms, which the emulated host's migration outruns) and
#    checks all of it twice a second (memtouch.c); the control socket asks
#    it to migrate to a
#    vmrun --incoming in the second; the source ends only when the target
#    took over (status 12), the guest goes on there, every check of its
#    memory passes, and it powers off (status 0). The migration's figures
#    are printed (MIGRATION lines).
#
# usage: tests/nested/snapshot-linux.sh BUILD_DIR [--vmm]   (exit 0 pass, 1 fail, 77 skip)
set -u
B=$(cd "${1:?usage: $0 BUILD_DIR [--vmm]}" && pwd -P)
SRC=$(cd "$(dirname "$0")/../.." && pwd -P)
KVMHOST_ARGS=
[ "${2:-}" = --vmm ] && KVMHOST_ARGS=--vmm
K=$(ls /boot/vmlinuz-*-cloud-amd64 2>/dev/null | tail -1)
[ -n "$K" ] || { echo "SKIP: no /boot/vmlinuz-*-cloud-amd64"; exit 77; }
V=${K#/boot/vmlinuz-}
M=/usr/lib/modules/$V/kernel
for p in cpio python3 gcc; do
	command -v $p >/dev/null || { echo "SKIP: $p missing"; exit 77; }
done
[ -e /usr/lib/x86_64-linux-gnu/libc.a ] || { echo "SKIP: no static libc (libc6-dev)"; exit 77; }
why=$("$SRC/scripts/kvmhost" --check 2>&1) || { echo "SKIP: $why"; exit 77; }
W=$(mktemp -d /tmp/libvm-snaplinux-XXXXXX)
W=$(cd "$W" && pwd -P)
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/inner/bin" "$W/inner/mod" "$W/guest"
cp /bin/busybox "$W/inner/bin/"
gcc -static -O2 -o "$W/inner/bin/memtouch" "$SRC/tests/nested/memtouch.c" || exit 1
for m in drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_modern_dev \
	 drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci drivers/block/virtio_blk \
	 net/core/failover drivers/net/net_failover drivers/net/virtio_net; do
	cp "$M/$m.ko" "$W/inner/mod/"
done
cat > "$W/inner/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /mnt
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
echo "INNER-BOOTED cpus=$(grep -c ^processor /proc/cpuinfo) clocksource=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
if grep -q mode=memtouch /proc/cmdline; then
	/bin/memtouch 48 100 100
	echo "INNER-MEMTOUCH-STATUS $?"
	poweroff -f
fi
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk \
	 failover net_failover virtio_net; do
	insmod /mod/$m.ko || echo "INNER: insmod $m failed"
done
sleep 1
mount /dev/vda /mnt && echo "WRITTEN-BEFORE-THE-SNAPSHOT" > /mnt/before.txt && sync &&
	echo "INNER-WROTE-BEFORE"
ip link set eth0 up; ip addr add 10.0.0.2/24 dev eth0
echo "INNER-READY"
i=0
while [ $i -lt 40 ]; do
	i=$((i + 1))
	read up _ < /proc/uptime
	echo "TICK $i $up $(date +%s)"
	sleep 0.5
done
echo "INNER-FILE $(cat /mnt/before.txt)"
echo "WRITTEN-AFTER-THE-RESTORE" > /mnt/after.txt && sync && echo "INNER-WROTE-AFTER"
umount /mnt
ping -c 3 -W 5 10.0.0.1 >/dev/null && echo "INNER-PING-OK"
echo INNER-DONE
poweroff -f
EOF
chmod +x "$W/inner/init"
(cd "$W/inner" && find . | cpio -o -H newc 2>/dev/null | gzip) > "$W/guest/inner.cpio.gz"
cp "$K" "$W/guest/vmlinuz"

cat > "$W/outer.sh" <<'EOF'
#!/bin/sh
W=$1
B=$2
G=$W/guest
VMRUN=$B/examples/vmrun/vmrun
cd /tmp || exit 1
# A KVM without an in-kernel irqchip (main's /dev/vmm) runs no 2-vCPU
# Linux guest: nothing here can run.
"$VMRUN" --smp 2 --timeout 30 "$B/tests/kernels/exitdev.elf" >/dev/null 2>/tmp/probe.err
if grep -q "need.*irqchip" /tmp/probe.err; then
	echo "OUTER-SKIP: $(head -1 /tmp/probe.err)"
	echo OUTER-DONE
	exit 0
fi
modprobe tun
modprobe veth
dd if=/dev/zero of=/tmp/disk.img bs=1k count=8192 2>/dev/null
busybox mke2fs -q -F /tmp/disk.img >/dev/null 2>&1 || echo "OUTER: mke2fs failed"
tap_up() {	# tap_up [NETNS]: give tap0, once vmrun made it, the address the guest pings
	(for i in $(seq 1 600); do ${1:+ip netns exec $1} [ -e /sys/class/net/tap0 ] && break; sleep 0.1; done
	 ${1:+ip netns exec $1} busybox ip link set tap0 up
	 ${1:+ip netns exec $1} busybox ip addr add 10.0.0.1/24 dev tap0) &
}
wait_for() {	# wait_for FILE PATTERN SECONDS
	i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt $(($3 * 10)) ] && return 1
		sleep 0.1
	done
}

# --- 1. snapshot and restore ---
tap_up
"$VMRUN" -m 256M --smp 2 --kernel $G/vmlinuz --initrd $G/inner.cpio.gz --disk /tmp/disk.img \
	--net tap=tap0 --snapshot /tmp/vm.snap --timeout 300 --serial /tmp/before.log </dev/null \
	2>/tmp/before.err &
pid=$!
if wait_for /tmp/before.log "^TICK 8 " 240; then
	kill -USR2 $pid
else
	echo "OUTER: the guest did not reach TICK 8"
	kill $pid
fi
wait $pid
echo "SNAPSHOT-STATUS $?"
cat /tmp/before.err
ls -l /tmp/vm.snap | awk '{print "SNAPSHOT-SIZE", $5}'
tap_up
read t0 _ < /proc/uptime
"$VMRUN" --restore /tmp/vm.snap --timeout 300 --serial /tmp/after.log </dev/null 2>/tmp/after.err
echo "RESTORE-STATUS $?"
read t1 _ < /proc/uptime
echo "RESTORE-RUN-TIME $t0 $t1"
cat /tmp/after.err
sed 's/^/BEFORE: /' /tmp/before.log | grep -E "INNER|TICK"
sed 's/^/AFTER: /' /tmp/after.log | grep -E "INNER|TICK|Call Trace|BUG|panic|rcu"
grep -q WRITTEN-AFTER-THE-RESTORE /tmp/disk.img && echo "IMAGE-HAS-AFTER-FILE"

# --- 2. live migration between two network namespaces ---
echo "OUTER: migration part at $(cut -d' ' -f1 /proc/uptime) s"
ip netns add mig_a
ip netns add mig_b
ip link add va type veth peer name vb
ip link set va netns mig_a
ip link set vb netns mig_b
ip netns exec mig_a ip addr add 10.9.0.1/24 dev va
ip netns exec mig_b ip addr add 10.9.0.2/24 dev vb
ip netns exec mig_a ip link set va up
ip netns exec mig_b ip link set vb up
ip netns exec mig_a ip link set lo up
ip netns exec mig_b ip link set lo up
ip netns exec mig_a busybox ping -c 1 -W 5 10.9.0.2 >/dev/null && echo "VETH-OK"
ip netns exec mig_b "$VMRUN" --incoming 10.9.0.2:4444 --timeout 400 --serial /tmp/target.log \
	</dev/null 2>/tmp/target.err &
tpid=$!
wait_for /tmp/target.err "waiting for a migration" 60
ip netns exec mig_a "$VMRUN" -m 256M --smp 2 --kernel $G/vmlinuz --initrd $G/inner.cpio.gz \
	--append "console=ttyS0 panic=-1 mode=memtouch" --control /tmp/mig.sock --timeout 400 \
	--serial /tmp/source.log </dev/null 2>/tmp/source.err &
spid=$!
# Progress, for a run that the emulated host's timeout cuts short.
(while sleep 30; do
	echo "OUTER: at $(cut -d' ' -f1 /proc/uptime) s: source '$(grep -a MEMTOUCH /tmp/source.log | tail -1 | tr -d '\r')'," \
	     "target '$(grep -a MEMTOUCH /tmp/target.log 2>/dev/null | tail -1 | tr -d '\r')'"
done) &
ppid=$!
if wait_for /tmp/source.log "MEMTOUCH t=3 " 300; then
	echo "OUTER: migrating at $(cut -d' ' -f1 /proc/uptime) s"
	python3 - <<'PY'
import json, socket
s = socket.socket(socket.AF_UNIX)
s.settimeout(900)
s.connect("/tmp/mig.sock")
f = s.makefile("rw")
f.write(json.dumps({"cmd": "migrate", "host": "10.9.0.2", "port": 4444}) + "\n")
f.flush()
r = json.loads(f.readline())
print("MIGRATE-REPLY", json.dumps(r))
if r.get("ok"):
    print("MIGRATION total %.1f ms, downtime %.1f ms, %d bytes, %d pages (%d after the pause), %d rounds"
          % (r["total_ms"], r["downtime_ms"], r["bytes"], r["pages"], r["final_pages"], r["rounds"]))
else:
    # The source runs on and the target waits: end both.
    f.write(json.dumps({"cmd": "quit"}) + "\n")
    f.flush()
    f.readline()
    raise SystemExit(1)
PY
	[ $? -eq 0 ] || kill $tpid
else
	echo "OUTER: the migration's guest did not start memtouch"
fi
wait $spid
echo "SOURCE-STATUS $? at $(cut -d' ' -f1 /proc/uptime) s"
wait $tpid
echo "TARGET-STATUS $?"
kill $ppid
cat /tmp/source.err /tmp/target.err
sed 's/^/SOURCE: /' /tmp/source.log | grep -E "INNER|MEMTOUCH"
sed 's/^/TARGET: /' /tmp/target.log | grep -E "INNER|MEMTOUCH|Call Trace|BUG|panic"
echo OUTER-DONE
EOF
"$SRC/scripts/kvmhost" $KVMHOST_ARGS --kernel "$V" --smp 2 --mem 2048 --timeout 1800 \
	--rw "$W" -- sh "$W/outer.sh" "$W" "$B" </dev/null > "$W/serial.log" 2>&1
tr -d '\r' < "$W/serial.log" > "$W/log"
grep -E "^(SNAPSHOT|RESTORE|BEFORE|AFTER|IMAGE|VETH|MIGRATE|MIGRATION|SOURCE|TARGET|OUTER|vmrun)" "$W/log"

if grep -q "^OUTER-SKIP: " "$W/log"; then
	echo "SKIP: $(grep "^OUTER-SKIP: " "$W/log" | head -1 | cut -d' ' -f2-)"
	exit 77
fi
fail=0
expect() {	# expect PATTERN [WHAT]: one line of the log matches
	if grep -qE "$1" "$W/log"; then echo "PASS: ${2:-$1}"; else echo "FAIL: ${2:-$1}"; fail=1; fi
}
check() {	# check COND WHAT
	if [ "$1" = 1 ]; then echo "PASS: $2"; else echo "FAIL: $2"; fail=1; fi
}
expect "^SNAPSHOT-STATUS 10$" "SIGUSR2 saved the VM and ended vmrun (status 10)"
expect "^BEFORE: INNER-WROTE-BEFORE" "the guest wrote a file before the snapshot"
expect "^RESTORE-STATUS 0$" "the restored guest powered off normally (status 0)"
expect "^AFTER: INNER-FILE WRITTEN-BEFORE-THE-SNAPSHOT" "the file written before the snapshot reads back"
expect "^AFTER: INNER-WROTE-AFTER" "the restored guest writes its disk"
expect "^IMAGE-HAS-AFTER-FILE" "what it wrote after the restore is in the disk image"
expect "^AFTER: INNER-PING-OK" "the restored guest's network works (ping through the new vmrun's tap)"
if grep -qE "^AFTER: .*(Call Trace|BUG|panic|rcu.*stall)" "$W/log"; then
	check 0 "the restored guest's kernel log has no trace, BUG, panic or RCU stall"
else
	check 1 "the restored guest's kernel log has no trace, BUG, panic or RCU stall"
fi
# The counter and the clocks: the restored guest goes on, no reboot, no
# time going back, and half a second of sleep takes about half a second.
python3 - "$W/log" <<'PY' || fail=1
import re, sys
before, after = [], []
for line in open(sys.argv[1]):
    m = re.match(r"^(BEFORE|AFTER): TICK (\d+) ([0-9.]+) (\d+)", line)
    if m:
        (before if m[1] == "BEFORE" else after).append((int(m[2]), float(m[3]), int(m[4])))
ok = True
def check(cond, what):
    global ok
    print(("PASS: " if cond else "FAIL: ") + what)
    ok = ok and cond
check(before and after, f"ticks before ({len(before)}) and after ({len(after)}) the restore")
if before and after:
    check(not any("INNER-BOOTED" in l for l in open(sys.argv[1]) if l.startswith("AFTER:")),
          "no boot after the restore: the guest carried on")
    check(after[0][0] in (before[-1][0] + 1, before[-1][0] + 2) and after[-1][0] == 40
          and [t[0] for t in after] == list(range(after[0][0], after[0][0] + len(after))),
          f"the count goes on: {before[0][0]}..{before[-1][0]}, then {after[0][0]}..{after[-1][0]}")
    check(after[0][1] >= before[-1][1] and after[0][2] >= before[-1][2],
          f"the clocks do not go back: uptime {before[-1][1]} -> {after[0][1]}, "
          f"wall clock {before[-1][2]} -> {after[0][2]}")
    steps = [b[1] - a[1] for a, b in zip(after, after[1:])]
    rate = (after[-1][1] - after[0][1]) / (len(after) - 1) if len(after) > 1 else 0
    check(0.4 <= rate <= 3 and max(steps) < 10,
          f"the clock runs on after the restore: {rate:.2f} s of uptime per 0.5 s sleep "
          f"(longest {max(steps):.2f} s)")
sys.exit(0 if ok else 1)
PY
expect "^VETH-OK" "two network namespaces joined by a veth pair"
if grep -q "^MIGRATE-REPLY .*has no dirty-page log" "$W/log"; then
	# A backend with the irqchip but no dirty log yet: no live migration.
	echo "SKIP: live migration: $(grep -o "[^(]*has no dirty-page log" "$W/log" | head -1)"
	[ "$fail" -ne 0 ] && tail -n 60 "$W/log"
	exit $fail
fi
expect "^MIGRATE-REPLY .*\"ok\": true" "the control socket's migrate succeeded"
expect "^SOURCE-STATUS 12( |$)" "the source ended only once the target took over (status 12)"
expect "^TARGET-STATUS 0$" "the guest powered off on the target (status 0)"
expect "^TARGET: MEMTOUCH t=" "memtouch went on running on the target"
expect "^TARGET: MEMTOUCH-DONE ok" "every check of the guest's memory after the move passed"
if grep -q "MEMTOUCH-BAD" "$W/log"; then
	check 0 "no memory check failed"
fi
if [ "$fail" -ne 0 ]; then
	echo "--- the last 60 lines of the emulated host's output:"
	tail -n 60 "$W/log"
fi
exit $fail
