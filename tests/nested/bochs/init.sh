#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the Bochs test VM (Intel VMX).  Runs the kmod suite on /dev/kvm
# (mainline kvm-intel, the reference) and then on /dev/vmm (vmm-intel),
# checks the refusal while kvm-intel holds VMX, unload and reload, CPU
# hotplug when there is a second CPU, and a clean kernel log.  Every check
# prints one "PASS: name" / "FAIL: name: why" / "SKIP: name: why" line on
# the serial console; tests/nested/bochs/run.sh turns them into TAP.  The
# last line is NESTED-DONE; without it the host reports a crash or a hang.

/bin/busybox --install -s /bin
# /usr/bin: gdb and sh for the debug-traps suite (run.sh packs them there)
export PATH=/bin:/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
# No tmpfs on /tmp: the root is the initramfs, writable already, and
# run.sh packs the build tree at its own path, which a checkout under /tmp
# would put below /tmp (a tmpfs there hid it: 'can't execute guest-runner').
mkdir -p /tmp
# vmrun's GDB stub listens on 127.0.0.1
ip link set lo up
echo "NESTED-BOOTED $(cut -d' ' -f1 /proc/uptime)"

. /etc/nested.conf
# Exported only when set: kmodbench tests getenv() for NULL.
[ -n "$KMODBENCH_DEBUG" ] && export KMODBENCH_DEBUG
[ -n "$HOSTILE_VERBOSE" ] && export HOSTILE_VERBOSE

up() { cut -d' ' -f1 /proc/uptime; }
# Each phase's guest time, for the runner's time budget figures.
phase() { echo "TIME: phase $1 at $(up) s (guest clock)"; }

. /etc/nested-checks.sh

M=/lib/modules/extra
c1=/sys/devices/system/cpu/cpu1/online

load_kvm() { insmod $M/irqbypass.ko && insmod $M/kvm.ko && insmod $M/kvm-intel.ko; }
unload_kvm() { rmmod kvm_intel && rmmod kvm && rmmod irqbypass; }
load_vmm() { insmod $M/vmm.ko && insmod $M/vmm-intel.ko $VMM_INTEL_ARGS; }
unload_vmm() { rmmod vmm_intel && rmmod vmm; }

# bench/kmod (run.sh --bench-only): kvm-intel and vmm-intel cannot share
# VMX, so the devices take turns, two rounds each; every figure goes
# straight to the console and the host compares the best of each side.
if [ "$NESTED_ONLY" = bench ]; then
	for round in 1 2; do
		for side in ${BENCH_SIDES:-vmm kvm}; do
			# vmm-intel without exit_every_us: no spinning guest
			# here, and the figure must be the plain exit path.
			if [ $side = vmm ]; then
				insmod $M/vmm.ko && insmod $M/vmm-intel.ko
			else
				load_kvm
			fi
			/bin/kmodbench /dev/$side $side
			if [ $side = vmm ]; then unload_vmm; else unload_kvm; fi
		done
	done
	echo "NESTED-BENCH-DONE"
	sleep 2
	poweroff -f
fi

phase kvm
if [ -z "$NESTED_ONLY" ] || [ "$NESTED_ONLY" = kvm ]; then
	check load-kvm-intel load_kvm
	# Bochs 2.7 re-evaluates pending interrupts only when RFLAGS.IF
	# changes, so after a VM entry into a guest with IF=0 from a host with
	# IF=0 no external interrupt causes its VM exit: a guest spinning with
	# interrupts off holds the CPU for good.  vmm-intel gets exit_every_us
	# (the VMX-preemption timer) for that; kvm-intel has nothing alike, so
	# the two tests built on such a guest are left out on it here (they run
	# on kvm-amd in QEMU).  The hostile test checks our limits, not KVM's
	# (as in tests/nested/init.sh: on /dev/kvm only with HOSTILE_KVM).
	why="kvm-intel under Bochs 2.7 cannot stop a guest spinning with IF=0 (docs/kmod.md)"
	if [ -c /dev/kvm ]; then
		run_suite vmmtest-kvm /bin/vmmtest /dev/kvm '!signal'
		[ -x /bin/guest-suite.sh ] &&
			GUEST_SKIP=stop GUEST_SKIP_WHY="$why" \
			run_suite guests-kvm /bin/guest-suite.sh /dev/kvm kvm
		# INT3 and watchpoint traps through KVM_SET_GUEST_DEBUG (meson
		# suite debug-traps): no KVM of the QEMU tier delivers them.
		[ -x /bin/debug-suite.sh ] &&
			run_suite debug-kvm /bin/debug-suite.sh /dev/kvm kvm
		[ -n "$HOSTILE_KVM" ] &&
			run_suite hostile-kvm /bin/hostile /dev/kvm $HOSTILE_KVM
	fi

	# vmm-intel must refuse while kvm-intel owns VMX (a VM is open, so
	# kvm-intel has executed VMXON and CR4.VMXE is set).
	if [ -c /dev/kvm ] && [ -e $M/vmm-intel.ko ]; then
		/bin/vmmtest --hold /dev/kvm 4 &
		sleep 1
		if insmod $M/vmm.ko && ! insmod $M/vmm-intel.ko 2>/dev/null; then
			if dmesg | grep -q "VMX is already in use"; then
				echo "PASS: vmm-intel-refuses-busy-vmx"
			else
				echo "FAIL: vmm-intel-refuses-busy-vmx: no message: $(dmesg | tail -2 | tr '\n' ' ')"
			fi
		else
			echo "FAIL: vmm-intel-refuses-busy-vmx: loaded while kvm-intel active"
			rmmod vmm_intel 2>/dev/null
		fi
		wait
		rmmod vmm 2>/dev/null
	fi
	check unload-kvm-intel unload_kvm
fi

phase vmm
if [ -z "$NESTED_ONLY" ] || [ "$NESTED_ONLY" = vmm ]; then
	if [ ! -e $M/vmm-intel.ko ]; then
		echo "SKIP: load-vmm-intel: no vmm-intel.ko was built"
	else
		check load-vmm-intel load_vmm
	fi
	if [ -c /dev/vmm ]; then
		run_suite vmmtest-vmm /bin/vmmtest /dev/vmm $VMMTEST_FILTER
		[ -x /bin/guest-suite.sh ] &&
			run_suite guests-vmm /bin/guest-suite.sh /dev/vmm vmm
		[ -x /bin/hostile ] && run_suite hostile /bin/hostile /dev/vmm
		# vmm-intel has no guest debugging: it must say so (capability
		# 0, -ENOTTY, so libvm reports -ENOTSUP) and stay usable.
		debug_exe=$(sed -n '/test_host_debug$/p' /bin/debug-files.txt 2>/dev/null)
		[ -n "$debug_exe" ] &&
			check debug-vmm-unsupported env LIBVM_DEVICE=/dev/vmm "$debug_exe" --unsupported
		# CPU hotplug: VMX goes off with a CPU and on again when it
		# returns (only with a second CPU: CPU 0 cannot go offline).
		if [ -w $c1 ]; then
			check cpu-hotplug sh -c "echo 0 > $c1 && /bin/vmmtest /dev/vmm real-out | grep -q PASS && echo 1 > $c1 && taskset 2 /bin/vmmtest /dev/vmm real-out | grep -q PASS"
		else
			echo "SKIP: cpu-hotplug: one CPU (NESTED_SMP=2 tests it)"
		fi
		check unload-vmm-intel unload_vmm
		# A second load must find VMX off again on every CPU.
		check reload-vmm-intel sh -c "insmod $M/vmm.ko && insmod $M/vmm-intel.ko && /bin/vmmtest /dev/vmm real-out | grep -q PASS && rmmod vmm_intel && rmmod vmm"
	fi
fi
phase log
dmesg > /tmp/dmesg.txt
if grep -E "WARNING|BUG|Oops|general protection|leak|Call Trace|refcount_t" /tmp/dmesg.txt > /tmp/bad.txt; then
	echo "FAIL: kernel-log-clean: $(head -3 /tmp/bad.txt | tr '\n' ' ')"
	grep -v "^$" /tmp/dmesg.txt | tail -60
else
	echo "PASS: kernel-log-clean"
fi
[ "$NESTED_DMESG" = 1 ] && grep -E "vmm|kvm" /tmp/dmesg.txt
echo "NESTED-DONE $(up)"
# The serial port drains at 115200 baud: give it time before power-off.
sleep 2
poweroff -f
