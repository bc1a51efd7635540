#!/bin/bash
# 23-list-100k: hmilockd with a 100,000-entry list: start-to-ready (the
# background start returns exactly when marks are placed and the reader
# runs; ROUNDS runs, median; target <= 300 ms) and its resident memory right
# after start and after 2,000 execs of listed files (VmRSS, with the anon /
# file split: the mapped list counts as file pages; target <= 8 MB).
. "$(dirname "$0")/daemon_bench.sh"

N=${BENCH_ENTRIES:-100000}
# 100,000 small files take a page each: a bigger tmpfs than mk_tmpfs makes.
mkdir -p "$W" && mount -t tmpfs -o size=1g,mode=0755 hmilock-bench "$W" && _MOUNTS+=("$W") || exit 1
python3 - "$W/many" "$N" <<'PY' || exit 1
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = os.path.join(root, "d%03d" % (i // 1000))
    if i % 1000 == 0:
        os.makedirs(d, exist_ok=True)
    p = os.path.join(d, "f%06d" % i)
    with open(p, "w") as f:
        f.write("#!/bin/sh\nexit 0 # %d\n" % i)
    os.chmod(p, 0o755)
PY
t0=$(now_ns)
make_list "$W/many" || exit 1
echo "list of $(hl list --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))') entries built in $((($(now_ns) - t0) / 1000000)) ms, $(stat -c %s "$DB") bytes"
# BENCH_CACHE=N sets [agent] cache_entries (default: the config default).
write_conf enforce path+hash ${BENCH_CACHE:+"cache_entries = $BENCH_CACHE"}

rss() { # PID -> "VmRSS kB (anon kB + file kB)"
	awk '/^VmRSS/ {r=$2} /^RssAnon/ {a=$2} /^RssFile/ {f=$2} END {printf "%d kB (anon %d + file %d)", r, a, f}' "/proc/$1/status"
}
rt=()
for ((r = 0; r < ROUNDS; r++)); do
	a=$(now_ns)
	"$HMILOCKD" --config "$CONF" >"$T/bg.out" 2>&1 || { cat "$T/bg.out"; exit 1; }
	b=$(now_ns)
	rt+=("$(awk "BEGIN{printf \"%.1f\", ($b - $a) / 1e6}")")
	pid=$(status_field pid)
	track_pid "$pid"
	[ $r -eq 0 ] && rss0=$(rss "$pid")
	if [ $r -eq $((ROUNDS - 1)) ]; then
		for i in $(seq 0 49 $((N - 1)) | head -2000); do
			"$W/many/d$(printf %03d $((i / 1000)))/f$(printf %06d "$i")" || echo "exec $i failed"
		done
		rss1=$(rss "$pid")
		sleep 1.5 # hmilockd hands mapped list pages back once a second
		rss2=$(rss "$pid")
		echo "events after the execs: $(status_field events), errors $(status_field errors)"
	fi
	kill -TERM "$pid"
	while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
done
echo "start-to-ready with $N entries: median $(median "${rt[@]}") ms of ${rt[*]} (target <= 300 ms)"
echo "RSS right after start: $rss0; after 2,000 listed execs: $rss1, 1.5 s later: $rss2 (target <= 8 MB; cache_entries ${BENCH_CACHE:-default})"
