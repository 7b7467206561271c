#!/bin/sh
# SPDX-License-Identifier: MIT
# Run vmrun and compare its exit status with the expected one.
# Usage: run-case.sh EXPECTED VMRUN [vmrun arguments...]
# Skips (77) when the KVM device cannot be opened.
set -u
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
if [ "$status" -eq "$expected" ]; then
	echo "PASS: vmrun $* -> status $status"
	exit 0
fi
echo "FAIL: vmrun $* -> status $status, expected $expected"
exit 1
