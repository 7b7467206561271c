#!/bin/sh
# SPDX-License-Identifier: MIT
# Run one tiny guest image under plain QEMU (TCG), without libvm: a debugging
# aid and a cross-check that the guest library's conventions (16550 THR at
# 0x3f8, isa-debug-exit at 0xf4) match the devices the platform will model.
# Only scenarios that need no host-side test device and one vCPU make sense
# here (longmode, shutdown). Exit status is QEMU's: isa-debug-exit's
# (v << 1) | 1, so 1 means the guest passed.
#
# usage: tests/guest/qemu-run.sh build/tests/guest/longmode.bin [qemu args...]
set -eu
image=$1
shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# A 64 KiB "BIOS" whose reset vector (F000:FFF0) jumps to the image's entry
# at 1000:0000, the same CS:IP guest-runner sets (lib/abi.h).
cat > "$tmp/reset.S" <<'ASM'
	.code16
	.org	0xfff0
	ljmp	$0x1000, $0x0
	.org	0x10000
ASM
gcc -c "$tmp/reset.S" -o "$tmp/reset.o"
objcopy -O binary -j .text "$tmp/reset.o" "$tmp/bios.bin"
set +e
qemu-system-x86_64 -accel tcg -cpu max -m 16 -display none -monitor none \
	-no-reboot -serial stdio -bios "$tmp/bios.bin" \
	-device loader,file="$image",addr=0x10000,force-raw=on \
	-device isa-debug-exit,iobase=0xf4,iosize=4 "$@"
status=$?
echo "qemu exit status $status (1 = PASS)"
exit $status
