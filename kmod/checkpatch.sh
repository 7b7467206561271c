#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the kernel's checkpatch.pl --strict over kmod/.  Debian ships the
# script only inside the linux-source tarball, so the three files it needs
# are extracted into a temporary directory (no kernel sources are kept).
# usage: checkpatch.sh [--install] [KMOD_DIR]
# Exit: 0 clean, 1 findings, 77 no linux-source tarball here.
set -u
INSTALL=0
[ "${1:-}" = --install ] && { INSTALL=1; shift; }
KMOD=${1:-$(cd "$(dirname "$0")" && pwd)}

find_tarball() { ls /usr/src/linux-source-*.tar.xz 2>/dev/null | sort -V | tail -1; }
have_perl() { perl -MTerm::ANSIColor -MEncode -e 1 2>/dev/null; }
tarball=$(find_tarball)
if { [ -z "$tarball" ] || ! have_perl; } && [ $INSTALL = 1 ] &&
   [ "$(id -u)" = 0 ]; then
	(apt-get update -q && DEBIAN_FRONTEND=noninteractive \
		apt-get -o DPkg::Lock::Timeout=300 install -y -q linux-source perl) >&2
	tarball=$(find_tarball)
fi
if [ -z "$tarball" ]; then
	echo "SKIP: no /usr/src/linux-source-*.tar.xz (apt-get install linux-source)"
	exit 77
fi
have_perl || { echo "SKIP: no perl with Term::ANSIColor (apt-get install perl)"; exit 77; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
top=$(basename "$tarball" .tar.xz)
tar -xJf "$tarball" -C "$tmp" "$top/scripts/checkpatch.pl" \
	"$top/scripts/spelling.txt" "$top/scripts/const_structs.checkpatch" ||
	{ echo "SKIP: cannot extract checkpatch.pl from $tarball"; exit 77; }

cd "$KMOD" || exit 1
files=$(ls *.c *.h *.S Kbuild Makefile 2>/dev/null)
echo "checkpatch.pl --strict ($top) on: $(echo $files)"
perl "$tmp/$top/scripts/checkpatch.pl" --strict --no-tree --terse \
	--show-types -f $files
