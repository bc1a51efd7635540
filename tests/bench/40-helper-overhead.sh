#!/bin/bash
# tests/bench/40-helper-overhead.sh - overhead of the kernel helper, in the
# qemu guest (the build machine cannot load BPF LSM programs): an exec storm
# and a dlopen/dlclose loop with the helper loaded (enforce, list filled) vs
# not loaded, alternating over rounds in the same boot; prints the medians
# and ratios (target <= 1.05). Under software emulation the absolute times
# are slow; only the ratios mean something.
# HMILOCK_BENCH_HELPER="ROUNDS,EXECS,DLOPENS" overrides the sizes (21,60,400).
# HMILOCK_VM_ARCH=arm64 runs it in the AArch64 guest of test 84
# (tests/vm/vm.sh; programs cross-built into BUILD_DIR/vm-arm64).
set -u
top=${HMILOCK_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${HMILOCK_BUILD:?run through tests/bench/run.sh}
# absolute, as tests/vm/run.sh names it: the objects' dependency files name
# their targets as the build dir was given, and a relative and an absolute
# name for the same object would leave it stale after a header change
build=$(cd "$build" && pwd) || exit 1
# shellcheck source=tests/vm/vm.sh
. "$top/tests/vm/vm.sh" || exit 1
vm_build_dirs "$build"
mk=("${VM_MK[@]}")
work=$VM_WORK
mkdir -p "$work"
if ! "${mk[@]}" vm-bench-progs >"$work/bench-build.log" 2>&1; then
	echo "40-helper-overhead: building the guest programs ($VM_ARCH) failed:"
	tail -20 "$work/bench-build.log"
	exit 1
fi
vm_kernel || exit 1
vm_busybox || exit 1
# shellcheck disable=SC2046 # vm_libs prints one SRC:DST word per library
vm_initramfs "$work/bench-initrd.gz" "$top/tests/vm/bench-init.sh" \
	"$work/hmk_bench:t/hmk_bench" "$work/hmk_true:t/hmk_true" \
	"$work/hmk_dlbench:t/hmk_dlbench" "$work/hmk_preload.so:t/hmk_preload.so" \
	$(vm_libs "$work/hmk_dlbench") || exit 1
start=$(date +%s)
VM_APPEND_EXTRA="hmk_bench=${HMILOCK_BENCH_HELPER:-21,60,400}" \
	vm_boot "$work/bench-initrd.gz" "$work/bench.log" $((900 * VM_TIMEOUT_FACTOR)) || exit 1
grep -E "^(round|BENCH|hmk_bench)" "$work/bench.log"
echo "40-helper-overhead: $VM_ARCH guest run $(($(date +%s) - start)) s; log $work/bench.log"
grep -q '^RESULT: PASS' "$work/bench.log" || { echo "40-helper-overhead: the benchmark failed in the guest"; exit 1; }
