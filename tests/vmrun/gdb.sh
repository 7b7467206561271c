#!/bin/sh
# SPDX-License-Identifier: MIT
# vmrun's GDB stub with Debian's gdb in batch mode, on the debug-info test
# kernel (tests/kernels/gdb.c), 2 vCPUs:
#  1. vmrun --gdb PORT --gdb-wait: gdb attaches at the first instruction,
#     lists both vCPUs as threads, reads gdb_counter by its address
#     (0x1234), steps three instructions, and lets the kernel run to its
#     exit: gdb sees the exit code, vmrun ends with the kernel's status 1.
#  2. The same with a breakpoint in gdb_target (a debug register): gdb
#     continues to it twice, reads gdb_counter (0x1234, then 0x1235) and
#     the argument, steps, and lets the kernel run to its exit.
#  3. vmrun --gdb PORT without waiting, on a kernel that spins: gdb attaches
#     to the running guest (the stub stops it: SIGINT), reads RIP, and
#     kills it: vmrun ends with status 130.
# With --traps instead: with the four debug registers taken by breakpoints
# that never hit, a fifth breakpoint in gdb_target is an INT3 and stops
# there; a write watchpoint on gdb_watched stops the kernel after it
# writes 0x5678.
# Where the KVM is known not to deliver something (LIMITS, the host debug
# test's --limits: QEMU TCG fires no DR0-3 breakpoint of a nested guest,
# neither TCG nor kvm_pvm delivers INT3 and data breakpoint traps), that
# part skips with the reason (docs/debugging.md), and the test exits 77
# when nothing at all could run.
# Usage: gdb.sh [--traps] LIMITS VMRUN GDB_KERNEL SPIN_KERNEL. Skips (77)
# without gdb or a usable KVM device.
set -u
traps=false
[ "$1" = --traps ] && { traps=true; shift; }
limits=$1 vmrun=$2 kernel=$3 spin=$4
command -v gdb >/dev/null 2>&1 || { echo "SKIP: gdb is not installed (Debian: gdb)"; exit 77; }
dev=${LIBVM_DEVICE:-/dev/kvm}
if [ ! -r "$dev" ] || [ ! -w "$dev" ]; then
	echo "SKIP: $dev is not usable by this user"
	exit 77
fi
caps=$("$limits" --limits)
hw=$(printf '%s\n' "$caps" | sed -n 's/^hw_breakpoints=//p')
trap_caps=$(printf '%s\n' "$caps" | sed -n 's/^traps=//p')
if $traps && [ "$trap_caps" != yes ]; then
	echo "SKIP: INT3 breakpoints and watchpoints: ${trap_caps#no: }"
	exit 77
fi
tmp=$(mktemp -d)
vm=
trap 'kill $vm 2>/dev/null; rm -rf "$tmp"' EXIT
# meson's timeout (SIGTERM) or Ctrl-C: out through the EXIT trap, so that
# no vmrun stays behind holding the KVM
trap 'exit 143' TERM
trap 'exit 130' INT
fail=0
check() {
	if grep -qE -- "$2" "$tmp/$1"; then
		echo "PASS: $3"
	else
		echo "FAIL: $3 (no '$2' in $1)"
		fail=1
	fi
}

# vmrun's status once gdb is done with it. A vmrun still there 60 s later
# (say gdb never attached, and it waits for one) is killed: status 143.
reap() {
	for _ in $(seq 1 600); do
		kill -0 "$vm" 2>/dev/null || break
		sleep 0.1
	done
	kill "$vm" 2>/dev/null
	wait "$vm"
}

# Start vmrun with a stub on a free port: "waiting for gdb" (--gdb-wait) or
# running; retries another port when the one picked is taken.
start() {
	for try in 1 2 3 4 5; do
		port=$((20000 + ($$ * 7 + try * 1013) % 40000))
		"$vmrun" --gdb "$port" "$@" > "$tmp/vmrun.out" 2>&1 &
		vm=$!
		for _ in $(seq 1 600); do
			if grep -q "in use" "$tmp/vmrun.out"; then
				break
			fi
			# Listening: the stub says so with --gdb-wait; without, the
			# port answers.
			if grep -q "waiting for gdb" "$tmp/vmrun.out" ||
			   (ss -ltn 2>/dev/null | grep -q ":$port ") ; then
				return 0
			fi
			kill -0 "$vm" 2>/dev/null || break
			sleep 0.1
		done
		kill "$vm" 2>/dev/null; wait "$vm" 2>/dev/null
		grep -q "in use" "$tmp/vmrun.out" || break
	done
	echo "FAIL: vmrun did not start its stub:"; cat "$tmp/vmrun.out"
	exit 1
}

if $traps; then
	start --gdb-wait --timeout 300 "$kernel"
	timeout 300 gdb -batch -nx \
		-ex "set confirm off" \
		-ex "target remote :$port" \
		-ex "break *0x10" -ex "break *0x20" -ex "break *0x30" -ex "break *0x40" \
		-ex "break gdb_target" \
		-ex "continue" \
		-ex "printf \"counter=0x%x\\n\", gdb_counter" \
		-ex "delete" \
		-ex "watch gdb_watched" \
		-ex "continue" \
		-ex "delete" \
		-ex "continue" \
		"$kernel" > "$tmp/gdbw.out" 2>&1
	reap
	status=$?
	cat "$tmp/gdbw.out"
	check gdbw.out "Breakpoint 5, .*gdb_target" "the fifth breakpoint (an INT3) stops in gdb_target"
	check gdbw.out "counter=0x1234" "before the first call's work"
	check gdbw.out "atchpoint 6: gdb_watched" "a write watchpoint on gdb_watched"
	check gdbw.out "New value = 22136" "stops after the write of 0x5678"
	check gdbw.out "exited with code 01" "then runs to the exit"
	[ "$status" -eq 1 ] || { echo "FAIL: vmrun status $status, not 1"; fail=1; }
	exit $fail
fi

# 1. Threads, memory, steps, the exit: on every host.
start --gdb-wait --smp 2 --timeout 300 "$kernel"
timeout 300 gdb -batch -nx \
	-ex "set confirm off" \
	-ex "target remote :$port" \
	-ex "info threads" \
	-ex "printf \"counter=0x%x\\n\", gdb_counter" \
	-ex "set \$before = \$pc" \
	-ex "stepi" -ex "stepi" -ex "stepi" \
	-ex "printf \"stepped=%d\\n\", \$pc != \$before" \
	-ex "continue" \
	"$kernel" > "$tmp/gdb0.out" 2>&1
reap
status=$?
cat "$tmp/gdb0.out"
check gdb0.out "Thread 2 " "both vCPUs are threads"
check gdb0.out "counter=0x1234" "gdb reads gdb_counter by its address (0x1234)"
check gdb0.out "stepped=1" "three single steps move RIP"
check gdb0.out "exited with code 01" "gdb sees the kernel's exit status"
if [ "$status" -eq 1 ]; then
	echo "PASS: vmrun ends with the kernel's status 1"
else
	echo "FAIL: vmrun ended with status $status, not 1:"; cat "$tmp/vmrun.out"; fail=1
fi

# 2. A breakpoint: where DR0-3 breakpoints fire.
if [ "$hw" != yes ]; then
	echo "SKIP: breakpoints in debug registers: ${hw#no: }"
else
start --gdb-wait --smp 2 --timeout 300 "$kernel"
timeout 300 gdb -batch -nx \
	-ex "set confirm off" \
	-ex "target remote :$port" \
	-ex "break gdb_target" \
	-ex "continue" \
	-ex "printf \"counter=0x%x\\n\", gdb_counter" \
	-ex "printf \"n=%d\\n\", \$rdi" \
	-ex "continue" \
	-ex "printf \"counter=0x%x\\n\", gdb_counter" \
	-ex "set \$before = \$pc" \
	-ex "stepi" \
	-ex "printf \"stepped=%d\\n\", \$pc != \$before" \
	-ex "delete" \
	-ex "continue" \
	"$kernel" > "$tmp/gdb1.out" 2>&1
reap
status=$?
cat "$tmp/gdb1.out"
check gdb1.out "Breakpoint 1, .*gdb_target" "gdb stops at the breakpoint in gdb_target"
check gdb1.out "counter=0x1234" "it reads gdb_counter there (0x1234)"
check gdb1.out "n=1" "and the argument in RDI (1)"
check gdb1.out "counter=0x1235" "the second stop sees the first call's work (0x1235)"
check gdb1.out "stepped=1" "a single step from the breakpoint moves RIP"
check gdb1.out "exited with code 01" "then runs to the exit"
[ "$status" -eq 1 ] || { echo "FAIL: vmrun status $status, not 1"; fail=1; }
fi

# 3. Attach to a running guest, look, kill.
start --timeout 300 "$spin"
sleep 1
timeout 120 gdb -batch -nx \
	-ex "set confirm off" \
	-ex "target remote :$port" \
	-ex "printf \"rip=%#lx\\n\", \$rip" \
	-ex "kill" > "$tmp/gdb2.out" 2>&1
reap
status=$?
cat "$tmp/gdb2.out"
check gdb2.out "rip=0x" "gdb attaches to the running guest and reads RIP"
if [ "$status" -eq 130 ]; then
	echo "PASS: killed from gdb: vmrun status 130"
else
	echo "FAIL: vmrun ended with status $status, not 130:"; cat "$tmp/vmrun.out"; fail=1
fi
exit $fail
