#!/bin/bash
# 44-daemon-multilink-marks: under match = path+hash a hard-linked listed
# program (like /usr/bin/perl) gets an ignore mark when that is safe - every
# link is a listed path with its hash, the file is root's and writable by
# no one else, fs.protected_hardlinks = 1 - so its warm execs reach no
# daemon. Where it is not safe the old rule holds (no mark, every exec
# asks, the path is in the cache key): an inode that also has a link at an
# unlisted path, and a user's own listed file, which its owner can link
# anywhere - that new link is refused. A user cannot link a root-owned
# listed file at all (the kernel's protected_hardlinks), which is what
# keeps the mark right after it is placed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_fixture.sh"
need_root
command -v setpriv >/dev/null || {
	skip "multilink: setpriv (util-linux) missing"
	finish
}
[ "$(cat /proc/sys/fs/protected_hardlinks)" = 1 ] || {
	skip "multilink: fs.protected_hardlinks is not 1 here"
	finish
}
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }

setup_mount || { fail "multilink: cannot mount tmpfs"; finish; }
chmod 711 "$T" && mkdir -p "$W/user" && chown 65534:65534 "$W/user"
# a: two links, both listed. b: listed, plus a link at an unlisted path.
# u: two listed links, but the file is nobody's.
cp /bin/true "$W/bin/a" && ln "$W/bin/a" "$W/bin/a2"
cp /bin/true "$W/bin/b" && printf b >>"$W/bin/b" && ln "$W/bin/b" "$W/tmp/b-unlisted"
cp /bin/true "$W/bin/u" && printf u >>"$W/bin/u" && ln "$W/bin/u" "$W/bin/u2"
chown 65534:65534 "$W/bin/u"
make_list "$W/bin" || { fail "multilink: hmilock init"; finish; }
write_conf enforce path+hash
start_daemon || { fail "multilink: daemon did not start"; finish; }
ev() { status_field events; }

expect_exec "multilink: a runs" 0 "$W/bin/a"
e1=$(ev)
expect_exec "multilink: a runs again" 0 "$W/bin/a"
expect_exec "multilink: a through its other listed link" 0 "$W/bin/a2"
expect_exec "multilink: and again" 0 "$W/bin/a"
check "multilink: hard-linked listed program gets an ignore mark (events stay $e1: $(ev))" \
	test "$(ev)" -eq "$e1"
as_nobody ln "$W/bin/a" "$W/user/a-link" 2>/dev/null
check "multilink: a user cannot link the root-owned listed file (protected_hardlinks)" \
	test ! -e "$W/user/a-link"

expect_exec "multilink: b runs at its listed path" 0 "$W/bin/b"
e2=$(ev)
expect_exec "multilink: b again" 0 "$W/bin/b"
check "multilink: b (a link at an unlisted path) has no ignore mark: its exec asks" \
	test "$(ev)" -gt "$e2"
expect_exec "multilink: b's unlisted link refused" 126 "$W/tmp/b-unlisted"
expect_exec "multilink: b's listed path still runs" 0 "$W/bin/b"

expect_exec "multilink: u (nobody's) runs" 0 "$W/bin/u"
e3=$(ev)
expect_exec "multilink: u again" 0 "$W/bin/u"
check "multilink: u (its owner may link it) has no ignore mark" test "$(ev)" -gt "$e3"
as_nobody ln "$W/bin/u" "$W/user/u-link"
check "multilink: nobody links its own listed file at an unlisted path" test -e "$W/user/u-link"
expect_exec "multilink: that link refused (as root)" 126 "$W/user/u-link"
expect_exec "multilink: that link refused (as nobody)" 126 as_nobody "$W/user/u-link"
expect_exec "multilink: u's listed path still runs" 0 "$W/bin/u"
check "multilink: no errors" test "$(status_field errors)" -eq 0
finish
