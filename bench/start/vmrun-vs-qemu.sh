#!/bin/sh
# SPDX-License-Identifier: MIT
# vmrun versus QEMU on the same multiboot kernel with the same exit device:
# wall time from launch to the guest's exit status, runs interleaved, median
# of each. Target: vmrun at least 20x faster.
# Usage: vmrun-vs-qemu.sh VMRUN KERNEL [runs]
set -eu
vmrun=$1 kernel=$2 runs=${3:-5}
dev=${LIBVM_DEVICE:-/dev/kvm}
command -v qemu-system-x86_64 >/dev/null || { echo "SKIP: qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)"; exit 77; }
[ -r "$dev" ] && [ -w "$dev" ] || { echo "SKIP: $dev is not usable"; exit 77; }

now() { date +%s.%N; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
i=0
while [ "$i" -lt "$runs" ]; do
	t0=$(now)
	"$vmrun" --quiet --serial none "$kernel" </dev/null || s=$?
	t1=$(now)
	qemu-system-x86_64 -accel kvm -cpu qemu64 -m 128 -nographic -no-reboot -nodefaults \
		-serial none -device isa-debug-exit,iobase=0xf4,iosize=0x4 \
		-kernel "$kernel" </dev/null >/dev/null 2>&1 || q=$?
	t2=$(now)
	if [ "${s:-0}" -ne 1 ] || [ "${q:-0}" -ne 1 ]; then
		echo "FAIL: exit statuses vmrun ${s:-0}, qemu ${q:-0}; both should be 1"; exit 1
	fi
	echo "$t0 $t1" | awk '{print $2 - $1}' >> "$tmp/vmrun"
	echo "$t1 $t2" | awk '{print $2 - $1}' >> "$tmp/qemu"
	i=$((i + 1))
done
v=$(sort -g "$tmp/vmrun" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
q=$(sort -g "$tmp/qemu" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
echo "$v $q $runs" | awk '{printf "boot to exit status: vmrun %.1f ms, qemu -accel kvm %.1f ms, qemu/vmrun %.0fx (median of %d)\n", $1*1000, $2*1000, $2/$1, $3}'
