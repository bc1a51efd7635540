#!/bin/bash
# 25-daemon-sigkill: the fanotify-only failure mode. hmilockd killed with
# SIGKILL - even while an exec waits on it - leaves the machine able to
# exec: the kernel answers pending permission events when the group's last
# fd closes, and nothing is marked any more. Enforcement is gone until the
# daemon is back (systemd Restart=always); the kernel helper (issue 4) is
# what keeps enforcing across a crash.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_fixture.sh"
need_root

setup_mount || { fail "sigkill: cannot mount tmpfs"; finish; }
cp /bin/true "$W/bin/true"
make_list "$W/bin" || { fail "sigkill: hmilock init"; finish; }
cp /bin/false "$W/tmp/unlisted"
# A big unlisted binary: its hash keeps a worker busy while we kill.
cp /bin/false "$W/tmp/big"
head -c 200M /dev/zero >>"$W/tmp/big"

write_conf enforce path+hash
start_daemon || { fail "sigkill: daemon did not start"; finish; }
expect_exec "sigkill: unlisted refused while running" 126 "$W/tmp/unlisted"

"$W/tmp/big" >/dev/null 2>&1 &
waiter=$!
sleep 0.05
kill -KILL "$DPID"
wait "$DPID" 2>/dev/null
DPID=
timeout 10 bash -c "while kill -0 $waiter 2>/dev/null; do sleep 0.05; done"
check "sigkill: exec pending at the kill got its answer" test $? -eq 0
wait "$waiter"
rc=$?
check "sigkill: the pending exec was let through or refused, not hung (rc $rc)" \
	test $rc -eq 1 -o $rc -eq 126
expect_exec "sigkill: unlisted runs after the kill (fail open)" 1 "$W/tmp/unlisted"
expect_exec "sigkill: listed runs after the kill" 0 "$W/bin/true"
expect_exec "sigkill: programs outside the mount run" 0 /bin/true

# Back up again: enforcement resumes.
start_daemon || fail "sigkill: daemon did not start again"
expect_exec "sigkill: unlisted refused after restart" 126 "$W/tmp/unlisted"
finish
