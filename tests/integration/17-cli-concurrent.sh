#!/bin/bash
# 17-cli-concurrent.sh - two writers of one list: two loops of 20
# `hmilock add` of distinct files run at once and every one of the 40 files
# is on the list afterwards (writers take the list lock, a flock on the
# list's directory, from reading the list to the rename); a writer that
# finds the lock held says so once and waits; concurrent removes lose
# nothing either.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cli_fixture.sh"
need_root

N=20
mkdir -p "$T/base" "$T/a" "$T/b"
cp /bin/true "$T/base/true"
for i in $(seq $N); do
	cp /bin/true "$T/a/a$i"
	cp /bin/true "$T/b/b$i"
done
expect_rc 0 "concurrent: init" hl init "$T/base"

# adder DIR PREFIX: add DIR/PREFIX1..N one by one; failures to $T/fail.PREFIX
adder() {
	local i
	for i in $(seq $N); do
		hl add "$1/$2$i" >/dev/null 2>>"$T/err.$2" || echo "add $1/$2$i: exit $?" >>"$T/fail.$2"
	done
}
adder "$T/a" a &
pa=$!
adder "$T/b" b &
pb=$!
wait $pa $pb
for p in a b; do
	if [ -s "$T/fail.$p" ]; then fail "concurrent: loop $p: $(head -3 "$T/fail.$p") $(head -c 300 "$T/err.$p")"; else pass "concurrent: every add of loop $p exited 0"; fi
done
hl list >"$T/list.out" 2>&1
missing=0
for i in $(seq $N); do
	for p in a b; do
		grep -q " $T/$p/$p$i\$" "$T/list.out" || missing=$((missing + 1))
	done
done
if [ $missing -eq 0 ]; then
	pass "concurrent: all $((2 * N)) added files are listed"
else
	fail "concurrent: $missing of $((2 * N)) added files are missing from the list"
fi
check "concurrent: the list holds exactly the $((2 * N + 1)) files" test "$(wc -l <"$T/list.out")" -eq $((2 * N + 1))
# generation: header offset 16, little-endian (docs/list-format.md); one per add
gen=$(python3 -c 'import struct, sys; print(struct.unpack_from("<Q", open(sys.argv[1], "rb").read(24), 16)[0])' "$T/db")
check "concurrent: every add wrote its own generation (at $gen, want $((2 * N + 1)))" test "$gen" -eq $((2 * N + 1))

# Removes in two loops at once: every one takes its file off.
remover() {
	local i
	for i in $(seq $N); do
		hl remove "$1/$2$i" >/dev/null 2>>"$T/rerr.$2" || echo "remove $1/$2$i: exit $?" >>"$T/rfail.$2"
	done
}
remover "$T/a" a &
pa=$!
remover "$T/b" b &
pb=$!
wait $pa $pb
if [ -s "$T/rfail.a" ] || [ -s "$T/rfail.b" ]; then
	fail "concurrent: a remove failed: $(cat "$T/rfail.a" "$T/rfail.b" 2>/dev/null | head -3)"
else
	pass "concurrent: every remove exited 0"
fi
left=$(hl list | grep -c -e "$T/a/" -e "$T/b/")
check "concurrent: all $((2 * N)) removed files are off the list" test "$left" -eq 0

# The lock is a flock on the list's directory: while flock(1) holds it, an
# add says it waits, then goes on once the lock is free.
flock "$T" sleep 2 &
fpid=$!
sleep 0.5
start=$(date +%s.%N)
expect_rc 0 "concurrent: add waits for a held lock, then succeeds" hl add "$T/a/a1"
waited=$(python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]) >= 1.0)" "$start" "$(date +%s.%N)")
grep_ok "concurrent: the waiting writer says so" "waiting for the list lock of $T/db held by another writer" "$T/err"
check "concurrent: the add waited for the holder" test "$waited" = True
wait $fpid
grep_ok "concurrent: the add that waited is listed" "$T/a/a1\$" <(hl list)
finish
