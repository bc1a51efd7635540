#!/bin/bash
# 63-maint-crash: SIGKILL of hmilockd or of the CLI at each step of begin
# and end leaves the box locked with the old list in force, and what was
# recorded is still offered for review.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_fixture.sh"
. "$(dirname "$0")/maint_fixture.sh"
need_root

setup_mount || { fail "crash: cannot mount tmpfs"; finish; }
cp /bin/true "$W/bin/true"
make_list "$W/bin" || { fail "crash: hmilock init"; finish; }
write_mconf enforce
start_daemon || { fail "crash: daemon did not start"; finish; }
gen0=$(list_gen)

# 1. daemon killed right after begin, before any change
hl maintenance begin >/dev/null
kill_daemon
start_daemon || { fail "crash: restart 1"; finish; }
check "crash after begin: locked (enforce)" test "$(status_field mode)" = enforce
check "crash after begin: window pending review" test "$(mstatus state)" = pending-review
expect_exec "crash after begin: a new window is refused until review" 1 hl maintenance begin
expect_exec "crash after begin: end --discard clears it" 0 hl maintenance end --discard
check "crash after begin: old list" test "$(list_gen)" = "$gen0"

# 2. daemon killed with changes recorded
hl maintenance begin >/dev/null
cp /bin/echo "$W/tmp/made"
printf 'x' >>"$W/bin/true"
hl maintenance status >/dev/null 2>&1
sleep 0.2
kill_daemon
start_daemon || { fail "crash: restart 2"; finish; }
check "crash in window: back locked" test "$(status_field mode)" = enforce
check "crash in window: old list in force" test "$(list_gen)" = "$gen0"
expect_exec "crash in window: recorded binary refused" 126 "$W/tmp/made" x
check "crash in window: changes offered for review" test "$(mstatus state)" = pending-review
check "crash in window: both changes still recorded" test "$(mstatus records)" -eq 2
hl maintenance status >"$T/st.txt"
check "crash in window: status says WAITING FOR REVIEW" grep -q "WAITING FOR REVIEW" "$T/st.txt"
check "crash in window: status lists the new binary" grep -q "add .*$W/tmp/made" "$T/st.txt"
# 3. daemon killed again while pending: still pending
kill_daemon
start_daemon || { fail "crash: restart 3"; finish; }
check "crash while pending: still pending" test "$(mstatus state)" = pending-review
check "crash while pending: still locked" test "$(status_field mode)" = enforce
# 4. the CLI killed during the review of the end: nothing changes
mkfifo "$T/fifo"
hl maintenance end --review <"$T/fifo" >/dev/null 2>&1 &
cli=$!
exec 7>"$T/fifo"
sleep 0.5
kill -KILL "$cli" 2>/dev/null
wait "$cli" 2>/dev/null
exec 7>&-
check "CLI killed in end: still pending" test "$(mstatus state)" = pending-review
check "CLI killed in end: old list" test "$(list_gen)" = "$gen0"
printf 'y\ny\n' | hl maintenance end --review >"$T/end.out" 2>&1
check "review after crash approves" grep -q "1 added, 1 changed" "$T/end.out"
expect_exec "review after crash: binary runs locked" 0 "$W/tmp/made" x
expect_exec "review after crash: changed listed file runs" 0 "$W/bin/true"
gen1=$(list_gen)
# 5. daemon killed right after an end: the new list stays, nothing pending
kill_daemon
start_daemon || { fail "crash: restart 5"; finish; }
check "crash after end: new list" test "$(list_gen)" = "$gen1"
check "crash after end: nothing pending" test "$(mstatus state)" = none
check "crash after end: locked" test "$(status_field mode)" = enforce

# 6. the CLI killed while begin is in flight: either no window or an open
# one, never a mode that disagrees with the state
hl maintenance begin >/dev/null 2>&1 &
kill -KILL $! 2>/dev/null
wait $! 2>/dev/null
sleep 0.3
s=$(mstatus state)
m=$(status_field mode)
check "CLI killed in begin: state and mode agree ($s, $m)" \
	bash -c '[ "$1" = none -a "$2" = enforce ] || [ "$1" = open -a "$2" = maintenance ]' _ "$s" "$m"
[ "$s" = open ] && hl maintenance end --discard >/dev/null
check "CLI killed in begin: locked after cleanup" test "$(status_field mode)" = enforce

# 7. the journal is authenticated with the list key (issue 10): a line
# added by hand while the daemon was down (root's own program, as root's
# write) is not replayed; what hmilockd wrote before it is
hl maintenance begin >/dev/null
cp /bin/echo "$W/tmp/made2"
hl maintenance status >/dev/null 2>&1
sleep 0.2
kill_daemon
cp /bin/echo "$W/tmp/forged"
printf 'W %s uid=0\n' "$W/tmp/forged" >>"$T/maintenance.journal"
start_daemon || { fail "crash: restart 7"; finish; }
check "forged journal line: pending review" test "$(mstatus state)" = pending-review
hl maintenance status >"$T/st7.txt"
check "forged journal line: the recorded change is offered" grep -q "add .*$W/tmp/made2" "$T/st7.txt"
check "forged journal line: the added line is not" bash -c '! grep -q "forged" "$1"' _ "$T/st7.txt"
check "forged journal line: the log says it does not authenticate" \
	grep -q "line [0-9]* does not authenticate with the list key" "$DLOG"
hl maintenance end --discard >/dev/null
finish
