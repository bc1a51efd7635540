#!/bin/bash
# 14-cli-check: `hmilock check PATH` answers like the daemon: allow a listed
# file with its hash, deny a changed one (hash mismatch), an unlisted one
# (naming where the same content is listed), a directory, FIFO or device
# (never opened); symlinks and relative paths are resolved first; under
# match = hash it follows the configuration, as the daemon does.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cli_fixture.sh"
need_root

mk_tree "$T/tree" || { fail "check: fixture: cannot build the tree"; finish; }
hl init "$T/tree" >/dev/null 2>&1 || fail "check: init failed"
mkdir -p "$T/else"
cp "$T/tree/bin/prog-pie" "$T/else/copy"
cp "$T/tree/bin/prog-pie" "$T/else/mod"
printf 'x' >>"$T/else/mod"

# check_json NAME VERDICT REASON PYTHON-EXPR: check --json output in $T/out.
check_json() {
	check "$1" python3 -c "
import json, sys
r = json.load(open(sys.argv[1]))
assert r['verdict'] == '$2' and r['reason'] == '$3', r
assert $4, r
" "$T/out"
}

expect_rc 0 "check: listed file allowed" hl check "$T/tree/bin/prog-pie"
grep_ok "check: text says allow: listed" "^allow: listed: $T/tree/bin/prog-pie\$" "$T/out"
expect_rc 0 "check --json: listed file" hl check --json "$T/tree/bin/prog-pie"
sum=$(sha256sum "$T/tree/bin/prog-pie" | cut -d' ' -f1)
check_json "check --json: allow, listed, sha256" allow listed "r['sha256'] == '$sum' and r['path'] == '$T/tree/bin/prog-pie'"

expect_rc 0 "check: option after the operand" hl check "$T/tree/bin/true" --json
check_json "check: permuted --json honoured" allow listed "True"

expect_rc 1 "check: unlisted copy denied" hl check --json "$T/else/copy"
check_json "check: copy names where its content is listed" deny "not listed" \
	"r['hash_listed_as'] == '$T/tree/bin/prog-pie'"
expect_rc 1 "check: unlisted copy, text" hl check "$T/else/copy"
grep_ok "check: text names the listed copy" "same content is listed as $T/tree/bin/prog-pie" "$T/out"

expect_rc 1 "check: unlisted file denied" hl check --json "$T/else/mod"
check_json "check: unlisted and unknown content" deny "not listed" "'hash_listed_as' not in r"

cp "$T/tree/bin/true" "$T/true.orig"
printf 'x' >>"$T/tree/bin/true"
expect_rc 1 "check: changed listed file denied" hl check --json "$T/tree/bin/true"
osum=$(sha256sum "$T/true.orig" | cut -d' ' -f1)
check_json "check: hash mismatch with both hashes" deny "hash mismatch" \
	"r['listed_sha256'] == '$osum' and r['sha256'] != '$osum'"
cp "$T/true.orig" "$T/tree/bin/true"
expect_rc 0 "check: restored file allowed again" hl check "$T/tree/bin/true"

expect_rc 1 "check: directory denied" hl check --json "$T/tree/bin"
check_json "check: directory is not a regular file" deny "not a regular file" "'sha256' not in r"
expect_rc 1 "check: FIFO denied without hanging" timeout 20 "$HMILOCK" --db "$T/db" \
	--key "$T/key" --config "$CONF" check --json "$T/tree/special/fifo"
check_json "check: FIFO is not a regular file" deny "not a regular file" "True"
expect_rc 1 "check: device denied" hl check "$T/tree/special/null"
grep_ok "check: device text" "^deny: not a regular file: " "$T/out"

ln -s ../tree/bin/prog-pie "$T/else/ln"
expect_rc 0 "check: symlink resolved to the listed file" hl check --json "$T/else/ln"
check_json "check: symlink reports the resolved path" allow listed "r['path'] == '$T/tree/bin/prog-pie'"
expect_rc 1 "check: symlink to an unlisted system file" hl check --json "$T/tree/bin/link-true"
check_json "check: resolved path of a symlink decides" deny "not listed" "r['path'] == '$(realpath /bin/true)'"
expect_rc 0 "check: relative path" bash -c "cd '$T/tree/lib' && '$HMILOCK' --db '$T/db' --key '$T/key' --config '$CONF' check ../bin/script.sh"
grep_ok "check: relative path resolved" "^allow: listed: $T/tree/bin/script.sh\$" "$T/out"
expect_rc 0 "check: non-UTF-8 path" hl check --json "$T/tree/odd/"$'\xff\xfe'"-latin1"
check_json "check: non-UTF-8 path escaped in JSON" allow listed "r['path_escaped'] is True and r['path'].endswith('\\\\xff\\\\xfe-latin1')"

# The daemon's rule under match = hash (issue 11): check decides with the
# same decide() and the configuration's match, so a copy of a listed file
# is allowed wherever it is, and a listed path with other content is not.
printf '[agent]\nmatch = hash\n' >"$CONF"
expect_rc 0 "check: match = hash: a copy of a listed file is allowed" hl check --json "$T/else/copy"
check_json "check: match = hash: the copy is listed by its content" allow listed "True"
expect_rc 1 "check: match = hash: other content still denied" hl check --json "$T/else/mod"
check_json "check: match = hash: modified copy not listed" deny "not listed" "True"
cp "$T/tree/bin/true" "$T/true.keep"
cp "$T/else/mod" "$T/tree/bin/true"
expect_rc 1 "check: match = hash: a listed path with unlisted content" hl check --json "$T/tree/bin/true"
check_json "check: match = hash: ... is a hash mismatch" deny "hash mismatch" "True"
cp "$T/true.keep" "$T/tree/bin/true"
: >"$CONF"
expect_rc 1 "check: match = path+hash again: the copy is denied" hl check "$T/else/copy"

expect_rc 2 "check: missing path" hl check "$T/no/such/file"
grep_ok "check: error names the missing path" "$T/no/such/file" "$T/err"
expect_rc 2 "check: symlink loop" hl check "$T/tree/special/loop-a"
grep_ok "check: loop error names the path" "loop-a" "$T/err"
expect_rc 2 "check: no operand" hl check
expect_rc 2 "check: two operands" hl check "$T/tree/bin/true" "$T/tree/bin/true"
finish
