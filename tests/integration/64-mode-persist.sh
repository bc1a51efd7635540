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

# Authenticated with the list key (issue 10): an edited state file, or one
# without its MAC, is not taken; hmilockd starts in enforce, says why, and
# writes the file again, authenticated.
rm -f "$T/state"
start_daemon || { fail "persist: restart 4"; finish; }
hl mode enforce >/dev/null # (the config says audit: no change, no file)
expect_exec "persist: mode audit again" 0 hl mode audit
check "persist: the state file ends in its MAC" grep -qE '^mac=[0-9a-f]{64}$' "$T/state"
check "persist: the MAC line is the last" test "$(tail -n 1 "$T/state" | cut -c1-4)" = "mac="
stop_daemon
sed -i 's/^last=.*/last=edited by hand/' "$T/state"
start_daemon || { fail "persist: restart 5"; finish; }
check "persist: an edited state file (audit, MAC kept) is not taken: enforce" test "$(status_field mode)" = enforce
check "persist: the log says it does not authenticate" grep -q "state file $T/state does not authenticate with the list key" "$DLOG"
expect_exec "persist: enforce really in force after the edit" 126 "$W/tmp/x" y
check "persist: the file is written again, enforce, authenticated" grep -qx "mode=enforce" "$T/state"
hl mode audit >/dev/null
stop_daemon
grep -v '^mac=' "$T/state" >"$T/state.nomac" && cat "$T/state.nomac" >"$T/state"
check "persist: (the test stripped the MAC of a state saying audit)" grep -qx "mode=audit" "$T/state"
start_daemon || { fail "persist: restart 6"; finish; }
check "persist: a state file without its MAC is not taken: enforce" test "$(status_field mode)" = enforce
check "persist: the log says it carries no MAC" grep -q "state file $T/state carries no MAC" "$DLOG"
stop_daemon
finish
