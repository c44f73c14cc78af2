#!/usr/bin/env python3
"""Writes the Debian copyright file (DEP-5) for what the gwlua binary contains.

usage: copyright.py PACKAGE_DIR LINK_FILE_LIST > copyright

The Swift packages are the ones whose modules the release link actually took
(the link's object list, not the whole dependency graph), each with its version
from Package.resolved, its licence read from its LICENSE.txt and its NOTICE.txt
(which names the third-party code it carries, BoringSSL's among them) verbatim.
"""
import json
import os
import re
import sys

APACHE = """ Licensed under the Apache License, Version 2.0 (the "License"); you may not
 use this file except in compliance with the License.
 .
 On Debian systems, the full text of the Apache License, Version 2.0 can be
 found in /usr/share/common-licenses/Apache-2.0."""

RUNTIME_EXCEPTION = """ Licensed under the Apache License, Version 2.0, with the Runtime Library
 Exception below.
 .
 On Debian systems, the full text of the Apache License, Version 2.0 can be
 found in /usr/share/common-licenses/Apache-2.0.
 .
 Runtime Library Exception to the Apache 2.0 License:
 .
 As an exception, if you use this Software to compile your source code and
 portions of this Software are embedded into the binary product as a result,
 you may redistribute such product without providing attribution as would
 otherwise be required by Sections 4(a), 4(b) and 4(d) of the License."""

MIT_LUA = """ Permission is hereby granted, free of charge, to any person obtaining a copy
 of this software and associated documentation files (the "Software"), to deal
 in the Software without restriction, including without limitation the rights
 to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
 copies of the Software, and to permit persons to whom the Software is
 furnished to do so, subject to the following conditions:
 .
 The above copyright notice and this permission notice shall be included in
 all copies or substantial portions of the Software.
 .
 THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
 IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
 FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
 AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
 LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
 OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
 SOFTWARE."""


def folded(text):
    """Text as a DEP-5 continuation block (one leading space, "." for blank lines)."""
    lines = []
    for line in text.rstrip().split("\n"):
        line = line.rstrip()
        lines.append(" " + line if line.strip() else " .")
    return "\n".join(lines)


def linked_modules(link_file_list):
    modules = set()
    for line in open(link_file_list, encoding="utf-8"):
        m = re.search(r"/([^/]+)\.build/[^/]+$", line.strip().strip("'\""))
        if m:
            modules.add(m.group(1))
    return modules


def package_of(checkouts, module):
    """The checkout with Sources/<module>, or else the one whose manifest names it."""
    for package in sorted(os.listdir(checkouts)):
        if os.path.isdir(os.path.join(checkouts, package, "Sources", module)):
            return package
    for package in sorted(os.listdir(checkouts)):
        manifest = os.path.join(checkouts, package, "Package.swift")
        if os.path.exists(manifest) and f'name: "{module}"' in open(manifest, encoding="utf-8").read():
            return package
    return None


def notice_copyright(package_dir, package, licence):
    for name in ("NOTICE.txt", "LICENSE.txt"):
        path = os.path.join(package_dir, name)
        if os.path.exists(path):
            for line in open(path, encoding="utf-8", errors="replace"):
                m = re.match(r"\s*Copyright (?:\(c\) )?(.+)$", line.strip())
                if m and re.search(r"\d{4}", m.group(1)):
                    return m.group(1).strip()
    if "Runtime Library Exception" in licence:
        return "Apple Inc. and the Swift project authors"  # the notice in each of their source files
    return f"the {package} authors"


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    root, link_list = sys.argv[1:]
    checkouts = os.path.join(root, ".build", "checkouts")
    pins = {p["identity"]: p for p in json.load(open(os.path.join(root, "Package.resolved")))["pins"]}
    own = set(os.listdir(os.path.join(root, "Sources")))
    packages = {}
    for module in sorted(linked_modules(link_list)):
        if module in own:
            continue
        package = package_of(checkouts, module)
        if package is None:
            sys.exit(f"copyright.py: cannot tell which package module {module} comes from")
        packages.setdefault(package, []).append(module)

    out = ["Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/",
           "Upstream-Name: gwlua",
           "Comment: gwlua is one binary. It links the Swift packages below, the Swift",
           " runtime, standard library and FoundationEssentials statically, and Lua 5.4",
           " (liblua5.4-0) and libedit dynamically; each statically linked component has a",
           " stanza here. Paths name the component's place in gwlua's source build.",
           "",
           "Files: *",
           "Copyright: 2026 the gwlua developers",
           "License: gwlua",
           "",
           "Files: swift-toolchain/*",
           "Copyright: 2014-2026 Apple Inc. and the Swift project authors",
           "License: Apache-2.0 with Runtime Library Exception",
           "Comment: The Swift runtime and standard library, swift-foundation's",
           " FoundationEssentials, and libdispatch, from the Swift 6 toolchain.",
           ""]
    licences = {"Apache-2.0", "Apache-2.0 with Runtime Library Exception"}
    for package in sorted(packages):
        directory = os.path.join(checkouts, package)
        text = open(os.path.join(directory, "LICENSE.txt"), encoding="utf-8", errors="replace").read()
        if "Apache License" not in text or "Version 2.0" not in text:
            sys.exit(f"copyright.py: {package}'s licence is not Apache 2.0; add its stanza by hand")
        licence = "Apache-2.0 with Runtime Library Exception" if "Runtime Library Exception" in text else "Apache-2.0"
        pin = pins.get(package, {})
        version = pin.get("state", {}).get("version") or pin.get("state", {}).get("revision", "?")[:12]
        out += [f"Files: .build/checkouts/{package}/*",
                f"Copyright: {notice_copyright(directory, package, licence)}",
                f"License: {licence}",
                f"Comment: {pin.get('location', package)} {version}; linked: {', '.join(packages[package])}."]
        notice = os.path.join(directory, "NOTICE.txt")
        if os.path.exists(notice):
            out.append(" Its NOTICE.txt, which names the third-party code it contains:")
            out.append(" .")
            out.append(folded(open(notice, encoding="utf-8", errors="replace").read()))
        out.append("")
    out += ["Files: lua/*",
            "Copyright: 1994-2022 Lua.org, PUC-Rio",
            "License: Expat",
            "Comment: Lua 5.4 is linked dynamically (liblua5.4-0); gwlua compiles against its",
            " headers' macros.",
            "",
            "License: gwlua",
            " Copyright 2026 the gwlua developers. All rights reserved.",
            " .",
            " No licence for gwlua itself has been chosen yet.",
            "",
            "License: Apache-2.0",
            APACHE,
            "",
            "License: Apache-2.0 with Runtime Library Exception",
            RUNTIME_EXCEPTION,
            "",
            "License: Expat",
            MIT_LUA,
            ""]
    sys.stdout.write("\n".join(out))


if __name__ == "__main__":
    main()
