#!/bin/sh
# SPDX-License-Identifier: MIT
# The main job: install what is missing, build libvm and vmrun, and boot the
# default guest, the demo kernel built from tests/kernels/demo.c, on two
# vCPUs. It prints what it finds (CPUs, memory map, devices) and leaves
# through the exit device with 0, which vmrun reports as status 1 (QEMU's
# isa-debug-exit convention); this script turns that into success.
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh
[ -f build/build.ninja ] || meson setup build
ninja -C build
status=0
build/examples/vmrun/vmrun --smp 2 --cmdline "hello from the README" build/tests/kernels/demo.elf || status=$?
if [ "$status" -eq 1 ]; then
	echo "demo: the guest finished cleanly (vmrun status 1 = guest exit code 0)"
	exit 0
fi
echo "demo: vmrun ended with status $status (see vmrun(1), docs/vmrun.1)" >&2
exit 1
