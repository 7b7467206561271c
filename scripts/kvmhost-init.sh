#!/bin/busybox sh
# SPDX-License-Identifier: MIT
#
# /init of the emulated KVM host that scripts/kvmhost boots. It mounts the
# host's root (virtiofs tag "host") under a tmpfs overlay, binds the
# directories the caller named read-write, loads the hypervisor module,
# and runs the command in a chroot of that tree, as the caller's user, in
# the caller's directory and environment, with its output on the
# virtio-serial ports "stdout" and "stderr". The status goes to the file
# "status" of the work directory (which is bound read-write), then the VM
# powers off. Any failure before the command runs is written there too, as
# a sentence, and kvmhost prints it.

/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
# The loopback interface, for commands that talk to themselves over
# 127.0.0.1 (vmrun's GDB stub and its test).
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up

fail() {	# fail MESSAGE: say it on the console and, when we can, to kvmhost
	echo "kvmhost-init: $*"
	[ -n "${WORK:-}" ] && [ -d "/host$WORK" ] && echo "$*" > "/host$WORK/status" && sync
	poweroff -f
}

for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci \
	 virtio_console fuse virtiofs overlay; do
	insmod /mod/$m.ko || fail "insmod $m failed"
done
mount -t virtiofs host /host || fail "cannot mount the host's root (virtiofs)"
mount -t tmpfs -o mode=0755 ovl /ovl
mkdir -p /ovl/upper /ovl/work
mount -t overlay root -o lowerdir=/host,upperdir=/ovl/upper,workdir=/ovl/work /root ||
	fail "cannot make the overlay root"

# The work directory comes on the command line (kvmhost=DIR); its conf.sh
# holds the caller's settings: KVM, KMOD, CWD, RUN_UID, RUN_GID, and RW
# (one directory a line between the parentheses, quoted for the shell).
for a in $(cat /proc/cmdline); do
	case $a in kvmhost=*) WORK=${a#kvmhost=} ;; esac
done
[ -n "${WORK:-}" ] && [ -e "/host$WORK/conf.sh" ] || fail "no kvmhost= work directory"
# The heartbeat kvmhost's stall watch reads (--stall): while this kernel
# schedules anything, the file "alive" is rewritten every 5 s.
( while :; do cut -d' ' -f1 /proc/uptime > "/host$WORK/alive"; sleep 5; done ) &
eval "$(grep -E '^(KVM|KMOD|CWD|RUN_UID|RUN_GID)=' "/host$WORK/conf.sh")"
rw=$(sed -n '/^RW=($/,/^)$/p' "/host$WORK/conf.sh" | sed '1d;$d')
echo "$rw" | while IFS= read -r d; do
	d=$(eval "echo $d")
	mount --bind "/host$d" "/root$d" || echo "kvmhost-init: cannot bind $d"
done

mount -t proc proc /root/proc
mount -t sysfs sys /root/sys
mount -t devtmpfs dev /root/dev
mkdir -p /root/dev/pts /root/dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts /root/dev/pts
[ -L /root/dev/ptmx ] || { rm -f /root/dev/ptmx; ln -s pts/ptmx /root/dev/ptmx; }
mount -t tmpfs -o mode=1777 shm /root/dev/shm
mount -t tmpfs -o mode=0755 run /root/run
mkdir -p /root/run/lock /root/run/user

case $KVM in
amd) chroot /root modprobe kvm_amd || fail "modprobe kvm_amd failed" ;;
vmm) chroot /root sh -c "insmod $KMOD/vmm.ko && insmod $KMOD/vmm-amd.ko" ||
	fail "loading vmm.ko + vmm-amd.ko failed" ;;
esac
# /dev/kvm and /dev/vmm for everyone, as udev's rules make them on Debian
for d in /root/dev/kvm /root/dev/vmm; do [ -e $d ] && chmod 0666 $d; done

port() {	# port NAME: the device of the virtio-serial port NAME
	for p in /sys/class/virtio-ports/*; do
		[ "$(cat $p/name 2>/dev/null)" = "$1" ] && echo /dev/${p##*/} && return
	done
}
out=$(port stdout)
err=$(port stderr)
[ -n "$out" ] && [ -n "$err" ] || fail "no virtio-serial ports"
chmod 0666 /root$out /root$err

echo "KVMHOST-READY $(cut -d' ' -f1 /proc/uptime)"
if [ "$RUN_UID" = 0 ]; then
	as_caller=
elif chroot /root getent passwd "$RUN_UID" >/dev/null; then
	as_caller="/usr/bin/setpriv --reuid=$RUN_UID --regid=$RUN_GID --init-groups"
else
	as_caller="/usr/bin/setpriv --reuid=$RUN_UID --regid=$RUN_GID --clear-groups"
fi
chroot /root $as_caller /bin/bash -c '. "$1/env.sh"; cd "$2" || exit 125; eval "exec $(cat "$1/command")"' \
	kvmhost "$WORK" "$CWD" </dev/null >/root$out 2>/root$err
echo $? > /root$WORK/status
sync
poweroff -f
