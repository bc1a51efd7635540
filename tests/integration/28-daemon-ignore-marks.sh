#!/bin/bash
# 28-daemon-ignore-marks: after an allowed exec of a listed file the kernel
# stops asking (ignore mark: no new event) until the file changes; a write,
# a truncate(2) without any open (the kernel clears the mark on FS_MODIFY),
# and a store through a shared mapping followed by close (close-write
# watch) each bring the next exec back to the daemon, which refuses the
# changed file. A store through a mapping that outlives its fd is the gap
# fanotify cannot see: a note when open, PASS when closed (helper).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_fixture.sh"
need_root

setup_mount || { fail "ignore: cannot mount tmpfs"; finish; }
for n in a b c d e; do cp /bin/true "$W/bin/$n"; done
make_list "$W/bin" || { fail "ignore: hmilock init"; finish; }
write_conf enforce path+hash
start_daemon || { fail "ignore: daemon did not start"; finish; }

ev() { status_field events; }
expect_exec "ignore: listed runs" 0 "$W/bin/a"
e1=$(ev)
expect_exec "ignore: listed runs again" 0 "$W/bin/a"
expect_exec "ignore: and again" 0 "$W/bin/a"
check "ignore: repeated execs reach no daemon (events stay $e1)" test "$(ev)" -eq "$e1"
check "ignore: ignore mark counted" test "$(status_field ignore_marks)" -ge 1

# write(): the kernel clears the ignore mark, the daemon rehashes.
expect_exec "ignore: b runs" 0 "$W/bin/b"
printf 'x' >>"$W/bin/b"
expect_exec "ignore: b after an appended byte refused" 126 "$W/bin/b"

# truncate(2) by path, no open, no close-write: only the kernel's own
# clearing on FS_MODIFY can bring this exec back.
expect_exec "ignore: c runs" 0 "$W/bin/c"
size=$(stat -c %s "$W/bin/c")
python3 -c 'import os, sys; os.truncate(sys.argv[1], int(sys.argv[2]) + 1)' "$W/bin/c" "$size"
expect_exec "ignore: c after truncate(2) refused" 126 "$W/bin/c"

# Store through MAP_SHARED, then close: no FS_MODIFY, but close-write.
expect_exec "ignore: d runs" 0 "$W/bin/d"
python3 - "$W/bin/d" <<'PY'
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
m = mmap.mmap(fd, 0)
m[-1] ^= 0xff
m.flush()
m.close()
os.close(fd)
PY
expect_exec "ignore: d after a store through a shared mapping refused" 126 "$W/bin/d"

# The same, but the fd is closed first, the file then runs (and gets its
# ignore mark back), and only then the store lands: no event at all.
expect_exec "ignore: e runs" 0 "$W/bin/e"
python3 - "$W/bin/e" <<'PY'
import mmap, os, subprocess, sys
fd = os.open(sys.argv[1], os.O_RDWR)
m = mmap.mmap(fd, 0)
os.close(fd)
assert subprocess.run([sys.argv[1]]).returncode == 0
m[-1] ^= 0xff
m.flush()
m.close()
PY
"$W/bin/e" >/dev/null 2>&1
if [ $? -eq 126 ]; then
	pass "ignore: store through a mapping outliving its fd caught"
else
	# Not a test result: the documented gap of fanotify alone (README,
	# threat model); the helper's write protection refuses the O_RDWR open
	# in the first place, which tests/vm checks.
	echo "note: ignore: a store through a mapping outliving its fd is not seen by fanotify alone (closed by the kernel helper)"
fi
check "ignore: no errors" test "$(status_field errors)" -eq 0
finish
