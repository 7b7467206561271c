#!/bin/sh
# SPDX-License-Identifier: MIT
# The nested Linux boot test. Our machines' /dev/kvm, where there is one,
# cannot run Linux guests (DESIGN.md 4), so this runs vmrun inside the
# emulated KVM host (scripts/kvmhost: QEMU TCG -cpu max, AMD SVM with nested
# paging, mainline kvm-amd, or our vmm.ko + vmm-amd.ko with --vmm) on the
# Debian cloud kernel (the same package the emulated host boots) with a
# busybox initramfs built here. The Linux guest loads virtio_pci, virtio_blk,
# virtio_net and virtio_rng from the kernel's own modules, mounts the
# virtio disk (ext2 made by the outer VM), writes a file and syncs, reads
# /dev/hwrng, brings up eth0 and pings the tap's other end, checks that two
# CPUs are online, prints one line per check, and powers off. From outside
# the guest, the test then finds the file's contents in the disk image.
# Further runs: reboot (status 2) from a read-only disk, the uncompressed
# vmlinux through its PVH note, and INTx through the _PRT and the IOAPIC
# instead of MSI-X (pci=nomsi). The first run's vmrun -v shows that MSI-X
# went through MSI routes and irqfds. The time from vmrun's start to the
# guest's init is printed as BOOT-TIME lines (docs/linux.md).
#
# Needs what scripts/kvmhost needs (qemu-system-x86, linux-image-cloud-amd64,
# busybox-static, cpio), lz4 (to extract the vmlinux) and python3;
# scripts/test.sh installs them.
#
# usage: tests/nested/linux-boot.sh BUILD_DIR [--vmm]   (exit 0 pass, 1 fail, 77 skip)
#   --vmm   boot on /dev/vmm (our modules) instead of kvm-amd's /dev/kvm
set -u
B=$(cd "${1:?usage: $0 BUILD_DIR [--vmm]}" && pwd -P)
SRC=$(cd "$(dirname "$0")/../.." && pwd -P)
KVMHOST_ARGS=
[ "${2:-}" = --vmm ] && KVMHOST_ARGS=--vmm
K=$(ls /boot/vmlinuz-*-cloud-amd64 2>/dev/null | tail -1)
[ -n "$K" ] || { echo "SKIP: no /boot/vmlinuz-*-cloud-amd64"; exit 77; }
V=${K#/boot/vmlinuz-}
M=/usr/lib/modules/$V/kernel
for p in cpio lz4 python3; do
	command -v $p >/dev/null || { echo "SKIP: $p missing"; exit 77; }
done
why=$("$SRC/scripts/kvmhost" --check 2>&1) || { echo "SKIP: $why"; exit 77; }
W=$(mktemp -d /tmp/libvm-linux-XXXXXX)
W=$(cd "$W" && pwd -P)
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/inner/bin" "$W/inner/mod" "$W/guest"
cp /bin/busybox "$W/inner/bin/"

# The inner guest: virtio modules (Debian builds them as modules) and checks.
for m in drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_modern_dev \
	 drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci drivers/block/virtio_blk \
	 net/core/failover drivers/net/net_failover drivers/net/virtio_net \
	 drivers/char/hw_random/virtio-rng; do
	cp "$M/$m.ko" "$W/inner/mod/"
done
cat > "$W/inner/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
echo "INNER-BOOTED cpus=$(grep -c ^processor /proc/cpuinfo)"
echo "INNER-CLOCKSOURCE $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
echo "INNER-SERIO $(ls /sys/bus/serio/devices 2>/dev/null | tr '\n' ' ')"
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk \
	 failover net_failover virtio_net virtio-rng; do
	insmod /mod/$m.ko || echo "INNER: insmod $m failed"
done
sleep 1
for d in /sys/bus/pci/devices/*; do
	echo "PCI $(basename $d) $(cat $d/vendor):$(cat $d/device) driver=$(basename "$(readlink $d/driver)")"
done
echo "DISK: $(head -c 15 /dev/vda)"
echo "RNG: $(cat /sys/class/misc/hw_random/rng_current) $(dd if=/dev/hwrng bs=8 count=1 2>/dev/null | od -An -x)"
if [ -e /sys/class/net/eth0 ]; then
	ip link set eth0 up; ip addr add 10.0.0.2/24 dev eth0
	ping -c 3 -W 3 10.0.0.1 >/dev/null && echo "INNER-PING-OK"
fi
grep -E "virtio" /proc/interrupts | sed 's/^ */IRQS /' | head -4
mkdir -p /mnt
if grep -q ro_disk /proc/cmdline; then
	mount -o ro /dev/vda /mnt && echo "INNER-MOUNT-RO $(cat /mnt/hello.txt 2>/dev/null)"
else
	mount /dev/vda /mnt && echo "INNER-FILE-WRITTEN-BY-GUEST" > /mnt/hello.txt && sync &&
		umount /mnt && echo "INNER-WROTE-FILE"
fi
echo INNER-DONE
if grep -q doreboot /proc/cmdline; then reboot -f; else poweroff -f; fi
EOF
chmod +x "$W/inner/init"
(cd "$W/inner" && find . | cpio -o -H newc 2>/dev/null | gzip) > "$W/guest/inner.cpio.gz"
cp "$K" "$W/guest/vmlinuz"
# The uncompressed vmlinux: Debian's cloud kernel is LZ4 (legacy frames).
python3 -c "
import sys
d = open('$K', 'rb').read()
sys.stdout.buffer.write(d[d.find(b'\x02\x21\x4c\x18'):])" | lz4 -dc > "$W/guest/vmlinux" 2>/dev/null

# The script of the emulated host: this machine's programs, vmrun from the
# build tree, the guest's files in $W (written through), busybox for the
# tools a minimal Debian may lack (mke2fs, ip).
cat > "$W/outer.sh" <<'EOF'
#!/bin/sh
W=$1
B=$2
G=$W/guest
cd /tmp || exit 1
modprobe tun
dd if=/dev/zero of=/tmp/disk.img bs=1k count=8192 2>/dev/null
busybox mke2fs -q -F /tmp/disk.img >/dev/null 2>&1 || echo "OUTER: mke2fs failed"
# ext2 leaves its first 1 KiB (the boot block) alone: a marker to read raw.
printf 'LIBVMDISK-HELLO' | dd of=/tmp/disk.img conv=notrunc 2>/dev/null
boot_inner() {	# boot_inner NAME vmrun-args...: /tmp/NAME.log and /tmp/status
	name=$1; shift
	# vmrun makes tap0 when it starts and it goes when vmrun ends: give
	# each boot's tap the address the guest pings.
	case "$*" in *tap=tap0*)
		(for i in $(seq 1 300); do [ -e /sys/class/net/tap0 ] && break; sleep 0.1; done
		 busybox ip link set tap0 up; busybox ip addr add 10.0.0.1/24 dev tap0) & ;;
	esac
	read t0 _ < /proc/uptime
	# Each line stamped with the uptime it arrived at, for BOOT-TIME.
	{ "$B/examples/vmrun/vmrun" -m 256M --initrd $G/inner.cpio.gz --timeout 120 "$@" </dev/null 2>&1
	  echo $? > /tmp/status; } |
		while IFS= read -r line; do read t _ < /proc/uptime; echo "$t $line"; done > /tmp/$name.log
}
run() {	# run NAME vmrun-args...: the guest's log and vmrun's status
	boot_inner "$@"
	# The second vCPU of a 2-vCPU guest that triple-faults (vmrun status
	# 4; seen with that vCPU in its reset state, RIP 0xfff0, as if it ran
	# after INIT without its SIPI), stops on an emulation error (6) or
	# hangs the boot (124, right after "PCI: CLS"), a few seconds into
	# Linux's boot: about 1 boot in 5 to 10 on 2026-11-24, not traced
	# (kvm-amd under QEMU 7.2's TCG SVM model, docs/kmod.md). Such a boot
	# is shown (RETRYING) and done once more; a second failure fails.
	case $(cat /tmp/status) in
	4|6|124)	echo "RETRYING $name: vmrun status $(cat /tmp/status); the first boot ended with:"
		tail -n 12 /tmp/$name.log | sed "s/^[0-9.]* /RETRYING $name: /"
		boot_inner "$@" ;;
	esac
	echo "STATUS $name $(cat /tmp/status)"
	sed "s/^[0-9.]* /$name: /" /tmp/$name.log | grep -E "INNER|PCI|DISK|RNG|IRQS|vmrun:"
	# a guest that never reached the end of its init: how it ended
	grep -q INNER-DONE /tmp/$name.log ||
		tail -n 25 /tmp/$name.log | sed "s/^[0-9.]* /$name-end: /"
	awk -v t0="$t0" -v n="$name" '/INNER-BOOTED/ { printf "BOOT-TIME %s %.2f s from vmrun start to the guest init\n", n, $1 - t0; exit }' /tmp/$name.log
}
run bzimage -v --smp 2 --kernel $G/vmlinuz --disk /tmp/disk.img --rng --net tap=tap0
# From outside the guest: the file it wrote is in the disk image.
grep -q INNER-FILE-WRITTEN-BY-GUEST /tmp/disk.img && echo "IMAGE-HAS-GUEST-FILE"
run reboot --kernel $G/vmlinuz --disk /tmp/disk.img,ro --append "console=ttyS0 panic=-1 ro_disk doreboot"
run pvh --smp 2 --kernel $G/vmlinux --disk /tmp/disk.img,ro --rng --append "console=ttyS0 panic=-1 ro_disk"
run intx --kernel $G/vmlinuz --disk /tmp/disk.img,ro --rng --append "console=ttyS0 panic=-1 ro_disk pci=nomsi"
echo OUTER-DONE
EOF
# A whole run takes 50-70 s (about 2 min on a loaded machine), an inner
# boot about 10 s: vmrun gets 120 s per boot and the outer VM 360 s, so a
# hung outer VM is booted once more within meson's 900 s. The console is
# written unbuffered, so a hung run still shows how far it got.
boot_outer() {
	# shellcheck disable=SC2086
	"$SRC/scripts/kvmhost" $KVMHOST_ARGS --kernel "$V" --smp 2 --mem 2048 --timeout 360 \
		--rw "$W" -- sh "$W/outer.sh" "$W" "$B" </dev/null 2>&1 |
		stdbuf -o0 tr -d '\r' > "$W/serial.log"
}
boot_outer
# The outer TCG VM itself (kvm-amd under QEMU's SVM model) now and then
# dies or hangs before its script ends (docs/kmod.md saw kvm-amd hang a
# 2-CPU TCG VM in VM creation; on 2026-11-24 one run hung for the whole
# 900 s while a second nested VM loaded the machine). That is the test bed failing, not what is
# tested: without OUTER-DONE, say so with the console's end and boot it
# once more. A run that reached OUTER-DONE is judged as it is.
if ! grep -q "^OUTER-DONE" "$W/serial.log"; then
	echo "--- RETRYING: the outer VM ended before its script did; its console's last 30 lines:"
	tail -n 30 "$W/serial.log"
	echo "--- end of the failed attempt"
	boot_outer
fi
grep -E "^(STATUS|IMAGE|BOOT-TIME|RETRYING|bzimage|reboot|pvh|intx|OUTER)" "$W/serial.log"

fail=0
expect() {	# expect PATTERN: one line of the log matches
	if grep -qE "$1" "$W/serial.log"; then echo "PASS: $1"; else echo "FAIL: $1"; fail=1; fi
}
expect "^STATUS bzimage 0$"
expect "^bzimage: INNER-BOOTED cpus=2"
# The hypervisor bit lets Linux find KVM's leaves and use kvm-clock; the
# DSDT's PNP0303/PNP0F13 give it both PS/2 ports (docs/cpu.md, devices.md).
expect "^bzimage: INNER-CLOCKSOURCE kvm-clock"
expect "^bzimage: INNER-SERIO serio0 serio1"
expect "^bzimage: PCI 0000:00:01.0 0x1af4:0x1042 driver=virtio-pci"
expect "^bzimage: DISK: LIBVMDISK-HELLO"
expect "^bzimage: RNG: virtio_rng"
expect "^bzimage: INNER-PING-OK"
expect "^bzimage: INNER-WROTE-FILE"
# MSI-X went out through MSI routes and irqfds (vmrun -v prints libvm's count).
expect "^bzimage: vmrun: libvm: pci virtio-blk: [1-9][0-9]* MSI-X messages through irqfd, 0 with"
expect "^bzimage: vmrun: libvm: pci virtio-net: [1-9][0-9]* MSI-X messages through irqfd, 0 with"
expect "^bzimage: vmrun: libvm: pci virtio-rng: [1-9][0-9]* MSI-X messages through irqfd, 0 with"
expect "^IMAGE-HAS-GUEST-FILE"
expect "^BOOT-TIME bzimage "
expect "^STATUS reboot 2$"
expect "^reboot: INNER-MOUNT-RO INNER-FILE-WRITTEN-BY-GUEST"
expect "^STATUS pvh 0$"
expect "^pvh: INNER-BOOTED cpus=2"
expect "^pvh: DISK: LIBVMDISK-HELLO"
expect "^intx: IRQS .*IO-APIC.*fasteoi.*virtio"
expect "^intx: DISK: LIBVMDISK-HELLO"
expect "^intx: RNG: virtio_rng"
if [ "$fail" -ne 0 ]; then
	echo "--- the last 40 lines of the outer VM's console:"
	tail -n 40 "$W/serial.log"
fi
exit $fail
