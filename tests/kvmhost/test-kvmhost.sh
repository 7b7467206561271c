#!/bin/bash
# SPDX-License-Identifier: MIT
#
# scripts/kvmhost does what docs/kvmhost.md promises:
# - the command runs with a KVM (/dev/kvm, or /dev/vmm with --vmm is the
#   nested tier's business), in the caller's directory, environment and
#   user; its standard output and error come back apart; its status is
#   kvmhost's;
# - --rw directories are written through, everything else only in the
#   emulated host (this machine's /tmp is untouched);
# - --timeout ends it with 124; SIGTERM to kvmhost ends it with 143;
#   --stall ends an emulated host that stopped (QEMU stopped) with 125;
# - every run leaves no process and no work directory behind (after a
#   SIGKILL: no process, and the next run removes the directory);
# - --probe and --check answer; bad options are refused with 125.
# TAP output. Exit 77 where kvmhost cannot run (it says why).
set -u
K=$(cd "$(dirname "$0")/../.." && pwd -P)/scripts/kvmhost
T=$(mktemp -d /tmp/kvmhost-test.XXXXXX)
export TMPDIR=$T/tmp     # kvmhost's work directories go here, to be counted
mkdir -p "$TMPDIR" "$T/rw"
trap 'rm -rf "$T"' EXIT
n=0
fails=0
ok() {	# ok COND-STATUS NAME
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fails=$((fails + 1)); fi
}
check() {	# check NAME CMD...: ok when CMD succeeds
	local name=$1
	shift
	"$@" >/dev/null 2>&1
	ok $? "$name"
}
leftovers() {	# nothing of kvmhost's left: no work directory, no process using it
	[ -z "$(ls -A "$TMPDIR")" ] && ! pgrep -f "$TMPDIR/kvmhost" >/dev/null
}

why=$("$K" --check 2>&1) || { echo "1..0 # SKIP $why"; exit 77; }

# --- one run: output, status, cwd, env, user, --rw, the overlay ---
marker=/tmp/kvmhost-test-marker.$$
rm -f "$marker"
cd "$T/rw" || exit 1
KVMHOST_TEST_VAR='a value with spaces' "$K" --rw "$T/rw" -- bash -c '
	echo "out: $(pwd) $KVMHOST_TEST_VAR uid=$(id -u)"
	echo "err: to stderr" >&2
	[ -c /dev/kvm ] && echo "out: /dev/kvm is there"
	echo written > through.txt
	echo only-inside > '"$marker"'
	exit 7' > "$T/out" 2> "$T/err"
st=$?
cd / || exit 1
ok $(( st != 7 )) "the command's status comes back (7: $st)"
check "stdout: the caller's directory, environment and user" \
	grep -qx "out: $T/rw a value with spaces uid=$(id -u)" "$T/out"
check "stdout: the command had /dev/kvm" grep -qx "out: /dev/kvm is there" "$T/out"
check "stderr comes back apart" grep -qx "err: to stderr" "$T/err"
ok $(grep -c "err:" "$T/out") "stdout holds nothing of stderr"
check "a --rw directory is written through" grep -qx written "$T/rw/through.txt"
ok $([ ! -e "$marker" ]; echo $?) "a write elsewhere stays in the emulated host ($marker)"
check "nothing is left behind after a run" leftovers

# --- the time limit and signals ---
"$K" --timeout 20 -- sleep 600 > /dev/null 2> "$T/err"
st=$?
ok $(( st != 124 )) "--timeout ends it with 124 ($st)"
check "it says so" grep -q "timed out after 20 s" "$T/err"
check "nothing is left behind after a timeout" leftovers

# --- the stall watch: an emulated host that stops (QEMU stopped, as a
# QEMU TCG freeze stops it) is ended with 125 and says so ---
"$K" --stall 15 -- sleep 600 > /dev/null 2> "$T/err" &
pid=$!
q=
for _ in $(seq 600); do
	q=$(pgrep -f "^qemu-system-x86_64 .*$TMPDIR/kvmhost") && break
	sleep 0.1
done
sleep 5	# booting or running by now
if [ -n "$q" ]; then kill -STOP $q; else kill $pid; fi	# no QEMU found: fail now
wait $pid
st=$?
ok $(( st != 125 )) "--stall ends a frozen emulated host with 125 ($st)"
check "it says the emulated host froze" grep -q "the emulated host froze: no heartbeat" "$T/err"
sleep 1
check "nothing is left behind after a freeze" leftovers

kill_running() {	# kill_running SIGNAL [OPTION]: start a long command, send SIGNAL; $st
	"$K" ${2:+"$2"} -- sleep 600 > /dev/null 2>&1 &
	local pid=$!
	for _ in $(seq 600); do
		ls "$TMPDIR"/kvmhost.*/console.log >/dev/null 2>&1 && break
		sleep 0.1
	done
	sleep 5	# the emulated host is booting or running by now
	kill -"$1" $pid
	wait $pid 2>/dev/null
	st=$?
}
kill_running TERM
ok $(( st != 143 )) "SIGTERM ends it with 143 ($st)"
sleep 1
check "nothing is left behind after SIGTERM" leftovers

# SIGKILL cannot be trapped: QEMU and timeout die with kvmhost (parent-death
# signals), virtiofsd with QEMU, -v's console copy with kvmhost (tail --pid);
# the next run removes the directory.
kill_running KILL -v
for _ in $(seq 50); do
	pgrep -f "$TMPDIR/kvmhost" >/dev/null || break
	sleep 0.2
done
ok $(pgrep -f "$TMPDIR/kvmhost" >/dev/null; echo $(( ! $? ))) "after SIGKILL no QEMU, virtiofsd or console copy (-v) of it runs on"
"$K" -- true
check "the next run removes what a killed one left" leftovers

# --- the other modes ---
LIBVM_DEVICE=/nonexistent "$K" --probe > "$T/out" 2>&1
st=$?
ok $(( st != 1 )) "--probe says 1 for a missing device ($st)"
check "--probe says why" grep -q "/nonexistent does not exist" "$T/out"
"$K" --frobnicate -- true > /dev/null 2> "$T/err"
st=$?
ok $(( st != 125 )) "an unknown option is refused with 125 ($st)"
check "--check answers 0 here" "$K" --check
check "nothing is left behind at all" leftovers

echo "1..$n"
[ $fails = 0 ]
