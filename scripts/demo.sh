#!/bin/sh
# SPDX-License-Identifier: MIT
# The main job: install what is missing, build libvm, and boot the default
# guest (built from this repository) through the library.
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh
[ -f build/build.ninja ] || meson setup build
ninja -C build
exec build/examples/hello
