#!/bin/sh
# SPDX-License-Identifier: MIT
# The whole test suite, from a fresh Debian machine: install what is
# missing, then build and test twice, once plainly (warnings are errors)
# and once under AddressSanitizer + UndefinedBehaviorSanitizer.
#
# The plain run includes the nested tier (tests/nested): a QEMU TCG VM in
# which our kernel modules and mainline kvm-amd run the same guest suite,
# and a Debian kernel boots under vmrun with virtio devices. Its packages
# (QEMU, the cloud kernel with headers, busybox, the kernel source for
# checkpatch, Capstone for the decoder's differential test) come first.
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh \
	libcapstone-dev qemu-system-x86 linux-image-cloud-amd64 linux-headers-cloud-amd64 \
	busybox-static cpio lz4 make perl linux-source libc6-dev

echo "== build (werror) =="
[ -f build-ci/build.ninja ] || meson setup build-ci -Dwerror=true
ninja -C build-ci
# host-kvm-*: kernel checks that the nested KVM of our build machines
# (kvm_pvm) gets wrong while mainline kvm-amd, kvm-intel and QEMU TCG pass
# them; docs/test-kernels.md says what each one shows. They run where
# /dev/kvm is mainline KVM, are left out elsewhere (saying so), and
# LIBVM_TEST_ALL=1 runs them anyway.
host_bug_suites="host-kvm-level-eoi host-kvm-timer-mask host-kvm-irq-window"
skip_host_bugs=""
if [ "${LIBVM_TEST_ALL:-0}" != 1 ] && [ ! -d /sys/module/kvm_amd ] && [ ! -d /sys/module/kvm_intel ]; then
	for suite in $host_bug_suites; do
		skip_host_bugs="$skip_host_bugs --no-suite $suite"
	done
	echo "note: /dev/kvm here is not mainline kvm-amd/kvm-intel; not running suites $host_bug_suites (see docs/test-kernels.md; LIBVM_TEST_ALL=1 runs them)"
fi
# shellcheck disable=SC2086
meson test -C build-ci --print-errorlogs $skip_host_bugs
# bench/kmod in the same nested VM: /dev/vmm vs /dev/kvm, prints the ratio.
meson test -C build-ci --benchmark --suite kmod -v

echo "== build under ASan + UBSan =="
[ -f build-san/build.ninja ] || meson setup build-san -Dwerror=true \
	-Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug
ninja -C build-san
# An ASan-built libvm.so cannot be loaded by the uninstrumented consumer of
# the install test, nor into python, nor run inside the nested VM (no
# libasan there), so those suites run in the plain build only; kmod is
# kernel code (checkpatch), not built with the sanitizers.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	meson test -C build-san --print-errorlogs --no-suite install --no-suite binding \
		--no-suite nested --no-suite kmod $skip_host_bugs
echo "== all tests passed =="
