#!/bin/bash
# 84-vm-arm64.sh - the kernel helper's VM suite (tests/vm/run.sh) in an
# AArch64 guest: Debian 12's arm64 kernel under qemu-system-aarch64 (software
# emulation), busybox-static from Debian's arm64 archive, the guest programs
# and hmilockd/hmilock cross-built with make ARCH=arm64 (tests/vm/vm.sh,
# HMILOCK_VM_ARCH=arm64). Every guest line is passed through with "arm64: "
# after its PASS/FAIL/SKIP; a missing tool, a failed download, build or boot
# is a FAIL, never a skip. Then one more boot, on Debian 12's own arm64
# kernel (6.1), which cannot attach BPF LSM programs (error 524): the guest's
# fallback mode (HMILOCK_VM_MODE=fallback, tests/vm/daemon.sh's
# dtests_fallback: hmilockd runs without the helper with helper = auto, its
# fanotify gate still refuses, helper = required refuses to start), its lines
# passed through with "arm64-6.1: ".
. "$(dirname "$0")/lib.sh"

missing=
for t in qemu-system-aarch64 aarch64-linux-gnu-gcc aarch64-linux-gnu-ar aarch64-linux-gnu-readelf \
	clang bpftool apt-get dpkg-deb gzip busybox; do
	command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
done
if [ ! -f /usr/share/keyrings/debian-archive-keyring.gpg ]; then
	missing="$missing debian-archive-keyring"
fi
if [ -n "$missing" ]; then
	fail "vm-arm64: not installed:$missing (run tools/bootstrap.sh --deps-only)"
	finish
fi

start=$SECONDS
HMILOCK_VM_ARCH=arm64 HMILOCK_VM_MODE='' "$TOP/tests/vm/run.sh" "$BIN" >"$T/run.log" 2>&1
rc=$?
sed -n -e 's/^\(PASS\|FAIL\|SKIP\): /\1: arm64: /p' -e '/^    /p' "$T/run.log"
n=$(grep -c '^PASS: ' "$T/run.log")
if [ $rc -ne 0 ]; then
	grep -q '^FAIL: ' "$T/run.log" || fail "vm-arm64: tests/vm/run.sh exited $rc: $(tail -3 "$T/run.log" | paste -sd' ' -)"
	_failed=1
elif [ "$n" -lt 150 ]; then
	# the amd64 guest passes about 184: far fewer means cases went missing
	fail "vm-arm64: only $n cases passed in the arm64 guest"
else
	pass "vm-arm64: $n cases passed in the arm64 guest ($(grep -m1 '^VM: kernel' "$BIN/vm-arm64/vm/boot.log" | sed 's/^VM: //; s/, lsm=.*//'); whole run $((SECONDS - start)) s)"
fi

start=$SECONDS
HMILOCK_VM_ARCH=arm64 HMILOCK_VM_KERNEL_SUITE=bookworm HMILOCK_VM_MODE=fallback \
	"$TOP/tests/vm/run.sh" "$BIN" >"$T/run61.log" 2>&1
rc=$?
sed -n -e 's/^\(PASS\|FAIL\|SKIP\): /\1: arm64-6.1: /p' -e '/^    /p' "$T/run61.log"
n=$(grep -c '^PASS: ' "$T/run61.log")
kernel=$(grep -m1 '^VM: kernel' "$BIN/vm-arm64/vm/boot-fallback.log" 2>/dev/null | sed 's/^VM: kernel //; s/, lsm=.*//')
if [ $rc -ne 0 ]; then
	grep -q '^FAIL: ' "$T/run61.log" || fail "vm-arm64-6.1: tests/vm/run.sh exited $rc: $(tail -3 "$T/run61.log" | paste -sd' ' -)"
	_failed=1
elif [[ $kernel != 6.1.* ]]; then
	fail "vm-arm64-6.1: the guest ran kernel '$kernel', not Debian 12's own 6.1"
elif [ "$n" -lt 8 ]; then
	# dtests_fallback's cases: fewer means some went missing
	fail "vm-arm64-6.1: only $n of 8 fallback cases passed in the arm64 guest"
else
	pass "vm-arm64-6.1: $n fallback cases passed in the arm64 guest (kernel $kernel: no BPF LSM attach, hmilockd without the helper; whole run $((SECONDS - start)) s)"
fi
finish
