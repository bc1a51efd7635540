#!/bin/bash
# 39-log-journal: one line per message in the journal. Under systemd
# hmilockd runs --foreground with stderr connected to journald, which also
# receives its syslog(3) lines: when JOURNAL_STREAM names the stream its
# stderr is (what systemd sets), hmilockd writes syslog only, so a daemon
# message and a deny record each arrive once. Run by hand (no
# JOURNAL_STREAM), --foreground still prints to stderr as well. Runs in a
# mount namespace of its own where /dev/log is a datagram socket this test
# reads (a syslog stand-in; the machine's /dev is not touched), and the
# watched tmpfs is mounted inside it.
if [ -z "${HMILOCK_IN_NS:-}" ]; then
	[ "$(id -u)" -eq 0 ] || { echo "SKIP: $(basename "$0"): needs root"; exit 0; }
	command -v unshare >/dev/null || { echo "SKIP: log journal: no unshare"; exit 0; }
	HMILOCK_IN_NS=1 exec unshare -m --propagation private bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_fixture.sh"
need_root

# /dev of this namespace: a tmpfs with the devices hmilockd and the shell
# use bound in, and /dev/log served by a python reader into $T/syslog.
# Each device node is bound onto a file of its own first (never the whole
# /dev into $T, which lib.sh removes with rm -rf at exit).
DEVS=(null zero full random urandom)
for d in "${DEVS[@]}"; do
	touch "$T/dev-$d" && mount --bind "/dev/$d" "$T/dev-$d" && _MOUNTS+=("$T/dev-$d") || {
		fail "log journal: cannot bind /dev/$d"
		finish
	}
done
mount -t tmpfs -o size=1m,mode=0755 hmilock-dev /dev || { fail "log journal: no tmpfs on /dev"; finish; }
for d in "${DEVS[@]}"; do
	touch "/dev/$d" && mount --bind "$T/dev-$d" "/dev/$d"
done
: >"$T/syslog"
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
open(sys.argv[1] + ".ready", "w").close()
with open(sys.argv[1], "ab", buffering=0) as out:
    while True:
        out.write(s.recv(65536).rstrip(b"\0\n") + b"\n")
' "$T/syslog" &
track_pid $!
for _ in $(seq 50); do [ -e "$T/syslog.ready" ] && break; sleep 0.1; done
[ -S /dev/log ] || { fail "log journal: no syslog stand-in at /dev/log"; finish; }

setup_mount || { fail "log journal: cannot mount tmpfs"; finish; }
cp /bin/true "$W/bin/true"
make_list "$W/bin" || { fail "log journal: hmilock init"; finish; }
cp /bin/false "$W/tmp/unlisted"
write_conf enforce path+hash

# count PATTERN FILE: lines of FILE matching PATTERN (fixed string)
count() { grep -cF -- "$1" "$2"; }

# run_once LABEL: start, a deny, a mode change, stop; stderr into $DLOG.
run_once() {
	: >"$T/syslog"
	start_daemon || { fail "log journal: daemon did not start ($1)"; return 1; }
	"$W/tmp/unlisted" 2>/dev/null
	hl mode audit >/dev/null
	hl mode enforce >/dev/null
	stop_daemon
	sleep 0.2 # the reader writes what it got
}

# ---- under systemd: stderr is the journal ----
DLOG=$T/journal-stream
: >"$DLOG"
JOURNAL_STREAM=$(stat -c '%d:%i' "$DLOG")
export JOURNAL_STREAM
run_once systemd
check "log journal: ready line reaches syslog once" test "$(count "ready: mode enforce" "$T/syslog")" -eq 1
check "log journal: ... and not stderr (the journal's stream)" test "$(count "ready: mode enforce" "$DLOG")" -eq 0
check "log journal: deny record reaches syslog once" test "$(count "deny exec path=$W/tmp/unlisted" "$T/syslog")" -eq 1
check "log journal: ... with the authpriv facility (<84>, warning)" grep -q "^<84>.*deny exec path=$W/tmp/unlisted" "$T/syslog"
check "log journal: ... and not stderr" test "$(count "deny exec path=$W/tmp/unlisted" "$DLOG")" -eq 0
check "log journal: mode change once" test "$(count "mode changed from enforce to audit" "$T/syslog")/$(count "mode changed from enforce to audit" "$DLOG")" = 1/0
check "log journal: stderr carries no log line at all" test ! -s "$DLOG"

# a JOURNAL_STREAM naming another stream (inherited by a child of a
# service) is not this stderr: both outputs
: >"$T/other"
JOURNAL_STREAM=$(stat -c '%d:%i' "$T/other")
DLOG=$T/stderr-other
run_once other
check "log journal: JOURNAL_STREAM of another stream: stderr keeps its lines" test "$(count "ready: mode enforce" "$DLOG")" -eq 1

# ---- by hand: no JOURNAL_STREAM ----
unset JOURNAL_STREAM
DLOG=$T/stderr-hand
run_once by-hand
check "log journal: by hand, --foreground prints to stderr" test "$(count "ready: mode enforce" "$DLOG")" -eq 1
check "log journal: by hand, syslog still gets it once" test "$(count "ready: mode enforce" "$T/syslog")" -eq 1
finish
