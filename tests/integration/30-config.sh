#!/bin/bash
# 30-config: the configuration file. `hmilockd --check-config` prints
# "configuration OK" for a good file and for the packaged default; a bad
# file (unknown section or key, bad value, key twice, syntax error, missing
# file) makes both --check-config and a real start fail with a non-zero
# exit and an error naming file, line, section and key - and the daemon
# never starts (no socket, no marks). Every bad config below still confines
# the daemon to a tmpfs of this test, in case one were wrongly accepted.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_fixture.sh"
need_root

setup_mount || { fail "config: cannot mount tmpfs"; finish; }
cp /bin/true "$W/bin/true"
make_list "$W/bin" || { fail "config: hmilock init"; finish; }

# good_conf [EXTRA LINE...]: a complete config with every key set.
good_conf() {
	printf '[agent]\nmode = enforce\ndb = %s\nkey = %s\nsocket = %s\nmatch = hash\n' \
		"$DB" "$KEY" "$SOCK"
	printf 'on_error = allow\nworkers = 3\nqueue = 64\ncache_entries = 128\n'
	printf 'helper = off\nstrict_wx = no\n'
	for l in "$@"; do printf '%s\n' "$l"; done
	printf '[watch]\nmounts = %s\n' "$W"
	printf '[metrics]\ntextfile = %s/metrics/hmilock.prom\ninterval = 2s\n' "$T"
	printf '[events]\nsocket = %s/events.sock\n' "$T"
}

good_conf >"$T/good.conf"
out=$("$HMILOCKD" --check-config --config "$T/good.conf" 2>&1)
rc=$?
check "config: --check-config says configuration OK (got '$out')" test "$rc" -eq 0 -a "$out" = "configuration OK"
out=$("$HMILOCKD" --check-config --config "$TOP/packaging/hmilock.conf" 2>&1)
check "config: packaged default config is OK (got '$out')" test "$out" = "configuration OK"

# bad_case NAME WANT_REGEX: the config in $T/bad.conf must be refused by
# --check-config and by a real start, both naming the problem.
bad_case() {
	local name=$1 want=$2 out rc pid
	out=$("$HMILOCKD" --check-config --config "$T/bad.conf" 2>&1)
	rc=$?
	if [ $rc -ne 0 ] && grep -Eq -- "$want" <<<"$out" && [ "$(wc -l <<<"$out")" -eq 1 ]; then
		pass "config: --check-config refuses $name"
	else
		fail "config: --check-config $name: exit $rc, output '$out', want /$want/"
	fi
	rm -f "$SOCK"
	timeout 20 "$HMILOCKD" --foreground --config "$T/bad.conf" >"$T/start.out" 2>&1 &
	pid=$!
	track_pid "$pid"
	wait "$pid"
	rc=$?
	if [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -Eq -- "$want" "$T/start.out" && [ ! -e "$SOCK" ]; then
		pass "config: daemon refuses to start with $name (exit $rc)"
	else
		fail "config: daemon start with $name: exit $rc, socket $([ -e "$SOCK" ] && echo made || echo absent), output '$(head -c 300 "$T/start.out")'"
	fi
}

C=$T/bad.conf
good_conf | sed 's/^mode = enforce$/mode = lock/' >"$C"
bad_case "a bad mode" "bad.conf:2: \[agent\] mode: bad value 'lock' \(expected enforce or audit\)"
good_conf | sed 's/^workers = 3$/workers = 9999/' >"$C"
bad_case "too many workers" "bad.conf:8: \[agent\] workers: bad value '9999' \(expected a number from 0"
good_conf | sed 's/^match = hash$/match = name/' >"$C"
bad_case "a bad match" "bad.conf:6: \[agent\] match: bad value 'name' \(expected path\+hash or hash\)"
good_conf | sed 's/^on_error = allow$/on_error = ignore/' >"$C"
bad_case "a bad on_error" "bad.conf:7: \[agent\] on_error: bad value 'ignore'"
good_conf | sed 's/^queue = 64$/queue = 10/' >"$C"
bad_case "a queue too short" "bad.conf:9: \[agent\] queue: bad value '10'"
good_conf | sed 's/^strict_wx = no$/strict_wx = perhaps/' >"$C"
bad_case "a bad boolean" "bad.conf:12: \[agent\] strict_wx: bad value 'perhaps' \(expected yes or no\)"
good_conf | sed 's/^helper = off$/helper = sometimes/' >"$C"
bad_case "a bad helper" "bad.conf:11: \[agent\] helper: bad value 'sometimes'"
good_conf | sed "s|^db = .*|db = relative.db|" >"$C"
bad_case "a relative db path" "bad.conf:3: \[agent\] db: bad value 'relative.db' \(expected an absolute path"
good_conf "enforcing = yes" >"$C"
bad_case "an unknown key" "bad.conf:13: \[agent\] enforcing: unknown key \(known: mode, db, key"
good_conf "mode = audit" >"$C"
bad_case "a key given twice" "bad.conf:13: \[agent\] mode: given twice \(first on line 2\)"
{ good_conf; printf '[watchdog]\n'; } >"$C"
bad_case "an unknown section" "bad.conf:20: \[watchdog\]: unknown section"
good_conf | sed "s|^textfile = .*|textfile = hmilock.prom|" >"$C"
bad_case "a relative metrics file" "bad.conf:16: \[metrics\] textfile: bad value 'hmilock.prom' \(expected off or an absolute path ending in .prom"
good_conf | sed "s|^interval = .*|interval = 0|" >"$C"
bad_case "a zero metrics interval" "bad.conf:17: \[metrics\] interval: bad value '0' \(expected a duration from 1s to 1h"
good_conf | sed "s|^mounts = .*|mounts = $W relative/dir|" >"$C"
bad_case "a bad mounts value" "bad.conf:14: \[watch\] mounts: bad value '.*relative/dir' \(expected absolute paths"
good_conf "this line has no equals sign" >"$C"
bad_case "a syntax error" "bad.conf:13: syntax error: 'this line has no equals sign'"
good_conf | sed 's/^mode = enforce$/mode = enforce\x01/' >"$C"
bad_case "a control byte in a value" "bad.conf:2: \[agent\] mode: bad value 'enforce\\\\x01'"

# A missing or unreadable config file is an error naming the file.
out=$("$HMILOCKD" --check-config --config "$T/absent.conf" 2>&1)
rc=$?
if [ $rc -ne 0 ] && grep -q "$T/absent.conf: cannot read configuration: No such file or directory" <<<"$out"; then
	pass "config: missing file refused, named"
else
	fail "config: missing file: exit $rc, output '$out'"
fi
out=$("$HMILOCKD" --check-config --config "$T" 2>&1)
rc=$?
if [ $rc -ne 0 ] && grep -q "$T: cannot read configuration: Is a directory" <<<"$out"; then
	pass "config: a directory as config refused, named"
else
	fail "config: directory as config: exit $rc, output '$out'"
fi

# The good config really starts (the refusals above are about the file).
cp "$T/good.conf" "$CONF"
if start_daemon; then
	check "config: good config starts, match = hash in force" test "$(status_field match)" = hash
	check "config: on_error = allow in force" test "$(status_field on_error_policy)" = allow
	check "config: workers = 3 in force" test "$(status_field workers)" -eq 3
	check "config: cache_entries = 128 in force" test "$(status_field cache_capacity)" -ge 128
	check "config: SIGTERM stops it" stop_daemon
else
	fail "config: good config did not start"
fi
finish
