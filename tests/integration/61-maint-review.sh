#!/bin/bash
# 61-maint-review: `maintenance end --review` asks per change (answers read
# from standard input when it is not a terminal); a dropped entry stays off
# the list, an accepted one is approved; input that ends before every
# question is answered, and a review whose CLI is killed half-way, change
# nothing; `end --discard` approves nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_fixture.sh"
. "$(dirname "$0")/maint_fixture.sh"
need_root

setup_mount || { fail "review: cannot mount tmpfs"; finish; }
cp /bin/true "$W/bin/true"
make_list "$W/bin" || { fail "review: hmilock init"; finish; }
write_mconf enforce
start_daemon || { fail "review: daemon did not start"; finish; }
gen0=$(list_gen)

hl maintenance begin >/dev/null || fail "review: begin"
cp /bin/echo "$W/tmp/keep"
cp /bin/ls "$W/tmp/drop"
hl maintenance status >/dev/null 2>&1
# input ends after one answer: nothing happens, the window stays open
printf 'y\n' | hl maintenance end --review >"$T/r1.out" 2>&1
check "review: cut-short input is refused (exit 1)" test $? -eq 1
check "review: cut-short input changes nothing" test "$(list_gen)" = "$gen0"
check "review: window still open after cut-short input" test "$(mstatus state)" = open
printf 'maybe\n' | hl maintenance end --review >"$T/r2.out" 2>&1
check "review: a bad answer is refused and named" grep -q "not 'maybe'" "$T/r2.out"
check "review: still open after a bad answer" test "$(mstatus state)" = open

# the CLI killed half-way through a review: its drops are forgotten
mkfifo "$T/fifo"
hl maintenance end --review <"$T/fifo" >"$T/r3.out" 2>&1 &
cli=$!
exec 7>"$T/fifo"
echo y >&7
sleep 0.5
kill -KILL "$cli" 2>/dev/null
wait "$cli" 2>/dev/null
exec 7>&-
check "review: CLI killed mid-review leaves the window open" test "$(mstatus state)" = open
check "review: CLI killed mid-review approves nothing" test "$(list_gen)" = "$gen0"

printf 'y\nn\n' | hl maintenance end --review >"$T/r4.out" 2>&1
check "review: end --review succeeds" grep -q "1 added.*1 dropped by review" "$T/r4.out"
check "review: accepted entry listed" listed "$W/tmp/keep"
check "review: dropped entry stays unlisted" unlisted "$W/tmp/drop"
expect_exec "review: accepted binary runs locked" 0 "$W/tmp/keep" x
expect_exec "review: dropped binary refused locked" 126 "$W/tmp/drop"
check "review: mode enforce after end" test "$(status_field mode)" = enforce

gen1=$(list_gen)
hl maintenance begin >/dev/null || fail "review: second begin"
cp /bin/cat "$W/tmp/discarded"
expect_exec "review: --review with --discard is a usage error" 2 hl maintenance end --review --discard
expect_exec "review: end --discard" 0 hl maintenance end --discard
check "review: --discard approves nothing" unlisted "$W/tmp/discarded"
check "review: --discard keeps the generation" test "$(list_gen)" = "$gen1"
check "review: locked again after --discard" test "$(status_field mode)" = enforce
finish
