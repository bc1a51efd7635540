#!/bin/bash
# 10-cli-init: `hmilock init` on a fixture tree: key creation, what is
# approved and skipped (by reason), special files and symlink loops never
# hang it, refusal to replace a list without --force, generations, roots from
# the config file, --one-file-system, --all-files, the TTY progress bar.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cli_fixture.sh"
need_root

mk_tree "$T/tree" || { fail "init: fixture: cannot build the tree"; finish; }

expect_rc 0 "init: fresh key and list" timeout 120 "$HMILOCK" --db "$T/db" --key "$T/key" \
	--config "$CONF" init "$T/tree"
cp "$T/out" "$T/init.out"
cp "$T/err" "$T/init.err"
check "init: key created mode 0600" test "$(stat -c %a "$T/key")" = 600
check "init: key is 32 bytes" test "$(stat -c %s "$T/key")" = 32
grep_ok "init: summary counts approved files" "approved $TREE_APPROVED files" "$T/init.out"
grep_ok "init: summary counts special files" "$TREE_SPECIAL special" "$T/init.out"
grep_ok "init: summary counts symlinks" "$TREE_SYMLINKS symlink" "$T/init.out"
grep_ok "init: summary counts non-executables" "$TREE_NOTEXEC not-executable" "$T/init.out"
grep_ok "init: summary names generation 1" "generation 1 written" "$T/init.out"
check "init: summary is one line when not a TTY" test "$(grep -c approved "$T/init.out")" = 1
if grep -q $'\r' "$T/init.err"; then fail "init: no progress bar without a TTY"; else pass "init: no progress bar without a TTY"; fi

hl list --json >"$T/list.json"
check "init: list --json holds every qualifying file" python3 -c "$PY_LIB
ents = entries(sys.argv[1])
assert len(ents) == $TREE_APPROVED, len(ents)
for p, e in ents:
    assert os.path.isfile(p), p
    assert e['sha256'] == sha(p), p
" "$T/list.json"
check "init: special files, symlinks and data not listed" python3 -c "$PY_LIB
names = {os.path.basename(p) for p, e in entries(sys.argv[1])}
for n in [b'fifo', b'sock', b'null', b'link-true', b'loop-a', b'loop-b', b'readme.txt']:
    assert n not in names, n
" "$T/list.json"

# A second init must not replace the list without --force.
cp "$T/db" "$T/db.before"
expect_rc 2 "init: refuses to replace a list" hl init "$T/tree"
grep_ok "init: refusal says how (--force)" "force" "$T/err"
check "init: refused list unchanged" cmp -s "$T/db" "$T/db.before"
expect_rc 0 "init --force replaces the list" hl init --force "$T/tree"
grep_ok "init --force continues the generation" "generation 2 written" "$T/out"
check "init --force keeps the old list as .prev" cmp -s "$T/db.prev" "$T/db.before"
expect_rc 0 "init: options after operands (permutation)" hl init "$T/tree" -f --workers 1
grep_ok "init --workers 1 approves the same" "approved $TREE_APPROVED files" "$T/out"

# Bad operands: nothing is written.
rm -f "$T/db2"
expect_rc 2 "init: missing root is an error" "$HMILOCK" --db "$T/db2" --key "$T/key" \
	--config "$CONF" init "$T/tree" "$T/no-such-dir"
grep_ok "init: error names the missing root" "no-such-dir" "$T/err"
check "init: no list written for a missing root" test ! -e "$T/db2"
expect_rc 2 "init --workers 0 is refused" hl init -f --workers 0 "$T/tree"
expect_rc 2 "init --workers abc is refused" hl init -f --workers abc "$T/tree"

# --all-files lists the data file too.
expect_rc 0 "init --all-files" hl init -f --all-files "$T/tree"
grep_ok "init --all-files approves data" "approved $((TREE_APPROVED + TREE_NOTEXEC)) files" "$T/out"

# A file root is approved whatever it holds.
expect_rc 0 "init on a single data file" hl init -f "$T/tree/data/readme.txt"
grep_ok "init: a named file is approved" "approved 1 files" "$T/out"

# Roots from [init] roots in the config file (only when no PATH is given).
mkdir -p "$T/croot/a" "$T/croot/b"
cp /bin/true "$T/croot/a/x"
cp /bin/true "$T/croot/b/y"
printf '[agent]\nmode = enforce\n[init]\nroots = %s %s %s\n' "$T/croot/a" "$T/croot/b" \
	"$T/croot/absent" >"$CONF"
expect_rc 0 "init: roots from the config file" hl init -f
grep_ok "init: config roots scanned" "approved 2 files" "$T/out"
grep_ok "init: missing configured root noted" "absent" "$T/err"
printf '[init]\nrootz = /usr\n' >"$CONF"
expect_rc 2 "init: unknown key in [init] refused" hl init -f
grep_ok "init: config error names the file" "$CONF" "$T/err"
grep_ok "init: config error names the key" "rootz" "$T/err"
printf '[init]\nroots = relative/dir\n' >"$CONF"
expect_rc 2 "init: relative configured root refused" hl init -f
: >"$CONF"

# --one-file-system: a mount below the root is skipped with -x only.
mkdir -p "$T/fs/top"
cp /bin/true "$T/fs/top/t"
if mk_tmpfs "$T/fs/sub"; then
	cp /bin/true "$T/fs/sub/s"
	expect_rc 0 "init -x" hl init -f -x "$T/fs"
	grep_ok "init -x skips the mount below" "approved 1 files" "$T/out"
	grep_ok "init -x counts it" "other-fs" "$T/out"
	expect_rc 0 "init without -x crosses mounts" hl init -f "$T/fs"
	grep_ok "init without -x lists both" "approved 2 files" "$T/out"
else
	skip "init -x: cannot mount a tmpfs"
fi

# Paths longer than PATH_MAX are skipped by reason, not fatal.
deep="$T/deep"
mkdir -p "$deep"
(
	cd "$deep" || exit 1
	n=$(printf 'd%.0s' $(seq 200))
	for _ in $(seq 21); do mkdir "$n" && cd "$n" || exit 1; done
	cp /bin/true ./toolong
)
expect_rc 0 "init: tree deeper than PATH_MAX" hl init -f "$deep" "$T/tree/bin/true"
grep_ok "init: too-long path counted" "too-long" "$T/out"

# On a TTY: a progress bar on stderr (files done/total, MB/s, ETA).
if script -qec "true" /dev/null >/dev/null 2>&1; then
	script -qec "'$HMILOCK' --db '$T/db' --key '$T/key' --config '$CONF' init -f '$T/tree'" \
		/dev/null >"$T/tty.out" 2>&1
	grep_ok "init on a TTY draws a bar" "MB/s" "$T/tty.out"
	grep_ok "init bar shows files done/total" '\b\([0-9][0-9]*\)/\1 files' "$T/tty.out"
	grep_ok "init bar shows ETA" "ETA" "$T/tty.out"
else
	skip "init progress bar: no script(1)"
fi

# W^X: init names the JIT runtimes it approved and prints the wx_exempt
# line for hmilock.conf; a runtime the configuration exempts already is
# not named again; a tree without one prints nothing about W^X.
mkdir -p "$T/jit/bin"
cp /bin/true "$T/jit/bin/node"
cp /bin/true "$T/jit/bin/java"
cp /bin/true "$T/jit/bin/ls"
expect_rc 0 "init wx: a tree with node and java" "$HMILOCK" --db "$T/jit.db" --key "$T/key" \
	--config "$CONF" init "$T/jit"
grep_ok "init wx: prints the wx_exempt line with both runtimes" \
	"^  wx_exempt = .*$T/jit/bin/\(node\|java\) $T/jit/bin/\(node\|java\)$" "$T/out"
check "init wx: the summary line still comes first" test "$(head -1 "$T/out" | cut -c1-8)" = approved
{ cat "$CONF"; printf '[agent]\nwx_exempt = %s/jit/bin/n*\n' "$T"; } >"$T/wx.conf"
expect_rc 0 "init wx: with node exempt by the configuration" "$HMILOCK" --db "$T/jit2.db" \
	--key "$T/key" --config "$T/wx.conf" init "$T/jit"
grep_ok "init wx: only java is proposed then" "^  wx_exempt = $T/jit/bin/java$" "$T/out"
rm "$T/jit/bin/node" "$T/jit/bin/java"
expect_rc 0 "init wx: a tree without a runtime" "$HMILOCK" --db "$T/jit3.db" --key "$T/key" \
	--config "$CONF" init "$T/jit"
if grep -q 'W^X\|wx_exempt' "$T/out"; then
	fail "init wx: W^X named without a runtime: $(cat "$T/out")"
else
	pass "init wx: nothing about W^X without a runtime"
fi
finish
