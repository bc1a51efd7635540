#!/bin/bash
# 20-exec-storm: exec of a listed binary on a marked mount, hmilockd running
# (A), against the very same binary on the same mount with no daemon (B):
# ROUNDS alternating rounds of 2,000 posix_spawn+wait each, medians, ratio
# A/B (target <= 1.02). A warm listed exec carries an ignore mark, so the
# kernel does not even ask the daemon. Then the decision latency under a
# storm: 8 parallel loops x 2,000 execs mixing 20 listed and 20 unlisted
# binaries; p50/p99 are measured inside the daemon (event read -> response
# written, a log-linear histogram, see agent/stats.c) and read from
# `hmilock status --json`.
. "$(dirname "$0")/daemon_bench.sh"

N=${BENCH_EXECS:-2000}
setup_mount || exit 1
build_spawnloop || exit 1
cp /bin/true "$W/bin/true"
for i in $(seq 20); do cp /bin/true "$W/bin/ok$i" && printf 'ok%d' "$i" >>"$W/bin/ok$i"; done
make_list "$W/bin" || exit 1
for i in $(seq 20); do cp /bin/true "$W/tmp/no$i" && printf 'no%d' "$i" >>"$W/tmp/no$i"; done
write_conf enforce path+hash

ra=() rb=()
"$T/spawnloop" 200 "$W/bin/true" >/dev/null
# ABBA: odd rounds measure the baseline first, so neither side always
# runs right after a daemon start or stop.
for ((r = 0; r < ROUNDS; r++)); do
	[ $((r % 2)) -eq 1 ] && rb+=("$("$T/spawnloop" "$N" "$W/bin/true")")
	start_daemon >/dev/null || { echo "daemon did not start"; exit 1; }
	"$W/bin/true" # first exec: hashed, ignore mark placed
	ra+=("$("$T/spawnloop" "$N" "$W/bin/true")")
	stop_daemon || { echo "daemon did not stop"; exit 1; }
	[ $((r % 2)) -eq 0 ] && rb+=("$("$T/spawnloop" "$N" "$W/bin/true")")
done
ma=$(median "${ra[@]}")
mb=$(median "${rb[@]}")
printf 'exec storm, listed binary: daemon %.1f us, no daemon %.1f us per exec (medians of %d x %d); ratio %s (target <= 1.02)\n' \
	"$(awk "BEGIN{print $ma/1000}")" "$(awk "BEGIN{print $mb/1000}")" "$ROUNDS" "$N" "$(ratio "$ma" "$mb")"
echo "exec storm, listed binary: median of the $ROUNDS paired ratios $(paired_ratio "${ra[*]}" "${rb[*]}")"

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
