#!/bin/sh
# SPDX-License-Identifier: MIT
# The main job: install what is missing, build libvm and vmrun, and boot the
# default guest, the demo kernel built from tests/kernels/demo.c, on two
# vCPUs. It prints what it finds (CPUs, memory map, devices) and leaves
# through the exit device with 0, which vmrun reports as status 1 (QEMU's
# isa-debug-exit convention); this script turns that into success.
#
# It runs on this machine's /dev/kvm when that is usable, and otherwise
# inside the emulated KVM host (scripts/kvmhost: QEMU TCG with mainline
# kvm-amd, docs/kvmhost.md), saying which in one line. LIBVM_KVMHOST=always
# picks the emulated host, =never this machine.
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh
[ -f build/build.ninja ] || meson setup build
ninja -C build
if [ "${LIBVM_KVMHOST:-auto}" = always ] || ! scripts/kvmhost --probe >/dev/null; then
	# QEMU, the cloud kernel and busybox: only the emulated host needs them.
	scripts/install-deps.sh qemu-system-x86 linux-image-cloud-amd64 busybox-static cpio
fi
. scripts/kvm-where.sh
# The prefix that runs a program where the KVM is, as positional
# parameters: a checkout whose path has spaces stays one word.
if [ "$KVM_WHERE" = kvmhost ]; then
	set -- scripts/kvmhost --rw "$PWD" --
else
	set --
fi
status=0
"$@" build/examples/vmrun/vmrun --smp 2 --cmdline "hello from the README" build/tests/kernels/demo.elf || status=$?
if [ "$status" -eq 1 ]; then
	echo "demo: the guest finished cleanly (vmrun status 1 = guest exit code 0)"
	exit 0
fi
echo "demo: vmrun ended with status $status (see vmrun(1), docs/vmrun.1)" >&2
exit 1
