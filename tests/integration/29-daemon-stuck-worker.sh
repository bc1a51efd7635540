#!/bin/bash
# 29-daemon-stuck-worker: a worker that hangs (here: its thread stopped with
# ptrace, as a dead USB stick or a stuck FUSE server would) cannot stop the
# reader. With workers = 1 and queue = 16, the events beyond the queue are
# answered at once by on_error (deny, counted as queue_full), cached
# verdicts keep coming from the reader, and the watchdog answers the stuck
# and queued events by on_error after HMD_DECIDE_TIMEOUT (30 s). When the
# worker comes back it answers nothing twice; the daemon goes on normally.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_fixture.sh"
need_root

setup_mount || { fail "stuck: cannot mount tmpfs"; finish; }
cp /bin/true "$W/bin/true"
make_list "$W/bin" || { fail "stuck: hmilock init"; finish; }
cp /bin/false "$W/tmp/cached"
for i in $(seq 24); do cp /bin/false "$W/tmp/u$i" && printf 'u%d' "$i" >>"$W/tmp/u$i"; done
write_conf enforce path+hash "workers = 1" "queue = 16"
start_daemon || { fail "stuck: daemon did not start"; finish; }
expect_exec "stuck: unlisted refused (now cached)" 126 "$W/tmp/cached"
expect_exec "stuck: listed runs (ignore mark placed)" 0 "$W/bin/true"

wtid=$(grep -l '^hmilockd-work$' /proc/"$DPID"/task/*/comm | head -1 | cut -d/ -f5)
[ -n "$wtid" ] || { fail "stuck: no worker thread found"; finish; }
# Stop exactly that thread (PTRACE_SEIZE + PTRACE_INTERRUPT) until $T/go.
python3 - "$wtid" "$T/go" "$T/stopped" <<'PY' &
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
tid = int(sys.argv[1])
if libc.ptrace(0x4206, tid, 0, 0) != 0 or libc.ptrace(0x4207, tid, 0, 0) != 0:
    sys.exit("ptrace: %s" % os.strerror(ctypes.get_errno()))
os.waitpid(tid, 0x40000000)  # __WALL: wait for the stop
open(sys.argv[3], "w").close()
while not os.path.exists(sys.argv[2]):
    time.sleep(0.05)
libc.ptrace(17, tid, 0, 0)  # PTRACE_DETACH
PY
tracer=$!
for _ in $(seq 100); do [ -e "$T/stopped" ] && break; sleep 0.05; done
[ -e "$T/stopped" ] || { fail "stuck: could not stop the worker thread"; finish; }
pass "stuck: worker thread stopped"

t0=$(date +%s%N)
pids=()
for i in $(seq 24); do
	"$W/tmp/u$i" >/dev/null 2>&1 &
	pids+=($!)
	sleep 0.02
done
sleep 1
n_done=0
for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null || n_done=$((n_done + 1)); done
# 1 taken by the stopped worker + 16 queued wait; the other 7 are answered.
check "stuck: events beyond the queue answered at once ($n_done of 24)" test "$n_done" -ge 7
check "stuck: queue_full counted" test "$(status_field queue_full)" -ge 7
t1=$(date +%s%N)
expect_exec "stuck: cached verdict still answered by the reader" 126 "$W/tmp/cached"
check "stuck: ... without waiting" test $((($(date +%s%N) - t1) / 1000000)) -lt 1000
expect_exec "stuck: ignore-marked listed binary still runs" 0 "$W/bin/true"

# The watchdog answers the rest by on_error after the decision timeout.
timeout 45 bash -c 'for p in "$@"; do while kill -0 $p 2>/dev/null; do sleep 0.2; done; done' _ "${pids[@]}"
check "stuck: watchdog answered every waiting exec within 45 s" test $? -eq 0
secs=$((($(date +%s%N) - t0) / 1000000000))
check "stuck: ... and not before the 30 s timeout (${secs} s)" test "$secs" -ge 29
for p in "${pids[@]}"; do
	wait "$p"
	[ $? -eq 126 ] || fail "stuck: an unlisted exec ran while the worker was stuck"
done
check "stuck: on_error counted for all 24" test "$(status_field on_error)" -ge 24
touch "$T/go"
wait "$tracer"
sleep 0.5
check "stuck: daemon alive after the worker returns" kill -0 "$DPID"
cp /bin/false "$W/tmp/after"
expect_exec "stuck: new unlisted refused by the worker again" 126 "$W/tmp/after"
cp /bin/true "$W/tmp/true-copy" && hl add "$W/tmp/true-copy" >/dev/null 2>&1 && hl reload >/dev/null
expect_exec "stuck: listed file decided by the worker runs" 0 "$W/tmp/true-copy"
check "stuck: events = allowed + denied (none answered twice)" test \
	"$(status_field events)" -eq $(($(status_field allowed) + $(status_field denied)))
finish
