#!/bin/bash
# 36-notify: the systemd protocol, with this test playing the service
# manager (a datagram socket in $NOTIFY_SOCKET, a 4 s WATCHDOG_USEC):
# READY=1 is sent once, after which status says ready; WATCHDOG=1 comes
# every 2 to 3 s (half the interval, checked by the reader's 1 s tick) while
# the box is idle, never late; STOPPING=1 comes on SIGTERM.
# sd_notify runs under the seccomp filter, so the daemon must survive it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_fixture.sh"
need_root

setup_mount || { fail "notify: cannot mount tmpfs"; finish; }
cp /bin/true "$W/bin/true"
make_list "$W/bin" || { fail "notify: hmilock init"; finish; }
write_conf enforce path+hash

NS=$T/notify.sock
python3 - "$NS" "$T/notify.log" <<'EOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(30)
t0 = time.monotonic()
with open(sys.argv[2], "w", buffering=1) as log:
    while True:
        try:
            msg = s.recv(4096).decode(errors="replace")
        except socket.timeout:
            break
        for line in msg.split("\n"):
            if line:
                log.write("%.3f %s\n" % (time.monotonic() - t0, line))
        if "STOPPING=1" in msg:
            break
EOF
LISTENER=$!
track_pid "$LISTENER"
for _ in $(seq 50); do [ -S "$NS" ] && break; sleep 0.1; done

NOTIFY_SOCKET=$NS WATCHDOG_USEC=4000000 start_daemon || { fail "notify: daemon did not start"; finish; }
check "notify: READY=1 received once ready" grep -q " READY=1$" "$T/notify.log"
check "notify: READY=1 sent once" test "$(grep -c " READY=1$" "$T/notify.log")" -eq 1
sleep 7
n=$(grep -c " WATCHDOG=1$" "$T/notify.log")
check "notify: WATCHDOG=1 at least 2 times in 7 s idle ($n)" test "$n" -ge 2
check "notify: pings 1.9 to 3.5 s apart, from READY=1 on (4 s watchdog)" python3 - "$T/notify.log" <<'EOF'
import sys
lines = [l.split() for l in open(sys.argv[1])]
ready = [float(t) for t, m in lines if m == "READY=1"][0]
t = [ready] + [float(t) for t, m in lines if m == "WATCHDOG=1" and float(t) >= ready]
gaps = [b - a for a, b in zip(t, t[1:])]
print(gaps)
sys.exit(not gaps or any(g > 3.5 for g in gaps) or any(g < 1.9 for g in gaps[1:]))
EOF
kill -TERM "$DPID"
for _ in $(seq 50); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
wait "$DPID"
rc=$?
DPID=
check "notify: daemon exits 0 (sd_notify allowed by the filter; rc $rc)" test $rc -eq 0
wait "$LISTENER"
check "notify: STOPPING=1 is the last message" test "$(tail -1 "$T/notify.log" | cut -d' ' -f2)" = STOPPING=1
finish
