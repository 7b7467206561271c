# SPDX-License-Identifier: GPL-2.0
#
# Sourced by the scripts that run inside the nested tiers' VMs (suite.sh
# in the emulated KVM host, bochs/init.sh in Bochs): one result line per
# check, "PASS: name" or "FAIL: name: why", which the runners turn into
# TAP (tier.sh).
#   check NAME CMD...      PASS or FAIL from CMD's exit status, with the
#                          last lines of its output on a FAIL
#   run_suite NAME CMD...  CMD prints its own PASS/FAIL lines; a crash
#                          (killed by a signal) is a FAIL, and the end of
#                          its standard error is shown

check() {
	name=$1; shift
	if out=$("$@" 2>&1); then
		echo "PASS: $name"
	else
		echo "FAIL: $name: $(echo "$out" | tail -3 | tr '\n' ' ')"
	fi
}

run_suite() {
	name=$1; shift
	"$@" 2>/tmp/stderr
	rc=$?
	if [ $rc -ge 128 ]; then
		echo "FAIL: $name: killed by signal $((rc - 128))"
	fi
	tail -5 /tmp/stderr
}
