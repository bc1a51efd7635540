# shellcheck shell=bash disable=SC2034
# tests/integration/daemon_fixture.sh - helpers for the daemon scripts 20-29
# (source after lib.sh). Each script gets its own tmpfs $W, the only mount
# the daemon marks ([watch] mounts = $W), and its own list, key, socket and
# config under $T. The daemon is started in the foreground, tracked by PID
# and stopped by lib.sh's EXIT trap.
W=$T/w
DB=$T/db
KEY=$T/key
SOCK=$T/hmilockd.sock
CONF=$T/hmilockd.conf
DLOG=$T/daemon.log
DPID=
# LeakSanitizer needs ptrace at exit, which the daemon's seccomp filter
# kills: leak checks stay with the unit tests.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}

# hl ARGS: the CLI on this test's list, key and socket (never the machine's);
# its own config $T/cli.conf is empty (defaults) unless a test writes it.
: >"$T/cli.conf"
hl() { "$HMILOCK" --db "$DB" --key "$KEY" --config "$T/cli.conf" --socket "$SOCK" "$@"; }

# write_conf MODE [MATCH] [EXTRA LINE...]: the daemon's config for this test.
write_conf() {
	local mode=$1 match=${2:-path+hash}
	shift 2 2>/dev/null || shift $#
	{
		printf '[agent]\nmode = %s\ndb = %s\nkey = %s\nsocket = %s\nmatch = %s\non_error = deny\n' \
			"$mode" "$DB" "$KEY" "$SOCK" "$match"
		for l in "$@"; do printf '%s\n' "$l"; done
		printf '[watch]\nmounts = %s\n' "$W"
		# never the machine's own node exporter directory or events socket
		printf '[metrics]\ntextfile = %s\ninterval = %s\n' "${METRICS_FILE:-off}" \
			"${METRICS_INTERVAL:-5s}"
		printf '[events]\nsocket = %s\ngroup = %s\n' "${EVENTS_SOCK:-$T/events.sock}" \
			"${EVENTS_GROUP:-hmilock-events}"
	} >"$CONF"
}

# setup_mount: the watched tmpfs with bin/ (listed later) and tmp/.
setup_mount() {
	mk_tmpfs "$W" || return 1
	mkdir -p "$W/bin" "$W/tmp"
}

# make_list DIR...: a fresh list of DIR (key created on first use).
make_list() {
	rm -f "$DB"
	hl init "$@" >"$T/init.out" 2>&1 || {
		cat "$T/init.out"
		return 1
	}
}

# status_field NAME: one field of `hmilock status --json`.
status_field() {
	hl status --json 2>/dev/null | python3 -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v[k]
print(str(v).lower() if isinstance(v, bool) else v)' "$1" 2>/dev/null
}

# start_daemon [ARGS...]: start hmilockd on $CONF, wait until status says
# ready (10 s at most). Fails when it dies or never gets ready.
start_daemon() {
	grep -q "^mounts = $W\$" "$CONF" || {
		echo "refusing to start a daemon without [watch] mounts = $W"
		return 1
	}
	"$HMILOCKD" --foreground --config "$CONF" "$@" >>"$DLOG" 2>&1 &
	DPID=$!
	track_pid "$DPID"
	for _ in $(seq 100); do
		kill -0 "$DPID" 2>/dev/null || {
			echo "hmilockd exited during start-up:"
			tail -20 "$DLOG"
			return 1
		}
		[ "$(status_field ready)" = true ] && return 0
		sleep 0.1
	done
	echo "hmilockd not ready after 10 s"
	tail -20 "$DLOG"
	return 1
}

# stop_daemon: SIGTERM and wait; fails when it does not exit within 5 s.
stop_daemon() {
	[ -n "$DPID" ] || return 0
	kill -TERM "$DPID" 2>/dev/null
	for _ in $(seq 50); do
		kill -0 "$DPID" 2>/dev/null || {
			wait "$DPID" 2>/dev/null
			DPID=
			return 0
		}
		sleep 0.1
	done
	return 1
}

# rc_of CMD...: the exit status of CMD (output discarded).
rc_of() {
	"$@" >/dev/null 2>&1
	echo $?
}

# expect_exec NAME WANT_RC PROG [ARGS]: run PROG, PASS when it exits WANT_RC
# (0 = ran, 126 = refused with EPERM by the shell).
expect_exec() {
	local name=$1 want=$2 rc
	shift 2
	"$@" >"$T/exec.out" 2>&1
	rc=$?
	if [ "$rc" -eq "$want" ]; then
		pass "$name"
	else
		fail "$name: exit $rc, want $want: $(head -c 200 "$T/exec.out")"
	fi
}
