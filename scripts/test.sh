#!/bin/sh
# SPDX-License-Identifier: MIT
# The whole test suite, from a fresh Debian machine: install what is
# missing, then build and test twice, once plainly (warnings are errors)
# and once under AddressSanitizer + UndefinedBehaviorSanitizer.
#
# Tests that need a KVM (meson suite "kvm") run on this machine's /dev/kvm
# when it is usable, and otherwise inside the emulated KVM host
# (scripts/kvmhost: a QEMU TCG VM with mainline kvm-amd), so that every
# machine runs them all. The plain run also includes the nested tier
# (tests/nested): our kernel modules side by side with mainline kvm-amd,
# and Linux guests under vmrun, inside QEMU TCG VMs.
#
# Environment: LIBVM_KVMHOST=always runs the KVM suites in the emulated
# host even where /dev/kvm works; LIBVM_KVMHOST=never runs them here
# (they skip, 77, without a KVM).
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh \
	libcapstone-dev qemu-system-x86 linux-image-cloud-amd64 linux-headers-cloud-amd64 \
	busybox-static cpio lz4 make perl linux-source libc6-dev \
	python3-pytest gdb doxygen clang

# Where the KVM suites run: "host" or "kvmhost".
. scripts/kvm-where.sh

# kvmhost_meson BUILD [meson test args]: meson test inside the emulated KVM
# host. QEMU TCG freezes a whole VM now and then (docs/kvmhost.md); kvmhost
# notices (no heartbeat for 120 s) and exits 125, as it does when QEMU
# itself dies. Then the tests that had not reported yet run once more, in
# a fresh emulated host; a test that had reported a failure stays failed,
# and a second freeze fails the run.
kvmhost_meson() {
	build=$1; shift
	log=$build/meson-logs/kvmhost-run.txt
	mkdir -p "$build/meson-logs"
	rm -f "$log.rc"
	{ st=0
	  scripts/kvmhost --rw "$PWD" -- meson test -C "$build" --no-rebuild --print-errorlogs "$@" 2>&1 ||
		st=$?
	  echo "$st" > "$log.rc"; } | tee "$log"
	rc=$(cat "$log.rc")
	[ "$rc" = 125 ] || return "$rc"
	# meson's result lines: " 45/106 libvm:guest+kvm / NAME   STATUS  3.60s"
	reported=$(awk '$1 ~ /^[0-9]+\/[0-9]+$/ && $3 == "/" { print $4 }' "$log")
	failed=$(awk '$1 ~ /^[0-9]+\/[0-9]+$/ && $3 == "/" && $5 !~ /^(OK|SKIP|EXPECTEDFAIL)$/ { print $4 }' "$log")
	rest=$(meson test -C "$build" --no-rebuild --list "$@" 2>/dev/null | sed -n 's|^.* / ||p' |
		grep -vxF -e "$reported" -e '' || true)
	echo "== the emulated host failed; once more in a fresh one, the $(echo "$rest" | grep -c . || true) tests that had not reported =="
	rc=0
	if [ -n "$rest" ]; then
		# shellcheck disable=SC2086
		scripts/kvmhost --rw "$PWD" -- meson test -C "$build" --no-rebuild --print-errorlogs \
			"$@" $rest || rc=$?
	fi
	if [ -n "$failed" ]; then
		echo "failed before the emulated host did:" "$(echo "$failed" | paste -sd' ')"
		rc=1
	fi
	return "$rc"
}

# kvm_suites BUILD [meson test args]: the suites that need a KVM.
kvm_suites() {
	build=$1; shift
	if [ "$KVM_WHERE" = host ]; then
		# shellcheck disable=SC2086
		meson test -C "$build" --no-rebuild --print-errorlogs --suite kvm $HOST_BUG_SUITES_OFF \
			$DEBUG_TRAPS_OFF "$@"
		if [ -n "$HOST_BUG_SUITES_ON" ]; then
			# the suites this machine's KVM gets wrong: on mainline kvm-amd
			echo "== suites $HOST_BUG_SUITES on the emulated KVM host =="
			# shellcheck disable=SC2086
			kvmhost_meson "$build" $HOST_BUG_SUITES_ON "$@"
		fi
	else
		# shellcheck disable=SC2086
		kvmhost_meson "$build" --suite kvm $DEBUG_TRAPS_OFF "$@"
	fi
}

echo "== build (werror) =="
[ -f build-ci/build.ninja ] || meson setup build-ci -Dwerror=true
ninja -C build-ci
meson test -C build-ci --no-rebuild --print-errorlogs --no-suite kvm
echo "== KVM suites (werror build) on $KVM_WHERE_TEXT =="
kvm_suites build-ci
# bench/kmod in the same nested VM: /dev/vmm vs /dev/kvm, prints the ratio.
meson test -C build-ci --benchmark --suite kmod -v

echo "== build under ASan + UBSan =="
[ -f build-san/build.ninja ] || meson setup build-san -Dwerror=true \
	-Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug
ninja -C build-san
# An ASan-built libvm.so cannot be loaded by the uninstrumented consumer of
# the install test, nor into python, so those suites run in the plain
# build only; the nested tier and kmod are kernel-side and run there too.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
meson test -C build-san --no-rebuild --print-errorlogs --no-suite kvm --no-suite install \
	--no-suite binding --no-suite nested --no-suite kmod
echo "== KVM suites (ASan + UBSan build) on $KVM_WHERE_TEXT =="
kvm_suites build-san --no-suite binding

# libFuzzer smoke (tests/fuzz, docs/fuzzing.md): each target 12 s from its
# in-tree seeds under ASan + UBSan; any crash or broken invariant fails.
echo "== fuzz targets (clang, libFuzzer, ASan + UBSan), 12 s each =="
[ -f build-fuzz/build.ninja ] || CC=clang meson setup build-fuzz -Dfuzz=enabled \
	-Db_sanitize=address,undefined -Db_lundef=false
ninja -C build-fuzz
meson test -C build-fuzz --no-rebuild --print-errorlogs --suite fuzz
echo "== all tests passed =="
