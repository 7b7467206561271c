# SPDX-License-Identifier: MIT
# Sourced by the project's scripts (test.sh, demo.sh, the benchmarks): where
# do programs that need a KVM run? Sets
#   KVM_WHERE        "host" (this machine's /dev/kvm, or $LIBVM_DEVICE) or
#                    "kvmhost" (the emulated KVM host, scripts/kvmhost)
#   KVM_WHERE_TEXT   the same in words, with the reason
#   HOST_BUG_SUITES_OFF / _ON   meson test arguments leaving out / selecting
#                    the host-kvm-* suites where KVM_WHERE=host but the
#                    host's KVM is not mainline kvm-amd/kvm-intel (our
#                    machines' kvm_pvm gets them wrong or lacks what they
#                    need: docs/test-kernels.md);
#                    those suites then run in the emulated host instead
#   DEBUG_TRAPS_OFF  "--no-suite debug-traps" unless the KVM suites run on
#                    this machine's mainline kvm-amd/kvm-intel: the tests
#                    of INT3 and watchpoint traps (KVM_SET_GUEST_DEBUG) need
#                    a KVM that delivers them, and neither kvm_pvm nor
#                    kvm-amd in the emulated host does (docs/debugging.md);
#                    the Bochs tier runs them on kvm-intel instead (meson
#                    test kmod-nested-intel, suite nested)
# and prints one line saying which. LIBVM_KVMHOST=always|never|auto
# (default auto: the host's KVM when it is usable).
# Expects the current directory to be the top of the source tree.

HOST_BUG_SUITES="host-kvm-level-eoi host-kvm-timer-mask host-kvm-irq-window host-kvm-features"
HOST_BUG_SUITES_OFF=
HOST_BUG_SUITES_ON=
case ${LIBVM_KVMHOST:-auto} in
always)
	KVM_WHERE=kvmhost
	KVM_WHERE_TEXT="the emulated KVM host (LIBVM_KVMHOST=always)" ;;
never)
	KVM_WHERE=host
	KVM_WHERE_TEXT="this machine (LIBVM_KVMHOST=never)" ;;
auto)
	if kvm_probe=$(scripts/kvmhost --probe); then
		KVM_WHERE=host
		KVM_WHERE_TEXT="this machine ($kvm_probe)"
	elif kvm_check=$(scripts/kvmhost --check 2>&1); then
		KVM_WHERE=kvmhost
		KVM_WHERE_TEXT="the emulated KVM host (QEMU TCG with kvm-amd: $kvm_probe)"
	else
		KVM_WHERE=host
		KVM_WHERE_TEXT="this machine, where they will skip: $kvm_probe, and ${kvm_check#kvmhost: }"
	fi ;;
*)
	echo "LIBVM_KVMHOST must be always, never or auto, not '$LIBVM_KVMHOST'" >&2
	exit 2 ;;
esac

if [ "$KVM_WHERE" = host ] && [ -e "${LIBVM_DEVICE:-/dev/kvm}" ] &&
   [ ! -d /sys/module/kvm_amd ] && [ ! -d /sys/module/kvm_intel ] &&
   [ "${LIBVM_DEVICE:-/dev/kvm}" = /dev/kvm ]; then
	for suite in $HOST_BUG_SUITES; do
		HOST_BUG_SUITES_OFF="$HOST_BUG_SUITES_OFF --no-suite $suite"
		HOST_BUG_SUITES_ON="$HOST_BUG_SUITES_ON --suite $suite"
	done
	if ! scripts/kvmhost --check >/dev/null 2>&1; then
		echo "note: /dev/kvm here is not mainline kvm-amd/kvm-intel and the emulated host cannot run:" \
		     "not running suites $HOST_BUG_SUITES (docs/test-kernels.md)"
		HOST_BUG_SUITES_ON=
	fi
fi
DEBUG_TRAPS_OFF=
if [ "$KVM_WHERE" != host ] || [ "${LIBVM_DEVICE:-/dev/kvm}" != /dev/kvm ] ||
   { [ ! -d /sys/module/kvm_amd ] && [ ! -d /sys/module/kvm_intel ]; }; then
	# shellcheck disable=SC2034 # read by the scripts that source this one
	DEBUG_TRAPS_OFF="--no-suite debug-traps"
	echo "note: suite debug-traps (INT3 and watchpoint traps) needs mainline KVM on real hardware:" \
	     "it runs in the Bochs tier on kvm-intel (kmod-nested-intel), not with the KVM suites here"
fi
echo "KVM: tests and programs that need a KVM run on $KVM_WHERE_TEXT"
