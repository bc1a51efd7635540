#!/bin/bash
# 23-daemon-reload: a new list (SIGHUP or `hmilock reload`) takes effect at
# once - also for files allowed before, whose ignore marks and cache entries
# must go; a broken replacement (bad MAC, truncated, empty, other key) is
# refused with a clear error and the list in force stays, also in the
# kernel (marks still there: unlisted files still refused).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_fixture.sh"
need_root

setup_mount || { fail "reload: cannot mount tmpfs"; finish; }
cp /bin/true "$W/bin/true"
cp /bin/true "$W/bin/dropped"
make_list "$W/bin" || { fail "reload: hmilock init"; finish; }
cp /bin/false "$W/tmp/new"
cp /bin/false "$W/tmp/unlisted"

write_conf enforce path+hash
start_daemon || { fail "reload: daemon did not start"; finish; }
gen1=$(status_field list_generation)
expect_exec "reload: listed runs" 0 "$W/bin/dropped"
expect_exec "reload: listed runs again (ignore mark placed)" 0 "$W/bin/dropped"
expect_exec "reload: not yet listed refused" 126 "$W/tmp/new"

hl remove "$W/bin/dropped" >/dev/null 2>&1 && hl add "$W/tmp/new" >/dev/null 2>&1 ||
	fail "reload: cannot edit the list"
kill -HUP "$DPID"
for _ in $(seq 50); do [ "$(status_field list_generation)" != "$gen1" ] && break; sleep 0.1; done
gen2=$(status_field list_generation)
check "reload: SIGHUP loads the new generation ($gen1 -> $gen2)" test "$gen2" -gt "$gen1"
expect_exec "reload: newly listed runs" 1 "$W/tmp/new"
expect_exec "reload: dropped file refused (ignore mark flushed)" 126 "$W/bin/dropped"
expect_exec "reload: still listed runs" 0 "$W/bin/true"
expect_exec "reload: unlisted still refused (marks kept)" 126 "$W/tmp/unlisted"

# Broken replacements, each renamed over the list as an update would.
cp "$DB" "$T/good.db"
python3 - "$T/good.db" "$T/badmac.db" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[len(b) // 2] ^= 0x40
open(sys.argv[2], "wb").write(b)
PY
head -c 100 "$T/good.db" >"$T/short.db"
: >"$T/empty.db"
for bad in badmac short empty; do
	cp "$T/$bad.db" "$DB.new" && mv "$DB.new" "$DB"
	expect_exec "reload: $bad list refused by hmilock reload" 1 hl reload
	if grep -qi "refused\|mac\|truncated\|empty\|short" "$T/exec.out"; then
		pass "reload: $bad list: error says why"
	else
		fail "reload: $bad list: error says why: $(cat "$T/exec.out")"
	fi
	check "reload: $bad list: generation unchanged" test "$(status_field list_generation)" = "$gen2"
done
kill -HUP "$DPID"
sleep 0.3
check "reload: SIGHUP with a broken list keeps the daemon" kill -0 "$DPID"
expect_exec "reload: old list still in force (listed runs)" 1 "$W/tmp/new"
expect_exec "reload: old list still in force (dropped refused)" 126 "$W/bin/dropped"
grep -qi "reload refused" "$DLOG" && pass "reload: refusal logged" ||
	fail "reload: refusal logged: $(tail -3 "$DLOG")"

# A list made with another key does not verify either.
mv "$KEY" "$T/key.good"
DB2=$T/other.db
"$HMILOCK" --db "$DB2" --key "$T/other.key" --config "$T/cli.conf" init "$W/bin" >/dev/null 2>&1
cp "$T/key.good" "$KEY"
cp "$DB2" "$DB.new" && mv "$DB.new" "$DB"
expect_exec "reload: list of another key refused" 1 hl reload
cp "$T/good.db" "$DB.new" && mv "$DB.new" "$DB"
expect_exec "reload: good list accepted again" 0 hl reload
check "reload: no event left unanswered (events = allowed + denied)" test \
	"$(status_field events)" -eq $(($(status_field allowed) + $(status_field denied)))
finish
