# tests/integration/lib.sh - shared helpers for the numbered integration
# scripts. Source it; it sets BIN (build dir), HMILOCK, HMILOCKD, a private
# work dir $T removed on exit, and pass/fail/skip reporters.
# Every test that needs a mount makes its own (mk_tmpfs) and the EXIT trap
# unmounts it and stops any daemon started here, by PID.
set -u
BIN=${HMILOCK_BUILD:?run through tests/run.sh or set HMILOCK_BUILD}
TOP=${HMILOCK_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
HMILOCK=$BIN/hmilock
HMILOCKD=$BIN/hmilockd
T=$(mktemp -d /tmp/hmilock-it.XXXXXX)
_MOUNTS=()
_PIDS=()
_CLEANUPS=()
_failed=0

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; _failed=1; }
skip() { echo "SKIP: $*"; }
# check NAME CMD...: PASS when CMD succeeds, FAIL otherwise.
check() {
	local name=$1
	shift
	if "$@"; then pass "$name"; else fail "$name: command failed: $*"; fi
}

# Register a command to run at exit (before mounts are removed).
on_exit() { _CLEANUPS+=("$*"); }

_lib_cleanup() {
	local i p m
	for ((i = ${#_CLEANUPS[@]} - 1; i >= 0; i--)); do eval "${_CLEANUPS[$i]}" || true; done
	for p in "${_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null && for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	for ((i = ${#_MOUNTS[@]} - 1; i >= 0; i--)); do
		m=${_MOUNTS[$i]}
		mountpoint -q "$m" && { umount "$m" 2>/dev/null || umount -l "$m"; }
	done
	rm -rf "$T"
}
trap _lib_cleanup EXIT

# mk_tmpfs DIR: make DIR and mount a fresh tmpfs on it (removed at exit).
mk_tmpfs() {
	mkdir -p "$1" && mount -t tmpfs -o size=256m,mode=0755 hmilock-test "$1" && _MOUNTS+=("$1")
}

# wait_for TENTHS CMD...: CMD succeeds within TENTHS tenths of a second.
wait_for() {
	local n=$1
	shift
	for _ in $(seq "$n"); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# track_pid PID: stop PID (TERM, then KILL) at exit.
track_pid() { _PIDS+=("$1"); }

# need_root: skip the whole script unless root.
need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		skip "$(basename "$0"): needs root"
		exit 0
	fi
}

# Finish: exit status from the reported results.
finish() { exit $_failed; }
