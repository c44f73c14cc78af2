#!/usr/bin/env python3
"""Markdown (the subset docs/ uses) to a man(7) page with tbl tables.

usage: md2man.py INPUT.md NAME SECTION DATE VERSION "one-line description" > page

Handles headings, paragraphs, fenced code, bullet and numbered lists, tables,
`code`, **bold**, *emphasis* and [links](target). The first heading becomes the
NAME section's description; the others become .SH (##) and .SS (###).
"""
import re
import sys


def escape(text):
    """Roff-escapes plain text (backslashes, dashes in options, leading dots)."""
    text = text.replace("\\", "\\e")
    text = text.replace("-", "\\-")
    return text


def inline(text):
    """Markdown inline markup to roff font changes."""
    out = []
    pos = 0
    pattern = re.compile(r"`([^`]+)`|\*\*([^*]+)\*\*|(?<![\w*])\*([^*\s][^*]*)\*|\[([^\]]+)\]\(([^)]+)\)")
    for m in pattern.finditer(text):
        out.append(escape(text[pos:m.start()]))
        if m.group(1) is not None:
            # Break points after punctuation, so long code fits narrow table columns.
            code = re.sub(r"([.,(_=/])", lambda p: p.group(1) + "\\:", escape(m.group(1)))
            out.append("\\fB" + code + "\\fR")
        elif m.group(2) is not None:
            out.append("\\fB" + escape(m.group(2)) + "\\fR")
        elif m.group(3) is not None:
            out.append("\\fI" + escape(m.group(3)) + "\\fR")
        else:
            label, target = m.group(4), m.group(5)
            out.append(escape(label))
            if target.startswith("http"):
                out.append(" <" + escape(target) + ">")
        pos = m.end()
    out.append(escape(text[pos:]))
    return "".join(out)


def line_safe(text):
    """A roff text line must not start with a control character."""
    if text.startswith(".") or text.startswith("'"):
        return "\\&" + text
    return text


def table(rows):
    cells = [[c.strip() for c in r.strip().strip("|").split("|")] for r in rows]
    header, body = cells[0], [r for r in cells[2:]]
    width = len(header)
    lines = [".TS", "allbox tab(\t);", " ".join(["lb"] * width), " ".join(["lx"] * width) + "."]
    lines.append("\t".join(inline(c) for c in header))
    for r in body:
        r = (r + [""] * width)[:width]
        lines.append("\t".join("T{\n" + line_safe(inline(c)) + "\nT}" for c in r))
    lines.append(".TE")
    return lines


def convert(markdown, name, section, date, version, description):
    out = ["'\\\" t", f'.TH "{name.upper()}" "{section}" "{date}" "gwlua {version}" "gwlua manual"',
           ".SH NAME", f"{escape(name)} \\- {escape(description)}", ".SH DESCRIPTION"]
    lines = markdown.split("\n")
    i = 0
    paragraph = []

    def flush():
        if paragraph:
            out.append(".PP")
            out.append(line_safe(inline(" ".join(paragraph))))
            paragraph.clear()

    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith("```"):
            flush()
            out.extend([".PP", ".RS 4", ".nf"])
            i += 1
            while i < len(lines) and not lines[i].strip().startswith("```"):
                out.append(line_safe(escape(lines[i])))
                i += 1
            out.extend([".fi", ".RE"])
        elif stripped.startswith("#"):
            flush()
            level = len(stripped) - len(stripped.lstrip("#"))
            title = stripped[level:].strip()
            if level == 1:
                pass  # the page's title is in .TH and NAME
            elif level == 2:
                out.append('.SH "' + inline(title).upper().replace('"', "") + '"')
            else:
                out.append('.SS "' + inline(title).replace('"', "") + '"')
        elif stripped.startswith("|"):
            flush()
            rows = []
            while i < len(lines) and lines[i].strip().startswith("|"):
                rows.append(lines[i])
                i += 1
            out.extend(table(rows))
            continue
        elif re.match(r"^(\s*)([-*]|\d+\.)\s+", line):
            flush()
            m = re.match(r"^(\s*)([-*]|\d+\.)\s+(.*)$", line)
            indent, marker, text = m.group(1), m.group(2), m.group(3)
            i += 1
            # Continuation lines are indented more than the marker.
            while i < len(lines) and lines[i].startswith(indent + "  ") and lines[i].strip() \
                    and not re.match(r"^\s*([-*]|\d+\.)\s+", lines[i]):
                text += " " + lines[i].strip()
                i += 1
            bullet = "\\(bu" if marker in "-*" else marker
            depth = len(indent) // 2
            if depth:
                out.append(".RS " + str(2 * depth))
            out.append(f'.IP "{bullet}" 4')
            out.append(line_safe(inline(text)))
            if depth:
                out.append(".RE")
            continue
        elif not stripped:
            flush()
        else:
            paragraph.append(stripped)
        i += 1
    flush()
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) != 7:
        sys.exit(__doc__)
    source, name, section, date, version, description = sys.argv[1:]
    with open(source, encoding="utf-8") as f:
        sys.stdout.write(convert(f.read(), name, section, date, version, description))


if __name__ == "__main__":
    main()
