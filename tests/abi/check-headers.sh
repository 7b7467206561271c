#!/bin/sh
# SPDX-License-Identifier: MIT
# Each public header alone, as the first and only include of a translation
# unit, compiles without warnings as C99, C11 and C++17 with -pedantic:
# it includes what it uses, and C++ code and older C can use it.
# Usage: check-headers.sh SRC_INCLUDE_DIR BUILD_INCLUDE_DIR CC [CXX] -- HEADER...
set -eu
src=$1 bld=$2 cc=$3 cxx=$4
shift 4
[ "$1" = "--" ] && shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The generated version.h sits in the build tree; the rest in the source.
mkdir -p "$tmp/inc/libvm"
cp "$src"/libvm/*.h "$bld"/libvm/version.h "$tmp/inc/libvm/"
status=0 n=0
# Every header the tree has is checked: a new one must join the list.
for f in "$src"/libvm/*.h; do
	case " $* " in
	*" $(basename "$f") "*) ;;
	*) echo "FAIL: <libvm/$(basename "$f")> is not in the list of headers checked"; status=1 ;;
	esac
done
for h in "$@"; do
	printf '#include <libvm/%s>\n' "$h" > "$tmp/t.c"
	printf '#include <libvm/%s>\nint main(void) { return 0; }\n' "$h" > "$tmp/t.cpp"
	for std in c99 c11; do
		n=$((n + 1))
		if ! $cc -std=$std -pedantic -Wall -Wextra -Werror -fsyntax-only \
			-I"$tmp/inc" "$tmp/t.c" > "$tmp/log" 2>&1; then
			echo "FAIL: <libvm/$h> as $std:"; cat "$tmp/log"; status=1
		fi
	done
	if [ -n "$cxx" ] && [ "$cxx" != none ]; then
		n=$((n + 1))
		if ! $cxx -std=c++17 -pedantic -Wall -Wextra -Werror -fsyntax-only \
			-I"$tmp/inc" "$tmp/t.cpp" > "$tmp/log" 2>&1; then
			echo "FAIL: <libvm/$h> as C++17:"; cat "$tmp/log"; status=1
		fi
	fi
done
if [ -z "$cxx" ] || [ "$cxx" = none ]; then
	echo "FAIL: no C++ compiler: the C++17 checks did not run"; status=1
fi
[ $status -eq 0 ] && echo "PASS: $# headers, $n compilations (C99, C11, C++17; -pedantic -Werror)"
exit $status
