#!/bin/sh
# SPDX-License-Identifier: MIT
# Run one test kernel under vmrun for meson:
#   run-kernel.sh [--attempts N] STATUS VMRUN ARGS...
# The kernel passes when vmrun ends with STATUS (1 for a kernel that wrote
# 0 to the exit device, as with QEMU's isa-debug-exit). Exit 77 (skip) with
# the reason when the KVM device cannot be used here.
# --attempts N (timer kernels only: the nested KVM of our machines delivers
# timer interrupts late now and then): a failed run is repeated, loudly,
# up to N runs in all; one run must pass every check, and each failure is
# printed in full.
attempts=1
if [ "$1" = --attempts ]; then
	attempts=$2
	shift 2
fi
expect=$1
shift
dev=${LIBVM_DEVICE:-/dev/kvm}
if [ ! -e "$dev" ]; then
	echo "SKIP: $dev does not exist (set LIBVM_DEVICE to use another device)"
	exit 77
fi
if [ ! -r "$dev" ] || [ ! -w "$dev" ]; then
	echo "SKIP: $dev is not readable and writable by $(id -un)"
	exit 77
fi
err=$(mktemp "${TMPDIR:-/tmp}/run-kernel.XXXXXX") || exit 1
trap 'rm -f "$err"' EXIT
run=1
while :; do
	"$@" 2>"$err"
	status=$?
	cat "$err" >&2
	if [ "$status" -eq 126 ] && grep -q 'create the VM' "$err"; then
		echo "SKIP: $dev cannot create a VM here: $(grep 'create the VM' "$err")"
		exit 77
	fi
	# vmrun says "--hyperv: ..." / "--cpu: ..." (before libvm_machine) or
	# "machine: enable Hyper-V: ..." / "machine: the CPU model: ...".
	hv='(--hyperv|Hyper-V).*not supported by this backend'
	cpu='(--cpu|CPU model|CPU feature).*not supported by this backend'
	if [ "$status" -eq 126 ] && grep -Eq -- "$hv" "$err"; then
		echo "SKIP: $dev has no Hyper-V emulation: $(grep -E -- "$hv" "$err")"
		exit 77
	fi
	if [ "$status" -eq 126 ] && grep -Eq -- "$cpu" "$err"; then
		echo "SKIP: $dev lacks a CPU feature the model needs: $(grep -E -- "$cpu" "$err")"
		exit 77
	fi
	[ "$status" -eq "$expect" ] && exit 0
	echo "run-kernel: vmrun ended with status $status, expected $expect (run $run of $attempts)" >&2
	[ "$run" -ge "$attempts" ] && exit 1
	run=$((run + 1))
	echo "run-kernel: RETRYING: a timer kernel on a host whose KVM delivers timer interrupts late" >&2
done
