#!/bin/sh
# SPDX-License-Identifier: MIT
# The ABI check: the symbols libvm.so exports, the global list of the
# version script and the LIBVM_EXPORT declarations of the public headers
# must be the same three sets. Any difference fails with a diff.
set -eu
lib=$1 map=$2
shift 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRW]$/ {print $3}' | sed 's/@.*//' | sort -u > "$tmp/exported"
sed -n '/global:/,/local:/p' "$map" | grep -oE '^[[:space:]]*libvm_[a-z0-9_]+;' | tr -d ' \t;' | sort -u > "$tmp/map"
cat "$@" | tr '\n' ' ' | grep -oE 'LIBVM_EXPORT [^;{]*' | grep -oE 'libvm_[a-z0-9_]+[[:space:]]*\(' | head -n 10000 | tr -d ' (' | sort -u > "$tmp/headers"

status=0
if ! diff -u "$tmp/map" "$tmp/exported" > "$tmp/d1"; then
	echo "FAIL: exported symbols differ from $map:"; cat "$tmp/d1"; status=1
fi
if ! diff -u "$tmp/headers" "$tmp/exported" > "$tmp/d2"; then
	echo "FAIL: exported symbols differ from the LIBVM_EXPORT declarations:"; cat "$tmp/d2"; status=1
fi
n=$(wc -l < "$tmp/exported")
if [ "$n" -lt 10 ]; then
	echo "FAIL: only $n symbols exported: the check found nothing to compare"; status=1
fi
[ $status -eq 0 ] && echo "PASS: $n exported symbols match the version script and the headers"
exit $status
