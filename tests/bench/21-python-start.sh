#!/bin/bash
# 21-python-start: `python3 -c pass` with its interpreter on a marked mount,
# hmilockd running (A), against the same with no daemon (B); ROUNDS
# alternating rounds of 100 starts, medians, ratio A/B (target <= 1.03).
# The marked mount is a read-only bind mount of /usr, so the interpreter,
# its standard library and its extension modules all live below the watch
# point (python finds its prefix from its own path); only the exec of the
# interpreter is a permission event: hmilockd never asks about plain opens.
. "$(dirname "$0")/daemon_bench.sh"

N=${BENCH_PY:-100}
PY=$(readlink -f /usr/bin/python3)
mkdir -p "$W"
mount --bind /usr "$W" && _MOUNTS+=("$W") && mount -o remount,bind,ro "$W" || exit 1
build_spawnloop || exit 1
WPY=$W/${PY#/usr/}
make_list "$WPY" || exit 1
write_conf enforce path+hash
"$WPY" -c 'import sys; assert sys.prefix.startswith(sys.argv[1]), sys.prefix' "$W" ||
	{ echo "python does not take its prefix from the bind mount"; exit 1; }

ra=() rb=()
"$T/spawnloop" 20 "$WPY" -c pass >/dev/null
# ABBA: odd rounds measure the baseline first, so neither side always
# runs right after a daemon start or stop.
for ((r = 0; r < ROUNDS; r++)); do
	[ $((r % 2)) -eq 1 ] && rb+=("$("$T/spawnloop" "$N" "$WPY" -c pass)")
	start_daemon >/dev/null || { echo "daemon did not start"; exit 1; }
	"$WPY" -c pass
	ra+=("$("$T/spawnloop" "$N" "$WPY" -c pass)")
	stop_daemon || { echo "daemon did not stop"; exit 1; }
	[ $((r % 2)) -eq 0 ] && rb+=("$("$T/spawnloop" "$N" "$WPY" -c pass)")
done
ma=$(median "${ra[@]}")
mb=$(median "${rb[@]}")
printf 'python3 -c pass: daemon %.2f ms, no daemon %.2f ms per start (medians of %d x %d); ratio %s (target <= 1.03)\n' \
	"$(awk "BEGIN{print $ma/1e6}")" "$(awk "BEGIN{print $mb/1e6}")" "$ROUNDS" "$N" "$(ratio "$ma" "$mb")"
echo "python3 -c pass: median of the $ROUNDS paired ratios $(paired_ratio "${ra[*]}" "${rb[*]}")"
