#!/bin/bash
# 34-audit: each deny (and each would-deny in audit mode) becomes a USER_AVC
# record in the Linux audit log that `ausearch -m USER_AVC -i` finds, with
# the path (hex-encoded in the raw log when it holds a blank, decoded by
# -i), the sha256, the verdict, the reason and the pid; allows are not
# logged one by one. Starts auditd (-n, in the background) when none runs,
# stops it by PID and restores the kernel's audit enabled flag; an auditd
# already running is used and left alone.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_fixture.sh"
need_root
for t in auditd auditctl ausearch; do
	command -v $t >/dev/null || {
		skip "audit: $t not installed (Debian package auditd)"
		finish
	}
done

# audit_pid: the pid of the auditd the kernel sends records to (0: none).
audit_pid() { auditctl -s 2>/dev/null | awk '$1 == "pid" { print $2 }'; }

# stop_auditd: stop the auditd started here and put the kernel's audit
# "enabled" flag back (auditd turns auditing on when it starts).
stop_auditd() {
	kill -TERM "$AUDITD" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$AUDITD" 2>/dev/null || break; sleep 0.1; done
	wait "$AUDITD" 2>/dev/null
	auditctl -e "$ENABLED" >/dev/null 2>&1
}

if [ "$(audit_pid)" = 0 ]; then
	ENABLED=$(auditctl -s 2>/dev/null | awk '$1 == "enabled" { print $2 }')
	mkdir -p /var/log/audit
	auditd -n >"$T/auditd.out" 2>&1 &
	AUDITD=$!
	track_pid "$AUDITD"
	on_exit stop_auditd
	for _ in $(seq 50); do
		[ "$(audit_pid)" != 0 ] && break
		sleep 0.1
	done
fi
apid=$(audit_pid)
if [ "${apid:-0}" = 0 ]; then
	fail "audit: no auditd registered with the kernel: $(cat "$T/auditd.out" 2>/dev/null)"
	finish
fi
pass "audit: auditd pid $apid receives the records"

setup_mount || { fail "audit: cannot mount tmpfs"; finish; }
cp /bin/true "$W/bin/true"
make_list "$W/bin" || { fail "audit: hmilock init"; finish; }
tag=$$-$RANDOM
plain=$W/tmp/denied-$tag
blank="$W/tmp/with blank-$tag"
would=$W/tmp/would-$tag
for f in "$plain" "$blank" "$would"; do cp /bin/false "$f"; done
sum=$(sha256sum "$plain" | cut -d' ' -f1)

write_conf enforce path+hash
start_daemon || { fail "audit: daemon did not start"; finish; }
check "audit: status says auditd is there" grep -q "auditd pid $apid" <<<"$(status_field audit)"
check "audit: status audit_ok" test "$(status_field audit_ok)" = true

"$W/bin/true"
"$plain" 2>/dev/null
"$blank" 2>/dev/null
hl mode audit >/dev/null
"$would"
hl mode enforce >/dev/null

# find_record NAME REGEX: ausearch -i output has a USER_AVC line matching.
find_record() {
	local name=$1 re=$2
	for _ in $(seq 50); do
		ausearch -m USER_AVC -i --start today >"$T/aus.out" 2>/dev/null
		if grep -Eq -- "$re" "$T/aus.out"; then
			pass "audit: $name"
			return 0
		fi
		sleep 0.1
	done
	fail "audit: $name: no record matching /$re/ in: $(grep -F "$tag" "$T/aus.out" | head -5)"
}
find_record "deny record found by ausearch -m USER_AVC" \
	"type=USER_AVC .*op=exec verdict=deny reason=not-listed pid=[0-9]+ exe=.* path=$plain sha256=$sum res=failed"
find_record "path with a blank decoded by ausearch -i" "verdict=deny .*path=$blank sha256="
find_record "would-deny record in audit mode" "verdict=would-deny reason=not-listed .*path=$would .*res=success"
grep -q "path=$W/bin/true" "$T/aus.out" && fail "audit: an allow was logged" || pass "audit: allows are not logged one by one"
# The raw log holds the blank path hex-encoded: one field, no quoting games.
hex=$(printf '%s' "$blank" | od -An -tx1 | tr -d ' \n' | tr a-f A-F)
check "audit: raw record carries the odd path hex-encoded" grep -q "path=$hex" /var/log/audit/audit.log
check "audit: records counted in status" test "$(status_field audit_records)" -ge 3
check "audit: no record failed" test "$(status_field audit_failed)" -eq 0
check "audit: SIGTERM stops the daemon" stop_daemon
finish
