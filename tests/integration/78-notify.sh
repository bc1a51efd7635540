#!/bin/bash
# 78-notify: hmilock-notify in a real graphical session: an X server (Xvfb),
# a session bus (dbus-daemon) and a real notification daemon (dunst), all
# run as the operator (nobody, in the events socket's group). A blocked
# program shows one notification through org.freedesktop.Notifications
# naming it, the lockdown and whom to call; a storm of 30 more denials is
# one more notification with their count; a user outside the group gets
# nothing and is told why; bad usage is exit 2. A screenshot of the
# notification is kept in the test's directory (HMILOCK_NOTIFY_SHOT=FILE
# copies it, as docs/notifier.png was made).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_fixture.sh"
need_root

NOTIFY=$(dirname "$HMILOCK")/hmilock-notify
for p in Xvfb dunst dunstctl dbus-daemon dbus-send import; do
	command -v "$p" >/dev/null || { fail "notify: $p is not installed (tools/bootstrap.sh installs it)"; finish; }
done
chmod 0755 "$T"
chmod 0644 "$T/cli.conf"
setup_mount || { fail "notify: cannot mount tmpfs"; finish; }
cp /bin/true "$W/bin/true"
make_list "$W/bin" || { fail "notify: hmilock init"; finish; }
cp /bin/true "$W/tmp/unlisted"
ES=$T/events.sock
EVENTS_SOCK=$ES EVENTS_GROUP=users write_conf enforce path+hash
start_daemon || { fail "notify: daemon did not start"; finish; }


# The operator's session: nobody in group users, its own home and bus.
gid=$(getent group users | cut -d: -f3)
H=$T/home
mkdir -p "$H/run" && chown -R 65534:65534 "$H" && chmod 0700 "$H/run"
for d in $(seq 90 99); do [ -e /tmp/.X11-unix/X$d ] || [ -e /tmp/.X$d-lock ] || break; done
BUS=unix:path=$H/bus
# the command prefix itself (not a function: a background job of a function
# is a subshell, and the PID tracked must be the program's)
OP=(setpriv --reuid=65534 --regid=65534 --groups="$gid" env -i HOME="$H" DISPLAY=":$d"
	PATH=/usr/bin:/bin XDG_RUNTIME_DIR="$H/run" DBUS_SESSION_BUS_ADDRESS="$BUS")
as_op() { "${OP[@]}" "$@"; }
Xvfb ":$d" -screen 0 800x480x24 -nolisten tcp -ac >"$T/xvfb.log" 2>&1 &
track_pid $!
wait_for 100 test -S "/tmp/.X11-unix/X$d" || { fail "notify: Xvfb :$d did not start: $(tail -2 "$T/xvfb.log")"; finish; }
"${OP[@]}" dbus-daemon --session --nofork --address="$BUS" >"$T/dbus.log" 2>&1 &
track_pid $!
wait_for 100 test -S "$H/bus" || { fail "notify: no session bus: $(tail -2 "$T/dbus.log")"; finish; }
"${OP[@]}" dunst >"$T/dunst.log" 2>&1 &
track_pid $!
owned() { as_op dbus-send --session --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.NameHasOwner string:org.freedesktop.Notifications 2>/dev/null | grep -q 'boolean true'; }
wait_for 100 owned || { fail "notify: dunst does not own org.freedesktop.Notifications: $(tail -3 "$T/dunst.log")"; finish; }

printf '[events]\nsocket = %s\n[notify]\nmessage = Call maintenance: Anna, ext. 4711\ninterval = 10s\n' "$ES" >"$T/notify.conf"
chmod 0644 "$T/notify.conf"
"${OP[@]}" "$NOTIFY" --config "$T/notify.conf" >"$T/notify.out" 2>"$T/notify.err" &
NPID=$!
track_pid $NPID
if wait_for 50 grep -q 'following hmilockd (pid' "$T/notify.err"; then
	pass "notify: the notifier follows hmilockd over the events socket as the operator"
else
	fail "notify: the notifier did not connect: $(head -3 "$T/notify.err")"
fi

displayed() { [ "$(as_op dunstctl count displayed 2>/dev/null)" -ge 1 ] 2>/dev/null; }
history() { as_op dunstctl history 2>/dev/null; }
"$W/tmp/unlisted" 2>/dev/null
if wait_for 50 displayed; then
	pass "notify: a blocked program shows a notification on the panel"
else
	fail "notify: no notification displayed: $(tail -3 "$T/notify.err") $(tail -3 "$T/dunst.log")"
fi
sleep 0.5 # drawn
if as_op import -window root "$H/notifier.png" 2>"$T/import.err" && [ -s "$H/notifier.png" ]; then
	pass "notify: screenshot of the panel kept ($(stat -c %s "$H/notifier.png") bytes, $H/notifier.png)"
	[ -n "${HMILOCK_NOTIFY_SHOT:-}" ] && cp "$H/notifier.png" "$HMILOCK_NOTIFY_SHOT"
else
	fail "notify: no screenshot: $(head -2 "$T/import.err")"
fi

# A storm: 30 more denials within the interval make one more notification.
for _ in $(seq 30); do "$W/tmp/unlisted" 2>/dev/null; done
as_op dunstctl close-all
# displayed notifications reach dunst's history when closed
shown() {
	as_op dunstctl close-all
	history | grep -q "$1"
}
if shown 'The program [^"]*/tmp/unlisted was not started: it is not on this box' &&
	shown 'Call maintenance: Anna, ext. 4711' && shown '"Blocked by the application lockdown"'; then
	pass "notify: it names the program, the lockdown and whom to call"
else
	fail "notify: the notification's text: $(history | tr -d '\n ' | cut -c1-400)"
fi
if wait_for 150 shown '30 more blocked by the application lockdown'; then
	pass "notify: the storm of 30 denials is one notification with the count"
else
	fail "notify: no '30 more' notification: $(history | grep -o '"[0-9]* more[^"]*"' | head -3) $(tail -2 "$T/notify.err")"
fi
kill -TERM $NPID
wait $NPID
rc=$?
check "notify: SIGTERM stops it with 0 (exit $rc)" test $rc -eq 0
check "notify: 31 denials, 2 notifications ($(tail -1 "$T/notify.err"))" grep -q 'stopped; 2 notifications shown' "$T/notify.err"
check "notify: nothing changed through it: mode still enforce" test "$(status_field mode)" = enforce

# Outside the group: nothing, and the reason on stderr; it keeps trying.
setpriv --reuid=65534 --regid=65534 --clear-groups env -i HOME="$H" DBUS_SESSION_BUS_ADDRESS="$BUS" \
	"$NOTIFY" --config "$T/notify.conf" >/dev/null 2>"$T/out.err" &
OPID=$!
track_pid $OPID
wait_for 30 grep -q "cannot reach hmilockd at $ES: Permission denied" "$T/out.err"
check "notify: outside the group it says why ($(head -1 "$T/out.err" | cut -c1-100))" \
	grep -q "cannot reach hmilockd at $ES: Permission denied.*trying again" "$T/out.err"
check "notify: ... and keeps running" kill -0 $OPID
kill -TERM $OPID

# Usage and configuration errors.
rc=$(rc_of "$NOTIFY" --bogus)
check "notify: an unknown option is exit 2 ($rc)" test "$rc" -eq 2
rc=$(rc_of "$NOTIFY" extra)
check "notify: an operand is exit 2 ($rc)" test "$rc" -eq 2
out=$("$NOTIFY" --config "$T/absent.conf" 2>&1)
check "notify: a missing --config is exit 2, naming it" test $? -eq 2 -a -n "$(grep "$T/absent.conf" <<<"$out")"
printf '[notify]\ninterval = 2h\n' >"$T/bad.conf"
out=$("$NOTIFY" --config "$T/bad.conf" 2>&1)
check "notify: a bad [notify] value is exit 2, naming key and line ($out)" \
	test $? -eq 2 -a -n "$(grep "bad.conf:2: \[notify\] interval: bad value '2h'" <<<"$out")"
finish
