#!/bin/sh
# SPDX-License-Identifier: MIT
# Run one libFuzzer target for a short time from its in-tree seed corpus.
# usage: smoke.sh TARGET CORPUS_DIR SECONDS
# New inputs go to a temporary directory (the tree is never written); a
# crash, leak, timeout or UBSan finding fails (exit 1) and leaves the input
# in ./fuzz-artifacts/ of the current directory, named after the target.
# Exit: 0 clean, 1 a finding, 2 usage.
set -u
[ $# -eq 3 ] || { echo "usage: $0 TARGET CORPUS_DIR SECONDS" >&2; exit 2; }
target=$1 corpus=$2 seconds=$3
name=$(basename "$target")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p fuzz-artifacts
# libFuzzer's own exit codes (77 for a crash) would read as "skipped" to
# meson: every finding exits 1. -timeout: one input taking 10 s is a hang.
"$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
	-error_exitcode=1 -timeout_exitcode=1 -print_final_stats=1 \
	-artifact_prefix="fuzz-artifacts/$name-" "$tmp" "$corpus" > "$tmp/log" 2>&1
rc=$?
grep -E '^(#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units|stat::peak_rss_mb)' "$tmp/log" | sed "s|^|$name: |"
if [ $rc -ne 0 ]; then
	tail -n 60 "$tmp/log"
	echo "FAIL: $name (exit $rc); input saved under fuzz-artifacts/$name-*"
	exit 1
fi
echo "PASS: $name ran ${seconds}s from $(ls "$corpus" 2>/dev/null | wc -l) seeds, no finding"
