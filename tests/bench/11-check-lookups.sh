#!/bin/bash
# 11-check-lookups: lookups per second on a 100,000-entry list. `hmilock
# init` builds the list over a synthetic tree of N (default 100000) small
# executable files on a tmpfs; tests/bench/lookup_bench.c, built here against
# BUILD/libwhitelist.a, times the library's path and hash lookups (what
# hmilockd does per decision); then `hmilock check` end to end (a process per
# call: start, key, open + MAC check of the whole list, hash, lookup).
# Uses a private list and key; never the machine's.
set -u
BIN=${HMILOCK_BUILD:?run through tests/bench/run.sh BUILD_DIR}
TOP=${HMILOCK_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
HMILOCK=$BIN/hmilock
N=${BENCH_ENTRIES:-100000}
CHECKS=${BENCH_CHECKS:-300}
[ "$N" -ge 1000 ] || N=1000 # the tree has N / 1000 directories
W=$(mktemp -d /tmp/hmilock-bench.XXXXXX)
mounted=
cleanup() {
	[ -n "$mounted" ] && umount "$W/tree"
	rm -rf "$W"
}
trap cleanup EXIT
: >"$W/empty.conf" # every [agent] path from the options below
hl() { "$HMILOCK" --db "$W/db" --key "$W/key" --config "$W/empty.conf" "$@"; }

[ -x "$HMILOCK" ] || { echo "no $HMILOCK: build first"; exit 1; }
mkdir -p "$W/tree"
if [ "$(id -u)" -eq 0 ] && mount -t tmpfs -o size=1g,mode=0755 hmilock-bench "$W/tree"; then
	mounted=1
fi

# N distinct scripts (distinct hashes), 1000 per directory.
python3 - "$W/tree" "$N" <<'EOF' || exit 1
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = os.path.join(root, "d%03d" % (i // 1000))
    if i % 1000 == 0:
        os.mkdir(d)
    p = os.path.join(d, "prog-%06d" % i)
    with open(p, "w") as f:
        f.write("#!/bin/sh\necho %d\n" % i)
    os.chmod(p, 0o755)
EOF
hl init "$W/tree" >"$W/init.out" 2>&1 || { cat "$W/init.out"; exit 1; }
echo "list: $(grep -o 'approved [0-9]* files' "$W/init.out") in $(grep -o '[0-9.]* s;' "$W/init.out" | tr -d ';'), $(stat -c %s "$W/db") bytes"

sanitize=
nm "$BIN/libwhitelist.a" 2>/dev/null | grep -q __asan && sanitize="-fsanitize=address,undefined"
# shellcheck disable=SC2046
cc -std=gnu11 -O2 -D_GNU_SOURCE $sanitize -I"$TOP/whitelist" -o "$W/lookup_bench" \
	"$TOP/tests/bench/lookup_bench.c" "$BIN/libwhitelist.a" \
	$(pkg-config --libs libcrypto libelf) -lpthread || { echo "cannot build lookup_bench"; exit 1; }
"$W/lookup_bench" "$W/db" "$W/key" 1000000 || exit 1

# End to end: CHECKS `hmilock check` processes, alternating listed/unlisted.
cp "$W/tree/d000/prog-000000" "$W/unlisted"
printf 'x' >>"$W/unlisted"
t0=$(date +%s.%N)
for i in $(seq "$CHECKS"); do
	if [ $((i % 2)) -eq 0 ]; then
		d=$((i % (N / 1000)))
		f=$(printf '%s/d%03d/prog-%06d' "$W/tree" "$d" $((d * 1000)))
		hl check "$f" >/dev/null || { echo "check of a listed file did not allow"; exit 1; }
	else
		hl check "$W/unlisted" >/dev/null
		rc=$?
		[ $rc -eq 1 ] || { echo "check of an unlisted file did not deny ($rc)"; exit 1; }
	fi
done
t1=$(date +%s.%N)
awk -v n="$CHECKS" -v t="$(awk "BEGIN {print $t1 - $t0}")" \
	'BEGIN { printf "hmilock check (process per call): %.0f checks/s, %.2f ms each\n", n / t, t * 1000 / n }'
