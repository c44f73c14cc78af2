#!/usr/bin/env python3
"""Finishes the pages swift-argument-parser's generate-manual made for gwlua.

usage: manpages.py GENERATED_DIR DUMP_HELP_JSON CLI_MD OUT_DIR

- drops the pages of hidden commands (and the parser's own `help`), and their
  SEE ALSO entries;
- names pages as git does (gwlua-run.1, `man gwlua-run`) instead of gwlua.run.1;
- replaces the generic EXIT STATUS ("0 on success, >0 if an error occurs") with
  gwlua's exit codes, read from docs/cli.md's table, so the two cannot differ;
- adds gwlua-lua(7) to gwlua(1)'s SEE ALSO.
"""
import json
import os
import re
import sys


def hidden_commands(dump):
    """Names ("gwlua.generate-files") of commands the help does not show."""
    hidden = set()

    def walk(command, prefix):
        name = prefix + command["commandName"]
        if command.get("shouldDisplay") is False or command["commandName"] == "help":
            hidden.add(name)
        for sub in command.get("subcommands", []):
            walk(sub, name + ".")

    walk(dump["command"], "")
    return hidden


def exit_codes(cli_md):
    """The (code, meaning) rows of docs/cli.md's "Exit codes" table."""
    text = open(cli_md, encoding="utf-8").read()
    section = text[text.index("## Exit codes"):]
    rows = []
    for line in section.split("\n")[1:]:
        if line.startswith("## "):
            break
        if not line.startswith("|") or line.startswith("|---") or line.startswith("| code"):
            continue
        code, meaning = [c.strip() for c in line.strip().strip("|").split("|", 1)]
        rows.append((code, meaning))
    if not rows:
        sys.exit("manpages.py: no exit codes found in " + cli_md)
    return rows


def mdoc_text(markdown):
    """A table cell as mdoc text: code spans and links become plain words."""
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", markdown)
    text = text.replace("`", "").replace("\\", "\\e")
    return "\\&" + text if text.startswith((".", "'")) else text


def exit_status(rows):
    lines = [".Sh \"EXIT STATUS\"", ".Bl -tag -width 9n"]
    for code, meaning in rows:
        lines += [".It " + mdoc_text(code), mdoc_text(meaning)]
    lines += [".El", "Details: /usr/share/doc/gwlua/docs/cli.md."]
    return "\n".join(lines)


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    generated, dump_path, cli_md, out = sys.argv[1:]
    with open(dump_path, encoding="utf-8") as f:
        hidden = hidden_commands(json.load(f))
    status = exit_status(exit_codes(cli_md))
    os.makedirs(out, exist_ok=True)
    for file in sorted(os.listdir(generated)):
        stem, section = file.rsplit(".", 1)
        if stem in hidden:
            continue
        text = open(os.path.join(generated, file), encoding="utf-8").read()
        # SEE ALSO: drop hidden pages, rename the rest, keep mdoc's comma list valid.
        lines = []
        for line in text.split("\n"):
            m = re.match(r"^\.Xr (\S+) (\d)( ,)?$", line)
            if m and m.group(1) in hidden:
                continue
            lines.append(line)
        text = "\n".join(lines)
        text = re.sub(r"^(\.Xr \S+ \d) ,\n\.Sh", r"\1\n.Sh", text, flags=re.M)
        text = re.sub(r"(\.Xr \S+ \d)\n(\.Xr)", r"\1 ,\n\2", text)
        text = re.sub(r"^\.Xr gwlua\.(\S+)", lambda m: ".Xr gwlua-" + m.group(1).replace(".", "-"), text, flags=re.M)
        text = re.sub(r"^\.Dt GWLUA\.(\S+)", lambda m: ".Dt GWLUA-" + m.group(1).replace(".", "-"), text, flags=re.M)
        text = text.replace('.Sh "EXIT STATUS"\n.Ex -std', status)
        # whatis (lexgrog, mandb) reads one word as the page's name: NAME says gwlua-run,
        # the rest of the page keeps the command as typed ("gwlua run").
        m = re.search(r'^\.Nm "([^"]+)"$', text, flags=re.M)
        if m:
            command = m.group(1)
            text = text[:m.start()] + ".Nm " + command.replace(" ", "-") + text[m.end():]
            text = re.sub(r"^\.Nm$", '.Nm "' + command + '"', text, flags=re.M)
        text = re.sub(r'^\.Nd "(.*)"$', r".Nd \1", text, flags=re.M)
        # A blank line in a command's discussion is a paragraph break; mdoc spells it .Pp.
        text = re.sub(r"\n\n+(?=.)", "\n.Pp\n", text)
        if stem == "gwlua":
            text = re.sub(r"(\.Sh \"SEE ALSO\"\n)", r"\1.Xr gwlua-lua 7 ,\n", text)
        name = stem.replace(".", "-") + "." + section
        with open(os.path.join(out, name), "w", encoding="utf-8") as f:
            f.write(text)


if __name__ == "__main__":
    main()
