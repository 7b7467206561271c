#!/bin/sh
# SPDX-License-Identifier: MIT
# Run vmrun and compare its exit status with the expected one.
# Usage: run-case.sh [--expect-output TEXT] EXPECTED VMRUN [vmrun arguments...]
# With --expect-output, vmrun's output must also contain TEXT.
# Skips (77) when the KVM device cannot be opened.
set -u
want=
if [ "$1" = --expect-output ]; then
	want=$2
	shift 2
fi
expected=$1 vmrun=$2
shift 2
dev=${LIBVM_DEVICE:-/dev/kvm}
if [ ! -r "$dev" ] || [ ! -w "$dev" ]; then
	echo "SKIP: $dev is not usable by this user"
	exit 77
fi
out=$("$vmrun" "$@" </dev/null 2>&1)
status=$?
printf '%s\n' "$out"
if [ -n "$want" ] && ! printf '%s\n' "$out" | grep -qF -- "$want"; then
	echo "FAIL: vmrun $* -> status $status, output lacks \"$want\""
	exit 1
fi
if [ "$status" -eq "$expected" ]; then
	echo "PASS: vmrun $* -> status $status"
	exit 0
fi
echo "FAIL: vmrun $* -> status $status, expected $expected"
exit 1
