#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Nested kmod test tier.  Builds vmm.ko/vmm-amd.ko against Debian's cloud
# kernel headers, and the raw-ioctl tests, the hostile-userspace test and
# the benchmark, and runs them (with, when given, the libvm guest suite and
# the test kernels) inside the emulated KVM host (scripts/kvmhost: QEMU TCG
# with -cpu max, AMD SVM with nested paging) through tests/nested/suite.sh,
# which loads kvm-amd and our modules in turn; their PASS/FAIL lines become
# TAP.  Exit status: 0 all passed, 1 a failure, 77 cannot run here.
#
# usage: run.sh [--install] [--bench] [--build DIR] [--libvm-build DIR]
#   --install         apt-get install what is missing (qemu, kernel, ...)
#   --bench-only      run bench/kmod inside the VM instead of the tests
#                     (with --libvm-build: the Linux boot figure too)
#   --build DIR       work directory (default: <repo>/build-kmod-nested)
#   --libvm-build DIR meson build dir of libvm: run tests/guest inside too
#   --kernel-table F  with --libvm-build: run the test kernels listed in F
#                     (tests/kernels/meson.build's kernel-tests.txt) too
#   --kernel-retry L  comma-separated tests of F run with --attempts 3
#   --keep            (accepted; the work directory is always kept)
set -u

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$SRC/build-kmod-nested
INSTALL=0
BENCH=0
LIBVM_BUILD=
KERNEL_TABLE=
KERNEL_RETRY=
# The emulated host's limit: about 215 s on an idle machine since the
# attack run and the kernels-vmm suite joined the tier, over 420 s at load
# average 6 on 2 cores; meson's own timeout covers the build too.
TIMEOUT=${NESTED_TIMEOUT:-840}
PKGS="qemu-system-x86 linux-image-cloud-amd64 linux-headers-cloud-amd64 busybox-static cpio gcc make libc6-dev"

while [ $# -gt 0 ]; do
	case $1 in
	--install) INSTALL=1 ;;
	--bench-only) BENCH=1 ;;
	--build) BUILD=$2; shift ;;
	--libvm-build) LIBVM_BUILD=$(realpath "$2") || exit 2; shift ;;
	--kernel-table) KERNEL_TABLE=$(realpath "$2") || exit 2; shift ;;
	--kernel-retry) KERNEL_RETRY=$2; shift ;;
	--keep) ;;
	*) echo "unknown option $1" >&2; exit 2 ;;
	esac
	shift
done

SMP=${NESTED_SMP:-2}
# kvm-amd hangs in VM creation now and then on a 2-CPU TCG VM (not seen
# with one CPU), so the bench runs on one CPU, for both sides alike.
if [ $BENCH = 1 ]; then
	TIMEOUT=${NESTED_BENCH_TIMEOUT:-720}
	SMP=${NESTED_SMP:-1}
fi

TAP_NAME=nested
. "$SRC/tests/nested/tier.sh"

need_install() {
	"$SRC/scripts/kvmhost" --check >/dev/null 2>&1 || return 0
	find_kernel kvm-amd
	[ -n "$KVER" ] || return 0
	return 1
}

if need_install; then
	if [ $INSTALL = 1 ] && [ "$(id -u)" = 0 ]; then
		export DEBIAN_FRONTEND=noninteractive
		diag "installing $PKGS"
		(apt-get update -q && apt-get -o DPkg::Lock::Timeout=300 install -y -q $PKGS) >&2 ||
			skip "apt-get install failed"
	fi
	need_install && skip "needs $PKGS (run with --install)"
fi

KDIR=/usr/src/linux-headers-$KVER
# The modules must be built by the compiler the kernel was built with.
want=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\(gcc-[0-9]*\|gcc\).*/\1/p' $KDIR/.config)
CC=gcc
command -v "$want" >/dev/null && CC=$want
diag "kernel $KVER, headers $KDIR, compiler $CC"

case $BUILD in
/ | "" | "$SRC" | "$SRC/") echo "refusing to use $BUILD as the work directory" >&2; exit 2 ;;
esac
rm -rf "$BUILD"
mkdir -p "$BUILD/kmod"
cd "$BUILD" || exit 1

# --- modules: W=1 and not a single warning ---
cp "$SRC"/kmod/Kbuild "$SRC"/kmod/Makefile "$SRC"/kmod/*.[chS] kmod/
if ! make -C "$KDIR" M="$BUILD/kmod" CC="$CC" W=1 modules > kbuild.log 2>&1; then
	cat kbuild.log
	echo "not ok 1 - kmod-build"
	echo "1..1"
	exit 1
fi
if grep -E "warning:|error:" kbuild.log; then
	BUILD_WARN=1
else
	BUILD_WARN=0
fi

# --- test programs ---
mkdir -p bin
CFLAGS="-O2 -Wall -Wextra -Werror -I$SRC/kmod"
gcc $CFLAGS -o bin/vmmtest "$SRC/tests/nested/vmmtest.c" -lpthread || exit 1
if [ -f "$SRC/tests/nested/hostile.c" ]; then
	gcc $CFLAGS -o bin/hostile "$SRC/tests/nested/hostile.c" -lpthread || exit 1
fi
# The attack generators (ioctl sequences, guest instruction streams).
if [ -f "$SRC/tests/nested/ioctlfuzz.c" ]; then
	gcc $CFLAGS -o bin/ioctlfuzz "$SRC/tests/nested/ioctlfuzz.c" -lpthread || exit 1
	gcc $CFLAGS -o bin/guestfuzz "$SRC/tests/nested/guestfuzz.c" || exit 1
	cp "$SRC/tests/nested/attack.sh" bin/attack.sh
fi
if [ -f "$SRC/bench/kmod/kmodbench.c" ]; then
	gcc $CFLAGS -o bin/kmodbench "$SRC/bench/kmod/kmodbench.c" -lpthread -lm || exit 1
fi
if [ -n "$LIBVM_BUILD" ] && [ $BENCH = 1 ]; then
	# bench/kmod's Linux boot: a busybox initramfs that reports its init.
	mkdir -p initrd/bin
	cp /bin/busybox initrd/bin/
	printf '#!/bin/busybox sh\necho BENCH-INIT\n/bin/busybox poweroff -f\n' > initrd/init
	chmod +x initrd/init
	(cd initrd && find . | cpio -o -H newc --quiet | gzip -1) > bench-initrd.gz
elif [ -n "$LIBVM_BUILD" ]; then
	"$SRC/tests/nested/gen-suites.sh" "$LIBVM_BUILD" "$BUILD/bin" \
		${KERNEL_TABLE:+"$KERNEL_TABLE" "$KERNEL_RETRY"} || exit 1
elif [ -n "$KERNEL_TABLE" ]; then
	echo "--kernel-table needs --libvm-build" >&2
	exit 2
fi

{
	echo "NESTED_BENCH=$BENCH"
	echo "NESTED_DMESG=${NESTED_DMESG:-0}"
	if [ $BENCH = 1 ]; then echo "NESTED_ONLY=bench"; else echo "NESTED_ONLY=${NESTED_ONLY:-}"; fi
	echo "VMM_AMD_ARGS='${VMM_AMD_ARGS:-}'"
	echo "VMMTEST_FILTER=${VMMTEST_FILTER:-}"
	echo "KMODBENCH_DEBUG=${KMODBENCH_DEBUG:-}"
	echo "HOSTILE_VERBOSE=${HOSTILE_VERBOSE:-}"
	echo "HOSTILE_KVM=${HOSTILE_KVM:-}"
	echo "ATTACK_SEED=${ATTACK_SEED:-1}"
	echo "ATTACK_SECONDS=${ATTACK_SECONDS:-20}"
	echo "ATTACK_PROGRAMS=${ATTACK_PROGRAMS:-100}"
	echo "BENCH_SIDES='${BENCH_SIDES:-vmm kvm}'"
	if [ -n "$LIBVM_BUILD" ] && [ $BENCH = 1 ]; then
		echo "BENCH_LINUX='$SRC/bench/kmod/linux-boot.sh'"
		echo "BENCH_VMRUN='$(realpath "$LIBVM_BUILD")/examples/vmrun/vmrun'"
		echo "BENCH_KERNEL='/boot/vmlinuz-$KVER'"
		echo "BENCH_INITRD='$BUILD/bench-initrd.gz'"
	fi
} > nested.conf

start=$(date +%s)
rw=(--rw "$BUILD")
[ -n "$LIBVM_BUILD" ] && rw+=(--rw "$LIBVM_BUILD")

# --- the attack generators on mainline kvm-amd, in an emulated host of
# their own with one CPU: in the main VM below (2 CPUs, CPU 1 offline
# while kvm-amd is loaded) they froze the whole VM in 4 of 7 runs on
# 2026-12-07, silent until its time limit; alone on one CPU none of 8 did.
# Their guest programs' exit log is the reference suite.sh compares ours
# with. ---
rm -rf attack-kvm
mkdir -p attack-kvm
if [ $BENCH = 0 ] && [ -x bin/attack.sh ] &&
   { [ -z "${NESTED_ONLY:-}" ] || [ "${NESTED_ONLY:-}" = kvm ]; }; then
	attack_kvm() {
		"$SRC/scripts/kvmhost" --kernel "$KVER" --smp 1 --mem 1024 --timeout 400 --rw "$BUILD" -- \
			sh "$BUILD/bin/attack.sh" /dev/kvm "$BUILD/bin" "$BUILD/attack-kvm" \
			"${ATTACK_SEED:-1}" 1000000 "${ATTACK_SECONDS:-20}" "${ATTACK_PROGRAMS:-100}"
	}
	attack_kvm > attack-kvm.log 2>&1
	arc=$?
	# 125: the emulated host froze or QEMU died (kvmhost's stall watch),
	# the test bed failing under mainline kvm-amd: once more, shown.
	if [ $arc = 125 ]; then
		# the first attempt in full, as TAP comments
		echo "# RETRYING attack-kvm: the emulated host failed:"
		tr -d '\r' < attack-kvm.log | sed 's/^/#   /'
		attack_kvm > attack-kvm.log 2>&1
		arc=$?
	fi
	tr -d '\r' < attack-kvm.log > attack-kvm.txt
	grep -q '^PASS: ioctlfuzz-kvm' attack-kvm.txt ||
		echo "FAIL: attack-kvm: no verdict (kvmhost rc $arc): $(tail -n 3 attack-kvm.txt | tr '\n' ' ')" >> attack-kvm.txt
fi

# --- run: the emulated KVM host with no hypervisor loaded; suite.sh loads
# kvm-amd and ours in turn.  Its output is the "serial log" of old. ---
"$SRC/scripts/kvmhost" --kernel "$KVER" --no-kvm --smp "$SMP" --mem 2048 --timeout "$TIMEOUT" "${rw[@]}" -- \
	sh "$SRC/tests/nested/suite.sh" "$BUILD" > serial.log 2>&1
qrc=$?
end=$(date +%s)
tr -d '\r' < serial.log > serial.txt

# --- bench: best figure of each side, ratio ours/kvm-amd ---
if [ $BENCH = 1 ]; then
	grep -a '^BENCHDATA' serial.txt > benchdata.txt
	awk '
	{ k = $2 " " $3; if (!(k in best) || $4 < best[k]) best[k] = $4 }
	END {
		split("pio_exit_us start_us irqfd_us linux_boot_ms", m, " ")
		split("PIO exit round trip (us)|tiny-guest start (VM+slot+vCPU+run to HLT, us)|irqfd write to guest handler (median, us)|Linux boot to init (vmrun --smp 2, ms)", w, "|")
		for (i = 1; i <= 4; i++) {
			v = best["vmm " m[i]]; k = best["kvm " m[i]]
			if (v > 0 && k > 0)
				printf "BENCH: %s: /dev/vmm %.1f, /dev/kvm %.1f, ratio vmm/kvm %.2f (target <= 1.00)\n", w[i], v, k, v / k
			else
				printf "BENCH: %s: incomplete (vmm %s, kvm %s): a side hung or failed\n", w[i], v, k
		}
	}' benchdata.txt | tee bench.txt
	if grep -q '^NESTED-BENCH-DONE' serial.txt; then
		echo "bench: completed in $(( $(date +%s) - start )) s"
	else
		echo "bench: the VM did not finish (kvm-amd under TCG sometimes hangs in VM creation); figures above are what was measured"
	fi
	exit 0
fi

# --- results as TAP ---
if [ $BUILD_WARN = 0 ]; then emit ok kmod-build-w1-clean; else emit not-ok kmod-build-w1-clean; fi
tap_lines < <(cat serial.txt; [ -f attack-kvm.txt ] && cat attack-kvm.txt)
if grep -q '^NESTED-DONE' serial.txt; then
	emit ok "vm-completed (kvmhost rc $qrc, $((end - start)) s)"
else
	emit not-ok "vm-completed: no NESTED-DONE (kvmhost rc $qrc, crash or timeout)"
	tail -40 serial.txt | sed 's/^/# /'
fi
boot=$(sed -n 's/.*NESTED-BOOTED //p' serial.txt)
diag "boot to init: ${boot:-?} s; total $((end - start)) s"
tap_end
