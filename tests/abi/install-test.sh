#!/bin/sh
# SPDX-License-Identifier: MIT
# Install the build into a temporary root, then compile and run a program
# against it using nothing but `pkg-config --cflags --libs libvm`; link one
# against the installed libvm.a; and import the installed Python package
# with only its site-packages directory on the path.
# Usage: install-test.sh BUILD SRC [PYTHON]
set -eu
build=$1 src=$2 python=${3:-}
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

# The static archive: installed next to the shared library, and enough on
# its own (with pkg-config's private libraries) for a program that needs
# no libvm.so at run time.
[ -f "$libdir/libvm.a" ] || { echo "FAIL: libvm.a was not installed in $libdir"; exit 1; }
private=$(pkg-config --static --libs-only-other --libs-only-l libvm | sed 's/-lvm//')
# shellcheck disable=SC2086
cc -std=gnu11 -Wall -Wextra -Werror -o "$tmp/consumer-static" "$src/tests/abi/consumer.c" \
	$(pkg-config --cflags libvm) "$libdir/libvm.a" $private
if readelf -d "$tmp/consumer-static" | grep -q 'NEEDED.*libvm'; then
	echo "FAIL: the program linked with libvm.a still needs libvm.so"; exit 1
fi
out=$(env -u LD_LIBRARY_PATH "$tmp/consumer-static") || {
	echo "$out"; echo "FAIL: the program linked with libvm.a"; exit 1; }
echo "$out" | sed 's/^PASS: /PASS (static libvm.a): /'

# The Python package: `import libvm` with nothing but its directory on the
# path (no LIBVM_LIBRARY, no LD_LIBRARY_PATH): it finds the libvm.so.0
# installed with it.
if [ -n "$python" ]; then
	cfg=$(find "$tmp/root" -path '*/libvm/_config.py' | head -n 1)
	[ -n "$cfg" ] || { echo "FAIL: the Python package was not installed"; exit 1; }
	site=$(dirname "$(dirname "$cfg")")
	out=$(cd / && env -u LIBVM_LIBRARY -u LD_LIBRARY_PATH -u PYTHONPATH PYTHONPATH="$site" \
		PYTHONDONTWRITEBYTECODE=1 "$python" -c \
		'import libvm, os; print(libvm.version(), os.path.dirname(libvm.__file__))') || {
		echo "$out"; echo "FAIL: import libvm from $site"; exit 1; }
	case "$out" in
	"$(pkg-config --modversion libvm) $site/libvm") echo "PASS: import libvm from $site: $out" ;;
	*) echo "FAIL: import libvm gave '$out'"; exit 1 ;;
	esac
fi

# The API reference, when it was built (doxygen found): the man pages in
# section 3, one per exported function among them.
if [ -d "$build/docs/api/man3" ]; then
	page=$(find "$tmp/root" -path '*/man3/libvm_vm_create.3' | head -n 1)
	[ -n "$page" ] && [ -f "$(dirname "$page")/libvm.h.3" ] || {
		echo "FAIL: the API reference (man3) was not installed"; exit 1; }
	echo "PASS: $(ls "$(dirname "$page")" | grep -c '\.3$') API man pages in $(dirname "$page" | sed "s|$tmp/root||")"
fi
