#!/bin/bash
# 21-daemon-match: match = hash allows an identical copy anywhere on the
# watched mount and refuses a changed one; deleted files (exec through
# /proc/self/fd) are decided by hash under match = hash and refused under
# match = path+hash; a second hard link at an unlisted path is refused under
# path+hash (its inode gets no ignore mark).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_fixture.sh"
need_root

setup_mount || { fail "match: cannot mount tmpfs"; finish; }
cp /bin/true "$W/bin/true"
cp /bin/echo "$W/bin/echo"
make_list "$W/bin" || { fail "match: hmilock init"; finish; }
cp /bin/true "$W/tmp/copy"
cp /bin/true "$W/tmp/changed"
printf '\001' | dd of="$W/tmp/changed" bs=1 seek=300 conv=notrunc status=none
cp /bin/false "$W/tmp/unlisted"

# exec_deleted FILE: copy FILE, open the copy, unlink it, exec it by fd.
exec_deleted() {
	local f=$W/tmp/del.$RANDOM
	cp "$1" "$f" || return 99
	(
		exec 3<"$f"
		rm -f "$f"
		exec /proc/self/fd/3
	)
}

write_conf enforce hash
start_daemon || { fail "match: daemon did not start (hash)"; finish; }
expect_exec "match=hash: listed binary runs" 0 "$W/bin/true"
expect_exec "match=hash: identical copy elsewhere runs" 0 "$W/tmp/copy"
expect_exec "match=hash: changed copy refused" 126 "$W/tmp/changed"
expect_exec "match=hash: unlisted refused" 126 "$W/tmp/unlisted"
expect_exec "match=hash: deleted listed content runs" 0 exec_deleted /bin/true
expect_exec "match=hash: deleted unlisted content refused" 126 exec_deleted /bin/false
stop_daemon || fail "match: daemon did not stop"

write_conf enforce path+hash
start_daemon || { fail "match: daemon did not start (path+hash)"; finish; }
expect_exec "match=path+hash: listed binary runs" 0 "$W/bin/true"
expect_exec "match=path+hash: identical copy elsewhere refused" 126 "$W/tmp/copy"
expect_exec "match=path+hash: deleted listed content refused" 126 exec_deleted /bin/true
# A second link to a listed inode: refused at the unlisted path, and the
# listed path still runs (the path is part of the cache key here).
ln "$W/bin/echo" "$W/tmp/echo-link"
expect_exec "match=path+hash: hard link at unlisted path refused" 126 "$W/tmp/echo-link"
expect_exec "match=path+hash: listed path of that inode runs" 0 "$W/bin/echo" x
expect_exec "match=path+hash: hard link still refused (cached by path)" 126 "$W/tmp/echo-link"
expect_exec "match=path+hash: listed path still runs" 0 "$W/bin/echo" y
hl events --json >"$T/events.json" 2>&1
check "match: unresolved (deleted) reason logged" grep -q unresolved "$T/events.json"
finish
