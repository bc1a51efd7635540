#!/bin/bash
# 60-maint-approve: a maintenance window lets unlisted programs run (logged),
# records every change on the watched filesystem in a journal on disk while
# it is open (a ramfs credential mount inside the tree is left out by rule
# and named in status), and at `end` approves the new binary, re-hashes a listed file
# that was modified, drops a removed listed file, leaves data files off the
# list, re-records a listed file replaced by an identical copy (a new inode,
# as dpkg unpacks an unchanged file), and re-locks: the new binary then runs
# while locked.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_fixture.sh"
. "$(dirname "$0")/maint_fixture.sh"
need_root

setup_mount || { fail "maint: cannot mount tmpfs"; finish; }
cp /bin/true "$W/bin/true"
cp /bin/echo "$W/bin/gone"
cp /bin/true "$W/bin/mod"
cp /bin/echo "$W/bin/same"
make_list "$W/bin" || { fail "maint: hmilock init"; finish; }
write_mconf enforce
start_daemon || { fail "maint: daemon did not start"; finish; }
gen0=$(list_gen)

cp /bin/echo "$W/tmp/prelock"
expect_exec "locked: new binary refused before the window" 126 "$W/tmp/prelock" x
check "status: no window yet" test "$(mstatus state)" = none
expect_exec "maintenance begin" 0 hl maintenance begin --timeout 30m
check "status: window open" test "$(mstatus state)" = open
check "mode is maintenance" test "$(status_field mode)" = maintenance
hl maintenance status >"$T/mst.txt" 2>&1
check "status names the credential mount (ramfs) as not recorded" grep -qF "$CREDS (ramfs: special filesystem)" "$T/mst.txt"
check "status --json lists it under unrecorded" test "$(mstatus unrecorded.0.mount)" = "$CREDS"
check "the daemon log names it once" test "$(grep -c "changes not recorded on.*$CREDS (ramfs" "$DLOG")" -eq 1
dl=$(mstatus deadline)
st=$(mstatus start)
check "deadline = start + 30m" test $((dl - st)) -eq 1800

cp /bin/echo "$W/tmp/newprog"
expect_exec "maintenance: unlisted program runs" 0 "$W/tmp/newprog" hi
echo data >"$W/tmp/notes.txt"
printf 'x' >>"$W/bin/mod"
rm "$W/bin/gone"
mkdir -p "$W/opt/app"
cp /bin/ls "$W/opt/app/tool.tmp"
mv "$W/opt/app/tool.tmp" "$W/opt/app/tool"
cp "$W/bin/same" "$W/bin/same.new" && mv "$W/bin/same.new" "$W/bin/same"
hl maintenance status --json >"$T/st.json"
check "status lists the recorded changes with what end will do" python3 -c '
import json, sys
s = json.load(open(sys.argv[1])); w = sys.argv[2]
got = {c["path"]: c["action"] for c in s["changes"]}
want = {w+"/tmp/newprog": "add", w+"/bin/mod": "change", w+"/bin/gone": "remove",
        w+"/tmp/notes.txt": "skip", w+"/opt/app/tool": "add"}
for p, a in want.items():
    assert got.get(p) == a, (p, got.get(p), got)
assert got.get(w+"/opt/app/tool.tmp") in ("skip", None), got
' "$T/st.json" "$W"
check "journal is on disk while the window is open (each line authenticated)" \
	grep -qE "^W $W/tmp/newprog uid=0 mac=[0-9a-f]{64}\$" "$T/maintenance.journal"
check "state file says the window is open" grep -qx "window=maintenance" "$T/state"
check "nothing approved before end" test "$(list_gen)" = "$gen0"

hl maintenance end >"$T/end.out" 2>&1
check "maintenance end succeeds" grep -q "2 added, 1 changed, 1 removed" "$T/end.out"
check "the identical copy over a listed file is re-recorded" grep -q "1 unchanged, .*1 of the unchanged replaced by an identical file (re-recorded)" "$T/end.out"
check "mode back to enforce" test "$(status_field mode)" = enforce
check "list generation moved on by one" test "$(list_gen)" -eq $((gen0 + 1))
check "new binary listed" listed "$W/tmp/newprog"
check "renamed-into-place binary listed" listed "$W/opt/app/tool"
check "removed file left the list" unlisted "$W/bin/gone"
check "data file not listed" unlisted "$W/tmp/notes.txt"
hl list --json >"$T/list.json" 2>/dev/null
want=$(sha256sum "$W/bin/mod" | cut -d' ' -f1)
check "modified listed file re-hashed" grep -q "$want" "$T/list.json"
expect_exec "locked: binary made in the window runs" 0 "$W/tmp/newprog" hi
expect_exec "locked: modified listed file runs" 0 "$W/bin/mod"
expect_exec "locked: the identical copy runs" 0 "$W/bin/same" x
cp /bin/echo "$W/tmp/after"
expect_exec "locked: binary made after the window refused" 126 "$W/tmp/after" x
check "journal removed after end" test ! -e "$T/maintenance.journal"
check "status: no window, last says what happened" bash -c "[ \"\$1\" = none ] && grep -q 'added' <<<\"\$2\"" _ "$(mstatus state)" "$(mstatus last)"
check "status: last says when, as a UTC time" grep -qE '^ended [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z: ' <<<"$(mstatus last)"
expect_exec "end without a window is refused" 1 hl maintenance end
expect_exec "begin with a bad timeout is refused" 2 hl maintenance begin --timeout 5x
expect_exec "begin with a zero timeout is refused" 2 hl maintenance begin --timeout 0
expect_exec "unknown subcommand is refused" 2 hl maintenance sideways
finish
