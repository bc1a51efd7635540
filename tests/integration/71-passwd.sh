#!/bin/bash
# 71-passwd.sh - the admin password (hmilock passwd) against a running
# hmilockd on a tmpfs of its own: with none set, `hmilock mode` needs none;
# once set, a mode change without it, with a wrong one (logged) and one
# right after a wrong one (refused at once, with the wait) is refused and
# the mode stays; the delay doubles; the right one works from the
# environment, from standard input (the prompt) and from --password-file;
# changing or removing the password needs the old one; import and
# hmilock stop ask for it too. (helper G2)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_fixture.sh"
need_root

PW=$T/admin.pass
expect_rc() { # WANT NAME CMD...: output in $T/out, $T/err
	local want=$1 name=$2 rc
	shift 2
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
	if [ "$rc" -eq "$want" ]; then pass "$name"; else fail "$name: exit $rc, want $want: $(head -c 300 "$T/err")"; fi
}
grep_ok() { if grep -q -- "$2" "$3"; then pass "$1"; else fail "$1: no '$2' in $(basename "$3"): $(head -c 300 "$3")"; fi; }
mode_is() { # NAME WANT
	local m
	m=$(status_field mode)
	if [ "$m" = "$2" ]; then pass "$1"; else fail "$1: mode $m, want $2"; fi
}

setup_mount || {
	fail "cannot mount a tmpfs"
	finish
}
cp /bin/true "$W/bin/true"
make_list "$W/bin" || fail "hmilock init failed"
write_conf audit path+hash "admin_password_file = $PW"
printf '[agent]\nadmin_password_file = %s\n' "$PW" >"$T/cli.conf"
start_daemon || {
	fail "hmilockd did not start"
	finish
}

# ---- no password set: root alone ----
expect_rc 0 "no password set: mode enforce needs none" hl mode enforce </dev/null
mode_is "no password set: mode switched" enforce
expect_rc 0 "no password set: back to audit" hl mode audit </dev/null
expect_rc 0 "passwd --remove with none set" hl passwd --remove </dev/null

# ---- set ----
expect_rc 2 "passwd: an empty password is refused" hl passwd <<<""
[ -e "$PW" ] && fail "an empty password left a file" || pass "an empty password writes nothing"
expect_rc 0 "passwd sets a password (standard input)" hl passwd <<<"pw one"
if [ "$(stat -c %a "$PW")" = 600 ] && grep -q '^scrypt\$' "$PW" && ! grep -q 'pw one' "$PW"; then
	pass "password file: mode 0600, scrypt hash, no clear text"
else
	fail "password file: mode $(stat -c %a "$PW"): $(head -c 100 "$PW")"
fi
cp "$PW" "$T/pw.copy"
expect_rc 1 "passwd: changing needs the old password" hl passwd <<<"wrong"
cmp -s "$PW" "$T/pw.copy" && pass "wrong old password: file unchanged" || fail "wrong old password changed the file"

# ---- mode with a password ----
expect_rc 2 "mode without a password (none on stdin) is refused" hl mode enforce </dev/null
grep_ok "mode without a password: says how to give one" "no admin password given" "$T/err"
mode_is "mode without a password: mode unchanged" audit
HMILOCK_PASSWORD="nope" expect_rc 1 "a wrong password is refused" hl mode enforce
grep_ok "wrong password: the message says so" "wrong admin password" "$T/err"
HMILOCK_PASSWORD="pw one" expect_rc 1 "the right one right after a wrong one is refused" hl mode enforce
grep_ok "refused with the delay message" "try again in [0-9]* s" "$T/err"
mode_is "after the refusals: mode unchanged" audit
sleep 1.2
HMILOCK_PASSWORD="pw one" expect_rc 0 "the right password after the delay" hl mode enforce
mode_is "right password: mode switched" enforce
HMILOCK_PASSWORD="x" expect_rc 1 "wrong again (1 s delay)" hl mode audit
sleep 1.2
HMILOCK_PASSWORD="y" expect_rc 1 "wrong a second time in a row" hl mode audit
grep_ok "the delay doubles" "refused for 2 s" "$T/err"
sleep 2.2
expect_rc 0 "the password from standard input (the prompt)" hl mode audit <<<"pw one"
mode_is "prompted password: mode switched" audit
printf 'pw one\n' >"$T/pwfile" && chmod 0644 "$T/pwfile"
expect_rc 2 "--password-file readable by others is refused" hl mode enforce --password-file "$T/pwfile"
chmod 0600 "$T/pwfile"
expect_rc 0 "--password-file" hl mode enforce --password-file "$T/pwfile"
mode_is "--password-file: mode switched" enforce
expect_rc 0 "showing the mode needs no password" hl mode </dev/null
if grep -q "wrong admin password" "$DLOG"; then pass "wrong passwords are logged by hmilockd"; else fail "no log line for the wrong passwords: $(tail -5 "$DLOG")"; fi

# ---- import asks for it too ----
hl keygen --out-dir "$T" >/dev/null 2>&1
hl export --sign-key "$T/export.key" "$T/exp" >/dev/null 2>&1 || fail "export failed"
cp "$DB" "$T/db.copy"
expect_rc 2 "import without the password is refused" hl import --pubkey "$T/export.pub" "$T/exp" </dev/null
HMILOCK_PASSWORD="bad" expect_rc 1 "import with a wrong password is refused" hl import --pubkey "$T/export.pub" "$T/exp"
cmp -s "$DB" "$T/db.copy" && pass "refused imports: list unchanged" || fail "a refused import changed the list"
gen=$(status_field list_generation)
HMILOCK_PASSWORD="pw one" expect_rc 0 "import with the password" hl import --pubkey "$T/export.pub" "$T/exp"
grep_ok "import asks the daemon to reload" "list reloaded" "$T/out"
[ "$(status_field list_generation)" -gt "$gen" ] && pass "the daemon runs the imported list" || fail "generation did not move after import"

# ---- hmilock stop: the sanctioned stop, with the password ----
expect_rc 1 "stop with a wrong password is refused" env HMILOCK_PASSWORD=bad "$HMILOCK" --socket "$SOCK" stop
grep_ok "stop: the refusal says why" "wrong admin password" "$T/err"
kill -0 "$DPID" 2>/dev/null && pass "refused stop: hmilockd runs on" || fail "a refused stop stopped hmilockd"
expect_rc 2 "stop: an unexpected argument is a usage error" hl stop now
sleep 2.2 # the delay after the wrong password
HMILOCK_PASSWORD="pw one" expect_rc 0 "stop with the password" hl stop
grep_ok "stop: says hmilockd stops and the helper stays" "stops; the kernel helper goes on enforcing" "$T/out"
for _ in $(seq 50); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$DPID" 2>/dev/null; then
	fail "hmilockd still runs 5 s after hmilock stop"
	stop_daemon
else
	wait "$DPID" 2>/dev/null
	rc=$?
	if [ "$rc" -eq 4 ]; then pass "stopped hmilockd exits 4 (no service manager to stop its unit)"; else fail "hmilockd after hmilock stop: exit $rc, want 4"; fi
fi
grep_ok "stop is logged with the requester" "stops hmilockd (admin password given)" "$DLOG"
DPID=
start_daemon || fail "hmilockd did not start again after the stop"

# ---- change and remove ----
expect_rc 0 "passwd: change with the old password" hl passwd <<<$'pw one\npw two'
HMILOCK_PASSWORD="pw two" expect_rc 0 "the new password works" hl mode audit
expect_rc 1 "passwd --remove needs the password" hl passwd --remove <<<"pw one"
[ -e "$PW" ] && pass "refused remove: password still set" || fail "a refused remove removed it"
expect_rc 0 "passwd --remove with the password" hl passwd --remove <<<"pw two"
[ -e "$PW" ] && fail "password file still there" || pass "password file removed"
expect_rc 0 "after remove: mode needs no password" hl mode enforce </dev/null
hl mode audit >/dev/null 2>&1
finish
