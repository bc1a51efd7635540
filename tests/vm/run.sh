#!/bin/bash
# tests/vm/run.sh - the kernel helper's tests inside a qemu guest running
# Debian 12's own kernel (BPF LSM can load there, not on the build machine).
# Called by tests/run.sh (HMILOCK_BUILD, HMILOCK_TOP set) or as
# tests/vm/run.sh BUILD_DIR. Builds the static guest programs, fetches the
# kernel (cached in build/vm-cache), boots, and prints the guest's
# PASS/FAIL lines. A failed build, download or boot is a FAIL, never a skip.
# HMILOCK_VM_ARCH=arm64 runs the same suite in an AArch64 guest (Debian 12's
# arm64 kernel under qemu-system-aarch64, tests/vm/vm.sh): its programs are
# cross-built (make ARCH=arm64) into BUILD_DIR/vm-arm64. HMILOCK_VM_TIMEOUT
# overrides the guest's time limit (240 s, scaled by architecture).
# HMILOCK_VM_MODE=fallback boots the guest with hmk_vm=fallback (init.sh):
# only hmilockd without the helper, for a kernel that cannot attach BPF LSM
# programs (test 84: Debian 12's own arm64 kernel, 6.1); its serial log is
# boot-fallback.log beside the suite's boot.log, its time limit 120 s (scaled).
set -u
top=${HMILOCK_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${HMILOCK_BUILD:-${1:?usage: tests/vm/run.sh BUILD_DIR}}
build=$(cd "$build" && pwd) || exit 1
# shellcheck source=tests/vm/vm.sh
. "$top/tests/vm/vm.sh" || exit 1
start=$(date +%s)
mode=${HMILOCK_VM_MODE:-}
case $mode in
'') log=boot.log limit=240 ;;
fallback) log=boot-fallback.log limit=120 VM_APPEND_EXTRA="hmk_vm=$mode" ;;
*)
	echo "FAIL: vm-mode: HMILOCK_VM_MODE=$mode is not supported (fallback, or unset)"
	exit 1
	;;
esac
vm_build_dirs "$build"
mk=("${VM_MK[@]}")
work=$VM_WORK
mkdir -p "$work"

if ! "${mk[@]}" vm-progs >"$work/build.log" 2>&1; then
	echo "FAIL: vm-build: building the guest programs${VM_ARCH:+ ($VM_ARCH)} failed:"
	tail -20 "$work/build.log" | sed 's/^/    /'
	exit 1
fi
# The daemon and CLI for the guest (vm.sh: a release build of their own).
rel=$work/rel
if ! vm_build_daemon "$work/build.log"; then
	echo "FAIL: vm-build: building hmilockd and hmilock for the guest${VM_ARCH:+ ($VM_ARCH)} failed:"
	tail -20 "$work/build.log" | sed 's/^/    /'
	exit 1
fi
vm_kernel || exit 1
vm_busybox || exit 1
# shellcheck disable=SC2046 # vm_libs prints one SRC:DST word per library
if ! vm_initramfs "$work/initrd.gz" "$top/tests/vm/init.sh" \
	"$work/hmk_vmtest:t/hmk_vmtest" "$work/hmk_true:t/hmk_true" \
	"$work/hmk_dlbench:t/hmk_dlbench" "$work/hmk_preload.so:t/hmk_preload.so" \
	"$rel/hmilockd:t/hmilockd" "$rel/hmilock:t/hmilock" "$top/tests/vm/daemon.sh:t/daemon.sh" \
	$(vm_libs "$work/hmk_dlbench" "$rel/hmilockd" "$rel/hmilock"); then
	echo "FAIL: vm-initramfs: packing the initramfs failed"
	exit 1
fi
log=$work/$log
vm_boot "$work/initrd.gz" "$log" "$(vm_timeout $limit)" || exit 1
grep -E '^(PASS|FAIL|SKIP): ' "$log"
if ! grep -q '^RESULT: PASS' "$log"; then
	grep -q '^FAIL: ' "$log" || echo "FAIL: vm-result: the guest reported RESULT: FAIL"
	echo "    guest log: $log"
	grep -E '^(log<|libbpf|hmk_|vm_)' "$log" | tail -20 | sed 's/^/    /'
	exit 1
fi
echo "vm: $(grep -c '^PASS: ' "$log") cases passed in the $VM_ARCH guest${mode:+ ($mode mode)}; whole run $(($(date +%s) - start)) s"
