#!/bin/bash
# 65-update: `hmilock update -- CMD` runs CMD in a cgroup of its own while
# the box stays locked: what CMD (and its children) write is approved when
# it exits 0, nothing when it fails (unless --keep-on-failure), a file
# written outside its cgroup at the same time stays unlisted, CMD may run
# what it just installed, removed files leave the list, and the session
# cgroup is gone afterwards.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_fixture.sh"
. "$(dirname "$0")/maint_fixture.sh"
need_root
[ -n "$C2" ] || { skip "update: no cgroup2 mount on this host"; finish; }

setup_mount || { fail "update: cannot mount tmpfs"; finish; }
cp /bin/true "$W/bin/true"
cp /bin/true "$W/bin/old"
make_list "$W/bin" || { fail "update: hmilock init"; finish; }
# The smallest cap: what an update installs may be larger and still run.
write_mconf enforce "[agent]" "max_unlisted_size = 1M"
start_daemon || { fail "update: daemon did not start"; finish; }
gen0=$(list_gen)

# A writer outside the cgroup keeps writing while the update runs.
(for i in $(seq 40); do cp /bin/ls "$W/tmp/outside"; sleep 0.05; done) &
bg=$!
hl update -- cp /bin/echo "$W/bin/new" >"$T/u1.out" 2>&1
check "update: cp exits 0 and the session commits" test $? -eq 0
wait $bg
check "update: what cp wrote is listed" listed "$W/bin/new"
check "update: written outside the cgroup meanwhile: unlisted" unlisted "$W/tmp/outside"
check "update: one generation more" test "$(list_gen)" -eq $((gen0 + 1))
check "update: mode stayed enforce" test "$(status_field mode)" = enforce
expect_exec "update: the approved binary runs locked" 0 "$W/bin/new" hi
expect_exec "update: the outside file stays refused" 126 "$W/tmp/outside"
check "update: session cgroup removed" bash -c '! ls -d "$1"/s* 2>/dev/null' _ "$CGR"

gen1=$(list_gen)
hl update -- sh -c "cp /bin/cat $W/bin/failed; exit 3" >"$T/u2.out" 2>&1
check "update: a failing command's status is passed on" test $? -eq 3
check "update: a failing update approves nothing" unlisted "$W/bin/failed"
check "update: generation unchanged after a failure" test "$(list_gen)" = "$gen1"
check "update: says nothing was approved" grep -q "nothing.*approved" "$T/u2.out"
check "update: ... and what to do" grep -q "sh exited with status 3: nothing it wrote is approved; fix it and run the update again" "$T/u2.out"

hl update --keep-on-failure -- python3 -c "
import shutil, sys
shutil.copy('/bin/cat', '$W/bin/kept'); sys.exit(4)" >"$T/u3.out" 2>&1
check "update: --keep-on-failure passes the status on" test $? -eq 4
check "update: --keep-on-failure approves anyway" listed "$W/bin/kept"

# CMD runs what it has just written (the box is locked meanwhile).
out=$(hl update -- python3 -c "
import os, shutil
shutil.copy('/bin/echo', '$W/bin/selfrun')
os.execv('$W/bin/selfrun', ['selfrun', 'ran-what-it-installed'])" 2>&1)
check "update: CMD runs what it installed" grep -q "^ran-what-it-installed\$" <<<"$out"
check "update: and it is approved afterwards" listed "$W/bin/selfrun"
out=$(hl update -- python3 -c "
import os, shutil
shutil.copy('/bin/echo', '$W/bin/bigrun')
os.truncate('$W/bin/bigrun', 2 << 20)
os.execv('$W/bin/bigrun', ['bigrun', 'ran-a-large-file'])" 2>&1)
check "update: CMD runs a file it installed over max_unlisted_size" \
	grep -q "^ran-a-large-file\$" <<<"$out"
expect_exec "update: a large unlisted file outside a session is refused" 126 \
	bash -c "cp /bin/echo $W/tmp/big && truncate -s 2M $W/tmp/big && exec $W/tmp/big"

hl update -- rm "$W/bin/old" >/dev/null 2>&1
check "update: a removed file leaves the list" unlisted "$W/bin/old"

# While a session is open, everything else stays locked.
cp /bin/echo "$W/tmp/stranger"
hl update -- sleep 2 >/dev/null 2>&1 &
up=$!
sleep 0.7
check "update: status shows the session" test "$(mstatus state)" = update
expect_exec "update: exec outside the cgroup refused during the session" 126 "$W/tmp/stranger" x
expect_exec "update: a second session is refused" 1 hl update -- true
check "update: ... naming the running one and what to do" grep -q "a trusted update (session [0-9]*, pid [0-9]*) is running already: wait for it to end" "$T/exec.out"
expect_exec "update: maintenance begin refused during a session" 1 hl maintenance begin
check "update: ... saying what to do" grep -q "a trusted update session is open already: wait for it to end" "$T/exec.out"
wait $up

hl maintenance begin >/dev/null
expect_exec "update: refused during a maintenance window" 1 hl update -- true
check "update: ... saying what to do" grep -q "a maintenance window is open already: make the change inside it, or end it first (hmilock maintenance end)" "$T/exec.out"
hl maintenance end --discard >/dev/null

# The updater leaves the session's cgroup before it commits (the CLI
# does, and the apt hook's commit moves the package manager back first):
# the empty cgroup of a live updater is not an abandoned session, however
# long the commit takes on a loaded box.
sleep 60 &
slow=$!
hl update --begin --pid $slow >/dev/null 2>&1
echo $slow >"$C2/cgroup.procs"
sleep 3.5 # past the session's first 2 s and three of hmilockd's ticks
check "update: a live updater out of its cgroup for 3.5 s: the session stays open" \
	test "$(mstatus state)" = update
expect_exec "update --commit: ... and commits" 0 hl update --commit
check "update: ... closed" test "$(mstatus state)" = none
kill $slow
wait $slow 2>/dev/null

# The updater vanishes without committing: nothing approved, changes
# wait for review.
sleep 30 &
victim=$!
hl update --begin --pid $victim >/dev/null 2>&1
check "update --begin: session open for another pid" test "$(mstatus state)" = update
kill -KILL $victim
wait $victim 2>/dev/null
for _ in $(seq 60); do
	[ "$(mstatus state)" = pending-review ] && break
	sleep 0.1
done
check "update: abandoned session -> pending review, nothing approved" \
	test "$(mstatus state)" = pending-review
expect_exec "update: end --discard clears the abandoned session" 0 hl maintenance end --discard

# hmilockd killed during an update: back locked, nothing approved, the
# update's changes wait for review; the stranded CLI fails.
hl update -- python3 -c "
import shutil, time
shutil.copy('/bin/cat', '$W/bin/crashed'); time.sleep(2)" >"$T/u5.out" 2>&1 &
up=$!
sleep 1
hl maintenance status >/dev/null 2>&1
kill_daemon
start_daemon || { fail "update: restart after kill"; finish; }
wait $up
check "update: CLI of a killed daemon's session fails" test $? -ne 0
check "update killed: pending review" test "$(mstatus state)" = pending-review
check "update killed: locked" test "$(status_field mode)" = enforce
check "update killed: nothing approved" unlisted "$W/bin/crashed"
hl maintenance status >"$T/st5.txt" 2>&1
check "update killed: the write is offered for review" grep -q "add .*$W/bin/crashed" "$T/st5.txt"
expect_exec "update killed: end --discard settles it" 0 hl maintenance end --discard

expect_exec "update: no command is a usage error" 2 hl update
expect_exec "update: --begin with a command is a usage error" 2 hl update --begin -- true
expect_exec "update: --pid without --begin is a usage error" 2 hl update --pid 1 -- true
expect_exec "update: --commit without a session is refused" 1 hl update --commit
finish
