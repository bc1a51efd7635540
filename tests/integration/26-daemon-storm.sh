#!/bin/bash
# 26-daemon-storm: 8 parallel loops x 2,000 execs mixing 20 listed and 20
# unlisted binaries (each with its own content): every verdict right,
# nothing left unanswered (every loop finishes), the counters add up.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_fixture.sh"
need_root

LOOPS=8 PER=2000 N=20
setup_mount || { fail "storm: cannot mount tmpfs"; finish; }
for i in $(seq $N); do
	cp /bin/true "$W/bin/ok$i" && printf 'ok%d' "$i" >>"$W/bin/ok$i"
done
make_list "$W/bin" || { fail "storm: hmilock init"; finish; }
for i in $(seq $N); do
	cp /bin/true "$W/tmp/no$i" && printf 'no%d' "$i" >>"$W/tmp/no$i"
done

write_conf enforce path+hash
start_daemon || { fail "storm: daemon did not start"; finish; }
ev0=$(status_field events) al0=$(status_field allowed) de0=$(status_field denied)

# storm_loop ID: PER execs, alternating listed/unlisted; wrong verdicts go
# to $T/wrong.ID, one line each.
storm_loop() {
	local id=$1 k i rc
	: >"$T/wrong.$id"
	for ((k = 0; k < PER / 2; k++)); do
		i=$(((k * 7 + id) % N + 1))
		"$W/bin/ok$i" 2>/dev/null
		rc=$?
		[ $rc -eq 0 ] || echo "ok$i rc $rc" >>"$T/wrong.$id"
		"$W/tmp/no$i" 2>/dev/null
		rc=$?
		[ $rc -eq 126 ] || echo "no$i rc $rc" >>"$T/wrong.$id"
	done
}
t0=$(date +%s%N)
pids=()
for id in $(seq $LOOPS); do
	storm_loop "$id" &
	pids+=($!)
done
timeout 600 bash -c "while :; do for p in ${pids[*]}; do kill -0 \$p 2>/dev/null && break; done || exit 0; sleep 0.2; done; exit 0" 2>/dev/null
all_done=1
for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && all_done=0; done
check "storm: all $LOOPS loops finished (nothing left unanswered)" test $all_done -eq 1
wait "${pids[@]}" 2>/dev/null
secs=$((($(date +%s%N) - t0) / 1000000000))
wrong=$(cat "$T"/wrong.* | wc -l)
check "storm: every one of $((LOOPS * PER)) verdicts right ($wrong wrong, ${secs} s)" test "$wrong" -eq 0
[ "$wrong" -eq 0 ] || head -5 "$T"/wrong.*

ev=$(($(status_field events) - ev0))
al=$(($(status_field allowed) - al0))
de=$(($(status_field denied) - de0))
check "storm: one deny per unlisted exec ($de of $((LOOPS * PER / 2)))" test "$de" -eq $((LOOPS * PER / 2))
check "storm: events = allowed + denied ($ev = $al + $de)" test "$ev" -eq $((al + de))
check "storm: listed binaries mostly skipped by ignore marks ($al allowed events)" \
	test "$al" -lt $((LOOPS * PER / 2))
check "storm: no errors" test "$(status_field errors)" -eq 0
check "storm: no event answered by on_error" test "$(status_field on_error)" -eq 0
check "storm: cache answered the repeats" test "$(status_field cache_hits)" -gt $((LOOPS * PER / 4))
echo "storm: decision p50 $(status_field decision_p50_us) us, p99 $(status_field decision_p99_us) us"
finish
