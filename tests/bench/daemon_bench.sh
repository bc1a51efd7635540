# shellcheck shell=bash disable=SC2034
# tests/bench/daemon_bench.sh - shared by the hmilockd benchmarks 20-29
# (sourced). Reuses the integration helpers (private $T, tmpfs mounts and
# daemons torn down at exit, the daemon confined by [watch] mounts) and adds
# an exec driver, medians and ratios. Benchmarks print figures; they never
# pass or fail on absolute times.
export HMILOCK_BUILD=${HMILOCK_BUILD:?run through tests/bench/run.sh BUILD_DIR}
. "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/../integration/daemon_fixture.sh"
ROUNDS=${BENCH_ROUNDS:-11}

median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
ratio() { awk "BEGIN { printf \"%.3f\", $1 / $2 }"; }
# paired_ratio "A1 A2 ..." "B1 B2 ...": the median of the per-round ratios
# Ai/Bi - robust against the machine's load drifting across rounds.
paired_ratio() {
	local a=($1) b=($2) r=() i
	for ((i = 0; i < ${#a[@]}; i++)); do r+=("$(ratio "${a[$i]}" "${b[$i]}")"); done
	median "${r[@]}"
}
now_ns() { date +%s%N; }

# spawnloop: a tiny C driver, posix_spawn + waitpid N times, prints the mean
# ns per exec. Shell loops would add their own fork noise.
build_spawnloop() {
	cat >"$T/spawnloop.c" <<'C'
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
extern char **environ;
int main(int argc, char **argv)
{
	long n = atol(argv[1]);
	struct timespec a, b;
	int st, bad = 0;
	pid_t pid;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++) {
		if (posix_spawn(&pid, argv[2], NULL, NULL, argv + 2, environ) ||
		    waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			bad++;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.0f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n);
	return bad ? 1 : 0;
}
C
	cc -O2 -o "$T/spawnloop" "$T/spawnloop.c"
}

# ab NAME N A_CMD -- B_CMD: ROUNDS alternating rounds of N execs each,
# prints medians (us per exec) and the ratio A/B. Sets AB_RATIO.
ab() {
	local name=$1 n=$2 a=() b=() ra=() rb=() r x
	shift 2
	while [ "$1" != -- ]; do a+=("$1"); shift; done
	shift
	b=("$@")
	"$T/spawnloop" "$n" "${a[@]}" >/dev/null || { echo "$name: A failed"; return 1; }
	"$T/spawnloop" "$n" "${b[@]}" >/dev/null || { echo "$name: B failed"; return 1; }
	for ((r = 0; r < ROUNDS; r++)); do
		x=$("$T/spawnloop" "$n" "${a[@]}") || return 1
		ra+=("$x")
		x=$("$T/spawnloop" "$n" "${b[@]}") || return 1
		rb+=("$x")
	done
	local ma mb
	ma=$(median "${ra[@]}")
	mb=$(median "${rb[@]}")
	AB_RATIO=$(ratio "$ma" "$mb")
	printf '%s: A %.1f us, B %.1f us per exec (medians of %d x %d), ratio A/B %s\n' \
		"$name" "$(awk "BEGIN{print $ma/1000}")" "$(awk "BEGIN{print $mb/1000}")" \
		"$ROUNDS" "$n" "$AB_RATIO"
}
