#!/bin/bash
# 69-maint-stale: hmilockd and the CLI both write the list. A window's end
# plans against the list the daemon has loaded; when `hmilock add` wrote a
# newer generation meanwhile (no reload), the end must not write over it:
# it is refused naming both generations, nothing is written, the CLI's
# change stays on the list and the window's changes wait for review. After
# a reload the review approves them on top of the CLI's change.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_fixture.sh"
. "$(dirname "$0")/maint_fixture.sh"
need_root

# disk_gen: the generation in the list file's header (offset 16, LE).
disk_gen() { python3 -c 'import struct, sys; print(struct.unpack_from("<Q", open(sys.argv[1], "rb").read(24), 16)[0])' "$DB"; }

setup_mount || { fail "stale: cannot mount tmpfs"; finish; }
cp /bin/true "$W/bin/true"
make_list "$W/bin" || { fail "stale: hmilock init"; finish; }
write_mconf enforce
start_daemon || { fail "stale: daemon did not start"; finish; }
gen0=$(list_gen)

hl maintenance begin >/dev/null || fail "stale: begin"
cp /bin/echo "$W/tmp/newprog"
hl maintenance status >/dev/null 2>&1
# Meanwhile the CLI writes the next generation; the daemon is not told.
cp /bin/true "$T/outside"
expect_exec "stale: hmilock add during the window" 0 hl add "$T/outside"
check "stale: the CLI wrote generation $((gen0 + 1))" test "$(disk_gen)" -eq $((gen0 + 1))
cp "$DB" "$T/db.copy"

hl maintenance end >"$T/end.out" 2>&1
rc=$?
check "stale: end is refused (exit 1)" test $rc -eq 1
grep_msg="is now at generation $((gen0 + 1)), this change was made against generation $gen0"
check "stale: the refusal names both generations" grep -q "$grep_msg" "$T/end.out"
check "stale: the refusal says nothing was written" grep -q "nothing was written" "$T/end.out"
check "stale: the refusal says how to go on (reload)" grep -q "after .hmilock reload" "$T/end.out"
check "stale: the list file is the CLI's, byte for byte" cmp -s "$DB" "$T/db.copy"
check "stale: the CLI's add is still listed" listed "$T/outside"
check "stale: the window's binary is not listed yet" unlisted "$W/tmp/newprog"
check "stale: the changes wait for review" test "$(mstatus state)" = pending-review
check "stale: locked while they wait" test "$(status_field mode)" = enforce

expect_exec "stale: reload" 0 hl reload
printf 'y\n' | hl maintenance end --review >"$T/review.out" 2>&1
check "stale: review after reload approves" grep -q "1 added" "$T/review.out"
check "stale: generation $((gen0 + 2)) on disk" test "$(disk_gen)" -eq $((gen0 + 2))
check "stale: the CLI's add survived the review" listed "$T/outside"
check "stale: the window's binary is listed" listed "$W/tmp/newprog"
expect_exec "stale: the window's binary runs locked" 0 "$W/tmp/newprog" x
finish
