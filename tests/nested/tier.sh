# SPDX-License-Identifier: GPL-2.0
#
# Sourced by the nested tiers' runners (run.sh for QEMU TCG, bochs/run.sh
# for Bochs): the kernel they build for, and their results as TAP, for
# meson's protocol 'tap'. The runner sets TAP_NAME (the tier's name in its
# messages) first.
#   find_kernel KVM_MODULE   KVER: the newest Debian cloud kernel with its
#                   headers and KVM_MODULE (kvm-amd, kvm-intel); empty: none
#   skip WHY        the whole tier skips: "1..0 # SKIP", exit 77
#   diag TEXT       a TAP comment
#   emit ok|not-ok NAME
#   tap_lines       PASS:/FAIL:/SKIP: lines on standard input become results;
#                   BENCH:, TIME:, RETRY: and kernel-out lines
#                   become comments; anything else is dropped
#   tap_end         the plan and the totals; fails when a result did

tap_n=0
tap_fail=0

find_kernel() {
	KVER=
	for v in /boot/vmlinuz-*-cloud-amd64; do
		[ -e "$v" ] || continue
		k=${v#/boot/vmlinuz-}
		if [ -d "/usr/src/linux-headers-$k" ] &&
		   [ -e "/lib/modules/$k/kernel/arch/x86/kvm/$1.ko" ]; then
			KVER=$k
		fi
	done
}

skip() {
	echo "1..0 # SKIP $*"
	echo "$TAP_NAME: skipped: $*" >&2
	exit 77
}

diag() { echo "# $*"; }

emit() {
	tap_n=$((tap_n + 1))
	if [ "$1" = ok ]; then
		echo "ok $tap_n - $2"
	else
		echo "not ok $tap_n - $2"
		tap_fail=$((tap_fail + 1))
	fi
}

tap_lines() {
	local line
	while IFS= read -r line; do
		case $line in
		PASS:*) emit ok "${line#PASS: }" ;;
		FAIL:*) emit not-ok "${line#FAIL: }" ;;
		SKIP:*) tap_n=$((tap_n + 1)); echo "ok $tap_n - ${line#SKIP: } # SKIP" ;;
		BENCH:* | TIME:* | RETRY:* | kernel-out*) diag "$line" ;;
		esac
	done
}

tap_end() {
	echo "1..$tap_n"
	echo "# $((tap_n - tap_fail)) passed, $tap_fail failed"
	[ $tap_fail = 0 ]
}
