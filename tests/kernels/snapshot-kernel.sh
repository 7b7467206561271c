#!/bin/sh
# SPDX-License-Identifier: MIT
# A test kernel saved mid-run and restored: vmrun runs it with --snapshot,
# SIGUSR2 (once the kernel has printed, then after a delay) saves the VM
# and ends that vmrun (status 10); a second vmrun
# restores the snapshot and must end as the kernel does when it is never
# interrupted (STATUS: 1 for a pass). A kernel that ends before the signal
# comes is run again with a shorter delay; one that always ends first is
# reported and passes as the plain kernel test would (nothing to restore).
#   snapshot-kernel.sh STATUS VMRUN ARGS...
# Exit 77 (skip) when the KVM device cannot be used here.
expect=$1 vmrun=$2
shift 2
dev=${LIBVM_DEVICE:-/dev/kvm}
if [ ! -r "$dev" ] || [ ! -w "$dev" ]; then
	echo "SKIP: $dev is not usable by $(id -un)"
	exit 77
fi
w=$(mktemp -d "${TMPDIR:-/tmp}/snapshot-kernel.XXXXXX") || exit 1
trap 'rm -rf "$w"' EXIT
for delay in 0.5 0.2 0.08 0.03; do
	# The last try's output too: else the wait below ends at once and the
	# signal may come before vmrun blocked it (killed: status 140; seen
	# with the ASan build in the emulated host, where vmrun starts slower).
	rm -f "$w/snap" "$w/before.txt"
	"$vmrun" --snapshot "$w/snap" --serial "$w/before.txt" "$@" </dev/null 2>"$w/err1" &
	pid=$!
	# Mid-run: once the guest has said something (vmrun is then well past
	# blocking SIGUSR2, whose default would end it), and a while later.
	i=0
	while [ ! -s "$w/before.txt" ] && [ $i -lt 600 ] && kill -0 "$pid" 2>/dev/null; do
		sleep 0.05
		i=$((i + 1))
	done
	sleep "$delay"
	kill -USR2 "$pid" 2>/dev/null
	wait "$pid"
	status=$?
	cat "$w/err1" >&2
	if [ "$status" -eq 126 ] && grep -q 'create the VM' "$w/err1"; then
		echo "SKIP: $dev cannot create a VM here"
		exit 77
	fi
	if [ "$status" -eq 10 ]; then
		"$vmrun" --restore "$w/snap" --timeout 60 --serial "$w/after.txt" </dev/null 2>"$w/err2"
		status=$?
		cat "$w/err2" >&2
		echo "--- output before the snapshot (${delay} s):"
		cat "$w/before.txt"
		echo "--- output after the restore:"
		cat "$w/after.txt"
		if [ "$status" -eq "$expect" ]; then
			echo "PASS: saved after ${delay} s ($(wc -c < "$w/snap") bytes), restored: status $status"
			exit 0
		fi
		echo "FAIL: saved after ${delay} s, restored: status $status, expected $expect"
		exit 1
	fi
	if [ "$status" -ne "$expect" ]; then
		echo "FAIL: the kernel ended with status $status before the snapshot, expected $expect"
		exit 1
	fi
	echo "the kernel ended within ${delay} s: again, sooner"
done
echo "PASS: the kernel always ended within 30 ms, before a snapshot could be taken (plain run passed)"
exit 0
