#!/bin/sh
# SPDX-License-Identifier: MIT
# Line and region coverage of the code under fuzzing, from the corpora a
# long run grew (long-run.sh): builds the targets once more with clang's
# source-based coverage in COV_BUILD, runs each over OUT/corpus/TARGET once
# (-runs=0), merges the profiles and prints llvm-cov's report per file for
# the sources each target exists for.
# usage: coverage.sh COV_BUILD OUT
set -eu
[ $# -eq 2 ] || { echo "usage: $0 COV_BUILD OUT" >&2; exit 2; }
cov=$1 out=$2
src=$(cd "$(dirname "$0")/../.." && pwd)
if [ ! -d "$cov" ]; then
	CC=clang meson setup "$cov" "$src" -Dfuzz=enabled -Db_sanitize=address,undefined \
		-Db_lundef=false -Dtests=true \
		-Dc_args='-fprofile-instr-generate -fcoverage-mapping' \
		-Dc_link_args='-fprofile-instr-generate' > /dev/null
fi
targets=$(ls "$out/corpus")
for t in $targets; do
	ninja -C "$cov" "tests/fuzz/fuzz-$t" > /dev/null
done
mkdir -p "$out/profiles"
for t in $targets; do
	LLVM_PROFILE_FILE="$out/profiles/$t.profraw" \
		"$cov/tests/fuzz/fuzz-$t" -runs=0 "$out/corpus/$t" > /dev/null 2>&1 || true
	llvm-profdata merge -sparse "$out/profiles/$t.profraw" -o "$out/profiles/$t.profdata"
done
report() { # target, then the sources it is for
	t=$1
	shift
	[ -f "$out/profiles/$t.profdata" ] || return 0
	echo "== $t"
	llvm-cov report "$cov/tests/fuzz/fuzz-$t" -instr-profile="$out/profiles/$t.profdata" \
		> "$out/profiles/$t.report"
	# The mapping names sources as the compiler saw them (../libvm/...):
	# pick the rows of the files this target is for, and their sum.
	for f in "$@"; do
		grep -E "(^|/)$f " "$out/profiles/$t.report"
	done | awk '{ printf "  %-28s regions %6s  lines %6s\n", $1, $4, $10
		      r += $2; rm += $3; l += $8; lm += $9 }
		    END { if (r) printf "  %-28s regions %5.1f%%  lines %5.1f%%\n", "(these together)",
				 100 * (r - rm) / r, 100 * (l - lm) / l }'
}
report load-elf libvm/load/elf.c libvm/load/guestmem.c libvm/load/boot.c
report load-multiboot libvm/load/multiboot.c libvm/load/elf.c libvm/load/guestmem.c
report load-bzimage libvm/load/bzimage.c libvm/load/guestmem.c
report load-detect libvm/load/boot.c libvm/load/flat.c libvm/load/elf.c libvm/load/multiboot.c libvm/load/bzimage.c
report virtqueue libvm/virtio/virtqueue.c
report virtio libvm/virtio/virtio_pci.c libvm/virtio/blk.c libvm/virtio/net.c libvm/virtio/rng.c libvm/virtio/console.c libvm/pci/ioeventfd.c libvm/region.c
report pci libvm/pci/pci.c libvm/pci/msix.c libvm/pci/ioeventfd.c libvm/pci/aml.c libvm/irqroute.c
report devices libvm/dev/uart.c libvm/dev/debugexit.c libvm/dev/fwcfg.c libvm/dev/i8042.c libvm/dev/rtc.c libvm/dev/port80.c libvm/dev/testdev.c libvm/dev/pmtimer.c libvm/dev/acpipm.c
report firmware libvm/fw/acpi.c libvm/fw/mptable.c
report decode kmod/vmm_decode.c
