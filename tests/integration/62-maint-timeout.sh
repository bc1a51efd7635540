#!/bin/bash
# 62-maint-timeout: a maintenance window that reaches its timeout re-locks
# by itself, approves nothing, and says so in the log and in status.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_fixture.sh"
. "$(dirname "$0")/maint_fixture.sh"
need_root

setup_mount || { fail "timeout: cannot mount tmpfs"; finish; }
cp /bin/true "$W/bin/true"
make_list "$W/bin" || { fail "timeout: hmilock init"; finish; }
write_mconf enforce "[maintenance]" "default_timeout = 2s"
start_daemon || { fail "timeout: daemon did not start"; finish; }
gen0=$(list_gen)

expect_exec "timeout: begin with the configured default (2s)" 0 hl maintenance begin
check "timeout: deadline from [maintenance] default_timeout" \
	test $(($(mstatus deadline) - $(mstatus start))) -eq 2
cp /bin/echo "$W/tmp/late"
expect_exec "timeout: unlisted runs inside the window" 0 "$W/tmp/late" x
for _ in $(seq 50); do
	[ "$(mstatus state)" = none ] && break
	sleep 0.1
done
check "timeout: window closed by itself" test "$(mstatus state)" = none
check "timeout: status says it timed out and approved nothing" \
	bash -c 'grep -q "timed out.*nothing approved" <<<"$1"' _ "$(mstatus last)"
check "timeout: back to enforce" test "$(status_field mode)" = enforce
check "timeout: list generation unchanged" test "$(list_gen)" = "$gen0"
check "timeout: recorded binary not listed" unlisted "$W/tmp/late"
expect_exec "timeout: recorded binary refused after the timeout" 126 "$W/tmp/late" x
check "timeout: the log says so" grep -q "reached its timeout.*nothing approved" "$DLOG"
check "timeout: journal kept as .expired" grep -qE "^W $W/tmp/late uid=0 mac=[0-9a-f]{64}\$" "$T/maintenance.journal.expired"
expect_exec "timeout: end afterwards is refused" 1 hl maintenance end
check "timeout: state file says no window" grep -qx "window=none" "$T/state"
finish
