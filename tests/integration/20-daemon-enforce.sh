#!/bin/bash
# 20-daemon-enforce: hmilockd in enforce mode on a tmpfs of its own: a listed
# binary runs, an unlisted one is refused (EPERM, shell status 126), a listed
# binary with one byte changed is refused, a copy at an unlisted path is
# refused under match = path+hash, a #! script not on the list is refused
# although its interpreter is listed, and the counters say so.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_fixture.sh"
need_root

setup_mount || { fail "enforce: cannot mount tmpfs"; finish; }
cp /bin/true "$W/bin/true"
cp /bin/echo "$W/bin/echo"
cp /bin/true "$W/bin/flipped"
cp /bin/sh "$W/bin/sh"
printf '#!%s\nexit 0\n' "$W/bin/sh" >"$W/bin/listed.sh"
chmod 0755 "$W/bin/listed.sh"
make_list "$W/bin" || { fail "enforce: hmilock init"; finish; }
# After the list: an unlisted program, a copy of a listed one elsewhere, an
# unlisted script whose interpreter is listed, a listed file changed.
cp /bin/false "$W/tmp/unlisted"
cp /bin/true "$W/tmp/copy-of-true"
printf '#!%s\nexit 0\n' "$W/bin/sh" >"$W/tmp/unlisted.sh"
chmod 0755 "$W/tmp/unlisted.sh"
printf '\001' | dd of="$W/bin/flipped" bs=1 seek=200 conv=notrunc status=none

write_conf enforce path+hash
start_daemon || { fail "enforce: daemon did not start"; finish; }

check "enforce: status mode is enforce" test "$(status_field mode)" = enforce
check "enforce: status list_entries" test "$(status_field list_entries)" -eq 5
expect_exec "enforce: listed binary runs" 0 "$W/bin/true"
expect_exec "enforce: listed binary runs again (ignore mark)" 0 "$W/bin/true"
out=$("$W/bin/echo" hello 2>&1)
check "enforce: listed binary output intact" test "$out" = hello
expect_exec "enforce: unlisted binary refused with 126" 126 "$W/tmp/unlisted"
grep -qi "operation not permitted" "$T/exec.out" && pass "enforce: refusal is EPERM" ||
	fail "enforce: refusal is EPERM: $(cat "$T/exec.out")"
expect_exec "enforce: unlisted refused again (cache)" 126 "$W/tmp/unlisted"
expect_exec "enforce: listed binary with one byte changed refused" 126 "$W/bin/flipped"
expect_exec "enforce: copy at unlisted path refused (path+hash)" 126 "$W/tmp/copy-of-true"
expect_exec "enforce: listed #! script runs" 0 "$W/bin/listed.sh"
expect_exec "enforce: unlisted #! script refused, interpreter listed" 126 "$W/tmp/unlisted.sh"
# Running the interpreter on the script by hand is not an exec of the
# script: fanotify cannot see it (the kernel helper's business).
expect_exec "enforce: listed interpreter itself runs" 0 "$W/bin/sh" -c true
# Programs outside the watched mount are none of this daemon's business.
expect_exec "enforce: /bin/true outside the mount unaffected" 0 /bin/true

denied=$(status_field denied)
check "enforce: 5 denies counted (got $denied)" test "$denied" -eq 5
check "enforce: no errors" test "$(status_field errors)" -eq 0
check "enforce: events = allowed + denied" test "$(status_field events)" -eq \
	$(($(status_field allowed) + denied))
hl events --json >"$T/events.json" 2>&1
check "enforce: events list names the unlisted file" grep -q "tmp/unlisted" "$T/events.json"
check "enforce: events list names the reason hash-mismatch" grep -q "hash-mismatch" "$T/events.json"

check "enforce: SIGTERM stops the daemon" stop_daemon
expect_exec "enforce: unlisted runs once the daemon is gone" 1 "$W/tmp/unlisted"
finish
