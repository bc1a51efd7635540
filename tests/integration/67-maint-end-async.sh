#!/bin/bash
# 67-maint-end-async: `maintenance end` hashes what the window recorded off
# the main thread. While it hashes a sparse file of 6 GiB, `hmilock status`
# answers within 1 s, again and again; `maintenance status` answers at once
# and says the window is being closed; begin, end and update are refused
# with that message. The end still approves the file, re-locks, and a CLI
# that hangs up while its end is hashed loses only the reply (the end is
# done and logged).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_fixture.sh"
. "$(dirname "$0")/maint_fixture.sh"
need_root

BIG=$((6 * 1024 * 1024 * 1024))

setup_mount || { fail "async end: cannot mount tmpfs"; finish; }
cp /bin/true "$W/bin/true"
make_list "$W/bin" || { fail "async end: hmilock init"; finish; }
write_mconf enforce
start_daemon || { fail "async end: daemon did not start"; finish; }
gen0=$(list_gen)

# big_file PATH: a sparse file of 6 GiB that qualifies for the list (ELF
# magic, an execute bit) and that the end must read to the last byte.
big_file() {
	truncate -s "$BIG" "$1" &&
		printf '\177ELF' | dd of="$1" conv=notrunc status=none &&
		printf 'tail' | dd of="$1" bs=1 seek=$((BIG - 4)) conv=notrunc status=none &&
		chmod 0755 "$1"
}

# hlt ARGS: hl given 3 s at most (the CLI itself waits 10 s for status).
hlt() { timeout 3 "$HMILOCK" --db "$DB" --key "$KEY" --config "$T/cli.conf" --socket "$SOCK" "$@"; }

# ms_of ARGS: run hlt ARGS, check it answered (exit 0), print how long it
# took in ms (3000 and more when it did not answer).
ms_of() {
	local t0 t1 rc
	t0=$(date +%s%N)
	hlt "$@" >/dev/null 2>&1
	rc=$?
	t1=$(date +%s%N)
	[ $rc -eq 0 ] || t1=$((t1 + 3000000000))
	echo $(((t1 - t0) / 1000000))
}

expect_exec "async end: maintenance begin" 0 hl maintenance begin --timeout 30m
big_file "$W/tmp/big" || { fail "async end: cannot make the 6 GiB sparse file"; finish; }
cp /bin/echo "$W/tmp/small"

hl maintenance end >"$T/end.out" 2>&1 &
endpid=$!
sleep 0.3
slow=0 probes=0 worst=0
while kill -0 "$endpid" 2>/dev/null && [ $probes -lt 40 ]; do
	ms=$(ms_of status)
	probes=$((probes + 1))
	[ "$ms" -gt "$worst" ] && worst=$ms
	[ "$ms" -ge 1000 ] && slow=$((slow + 1))
	if [ $probes -eq 2 ] && kill -0 "$endpid" 2>/dev/null; then
		# while it hashes: refusals that say why, and status at once
		t0=$(date +%s%N)
		hlt maintenance status >"$T/ms.out" 2>&1
		mst=$((($(date +%s%N) - t0) / 1000000))
		hlt maintenance begin >"$T/begin.out" 2>&1
		brc=$?
		hlt maintenance end >"$T/end2.out" 2>&1
		erc=$?
		hlt update -- true >"$T/upd.out" 2>&1
		urc=$?
		busy=$(kill -0 "$endpid" 2>/dev/null && echo yes)
	fi
	sleep 0.2
done
running_after=$(kill -0 "$endpid" 2>/dev/null && echo yes)
wait "$endpid"
erc0=$?
check "async end: the end was still hashing after $probes status probes (it must take seconds)" \
	test "$probes" -ge 3
check "async end: status answered within 1 s each time ($probes probes, worst ${worst} ms)" \
	test "$slow" -eq 0
if [ "${busy:-}" = yes ]; then
	check "async end: maintenance status answered within 1 s (${mst} ms)" test "$mst" -lt 1000
	check "async end: maintenance status says the window is being closed" \
		grep -q "being closed: hashing 2 files" "$T/ms.out"
	check "async end: begin refused meanwhile ($brc), saying why" \
		bash -c '[ "$1" -eq 1 ] && grep -q "maintenance window is being closed: hashing 2 files" "$2"' _ "$brc" "$T/begin.out"
	check "async end: a second end refused meanwhile ($erc)" \
		bash -c '[ "$1" -eq 1 ] && grep -q "being closed" "$2"' _ "$erc" "$T/end2.out"
	check "async end: update refused meanwhile ($urc)" \
		bash -c '[ "$1" -ne 0 ] && grep -q "being closed" "$2"' _ "$urc" "$T/upd.out"
else
	fail "async end: the end finished before the refusals could be tried"
fi
check "async end: the end succeeds (exit $erc0)" test "$erc0" -eq 0
check "async end: the end approved both files" grep -q "2 added, 0 changed" "$T/end.out"
check "async end: the 6 GiB file is listed" listed "$W/tmp/big"
check "async end: its hash covers the last bytes (hmilock verify)" hl verify
check "async end: one generation more" test "$(list_gen)" -eq $((gen0 + 1))
check "async end: mode back to enforce" test "$(status_field mode)" = enforce
check "async end: window closed" test "$(mstatus state)" = none
expect_exec "async end: approved binary runs locked" 0 "$W/tmp/small" hi
[ -n "$running_after" ] && fail "async end: probe loop gave up while the end still ran"

# A CLI that hangs up while its end is hashed: the end is still done, the
# result logged.
gen1=$(list_gen)
expect_exec "async end: second window" 0 hl maintenance begin
rm -f "$W/tmp/big"
big_file "$W/tmp/big2" || fail "async end: second big file"
"$HMILOCK" --db "$DB" --key "$KEY" --config "$T/cli.conf" --socket "$SOCK" maintenance end \
	>/dev/null 2>&1 &
cli=$! # the CLI itself, not a subshell running it
sleep 0.5
kill -KILL "$cli" 2>/dev/null
wait "$cli" 2>/dev/null
for _ in $(seq 150); do
	[ "$(mstatus state)" = none ] && break
	sleep 0.1
done
check "async end: the end of a vanished CLI is done" test "$(mstatus state)" = none
check "async end: ... and approved its file" listed "$W/tmp/big2"
check "async end: ... and took the removed one off" unlisted "$W/tmp/big"
check "async end: ... one generation more" test "$(list_gen)" -eq $((gen1 + 1))
check "async end: ... and the log has the result" \
	grep -q "left before its maintenance end was done: 1 added, 0 changed, 1 removed" "$DLOG"
check "async end: daemon still serves" test "$(status_field mode)" = enforce
finish
