#!/bin/bash
# 35-sandbox: once ready, hmilockd runs under its seccomp filter (Seccomp: 2,
# NoNewPrivs) with only the capabilities it still needs - sys_admin,
# dac_read_search, audit_write, sys_ptrace - in every set of every thread,
# bounding set included, and says so in `hmilock status`. The filter is an
# allow-list that kills: the daemon must survive everything it does at run
# time (allow, deny, cache hits, audit mode, reloads good and bad over the
# socket and by SIGHUP, a mount appearing and going, status, events) and
# exit cleanly on SIGTERM rather than die of SIGSYS.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_fixture.sh"
need_root
# 37-sandbox-release runs this script again on the release build (no
# sanitizer allowances in its filter); L names which one ran.
L=${SANDBOX_LABEL:-}

setup_mount || { fail "sandbox$L: cannot mount tmpfs"; finish; }
cp /bin/true "$W/bin/true"
make_list "$W/bin" || { fail "sandbox$L: hmilock init"; finish; }
cp /bin/false "$W/tmp/unlisted"
write_conf enforce path+hash
start_daemon || { fail "sandbox$L: daemon did not start"; finish; }

# CAP_DAC_READ_SEARCH 2, CAP_SYS_PTRACE 19, CAP_SYS_ADMIN 21, CAP_LEASE 28,
# CAP_AUDIT_WRITE 29
KEEP=0000000030280004
st=/proc/$DPID/status
check "sandbox$L: seccomp filter mode (Seccomp: 2)" grep -q "^Seccomp:[[:space:]]*2$" "$st"
check "sandbox$L: no_new_privs set" grep -q "^NoNewPrivs:[[:space:]]*1$" "$st"
for t in /proc/"$DPID"/task/*; do
	name="thread $(basename "$t") ($(cat "$t/comm"))"
	for set in CapEff CapPrm CapBnd; do
		v=$(awk -v s="$set:" '$1 == s { print $2 }' "$t/status")
		check "sandbox$L: $name $set = $KEEP (got $v)" test "$v" = "$KEEP"
	done
	for set in CapInh CapAmb; do
		v=$(awk -v s="$set:" '$1 == s { print $2 }' "$t/status")
		check "sandbox$L: $name $set empty (got $v)" test "$v" = 0000000000000000
	done
	check "sandbox$L: $name under the filter" grep -q "^Seccomp:[[:space:]]*2$" "$t/status"
done
sb=$(status_field sandbox)
check "sandbox$L: status describes the sandbox ($sb)" grep -q "seccomp kill-default allow-list.*caps sys_admin,dac_read_search,audit_write,sys_ptrace" <<<"$sb"
check "sandbox$L: no thread kept capabilities" test -z "$(grep "NOT dropped" <<<"$sb")"

# Everything the daemon does at run time, under the filter.
expect_exec "sandbox$L: listed binary runs" 0 "$W/bin/true"
expect_exec "sandbox$L: listed binary again (ignore mark)" 0 "$W/bin/true"
expect_exec "sandbox$L: unlisted refused" 126 "$W/tmp/unlisted"
expect_exec "sandbox$L: unlisted refused (cache)" 126 "$W/tmp/unlisted"
hl mode audit >/dev/null && "$W/tmp/unlisted"
hl mode enforce >/dev/null
hl events --json >/dev/null
hl status >/dev/null
cp /bin/echo "$W/bin/echo"
hl add "$W/bin/echo" >/dev/null 2>&1
hl reload >/dev/null
expect_exec "sandbox$L: file listed by a reload runs" 0 "$W/bin/echo" x
printf 'junk' >"$DB.new" && cp "$DB" "$T/db.good" && mv "$DB.new" "$DB"
hl reload >/dev/null 2>&1
kill -HUP "$DPID"
sleep 0.3
mv "$T/db.good" "$DB"
kill -HUP "$DPID"
mkdir -p "$W/tmp/sub"
mount -t tmpfs -o size=8m sbx "$W/tmp/sub" && _MOUNTS+=("$W/tmp/sub")
cp /bin/false "$W/tmp/sub/x"
sleep 0.5
expect_exec "sandbox$L: new mount enforced" 126 "$W/tmp/sub/x"
umount "$W/tmp/sub"
sleep 0.3
check "sandbox$L: daemon alive after the run-time workload" kill -0 "$DPID"
check "sandbox$L: still answers" test "$(status_field ready)" = true
check "sandbox$L: still no errors" test "$(status_field errors)" -eq 0

kill -TERM "$DPID"
for _ in $(seq 50); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
wait "$DPID"
rc=$?
check "sandbox$L: exits 0 on SIGTERM, not killed by SIGSYS (rc $rc)" test "$rc" -eq 0
DPID=
finish
