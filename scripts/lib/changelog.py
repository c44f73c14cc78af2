#!/usr/bin/env python3
"""CHANGELOG.md to a Debian changelog.

usage: changelog.py CHANGELOG.md VERSION TIME > changelog

TIME is ISO 8601 (the commit's time, 2026-12-08T01:30:00+00:00) or a bare date.

Each "## X.Y.Z - YYYY-MM-DD" section becomes an entry; "## Unreleased" becomes the
entry of VERSION (dated DATE) unless VERSION is itself a released section.
"""
import datetime
import re
import sys

MAINTAINER = "gwlua developers <gwlua@coreweave.invalid>"


def rfc2822(when):
    d = datetime.datetime.fromisoformat(when)
    if d.tzinfo is None:
        d = d.replace(tzinfo=datetime.timezone.utc)
    return d.astimezone(datetime.timezone.utc).strftime("%a, %d %b %Y %H:%M:%S +0000")


def wrap(text, width=76):
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = word if not line else line + " " + word
    if line:
        lines.append(line)
    return lines


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    source, version, today = sys.argv[1:]
    sections = []  # (version, date, [items])
    current = None
    for raw in open(source, encoding="utf-8"):
        line = raw.rstrip("\n")
        m = re.match(r"^## (\S+)(?: - (\d{4}-\d{2}-\d{2}))?\s*$", line)
        if m:
            current = [m.group(1), m.group(2), []]
            sections.append(current)
        elif current is not None and line.startswith("- "):
            current[2].append(line[2:].strip())
        elif current is not None and line.startswith("  ") and current[2]:
            current[2][-1] += " " + line.strip()
    released = {s[0] for s in sections if s[0] != "Unreleased"}
    out = []
    for name, day, items in sections:
        if name == "Unreleased":
            if version in released or not items:
                continue
            name, day = version, today
        if not day:
            sys.exit(f"changelog.py: section {name} has no date")
        out.append(f"gwlua ({name}) stable; urgency=medium\n")
        for item in items:
            lines = wrap(item.replace("`", ""))
            out.append("  * " + lines[0])
            out.extend("    " + rest for rest in lines[1:])
        out.append(f"\n -- {MAINTAINER}  {rfc2822(day)}\n")
    sys.stdout.write("\n".join(out))


if __name__ == "__main__":
    main()
