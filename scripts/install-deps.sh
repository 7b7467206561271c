#!/bin/sh
# SPDX-License-Identifier: MIT
# Install the Debian packages the build and the tests need, when missing.
# Usage: scripts/install-deps.sh [extra-package ...]
set -eu
pkgs="gcc binutils meson ninja-build pkg-config libcmocka-dev python3 $*"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
echo "installing:$missing"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
