#!/bin/sh
# SPDX-License-Identifier: MIT
# The long fuzzing runs behind the figures in docs/fuzzing.md: each target
# in turn (never two at once), at nice 19, for SECONDS, from its in-tree
# seeds, keeping the grown corpus and the log under OUT/.
# usage: long-run.sh BUILD_DIR OUT SECONDS [TARGET...]
#   BUILD_DIR: a -Dfuzz=enabled build; TARGET: e.g. load-elf (default: all)
# Prints one line per target: executions, execs/s, coverage (cov: edges,
# ft: features), corpus size, peak RSS, and any finding.
set -u
[ $# -ge 3 ] || { echo "usage: $0 BUILD_DIR OUT SECONDS [TARGET...]" >&2; exit 2; }
build=$1 out=$2 seconds=$3
shift 3
src=$(cd "$(dirname "$0")" && pwd)
[ $# -gt 0 ] || set -- $(ls "$src/corpus")
mkdir -p "$out/artifacts"
status=0
for t in "$@"; do
	exe=$build/tests/fuzz/fuzz-$t
	[ -x "$exe" ] || { echo "$t: no $exe"; status=1; continue; }
	mkdir -p "$out/corpus/$t"
	nice -n 19 "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-error_exitcode=1 -timeout_exitcode=1 -print_final_stats=1 \
		-artifact_prefix="$out/artifacts/$t-" "$out/corpus/$t" "$src/corpus/$t" \
		> "$out/$t.log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$t.log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$out/$t.log")
	rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$out/$t.log")
	cov=$(grep -E '^#[0-9]+' "$out/$t.log" | tail -1 | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9a-zA-Z]+')
	if [ $rc -ne 0 ]; then
		echo "$t: FINDING (exit $rc), see $out/$t.log and $out/artifacts/"
		status=1
	else
		echo "$t: ${seconds}s, $runs executions, $rate/s, $cov, peak RSS ${rss} MB"
	fi
done
exit $status
