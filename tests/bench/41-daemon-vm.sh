#!/bin/bash
# tests/bench/41-daemon-vm.sh - overhead of the whole product, in the qemu
# guest: hmilockd in enforce mode with its kernel helper loaded and a filled
# list, confined to the tmpfs it watches (tests/vm/daemon.sh), against no
# daemon at all (stopped, helper unpinned), alternating ABBA over rounds in
# one boot (tests/vm/daemon-bench-init.sh). Three workloads, timed by
# hmk_bench: an exec storm of a listed static binary (posix_spawn+wait, as
# bench 20; target <= 1.02), the cold exec of a listed binary of a few MB
# (after a reload: hmilockd hashes all of it before it answers, as bench 22)
# against its exec with no daemon, and dlopen+dlclose of a listed library.
# Prints ratios only (medians of the paired rounds, and of the medians):
# absolute times under software emulation mean nothing.
# HMILOCK_BENCH_DAEMON="ROUNDS,EXECS,COLDS,DLOPENS,MB" overrides the sizes
# (11,100,3,400,4: 3 to 4 minutes of guest on amd64 under TCG, 4 to 5 on
# arm64). Each sample first waits for an idle second in the guest
# (tests/vm/daemon-bench-init.sh's settle, docs/helper.md says why).
# HMILOCK_VM_ARCH=arm64 runs it in the AArch64 guest (tests/vm/vm.sh), as
# bench 40: HMILOCK_VM_ARCH=arm64 tests/bench/run.sh BUILD_DIR /4 runs both.
set -u
top=${HMILOCK_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${HMILOCK_BUILD:?run through tests/bench/run.sh}
build=$(cd "$build" && pwd) || exit 1 # absolute: see bench 40
# shellcheck source=tests/vm/vm.sh
. "$top/tests/vm/vm.sh" || exit 1
vm_build_dirs "$build"
work=$VM_WORK
mkdir -p "$work"
if ! "${VM_MK[@]}" vm-bench-progs >"$work/dbench-build.log" 2>&1 ||
	! vm_build_daemon "$work/dbench-build.log"; then
	echo "41-daemon-vm: building the guest programs ($VM_ARCH) failed:"
	tail -20 "$work/dbench-build.log"
	exit 1
fi
vm_kernel || exit 1
vm_busybox || exit 1
rel=$work/rel
# shellcheck disable=SC2046 # vm_libs prints one SRC:DST word per library
vm_initramfs "$work/dbench-initrd.gz" "$top/tests/vm/daemon-bench-init.sh" \
	"$work/hmk_bench:t/hmk_bench" "$work/hmk_true:t/hmk_true" \
	"$work/hmk_dlbench:t/hmk_dlbench" "$work/hmk_preload.so:t/hmk_preload.so" \
	"$rel/hmilockd:t/hmilockd" "$rel/hmilock:t/hmilock" "$top/tests/vm/daemon.sh:t/daemon.sh" \
	$(vm_libs "$work/hmk_dlbench" "$rel/hmilockd" "$rel/hmilock") || exit 1
log=$work/dbench.log
start=$(date +%s)
VM_APPEND_EXTRA="hmk_dbench=${HMILOCK_BENCH_DAEMON:-11,100,3,400,4}" \
	vm_boot "$work/dbench-initrd.gz" "$log" "$(vm_timeout 900)" || exit 1
grep -E '^(VM|hmk_dbench):' "$log"
# The guest's samples (round 0, the warm-up, left out): the mean of each
# round's cold execs; per workload, the median of the per-round ratios
# daemon/none, and the ratio of the two conditions' medians.
awk -v arch="$VM_ARCH" '
function median(v, n,   i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
	return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
$1 == "SAMPLE:" && $2 > 0 { sum[$2, $3, $4] += $5; cnt[$2, $3, $4]++; if ($2 > nr) nr = $2 }
END {
	split("exec cold dl", w, " ")
	name["exec"] = "exec storm, listed static binary (target <= 1.02)"
	name["cold"] = "cold exec, listed binary hashed after a reload, vs plain exec"
	name["dl"] = "dlopen+dlclose, listed library"
	for (k = 1; k <= 3; k++) {
		n = 0
		for (r = 1; r <= nr; r++) {
			if (!cnt[r, "on", w[k]] || !cnt[r, "off", w[k]])
				continue
			n++
			a[n] = sum[r, "on", w[k]] / cnt[r, "on", w[k]]
			b[n] = sum[r, "off", w[k]] / cnt[r, "off", w[k]]
			q[n] = a[n] / b[n]
		}
		if (!n) { print "BENCH: " arch ": " w[k] ": no samples"; bad = 1; continue }
		printf "BENCH: %s: %s: ratio %.3f (median of %d paired rounds), %.3f (of the medians)\n",
			arch, name[w[k]], median(q, n), n, median(a, n) / median(b, n)
	}
	exit bad
}' "$log" || { echo "41-daemon-vm: the guest gave no samples; log $log"; exit 1; }
echo "41-daemon-vm: $VM_ARCH guest run $(($(date +%s) - start)) s; log $log"
grep -q '^RESULT: PASS' "$log" || { echo "41-daemon-vm: the benchmark failed in the guest"; exit 1; }
