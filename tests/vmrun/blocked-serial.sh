#!/bin/sh
# SPDX-License-Identifier: MIT
# A guest whose serial output nobody reads: the pipe fills, the UART's
# write would block for ever, yet --timeout must still end vmrun (status
# 124) promptly. Usage: blocked-serial.sh VMRUN SPAM_KERNEL
set -u
vmrun=$1 kernel=$2
dev=${LIBVM_DEVICE:-/dev/kvm}
[ -r "$dev" ] && [ -w "$dev" ] || { echo "SKIP: $dev is not usable"; exit 77; }
tmp=$(mktemp -d)
trap 'kill $reader 2>/dev/null; rm -rf "$tmp"' EXIT
mkfifo "$tmp/fifo"
sleep 60 < "$tmp/fifo" &   # holds the pipe open, never reads
reader=$!
start=$(date +%s)
"$vmrun" --timeout 1 --serial "$tmp/fifo" "$kernel" </dev/null
status=$?
took=$(( $(date +%s) - start ))
if [ "$status" -eq 124 ] && [ "$took" -le 10 ]; then
	echo "PASS: blocked serial output did not hold off --timeout (status $status after ${took}s)"
	exit 0
fi
echo "FAIL: status $status after ${took}s (want 124 within 10s)"
exit 1
