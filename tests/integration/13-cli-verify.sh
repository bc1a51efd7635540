#!/bin/bash
# 13-cli-verify: `hmilock verify` is clean on an untouched tree and finds
# every kind of drift: one changed byte, a removed file, a binary replaced
# by a script (type change), a mode change, a FIFO in place of a file (never
# opened); text stays one line per entry, --json counts add up, exit 1.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cli_fixture.sh"
need_root

mk_tree "$T/tree" || { fail "verify: fixture: cannot build the tree"; finish; }
hl init "$T/tree" >/dev/null 2>&1 || fail "verify: init failed"

expect_rc 0 "verify: clean tree" hl verify
grep_ok "verify: clean summary" "$TREE_APPROVED ok; no drift" "$T/out"
expect_rc 0 "verify --json: clean tree" hl verify --json
check "verify --json: clean report" python3 -c "
import json, sys
r = json.load(open(sys.argv[1]))
assert r['drift'] == 0 and r['entries'] == $TREE_APPROVED and r['problems'] == [], r
assert r['counts']['ok'] == $TREE_APPROVED and r['generation'] == 1, r
" "$T/out"

# One byte changed in the middle of a binary (same size, same type).
python3 -c '
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[len(b) // 2] ^= 0x01
open(p, "r+b").write(b)
' "$T/tree/bin/true"
rm "$T/tree/bin/prog-exec"
rm "$T/tree/bin/prog-pie" && printf '#!/bin/sh\nexit 0\n' >"$T/tree/bin/prog-pie"
chmod 0755 "$T/tree/bin/prog-pie"
chmod 4755 "$T/tree/bin/plain-x"
rm "$T/tree/bin/script.sh" && mkfifo "$T/tree/bin/script.sh"
printf 'x' >>"$T/tree/odd/new"$'\n'"line"

expect_rc 1 "verify: drift exits 1" timeout 60 "$HMILOCK" --db "$T/db" --key "$T/key" \
	--config "$CONF" verify
cp "$T/out" "$T/v.txt"
grep_ok "verify: changed byte found" "^changed  *$T/tree/bin/true\$" "$T/v.txt"
grep_ok "verify: removed file found" "^missing  *$T/tree/bin/prog-exec\$" "$T/v.txt"
grep_ok "verify: type change found" "^type-changed  *$T/tree/bin/prog-pie (pie -> script)" "$T/v.txt"
grep_ok "verify: mode change found" "^metadata  *$T/tree/bin/plain-x (mode 0755 -> 4755" "$T/v.txt"
grep_ok "verify: FIFO in place found" "^not-regular  *$T/tree/bin/script.sh (now a fifo)" "$T/v.txt"
grep_ok "verify: odd name stays one line" "^changed  *$T/tree/odd/new\\\\nline\$" "$T/v.txt"
grep_ok "verify: summary counts drift" "; drift found" "$T/v.txt"
check "verify: one line per drift plus the summary" test "$(wc -l <"$T/v.txt")" = 7

expect_rc 1 "verify --json: drift exits 1" hl verify --json
check "verify --json: every drift reported" python3 -c "
import json, os, sys
r = json.load(open(sys.argv[1]))
st = {os.path.basename(p['path']): p['status'] for p in r['problems']}
want = {'true': 'changed', 'prog-exec': 'missing', 'prog-pie': 'type-changed',
        'plain-x': 'metadata', 'script.sh': 'not-regular', 'new\nline': 'changed'}
assert st == want, st
assert r['drift'] == 6 and r['counts']['ok'] == $TREE_APPROVED - 6, r
assert sum(r['counts'].values()) == r['entries'], r
t = [p for p in r['problems'] if p['status'] == 'type-changed'][0]
assert t['type'] == 'pie' and t['now_type'] == 'script' and t['now_sha256'] != t['sha256'], t
m = [p for p in r['problems'] if p['status'] == 'metadata'][0]
assert m['mode'] == 0o755 and m['now_mode'] == 0o4755 and m['now_sha256'] == m['sha256'], m
" "$T/out"

expect_rc 2 "verify: unexpected operand" hl verify "$T/tree"
finish
