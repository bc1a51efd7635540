#!/bin/bash
# 64-mode-persist: a mode set at run time survives a restart (the state
# file next to the list wins over the config's mode, and the log says which
# source was used); without a state file the config's mode applies; a
# broken state file is refused with a message that names it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_fixture.sh"
. "$(dirname "$0")/maint_fixture.sh"
need_root

setup_mount || { fail "persist: cannot mount tmpfs"; finish; }
cp /bin/true "$W/bin/true"
make_list "$W/bin" || { fail "persist: hmilock init"; finish; }
write_mconf enforce
start_daemon || { fail "persist: daemon did not start"; finish; }
check "persist: first start uses the config's mode" grep -q "mode enforce from the config" "$DLOG"
expect_exec "persist: mode audit at run time" 0 hl mode audit
check "persist: state file written" grep -qx "mode=audit" "$T/state"
stop_daemon || fail "persist: stop"
start_daemon || { fail "persist: restart"; finish; }
check "persist: audit survives a restart" test "$(status_field mode)" = audit
check "persist: log names the state file as the source" grep -q "mode audit from the state file" "$DLOG"
cp /bin/echo "$W/tmp/x"
expect_exec "persist: audit really in force (unlisted runs)" 0 "$W/tmp/x" y
hl mode enforce >/dev/null
kill_daemon
write_mconf audit
start_daemon || { fail "persist: restart 2"; finish; }
check "persist: state (enforce) wins over the config (audit)" test "$(status_field mode)" = enforce
expect_exec "persist: enforce really in force" 126 "$W/tmp/x" y
stop_daemon
rm -f "$T/state"
start_daemon || { fail "persist: restart 3"; finish; }
check "persist: no state file -> the config's mode" test "$(status_field mode)" = audit
stop_daemon
printf 'mode=sideways\n' >"$T/state"
out=$("$HMILOCKD" --foreground --config "$CONF" 2>&1)
check "persist: broken state file refused ($?)" test $? -ne 0
check "persist: the refusal names the file and line" grep -q "state file $T/state:1" <<<"$out"
finish
