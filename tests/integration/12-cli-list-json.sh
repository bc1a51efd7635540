#!/bin/bash
# 12-cli-list-json: `hmilock list` text and `--json`: one line per entry
# whatever the path holds, valid JSON with the documented members, types of
# compiled programs, interpreters, escaped non-UTF-8 paths, an empty list.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cli_fixture.sh"
need_root

mk_tree "$T/tree" || { fail "list: fixture: cannot build the tree"; finish; }
printf 'int main(void) { return 0; }\n' >"$T/prog.c"
if cc -static -o "$T/tree/bin/prog-static" "$T/prog.c" 2>/dev/null; then
	n_static=1
else
	n_static=0
fi
total=$((TREE_APPROVED + n_static))
hl init "$T/tree" >/dev/null 2>&1 || fail "list: init failed"

expect_rc 0 "list: text" hl list
cp "$T/out" "$T/list.txt"
check "list: one line per entry" test "$(wc -l <"$T/list.txt")" = "$total"
check "list: TYPE SHA256 PATH per line" python3 -c '
import re, sys
for line in open(sys.argv[1], "rb").read().split(b"\n")[:-1]:
    assert re.match(rb"^(exec|pie|shlib|kmod|elf|script|other) +[0-9a-f]{64} /\S", line), line
' "$T/list.txt"
grep_ok "list: newline escaped" 'odd/new\\nline$' "$T/list.txt"
grep_ok "list: tab escaped" 'odd/tab\\there$' "$T/list.txt"
grep_ok "list: non-UTF-8 bytes escaped" 'odd/\\xff\\xfe-latin1$' "$T/list.txt"
grep_ok "list: UTF-8 kept as is" 'odd/ünïcödé$' "$T/list.txt"
grep_ok "list: space kept" 'odd/with space$' "$T/list.txt"

expect_rc 0 "list --json" hl list --json
cp "$T/out" "$T/list.json"
check "list --json: valid JSON array with the documented members" python3 -c "$PY_LIB
ents = json.load(open(sys.argv[1]))
assert isinstance(ents, list) and len(ents) == $total, len(ents)
for e in ents:
    for k, t in [('path', str), ('sha256', str), ('type', str), ('size', int), ('mode', int),
                 ('uid', int), ('gid', int)]:
        assert isinstance(e[k], t), (k, e)
    assert len(e['sha256']) == 64 and e['sha256'] == e['sha256'].lower()
" "$T/list.json"
check "list --json: sha256, size, mode match the files" python3 -c "$PY_LIB
for p, e in entries(sys.argv[1]):
    st = os.lstat(p)
    assert e['sha256'] == sha(p), p
    assert e['size'] == st.st_size and e['mode'] == st.st_mode & 0o7777, p
    assert e['uid'] == st.st_uid and e['gid'] == st.st_gid, p
" "$T/list.json"
check "list --json: types of compiled programs" python3 -c "$PY_LIB
t = {os.path.basename(p): e['type'] for p, e in entries(sys.argv[1])}
assert t[b'prog-pie'] == 'pie', t
assert t[b'prog-exec'] == 'exec', t
assert t[b'libf.so'] == 'shlib', t
assert t[b'script.sh'] == 'script', t
assert t[b'noexec-script'] == 'script', t
assert t[b'plain-x'] == 'other', t
assert t.get(b'prog-static', 'exec') == 'exec', t
" "$T/list.json"
check "list --json: interpreters recorded" python3 -c "$PY_LIB
i = {os.path.basename(p): e.get('interp') for p, e in entries(sys.argv[1])}
assert i[b'script.sh'] == '/bin/sh', i
assert i[b'noexec-script'] == '/usr/bin/python3', i
assert i[b'prog-pie'] and i[b'prog-pie'].startswith('/'), i
assert i[b'libf.so'] is None and i.get(b'prog-static') is None, i
" "$T/list.json"
check "list --json: non-UTF-8 path escaped and flagged" python3 -c "$PY_LIB
esc = [e for e in json.load(open(sys.argv[1])) if e.get('path_escaped')]
assert len(esc) == 1 and esc[0]['path'].endswith('odd/\\\\xff\\\\xfe-latin1'), esc
assert os.path.isfile(unesc(esc[0]['path']))
" "$T/list.json"
check "list --json: newline path exact" python3 -c "$PY_LIB
ps = [e['path'] for e in json.load(open(sys.argv[1]))]
assert any(p.endswith('odd/new\nline') for p in ps), ps
assert any(p.endswith('odd/ünïcödé') for p in ps), ps
" "$T/list.json"
check "list --json: slashes not escaped" grep -q "\"$T/tree/bin/true\"" "$T/list.json"

# An empty list is valid JSON.
mkdir -p "$T/nothing"
printf 'data\n' >"$T/nothing/d"
expect_rc 0 "list: init over a tree with nothing to approve" hl init -f "$T/nothing"
expect_rc 0 "list --json: empty list" hl list --json
check "list --json: empty list is []" python3 -c 'import json, sys; assert json.load(open(sys.argv[1])) == []' "$T/out"
expect_rc 0 "list: empty list prints nothing" hl list
check "list: empty list output empty" test ! -s "$T/out"

expect_rc 2 "list: operand refused" hl list extra
expect_rc 2 "list: unknown option" hl list --force
expect_rc 0 "list --help" hl list --help
grep_ok "list --help shows usage" "usage: hmilock list" "$T/out"
finish
