#!/bin/bash
# 41-daemon-mount-gaps: what fanotify marks cannot reach, done for real on a
# daemon without the kernel helper (this machine cannot load it), and named:
#  - a user's own tmpfs in a mount namespace of its own (unshare -Urm): the
#    dropped binary there is a gap that status names while user namespaces
#    are allowed; [agent] user_namespaces = off sets the sysctl at start
#    (needs CAP_SYS_RESOURCE: without it, a logged error and the gap stays);
#  - a mount whose mountinfo line the daemon cannot read (a mount point
#    longer than PATH_MAX): counted, logged with the line, named in status.
# The guest suite performs the namespace attack with the helper (denied).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_fixture.sh"
need_root
SYSCTL=/proc/sys/user/max_user_namespaces
userns0=$(cat "$SYSCTL")
restore_userns() { [ "$(cat "$SYSCTL")" = "$userns0" ] || echo "$userns0" >"$SYSCTL"; }
on_exit restore_userns
# CAP_SYS_RESOURCE is bit 24 of the effective set
has_sys_resource() { (($(printf '%d' "0x$(awk '/^CapEff/ {print $2}' /proc/self/status)") >> 24 & 1)); }
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }

setup_mount || { fail "mount-gaps: cannot mount tmpfs"; finish; }
cp /bin/true "$W/bin/true"
cp /bin/false "$W/bin/false"
make_list "$W/bin" || { fail "mount-gaps: hmilock init"; finish; }
chmod 0711 "$T"
chmod 0777 "$W/tmp"
mkdir "$W/tmp/mnt"
cp /bin/true "$W/tmp/dropped" && printf x >>"$W/tmp/dropped" && chmod 0755 "$W/tmp/dropped"

write_conf enforce path+hash "user_namespaces = off"
start_daemon || { fail "mount-gaps: daemon did not start with user_namespaces = off"; finish; }
expect_exec "mount-gaps: dropped binary on the watched mount refused" 126 "$W/tmp/dropped"
gaps=$(status_field helper_gaps)
if has_sys_resource; then
	check "mount-gaps: user_namespaces = off set user.max_user_namespaces to 0" \
		test "$(cat "$SYSCTL")" = 0
	check "mount-gaps: a user can no longer make a user namespace" \
		test "$(rc_of as_nobody unshare -Ur true)" -ne 0
	if grep -q 'other mount namespaces' <<<"$gaps"; then
		fail "mount-gaps: status still names the user-namespace gap: $gaps"
	else
		pass "mount-gaps: no user-namespace gap once they are off"
	fi
	restore_userns
else
	if grep -q "cannot write 0 to $SYSCTL: .*CAP_SYS_RESOURCE" "$DLOG"; then
		pass "mount-gaps: without CAP_SYS_RESOURCE, user_namespaces = off is a logged error naming the sysctl and the capability; the daemon still runs"
	else
		fail "mount-gaps: no error for the sysctl it could not write: $(grep -i namespace "$DLOG" | tail -2)"
	fi
	check "mount-gaps: the sysctl is unchanged ($userns0)" test "$(cat "$SYSCTL")" = "$userns0"
fi

# The attack: as an ordinary user, a tmpfs of one's own in a new user and
# mount namespace, a dropped binary on it, run it.
if [ "$(cat "$SYSCTL")" != 0 ]; then
	# shellcheck disable=SC2016 # expanded by the namespaced shell
	out=$(as_nobody unshare -Urm sh -c 'mount -t tmpfs t "$1" && cp "$2" "$1/x" && "$1/x" && echo RAN' \
		sh "$W/tmp/mnt" "$W/tmp/dropped" 2>&1)
	if grep -q '^RAN$' <<<"$out"; then
		if grep -q 'exec from mounts made in other mount namespaces.*user.max_user_namespaces=[1-9].*user_namespaces = off' <<<"$gaps" &&
			grep -q 'and from copies of the watched mounts there' <<<"$gaps"; then
			pass "mount-gaps: the unshare -Urm tmpfs exec runs without the helper, and status names that gap and the setting that closes it"
		else
			fail "mount-gaps: the unshare -Urm tmpfs exec ran and status does not name it: $gaps"
		fi
	elif grep -q -E 'Permission denied|Operation not permitted' <<<"$out"; then
		pass "mount-gaps: the unshare -Urm tmpfs exec is refused"
	else
		skip "mount-gaps: user namespaces unusable here: $(head -c 200 <<<"$out")"
	fi

	# With [watch] mounts (mount marks), no mount call at all: the copy of
	# the watched mount in a new mount namespace carries no mark.
	out=$(as_nobody unshare -Urm sh -c '"$1" && echo RAN' sh "$W/tmp/dropped" 2>&1)
	if grep -q '^RAN$' <<<"$out"; then
		if grep -q 'and from copies of the watched mounts there' <<<"$gaps"; then
			pass "mount-gaps: the watched mount's copy in a new namespace runs the dropped binary without the helper, and status names that gap"
		else
			fail "mount-gaps: the copy of the watched mount ran the dropped binary and status does not name it: $gaps"
		fi
	elif grep -q -E 'Permission denied|Operation not permitted' <<<"$out"; then
		pass "mount-gaps: the watched mount's copy in a new namespace refuses the dropped binary"
	else
		fail "mount-gaps: exec through the watched mount's copy: $(head -c 200 <<<"$out")"
	fi
fi

# A mount point longer than PATH_MAX: its mountinfo line cannot be read.
deep=$(python3 - "$W/tmp" <<'EOF'
import ctypes, os, sys
os.chdir(sys.argv[1])
for _ in range(22):
    os.mkdir("d" * 200)
    os.chdir("d" * 200)
os.mkdir("m")
libc = ctypes.CDLL(None, use_errno=True)
if libc.mount(b"hmilock-test", b"m", b"tmpfs", 0, None) != 0:
    print("mount failed:", os.strerror(ctypes.get_errno()))
else:
    print("mounted")
EOF
)
if [ "$deep" != mounted ]; then
	fail "mount-gaps: cannot make the deep mount: $deep"
	finish
fi
n=0
while [ "$(status_field mountinfo_unparsed)" != 1 ] && [ $n -lt 50 ]; do
	sleep 0.1
	n=$((n + 1))
done
check "mount-gaps: the unreadable mountinfo line is counted (mountinfo_unparsed 1)" \
	test "$(status_field mountinfo_unparsed)" = 1
check "mount-gaps: the log names the line it could not read" \
	grep -q 'mountinfo line not understood, its mount is NOT marked.*dddd' "$DLOG"
check "mount-gaps: status names the gap" \
	grep -q '1 mountinfo lines not understood' <<<"$(status_field helper_gaps)"
check "mount-gaps: hmilock status prints it on the marks line" \
	grep -q '^marks: .*1 mountinfo lines NOT understood' <<<"$(hl status)"
python3 - "$W/tmp" <<'EOF'
import ctypes, os, sys
os.chdir(sys.argv[1])
for _ in range(22):
    os.chdir("d" * 200)
ctypes.CDLL(None).umount2(b"m", 0)
EOF
sleep 0.3
check "mount-gaps: the count is back to 0 when the mount is gone" \
	test "$(status_field mountinfo_unparsed)" = 0
check "mount-gaps: the daemon is still running" kill -0 "$DPID"
stop_daemon || fail "mount-gaps: daemon did not stop"
finish
