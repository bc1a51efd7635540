#!/bin/bash
# tests/bench/run.sh BUILD_DIR [FILTER] - run every benchmark tests/bench/NN-*.sh.
# Benchmarks print ratios against a baseline measured side by side in the same
# run (alternating A/B, medians); they never pass or fail on absolute times.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:?usage: tests/bench/run.sh BUILD_DIR [FILTER]}" && pwd)
export HMILOCK_BUILD=$build HMILOCK_TOP=$top
rc=0
for b in "$top"/tests/bench/[0-9]*.sh; do
	[ -f "$b" ] || continue
	case "$b" in *"${2:-}"*) ;; *) continue ;; esac
	echo "== $(basename "$b" .sh)"
	bash "$b" || { echo "bench $(basename "$b") failed"; rc=1; }
done
exit $rc
