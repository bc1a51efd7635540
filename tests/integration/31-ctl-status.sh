#!/bin/bash
# 31-ctl-status: `hmilock status|mode|reload` over the control socket, text
# and --json: every documented status field is there with the right type,
# the counters move with execs, a mode switch takes effect at once, reload
# reports the new generation or why the old list stays, bad words are usage
# errors (exit 2), and with no daemon the CLI names the socket (exit 3).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_fixture.sh"
need_root

setup_mount || { fail "ctl: cannot mount tmpfs"; finish; }
cp /bin/true "$W/bin/true"
make_list "$W/bin" || { fail "ctl: hmilock init"; finish; }
cp /bin/true "$W/tmp/unlisted"

# Before the daemon: a clear error naming the socket, exit 3.
hl status >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 3 ] && grep -q "cannot reach hmilockd at $SOCK" "$T/err" && grep -q "is hmilockd running" "$T/err"; then
	pass "ctl: no daemon: exit 3, socket named"
else
	fail "ctl: no daemon: exit $rc: $(cat "$T/err")"
fi

write_conf enforce path+hash
start_daemon || { fail "ctl: daemon did not start"; finish; }

# JSON status: every field, with its type.
hl status --json >"$T/status.json" 2>"$T/err"
check "ctl: status --json exits 0" test $? -eq 0
python3 - "$T/status.json" <<'EOF' >"$T/py.out" 2>&1
import json, sys
s = json.load(open(sys.argv[1]))
ints = ["pid", "uptime_s", "list_generation", "list_entries", "events", "allowed", "denied",
        "would_deny", "errors", "on_error", "queue_full", "self_allowed", "cache_hits",
        "cache_misses", "cache_entries", "cache_capacity", "ignore_marks", "queue_depth",
        "max_queue_depth", "workers", "decisions_timed", "decision_p50_us", "decision_p99_us",
        "marks", "mounts_marked_later", "log_dropped", "audit_records", "audit_failed"]
strs = ["mode", "list_path", "match", "on_error_policy", "sandbox", "helper", "audit"]
bad = [k for k in ints if not isinstance(s.get(k), int) or isinstance(s.get(k), bool)]
bad += [k for k in strs if not isinstance(s.get(k), str)]
bad += [k for k in ["ready", "audit_ok"] if not isinstance(s.get(k), bool)]
if not isinstance(s.get("cache_hit_rate"), (int, float)):
    bad.append("cache_hit_rate")
if bad:
    sys.exit("missing or mistyped: " + " ".join(bad))
assert s["mode"] == "enforce" and s["ready"] is True, s
assert s["list_entries"] == 1 and s["marks"] >= 1 and s["workers"] >= 1, s
ops = ["exec", "mmap", "mprotect", "anon-exec", "write", "truncate", "setattr", "unlink",
       "rename", "kill", "ptrace", "script", "bpf", "umount", "wx", "proc-mem",
       "link", "mount", "read"]
for k in ["denied_by", "would_deny_by"]:
    by = s[k]
    assert sorted(by) == ["fanotify", "helper"], by
    assert list(by["fanotify"]) == ["exec"] and sorted(by["helper"]) == sorted(ops), by
    assert all(v == 0 for v in by["helper"].values()), "no helper here: %r" % by
assert s["denied_by"]["fanotify"]["exec"] == s["denied"], s
assert s["would_deny_by"]["fanotify"]["exec"] == s["would_deny"], s
assert s["helper_events_lost"] == 0 and s["helper_unchecked"] == 0, s
print("ok")
EOF
check "ctl: status --json has every field, typed ($(tail -1 "$T/py.out"))" grep -qx ok "$T/py.out"
check "ctl: status names the list file" test "$(status_field list_path)" = "$DB"
# The files that decide enforcement (HMK_PROTECTED_FILES), each named with
# its path and whether the kernel helper protects it (none here: no helper).
python3 - "$T/status.json" "$DB" "$CONF" <<'EOF' >"$T/pf.out" 2>&1
import json, sys
s, db, conf = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
p = {f["what"]: f for f in s["protected"]}
want = ["configuration", "approved list", "previous list", "list key", "admin password",
        "state file", "maintenance journal", "import public key", "systemd unit",
        "hmilockd binary", "hmilock binary"]
assert list(p) == want, list(p)
assert p["approved list"]["path"] == db and p["configuration"]["path"] == conf, p
assert p["approved list"]["state"] == "not protected", p
assert p["hmilockd binary"]["path"].endswith("/hmilockd"), p
assert all(f["state"] in ("protected", "not protected", "absent") for f in p.values()), p
print("ok %d files, %d present" % (len(p), sum(f["state"] != "absent" for f in p.values())))
EOF
check "ctl: status lists the protected files with their paths ($(tail -1 "$T/pf.out"))" grep -q '^ok' "$T/pf.out"
hl status >"$T/status.txt" 2>&1
check "ctl: text status lists them under protected:" grep -q '^protected:  configuration ' "$T/status.txt"

a0=$(status_field allowed)
d0=$(status_field denied)
"$W/bin/true"
"$W/tmp/unlisted" 2>/dev/null
"$W/tmp/unlisted" 2>/dev/null
check "ctl: allowed counter moved" test "$(status_field allowed)" -gt "$a0"
check "ctl: denied counter moved by 2" test "$(status_field denied)" -eq $((d0 + 2))
check "ctl: a cache hit counted" test "$(status_field cache_hits)" -ge 1
check "ctl: hit rate in (0, 1]" python3 -c "import sys; r = float(sys.argv[1]); sys.exit(not 0 < r <= 1)" "$(status_field cache_hit_rate)"

# Text status, for humans.
hl status >"$T/status.txt" 2>&1
for f in "mode: *enforce" "list: *$DB, generation 1, 1 entries" "decisions: .* denied" \
	"denied by: *fanotify: exec [1-9][0-9]*\$" \
	"cache: .*hit rate" "marks: *[1-9]" "sandbox: *seccomp" "helper:" "audit:"; do
	check "ctl: text status has '$f'" grep -q "$f" "$T/status.txt"
done

# mode: show, switch, bad words.
check "ctl: mode with no word prints the mode" test "$(hl mode)" = enforce
out=$(hl mode audit)
check "ctl: mode audit answers (got '$out')" test "$out" = "mode audit (was enforce)"
check "ctl: status says audit" test "$(status_field mode)" = audit
expect_exec "ctl: unlisted runs in audit mode" 0 "$W/tmp/unlisted"
check "ctl: would_deny counted" test "$(status_field would_deny)" -ge 1
out=$(hl mode enforce --json)
check "ctl: mode enforce --json ($out)" python3 -c 'import json, sys; o = json.loads(sys.argv[1]); sys.exit(not (o["ok"] is True and o["mode"] == "enforce"))' "$out"
expect_exec "ctl: unlisted refused again after the switch" 126 "$W/tmp/unlisted"
for word in lock Enforce maintenance ""; do
	hl mode "$word" >"$T/out" 2>"$T/err"
	rc=$?
	if [ $rc -eq 2 ] && grep -q "is not a mode" "$T/err"; then
		pass "ctl: mode '$word' refused with exit 2"
	else
		fail "ctl: mode '$word': exit $rc: $(cat "$T/err")"
	fi
done
hl mode audit enforce >/dev/null 2>&1
check "ctl: two modes is a usage error" test $? -eq 2
check "ctl: mode unchanged by the refusals" test "$(status_field mode)" = enforce
hl status extra >/dev/null 2>&1
check "ctl: status with an operand is a usage error" test $? -eq 2
hl status --bogus >/dev/null 2>&1
check "ctl: unknown option is a usage error" test $? -eq 2

# reload: good, then broken (refused, exit 1, old list stays), then JSON.
cp /bin/echo "$W/bin/echo"
hl add "$W/bin/echo" >/dev/null 2>&1 || fail "ctl: hmilock add"
out=$(hl reload 2>&1)
rc=$?
if [ $rc -eq 0 ] && grep -q "generation 2, 2 entries" <<<"$out"; then
	pass "ctl: reload reports the new generation"
else
	fail "ctl: reload: exit $rc: $out"
fi
check "ctl: status list_entries 2 after reload" test "$(status_field list_entries)" -eq 2
cp "$DB" "$T/db.good"
# replaced the way a writer replaces it (rename), never rewritten in place
printf 'not a list' >"$DB.new" && mv "$DB.new" "$DB"
hl reload >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 1 ] && grep -q "reload refused, the list in force stays" "$T/err"; then
	pass "ctl: broken list: reload refused with exit 1 and the reason"
else
	fail "ctl: broken list reload: exit $rc: $(cat "$T/err")"
fi
hl reload --json >"$T/out" 2>/dev/null
check "ctl: refused reload --json says ok false" python3 -c 'import json, sys; o = json.load(open(sys.argv[1])); sys.exit(not (o["ok"] is False and "refused" in o["message"]))' "$T/out"
check "ctl: old list still in force (generation 2)" test "$(status_field list_generation)" -eq 2
expect_exec "ctl: listed binary still runs" 0 "$W/bin/echo"
cp "$T/db.good" "$DB.new" && mv "$DB.new" "$DB"
out=$(hl reload --json)
check "ctl: reload --json ok ($out)" python3 -c 'import json, sys; o = json.loads(sys.argv[1]); sys.exit(not (o["ok"] is True and "reloaded" in o["message"]))' "$out"

check "ctl: SIGTERM stops the daemon" stop_daemon
hl status >/dev/null 2>"$T/err"
rc=$?
check "ctl: stopped daemon: exit 3 naming the socket" test $rc -eq 3 -a -n "$(grep "$SOCK" "$T/err")"
finish
