#!/bin/sh
# SPDX-License-Identifier: MIT
# Boot a test kernel on QEMU with the devices vmrun provides, for comparing
# the two: run-qemu.sh [--smp N] [--mem SIZE] [--append TEXT] [--initrd FILE]
# KERNEL. Prints QEMU's exit status (1 = the kernel passed). QEMU_ACCEL
# picks the accelerator (default kvm; tcg works without /dev/kvm).
smp=1 mem=128 append= initrd=
while [ $# -gt 1 ]; do
	case $1 in
	--smp) smp=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--append) append=$2; shift 2 ;;
	--initrd) initrd=$2; shift 2 ;;
	--timeout) shift 2 ;;
	*) echo "run-qemu: unknown option $1" >&2; exit 2 ;;
	esac
done
accel=${QEMU_ACCEL:-kvm}
# -cpu host under KVM; arch-capabilities off because nested KVM refuses it.
cpu=host,-arch-capabilities
[ "$accel" = tcg ] && cpu=max
set -- qemu-system-x86_64 -accel "$accel" -cpu "$cpu" -m "$mem" -smp "$smp" \
	-display none -no-reboot -nic none -monitor none -serial stdio \
	-device isa-debug-exit,iobase=0xf4,iosize=0x4 -device pc-testdev \
	-kernel "$1" ${append:+-append "$append"} ${initrd:+-initrd "$initrd"}
"$@"
status=$?
echo "run-qemu: status $status" >&2
exit $status
