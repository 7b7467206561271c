#!/bin/sh
# SPDX-License-Identifier: MIT
# Boot a Debian kernel under vmrun inside a QEMU TCG VM (the host's
# /dev/kvm cannot run Linux guests: DESIGN.md 4) and check the Linux
# platform end to end: bzImage with an initrd and 2 vCPUs, PCI through the
# DSDT, virtio-blk (read, write), virtio-rng, virtio-net over a tap (ping),
# ACPI power off (status 0), reboot (status 2) from a read-only disk, the
# uncompressed vmlinux through its PVH note, and INTx through the _PRT and
# the IOAPIC instead of MSI-X (pci=nomsi).
#
# A manual smoke test and a recipe for the nested Linux boot test, not part
# of `meson test`. Needs qemu-system-x86, linux-image-cloud-amd64,
# busybox-static, cpio and lz4 (to extract the vmlinux).
#
# usage: scripts/linux-nested-smoke.sh BUILD_DIR   (exit 0 pass, 1 fail, 77 skip)
set -u
B=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd)
K=$(ls /boot/vmlinuz-*-cloud-amd64 2>/dev/null | tail -1)
[ -n "$K" ] || { echo "SKIP: no /boot/vmlinuz-*-cloud-amd64"; exit 77; }
V=${K#/boot/vmlinuz-}
M=/usr/lib/modules/$V/kernel
for p in qemu-system-x86_64 cpio lz4; do
	command -v $p >/dev/null || { echo "SKIP: $p missing"; exit 77; }
done
[ -x /bin/busybox ] || { echo "SKIP: busybox-static missing"; exit 77; }
W=$(mktemp -d /tmp/libvm-linux-XXXXXX)
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/inner/bin" "$W/inner/mod" "$W/outer/bin" "$W/outer/mod" "$W/outer/lib" \
	"$W/outer/lib64" "$W/outer/guest"
cp /bin/busybox "$W/inner/bin/"
cp /bin/busybox "$W/outer/bin/"

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
grep -q ro_disk /proc/cmdline || { printf 'WRITTEN-BY-GUEST' | dd of=/dev/vda bs=512 seek=1 conv=sync 2>/dev/null; sync; }
echo INNER-DONE
if grep -q doreboot /proc/cmdline; then reboot -f; else poweroff -f; fi
EOF
chmod +x "$W/inner/init"
(cd "$W/inner" && find . | cpio -o -H newc 2>/dev/null | gzip) > "$W/outer/guest/inner.cpio.gz"
cp "$K" "$W/outer/guest/vmlinuz"
# The uncompressed vmlinux: Debian's cloud kernel is LZ4 (legacy frames).
python3 -c "
import sys
d = open('$K', 'rb').read()
sys.stdout.buffer.write(d[d.find(b'\x02\x21\x4c\x18'):])" | lz4 -dc > "$W/outer/guest/vmlinux" 2>/dev/null

# The outer VM: kvm-amd, tun, vmrun and its libraries.
cp "$M/virt/lib/irqbypass.ko" "$M/arch/x86/kvm/kvm.ko" "$M/arch/x86/kvm/kvm-amd.ko" \
	"$M/drivers/net/tun.ko" "$W/outer/mod/"
cp "$B/examples/vmrun/vmrun" "$W/outer/bin/"
cp "$B/libvm/libvm.so.0" /lib/x86_64-linux-gnu/libc.so.6 "$W/outer/lib/"
cp /lib64/ld-linux-x86-64.so.2 "$W/outer/lib64/"
cat > "$W/outer/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /tmp
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
export LD_LIBRARY_PATH=/lib
for m in irqbypass kvm kvm-amd tun; do insmod /mod/$m.ko; done
printf 'LIBVMDISK-HELLO' > /tmp/disk.img
dd if=/dev/zero bs=1k count=1023 >> /tmp/disk.img 2>/dev/null
run() {	# run NAME vmrun-args...: the guest's log and vmrun's status
	name=$1; shift
	/bin/vmrun -m 256M --initrd /guest/inner.cpio.gz --timeout 240 "$@" </dev/null >/tmp/$name.log 2>&1
	echo "STATUS $name $?"
	sed "s/^/$name: /" /tmp/$name.log | grep -E "INNER|PCI|DISK|RNG|IRQS|vmrun:"
}
(for i in $(seq 1 300); do [ -e /sys/class/net/tap0 ] && break; sleep 0.1; done
 ip link set tap0 up; ip addr add 10.0.0.1/24 dev tap0) &
run bzimage --smp 2 --kernel /guest/vmlinuz --disk /tmp/disk.img --rng --net tap=tap0
echo "WRITTEN: $(dd if=/tmp/disk.img bs=512 skip=1 count=1 2>/dev/null | head -c 16)"
run reboot --kernel /guest/vmlinuz --disk /tmp/disk.img,ro --append "console=ttyS0 panic=-1 ro_disk doreboot"
run pvh --smp 2 --kernel /guest/vmlinux --disk /tmp/disk.img,ro --rng --append "console=ttyS0 panic=-1 ro_disk"
run intx --kernel /guest/vmlinuz --disk /tmp/disk.img,ro --rng --append "console=ttyS0 panic=-1 ro_disk pci=nomsi"
echo OUTER-DONE
poweroff -f
EOF
chmod +x "$W/outer/init"
(cd "$W/outer" && find . | cpio -o -H newc 2>/dev/null | gzip -1) > "$W/outer.cpio.gz"
timeout 900 qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m 2048 -nographic -no-reboot \
	-kernel "$K" -initrd "$W/outer.cpio.gz" -append "console=ttyS0 panic=-1 quiet" \
	</dev/null 2>&1 | tr -d '\r' > "$W/serial.log"
grep -E "^(STATUS|WRITTEN|bzimage|reboot|pvh|OUTER)" "$W/serial.log"

fail=0
expect() {	# expect PATTERN: one line of the log matches
	if grep -qE "$1" "$W/serial.log"; then echo "PASS: $1"; else echo "FAIL: $1"; fail=1; fi
}
expect "^STATUS bzimage 0$"
expect "^bzimage: INNER-BOOTED cpus=2"
expect "^bzimage: PCI 0000:00:01.0 0x1af4:0x1042 driver=virtio-pci"
expect "^bzimage: DISK: LIBVMDISK-HELLO"
expect "^bzimage: RNG: virtio_rng"
expect "^bzimage: INNER-PING-OK"
expect "^WRITTEN: WRITTEN-BY-GUEST"
expect "^STATUS reboot 2$"
expect "^STATUS pvh 0$"
expect "^pvh: INNER-BOOTED cpus=2"
expect "^pvh: DISK: LIBVMDISK-HELLO"
expect "^intx: IRQS .*IO-APIC.*fasteoi.*virtio"
expect "^intx: DISK: LIBVMDISK-HELLO"
expect "^intx: RNG: virtio_rng"
exit $fail
