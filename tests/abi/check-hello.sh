#!/bin/sh
# SPDX-License-Identifier: MIT
# Run examples/hello and check what the guest printed. Skips (77) when the
# KVM device cannot be opened, as hello itself does.
set -u
out=$("$1" 2>&1); rc=$?
[ $rc -eq 77 ] && { echo "SKIP: $out"; exit 77; }
[ $rc -eq 0 ] || { echo "FAIL: hello exited $rc: $out"; exit 1; }
case "$out" in
*"Hello from the guest"*) echo "PASS: the guest printed its greeting"; exit 0 ;;
*) echo "FAIL: unexpected output: $out"; exit 1 ;;
esac
