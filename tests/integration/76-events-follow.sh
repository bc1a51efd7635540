#!/bin/bash
# 76-events-follow: `hmilock events --follow [--json]`, the live stream a
# plant pipes into its own alarm system: one JSON object per line, events
# as they happen; it survives a daemon restart (says so, and goes on with
# the new daemon's events); a reader that falls behind by more than the
# daemon's ring is told how many it lost, and never makes the daemon wait
# (status and exec decisions go on while it is stopped); -n N shows a
# backlog first; SIGTERM ends it with 0; bad usage is exit 2.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_fixture.sh"
need_root

setup_mount || { fail "follow: cannot mount tmpfs"; finish; }
cp /bin/true "$W/bin/true"
make_list "$W/bin" || { fail "follow: hmilock init"; finish; }
cp /bin/true "$W/tmp/unlisted"
write_conf enforce path+hash
start_daemon || { fail "follow: daemon did not start"; finish; }

# count_json FILE PY-EXPR: lines of FILE (JSON objects) for which EXPR holds
count_json() {
	python3 -c 'import json, sys
n = 0
for l in open(sys.argv[1]):
    o = json.loads(l)
    n += bool(eval(sys.argv[2]))
print(n)' "$1" "$2"
}
denies() { count_json "$1" 'o.get("verdict") == "deny" and o.get("path", "").endswith("/tmp/unlisted")'; }
at_least() { [ "$(count_json "$1" "$2")" -ge "$3" ]; }

"$W/tmp/unlisted" 2>/dev/null # history: not in the stream without -n
F=$T/follow.json
# the CLI itself, not the hl function (whose subshell would take the signals)
"$HMILOCK" --db "$DB" --key "$KEY" --config "$T/cli.conf" --socket "$SOCK" \
	events --follow --json >"$F" 2>"$T/follow.err" &
FPID=$!
track_pid $FPID
if wait_for 50 at_least "$F" 'o.get("notice") == "up"' 1; then
	pass "follow: the stream starts with an up notice ($(head -1 "$F"))"
else
	fail "follow: no up notice: $(head -3 "$F") $(head -3 "$T/follow.err")"
fi
"$W/tmp/unlisted" 2>/dev/null
"$W/tmp/unlisted" 2>/dev/null
"$W/bin/true"
if wait_for 50 at_least "$F" 'o.get("verdict") == "deny"' 2 && [ "$(denies "$F")" = 2 ]; then
	pass "follow: the 2 new denials arrive as JSON lines, the older one does not"
else
	fail "follow: denials in the stream: $(denies "$F"): $(tail -3 "$F")"
fi
check "follow: every line is one JSON object" python3 -c 'import json, sys; [json.loads(l) for l in open(sys.argv[1])]' "$F"
check "follow: events carry the same fields as hmilock events --json" python3 -c '
import json, subprocess, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
ev = [o for o in ev if "verdict" in o]
want = {"id", "time", "time_ns", "verdict", "reason", "op", "pid", "uid", "exe", "path", "sha256"}
sys.exit(not ev or any(set(o) - {"path_escaped", "exe_escaped"} != want for o in ev))' "$F"

# A daemon restart: down, then restarted, then the new daemon's events.
stop_daemon
if wait_for 50 at_least "$F" 'o.get("notice") == "down"' 1; then
	pass "follow: a stopped daemon is reported once ($(grep -m1 '"down"' "$F" | cut -c1-120))"
else
	fail "follow: no down notice after the daemon stopped: $(tail -2 "$F")"
fi
sleep 1
check "follow: ... and only once while it is away" test "$(count_json "$F" 'o.get("notice") == "down"')" -eq 1
check "follow: the follower keeps running while the daemon is away" kill -0 $FPID
start_daemon || { fail "follow: daemon did not start again"; finish; }
if wait_for 50 at_least "$F" 'o.get("notice") == "restarted"' 1; then
	pass "follow: the restarted daemon is reported ($(grep -m1 '"restarted"' "$F"))"
else
	fail "follow: no restarted notice: $(tail -2 "$F")"
fi
"$W/tmp/unlisted" 2>/dev/null
if wait_for 50 at_least "$F" 'o.get("verdict") == "deny"' 3; then
	pass "follow: the new daemon's denial arrives in the same stream"
else
	fail "follow: no denial after the restart: $(tail -3 "$F")"
fi

# A reader that stops reading (SIGSTOP) while 400 denials happen: the
# daemon does not wait for it, and it is told how many it lost.
kill -STOP $FPID
t0=$(date +%s%N)
for _ in $(seq 400); do "$W/tmp/unlisted" 2>/dev/null; done
check "follow: the daemon answers status while a follower is stopped" status_field ready
ms=$((($(date +%s%N) - t0) / 1000000))
check "follow: 400 execs decided while the follower was stopped ($ms ms)" test "$(status_field denied)" -ge 400
kill -CONT $FPID
if wait_for 50 at_least "$F" 'o.get("notice") == "lost" and o["events"] > 0' 1; then
	pass "follow: the slow reader is told what it lost ($(grep -m1 '"lost"' "$F"))"
else
	fail "follow: no lost notice after 400 events behind: $(tail -2 "$F")"
fi
lost=$(python3 -c 'import json, sys; print(sum(o.get("events", 0) for o in map(json.loads, open(sys.argv[1])) if o.get("notice") == "lost"))' "$F")
got=$(count_json "$F" 'o.get("verdict") == "deny"')
check "follow: lost + received = every denial of this daemon ($lost + $got - 2 before = 401)" test $((lost + got - 2)) -eq 401
kill -TERM $FPID
wait $FPID
check "follow: SIGTERM ends it with exit 0" test $? -eq 0

# Text mode with a backlog: the 2 newest first, notices on stderr.
timeout -s TERM 2 "$HMILOCK" --db "$DB" --key "$KEY" --config "$T/cli.conf" --socket "$SOCK" \
	events --follow -n 2 >"$T/text.out" 2>"$T/text.err"
check "follow: -n 2 shows the 2 newest events first, as text ($(wc -l <"$T/text.out") lines)" \
	test "$(grep -c 'deny.*path=.*/tmp/unlisted' "$T/text.out")" -eq 2
check "follow: text notices go to stderr ($(head -1 "$T/text.err"))" grep -q 'following hmilockd (pid' "$T/text.err"

# Usage.
rc=$(rc_of hl events --follow extra)
check "follow: an operand is a usage error (exit $rc)" test "$rc" -eq 2
rc=$(rc_of hl status --follow)
check "follow: status --follow is a usage error (exit $rc)" test "$rc" -eq 2
finish
