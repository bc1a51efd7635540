#!/bin/bash
# 72-maint-mounts: the change recorder on the mounts a real box has inside
# its watched tree. Checked first on this kernel: ramfs (systemd's
# credential mounts) and a plain overlayfs really refuse the recorder's
# filesystem mark (FAN_REPORT_DFID_NAME). A ramfs is left out by rule:
# maintenance begin, `hmilock update` and their ends work, status names it
# (text and --json), the daemon logs it once per window, and a program
# written there is not approved. A writable
# overlay that refuses the mark makes begin and update fail with a message
# naming the mount and what to do, leaving nothing open and the mode as it
# was; remounted read-only it is left out and named instead.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_fixture.sh"
. "$(dirname "$0")/maint_fixture.sh"
need_root
[ -n "$C2" ] || { skip "maint mounts: no cgroup2 mount on this host"; finish; }

# refuses DIR: exit 0 when this kernel refuses a FAN_MARK_FILESYSTEM mark of
# a FAN_REPORT_DFID_NAME group on DIR (what the recorder places).
refuses() {
	python3 - "$1" <<'EOF'
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
FAN_CLASS_NOTIF, FAN_REPORT_DFID_NAME = 0, 0x00000c00
FAN_MARK_ADD, FAN_MARK_FILESYSTEM = 0x1, 0x100
FAN_CREATE, FAN_CLOSE_WRITE, FAN_ONDIR = 0x100, 0x8, 0x40000000
fd = libc.fanotify_init(FAN_CLASS_NOTIF | FAN_REPORT_DFID_NAME, os.O_RDONLY)
if fd < 0:
    sys.exit(2)
libc.fanotify_mark.argtypes = [ctypes.c_int, ctypes.c_uint, ctypes.c_uint64, ctypes.c_int, ctypes.c_char_p]
r = libc.fanotify_mark(fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, FAN_CREATE | FAN_CLOSE_WRITE | FAN_ONDIR,
                       -100, sys.argv[1].encode())
sys.exit(0 if r < 0 else 1)
EOF
}

setup_mount || { fail "maint mounts: cannot mount tmpfs and ramfs"; finish; }
check "maint mounts: this kernel refuses the recorder's mark on ramfs" refuses "$CREDS"
check "maint mounts: ... and accepts it on tmpfs" test "$(refuses "$W"; echo $?)" -eq 1
cp /bin/true "$W/bin/true"
make_list "$W/bin" || { fail "maint mounts: hmilock init"; finish; }
write_mconf enforce
start_daemon || { fail "maint mounts: daemon did not start"; finish; }

# ---- ramfs inside the tree: left out by rule ----
expect_exec "maint mounts: begin with a ramfs inside the tree" 0 hl maintenance begin
hl maintenance status >"$T/st.txt" 2>&1
check "maint mounts: status says how many" grep -q "^not recorded (1 mount, nothing there is approved):" "$T/st.txt"
check "maint mounts: status names the ramfs as not recorded" grep -qF "$CREDS (ramfs: special filesystem)" "$T/st.txt"
check "maint mounts: status --json names it" test "$(mstatus unrecorded.0.fstype)/$(mstatus unrecorded_total)" = ramfs/1
cp /bin/echo "$W/bin/inwin"
cp /bin/echo "$CREDS/onramfs"
expect_exec "maint mounts: end" 0 hl maintenance end
check "maint mounts: status names no mount once the window is over" test "$(mstatus unrecorded_total)" = 0
check "maint mounts: the window's program is approved" listed "$W/bin/inwin"
check "maint mounts: the program on the ramfs is not" unlisted "$CREDS/onramfs"
check "maint mounts: logged once for the window" test "$(grep -c "changes not recorded on 1 mount: $CREDS (ramfs" "$DLOG")" -eq 1
expect_exec "maint mounts: update with a ramfs inside the tree" 0 hl update -- cp /bin/echo "$W/bin/upd"
check "maint mounts: the update's program is approved" listed "$W/bin/upd"

# ---- a writable overlay that refuses the mark: an error naming it ----
OV=$W/opt/ovl
mkdir -p "$T/ovl" "$OV"
mk_tmpfs "$T/ovl" && mkdir -p "$T/ovl/l" "$T/ovl/u" "$T/ovl/w" &&
	mount -t overlay hmilock-ovl -o "lowerdir=$T/ovl/l,upperdir=$T/ovl/u,workdir=$T/ovl/w" "$OV" &&
	_MOUNTS+=("$OV") || { fail "maint mounts: cannot mount an overlay"; finish; }
if refuses "$OV"; then
	gen=$(list_gen)
	hl maintenance begin >"$T/b.out" 2>&1
	check "maint mounts: begin refused with a writable overlay that refuses the mark (exit 1)" test $? -eq 1
	check "maint mounts: ... naming the mount" grep -qF "cannot record changes on $OV (overlay)" "$T/b.out"
	check "maint mounts: ... and what to do" grep -q "Unmount it.*index=on,nfs_export=on.*leave it out of \[watch\] mounts" "$T/b.out"
	check "maint mounts: nothing open after the refusal" test "$(mstatus state)" = none
	check "maint mounts: mode still enforce" test "$(status_field mode)" = enforce
	check "maint mounts: the daemon log names it" grep -qF "maintenance window not opened: cannot record changes on $OV" "$DLOG"
	hl update -- cp /bin/echo "$W/bin/upd2" >"$T/u.out" 2>&1
	check "maint mounts: update refused the same way (exit 1)" test $? -eq 1
	check "maint mounts: ... naming the mount" grep -qF "trusted update session not opened: cannot record changes on $OV" "$T/u.out"
	check "maint mounts: ... and its command did not run" test ! -e "$W/bin/upd2"
	check "maint mounts: list untouched" test "$(list_gen)" = "$gen"
	mount -o remount,ro "$OV"
	expect_exec "maint mounts: begin with the overlay read-only" 0 hl maintenance begin
	hl maintenance status >"$T/st2.txt" 2>&1
	check "maint mounts: the read-only overlay is named as not recorded" grep -qF "$OV (overlay: read-only, refuses the mark)" "$T/st2.txt"
	expect_exec "maint mounts: end" 0 hl maintenance end
else
	skip "maint mounts: this kernel accepts the recorder's mark on an overlay"
fi
finish
