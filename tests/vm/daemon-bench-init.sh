#!/bin/busybox sh
# tests/vm/daemon-bench-init.sh - /init of the daemon benchmark guest
# (tests/bench/41-daemon-vm.sh): the whole product (hmilockd in enforce mode,
# its kernel helper loaded, the list filled, confined to the tmpfs /d it
# watches: tests/vm/daemon.sh's dsetup and dstart) against no daemon at all
# (stopped, helper unpinned), alternating ABBA over rounds in one boot.
# Prints "SAMPLE: ROUND on|off exec|cold|dl US" lines (round 0 is the
# warm-up), which the host reduces to ratios, then "RESULT: PASS|FAIL".
# shellcheck source=tests/vm/guest-mounts.sh
. /t/guest-mounts.sh
args=$(vm_param hmk_dbench "11 100 3 400 4")
# shellcheck disable=SC2086 # five numbers
set -- $args
rounds=$1 execs=$2 colds=$3 dls=$4 mb=$5
echo
echo "VM: kernel $(uname -r); rounds $rounds, execs $execs, cold execs $colds of a $mb MB binary, dlopens $dls"
HMK_VM_MODE=bench
# shellcheck source=tests/vm/daemon.sh
. /t/daemon.sh
rc=0
on=0

# bench_on: start hmilockd (helper required); its first exec of each listed
# workload file (hashed, ignore mark placed) is not timed.
bench_on() {
	dstart || { echo "hmk_dbench: hmilockd not ready; its log:"; dlog; return 1; }
	$D/bin/listed && $D/bin/dl $D/bin/lib.so 1 && $D/bin/big || return 1
	on=1
}

# bench_off: no daemon at all: stopped (hmilock stop, exit 4 on a locked
# box), then its helper unpinned (hmilockd --unpin; no admin password set).
bench_off() {
	hl stop >/dev/null 2>&1 || { echo "hmk_dbench: hmilock stop failed"; return 1; }
	wait $dpid
	/t/hmilockd --unpin --config $D/conf >/dev/null || return 1
	[ -e /sys/fs/bpf/hmilock ] && { echo "hmk_dbench: the helper is still pinned"; return 1; }
	on=0
}

# bench_check: an unlisted program on /d is refused with the daemon only.
bench_check() {
	$D/tmp/dropped
	st=$?
	if [ "$st" != "$1" ]; then
		echo "hmk_dbench: unlisted exec with the daemon $2: exit $st, want $1"
		return 1
	fi
}

# settle: wait (10 s at most) for a second in which the guest's CPUs are
# 95 % idle, before each sample. Detaching the helper leaves the kernel some
# work behind (under emulation a good second of system time after an unpin:
# patched kernel text, the programs' deferred release), which the next
# timing must not pay; and a sample that follows an idle second runs faster
# than one that follows work (the host's scheduler favours the emulator's
# threads after a sleep, against the machine's other load), so every sample
# follows one, whatever came before it.
settle() {
	local n=0 a b s1 s2 i1 i2 busy all
	while [ $n -lt 10 ]; do
		read -r _ a b s1 i1 _ </proc/stat
		s1=$((a + b + s1))
		sleep 1
		read -r _ a b s2 i2 _ </proc/stat
		s2=$((a + b + s2))
		busy=$((s2 - s1)) all=$((s2 - s1 + i2 - i1))
		n=$((n + 1))
		[ $((busy * 20)) -le $all ] && break
	done
	settled=$((settled + n))
}

# sample ROUND: each workload once, in the current state; the cold execs
# each follow a reload with the daemon (cache and ignore marks flushed, so
# hmilockd hashes the whole binary before it answers), not timed.
sample() {
	local st=off i=0 t
	[ $on = 1 ] && st=on
	settle
	t=$(/t/hmk_bench spawn "$execs" $D/bin/listed) || return 1
	echo "SAMPLE: $1 $st exec $t"
	t=$(/t/hmk_bench dl "$dls" $D/bin/dl $D/bin/lib.so) || return 1
	echo "SAMPLE: $1 $st dl $t"
	while [ $i -lt "$colds" ]; do
		if [ $on = 1 ]; then hl reload >/dev/null 2>&1 || return 1; fi
		t=$(/t/hmk_bench spawn 1 $D/bin/big) || return 1
		echo "SAMPLE: $1 $st cold $t"
		i=$((i + 1))
	done
}

bench() {
	local r=0 t0
	settled=0
	if ! dsetup; then
		echo "hmk_dbench: cannot prepare $D or the list"
		return 1
	fi
	# a dlopen'd library and a $mb MB binary, both listed, on the watched /d
	cp /t/hmk_preload.so $D/bin/lib.so && cp /t/hmk_true $D/bin/big &&
		dd if=/dev/urandom bs=1048576 count="$mb" >>$D/bin/big 2>/dev/null &&
		hl add $D/bin/lib.so $D/bin/big >/dev/null || return 1
	t0=$(date +%s)
	bench_on && bench_check 126 running || return 1
	bench_off && bench_check 0 stopped || return 1
	echo "hmk_dbench: start, checks and stop in $(($(date +%s) - t0)) s"
	# ABBA: round 0 (warm-up) and the even rounds measure the daemon first
	while [ $r -le "$rounds" ]; do
		if [ $((r % 2)) = 0 ]; then
			bench_on && sample $r && bench_off && sample $r || return 1
		else
			sample $r && bench_on && sample $r && bench_off || return 1
		fi
		echo "hmk_dbench: round $r done at $(($(date +%s) - t0)) s ($settled s settling so far)"
		r=$((r + 1))
	done
}

bench || rc=1
if [ $rc = 0 ]; then echo "RESULT: PASS"; else echo "RESULT: FAIL"; fi
poweroff -f
