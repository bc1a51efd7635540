#!/bin/busybox sh
# tests/vm/bench-init.sh - /init of the benchmark guest
# (tests/bench/40-helper-overhead.sh): mounts, runs hmk_bench, prints
# "RESULT: PASS|FAIL" (the benchmark ran, or not) and powers off.
# shellcheck source=tests/vm/guest-mounts.sh
. /t/guest-mounts.sh
args=$(vm_param hmk_bench "21 60 400")
echo
# shellcheck disable=SC2086 # three numbers
if /t/hmk_bench /w $args; then echo "RESULT: PASS"; else echo "RESULT: FAIL"; fi
poweroff -f
