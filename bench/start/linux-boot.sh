#!/bin/bash
# SPDX-License-Identifier: MIT
# Linux boot to init, side by side: the same Debian cloud kernel
# (/boot/vmlinuz-*-cloud-amd64) and the same tiny busybox initramfs (its
# /init prints a marker with the guest's uptime and powers off) under
# vmrun, qemu-system-x86_64 -accel kvm -M pc, -M microvm, and kvmtool's
# lkvm where it is installed (Debian 12 has no kvmtool package). Rounds are
# interleaved with the launchers rotated; the script prints each side's
# median wall time from launch to the marker, the kernel's own time to
# init (its /proc/uptime at the marker, the guest clock) beside it, and the
# ratios vmrun/pc, vmrun/microvm (and vmrun/kvmtool).
#
# Linux needs a KVM that can run it: mainline kvm-amd or kvm-intel. Where
# this machine has neither loaded (no /dev/kvm, or a paravirtual KVM such
# as kvm_pvm), the whole run happens inside scripts/kvmhost (an emulated
# host with kvm-amd under QEMU TCG); only ratios from one run mean
# anything there.
#
# usage: bench/start/linux-boot.sh [--rounds N] [--mem MIB] [--append TEXT]
#                                  [--local | --kvmhost] VMRUN
# --profile DIR: also keep each boot's console log in DIR.
# --sides "vmrun pc ...": only these launchers (default: all there are).
set -u
SIDES=
ROUNDS=10
MEM=256
EXTRA=
WHERE=auto
LOGDIR=
while [ $# -gt 0 ]; do
	case $1 in
	--rounds) ROUNDS=$2; shift ;;
	--mem) MEM=$2; shift ;;
	--append) EXTRA=$2; shift ;;
	--local) WHERE=local ;;
	--kvmhost) WHERE=kvmhost ;;
	--profile) LOGDIR=$2; shift ;;
	--sides) SIDES=$2; shift ;;
	-*) echo "linux-boot: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
	shift
done
VMRUN=$(readlink -f "${1:?usage: $0 [options] VMRUN}")
SRC=$(cd "$(dirname "$0")/../.." && pwd)
K=$(ls /boot/vmlinuz-*-cloud-amd64 2>/dev/null | tail -1)
[ -n "$K" ] || { echo "SKIP: no /boot/vmlinuz-*-cloud-amd64 (apt-get install linux-image-cloud-amd64)"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || { echo "SKIP: qemu-system-x86_64 missing"; exit 77; }
[ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 || { echo "SKIP: busybox-static missing"; exit 77; }

linux_kvm() { [ -d /sys/module/kvm_amd ] || [ -d /sys/module/kvm_intel ]; }
if [ $WHERE = auto ]; then
	if [ -r /dev/kvm ] && [ -w /dev/kvm ] && linux_kvm; then WHERE=local; else WHERE=kvmhost; fi
fi
if [ $WHERE = kvmhost ]; then
	echo "linux-boot: no KVM that boots Linux here (kvm_amd/kvm_intel not loaded): running inside scripts/kvmhost (kvm-amd under QEMU TCG)"
	rw=$(mktemp -d /tmp/libvm-linux-boot-XXXXXX)
	args=(--local --rounds "$ROUNDS" --mem "$MEM")
	[ -n "$EXTRA" ] && args+=(--append "$EXTRA")
	[ -n "$SIDES" ] && args+=(--sides "$SIDES")
	[ -n "$LOGDIR" ] && { mkdir -p "$LOGDIR"; LOGDIR=$(cd "$LOGDIR" && pwd); args+=(--profile "$LOGDIR"); }
	"$SRC/scripts/kvmhost" --rw "$rw" ${LOGDIR:+--rw "$LOGDIR"} --mem 3072 --timeout 3000 -- \
		env TMPDIR="$rw" bash "$SRC/bench/start/linux-boot.sh" "${args[@]}" "$VMRUN"
	s=$?
	rm -rf "$rw"
	exit $s
fi

W=$(mktemp -d "${TMPDIR:-/tmp}/linux-boot-XXXXXX")
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/root/bin" "$W/root/proc"
cp /bin/busybox "$W/root/bin/"
cat > "$W/root/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
read up idle < /proc/uptime
echo "LIBVM-INIT-MARKER uptime=$up"
if /bin/busybox grep -q libvm_profile /proc/cmdline; then
	/bin/busybox dmesg | /bin/busybox grep -v " calling "
	echo "LIBVM-PROFILE-END"
fi
/bin/busybox poweroff -f
EOF
chmod +x "$W/root/init"
(cd "$W/root" && find . | cpio -o -H newc 2>/dev/null | gzip -1) > "$W/initrd"
CMDLINE="console=ttyS0 panic=-1${EXTRA:+ $EXTRA}"

sides=(vmrun pc microvm)
if command -v lkvm >/dev/null; then sides+=(kvmtool); else
	echo "linux-boot: kvmtool (lkvm) is not installed (Debian 12 has no package): left out"
fi
[ -n "$SIDES" ] && read -r -a sides <<< "$SIDES"

launch() {
	case $1 in
	vmrun) "$VMRUN" -m "${MEM}M" --timeout 300 --kernel "$K" --initrd "$W/initrd" \
		--append "$CMDLINE" ;;
	pc) qemu-system-x86_64 -accel kvm -M pc -m "$MEM" -smp 1 -nographic -nodefaults \
		-no-reboot -serial stdio -kernel "$K" -initrd "$W/initrd" -append "$CMDLINE" ;;
	microvm) qemu-system-x86_64 -accel kvm -M microvm -m "$MEM" -smp 1 -nographic \
		-nodefaults -no-reboot -serial stdio -kernel "$K" -initrd "$W/initrd" \
		-append "$CMDLINE" ;;
	kvmtool) lkvm run -k "$K" -i "$W/initrd" -m "$MEM" -c 1 -p "$CMDLINE" ;;
	esac
}

# One boot: wall seconds to the marker, and the guest's uptime in it.
boot() {
	local side=$1 log=$W/$1.log t0 t1
	t0=$(date +%s.%N)
	launch "$side" </dev/null 2>&1 | while IFS= read -r line; do
		case $line in
		*LIBVM-INIT-MARKER*) date +%s.%N > "$W/mark"; echo "$line" ;;
		*) echo "$line" ;;
		esac
	done > "$log"
	if [ ! -s "$W/mark" ]; then
		echo "FAIL: $side never reached the marker; its console:" >&2
		tail -20 "$log" >&2
		return 1
	fi
	t1=$(cat "$W/mark")
	rm -f "$W/mark"
	up=$(sed -n 's/.*LIBVM-INIT-MARKER uptime=\([0-9.]*\).*/\1/p' "$log" | head -1)
	echo "$t0 $t1" | awk '{printf "%.3f\n", $2 - $1}' >> "$W/$side.wall"
	echo "$up" >> "$W/$side.up"
	[ -n "$LOGDIR" ] && cp "$log" "$LOGDIR/$side-$2.log"
	printf '  %-8s %6.2f s wall, %6.2f s guest uptime at init\n' "$side" "$(tail -1 "$W/$side.wall")" "$up"
	return 0
}

echo "Linux boot to init: $(basename "$K"), busybox initramfs, 1 vCPU, ${MEM} MiB, \"$CMDLINE\", $ROUNDS rounds"
n=${#sides[@]}
for ((r = 0; r < ROUNDS; r++)); do
	echo "round $((r + 1)):"
	for ((i = 0; i < n; i++)); do
		boot "${sides[(r + i) % n]}" "$r" || exit 1
	done
done
median() { sort -g "$1" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "median of $ROUNDS rounds (launch to marker; guest uptime at init):"
for s in "${sides[@]}"; do
	printf '  %-8s %6.2f s wall  %6.2f s kernel\n' "$s" "$(median "$W/$s.wall")" "$(median "$W/$s.up")"
done
v=$(median "$W/vmrun.wall")
for s in "${sides[@]:1}"; do
	printf 'ratio vmrun/%s: %.2f (wall), %.2f (kernel time to init)\n' "$s" \
		"$(echo "$v $(median "$W/$s.wall")" | awk '{print $1/$2}')" \
		"$(echo "$(median "$W/vmrun.up") $(median "$W/$s.up")" | awk '{print $1/$2}')"
done
