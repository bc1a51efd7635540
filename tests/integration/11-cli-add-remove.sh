#!/bin/bash
# 11-cli-add-remove: `hmilock add` and `remove` with files and trees,
# relative paths, symlinks, deleted files; each change is a new generation
# with the old list kept as .prev; bad operands leave the list untouched.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cli_fixture.sh"
need_root

mk_tree "$T/tree" || { fail "add: fixture: cannot build the tree"; finish; }
mkdir -p "$T/base" "$T/extra/sub"
cp /bin/true "$T/base/one"
cp /bin/true "$T/extra/a"
cp /bin/false "$T/extra/sub/b"
printf 'data\n' >"$T/extra/data.txt"
ln -s "$T/extra/a" "$T/link-to-a"

listed() { hl list | grep -c -- "$1"; }
count() { hl list | wc -l; }

expect_rc 2 "add before init: no list" hl add "$T/extra/a"
grep_ok "add before init: names the key or list" "$T/" "$T/err"
expect_rc 0 "add: init a base list" hl init "$T/base"

cp "$T/db" "$T/gen1"
expect_rc 0 "add: a file" hl add "$T/extra/a"
grep_ok "add: generation 2" "generation 2 written" "$T/out"
grep_ok "add: says 1 new" "1 new" "$T/out"
check "add: file listed" test "$(listed "$T/extra/a\$")" = 1
check "add: previous list kept as .prev" cmp -s "$T/db.prev" "$T/gen1"

expect_rc 0 "add: a tree, options after operands" hl add "$T/extra" --workers 1
check "add: tree entries listed" test "$(listed "$T/extra/sub/b\$")" = 1
check "add: data file in a tree not listed" test "$(listed data.txt)" = 0
check "add: re-adding keeps one entry per path" test "$(listed "$T/extra/a\$")" = 1
grep_ok "add: re-added file counted as replaced" "1 replaced" "$T/out"

expect_rc 0 "add: a named data file" hl add "$T/extra/data.txt"
check "add: named data file listed as other" test "$(hl list | grep -c "^other .*data.txt\$")" = 1

expect_rc 0 "add: relative path" bash -c "cd '$T/tree/bin' && '$HMILOCK' --db '$T/db' --key '$T/key' --config '$CONF' add ./script.sh ../lib/libf.so"
check "add: relative path stored absolute" test "$(listed " $T/tree/bin/script.sh\$")" = 1
check "add: ../ resolved" test "$(listed " $T/tree/lib/libf.so\$")" = 1

hl remove "$T/extra/a" >/dev/null
expect_rc 0 "add: through a symlink" hl add "$T/link-to-a"
check "add: symlink stored as its target" test "$(listed " $T/extra/a\$")" = 1
check "add: symlink path itself not listed" test "$(listed link-to-a)" = 0

expect_rc 0 "add: tree with odd names and special files" timeout 60 "$HMILOCK" --db "$T/db" \
	--key "$T/key" --config "$CONF" add "$T/tree"
check "add: odd names listed one per line" test "$(hl list | grep -c "$T/tree/odd/")" = 5

# Bad operands: the list stays byte for byte.
cp "$T/db" "$T/before"
expect_rc 2 "add: missing path refused" hl add "$T/extra/a" "$T/nope"
grep_ok "add: error names the missing path" "$T/nope" "$T/err"
check "add: list untouched after a missing path" cmp -s "$T/db" "$T/before"
expect_rc 2 "add: a FIFO operand refused" hl add "$T/tree/special/fifo"
grep_ok "add: FIFO error names it" "fifo" "$T/err"
check "add: list untouched after a FIFO" cmp -s "$T/db" "$T/before"
expect_rc 2 "add: no operand" hl add
expect_rc 2 "add: unknown option" hl add --json "$T/extra/a"
check "add: list untouched after usage errors" cmp -s "$T/db" "$T/before"
mkdir -p "$T/empty-dir"
expect_rc 0 "add: nothing qualifies" hl add "$T/empty-dir"
grep_ok "add: says list unchanged" "unchanged" "$T/out"
check "add: no new generation when nothing qualifies" cmp -s "$T/db" "$T/before"

# remove
n0=$(count)
expect_rc 0 "remove: a file" hl remove "$T/extra/sub/b"
check "remove: file gone" test "$(listed "$T/extra/sub/b")" = 0
check "remove: one entry fewer" test "$(count)" = $((n0 - 1))
expect_rc 0 "remove: a tree with a trailing slash" hl remove "$T/tree/odd/"
check "remove: tree entries gone" test "$(listed "$T/tree/odd/")" = 0
check "remove: sibling trees kept" test "$(listed "$T/tree/bin/true\$")" = 1
rm "$T/base/one"
expect_rc 0 "remove: a file already deleted" hl remove "$T/base/one"
check "remove: deleted file gone from the list" test "$(listed "$T/base/one")" = 0
expect_rc 0 "remove: relative path with .." bash -c "cd '$T/tree/lib' && '$HMILOCK' --db '$T/db' --key '$T/key' --config '$CONF' remove ../bin/prog-pie"
check "remove: relative path removed" test "$(listed prog-pie)" = 0
expect_rc 0 "remove: through a symlink" hl remove "$T/link-to-a"
check "remove: symlink target removed" test "$(listed " $T/extra/a\$")" = 0
# /bin/true of the tree must not take /bin/true-like prefixes with it
cp /bin/true "$T/tree/bin/true2"
hl add "$T/tree/bin/true2" >/dev/null
hl remove "$T/tree/bin/true" >/dev/null
check "remove: a file does not take its prefix siblings" test "$(listed "$T/tree/bin/true2\$")" = 1

cp "$T/db" "$T/before"
expect_rc 2 "remove: not on the list" hl remove "$T/tree/data/readme.txt"
grep_ok "remove: error says not on the list" "not on the list" "$T/err"
expect_rc 2 "remove: one bad operand among good ones" hl remove "$T/tree/bin/true2" "$T/never"
grep_ok "remove: error names the bad operand" "$T/never" "$T/err"
check "remove: list untouched after errors" cmp -s "$T/db" "$T/before"
expect_rc 2 "remove: no operand" hl remove
finish
