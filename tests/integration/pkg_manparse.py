#!/usr/bin/env python3
"""pkg_manparse.py - read what man pages, help texts, the daemon's config
key table and INI files declare, for the packaging drift tests (50-59,
helper F). Each subcommand prints one item per line.

  tags MANPAGE [SECTION_RE]    first word of every tagged paragraph (.TP tag,
                               .IP tag, .SS title) in sections whose .SH
                               title matches SECTION_RE (default: any)
  tagtext MANPAGE [SECTION_RE] the whole text of each of those tags
  words MANPAGE [SECTION_RE]   every word of the text of those sections
  sections MANPAGE             the .SH titles
  help-commands FILE|-         command names of a `hmilock --help` text
  help-options FILE|-          every option (--long and -s) a text names
  config-keys CONFIG_C         "section key" of each entry of the daemon's
                               config key table (whitelist/config.c)
  c-array NAME FILE            identifiers in the initializer of the C array
                               NAME (e.g. sandbox_keep in agent/sandbox.c)
  conf-sections MANPAGE...     every "[name]" (lower case) the pages' text names:
                               the config sections they document
  ini-keys FILE                "section key" of each key an INI file sets or
                               shows commented out ("# key = value")
  plain-text FILE              the text of a man page, Markdown file, shell
                               script or commented config as one line:
                               without roff fonts and escapes, comment
                               leaders, backticks and double quotes, blanks
                               collapsed (to compare statements across them)
"""
import re
import sys

FONT = re.compile(r"\\f(\[[^]]*\]|\(..|.)")
ALT_MACROS = {"BR", "RB", "BI", "IB", "IR", "RI"}
FONT_MACROS = {"B", "I", "SM", "SB"}


def roff_args(s):
    """Split macro arguments the roff way: blanks separate, quotes group."""
    out, cur, quoted, i = [], "", False, 0
    while i < len(s):
        c = s[i]
        if c == '"':
            if quoted and i + 1 < len(s) and s[i + 1] == '"':
                cur += '"'
                i += 2
                continue
            quoted = not quoted
        elif c in " \t" and not quoted:
            if cur:
                out.append(cur)
            cur = ""
        else:
            cur += c
        i += 1
    if cur:
        out.append(cur)
    return out


def roff_text(s):
    """Plain text of one roff escape-laden string."""
    s = FONT.sub("", s)
    for a, b in (("\\-", "-"), ("\\(dq", '"'), ("\\(aq", "'"), ("\\e", "\\"),
                 ("\\&", ""), ("\\ ", " "), ("\\|", ""), ("\\^", ""),
                 ("\\(em", "-"), ("\\(en", "-"), ("\\(->", "->")):
        s = s.replace(a, b)
    return s


def roff_line(line):
    """Text of a line: a macro line's arguments, or the line itself."""
    if line.startswith(".") or line.startswith("'"):
        parts = line[1:].split(None, 1)
        if not parts:
            return ""
        macro, rest = parts[0], parts[1] if len(parts) > 1 else ""
        args = roff_args(rest)
        if macro in ALT_MACROS:
            return roff_text("".join(args))
        if macro in FONT_MACROS or macro in ("IP", "SS", "SH", "TP"):
            return roff_text(" ".join(args))
        return ""
    return roff_text(line)


def man_walk(path, section_re):
    """Yield (kind, text) for tags and text lines in matching sections."""
    rx = re.compile(section_re) if section_re else None
    with open(path, encoding="utf-8") as f:
        lines = [l.rstrip("\n") for l in f]
    section, want_tag, i = "", False, 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if line.startswith('.\\"') or line.startswith("'\\\""):
            continue
        m = re.match(r"^\.(SH|SS|TP|IP)\b\s*(.*)$", line)
        if m and m.group(1) == "SH":
            section = roff_text(" ".join(roff_args(m.group(2))))
            continue
        inside = rx is None or rx.search(section)
        if m and m.group(1) == "TP":
            want_tag = True
            continue
        if m and m.group(1) in ("SS", "IP"):
            args = roff_args(m.group(2))
            if inside and args:
                yield "tag", roff_text(args[0])
            continue
        if not inside:
            want_tag = False
            continue
        text = roff_line(line)
        if want_tag:
            # a font-change request alone does not end the tag line
            if line.startswith(".") and not text and not re.match(r"^\.(B|I|BR|RB|BI|IB|IR|RI)\b", line):
                continue
            want_tag = False
            yield "tag", text
        else:
            yield "text", text


def first_word(tag):
    tag = tag.strip()
    if tag.startswith("hmilock ") or tag.startswith("hmilockd "):
        tag = tag.split(None, 1)[1] if len(tag.split(None, 1)) > 1 else ""
    w = re.split(r"[\s=,\[]", tag, maxsplit=1)[0]
    return w


def cmd_tags(path, section_re=None):
    for kind, text in man_walk(path, section_re):
        if kind == "tag":
            w = first_word(text)
            if w:
                print(w)


def cmd_tagtext(path, section_re=None):
    for kind, text in man_walk(path, section_re):
        if kind == "tag":
            print(text.strip())


def cmd_words(path, section_re=None):
    for _, text in man_walk(path, section_re):
        for w in re.findall(r"[A-Za-z0-9_.+/-]+", text):
            print(w)


def cmd_sections(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^\.SH\s+(.*)$", line.rstrip("\n"))
            if m:
                print(roff_text(" ".join(roff_args(m.group(1)))))


def read_input(arg):
    if arg == "-":
        return sys.stdin.read()
    with open(arg, encoding="utf-8", errors="replace") as f:
        return f.read()


def cmd_help_commands(arg):
    """Lines "  name  text" in the block after a line starting "Commands"."""
    inblock = False
    for line in read_input(arg).splitlines():
        if re.match(r"^\s*Commands\b", line):
            inblock = True
            continue
        if inblock:
            if not line.strip():
                break
            m = re.match(r"^\s+([a-z][a-z0-9-]*)(\s|$)", line)
            if m:
                print(m.group(1))


def cmd_help_options(arg):
    seen = set()
    for m in re.finditer(r"(?<![\w-])(--[a-z][a-z0-9-]*|-[A-Za-z](?![\w-]))", read_input(arg)):
        if m.group(0) not in seen:
            seen.add(m.group(0))
            print(m.group(0))


def cmd_config_keys(path):
    """Entries {"section", "name", ...} of the array config_keys[]."""
    src = read_input(path)
    src = re.sub(r"/\*.*?\*/", "", src, flags=re.S)
    src = re.sub(r"//[^\n]*", "", src)
    m = re.search(r"config_keys\s*\[\s*\]\s*=\s*\{(.*?)\n\s*\}\s*;", src, re.S)
    if not m:
        sys.exit("pkg_manparse: no config_keys[] table in " + path)
    for s, k in re.findall(r'\{\s*"([^"]+)"\s*,\s*"([^"]+)"', m.group(1)):
        print(s, k)


def cmd_c_array(name, path):
    src = read_input(path)
    src = re.sub(r"/\*.*?\*/", "", src, flags=re.S)
    src = re.sub(r"//[^\n]*", "", src)
    m = re.search(r"\b" + re.escape(name) + r"\s*\[[^]]*\]\s*=\s*\{(.*?)\}\s*;", src, re.S)
    if not m:
        sys.exit("pkg_manparse: no array %s in %s" % (name, path))
    for ident in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", m.group(1)):
        print(ident)


def roman_text(line):
    """Text of a line without its italic parts (placeholders such as
    .BI [ section ] are not names)."""
    line = re.sub(r"\\fI.*?(?=\\f[RBP]|$)", "", line)
    if line.startswith("."):
        parts = line[1:].split(None, 1)
        if not parts:
            return ""
        macro, rest = parts[0], parts[1] if len(parts) > 1 else ""
        if macro in ALT_MACROS:
            args = roff_args(rest)
            return roff_text("".join(a for i, a in enumerate(args) if macro[i % 2] != "I"))
        if macro == "I":
            return ""
    return roff_line(line)


def cmd_conf_sections(*paths):
    seen = set()
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.startswith('.\\"'):
                    continue
                for name in re.findall(r"\[([a-z_]+)\]", roman_text(line.rstrip("\n"))):
                    if name not in seen:
                        seen.add(name)
                        print(name)


def cmd_ini_keys(path):
    section = ""
    for line in read_input(path).splitlines():
        m = re.match(r"^\s*\[([^]]+)\]", line)
        if m:
            section = m.group(1).strip()
            continue
        m = re.match(r"^\s*[#;]?\s*([A-Za-z_][A-Za-z0-9_]*)\s*=", line)
        if m and section:
            print(section, m.group(1))


def cmd_plain_text(path):
    text = FONT.sub("", open(path, encoding="utf-8").read()).replace("\\-", "-")
    text = " ".join(re.sub(r"^\s*[#;]+\s?", "", line) for line in text.split("\n"))
    print(" ".join(text.replace("`", "").replace('"', "").split()))


def main():
    a = sys.argv[1:]
    cmds = {
        "tags": (cmd_tags, 1, 2), "tagtext": (cmd_tagtext, 1, 2), "words": (cmd_words, 1, 2),
        "sections": (cmd_sections, 1, 1),
        "help-commands": (cmd_help_commands, 1, 1),
        "help-options": (cmd_help_options, 1, 1),
        "config-keys": (cmd_config_keys, 1, 1), "c-array": (cmd_c_array, 2, 2),
        "conf-sections": (cmd_conf_sections, 1, 9), "ini-keys": (cmd_ini_keys, 1, 1),
        "plain-text": (cmd_plain_text, 1, 1),
    }
    if not a or a[0] not in cmds or not cmds[a[0]][1] <= len(a) - 1 <= cmds[a[0]][2]:
        sys.exit(__doc__)
    cmds[a[0]][0](*a[1:])


if __name__ == "__main__":
    main()
