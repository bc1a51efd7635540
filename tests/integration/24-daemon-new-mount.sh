#!/bin/bash
# 24-daemon-new-mount: a tmpfs mounted below the watched one after start is
# marked and enforced within 1 s (mountinfo POLLPRI), a mount below that one
# too; unmounting tidies the mark count; a bind mount of the watched tree
# elsewhere is a new mount below nothing we watch and stays unmarked.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_fixture.sh"
need_root

setup_mount || { fail "new-mount: cannot mount tmpfs"; finish; }
cp /bin/true "$W/bin/true"
make_list "$W/bin" || { fail "new-mount: hmilock init"; finish; }
mkdir -p "$W/usb" "$T/outside"

write_conf enforce path+hash
start_daemon || { fail "new-mount: daemon did not start"; finish; }
marks0=$(status_field marks)
check "new-mount: one mark at start" test "$marks0" -eq 1

mk_tmpfs "$W/usb" || fail "new-mount: cannot mount below"
cp /bin/false "$W/usb/dropped"
t0=$(date +%s%N)
rc=0
# Poll until the dropped binary is refused; it must be within 1 s.
while :; do
	"$W/usb/dropped" >/dev/null 2>&1
	rc=$?
	[ $rc -eq 126 ] && break
	[ $(($(date +%s%N) - t0)) -gt 1000000000 ] && break
	sleep 0.01
done
ms=$((($(date +%s%N) - t0) / 1000000))
check "new-mount: binary on a new mount below refused within 1 s (${ms} ms)" test $rc -eq 126
check "new-mount: marks counted" test "$(status_field marks)" -eq $((marks0 + 1))
check "new-mount: mounts_marked_later counted" test "$(status_field mounts_marked_later)" -ge 1

mkdir -p "$W/usb/deeper"
mk_tmpfs "$W/usb/deeper" || fail "new-mount: cannot mount two levels below"
cp /bin/false "$W/usb/deeper/dropped"
sleep 0.3
expect_exec "new-mount: two levels below refused" 126 "$W/usb/deeper/dropped"

# A bind mount of the watched tree outside the watch point: a mount mark
# covers one mount, so this one is not ours (documented: [watch] confines).
mount --bind "$W" "$T/outside" && _MOUNTS+=("$T/outside")
sleep 0.3
check "new-mount: bind mount outside the watch point not marked" \
	test "$(status_field marks)" -eq $((marks0 + 2))
umount "$T/outside"

umount "$W/usb/deeper"
umount "$W/usb"
sleep 0.3
check "new-mount: unmounts tidied (marks back to $marks0)" test "$(status_field marks)" -eq "$marks0"
cp /bin/false "$W/tmp/unlisted"
expect_exec "new-mount: unlisted on the watched mount still refused" 126 "$W/tmp/unlisted"
# Mounting again at the same point is marked again.
mk_tmpfs "$W/usb" || fail "new-mount: cannot mount again"
cp /bin/false "$W/usb/again"
sleep 0.3
expect_exec "new-mount: remounted point enforced" 126 "$W/usb/again"
check "new-mount: no errors" test "$(status_field errors)" -eq 0
finish
