#!/bin/sh
# SPDX-License-Identifier: MIT
# Run the benchmarks of bench/ where a KVM is: the ones that need a KVM
# (meson benchmark suite "kvm": exit, start, memory, vmrun-vs-qemu) on this
# machine's /dev/kvm when it is usable and otherwise inside the emulated
# KVM host (scripts/kvmhost), and bench/kmod (our modules against mainline
# kvm-amd, always in an emulated host). Each prints its figures and the
# ratio measured side by side in one run; docs/performance.md says what
# each one measures and where our figures were taken.
# usage: scripts/bench.sh [meson benchmark name ...]   (default: all)
# LIBVM_KVMHOST=always|never as for scripts/test.sh.
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh qemu-system-x86 linux-image-cloud-amd64 linux-headers-cloud-amd64 \
	busybox-static cpio make libc6-dev
[ -f build/build.ninja ] || meson setup build
ninja -C build
. scripts/kvm-where.sh
kmod=0
names=
if [ $# -eq 0 ]; then
	kmod=1
	names="--suite kvm"
fi
for b in "$@"; do
	if [ "$b" = kmod ]; then kmod=1; else names="$names $b"; fi
done
if [ -n "$names" ]; then
	# shellcheck disable=SC2086
	if [ "$KVM_WHERE" = kvmhost ]; then
		scripts/kvmhost --rw "$PWD" -- meson test -C build --no-rebuild --benchmark -v $names
	else
		meson test -C build --no-rebuild --benchmark -v $names
	fi
fi
if [ $kmod = 1 ]; then
	meson test -C build --no-rebuild --benchmark -v kmod
fi
