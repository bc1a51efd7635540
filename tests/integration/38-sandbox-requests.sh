#!/bin/bash
# 38-sandbox-requests: every control-socket request a client can send -
# status, events, mode (with the admin password: none given, wrong, right),
# reload (socket and SIGHUP), maintenance begin/status (its plan)/end,
# end --review, end --discard, an interrupted window's review, a trusted
# update (begin, info, sync, commit; also --begin/--commit by hand), and an
# import - against the RELEASE hmilockd under its own seccomp filter, with a
# list of a few hundred entries (what a real box has: glibc's qsort takes
# another path for arrays of 1 KiB and more, and asked the kernel for
# sysinfo there, which killed the daemon at `maintenance end`), with a ramfs
# (whose superblock refuses the change recorder's mark) mounted inside the
# watched tree. After each step the daemon must be alive; at the end it
# must exit 0 on SIGTERM, not die of SIGSYS. `make test` passes the release
# build (HMILOCK_REL_BUILD); without one this runs on the build given.
if [ -n "${HMILOCK_REL_BUILD:-}" ] && [ "${HMILOCK_BUILD:-}" != "$HMILOCK_REL_BUILD" ]; then
	HMILOCK_BUILD=$HMILOCK_REL_BUILD exec bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_fixture.sh"
. "$(dirname "$0")/maint_fixture.sh"
need_root
L=" ($(basename "$BIN"))"
PW=$T/admin.pass
export HMILOCK_PASSWORD="pw one"

# alive STEP: the daemon survived STEP (else the rest is moot).
alive() {
	if kill -0 "$DPID" 2>/dev/null; then
		pass "requests$L: alive after $1"
	else
		wait "$DPID"
		fail "requests$L: daemon died at $1 (exit $?: 159 is SIGSYS): $(tail -3 "$DLOG")"
		DPID=
		finish
	fi
}
# ok NAME CMD...: CMD exits 0.
ok() {
	local name=$1
	shift
	if "$@" >"$T/out" 2>&1; then pass "requests$L: $name"; else fail "requests$L: $name: $(head -c 300 "$T/out")"; fi
}

setup_mount || { fail "requests$L: cannot mount tmpfs"; finish; }
mkdir -p "$W/bin/many"
cp /bin/true "$W/bin/true"
for i in $(seq 400); do printf '#!/bin/sh\necho %d\n' "$i" >"$W/bin/many/s$i"; done
chmod 0755 "$W"/bin/many/*
make_list "$W/bin" || { fail "requests$L: hmilock init"; finish; }
mkdir -p "$W/run/creds"
mount -t ramfs -o mode=0700 hmilock-test-ramfs "$W/run/creds" && _MOUNTS+=("$W/run/creds")
write_conf audit path+hash "admin_password_file = $PW" "[update]" "cgroup_root = ${CGR:-/sys/fs/cgroup/none}"
printf '[agent]\nadmin_password_file = %s\n' "$PW" >"$T/cli.conf"
printf 'pw one\n' | hl passwd >/dev/null 2>&1 || fail "requests$L: hmilock passwd"
start_daemon || { fail "requests$L: daemon did not start"; finish; }

ok "status" hl status --json
ok "events" hl events --json
HMILOCK_PASSWORD= hl mode enforce </dev/null >/dev/null 2>&1
HMILOCK_PASSWORD=wrong hl mode enforce >/dev/null 2>&1
alive "mode without and with a wrong password"
sleep 1.1 # the delay after a wrong password
ok "mode enforce" hl mode enforce
expect_exec "requests$L: listed script runs" 0 "$W/bin/many/s7"
ok "reload" hl reload
kill -HUP "$DPID"
sleep 0.3
alive "SIGHUP"

# a maintenance window that approves a few files: hashing, the next list
# generation written (sorted), loaded
ok "maintenance begin" hl maintenance begin --timeout 10m
cp /bin/echo "$W/bin/new1"
printf '#!/bin/sh\necho new\n' >"$W/bin/many/new2" && chmod 0755 "$W/bin/many/new2"
rm "$W/bin/many/s3"
ok "maintenance status (plan)" hl maintenance status --json
ok "maintenance end" hl maintenance end
alive "maintenance end"
expect_exec "requests$L: approved in the window runs" 0 "$W/bin/new1" x

# a review, and a discard
ok "maintenance begin (review)" hl maintenance begin
cp /bin/echo "$W/bin/new3"
cp /bin/echo "$W/bin/new4"
printf 'y\nn\n' | hl maintenance end --review >"$T/rev.out" 2>&1
check "requests$L: end --review" grep -q "dropped by review" "$T/rev.out"
alive "maintenance end --review"
ok "maintenance begin (discard)" hl maintenance begin
cp /bin/echo "$W/bin/new5"
ok "maintenance end --discard" hl maintenance end --discard
alive "maintenance end --discard"

# trusted updates: the CLI's whole session, then one by hand
ok "update -- cp" hl update -- cp /bin/echo "$W/bin/upd1"
alive "update"
expect_exec "requests$L: installed by the update runs" 0 "$W/bin/upd1" x
sleep 30 &
victim=$!
track_pid "$victim"
ok "update --begin --pid" hl update --begin --pid "$victim"
ok "maintenance status during an update" hl maintenance status
kill "$victim"
wait "$victim" 2>/dev/null
ok "update --commit" hl update --commit
alive "update --begin/--commit"

# an interrupted window (SIGKILL is not a request, but its review is)
ok "maintenance begin (before a restart)" hl maintenance begin
cp /bin/echo "$W/bin/new6"
kill_daemon
start_daemon || { fail "requests$L: daemon did not restart"; finish; }
ok "maintenance status (pending)" hl maintenance status --json
ok "maintenance end (pending review)" hl maintenance end
alive "the pending window's end"

# export and import (writes the list, reloads through the socket)
ok "keygen" hl keygen --out-dir "$T"
ok "export" hl export --sign-key "$T/export.key" "$T/exp"
ok "import" hl import --merge --pubkey "$T/export.pub" "$T/exp"
alive "import"
ok "mode audit" hl mode audit
ok "events after all" hl events

kill -TERM "$DPID"
for _ in $(seq 50); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
wait "$DPID"
rc=$?
check "requests$L: exits 0 on SIGTERM, not killed by SIGSYS (rc $rc)" test "$rc" -eq 0
DPID=
finish
