#!/bin/bash
# 27-daemon-start-errors: hmilockd refuses to start - with a clear error
# naming the input, exit status 1 (2 for usage and configuration errors) and
# nothing left marked - on a missing or unreadable list, a list with a broken
# MAC, a bad key, a watch point that is not a mount point, and when the
# kernel helper is required but unavailable. --check-config, the options,
# and the background start (parent exits once ready) are checked too.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_fixture.sh"
need_root

setup_mount || { fail "start: cannot mount tmpfs"; finish; }
cp /bin/true "$W/bin/true"
make_list "$W/bin" || { fail "start: hmilock init"; finish; }
cp /bin/false "$W/tmp/unlisted"
cp "$DB" "$T/good.db"
cp "$KEY" "$T/good.key"

# refuses NAME PATTERN [ARGS]: the daemon exits 1 within 10 s, says PATTERN,
# and the watched mount is not enforced afterwards.
refuses() {
	local name=$1 pat=$2 rc
	shift 2
	timeout 10 "$HMILOCKD" --foreground --config "$CONF" "$@" >"$T/start.out" 2>&1
	rc=$?
	if [ $rc -ne 1 ]; then
		fail "$name: exit $rc, want 1: $(head -c 300 "$T/start.out")"
	elif ! grep -qi -- "$pat" "$T/start.out"; then
		fail "$name: no '$pat' in: $(head -c 300 "$T/start.out")"
	else
		pass "$name"
	fi
	"$W/tmp/unlisted" 2>/dev/null
	[ $? -eq 1 ] || fail "$name: mount still enforced after the refusal"
}

write_conf enforce path+hash
expect_exec "start: --check-config accepts a good config" 0 "$HMILOCKD" --check-config --config "$CONF"
check "start: --check-config says configuration OK" grep -qx "configuration OK" "$T/exec.out"
printf '[agent]\nmode = enforce\nbogus_key = 1\n' >"$T/bad.conf"
expect_exec "start: --check-config refuses an unknown key" 2 "$HMILOCKD" --check-config --config "$T/bad.conf"
check "start: --check-config names the key" grep -q bogus_key "$T/exec.out"
expect_exec "start: a bad config refuses to start" 2 "$HMILOCKD" --foreground --config "$T/bad.conf"
expect_exec "start: unknown option refused" 2 "$HMILOCKD" --frobnicate
expect_exec "start: bad --helper value refused" 2 "$HMILOCKD" --helper=maybe --config "$CONF"
expect_exec "start: stray argument refused" 2 "$HMILOCKD" --config "$CONF" extra
# --unpin reads the admin password (for a helper that enforces) first
expect_exec "start: --unpin with an unreadable --password-file refused" 3 \
	"$HMILOCKD" --unpin --config "$CONF" --password-file "$T/no-such-password"
check "start: --unpin names the password file" grep -q "password file $T/no-such-password" "$T/exec.out"
printf 'pw\n' >"$T/pw-open" && chmod 644 "$T/pw-open"
expect_exec "start: --unpin with a password file others may read refused" 3 \
	"$HMILOCKD" --unpin --config "$CONF" --password-file "$T/pw-open"
check "start: --unpin says why, naming the file" grep -q "$T/pw-open: want a regular file only its owner may read" "$T/exec.out"
expect_exec "start: --unpin with an empty HMILOCK_PASSWORD refused" 3 \
	env HMILOCK_PASSWORD= "$HMILOCKD" --unpin --config "$CONF"
check "start: --unpin names HMILOCK_PASSWORD" grep -q "HMILOCK_PASSWORD: empty" "$T/exec.out"

rm -f "$DB"
refuses "start: missing list refused" "$DB"
python3 - "$T/good.db" "$DB" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[len(b) // 2] ^= 1
open(sys.argv[2], "wb").write(b)
PY
refuses "start: list with a broken MAC refused" "mac"
cp "$T/good.db" "$DB"
chmod 000 "$DB"
# root reads mode-000 files anyway; make it unreadable for real: a directory.
rm -f "$DB" && mkdir "$DB"
refuses "start: unreadable list refused" "$DB"
rmdir "$DB" && cp "$T/good.db" "$DB"
chmod 0644 "$KEY"
refuses "start: key readable by others refused" "key"
chmod 0600 "$KEY"
head -c 16 "$T/good.key" >"$KEY"
refuses "start: short key refused" "key"
cp "$T/good.key" "$KEY" && chmod 0600 "$KEY"

mkdir -p "$W/plain"
write_conf enforce path+hash
sed -i "s|^mounts = .*|mounts = $W/plain|" "$CONF"
refuses "start: watch point that is not a mount point refused" "not a mount point"
sed -i "s|^mounts = .*|mounts = $W/nonexistent|" "$CONF"
refuses "start: missing watch point refused" "nonexistent"
write_conf enforce path+hash

if grep -qw bpf /sys/kernel/security/lsm 2>/dev/null; then
	skip "start: --helper=required refused: BPF LSM is active here"
else
	refuses "start: --helper=required refused without BPF LSM" "helper" --helper=required
fi

# Background start: the parent returns 0 once the daemon is ready.
expect_exec "start: background start returns once ready" 0 timeout 20 "$HMILOCKD" --config "$CONF"
bgpid=$(status_field pid)
if [ -n "$bgpid" ]; then
	track_pid "$bgpid"
	pass "start: background daemon answers status (pid $bgpid)"
	expect_exec "start: background daemon enforces" 126 "$W/tmp/unlisted"
	kill -TERM "$bgpid"
	timeout 10 bash -c "while kill -0 $bgpid 2>/dev/null; do sleep 0.1; done"
	check "start: background daemon stops on SIGTERM" test $? -eq 0
else
	fail "start: background daemon answers status"
fi
rm -f "$DB"
expect_exec "start: background start failure returns 1" 1 timeout 20 "$HMILOCKD" --config "$CONF"
check "start: background failure names the list" grep -q "$DB" "$T/exec.out"
finish
