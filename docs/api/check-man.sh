#!/bin/sh
# SPDX-License-Identifier: MIT
# The generated API reference is complete: every symbol libvm exports
# (libvm.map) has its man page, each page a link resolves to exists, and
# a function's page carries its header comment (parameters, returns).
# Usage: check-man.sh LIBVM_MAP MAN3_DIR
set -u
map=$1 man3=$2
status=0 n=0
for sym in $(sed -n 's/^[[:space:]]*\(libvm_[a-z0-9_]*\);.*/\1/p' "$map" | sort -u); do
	n=$((n + 1))
	if [ ! -f "$man3/$sym.3" ]; then
		echo "FAIL: no man page for $sym"; status=1
	fi
done
for f in "$man3"/*.3; do
	target=$(sed -n 's/^\.so man3\///p' "$f")
	if [ -n "$target" ] && [ ! -f "$man3/$target" ]; then
		echo "FAIL: $(basename "$f") links to a missing $target"; status=1
	fi
done
page=$man3/$(sed -n 's/^\.so man3\///p' "$man3/libvm_vm_create.3")
for want in 'libvm_vm_create' 'open the device and create an empty VM' \
	'receives the VM; the caller owns it' 'Returns'; do
	grep -q "$want" "$page" || { echo "FAIL: '$want' is not in $page"; status=1; }
done
[ $status -eq 0 ] && echo "PASS: $n exported functions, each with its man page; links resolve"
exit $status
