#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /dev/vmm (or /dev/kvm) under attack, on a host where the module may
# break: the ioctl-sequence generator, then the guest-side generator, then
# the checks that matter: the kernel log has no WARN/BUG/Oops, the host
# still answers (a 100 ms sleep takes under 2 s), and (for our modules)
# unloading reports no live objects. Runs inside the emulated KVM host
# (scripts/kvmhost, or the nested tier's suite.sh). Prints PASS:/FAIL:
# lines; exit 1 on any FAIL.
#
# usage: attack.sh DEVICE BIN_DIR OUT_DIR [SEED] [CALLS] [SECONDS] [PROGRAMS]
#   BIN_DIR holds ioctlfuzz and guestfuzz; OUT_DIR gets the guest
#   generator's exit log, guest-DEVICE.txt, for guestfuzz compare.
#   SEED 1, CALLS 200000, SECONDS 60, PROGRAMS 200 by default.
#   ATTACK_UNLOAD=1: rmmod vmm_amd and vmm at the end (our modules only).
set -u
dev=$1 bin=$2 out=$3
seed=${4:-1} calls=${5:-200000} secs=${6:-60} progs=${7:-200}
name=$(basename "$dev")
fail=0
pass() { echo "PASS: $*"; }
flunk() { echo "FAIL: $*"; fail=1; }

dmesg_mark=$(dmesg | wc -l)

if "$bin/ioctlfuzz" "$dev" -s "$seed" -n "$calls" -t "$secs" -j 2 -v > "$out/ioctl-$name.txt"; then
	pass "ioctlfuzz-$name: $(tail -n 1 "$out/ioctl-$name.txt")"
else
	flunk "ioctlfuzz-$name: exit $? $(tail -n 3 "$out/ioctl-$name.txt" | tr '\n' ' ')"
fi
sed 's/^/# /' "$out/ioctl-$name.txt"

if "$bin/guestfuzz" run "$dev" "$seed" "$progs" "$out/guest-$name.txt" > "$out/guestrun-$name.txt" 2>&1; then
	pass "guestfuzz-$name: $(tail -n 1 "$out/guestrun-$name.txt")"
else
	flunk "guestfuzz-$name: $(tail -n 3 "$out/guestrun-$name.txt" | tr '\n' ' ')"
fi

# The host answers: a 100 ms sleep takes less than a second.
t0=$(cut -d' ' -f1 /proc/uptime)
sleep 0.1
t1=$(cut -d' ' -f1 /proc/uptime)
if awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a < 2.0) }'; then
	pass "host-responsive-$name: a 100 ms sleep took $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s"
else
	flunk "host-responsive-$name: a 100 ms sleep took $t0 .. $t1"
fi

if [ "${ATTACK_UNLOAD:-0}" = 1 ]; then
	if rmmod vmm_amd && rmmod vmm; then
		msg=$(dmesg | tail -n 20 | grep -E "vmm: (unloaded|leak)" | tail -n 1)
		case $msg in
		*"no objects left"*) pass "vmm-no-live-objects: $msg" ;;
		*) flunk "vmm-no-live-objects: ${msg:-no unload message}" ;;
		esac
	else
		flunk "vmm-no-live-objects: rmmod failed (still in use?)"
	fi
fi

dmesg | tail -n +"$((dmesg_mark + 1))" > "$out/dmesg-$name.txt"
if grep -E "WARNING|BUG|Oops|general protection|Call Trace|refcount_t|leak:|soft lockup|hung task|rcu.*stall" \
	"$out/dmesg-$name.txt" > "$out/dmesg-bad-$name.txt"; then
	flunk "kernel-log-clean-$name: $(head -n 3 "$out/dmesg-bad-$name.txt" | tr '\n' ' ')"
	tail -n 60 "$out/dmesg-$name.txt" | sed 's/^/# /'
else
	pass "kernel-log-clean-$name"
fi
exit $fail
