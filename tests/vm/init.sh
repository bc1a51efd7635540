#!/bin/busybox sh
# tests/vm/init.sh - /init of the test guest (tests/vm/run.sh): mounts the
# pseudo filesystems, runs the helper tests phase by phase, prints
# "RESULT: PASS|FAIL" and powers off. PID 1 is this shell, in the service
# manager's place: it may end the daemon once it agreed or hangs.
# hmk_vm=fallback on the kernel command line (tests/vm/run.sh's
# HMILOCK_VM_MODE=fallback, test 84 on Debian 12's own arm64 kernel, which
# cannot attach BPF LSM programs): only hmilockd without the helper
# (tests/vm/daemon.sh's dtests_fallback).
# shellcheck source=tests/vm/guest-mounts.sh
. /t/guest-mounts.sh
echo "VM: kernel $(uname -r), lsm=$(cat /sys/kernel/security/lsm)"
HMK_VM_MODE=$(vm_param hmk_vm "")
[ -n "$HMK_VM_MODE" ] && echo "VM: mode $HMK_VM_MODE"
rc=0
# the helper's own tests (not in the fallback mode)
vm_helper() {
	/t/hmk_vmtest phase1 /w || rc=1
	/t/hmk_vmtest daemon /w &
	dpid=$!
	i=0
	while [ ! -e /w/daemon.ready ] && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if [ -e /w/daemon.ready ]; then
		echo "PASS: daemon-started"
	else
		echo "FAIL: daemon-started: no /w/daemon.ready after 30 s"
		rc=1
	fi
	if /bin/busybox kill -9 $dpid 2>/dev/null; then
		echo "FAIL: kill-9-daemon-from-shell-denied: a process other than PID 1 killed the daemon"
		rc=1
	else
		echo "PASS: kill-9-daemon-from-shell-denied"
	fi
	# PID 1 too, while the daemon beats and has not agreed to stop
	if kill -9 $dpid 2>/dev/null; then
		echo "FAIL: kill-9-daemon-from-pid1-denied: PID 1 killed a live locked daemon"
		rc=1
	else
		echo "PASS: kill-9-daemon-from-pid1-denied"
	fi
	# a hung daemon (stale heartbeat): the watchdog's kill goes through
	: >/w/daemon.hang
	i=0
	while [ ! -e /w/daemon.hung ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -9 $dpid 2>/dev/null; then
		echo "PASS: kill-9-hung-daemon-from-pid1-allowed"
	else
		echo "FAIL: kill-9-hung-daemon-from-pid1-allowed: refused although its heartbeat is stale"
		rc=1
	fi
	wait $dpid
	echo $? >/w/daemon.status
	/t/hmk_vmtest phase2 /w || rc=1
}
case $HMK_VM_MODE in
'') vm_helper ;;
fallback) ;;
*)
	echo "FAIL: vm-mode: unknown hmk_vm=$HMK_VM_MODE"
	rc=1
	;;
esac
# the real hmilockd with the helper (sourced: PID 1 must be able to kill it)
if [ -x /t/hmilockd ]; then
	# shellcheck source=tests/vm/daemon.sh
	. /t/daemon.sh
else
	echo "FAIL: hmilockd-present: /t/hmilockd missing from the initramfs"
	rc=1
fi
if [ $rc = 0 ]; then echo "RESULT: PASS"; else echo "RESULT: FAIL"; fi
poweroff -f
