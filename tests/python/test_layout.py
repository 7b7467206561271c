# SPDX-License-Identifier: MIT
"""The binding's ctypes structs against the C headers: a C program,
generated from the Python declarations and compiled with the headers,
prints every struct's size and every field's offset (recursively, the
anonymous union of libvm_exit included); they must be the Python ones.

Needs $LIBVM_TEST_CC and $LIBVM_TEST_INCLUDES (set by the meson test)."""
import ctypes
import os
import shlex
import subprocess

import pytest

from libvm import _types


def fields(struct, prefix="", base=0):
    """(C member designator, offset, size) of every named field, nested."""
    anon = getattr(struct, "_anonymous_", ())
    for name, ftype, *_ in struct._fields_:
        off = base + getattr(struct, name).offset
        if name in anon:  # C names its members directly
            yield from fields(ftype, prefix, off)
            continue
        path = prefix + name
        yield path, off, ctypes.sizeof(ftype)
        if isinstance(ftype, type) and issubclass(ftype, (ctypes.Structure, ctypes.Union)):
            yield from fields(ftype, path + ".", off)


def test_structs_match_the_c_headers(tmp_path):
    cc = os.environ.get("LIBVM_TEST_CC")
    includes = os.environ.get("LIBVM_TEST_INCLUDES")
    if not cc or not includes:
        pytest.skip("LIBVM_TEST_CC/LIBVM_TEST_INCLUDES not set (run through meson test)")
    want = {}
    lines = ["#include <stddef.h>", "#include <stdio.h>", "#include <libvm/machine.h>", "#include <libvm/debug.h>",
             "int main(void) {"]
    for struct in _types.C_STRUCTS:
        c = struct._c_name_
        want[(c, "sizeof")] = ctypes.sizeof(struct)
        lines.append('printf("%s sizeof %%zu\\n", sizeof(%s));' % (c, c))
        for path, off, size in fields(struct):
            want[(c, path)] = off
            want[(c, "sizeof " + path)] = size
            lines.append('printf("%s %s %%zu\\n", offsetof(%s, %s));' % (c, path, c, path))
            lines.append('printf("%s sizeof %s %%zu\\n", sizeof(((%s *)0)->%s));'
                         % (c, path, c, path))
    lines.append("return 0; }")
    src = tmp_path / "layout.c"
    src.write_text("\n".join(lines) + "\n")
    exe = tmp_path / "layout"
    cmd = shlex.split(cc) + ["-std=gnu11", "-o", str(exe), str(src)] + \
        ["-I" + d for d in includes.split(":")]
    subprocess.run(cmd, check=True)
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    got = {}
    for line in out.splitlines():
        c, rest = line.split(" ", 1)
        key, value = rest.rsplit(" ", 1)
        got[(c, key)] = int(value)
    mismatches = ["%s %s: C %d, Python %d" % (c, k, got.get((c, k), -1), v)
                  for (c, k), v in want.items() if got.get((c, k)) != v]
    assert not mismatches, "\n".join(mismatches)
    assert len(want) > 400  # every struct, field and size was compared
