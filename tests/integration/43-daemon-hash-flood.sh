#!/bin/bash
# 43-daemon-hash-flood: a user cannot stall the box's own programs by making
# the daemon hash. As nobody (setpriv), 4 loops exec fresh 64 GiB sparse
# files (tmpfs: no blocks, but hashing one reads 64 GiB of zeros, ~45 s)
# while root execs 30 distinct listed programs, each cold (first exec: no
# cache entry, no ignore mark, so it needs a worker): every one must run,
# each within 2 s, and the sparse files are refused as too large without
# being hashed (reason too-large in the events). Then a flood just under a
# cap (max_unlisted_size = 1G; 16 loops of 1000 MiB files, each really
# hashed, ~0.7 s): listed programs still start within 2 s (they do not queue behind
# unlisted work), and root's own unlisted exec is decided within 3 s
# (fairness per uid: nobody's backlog does not delay another user); the
# daemon still stops at once with that backlog. On a
# daemon without the cap, the lanes and the fairness, the listed execs wait
# behind the hashing until the 30 s watchdog denies them.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_fixture.sh"
need_root
command -v setpriv >/dev/null || {
	skip "hash-flood: setpriv (util-linux) missing"
	finish
}

setup_mount || { fail "hash-flood: cannot mount tmpfs"; finish; }
for i in $(seq 60); do cp /bin/true "$W/bin/ok$i" && printf 'ok%d' "$i" >>"$W/bin/ok$i"; done
make_list "$W/bin" || { fail "hash-flood: hmilock init"; finish; }
# nobody must reach $W/user: $T (mktemp -d, 0700) becomes traversable only.
chmod 711 "$T" && mkdir -p "$W/user" && chown 65534:65534 "$W/user"
setpriv --reuid=65534 --regid=65534 --clear-groups -- touch "$W/user/probe" ||
	{ fail "hash-flood: nobody cannot write $W/user"; finish; }

# flood SIZE LOOPS: as nobody, LOOPS loops each making, exec'ing and
# removing sparse files of SIZE until $T/stop exists. Every file is new, so
# every exec is a cache miss.
flood() {
	local size=$1 loops=$2 k
	rm -f "$T/stop"
	for k in $(seq "$loops"); do
		setpriv --reuid=65534 --regid=65534 --clear-groups -- bash -c '
			i=0
			while [ ! -e "$1" ]; do
				f=$2/big$3.$i
				truncate -s "$4" "$f" && chmod 755 "$f" && "$f"
				rm -f "$f"
				i=$((i + 1))
			done' _ "$T/stop" "$W/user" "$k" "$size" >/dev/null 2>&1 &
		track_pid $!
		FLOOD_PIDS+=($!)
	done
}
stop_flood() {
	touch "$T/stop"
	# A loop waits at most for one exec; the daemon answers it.
	timeout 60 bash -c 'for p in "$@"; do while kill -0 $p 2>/dev/null; do sleep 0.1; done; done' _ "${FLOOD_PIDS[@]}"
	FLOOD_PIDS=()
}
# timed_execs FIRST LAST: exec ok$FIRST..ok$LAST one by one (each cold);
# sets SLOW (execs over 2 s), DENIED (not exit 0) and WORST (ms). Stops
# after the second slow one: a daemon that fails here fails by the 30 s
# watchdog each time.
timed_execs() {
	local i t0 ms rc
	SLOW=0 DENIED=0 WORST=0
	for i in $(seq "$1" "$2"); do
		t0=$(date +%s%N)
		timeout -s KILL 40 "$W/bin/ok$i" >/dev/null 2>&1
		rc=$?
		ms=$((($(date +%s%N) - t0) / 1000000))
		[ "$rc" -eq 0 ] || DENIED=$((DENIED + 1))
		[ "$ms" -le 2000 ] || SLOW=$((SLOW + 1))
		[ "$ms" -le "$WORST" ] || WORST=$ms
		[ "$SLOW" -lt 2 ] || break
		sleep 0.2
	done
}
FLOOD_PIDS=()

# Phase 1: 64 GiB sparse files, default cap (256 MiB).
write_conf enforce path+hash
start_daemon || { fail "hash-flood: daemon did not start"; finish; }
flood 64G 4
sleep 2 # the loops are running: every worker would be hashing by now
timed_execs 1 30
check "hash-flood: 30 cold listed execs under a 64 GiB flood all ran ($DENIED refused)" \
	test "$DENIED" -eq 0
check "hash-flood: ... each within 2 s ($SLOW slower, worst $WORST ms)" test "$SLOW" -eq 0
stop_flood
check "hash-flood: the flood loops ended" test "$?" -eq 0
n_big=$(hl events --json -n 1000 2>/dev/null | python3 -c '
import json, sys
print(sum(1 for e in json.load(sys.stdin)
          if "/user/big" in e.get("path", "") and e.get("reason") == "too-large"
          and e.get("verdict") == "deny"))' 2>/dev/null)
check "hash-flood: sparse files refused as too-large (${n_big:-0} events)" test "${n_big:-0}" -ge 4
check "hash-flood: none of them waited for the watchdog (on_error 0)" \
	test "$(status_field on_error)" -eq 0
check "hash-flood: too-large denials logged" grep -q 'too-large' "$DLOG"
stop_daemon || fail "hash-flood: daemon did not stop"

# Phase 2: under a small cap, files just below it are hashed for real.
write_conf enforce path+hash "max_unlisted_size = 1G"
start_daemon || { fail "hash-flood: daemon did not start (cap 1G)"; finish; }
flood 1000M 16
sleep 2
timed_execs 31 50
check "hash-flood: 20 cold listed execs under a below-cap flood all ran ($DENIED refused)" \
	test "$DENIED" -eq 0
check "hash-flood: ... each within 2 s ($SLOW slower, worst $WORST ms)" test "$SLOW" -eq 0
# Root's unlisted program is decided next to nobody's backlog, not after it.
cp /bin/false "$W/tmp/root-unlisted"
t0=$(date +%s%N)
timeout -s KILL 60 "$W/tmp/root-unlisted" >/dev/null 2>&1
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
check "hash-flood: root's unlisted exec refused ($rc)" test "$rc" -eq 126
check "hash-flood: ... within 3 s of nobody's backlog ($ms ms)" test "$ms" -le 3000
stop_flood
check "hash-flood: events = allowed + denied (none answered twice or lost)" test \
	"$(status_field events)" -eq $(($(status_field allowed) + $(status_field denied)))
# Stopping with a backlog: what waits in the slow lane is answered by
# on_error at once instead of being hashed first.
flood 1000M 16
sleep 3
touch "$T/stop"
t0=$(date +%s%N)
stop_daemon
check "hash-flood: the daemon stops within 5 s with a backlog ($((($(date +%s%N) - t0) / 1000000)) ms)" \
	test -z "$DPID"
stop_flood
finish
