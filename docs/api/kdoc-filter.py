#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Doxygen INPUT_FILTER for libvm's headers: turns their kernel-doc style
comments into doxygen's, so that the API reference (docs/api/Doxyfile.in,
man pages in section 3) comes from the comments as they are written.

  /**                                   /**
   * libvm_x() - what it does.             * \\brief what it does.
   * @vm:  the VM.                         * \\param vm the VM.
   * Returns: 0; -EINVAL.                  * \\return 0; -EINVAL.
   */                                      */

In struct comments the @field: lines become a list of the fields. Inline
@name becomes \\p name. The top-of-file comment becomes the \\file page.
Line count is kept, so doxygen's warnings point at the right lines.
"""
import re
import sys

FIELD = re.compile(r"^(\s*\*\s?)@([\w.]+(?:\s*(?:,|\.\.\.)\s*@?[\w.]+)*):\s*(.*)$")
SUMMARY = re.compile(r"^(\s*\*\s?|/\*\*\s*)((?:struct|union|enum)\s+)?"
                     r"(\w+(?:\(\))?(?:\s*/\s*\w+(?:\(\))?)*)\s+-\s+(.*)$")


def escape(text):
    # AML names (\_SB) are not doxygen commands: with markdown on, it
    # takes three backslashes to print one before an underscore.
    # <libvm/x.h> and <dev> are not HTML tags.
    text = text.replace("\\_", "\\\\\\_")
    text = re.sub(r"<((?:libvm/)?[\w.]+)>", r"&lt;\1&gt;", text)
    text = re.sub(r"(?<![\w@])@(\w+)", r"\\p \1", text)
    text = text.replace("#", "\\#").replace("%", "\\%")
    return text


def convert(lines):
    out = []
    i = 0
    first_comment = True
    while i < len(lines):
        line = lines[i]
        start = line.lstrip()
        if start.startswith("/*") and not start.startswith("/**") and first_comment \
                and "SPDX" not in line:
            # The file's own comment: what the header is for, its rules.
            first_comment = False
            block = [line]
            while "*/" not in block[-1] and i + 1 < len(lines):
                i += 1
                block.append(lines[i])
            i += 1
            name = sys.argv[1].rsplit("/", 1)[-1]
            out.append(escape(block[0]).replace("/*", "/** \\file %s\n *" % name, 1)
                       if block[0].strip() != "/*" else block[0].replace(
                           "/*", "/** \\file %s" % name, 1))
            out.extend(escape(x) if "*/" not in x else x for x in block[1:])
            continue
        if not start.startswith("/**"):
            out.append(line)
            i += 1
            continue
        first_comment = False
        # One doc comment: from /** to */.
        block = [line]
        while "*/" not in block[-1] and i + 1 < len(lines):
            i += 1
            block.append(lines[i])
        i += 1
        out.extend(convert_block(block))
    return out


def convert_block(block):
    text = "".join(block)
    is_struct = bool(re.search(r"/\*\*\s*(\*\s*)?(struct|union)\s+\w+\s+-", text))
    res = []
    for n, line in enumerate(block):
        body = line
        if n == 0 and "*/" in line:  # a one-line comment
            m = re.match(r"^(\s*/\*\*\s*)(?:(?:struct|union|enum)\s+)?(\w+)(?:\(\))?\s+-\s+(.*?)(\s*\*/\s*)$",
                         line)
            if m:
                res.append(m.group(1) + "\\brief " + escape(m.group(3)) + m.group(4))
            else:
                m = re.match(r"^(\s*/\*\*)(.*?)(\*/\s*)$", line)
                res.append(m.group(1) + escape(m.group(2)) + m.group(3) if m else line)
            continue
        if n == 0 or line.strip() == "*/":
            res.append(line)
            continue
        m = SUMMARY.match(line)
        if m and n == 1:
            res.append(m.group(1) + "\\brief " + escape(m.group(4)) + "\n")
            continue
        m = FIELD.match(line)
        if m:
            prefix, names, desc = m.groups()
            if not is_struct:
                desc = re.sub(r"(?<![\w@])@(\w+):", r"\\param \1", desc)
            if is_struct:
                res.append(prefix + "- <b>" + names.replace("@", "") + "</b>: " + escape(desc) + "\n")
            elif "," in names or "..." in names:
                res.append(prefix + "\\param " + names.replace("@", "").replace(" ", "")
                           + " " + escape(desc) + "\n")
            else:
                res.append(prefix + "\\param " + names + " " + escape(desc) + "\n")
            continue
        m = re.match(r"^(\s*\*\s?)(.*?)\bReturns?:\s*(.*)$", line)
        if m and not m.group(2).strip():
            res.append(m.group(1) + "\\return " + escape(m.group(3)) + "\n")
            continue
        if m:
            # "Thread: any. Returns: ..." on one line: split into two paragraphs
            # would move lines; keep the text and mark the return value.
            res.append(m.group(1) + escape(m.group(2)) + "\\return " + escape(m.group(3)) + "\n")
            continue
        if not is_struct:
            # "@image: the file; @size: its length." on one line
            body = re.sub(r"(?<![\w@])@(\w+):", r"\\param \1", body)
        res.append(escape(body))
    return res


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        lines = f.readlines()
    sys.stdout.write("".join(convert(lines)))


if __name__ == "__main__":
    main()
