#!/bin/bash
# 22-daemon-modes: audit mode allows what enforce would refuse and logs it as
# would-deny; switching mode at run time over the control socket takes
# effect on the next exec, also for outcomes already cached, and loses no
# event while execs keep running through the switches.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_fixture.sh"
need_root

setup_mount || { fail "modes: cannot mount tmpfs"; finish; }
cp /bin/true "$W/bin/true"
make_list "$W/bin" || { fail "modes: hmilock init"; finish; }
cp /bin/false "$W/tmp/unlisted"

write_conf audit path+hash
start_daemon || { fail "modes: daemon did not start"; finish; }
check "modes: status says audit" test "$(status_field mode)" = audit
expect_exec "audit: unlisted runs" 1 "$W/tmp/unlisted"
expect_exec "audit: unlisted runs again (cached)" 1 "$W/tmp/unlisted"
expect_exec "audit: listed runs" 0 "$W/bin/true"
check "audit: nothing denied" test "$(status_field denied)" -eq 0
check "audit: two would-denies counted" test "$(status_field would_deny)" -eq 2
hl events --json >"$T/events.json" 2>&1
check "audit: would-deny logged with the path" python3 -c '
import json, sys
ev = json.load(open(sys.argv[1]))
ev = ev["events"] if isinstance(ev, dict) else ev
assert any(e["verdict"] == "would-deny" and e["path"].endswith("/tmp/unlisted") for e in ev), ev
' "$T/events.json"

expect_exec "modes: hmilock mode enforce" 0 hl mode enforce
check "modes: status says enforce" test "$(status_field mode)" = enforce
expect_exec "enforce after switch: cached unlisted now refused" 126 "$W/tmp/unlisted"
expect_exec "enforce after switch: listed still runs" 0 "$W/bin/true"
expect_exec "modes: hmilock mode audit" 0 hl mode audit
expect_exec "audit after switch: unlisted runs again" 1 "$W/tmp/unlisted"
expect_exec "modes: bad mode name refused" 2 hl mode sideways
check "modes: still audit after a bad request" test "$(status_field mode)" = audit

# Switch back and forth while two loops exec: every exec gets an answer
# (the loops finish) and every answer is counted.
hl mode enforce >/dev/null
before=$(($(status_field allowed) + $(status_field denied)))
ev_before=$(status_field events)
loop() { for _ in $(seq 300); do "$W/tmp/unlisted"; "$W/bin/true"; done >/dev/null 2>&1; }
loop &
p1=$!
loop &
p2=$!
for m in audit enforce audit enforce audit enforce; do
	hl mode $m >/dev/null
	sleep 0.1
done
timeout 120 bash -c "while kill -0 $p1 2>/dev/null || kill -0 $p2 2>/dev/null; do sleep 0.1; done"
check "switching: both exec loops finished" test $? -eq 0
wait $p1 $p2 2>/dev/null
after=$(($(status_field allowed) + $(status_field denied)))
ev_after=$(status_field events)
check "switching: every event answered and counted ($((ev_after - ev_before)) events)" \
	test $((after - before)) -eq $((ev_after - ev_before))
check "switching: at least 600 unlisted execs seen" test $((ev_after - ev_before)) -ge 600
check "switching: no errors" test "$(status_field errors)" -eq 0
finish
