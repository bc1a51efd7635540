# tests/vm/daemon.sh - the real hmilockd with the kernel helper, in the
# guest. Sourced by /init (tests/vm/init.sh) after the helper's own tests, so
# that it runs as PID 1: the service manager's place, whose SIGTERM
# hmilockd answers itself and whose other signals wait for its consent.
# Everything runs on the tmpfs /d; the list holds what the guest runs (/t,
# /lib, /lib64 where there is one, busybox) plus /d/bin. Sets rc=1 on any FAIL.
# HMK_VM_MODE=fallback (init.sh, from hmk_vm=fallback on the kernel command
# line): only dtests_fallback, for a kernel that cannot attach the helper.
# HMK_VM_MODE=bench (tests/vm/daemon-bench-init.sh): the functions only, for
# the daemon benchmark's /init to set up, start and stop hmilockd with.
# With the helper, /bin/sh (busybox) is a listed interpreter: no busybox
# applet here reads an unlisted file by name (that would be a "script");
# outputs are captured with $(...) and matched with case.
D=/d
dpid=
# The target's dynamic loader and C library (tests/vm/vmcommon.h's VM_LDSO,
# VM_LIBC): the guest is x86-64 or AArch64 (HMILOCK_VM_ARCH, tests/vm/vm.sh).
case "$(uname -m)" in
aarch64) LDSO=/lib/ld-linux-aarch64.so.1 LIBC=/lib/aarch64-linux-gnu/libc.so.6 ;;
*) LDSO=/lib64/ld-linux-x86-64.so.2 LIBC=/lib/x86_64-linux-gnu/libc.so.6 ;;
esac
LIBDIRS=/lib
[ -d /lib64 ] && LIBDIRS="/lib /lib64"
dpass() { echo "PASS: hmilockd-$1"; }
dfail() {
	echo "FAIL: hmilockd-$1: $2"
	# shellcheck disable=SC2034 # init.sh's result
	rc=1
}
hl() { /t/hmilock --db $D/db --key $D/key --config $D/cli.conf --socket $D/sock "$@"; }
dstatus() { return "$1"; }
# dlog: the daemon's log, read by the shell (not by a busybox applet).
dlog() {
	local l
	while read -r l; do echo "    $l"; done <$D/daemon.log
}

# dexpect NAME WANT CMD...: PASS when CMD exits WANT.
dexpect() {
	local name=$1 want=$2 out st
	shift 2
	out=$("$@" 2>&1)
	st=$?
	if [ "$st" = "$want" ]; then dpass "$name"; else dfail "$name" "exit $st, want $want: $out"; fi
}

# dcontains NAME TEXT PATTERN: PASS when TEXT matches the glob PATTERN.
dcontains() {
	# shellcheck disable=SC2254 # the pattern is a glob on purpose
	case "$2" in
	$3) dpass "$1" ;;
	*) dfail "$1" "no '$3' in: $2" ;;
	esac
}

# dstart: start hmilockd, wait until its status says ready (30 s at most).
dstart() {
	local i=0 st
	/t/hmilockd --foreground --config $D/conf >>$D/daemon.log 2>&1 &
	dpid=$!
	while [ $i -lt 150 ]; do
		kill -0 $dpid 2>/dev/null || return 1
		st=$(hl status 2>/dev/null) && case "$st" in *"NOT READY"*) ;; *) return 0 ;; esac
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}

# dsetup [HELPER]: the tmpfs /d, its programs, the list, and a configuration
# with helper = HELPER (required by default).
dsetup() {
	mkdir -p $D && mount -t tmpfs -o mode=0755 d $D && mkdir $D/bin $D/tmp || return 1
	cp /t/hmk_true $D/bin/listed && cp /t/hmk_true $D/bin/victim &&
		cp /t/hmk_dlbench $D/bin/dl && cp /t/hmk_dlbench $D/tmp/dyn &&
		cp /t/hmk_true $D/tmp/dropped && cp /t/hmk_true $D/tmp/alt &&
		cp /t/hmk_preload.so $D/tmp/evil.so || return 1
	printf '\001' | dd of=$D/tmp/alt bs=1 seek=300 conv=notrunc 2>/dev/null
	echo 'echo EVIL' >$D/tmp/evil.sh
	printf '#!/bin/sh\necho GOOD\n' >$D/bin/good.sh && chmod 0755 $D/bin/good.sh
	: >$D/cli.conf
	printf '[agent]\nmode = enforce\ndb = %s\nkey = %s\nsocket = %s\nhelper = %s\n[watch]\nmounts = %s\n' \
		$D/db $D/key $D/sock "${1:-required}" $D >$D/conf
	# shellcheck disable=SC2086 # one or two directories
	hl init $D/bin /t $LIBDIRS /bin/busybox >/dev/null 2>&1
}

dtests_locked() {
	local out
	dexpect listed-runs 0 $D/bin/listed
	dexpect dropped-denied 126 $D/tmp/dropped
	dexpect altered-copy-denied 126 $D/tmp/alt
	out=$($LDSO $D/tmp/dyn 2>&1)
	case "$?" in 0 | 126) dfail ldso-unlisted-denied "ld.so ran it or was refused itself: $out" ;;
	*) dpass ldso-unlisted-denied ;; esac
	dexpect dlopen-unlisted-denied 3 $D/bin/dl $D/tmp/evil.so 1
	if out=$(LD_PRELOAD=$D/tmp/evil.so HMK_MARK=$D/mark $D/bin/dl $LIBC 1 2>&1) &&
		[ ! -e $D/mark ]; then
		dpass ld-preload-unlisted-not-loaded
	else
		dfail ld-preload-unlisted-not-loaded "marker or failure: $out"
	fi
	dexpect mprotect-exec-denied 1 /t/hmk_vmtest try mprotect $D/tmp/dropped
	dexpect memfd-exec-denied 1 /t/hmk_vmtest try memfd /t/hmk_true
	mkdir $D/new && mount -t tmpfs -o mode=0755 new $D/new && cp /t/hmk_true $D/new/x
	dexpect new-tmpfs-exec-denied 126 $D/new/x
	out=$(/bin/busybox sh $D/tmp/evil.sh 2>&1)
	case "$out" in *EVIL*) dfail interp-unlisted-script-denied "it ran: $out" ;;
	*) dpass interp-unlisted-script-denied ;; esac
	dcontains interp-listed-script-runs "$(/bin/busybox sh $D/bin/good.sh 2>&1)" "*GOOD*"
	dexpect write-approved-denied 1 /t/hmk_vmtest try write $D/bin/victim
	dexpect unlink-approved-denied 1 rm -f $D/bin/victim
	dexpect rename-approved-denied 1 mv $D/bin/victim $D/tmp/moved
	dexpect write-list-denied 1 /t/hmk_vmtest try write $D/db
	dexpect kill-9-daemon-denied 1 /bin/busybox kill -9 $dpid
	dexpect ptrace-daemon-denied 1 /t/hmk_vmtest try ptrace $dpid
	dcontains status-helper-active "$(hl status 2>&1)" "*helper:*active (pinned)*"
	dcontains events-from-helper "$(hl events 2>&1)" "*mmap*"
}

# A listed program keeps running while the list is reloaded again and again:
# each reload approves the whole list again in the helper and sweeps what
# it did not approve, while execs are approved by hmilockd's workers (an
# approval written with the epoch before the reload was swept, and the
# program, under an ignore mark, was refused by the helper from then on).
dreload_storm() {
	local i=0 bad=0 rpid
	(while :; do hl reload >/dev/null 2>&1; done) &
	rpid=$!
	while [ $i -lt 400 ]; do
		$D/bin/listed || bad=$((bad + 1))
		i=$((i + 1))
	done
	kill $rpid
	wait $rpid 2>/dev/null
	if [ $bad = 0 ]; then dpass reload-storm-listed-runs; else
		dfail reload-storm-listed-runs "$bad of 400 execs of a listed program refused while the list was reloaded"
	fi
	dexpect reload-storm-listed-runs-after 0 $D/bin/listed
}

dtests() {
	local st
	if ! dsetup; then
		dfail setup "cannot prepare $D or the list"
		return
	fi
	if ! dstart; then
		dfail start "hmilockd not ready; its log:"
		dlog
		return
	fi
	dpass start
	dtests_locked
	dstop_guard
	hl stop >$D/stop.out 2>&1
	dexpect stop-cli 0 dstatus $?
	wait $dpid
	st=$?
	dexpect stop-exit-4 4 dstatus $st
	dexpect stopped-dropped-still-denied 126 $D/tmp/dropped
	dexpect stopped-listed-still-runs 0 $D/bin/listed
	if dstart; then dpass restart; else
		dfail restart "hmilockd not ready; its log:"
		dlog
	fi
	dcontains restart-helper-reattached "$(hl status 2>&1)" "*helper:*active (pinned)*"
	dreload_storm
	dexpect mode-audit 0 hl mode audit
	dexpect audit-dropped-runs 0 $D/tmp/dropped
	# not locked: a SIGTERM stops it, and the helper lets PID 1 finish it
	kill -TERM $dpid
	wait $dpid
	dexpect sigterm-in-audit-stops 0 dstatus $?
	dcontains sigterm-in-audit-logged "$(dlog)" "*stopping: the box is not locked*"
	if dstart; then dpass restart-audit; else dfail restart-audit "hmilockd not ready"; fi
	dexpect mode-enforce 0 hl mode enforce
	dexpect enforce-dropped-denied 126 $D/tmp/dropped
	hl stop >/dev/null 2>&1
	wait $dpid
	dexpect stopped-helper-still-enforces 126 $D/tmp/dropped
}

# PID 1 (this shell) against the locked daemon: SIGKILL refused, SIGTERM
# answered by hmilockd (no systemd here: not a shutdown, refused), and
# cgroup.kill / cgroup.freeze of the cgroup it runs in refused; then a
# daemon whose heartbeat went stale (hung) may be ended by PID 1.
dstop_guard() {
	if kill -9 $dpid 2>/dev/null; then
		dfail sigkill-by-pid1-denied "PID 1 killed the locked daemon"
		return
	fi
	dpass sigkill-by-pid1-denied
	kill -TERM $dpid
	sleep 1
	if kill -0 $dpid 2>/dev/null; then dpass sigterm-by-pid1-refused; else
		dfail sigterm-by-pid1-refused "the locked daemon stopped on SIGTERM"
		return
	fi
	dcontains sigterm-refusal-logged "$(dlog)" "*from pid 1 (*): stop refused: the box is locked*"
	mkdir -p /sys/fs/cgroup/hmd && echo $dpid >/sys/fs/cgroup/hmd/cgroup.procs
	sleep 2 # hmilockd notes its new cgroup within a second
	if (echo 1 >/sys/fs/cgroup/hmd/cgroup.kill) 2>/dev/null; then
		dfail cgroup-kill-denied "cgroup.kill of the daemon's cgroup was written"
	else
		dpass cgroup-kill-denied
	fi
	if (echo 1 >/sys/fs/cgroup/hmd/cgroup.freeze) 2>/dev/null; then
		echo 0 >/sys/fs/cgroup/hmd/cgroup.freeze
		dfail cgroup-freeze-denied "cgroup.freeze of the daemon's cgroup was written"
	else
		dpass cgroup-freeze-denied
	fi
	kill -0 $dpid 2>/dev/null && dpass survived-pid1 || dfail survived-pid1 "hmilockd is gone"
	echo $dpid >/sys/fs/cgroup/cgroup.procs
	rmdir /sys/fs/cgroup/hmd
	dcontains events-cgroup-kill "$(hl events 2>&1)" "*cgroup.kill*"
}

# A kernel that cannot attach BPF LSM programs (Debian 12's own arm64 kernel,
# 6.1: error 524, no BPF trampolines; init.sh's hmk_vm=fallback, test 84):
# with helper = auto hmilockd runs without the helper, says why in its
# status, and its fanotify gate still refuses an unlisted program on the
# watched tmpfs; with helper = required it refuses to start, naming the reason.
dtests_fallback() {
	local out st i=0
	if ! dsetup auto; then
		dfail fallback-setup "cannot prepare $D or the list"
		return
	fi
	if ! dstart; then
		dfail fallback-auto-start "hmilockd (helper = auto) not ready; its log:"
		dlog
		return
	fi
	dpass fallback-auto-start
	dcontains fallback-status-helper-unavailable "$(hl status 2>&1)" \
		"*helper:*unavailable*cannot attach*error 524*"
	dcontains fallback-status-json-helper-unavailable "$(hl status --json 2>&1)" \
		'*"helper":"unavailable*cannot attach*error 524*'
	dexpect fallback-listed-runs 0 $D/bin/listed
	dexpect fallback-dropped-denied 126 $D/tmp/dropped
	dexpect fallback-altered-copy-denied 126 $D/tmp/alt
	# no helper to refuse it: PID 1 ends it if it does not stop
	hl stop >/dev/null 2>&1 || kill -9 $dpid
	wait $dpid
	sed 's/^helper = auto$/helper = required/' $D/conf >$D/conf.req
	/t/hmilockd --foreground --config $D/conf.req >$D/required.out 2>&1 &
	dpid=$!
	while kill -0 $dpid 2>/dev/null && [ $i -lt 150 ]; do
		sleep 0.2
		i=$((i + 1))
	done
	if kill -0 $dpid 2>/dev/null; then
		kill -9 $dpid
		wait $dpid
		dfail fallback-required-refuses "hmilockd (helper = required) still running after 30 s; its output: $(cat $D/required.out)"
		return
	fi
	wait $dpid
	st=$?
	out=$(cat $D/required.out)
	if [ $st != 0 ]; then dpass fallback-required-refuses; else
		dfail fallback-required-refuses "hmilockd (helper = required) exited 0: $out"
	fi
	dcontains fallback-required-names-reason "$out" \
		"*kernel helper required but unavailable*cannot attach*error 524*"
}

case ${HMK_VM_MODE:-} in
fallback) dtests_fallback ;;
bench) ;;
*) dtests ;;
esac
