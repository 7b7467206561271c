#!/bin/sh
# SPDX-License-Identifier: MIT
# Run the benchmarks of bench/ where a KVM is. Those of meson benchmark
# suite "kvm" (exit, start, memory, vmrun-vs-qemu) run on this machine's
# /dev/kvm when it is usable and otherwise inside the emulated KVM host
# (scripts/kvmhost); kmod, kmod-intel (our modules against kvm-amd in QEMU
# TCG, against kvm-intel in Bochs) and linux-boot (Linux to init under
# vmrun and QEMU) make their own emulated hosts. Each prints its figures
# and the ratio measured side by side in one run; docs/performance.md says
# what each one measures and where our figures were taken.
# usage: scripts/bench.sh [NAME ...]
#   default: the "kvm" suite, kmod and kmod-intel; linux-boot (15-30
#   minutes) only when named.
# LIBVM_KVMHOST=always|never as for scripts/test.sh.
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh qemu-system-x86 linux-image-cloud-amd64 linux-headers-cloud-amd64 \
	busybox-static cpio make libc6-dev lz4
[ -f build/build.ninja ] || meson setup build
ninja -C build
. scripts/kvm-where.sh
[ $# -gt 0 ] || set -- --suite kvm kmod kmod-intel
inside=
outside=
while [ $# -gt 0 ]; do
	case $1 in
	kmod | kmod-intel | linux-boot) outside="$outside $1" ;;
	--suite) inside="$inside $1 $2"; shift ;;
	*) inside="$inside $1" ;;
	esac
	shift
done
# shellcheck disable=SC2086
if [ -n "$inside" ]; then
	if [ "$KVM_WHERE" = kvmhost ]; then
		scripts/kvmhost --rw "$PWD" -- meson test -C build --no-rebuild --benchmark -v $inside
	else
		meson test -C build --no-rebuild --benchmark -v $inside
	fi
fi
# shellcheck disable=SC2086
[ -z "$outside" ] || meson test -C build --no-rebuild --benchmark -v $outside
