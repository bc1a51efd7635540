#!/bin/bash
# 20-exec-storm: exec of a listed binary on a marked mount, hmilockd running
# (A), against the very same binary on the same mount with no daemon (B):
# ROUNDS alternating rounds of 2,000 posix_spawn+wait each, medians, ratio
# A/B (target <= 1.02). A warm listed exec carries an ignore mark, so the
# kernel does not even ask the daemon. The same for a binary with two hard
# links, both listed (like /usr/bin/perl): under match = path+hash it gets
# its ignore mark too when every link is listed (exec.c). Then the decision latency under a
# storm: 8 parallel loops x 2,000 execs mixing 20 listed and 20 unlisted
# binaries; p50/p99 are measured inside the daemon (event read -> response
# written, a log-linear histogram, see agent/stats.c) and read from
# `hmilock status --json`.
. "$(dirname "$0")/daemon_bench.sh"

N=${BENCH_EXECS:-2000}
setup_mount || exit 1
build_spawnloop || exit 1
cp /bin/true "$W/bin/true"
cp /bin/true "$W/bin/linked" && printf linked >>"$W/bin/linked" && ln "$W/bin/linked" "$W/bin/linked2"
for i in $(seq 20); do cp /bin/true "$W/bin/ok$i" && printf 'ok%d' "$i" >>"$W/bin/ok$i"; done
make_list "$W/bin" || exit 1
for i in $(seq 20); do cp /bin/true "$W/tmp/no$i" && printf 'no%d' "$i" >>"$W/tmp/no$i"; done
write_conf enforce path+hash

# warm_ab NAME PROG: ROUNDS ABBA rounds of N execs of PROG with a daemon
# (after one exec that hashes it and places the ignore mark) and without.
warm_ab() {
	local name=$1 prog=$2 ra=() rb=() r ma mb e0 asked=0
	"$T/spawnloop" 200 "$prog" >/dev/null
	# ABBA: odd rounds measure the baseline first, so neither side always
	# runs right after a daemon start or stop.
	for ((r = 0; r < ROUNDS; r++)); do
		[ $((r % 2)) -eq 1 ] && rb+=("$("$T/spawnloop" "$N" "$prog")")
		start_daemon >/dev/null || { echo "daemon did not start"; exit 1; }
		"$prog" # first exec: hashed, ignore mark placed
		e0=$(status_field events)
		ra+=("$("$T/spawnloop" "$N" "$prog")")
		asked=$((asked + $(status_field events) - e0))
		stop_daemon || { echo "daemon did not stop"; exit 1; }
		[ $((r % 2)) -eq 0 ] && rb+=("$("$T/spawnloop" "$N" "$prog")")
	done
	ma=$(median "${ra[@]}")
	mb=$(median "${rb[@]}")
	printf 'exec storm, %s: daemon %.1f us, no daemon %.1f us per exec (medians of %d x %d); ratio %s (target <= 1.02)\n' \
		"$name" "$(awk "BEGIN{print $ma/1000}")" "$(awk "BEGIN{print $mb/1000}")" "$ROUNDS" "$N" "$(ratio "$ma" "$mb")"
	echo "exec storm, $name: median of the $ROUNDS paired ratios $(paired_ratio "${ra[*]}" "${rb[*]}"); the daemon was asked $asked times in $((ROUNDS * N)) warm execs"
}
warm_ab "listed binary" "$W/bin/true"
warm_ab "listed binary with 2 hard links" "$W/bin/linked"

start_daemon >/dev/null || { echo "daemon did not start"; exit 1; }
storm_loop() {
	local id=$1 k i
	for ((k = 0; k < 1000; k++)); do
		i=$(((k * 7 + id) % 20 + 1))
		"$W/bin/ok$i"
		"$W/tmp/no$i"
	done >/dev/null 2>&1
}
t0=$(now_ns)
pids=()
for id in $(seq 8); do
	storm_loop "$id" &
	pids+=($!)
done
wait "${pids[@]}"
ms=$((($(now_ns) - t0) / 1000000))
printf 'storm 8 x 2,000 mixed execs: %d ms; decisions %s, cache hits %s, p50 %s us, p99 %s us (inside the daemon)\n' \
	"$ms" "$(status_field decisions_timed)" "$(status_field cache_hits)" \
	"$(status_field decision_p50_us)" "$(status_field decision_p99_us)"
stop_daemon
