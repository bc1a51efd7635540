#!/bin/busybox sh
# tests/vm/bench-init.sh - /init of the benchmark guest
# (tests/bench/40-helper-overhead.sh): mounts, runs hmk_bench, prints
# "RESULT: PASS|FAIL" (the benchmark ran, or not) and powers off.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t securityfs securityfs /sys/kernel/security
mount -t bpf bpf /sys/fs/bpf
mount -t tmpfs -o mode=0755 w /w
# shellcheck disable=SC2046 # one word per kernel parameter
set -- $(cat /proc/cmdline)
args="21 60 400"
for a; do case "$a" in hmk_bench=*) args=$(echo "${a#hmk_bench=}" | tr , ' ') ;; esac; done
echo
# shellcheck disable=SC2086 # three numbers
if /t/hmk_bench /w $args; then echo "RESULT: PASS"; else echo "RESULT: FAIL"; fi
poweroff -f
