#!/bin/bash
# 77-events-socket: the read-only events socket ([events] socket, group),
# the notifier's subscription: 0660 root:GROUP; a member reads status and
# events (and follows them) but every other request is refused and changes
# nothing; a non-member cannot connect; a missing group leaves it root-only
# and says so; members cannot take the control socket's connection slots.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_fixture.sh"
need_root

chmod 0755 "$T"
chmod 0644 "$T/cli.conf"
setup_mount || { fail "events socket: cannot mount tmpfs"; finish; }
cp /bin/true "$W/bin/true"
make_list "$W/bin" || { fail "events socket: hmilock init"; finish; }
cp /bin/true "$W/tmp/unlisted"
ES=$T/events.sock
EVENTS_SOCK=$ES EVENTS_GROUP=users write_conf enforce path+hash
start_daemon || { fail "events socket: daemon did not start"; finish; }
"$W/tmp/unlisted" 2>/dev/null

gid=$(getent group users | cut -d: -f3)
member() { setpriv --reuid=65534 --regid=65534 --groups="$gid" "$@"; }
outsider() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
ev() { "$HMILOCK" --config "$T/cli.conf" --socket "$ES" "$@"; }

check "events socket: 0660 root:users ($(stat -c '%a %U:%G' "$ES"))" test "$(stat -c '%a %U:%G' "$ES")" = "660 root:users"
check "events socket: status names it and its group ($(status_field events_socket))" \
	grep -q "^$ES (status and events; group users)\$" <<<"$(status_field events_socket)"

out=$(member "$HMILOCK" --config "$T/cli.conf" --socket "$ES" status --json 2>&1)
check "events socket: a member reads status" grep -q '"mode":"enforce"' <<<"$out"
out=$(member "$HMILOCK" --config "$T/cli.conf" --socket "$ES" events --json 2>&1)
check "events socket: a member reads the events (the denial is there)" grep -q '"verdict":"deny".*unlisted' <<<"$out"
out=$(member timeout -s TERM 2 "$HMILOCK" --config "$T/cli.conf" --socket "$ES" events --follow --json -n 1 2>&1)
check "events socket: a member follows the events ($(head -c 80 <<<"$out"))" grep -q '"notice":"up"' <<<"$out"

# Nothing can be changed through it, by a member or by root.
for req in "mode audit" "reload" "maintenance begin" "update --begin --pid $$"; do
	# shellcheck disable=SC2086 # the request's words
	out=$(member "$HMILOCK" --config "$T/cli.conf" --socket "$ES" $req 2>&1)
	rc=$?
	if [ $rc -eq 1 ] && grep -q 'the events socket serves status and events only' <<<"$out"; then
		pass "events socket: '$req' by a member is refused (exit 1)"
	else
		fail "events socket: '$req' by a member: exit $rc: $out"
	fi
done
# shellcheck disable=SC2086
out=$(ev mode audit 2>&1)
check "events socket: even root cannot change the mode through it ($(head -c 90 <<<"$out"))" \
	grep -q 'serves status and events only' <<<"$out"
check "events socket: the mode is still enforce" test "$(status_field mode)" = enforce
check "events socket: the refusals are logged with the peer" \
	grep -q 'events socket: pid [0-9]* uid 65534 asked for request .*: refused' "$DLOG"
expect_exec "events socket: ... and enforcement went on" 126 "$W/tmp/unlisted"

# A non-member cannot connect at all.
out=$(outsider "$HMILOCK" --config "$T/cli.conf" --socket "$ES" status 2>&1)
rc=$?
if [ $rc -eq 3 ] && grep -q "cannot reach hmilockd at $ES: Permission denied" <<<"$out"; then
	pass "events socket: a non-member cannot connect (exit 3, permission denied)"
else
	fail "events socket: non-member: exit $rc: $out"
fi

# Members hold at most 4 connections: the control socket stays usable.
out=$(member /usr/bin/python3 - "$ES" 2>&1 <<'PY'
import socket, sys
held = []
for i in range(5):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(sys.argv[1])
    held.append(s)
s = held[-1]
s.settimeout(3)
try:
    m = s.recv(65536)
    print("5th: refused" if b"too many" in m else "5th: other %r" % m[:80])
except socket.timeout:
    print("5th: accepted")
PY
)
check "events socket: a 5th held connection of members is refused ($out)" test "$out" = "5th: refused"
check "events socket: the control socket still answers root" test "$(status_field mode)" = enforce

# A group that does not exist: root only, said in status and the log.
stop_daemon
EVENTS_SOCK=$ES EVENTS_GROUP=no-such-group-hmk write_conf enforce path+hash
start_daemon || { fail "events socket: daemon did not start with a missing group"; finish; }
check "events socket: missing group: 0600 root ($(stat -c '%a %U:%G' "$ES"))" test "$(stat -c '%a %U' "$ES")" = "600 root"
check "events socket: missing group: status says root only" \
	grep -q "root only: group no-such-group-hmk does not exist" <<<"$(status_field events_socket)"
check "events socket: missing group: logged" grep -q "events socket $ES: root only: group no-such-group-hmk does not exist" "$DLOG"
out=$(member "$HMILOCK" --config "$T/cli.conf" --socket "$ES" status 2>&1)
check "events socket: missing group: a former member cannot connect" test $? -eq 3

# off: no socket.
stop_daemon
EVENTS_SOCK=off write_conf enforce path+hash
start_daemon || { fail "events socket: daemon did not start with the socket off"; finish; }
check "events socket: off: no socket file" test ! -e "$ES"
check "events socket: off: status says off" grep -q '^off' <<<"$(status_field events_socket)"
finish
