#!/bin/bash
# 24-hash-flood: exec latency of listed *cold* programs (each round starts
# after a reload, which flushes the verdict cache and the ignore marks, so
# each of the 100 listed binaries is hashed and decided by a worker) while a
# user (nobody) floods the daemon with fresh 64 GiB sparse files from 4
# loops (A), against the same with no flood (B). ROUNDS alternating rounds
# (ABBA), all latencies of a side pooled; p50, p99 and max per side, ratio
# of the p99s. The flood's files are refused as too-large, unhashed.
. "$(dirname "$0")/daemon_bench.sh"

K=100
setup_mount || exit 1
command -v setpriv >/dev/null || { echo "setpriv missing"; exit 1; }
for i in $(seq $K); do cp /bin/true "$W/bin/ok$i" && printf 'ok%d' "$i" >>"$W/bin/ok$i"; done
make_list "$W/bin" || exit 1
chmod 711 "$T" && mkdir -p "$W/user" && chown 65534:65534 "$W/user"
write_conf enforce path+hash

# spawnlat FILE...: exec each file once, one after the other; prints the
# ns of each posix_spawn + waitpid on its own line.
cat >"$T/spawnlat.c" <<'C'
#include <spawn.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
extern char **environ;
int main(int argc, char **argv)
{
	struct timespec a, b;
	int st, bad = 0;
	pid_t pid;

	for (int i = 1; i < argc; i++) {
		char *av[] = {argv[i], NULL};

		clock_gettime(CLOCK_MONOTONIC, &a);
		if (posix_spawn(&pid, argv[i], NULL, NULL, av, environ) ||
		    waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			bad++;
		clock_gettime(CLOCK_MONOTONIC, &b);
		printf("%.0f\n", (b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec));
	}
	return bad ? 1 : 0;
}
C
cc -O2 -o "$T/spawnlat" "$T/spawnlat.c" || exit 1
files=()
for i in $(seq $K); do files+=("$W/bin/ok$i"); done

FLOOD_PIDS=()
flood_on() {
	rm -f "$T/stop"
	for k in 1 2 3 4; do
		setpriv --reuid=65534 --regid=65534 --clear-groups -- bash -c '
			i=0
			while [ ! -e "$1" ]; do
				f=$2/big$3.$i
				truncate -s 64G "$f" && chmod 755 "$f" && "$f"
				rm -f "$f"
				i=$((i + 1))
			done' _ "$T/stop" "$W/user" "$k" >/dev/null 2>&1 &
		track_pid $!
		FLOOD_PIDS+=($!)
	done
	sleep 1
}
flood_off() {
	touch "$T/stop"
	wait "${FLOOD_PIDS[@]}" 2>/dev/null
	FLOOD_PIDS=()
}
# side A|B: one round, appended to $T/A or $T/B (us).
side() {
	hl reload >/dev/null || { echo "reload failed"; exit 1; }
	[ "$1" = A ] && flood_on
	"$T/spawnlat" "${files[@]}" >"$T/round" || echo "note: a listed exec failed in round $1"
	[ "$1" = A ] && flood_off
	awk '{printf "%.1f\n", $1 / 1000}' "$T/round" >>"$T/$1"
}
pct() { sort -g "$1" | awk -v p="$2" '{v[NR] = $1} END {i = int(NR * p / 100 + 0.999); if (i < 1) i = 1; print v[i]}'; }

start_daemon >/dev/null || { echo "daemon did not start"; exit 1; }
: >"$T/A"
: >"$T/B"
for ((r = 0; r < ROUNDS; r++)); do
	if [ $((r % 2)) -eq 0 ]; then side A; side B; else side B; side A; fi
done
a50=$(pct "$T/A" 50) a99=$(pct "$T/A" 99) amax=$(pct "$T/A" 100)
b50=$(pct "$T/B" 50) b99=$(pct "$T/B" 99) bmax=$(pct "$T/B" 100)
printf 'cold listed exec under a 64 GiB sparse-file flood (4 loops as nobody): p50 %s us, p99 %s us, max %s us; no flood: p50 %s us, p99 %s us, max %s us (%d x %d execs a side); p99 ratio %s\n' \
	"$a50" "$a99" "$amax" "$b50" "$b99" "$bmax" "$ROUNDS" "$K" "$(ratio "$a99" "$b99")"
printf 'flood refused as too-large: %s events, on_error %s\n' \
	"$(hl events --json -n 1000 2>/dev/null | python3 -c '
import json, sys
print(sum(1 for e in json.load(sys.stdin) if e.get("reason") == "too-large"))')" \
	"$(status_field on_error)"
stop_daemon
