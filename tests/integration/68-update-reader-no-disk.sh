#!/bin/bash
# 68-update-reader-no-disk: during a trusted update the fanotify reader
# never waits on a disk. The list, the state file and the update journal
# live on an ext4 image that the test freezes (fsfreeze) while the updater
# writes a file (so the recorder has a journal write pending) and then
# execs an unlisted program whose refusal is cached. Before issue 11 the
# reader answered that cache hit by asking the recorder, which waited on the
# frozen journal: every exec on the box hung until the thaw. Now a refusal
# during an update goes to a worker, and a listed program started by
# somebody else meanwhile runs at once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_fixture.sh"
. "$(dirname "$0")/maint_fixture.sh"
need_root
[ -n "$C2" ] || { skip "update reader: no cgroup2 mount on this host"; finish; }
command -v fsfreeze >/dev/null && command -v mkfs.ext4 >/dev/null ||
	{ fail "update reader: fsfreeze and mkfs.ext4 are needed (util-linux, e2fsprogs)"; finish; }

S=$T/state
thaw() { mountpoint -q "$S" && fsfreeze -u "$S" 2>/dev/null; return 0; }
on_exit thaw
mkdir -p "$S"
truncate -s 64M "$T/state.img"
mkfs.ext4 -q -F "$T/state.img" >/dev/null 2>&1 && mount -o loop "$T/state.img" "$S" &&
	_MOUNTS+=("$S") || { fail "update reader: cannot mount an ext4 image"; finish; }
DB=$S/approved.db

setup_mount || { fail "update reader: cannot mount tmpfs"; finish; }
cp /bin/true "$W/bin/true"
cp /bin/echo "$W/bin/listed"
cp /bin/ls "$W/tmp/unlisted"
make_list "$W/bin" || { fail "update reader: hmilock init"; finish; }
write_conf enforce path+hash "workers = 4" "[update]" "cgroup_root = ${CGR:-/sys/fs/cgroup/none}"
start_daemon || { fail "update reader: daemon did not start"; finish; }

# The refusal of the unlisted program is now cached.
expect_exec "update reader: unlisted refused before the update" 126 "$W/tmp/unlisted"

hl update -- bash -c "
	touch $W/tmp/ready
	while [ ! -e $T/go ]; do sleep 0.05; done
	cp /bin/echo $W/tmp/written-while-frozen
	sleep 0.3
	$W/tmp/unlisted >/dev/null 2>&1
	echo \$? > $T/unlisted.rc" >"$T/update.out" 2>&1 &
up=$!
track_pid "$up"
for _ in $(seq 100); do [ -e "$W/tmp/ready" ] && break; sleep 0.1; done
check "update reader: the updater runs" test -e "$W/tmp/ready"
sleep 0.5 # the recorder has journalled ready; nothing is pending

fsfreeze -f "$S" || { fail "update reader: fsfreeze"; finish; }
touch "$T/go"
sleep 1.5 # the updater wrote (journal write now waits) and exec'd unlisted

t0=$(date +%s%N)
timeout -s KILL 5 "$W/bin/listed" ok >"$T/listed.out" 2>&1
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
if [ "$rc" -eq 0 ] && grep -qx ok "$T/listed.out"; then
	pass "update reader: a listed program runs while the journal's disk is frozen (${ms} ms)"
else
	fail "update reader: a listed program hung or failed while the journal's disk was frozen" \
		"(exit $rc after ${ms} ms): the reader waits on the disk"
fi
t0=$(date +%s%N)
timeout -s KILL 5 "$W/bin/true"
rc=$?
check "update reader: a second listed program runs too (exit $rc)" test "$rc" -eq 0

thaw
for _ in $(seq 150); do kill -0 "$up" 2>/dev/null || break; sleep 0.1; done
check "update reader: the update ends after the thaw" bash -c '! kill -0 "$1" 2>/dev/null' _ "$up"
wait "$up" 2>/dev/null
check "update reader: the updater's exec of an unlisted file it did not write was refused" \
	test "$(cat "$T/unlisted.rc" 2>/dev/null)" = 126
# What cp wrote while the journal's disk was frozen may be approved or, when
# cp was reaped before the daemon could read its cgroup, refused as
# unattributed (a documented limit, README): never approved silently.
check "update reader: the session ended with a result" grep -q "added, .* changed" "$T/update.out"
check "update reader: the daemon is alive" kill -0 "$DPID"
finish
