#!/bin/bash
# 82-prescan-maint: hmilockd prescans what `maintenance end` and a trusted
# update (`hmilock update -- CMD`, and the package hook's --commit) are about
# to approve, on the same fd it hashes, under its seccomp filter: a sample
# named by the ClamAV databases (made here with sigtool) or a blocklist is
# not approved and stays refused while locked, the rest is approved, the
# command names it and exits 1, an event (deny, known-bad) and the
# hmilock_known_bad_total metric count it. A database that does not load
# fails the commit: nothing approved, the changes wait for review; [prescan]
# is read anew from the configuration file at each end.
# --no-prescan approves anyway and the list's provenance in status says so;
# `verify --prescan` reports known-bad files on the list to hmilockd.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_fixture.sh"
. "$(dirname "$0")/maint_fixture.sh"
. "$(dirname "$0")/prescan_fixture.sh"
need_root
[ -n "$C2" ] || { skip "prescan: no cgroup2 mount on this host"; finish; }

ps_make || { fail "prescan: cannot make the samples and databases with sigtool"; finish; }
setup_mount || { fail "prescan: cannot mount tmpfs"; finish; }
cp /bin/true "$W/bin/true"
printf '[prescan]\ndatabases = %s\n' "$PS_SIGS" >"$T/cli.conf"
make_list "$W/bin" || { fail "prescan: hmilock init"; finish; }
METRICS_FILE=$T/hmilock.prom METRICS_INTERVAL=1s
write_mconf enforce "[prescan]" "databases = $PS_SIGS"
start_daemon || { fail "prescan: daemon did not start"; finish; }
check "status: the list's provenance: every entry prescanned" test "$(status_field list_prescanned)" = true
hl status >"$T/status.txt" 2>&1
check "status text: provenance line" grep -q "^provenance: every entry prescanned when approved" "$T/status.txt"
gen0=$(list_gen)

# ---- maintenance end ----
hl maintenance begin >/dev/null 2>&1
cp /bin/echo "$W/bin/echo"
cp "$PS_SAMPLES/evil-elf" "$W/bin/helper"
cp "$PS_SAMPLES/evil.sh" "$W/bin/startup.sh"
hl maintenance end >"$T/end.out" 2>&1
rc=$?
check "maintenance end: exit 1 when the prescan refused files (rc $rc)" test $rc -eq 1
check "maintenance end: the clean file added" grep -q "1 added" "$T/end.out"
check "maintenance end: names the known-bad files" grep -q "2 NOT approved as known-bad: $W/bin/helper ($PS_HASH_SIG), $W/bin/startup.sh ($PS_BODY_SIG)" "$T/end.out"
check "maintenance end: says what it means" grep -q "the prescan named files known-bad" "$T/end.out"
check "maintenance end: the daemon log names each" grep -q "NOT approved, known-bad: $W/bin/helper ($PS_HASH_SIG)" "$DLOG"
check "maintenance end: the window is closed" test "$(mstatus state)" = none
check "maintenance end: one generation more" test "$(list_gen)" -eq $((gen0 + 1))
check "maintenance end: echo listed" listed "$W/bin/echo"
check "maintenance end: helper not listed" unlisted "$W/bin/helper"
check "maintenance end: startup.sh not listed" unlisted "$W/bin/startup.sh"
expect_exec "locked: the approved file runs" 0 "$W/bin/echo" hi
expect_exec "locked: the known-bad ELF is refused" 126 "$W/bin/helper"
expect_exec "locked: the known-bad script is refused" 126 "$W/bin/startup.sh"
hl events --json >"$T/ev.json" 2>/dev/null
check "events: deny known-bad approve, for each" python3 -c '
import json, sys
ev = [e for e in json.load(open(sys.argv[1])) if e["reason"] == "known-bad"]
got = {e["path"]: (e["verdict"], e["op"]) for e in ev}
for p in (sys.argv[2] + "/bin/helper", sys.argv[2] + "/bin/startup.sh"):
    assert got.get(p) == ("deny", "approve"), (p, got)' "$T/ev.json" "$W"
check "status: known_bad counted" test "$(status_field known_bad)" -eq 2
wait_for 5 grep -qx "hmilock_known_bad_total 2" "$METRICS_FILE"
check "metrics: hmilock_known_bad_total 2" grep -qx "hmilock_known_bad_total 2" "$METRICS_FILE"
check "status: still every entry prescanned" test "$(status_field list_prescanned)" = true

# ---- trusted update (hmilock update -- CMD) ----
gen1=$(list_gen)
hl update -- cp "$PS_SAMPLES/evil-elf" "$W/bin/updated-helper" >"$T/u1.out" 2>&1
rc=$?
check "update: exit 1 when the prescan refused what CMD wrote (rc $rc)" test $rc -eq 1
check "update: names it" grep -q "NOT approved as known-bad: $W/bin/updated-helper ($PS_HASH_SIG)" "$T/u1.out"
check "update: not listed" unlisted "$W/bin/updated-helper"
expect_exec "update: the known-bad file stays refused" 126 "$W/bin/updated-helper"
hl update -- cp /bin/cat "$W/bin/cat" >"$T/u2.out" 2>&1
check "update: a clean file: exit 0" test $? -eq 0
check "update: the clean file is listed" listed "$W/bin/cat"
# the package-manager hook: --begin moves the package manager (here a
# subshell) into the session, --commit ends it (apt's DPkg::Pre-/Post-Invoke).
# The subshell writes with shell builtins and stays alive through the
# commit, as apt does: without the kernel helper a writer is placed by its
# cgroup only while it lives.
(
	hl update --begin --pid "$BASHPID" >/dev/null 2>&1 || exit 9
	printf '%s\n' "$(cat "$PS_SAMPLES/evil.sh")" >"$W/bin/hooked.sh"
	printf '#!/bin/sh\necho hooked-clean\n' >"$W/bin/clean-hooked.sh"
	hl update --commit >"$T/u3.out" 2>&1
	echo $? >"$T/u3.rc"
)
check "update hook: --begin" test $? -eq 0
rc=$(cat "$T/u3.rc" 2>/dev/null)
check "update hook: --commit exits 1 on a known-bad file (rc $rc)" test "$rc" = 1
check "update hook: names it" grep -q "NOT approved as known-bad: $W/bin/hooked.sh ($PS_BODY_SIG)" "$T/u3.out"
check "update hook: not listed" unlisted "$W/bin/hooked.sh"
check "update hook: the clean file is listed" listed "$W/bin/clean-hooked.sh"

# ---- a database that does not load: nothing approved, changes kept for review ----
# ([prescan] is read from the configuration file at each end: no restart)
ps_corrupt_copy "$T/badsigs"
write_mconf enforce "[prescan]" "databases = $T/badsigs"
gen2=$(list_gen)
hl maintenance begin >/dev/null 2>&1
cp /bin/ls "$W/bin/ls"
hl maintenance end >"$T/end2.out" 2>&1
rc=$?
check "corrupt database: maintenance end fails (rc $rc)" test $rc -ne 0
check "corrupt database: the list was NOT changed" grep -q "the list was NOT changed" "$T/end2.out"
check "corrupt database: names the database" grep -q "\[prescan\]: signature database $T/badsigs does not load" "$T/end2.out"
check "corrupt database: the changes wait for review" test "$(mstatus state)" = pending-review
check "corrupt database: same generation" test "$(list_gen)" = "$gen2"
check "corrupt database: ls not listed" unlisted "$W/bin/ls"
cp "$PS_SIGS/test.ndb" "$T/badsigs/test.ndb" # mended: the commit loads the databases anew
hl maintenance end >"$T/end3.out" 2>&1
check "mended database: the review's end approves" test $? -eq 0
check "mended database: ls listed" listed "$W/bin/ls"

# ---- --no-prescan: approved anyway, logged, and the list says so ----
hl maintenance begin >/dev/null 2>&1
cp "$PS_SAMPLES/evil-elf" "$W/bin/helper3"
hl maintenance end --no-prescan >"$T/end4.out" 2>&1
check "maintenance end --no-prescan: exit 0" test $? -eq 0
check "maintenance end --no-prescan: approved" listed "$W/bin/helper3"
check "maintenance end --no-prescan: logged" grep -q "no-prescan: the changes are approved without a prescan" "$DLOG"
check "status: provenance says the prescan was skipped" test "$(status_field list_no_prescan)" = true
hl status >"$T/status2.txt" 2>&1
check "status text: provenance names --no-prescan" grep -q "^provenance: .*--no-prescan" "$T/status2.txt"

# ---- verify --prescan: hmilockd counts what it finds ----
kb0=$(status_field known_bad)
hl verify --prescan >"$T/v.out" 2>"$T/v.err"
check "verify --prescan: exit 1" test $? -eq 1
check "verify --prescan: names helper3" grep -q "^known-bad *$W/bin/helper3 ($PS_HASH_SIG" "$T/v.out"
check "verify --prescan: counted by hmilockd" test "$(status_field known_bad)" -eq $((kb0 + 1))
hl events --json >"$T/ev2.json" 2>/dev/null
check "verify --prescan: an event (deny known-bad verify)" python3 -c '
import json, sys
ev = [e for e in json.load(open(sys.argv[1])) if e["op"] == "verify"]
assert ev and ev[-1]["path"] == sys.argv[2] and ev[-1]["reason"] == "known-bad", ev' "$T/ev2.json" "$W/bin/helper3"
check "verify --prescan: the daemon log says it stays approved" grep -q "known-bad on the list: $W/bin/helper3 ($PS_HASH_SIG).*stays approved until the operator removes it" "$DLOG"
check "daemon: no internal errors" test "$(status_field errors)" -eq 0
finish
