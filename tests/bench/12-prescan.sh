#!/bin/bash
# 12-prescan: what the prescan costs on top of `hmilock init ROOT` (default
# /usr/lib), warm cache, alternating, median of RUNS (default 3):
#   A  hmilock init                       (no [prescan])
#   B  hmilock init with [prescan]        (databases and a blocklist)
#   C  clamscan --file-list               over exactly the files A listed,
#                                         same databases (ClamAV's own scanner)
#   D  hmilock init, blocklist only       (the SHA-256 lists: no engine)
# and prints B/A (the prescan's overhead, target: little above 1), D/A (a
# blocklist looked up by the hash init computes anyway), B/C
# (init with its prescan against clamscan alone) and B / the physical
# SHA-256 limit (bytes / (cores x openssl's rate)).
# The databases are made here: a box is offline and the signature sets of
# ClamAV (main.cvd, daily.cvd) are not in Debian's archive. BENCH_HSB
# (default 200000) SHA-256 hash signatures, BENCH_NDB (default 20000) body
# signatures of 24 random bytes each, and a blocklist of BENCH_BL (default
# 100000) SHA-256; BENCH_DB=DIR uses a real signature set instead (e.g. a
# copy of /var/lib/clamav). Private list, key and config; never the
# machine's.
set -u
BIN=${HMILOCK_BUILD:?run through tests/bench/run.sh BUILD_DIR}
HMILOCK=$BIN/hmilock
ROOT=${BENCH_ROOT:-/usr/lib}
RUNS=${BENCH_RUNS:-3}
W=$(mktemp -d /tmp/hmilock-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT
: >"$W/plain.conf"
now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.9f\", $1 }"; }
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
hl() {
	local conf=$1
	shift
	"$HMILOCK" --db "$W/db" --key "$W/key" --config "$conf" "$@"
}

[ -x "$HMILOCK" ] || { echo "no $HMILOCK: build first"; exit 1; }
command -v clamscan >/dev/null || { echo "no clamscan (Debian's clamav package)"; exit 1; }

DB=${BENCH_DB:-}
if [ -z "$DB" ]; then
	DB=$W/sigs
	mkdir -p "$DB"
	python3 - "$DB" "${BENCH_HSB:-200000}" "${BENCH_NDB:-20000}" "${BENCH_BL:-100000}" "$W/feed.sha256" <<'EOF'
import os, sys
d, nh, nn, nb, feed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
with open(os.path.join(d, "bench.hsb"), "w") as f:
    for i in range(nh):
        f.write("%s:%d:Bench.Hash.%d\n" % (os.urandom(32).hex(), 1000 + i, i))
with open(os.path.join(d, "bench.ndb"), "w") as f:
    for i in range(nn):
        f.write("Bench.Body.%d:0:*:%s\n" % (i, os.urandom(24).hex()))
with open(feed, "w") as f:
    for i in range(nb):
        f.write("%s Feed.%d\n" % (os.urandom(32).hex(), i))
EOF
fi
[ -f "$W/feed.sha256" ] || : >"$W/feed.sha256"
{
	printf '[prescan]\ndatabases = %s\n' "$DB"
	[ -s "$W/feed.sha256" ] && printf 'blocklists = %s\n' "$W/feed.sha256"
} >"$W/prescan.conf"
[ -s "$W/feed.sha256" ] || sha256sum /bin/true | sed 's/ .*/ Bench.Only/' >"$W/feed.sha256"
printf '[prescan]\nblocklists = %s\n' "$W/feed.sha256" >"$W/blocklist.conf"

# Warm-up: the key, the page cache, the file set (what A lists).
hl "$W/plain.conf" init "$ROOT" >"$W/init.out" 2>"$W/init.err" || { cat "$W/init.err"; exit 1; }
hl "$W/plain.conf" list --json >"$W/list.json" || exit 1
bytes=$(python3 - "$W/list.json" "$W/files" "$(dirname "$0")/../integration" <<'EOF'
import json, os, sys
sys.path.insert(0, sys.argv[3])
from listjson import path_of
total = 0
with open(sys.argv[2], "wb") as f:
    for e in json.load(open(sys.argv[1])):
        p = path_of(e)
        if b"\n" not in p:  # clamscan's file list is one path a line
            f.write(p + b"\n")
        total += e["size"]
print(total)
EOF
) || exit 1
files=$(wc -l <"$W/files")
hl "$W/prescan.conf" init -f "$ROOT" >"$W/pinit.out" 2>"$W/pinit.err"
rc=$?
[ $rc -le 1 ] || { cat "$W/pinit.err"; exit 1; }
loaded=$(grep -o 'prescan: .*' "$W/pinit.err" | head -1)
clamscan --no-summary --infected -d "$DB" --file-list="$W/files" >/dev/null 2>&1

a=() b=() c=() d=()
for i in $(seq "$RUNS"); do
	order="A B C D"
	[ $((i % 2)) -eq 0 ] && order="D C B A" # alternate which side goes first
	for side in $order; do
		t0=$(now)
		case $side in
		A) hl "$W/plain.conf" init -f "$ROOT" >/dev/null 2>&1 ;;
		B) hl "$W/prescan.conf" init -f "$ROOT" >/dev/null 2>&1 ;;
		C) clamscan --no-summary --infected -d "$DB" --file-list="$W/files" >/dev/null 2>&1 ;;
		D) hl "$W/blocklist.conf" init -f "$ROOT" >/dev/null 2>&1 ;;
		esac
		t=$(calc "$(now) - $t0")
		case $side in A) a+=("$t") ;; B) b+=("$t") ;; C) c+=("$t") ;; D) d+=("$t") ;; esac
	done
done
ma=$(median "${a[@]}")
mb=$(median "${b[@]}")
mc=$(median "${c[@]}")
md=$(median "${d[@]}")
cores=$(nproc)
rate=$(openssl speed -evp sha256 -bytes 16384 -seconds 1 2>/dev/null |
	awk '$1 == "sha256" {sub(/k$/, "", $2); print $2 * 1000}')
limit=$(calc "$bytes / ($cores * $rate)")

printf 'root %s: %s files, %.1f MB; %s\n' "$ROOT" "$files" "$(calc "$bytes / 1000000")" "$loaded"
printf 'A hmilock init:               median %.3f s of %s runs (%s)\n' "$ma" "$RUNS" "${a[*]}"
printf 'B hmilock init, prescan:      median %.3f s of %s runs (%s)\n' "$mb" "$RUNS" "${b[*]}"
printf 'C clamscan --file-list:       median %.3f s of %s runs (%s)\n' "$mc" "$RUNS" "${c[*]}"
printf 'D hmilock init, blocklist:    median %.3f s of %s runs (%s)\n' "$md" "$RUNS" "${d[*]}"
printf 'prescan overhead B/A:  %.3f (libclamav: every byte through its matchers)\n' \
	"$(calc "$mb / $ma")"
printf 'blocklist only D/A:    %.3f\n' "$(calc "$md / $ma")"
printf 'B / clamscan alone:    %.3f\n' "$(calc "$mb / $mc")"
printf 'physical limit:        %.3f s (%s cores x %.0f MB/s openssl sha256 @16KiB)\n' \
	"$limit" "$cores" "$(calc "$rate / 1000000")"
printf 'A / limit:             %.2f x; B / limit: %.2f x\n' "$(calc "$ma / $limit")" \
	"$(calc "$mb / $limit")"
