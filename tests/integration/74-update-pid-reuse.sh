#!/bin/bash
# 74-update-pid-reuse: a trusted update session does not credit a change
# to its cgroup because the writer's pid now belongs to one of its
# processes. A writer outside the session writes a program and exits (and
# is reaped) while hmilockd cannot read its change yet (SIGSTOP); the
# session then takes that pid for a child of its own (ns_last_pid) and
# hmilockd goes on: /proc/<pid>/cgroup names the session, but the event's
# pidfd says its writer is gone, so the change is unattributed and the
# program stays refused. The session's own write is approved.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_fixture.sh"
. "$(dirname "$0")/maint_fixture.sh"
need_root
[ -n "$C2" ] || { skip "pid reuse: no cgroup2 mount"; finish; }
[ -w /proc/sys/kernel/ns_last_pid ] || { skip "pid reuse: no ns_last_pid"; finish; }

setup_mount || { fail "pid reuse: cannot mount tmpfs"; finish; }
cp /bin/true "$W/bin/true"
make_list "$W/bin" || { fail "pid reuse: hmilock init"; finish; }
write_mconf enforce
start_daemon || { fail "pid reuse: daemon did not start"; finish; }
on_exit 'kill -CONT "$DPID" 2>/dev/null'

# The updater: says it runs, waits for the outsider's pid, takes it for a
# child that lives on in the session cgroup, waits for hmilockd to go on,
# then writes a program of its own (bash itself holds the file: its last
# close is the session's, by a process that lives until the commit).
cat >"$T/cmd.sh" <<EOF
touch "$T/in_session"
while [ ! -s "$T/pid" ]; do sleep 0.05; done
P=\$(cat "$T/pid")
s=none
for try in 1 2 3 4 5 6 7 8 9 10; do
	echo \$((P - 1)) >/proc/sys/kernel/ns_last_pid
	sleep 5 &
	[ \$! = "\$P" ] && { s=\$!; break; }
	kill \$!
	wait \$! 2>/dev/null
done
echo "\$s" >"$T/taken"
while [ ! -e "$T/cont" ]; do sleep 0.05; done
exec 3>"$W/bin/mine"
cat /bin/echo >&3
exec 3>&-
kill \$s 2>/dev/null
exit 0
EOF

# The outsider: outside the session cgroup, writes when told, then exits.
(
	while [ ! -e "$T/go" ]; do sleep 0.05; done
	exec cp /bin/true "$W/tmp/evil"
) &
out=$!

hl update -- bash "$T/cmd.sh" >"$T/u.out" 2>&1 &
up=$!
track_pid $up
wait_for 100 test -e "$T/in_session" || fail "pid reuse: the session did not start"
kill -STOP "$DPID"
touch "$T/go"
wait $out # written, exited and reaped: its pid is free
echo $out >"$T/pid.tmp" && mv "$T/pid.tmp" "$T/pid"
wait_for 100 test -e "$T/taken" || fail "pid reuse: the updater did not answer"
kill -CONT "$DPID"
touch "$T/cont"
wait $up
check "pid reuse: the update commits" test $? -eq 0
taken=$(cat "$T/taken" 2>/dev/null)
if [ "$taken" != "$out" ]; then
	skip "pid reuse: pid $out could not be taken again (got $taken): other forks on the box"
else
	pass "pid reuse: the session's child got the outsider's pid $out"
	check "pid reuse: the outsider's program is NOT approved" unlisted "$W/tmp/evil"
	expect_exec "pid reuse: ... and stays refused" 126 "$W/tmp/evil"
	check "pid reuse: the log says its writer was gone" \
		grep -q "writer pid $out of $W/tmp/evil was gone before its change was read" "$DLOG"
fi
check "pid reuse: the session's own program is approved" listed "$W/bin/mine"
finish
