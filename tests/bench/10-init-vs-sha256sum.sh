#!/bin/bash
# 10-init-vs-sha256sum: `hmilock init ROOT` (default /usr/lib) against
# `xargs -0 -P2 -n 32 sha256sum` over exactly the files the resulting list
# holds (the same bytes hashed; -n 32 so that -P2 really runs two sha256sum
# at once: without it one process gets every path), warm cache, alternating A/B, median of RUNS
# (default 3); prints the ratio (target <= 0.4). Then the physical limit:
# bytes hashed / (cores x `openssl speed -evp sha256` rate at 16 KiB blocks)
# against init's median time, printed as a factor (target <= 1.5).
# Uses a private list and key; never the machine's.
set -u
BIN=${HMILOCK_BUILD:?run through tests/bench/run.sh BUILD_DIR}
HMILOCK=$BIN/hmilock
ROOT=${BENCH_ROOT:-/usr/lib}
RUNS=${BENCH_RUNS:-3}
W=$(mktemp -d /tmp/hmilock-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT
: >"$W/empty.conf" # every [agent] path from the options below
hl() { "$HMILOCK" --db "$W/db" --key "$W/key" --config "$W/empty.conf" "$@"; }
now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.9f\", $1 }"; }
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

[ -x "$HMILOCK" ] || { echo "no $HMILOCK: build first"; exit 1; }
cores=$(nproc)

# Warm-up run: creates the key, fills the page cache, gives the file set.
hl init "$ROOT" >"$W/init.out" 2>"$W/init.err" || { cat "$W/init.err"; exit 1; }
hl list --json >"$W/list.json" || exit 1
bytes=$(python3 - "$W/list.json" "$W/files0" "$(dirname "$0")/../integration" <<'EOF'
import json, sys
sys.path.insert(0, sys.argv[3])
from listjson import path_of
total = 0
with open(sys.argv[2], "wb") as f:
    for e in json.load(open(sys.argv[1])):
        f.write(path_of(e) + b"\0")
        total += e["size"]
print(total)
EOF
) || exit 1
files=$(tr -cd '\0' <"$W/files0" | wc -c)
xargs -0 -P2 -n 32 sha256sum <"$W/files0" >/dev/null 2>&1

a=() b=()
for i in $(seq "$RUNS"); do
	order="A B"
	[ $((i % 2)) -eq 0 ] && order="B A" # alternate which side goes first
	for side in $order; do
		t0=$(now)
		if [ "$side" = A ]; then
			hl init -f "$ROOT" >/dev/null 2>&1 || { echo "init failed"; exit 1; }
		else
			xargs -0 -P2 -n 32 sha256sum <"$W/files0" >/dev/null 2>&1
		fi
		t=$(calc "$(now) - $t0")
		if [ "$side" = A ]; then a+=("$t"); else b+=("$t"); fi
	done
done
ma=$(median "${a[@]}")
mb=$(median "${b[@]}")
rate=$(openssl speed -evp sha256 -bytes 16384 -seconds 1 2>/dev/null |
	awk '$1 == "sha256" {sub(/k$/, "", $2); print $2 * 1000}')
limit=$(calc "$bytes / ($cores * $rate)")

printf 'root %s: %s files, %.1f MB hashed (%s)\n' "$ROOT" "$files" "$(calc "$bytes / 1000000")" \
	"$(grep -o 'skipped:[^;]*' "$W/init.out")"
printf 'hmilock init:             median %.3f s of %s runs (%s)\n' "$ma" "$RUNS" "${a[*]}"
printf 'xargs -P2 -n32 sha256sum: median %.3f s of %s runs (%s)\n' "$mb" "$RUNS" "${b[*]}"
printf 'ratio init/sha256sum:  %.3f (target <= 0.4)\n' "$(calc "$ma / $mb")"
printf 'physical limit:        %.3f s = %s bytes / (%s cores x %.0f MB/s openssl sha256 @16KiB)\n' \
	"$limit" "$bytes" "$cores" "$(calc "$rate / 1000000")"
printf 'init / limit:          %.2f x (target <= 1.5)\n' "$(calc "$ma / $limit")"
