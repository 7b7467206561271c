#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Nested kmod test tier, Intel side.  QEMU's TCG has no VMX, Debian's
# Bochs has (EPT, VPID, unrestricted guest): this boots Debian's cloud
# kernel in Bochs (cpu model corei7_skylake_x) from a syslinux FAT16 disk
# image, with an initramfs holding kvm-intel, our vmm.ko + vmm-intel.ko
# (built here with W=1 against the cloud kernel's headers), the raw-ioctl
# tests, the hostile-userspace test and (when given) the libvm guest
# suite, and turns the PASS/FAIL lines of the serial console into TAP.
# Exit status: 0 all passed, 1 a failure, 77 cannot run here.
#
# What it takes to run Linux in Bochs quickly (docs/kmod.md has the
# figures): the term display (Debian's build has no nogui) and an -rc file
# holding "c" (the build includes the debugger); clock sync=none with a
# fixed ips and tsc_early_khz=ips/1000 on the command line (the emulated
# TSC ticks once per instruction; the kernel's own calibration is ~70x
# off); cryptomgr.notests=1 and the kdf108 self-test skipped; XSAVEC and
# XSAVES hidden (Bochs reports a compacted XSAVE size the kernel rejects
# with a WARNING); mitigations=off (no page-table isolation: every CR3
# write costs Bochs its TLB); .BTF stripped from the modules (they load
# faster); an uncompressed initramfs.
#
# usage: run.sh [--install] [--bench-only] [--build DIR] [--libvm-build DIR]
#   --install         apt-get install what is missing (bochs, kernel, ...)
#   --bench-only      run bench/kmod inside the VM instead of the tests
#   --build DIR       work directory (default: <repo>/build-kmod-bochs)
#   --libvm-build DIR meson build dir of libvm: run tests/guest inside too
# environment: NESTED_SMP=2 (a second CPU: tests CPU hotplug, costs about
#   twice the time), NESTED_TIMEOUT (s), NESTED_ONLY=kvm|vmm, VMMTEST_FILTER,
#   VMM_INTEL_ARGS, NESTED_DMESG=1, BOCHS_IPS.
set -u

SRC=$(cd "$(dirname "$0")/../../.." && pwd)
BUILD=$SRC/build-kmod-bochs
INSTALL=0
BENCH=0
LIBVM_BUILD=
TIMEOUT=${NESTED_TIMEOUT:-900}
SMP=${NESTED_SMP:-1}
IPS=${BOCHS_IPS:-50000000}
PKGS="bochs bochsbios vgabios bochs-term syslinux mtools dosfstools fdisk
linux-image-cloud-amd64 linux-headers-cloud-amd64 busybox-static cpio gcc make
libc6-dev binutils"

while [ $# -gt 0 ]; do
	case $1 in
	--install) INSTALL=1 ;;
	--bench-only) BENCH=1 ;;
	--build) BUILD=$2; shift ;;
	--libvm-build) LIBVM_BUILD=$(realpath "$2") || exit 2; shift ;;
	*) echo "unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
[ $BENCH = 1 ] && TIMEOUT=${NESTED_TIMEOUT:-600}

TAP_NAME=bochs
. "$SRC/tests/nested/tier.sh"

need_install() {
	command -v bochs-bin >/dev/null || return 0
	[ -e /usr/share/bochs/BIOS-bochs-latest ] || return 0
	[ -e /usr/share/vgabios/vgabios.bin ] || return 0
	# Debian's bochs-term: the display library is a plugin
	ls /usr/lib/x86_64-linux-gnu/bochs/plugins/libbx_term* >/dev/null 2>&1 ||
		return 0
	for c in syslinux mcopy mkfs.fat sfdisk cpio objcopy; do
		command -v $c >/dev/null || [ -x /usr/sbin/$c ] || [ -x /sbin/$c ] || return 0
	done
	[ -e /usr/lib/SYSLINUX/mbr.bin ] || return 0
	[ -x /bin/busybox ] || return 0
	# the initramfs has no libraries for it: busybox-static, not busybox
	ldd /bin/busybox >/dev/null 2>&1 && return 0
	find_kernel kvm-intel
	[ -n "$KVER" ] || return 0
	return 1
}

if need_install; then
	if [ $INSTALL = 1 ] && [ "$(id -u)" = 0 ]; then
		export DEBIAN_FRONTEND=noninteractive
		diag "installing $(echo $PKGS)"
		(apt-get update -q && apt-get -o DPkg::Lock::Timeout=300 install -y -q $PKGS) >&2 ||
			skip "apt-get install failed"
	fi
	need_install && skip "needs $(echo $PKGS) (run with --install)"
fi
PATH=$PATH:/usr/sbin:/sbin

KDIR=/usr/src/linux-headers-$KVER
# The modules must be built by the compiler the kernel was built with.
want=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\(gcc-[0-9]*\|gcc\).*/\1/p' $KDIR/.config)
CC=gcc
command -v "$want" >/dev/null && CC=$want
diag "kernel $KVER, headers $KDIR, compiler $CC, Bochs $SMP CPU(s) at $IPS ips"

case $BUILD in
/ | "" | "$SRC" | "$SRC/") echo "refusing to use $BUILD as the work directory" >&2; exit 2 ;;
esac
rm -rf "$BUILD"
mkdir -p "$BUILD/kmod" "$BUILD/root"
cd "$BUILD" || exit 1
t_start=$(date +%s.%N)

# --- modules: W=1 and not a single warning ---
cp "$SRC"/kmod/Kbuild "$SRC"/kmod/Makefile "$SRC"/kmod/*.[chS] kmod/
if ! nice make -C "$KDIR" M="$BUILD/kmod" CC="$CC" W=1 modules > kbuild.log 2>&1; then
	cat kbuild.log
	echo "not ok 1 - kmod-build"
	echo "1..1"
	exit 1
fi
BUILD_WARN=0
grep -E "warning:|error:" kbuild.log && BUILD_WARN=1

# --- the initramfs ---
R=$BUILD/root
# pack FILE [AS]: FILE into the initramfs at its own path (or AS), with
# every shared library it loads when it is a dynamic executable.
pack() {
	local to=${2:-$1}
	mkdir -p "$R$(dirname "$to")"
	cp -L "$1" "$R$to" || exit 1
	ldd "$1" 2> /dev/null |
	awk '/=> \// { print $3 } /^\t\/lib64/ { print $1 }' |
	while read -r lib; do
		[ -e "$R$lib" ] && continue
		mkdir -p "$R$(dirname "$lib")"
		cp -L "$lib" "$R$lib"
	done
}
mkdir -p $R/bin $R/etc $R/lib/modules/extra $R/proc $R/sys $R/dev $R/tmp
cp /bin/busybox $R/bin/busybox
ln -sf busybox $R/bin/sh
CFLAGS="-static -O2 -Wall -Wextra -Werror -I$SRC/kmod"
gcc $CFLAGS -o $R/bin/vmmtest "$SRC/tests/nested/vmmtest.c" -lpthread || exit 1
gcc $CFLAGS -o $R/bin/hostile "$SRC/tests/nested/hostile.c" -lpthread || exit 1
gcc $CFLAGS -o $R/bin/kmodbench "$SRC/bench/kmod/kmodbench.c" -lpthread -lm || exit 1
# The libvm guest suite: guest-runner, the guest images and every shared
# library the runner loads, at the paths they have here, so that the
# script tests/nested/gen-suites.sh writes for the QEMU tier (which runs
# the build tree in place) runs unchanged inside Bochs too.
if [ -n "$LIBVM_BUILD" ] && [ $BENCH = 0 ]; then
	B=$(cd "$LIBVM_BUILD" && pwd -P)
	[ -x "$B/tests/guest/guest-runner" ] ||
		{ echo "no $B/tests/guest/guest-runner (build libvm first)" >&2; exit 1; }
	mkdir -p "$R$B/tests/guest"
	cp "$B"/tests/guest/*.bin "$R$B/tests/guest/"
	pack "$B/tests/guest/guest-runner"
	"$SRC/tests/nested/gen-suites.sh" "$B" "$R/bin" || exit 1
	# Suite debug-traps (INT3 and watchpoint traps, which only kvm-intel
	# here delivers): the files its commands name, and gdb for the vmrun
	# stub's test. Debian's gdb needs ~80 MB of libraries and Python's;
	# gdb-minimal (no Python) ~30 MB, but it conflicts with the gdb
	# package, so it is fetched with apt-get download (--install) and
	# unpacked here, never installed.
	if [ -s "$R/bin/debug-files.txt" ]; then
		while read -r f; do pack "$f"; done < "$R/bin/debug-files.txt"
		G=$BUILD-gdb-minimal
		if ! ls "$G"/gdb-minimal_*.deb > /dev/null 2>&1 && [ $INSTALL = 1 ]; then
			mkdir -p "$G"
			(cd "$G" && apt-get download -q gdb-minimal) >&2 ||
				diag "apt-get download gdb-minimal failed: the gdb test will skip"
		fi
		deb=$(ls "$G"/gdb-minimal_*.deb 2> /dev/null | tail -1)
		if [ -n "$deb" ]; then
			rm -rf "$G/x"
			dpkg-deb -x "$deb" "$G/x" || exit 1
			pack "$G/x/usr/bin/gdb" /usr/bin/gdb
			# gdb converts symbol names to UTF-32 through iconv, and
			# "target remote :PORT" resolves localhost.
			C=/usr/lib/x86_64-linux-gnu/gconv
			mkdir -p "$R$C"
			cp -r "$C/gconv-modules" "$C/gconv-modules.cache" "$C/gconv-modules.d" \
				"$C/UTF-32.so" "$R$C/" || exit 1
			echo "127.0.0.1 localhost" > "$R/etc/hosts"
		fi
	fi
fi
M=/lib/modules/$KVER/kernel
cp $M/virt/lib/irqbypass.ko $M/arch/x86/kvm/kvm.ko $M/arch/x86/kvm/kvm-intel.ko \
	$R/lib/modules/extra/
for ko in vmm.ko vmm-intel.ko; do
	[ -e kmod/$ko ] && cp kmod/$ko $R/lib/modules/extra/
done
# BTF is parsed at module load: seconds of emulated time for kvm.ko.
for ko in $R/lib/modules/extra/*.ko; do
	objcopy --remove-section=.BTF "$ko"
done
strip --strip-all $R/bin/vmmtest $R/bin/hostile $R/bin/kmodbench
cp "$SRC/tests/nested/bochs/init.sh" $R/init
cp "$SRC/tests/nested/checks.sh" $R/etc/nested-checks.sh
chmod +x $R/init
{
	echo "NESTED_DMESG=${NESTED_DMESG:-0}"
	if [ $BENCH = 1 ]; then echo "NESTED_ONLY=bench"; else echo "NESTED_ONLY=${NESTED_ONLY:-}"; fi
	# Bochs lets no interrupt end a guest spinning with IF=0: a 1 ms
	# preemption timer does (init.sh, docs/kmod.md).
	echo "VMM_INTEL_ARGS='${VMM_INTEL_ARGS:-exit_every_us=1000}'"
	echo "HOSTILE_KVM=${HOSTILE_KVM:-}"
	echo "VMMTEST_FILTER=${VMMTEST_FILTER:-}"
	echo "KMODBENCH_DEBUG=${KMODBENCH_DEBUG:-}"
	echo "HOSTILE_VERBOSE=${HOSTILE_VERBOSE:-}"
	echo "BENCH_SIDES='${BENCH_SIDES:-vmm kvm}'"
} > $R/etc/nested.conf
# Uncompressed: unpacking gzip costs the emulated CPU more than syslinux
# spends reading the larger file.
(cd $R && find . | cpio -o -H newc --quiet) > initrd.img

# --- the disk: MBR, one FAT16 partition from 1 MiB, syslinux ---
cat > syslinux.cfg <<EOF
DEFAULT linux
PROMPT 0
TIMEOUT 0
LABEL linux
  KERNEL vmlinuz
  INITRD initrd.img
  APPEND console=ttyS0,115200 panic=-1 quiet loglevel=4 tsc_early_khz=$((IPS / 1000)) cryptomgr.notests=1 initcall_blacklist=crypto_kdf108_init clearcpuid=xsavec,xsaves mitigations=off
EOF
kb=$(( ($(stat -c %s /boot/vmlinuz-$KVER) + $(stat -c %s initrd.img)) / 1024 ))
# FAT16 wants at least ~16 MiB; room for the files plus a margin.
mib=$(( kb / 1024 + 8 ))
[ $mib -lt 24 ] && mib=24
truncate -s ${mib}M disk.img
echo 'start=2048, type=6, bootable' | sfdisk -q disk.img || exit 1
mkfs.fat -F 16 --offset 2048 -n LIBVM disk.img $(( (mib * 1024 - 1024) )) > /dev/null || exit 1
mcopy -i disk.img@@1M /boot/vmlinuz-$KVER ::vmlinuz || exit 1
mcopy -i disk.img@@1M initrd.img ::initrd.img || exit 1
mcopy -i disk.img@@1M syslinux.cfg ::syslinux.cfg || exit 1
syslinux --offset $((2048 * 512)) --install disk.img || exit 1
dd if=/usr/lib/SYSLINUX/mbr.bin of=disk.img conv=notrunc bs=440 count=1 status=none
cat > bochsrc <<EOF
megs: 1024
cpu: model=corei7_skylake_x, count=$SMP, ips=$IPS, reset_on_triple_fault=1
clock: sync=none, time0=local
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/vgabios/vgabios.bin
display_library: term
ata0-master: type=disk, path=disk.img, mode=flat
boot: disk
com1: enabled=1, mode=file, dev=serial.log
log: bochs.log
panic: action=fatal
error: action=report
info: action=ignore
debug: action=ignore
speaker: enabled=0
EOF
echo c > bochs.rc
t_built=$(date +%s.%N)

# --- boot: a guest power-off ends Bochs with status 1 ---
# Debian's Bochs is built with its debugger, and then the term display
# always draws the guest's screen on a pseudo-terminal of its own
# ("Bochs connected to screen /dev/pts/N"), waiting for someone to read
# it; once that buffer fills, Bochs blocks for good.  We read it.
# meson sets MALLOC_PERTURB_, and Bochs 2.7 then overflows a buffer it
# never initialized ("*** buffer overflow detected ***").
timeout -k 10 $TIMEOUT env -u MALLOC_PERTURB_ bochs-bin -q -f bochsrc -rc bochs.rc \
	< /dev/null > bochs.out 2>&1 &
bpid=$!
drain=
for i in $(seq 100); do
	pts=$(sed -n 's/^Bochs connected to screen "\(.*\)"/\1/p' bochs.out)
	if [ -n "$pts" ]; then
		# raw, no echo: no line to fill, nothing sent back
		stty -F "$pts" raw -echo 2>/dev/null
		cat "$pts" > /dev/null 2>&1 &
		drain=$!
		break
	fi
	kill -0 $bpid 2>/dev/null || break
	sleep 0.1
done
[ -n "$drain" ] || diag "no Bochs screen to drain (bochs.out: $(tail -2 bochs.out | tr '\n' ' '))"
wait $bpid
brc=$?
[ -n "$drain" ] && kill $drain 2>/dev/null
t_end=$(date +%s.%N)
tr -d '\r' < serial.log > serial.txt
wall=$(awk -v a="$t_built" -v b="$t_end" 'BEGIN { printf "%.0f", b - a }')
prep=$(awk -v a="$t_start" -v b="$t_built" 'BEGIN { printf "%.0f", b - a }')

# --- bench: best figure of each side, ratio ours/kvm-intel ---
if [ $BENCH = 1 ]; then
	grep -a '^BENCHDATA' serial.txt > benchdata.txt
	awk '
	{ k = $2 " " $3; if (!(k in best) || $4 < best[k]) best[k] = $4 }
	END {
		split("pio_exit_us start_us", m, " ")
		split("PIO exit round trip|tiny-guest start (VM+slot+vCPU+run to HLT)", w, "|")
		for (i = 1; i <= 2; i++) {
			v = best["vmm " m[i]]; k = best["kvm " m[i]]
			if (v > 0 && k > 0)
				printf "BENCH: %s: /dev/vmm (vmm-intel) %.1f us, /dev/kvm (kvm-intel) %.1f us, ratio vmm/kvm %.2f (target <= 1.00)\n", w[i], v, k, v / k
			else
				printf "BENCH: %s: incomplete (vmm %s, kvm %s): a side failed\n", w[i], v, k
		}
	}' benchdata.txt | tee bench.txt
	echo "bench: Bochs ran $wall s (emulated-time figures: Bochs at $IPS ips)"
	grep -q '^NESTED-BENCH-DONE' serial.txt || { echo "bench: the VM did not finish"; tail -20 serial.txt; }
	exit 0
fi

# --- results as TAP ---
if [ $BUILD_WARN = 0 ]; then emit ok kmod-build-w1-clean; else emit not-ok kmod-build-w1-clean; fi
tap_lines < serial.txt
boot=$(sed -n 's/.*NESTED-BOOTED //p' serial.txt)
done_at=$(sed -n 's/^NESTED-DONE //p' serial.txt)
if grep -q '^NESTED-DONE' serial.txt; then
	emit ok "vm-completed (bochs rc $brc, $wall s)"
else
	emit not-ok "vm-completed: no NESTED-DONE (bochs rc $brc after $wall s: crash or timeout)"
	tail -40 serial.txt | sed 's/^/# /'
	tail -5 bochs.log | sed 's/^/# bochs: /'
fi
diag "wall time: build and pack $prep s, Bochs $wall s (guest clock: init at ${boot:-?} s, done at ${done_at:-?} s)"
tap_end
