# shellcheck shell=bash disable=SC2034
# tests/integration/maint_fixture.sh - helpers for the maintenance and
# trusted-update scripts 60-69 (source after lib.sh and daemon_fixture.sh).
# Each script gets its own cgroup root below the cgroup2 mount
# ([update] cgroup_root), removed at exit with every session cgroup in it.
C2=$(findmnt -n -o TARGET -t cgroup2 | head -1)
CGR=
[ -n "$C2" ] && CGR=$C2/hmilock-test-$$

# setup_mount, maintenance flavour: daemon_fixture's watched tmpfs plus
# what every systemd box has inside its tree, a credential mount
# (/run/credentials/<unit>: ramfs, which refuses the change recorder's
# filesystem mark), so every window, update and apt run here meets one.
CREDS=$W/run/credentials/hmilock-test.service
setup_mount() {
	mk_tmpfs "$W" || return 1
	mkdir -p "$W/bin" "$W/tmp" "$CREDS" || return 1
	mount -t ramfs -o mode=0700,nosuid,nodev,noexec hmilock-creds "$CREDS" || return 1
	_MOUNTS+=("$CREDS")
}

# cgroup_cleanup: move stragglers out, remove the session cgroups and CGR.
cgroup_cleanup() {
	[ -n "$CGR" ] && [ -d "$CGR" ] || return 0
	local d p
	for d in "$CGR"/s*; do
		[ -d "$d" ] || continue
		while read -r p; do echo "$p" >"$C2/cgroup.procs" 2>/dev/null; done <"$d/cgroup.procs"
		rmdir "$d" 2>/dev/null
	done
	rmdir "$CGR" 2>/dev/null
}
on_exit cgroup_cleanup

# write_mconf MODE [EXTRA...]: write_conf plus this script's cgroup root.
write_mconf() {
	local mode=$1
	shift
	write_conf "$mode" path+hash "[update]" "cgroup_root = ${CGR:-/sys/fs/cgroup/none}" "$@"
}

# mstatus FIELD: one field of `hmilock maintenance status --json`.
mstatus() {
	hl maintenance status --json 2>/dev/null | python3 -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v[int(k)] if isinstance(v, list) else v[k]
print(str(v).lower() if isinstance(v, bool) else v)' "$1" 2>/dev/null
}

# listed PATH: is PATH on the list file now (hmilock list)?
listed() { hl list 2>/dev/null | awk '{ print $3 }' | grep -qxF "$1"; }
unlisted() { ! listed "$1"; }

# list_gen: the generation of the list file.
list_gen() { status_field list_generation; }

# kill_daemon: SIGKILL the daemon (the fanotify-only failure mode) and wait.
kill_daemon() {
	kill -KILL "$DPID" 2>/dev/null
	wait "$DPID" 2>/dev/null
	DPID=
}
