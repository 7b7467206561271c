#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# meson's way into kbuild: copy the module sources into the build tree
# (kbuild writes its objects next to the sources) and run the kernel's
# makefiles there with W=1.  usage: build.sh KDIR SRCDIR OUTDIR
set -e
KDIR=$1
SRC=$2
OUT=$3
mkdir -p "$OUT/kbuild"
cp "$SRC"/Kbuild "$SRC"/*.c "$SRC"/*.h "$SRC"/*.S "$OUT/kbuild/"
make -C "$KDIR" M="$OUT/kbuild" W=1 modules
cp "$OUT/kbuild/vmm.ko" "$OUT/kbuild/vmm-amd.ko" "$OUT/kbuild/vmm-intel.ko" "$OUT/"
