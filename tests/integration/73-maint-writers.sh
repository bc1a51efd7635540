#!/bin/bash
# 73-maint-writers: a maintenance window approves only the changes of
# [maintenance] writers (root, and the uids configured). In a window, root
# writes one program and an unprivileged user (uid 65534) another in a
# world-writable directory of the watched tree: `end` approves root's only
# (the user's stays refused in enforce), says how many it did not approve;
# status and --review list the user's with its uid; a review can accept
# it; a configured writer uid is approved; a crash and the journal's replay
# keep who wrote what; a writer reaped before its change was read is not
# approved unless only root could have written the file.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_fixture.sh"
. "$(dirname "$0")/maint_fixture.sh"
need_root
command -v setpriv >/dev/null || { skip "writers: setpriv missing"; finish; }
# the system's python3: a pyenv one under /root is not the user's to run
[ -x /usr/bin/python3 ] || { skip "writers: /usr/bin/python3 missing"; finish; }

U=65534
# as_user FILE SRC: uid U copies SRC to FILE and stays alive a moment, so
# its change is read while it exists (what a long-running writer is).
as_user() {
	setpriv --reuid=$U --regid=$U --clear-groups /usr/bin/python3 -c '
import shutil, sys, time
shutil.copy(sys.argv[2], sys.argv[1]); time.sleep(0.5)' "$1" "$2"
}

setup_mount || { fail "writers: cannot mount tmpfs"; finish; }
chmod 755 "$T"
chmod 1777 "$W/tmp"
cp /bin/true "$W/bin/true"
make_list "$W/bin" || { fail "writers: hmilock init"; finish; }
write_mconf enforce
start_daemon || { fail "writers: daemon did not start"; finish; }

# 1. root's and a user's programs in one window
hl maintenance begin >/dev/null || fail "writers: begin"
cp /bin/echo "$W/tmp/rootprog"
as_user "$W/tmp/userprog" /bin/ls
check "writers: the user's file is the user's" test "$(stat -c %u "$W/tmp/userprog")" = $U
hl maintenance status >"$T/st1.txt" 2>&1
check "writers: status plans root's program as add" grep -q "add .*$W/tmp/rootprog\$" "$T/st1.txt"
check "writers: status lists the user's as held, with its uid" \
	grep -q "held .*$W/tmp/userprog  (written by uid $U: not approved unless accepted" "$T/st1.txt"
hl maintenance status --json >"$T/st1.json" 2>&1
check "writers: status --json names the writer of each change" python3 -c '
import json, sys
s = json.load(open(sys.argv[1])); w = sys.argv[2]
got = {c["path"]: (c["action"], c["writer"]) for c in s["changes"]}
assert got[w + "/tmp/rootprog"] == ("add", 0), got
assert got[w + "/tmp/userprog"] == ("held", int(sys.argv[3])), got
' "$T/st1.json" "$W" $U
check "writers: the journal keeps the writer of each change" \
	grep -qxE "W $W/tmp/userprog uid=$U mac=[0-9a-f]{64}" "$T/maintenance.journal"
hl maintenance end >"$T/end1.out" 2>&1
check "writers: end succeeds" test $? -eq 0
check "writers: end approves root's program" grep -q "^1 added" "$T/end1.out"
check "writers: end says how many it did not approve and where they are" \
	grep -q "1 NOT approved, written by users not in \[maintenance\] writers.*listed in hmilockd's log" "$T/end1.out"
check "writers: the log names the user's file and uid" \
	grep -q "NOT approved: $W/tmp/userprog, written by uid $U" "$DLOG"
check "writers: root's program listed" listed "$W/tmp/rootprog"
check "writers: the user's program NOT listed" unlisted "$W/tmp/userprog"
expect_exec "writers: root's program runs locked" 0 "$W/tmp/rootprog" x
expect_exec "writers: the user's program is refused locked" 126 "$W/tmp/userprog"

# 2. root writing into a file a user wrote first does not make it root's
hl maintenance begin >/dev/null || fail "writers: begin 2"
as_user "$W/tmp/mixed" /bin/cat
chmod 755 "$W/tmp/mixed"
hl maintenance end >"$T/end2.out" 2>&1
check "writers: a user's file root then touched stays held" unlisted "$W/tmp/mixed"

# 3. --review lists the user's change with its uid and can accept it
hl maintenance begin >/dev/null || fail "writers: begin 3"
as_user "$W/tmp/accepted" /bin/cat
as_user "$W/tmp/refused" /bin/sleep
# two questions, for the two held entries (in the order written)
printf 'y\nn\n' | hl maintenance end --review >"$T/r3.out" 2>&1
check "writers: review succeeds" test $? -eq 0
check "writers: review counts the accepted one" \
	grep -q "0 entries dropped, 1 written by other users accepted by review" "$T/r3.out"
check "writers: end after review reports it" grep -q "1 added.*1 written by other users accepted by review; 1 NOT approved" "$T/r3.out"
check "writers: the accepted user's program is listed" listed "$W/tmp/accepted"
check "writers: the one answered n is not" unlisted "$W/tmp/refused"
check "writers: the log says the review accepted it" \
	grep -q "$W/tmp/accepted (written by uid $U) accepted by review" "$DLOG"
expect_exec "writers: the accepted program runs locked" 0 "$W/tmp/accepted" /dev/null

# 4. a writer reaped before its change was read: root's file owned by root,
# 0755, is root's; a user's cp (reaped at once) is never approved
hl maintenance begin >/dev/null || fail "writers: begin 4"
for i in 1 2 3 4 5; do
	setpriv --reuid=$U --regid=$U --clear-groups cp /bin/true "$W/tmp/quick$i"
	cp /bin/true "$W/tmp/rquick$i"
done
hl maintenance end >"$T/end4.out" 2>&1
n=0
for i in 1 2 3 4 5; do listed "$W/tmp/quick$i" && n=$((n + 1)); done
check "writers: no short-lived user writer's program approved ($n of 5)" test $n -eq 0
n=0
for i in 1 2 3 4 5; do listed "$W/tmp/rquick$i" && n=$((n + 1)); done
check "writers: every short-lived root writer's program approved ($n of 5)" test $n -eq 5

# 5. a crash in the window: the journal's replay keeps who wrote what
hl maintenance begin >/dev/null || fail "writers: begin 5"
cp /bin/echo "$W/tmp/rootcrash"
as_user "$W/tmp/usercrash" /bin/ls
hl maintenance status >/dev/null 2>&1
kill_daemon
start_daemon || { fail "writers: restart after crash"; finish; }
check "writers: pending review after the crash" test "$(mstatus state)" = pending-review
hl maintenance status >"$T/st5.txt" 2>&1
check "writers: after replay root's is still an add" grep -q "add .*$W/tmp/rootcrash\$" "$T/st5.txt"
check "writers: after replay the user's is still held with its uid" \
	grep -q "held .*$W/tmp/usercrash  (written by uid $U" "$T/st5.txt"
printf 'y\nn\n' | hl maintenance end --review >"$T/r5.out" 2>&1
check "writers: review after the crash: root's listed" listed "$W/tmp/rootcrash"
check "writers: review after the crash: the user's refused stays unlisted" unlisted "$W/tmp/usercrash"

# 6. [maintenance] writers: a configured uid's changes are approved by end
stop_daemon
write_mconf enforce "[maintenance]" "writers = $U"
start_daemon || { fail "writers: restart with writers"; finish; }
hl maintenance begin >/dev/null || fail "writers: begin 6"
as_user "$W/tmp/trusted" /bin/cat
hl maintenance end >"$T/end6.out" 2>&1
check "writers: a configured writer's program is approved" listed "$W/tmp/trusted"
check "writers: ... with nothing held" bash -c '! grep -q "NOT approved" "$1"' _ "$T/end6.out"

# 7. bad [maintenance] writers values are refused and named
for bad in "abc" "-1" "4294967295" "1 2x"; do
	stop_daemon
	write_mconf enforce "[maintenance]" "writers = $bad"
	"$HMILOCKD" --check-config --config "$CONF" >"$T/bad.out" 2>&1
	check "writers: writers = '$bad' is refused" test $? -ne 0
	check "writers: ... and the message names the key" grep -q "writers" "$T/bad.out"
done
finish
