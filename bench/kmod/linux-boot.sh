#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# bench/kmod, Linux part: the time from vmrun's start to a Linux guest's
# /init on one device, run inside the emulated KVM host by suite.sh's
# bench loop (the devices take turns there, as for kmodbench).  The guest
# is Debian's cloud kernel with a busybox initramfs whose /init prints
# BENCH-INIT and powers off; vmrun's own console lines go by.
# usage: linux-boot.sh DEVICE TAG VMRUN KERNEL INITRD SMP
#   prints "BENCHDATA TAG linux_boot_ms N" (nothing when the boot failed)
dev=$1 tag=$2 vmrun=$3 kernel=$4 initrd=$5 smp=$6
start=$(date +%s%N)
LIBVM_DEVICE=$dev "$vmrun" -m 256M --smp "$smp" --timeout 180 \
	--kernel "$kernel" --initrd "$initrd" \
	--append "console=ttyS0 panic=-1 quiet" </dev/null 2>&1 |
while IFS= read -r line; do
	case $line in
	*BENCH-INIT*)
		end=$(date +%s%N)
		echo "BENCHDATA $tag linux_boot_ms $(( (end - start) / 1000000 ))" ;;
	esac
done
