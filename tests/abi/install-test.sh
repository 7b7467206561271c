#!/bin/sh
# SPDX-License-Identifier: MIT
# Install the build into a temporary root, then compile and run a program
# against it using nothing but `pkg-config --cflags --libs libvm`.
set -eu
build=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

meson install -C "$build" --no-rebuild --destdir "$tmp/root" --quiet > "$tmp/install.log" 2>&1 || {
	echo "FAIL: meson install"; cat "$tmp/install.log"; exit 1; }
pc=$(find "$tmp/root" -name libvm.pc | head -n 1)
[ -n "$pc" ] || { echo "FAIL: libvm.pc was not installed"; exit 1; }
for h in libvm.h version.h; do
	[ -n "$(find "$tmp/root" -path "*/include/libvm/$h")" ] || { echo "FAIL: $h not installed"; exit 1; }
done
export PKG_CONFIG_PATH="$(dirname "$pc")" PKG_CONFIG_SYSROOT_DIR="$tmp/root"
flags=$(pkg-config --cflags --libs libvm)
echo "pkg-config --cflags --libs libvm: $flags"
# shellcheck disable=SC2086
cc -std=gnu11 -Wall -Wextra -Werror -o "$tmp/consumer" "$src/tests/abi/consumer.c" $flags
# The -L path already carries the sysroot; run with the installed library,
# not the build tree's (meson test exports LD_LIBRARY_PATH to the latter).
libdir=$(pkg-config --libs-only-L libvm | sed 's/^ *-L//; s/ *$//')
LD_LIBRARY_PATH="$libdir" "$tmp/consumer"
