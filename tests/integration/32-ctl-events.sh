#!/bin/bash
# 32-ctl-events: `hmilock events` shows the daemon's recent decisions from
# its in-memory ring: denials with path, reason, pid and sha256, would-deny
# in audit mode, oldest first; -n N gives the newest N, paged over several
# control messages (14 events each) without loss or repetition; a path with
# a newline or non-UTF-8 bytes stays one line in text and valid in JSON.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_fixture.sh"
need_root

setup_mount || { fail "events: cannot mount tmpfs"; finish; }
cp /bin/true "$W/bin/true"
make_list "$W/bin" || { fail "events: hmilock init"; finish; }
for i in $(seq -w 1 40); do cp /bin/false "$W/tmp/u$i"; done
odd=$W/tmp/$'new\nline\xff'
cp /bin/false "$odd"

write_conf enforce path+hash
start_daemon || { fail "events: daemon did not start"; finish; }

out=$(hl events)
check "events: none yet, empty output" test -z "$out"
check "events: none yet, --json is []" test "$(hl events --json)" = "[]"

"$W/tmp/u01" 2>/dev/null
sum=$(sha256sum "$W/tmp/u01" | cut -d' ' -f1)
sleep 0.3 # the logger thread files the event just after the reply
hl events >"$T/ev.txt" 2>&1
check "events: one line" test "$(wc -l <"$T/ev.txt")" -eq 1
check "events: text names verdict, reason, uid, path" grep -q " deny not-listed exec pid=[0-9]* uid=0 exe=.* path=$W/tmp/u01 sha256=$sum\$" "$T/ev.txt"
hl events --json >"$T/ev.json"
python3 - "$T/ev.json" "$W/tmp/u01" "$sum" >"$T/py.out" 2>&1 <<'EOF'
import json, sys
ev = json.load(open(sys.argv[1]))
assert len(ev) == 1, ev
e = ev[0]
for k in ("id", "time", "time_ns", "verdict", "reason", "op", "pid", "uid", "exe", "path", "sha256"):
    assert k in e, k
assert e["uid"] == 0, e  # the subject's real uid
assert e["verdict"] == "deny" and e["reason"] == "not-listed" and e["op"] == "exec", e
assert e["path"] == sys.argv[2] and e["sha256"] == sys.argv[3], e
assert isinstance(e["pid"], int) and e["pid"] > 0, e
# read while the subject still waited in execve: the shell that forked it
assert e["exe"].rsplit("/", 1)[-1].startswith("bash"), e
print("ok")
EOF
check "events: --json record complete ($(tail -1 "$T/py.out"))" grep -qx ok "$T/py.out"

# 39 more denials: 40 in all; the ring keeps them, -n pages over them.
for i in $(seq -w 2 40); do "$W/tmp/u$i" 2>/dev/null; done
sleep 0.5
hl events -n 40 --json >"$T/ev40.json"
python3 - "$T/ev40.json" "$W" >"$T/py.out" 2>&1 <<'EOF'
import json, sys
ev = json.load(open(sys.argv[1]))
paths = [e["path"] for e in ev]
want = ["%s/tmp/u%02d" % (sys.argv[2], i) for i in range(1, 41)]
# Events are numbered when logged, after the answer: two workers may log
# back-to-back execs in either order on a loaded machine. Every one, once.
assert sorted(paths) == want, paths
ids = [e["id"] for e in ev]
assert ids == sorted(ids) and len(set(ids)) == 40, ids
print("ok")
EOF
check "events: -n 40 pages 40 events, oldest first, no gap or repeat ($(tail -1 "$T/py.out"))" grep -qx ok "$T/py.out"
hl events -n 15 >"$T/ev15.txt"
check "events: -n 15 gives 15 lines" test "$(wc -l <"$T/ev15.txt")" -eq 15
check "events: -n 15 starts at the 26th" grep -q "path=$W/tmp/u26 " "$T/ev15.txt"
check "events: -n 15 is the newest (ends at the 40th)" test "$(tail -1 "$T/ev15.txt" | grep -c "path=$W/tmp/u40 ")" -eq 1
check "events: default shows 20" test "$(hl events | wc -l)" -eq 20

# Odd bytes in a path: one line of text, valid JSON.
"$odd" 2>/dev/null
sleep 0.3
hl events -n 1 >"$T/odd.txt"
check "events: newline in a path stays one line" test "$(wc -l <"$T/odd.txt")" -eq 1
check "events: newline and bad byte escaped" grep -qF 'tmp/new\nline\xff' "$T/odd.txt"
hl events -n 1 --json >"$T/odd.json"
check "events: --json valid with odd bytes, path_escaped" python3 -c 'import json, sys; e = json.load(open(sys.argv[1]))[0]; sys.exit(not (e["path"].endswith("new\\nline\\xff") and e["path_escaped"] is True))' "$T/odd.json"
check "events: --json plain path has no _escaped member" python3 -c 'import json, sys; e = json.load(open(sys.argv[1]))[0]; sys.exit("path_escaped" in e)' "$T/ev.json"

# Audit mode: would-deny.
hl mode audit >/dev/null
"$W/tmp/u01"
sleep 0.3
check "events: audit mode logs would-deny" test "$(hl events -n 1 --json | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["verdict"])')" = would-deny
hl mode enforce >/dev/null

for n in 0 -1 1025 x 3x ""; do
	hl events -n "$n" >/dev/null 2>"$T/err"
	rc=$?
	if [ $rc -eq 2 ]; then pass "events: -n '$n' refused (exit 2)"; else fail "events: -n '$n': exit $rc $(cat "$T/err")"; fi
done
check "events: SIGTERM stops the daemon" stop_daemon
finish
