#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Run doxygen for the API reference, then keep only pages that belong in
man3 under libvm's names: one page per header (libvm.h.3, ...) and per
struct (libvm_vm_options.3, ...), and a link page per function, macro and
enumerator (libvm_vm_create.3 -> libvm.h.3). Doxygen's MAN_LINKS also
makes link pages for every struct member (size.3, rax.3, ...) and for its
directory pages, which would clash with other packages' man pages: those
go. Links are rewritten as man's .so wants them (relative to the man
root: "man3/libvm.h.3"), and libvm.3 points at libvm.h.3.

Usage: make-man.py DOXYGEN DOXYFILE MAN3_DIR
"""
import os
import re
import shutil
import subprocess
import sys


def main():
    doxygen, doxyfile, man3 = sys.argv[1:4]
    if os.path.isdir(man3):
        shutil.rmtree(man3)  # no stale pages from an older header
    subprocess.run([doxygen, doxyfile], check=True)
    kept = removed = 0
    for name in sorted(os.listdir(man3)):
        path = os.path.join(man3, name)
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        link = re.match(r"^\.so\s+(?:\./)?(\S+)\s*$", text)
        ours = re.match(r"^(libvm_|LIBVM_)\w*\.3$", name) or name.endswith(".h.3")
        if not ours:
            os.unlink(path)
            removed += 1
            continue
        if link:
            with open(path, "w", encoding="utf-8") as f:
                f.write(".so man3/%s\n" % os.path.basename(link.group(1)))
        kept += 1
    with open(os.path.join(man3, "libvm.3"), "w", encoding="utf-8") as f:
        f.write(".so man3/libvm.h.3\n")
    print("make-man: %d pages kept, %d of struct members and directories removed"
          % (kept + 1, removed))


if __name__ == "__main__":
    main()
