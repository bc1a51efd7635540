#!/bin/bash
# 33-ctl-security: the control socket is root-only and survives bad input.
# The socket file is 0600 root (a non-root user cannot connect); when the
# file mode is opened up on purpose, the daemon itself refuses the peer by
# SO_PEERCRED, says why and logs it. Malformed, truncated, over-long and
# wrong-version messages sent as raw bytes get an error reply and a closed
# connection; idle and surplus connections do not block anyone; after all
# of it the daemon still answers root and still enforces.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_fixture.sh"
need_root

setup_mount || { fail "ctlsec: cannot mount tmpfs"; finish; }
cp /bin/true "$W/bin/true"
make_list "$W/bin" || { fail "ctlsec: hmilock init"; finish; }
cp /bin/false "$W/tmp/unlisted"
write_conf enforce path+hash
start_daemon || { fail "ctlsec: daemon did not start"; finish; }

check "ctlsec: socket is a socket, mode 0600, owned by root" test "$(stat -c '%F %a %u' "$SOCK")" = "socket 600 0"
# The CLI runs as nobody: it must be able to reach the binary and the path.
chmod 0755 "$T"
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
as_nobody "$HMILOCK" --socket "$SOCK" status >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 3 ] && grep -q "Permission denied" "$T/err"; then
	pass "ctlsec: nobody cannot connect (file mode), exit 3"
else
	fail "ctlsec: nobody connect: exit $rc: $(cat "$T/err")"
fi

# A reader that cannot read the list key (on a locked box the kernel helper
# lets only hmilockd read it; here the file mode) asks hmilockd to vouch for
# the list; nobody cannot reach it: the error names the key and why.
chmod 0755 "$(dirname "$KEY")" "$(dirname "$DB")"
as_nobody "$HMILOCK" --socket "$SOCK" --db "$DB" --key "$KEY" list >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 2 ] && grep -q "cannot open key file $KEY" "$T/err" &&
	grep -q "hmilockd cannot vouch for the list: .*Permission denied" "$T/err" && [ ! -s "$T/out" ]; then
	pass "ctlsec: nobody's list without the key: hmilockd cannot vouch (socket refused), exit 2, names the key"
else
	fail "ctlsec: nobody's list without the key: exit $rc: $(cat "$T/err")"
fi

# Root without CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH cannot open a key of
# mode 000, as a locked box's helper refuses it: list, check and verify
# take the loaded list on hmilockd's word (the SHA-256 status gives), and
# nothing else: another file, or the list changed behind hmilockd's back.
noread() { setpriv --bounding-set=-dac_override,-dac_read_search "$HMILOCK" --socket "$SOCK" --db "$1" --key "$KEY" "${@:2}"; }
sha=$(status_field list_sha256)
chmod 000 "$KEY"
o1=$(noread "$DB" list 2>&1)
r1=$?
o2=$(noread "$DB" check "$W/bin/true" 2>&1)
r2=$?
o3=$(noread "$DB" verify 2>&1)
r3=$?
if [ ${#sha} -eq 64 ] && [ "$sha" = "$(sha256sum "$DB" | cut -c1-64)" ] && [ $r1 -eq 0 ] &&
	grep -q "$W/bin/true" <<<"$o1" && [ $r2 -eq 0 ] && [ $r3 -eq 0 ]; then
	pass "ctlsec: key unreadable: list, check, verify take the list hmilockd vouches for (status list_sha256 = the file's)"
else
	fail "ctlsec: key unreadable: sha '$sha', list rc $r1 '$o1', check rc $r2 '$o2', verify rc $r3 '$o3'"
fi
cp "$DB" "$T/copy.db"
o1=$(noread "$T/copy.db" list 2>&1)
r1=$?
chmod 600 "$KEY"
cp /bin/echo "$T/extra" && hl add "$T/extra" >/dev/null 2>&1
chmod 000 "$KEY"
o2=$(noread "$DB" check "$W/bin/true" 2>&1)
r2=$?
chmod 600 "$KEY"
if [ $r1 -eq 2 ] && grep -q "vouches only for the list it has loaded ($DB), not $T/copy.db" <<<"$o1" &&
	[ $r2 -eq 2 ] && grep -q "is not the list hmilockd verified with the list key" <<<"$o2"; then
	pass "ctlsec: key unreadable: a copy elsewhere and a list changed without a reload are refused, each saying why (exit 2)"
else
	fail "ctlsec: key unreadable, refusals: copy rc $r1 '$o1', changed rc $r2 '$o2'"
fi
hl reload >/dev/null 2>&1

# Open the file mode: now only SO_PEERCRED stands between nobody and the daemon.
chmod 0666 "$SOCK"
as_nobody "$HMILOCK" --socket "$SOCK" status >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 1 ] && grep -q "root-only (peer uid 65534)" "$T/err"; then
	pass "ctlsec: nobody refused by SO_PEERCRED, told why, exit 1"
else
	fail "ctlsec: nobody via peercred: exit $rc: $(cat "$T/err")"
fi
as_nobody "$HMILOCK" --socket "$SOCK" mode audit >/dev/null 2>&1
check "ctlsec: nobody cannot switch the mode" test "$(status_field mode)" = enforce
sleep 0.3
check "ctlsec: refusal logged with the uid" grep -q "control socket: refused pid [0-9]* uid 65534" "$DLOG"
chmod 0600 "$SOCK"

# Raw messages. Header: u32 magic, u16 version, u16 type, u32 length, u32 seq.
python3 - "$SOCK" >"$T/raw.out" 2>&1 <<'EOF'
import socket, struct, sys, time
path = sys.argv[1]
MAGIC, V = 0x4B4C4D48, 2
EBADMSG, EPROTONOSUPPORT = 74, 93

def hdr(t, length, version=V, magic=MAGIC, seq=7):
    return struct.pack("<IHHII", magic, version, t, length, seq)

def result(data):
    magic, version, t, length, seq = struct.unpack_from("<IHHII", data)
    assert magic == MAGIC and t == 0x81 and length == len(data) == 536, (hex(t), length)
    err, = struct.unpack_from("<i", data, 16)
    msg = data[24:].split(b"\0")[0].decode()
    return err, msg

def recv(s):
    # a refusal may sit behind ECONNRESET when the daemon closed first
    for i in range(3):
        try:
            return s.recv(70000)
        except ConnectionResetError:
            continue
    return s.recv(70000)

def send_recv(s, payload):
    try:
        s.send(payload)
    except BrokenPipeError:
        pass
    return recv(s)

def exchange(payload):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(5)
    s.connect(path)
    r = send_recv(s, payload)
    closed = recv(s) == b""   # the daemon hung up
    s.close()
    return r, closed

cases = [
    ("one byte", b"\x01", EBADMSG, "shorter than its header"),
    ("15 bytes", hdr(1, 16)[:15], EBADMSG, "shorter than its header"),
    ("bad magic", hdr(1, 16, magic=0x12345678), EBADMSG, "bad magic"),
    ("version 3", hdr(1, 16, version=3), -EPROTONOSUPPORT, "version"),
    ("version 0", hdr(1, 16, version=0), -EPROTONOSUPPORT, "version"),
    ("unknown type", hdr(9, 16), EBADMSG, "unknown message type"),
    ("reply type", hdr(0x82, 16), EBADMSG, "unknown message type"),
    ("length field too big", hdr(1, 17), EBADMSG, "length field"),
    ("length field too small", hdr(1, 8), EBADMSG, "length field"),
    ("set_mode truncated", hdr(2, 20) + b"\x01\0\0\0", EBADMSG, "does not match its type"),
    ("status with a body", hdr(1, 24) + b"\0" * 8, EBADMSG, "does not match its type"),
    ("set_mode mode 7", hdr(2, 152) + struct.pack("<II", 7, 0) + bytes(128), EBADMSG, "unknown mode"),
    ("set_mode password not NUL-terminated", hdr(2, 152) + struct.pack("<II", 1, 0) + b"x" * 128,
     EBADMSG, "NUL-terminated"),
    ("events max 0", hdr(4, 40) + struct.pack("<QQII", 0, 0, 0, 0), EBADMSG, "out of range"),
    ("70000 bytes", hdr(1, 70000) + b"\0" * (70000 - 16), EBADMSG, "longer than"),
]
bad = 0
for name, payload, err, why in cases:
    want = -abs(err)
    try:
        r, closed = exchange(payload)
        e, msg = result(r)
        ok = e == want and why in msg and closed
    except Exception as ex:
        ok, e, msg, closed = False, None, repr(ex), None
    print(("PASS" if ok else "FAIL") + ": ctlsec: raw %s refused (error %s, '%s', closed %s)" % (name, e, msg, closed))
    bad += not ok

# An empty record is taken as a hang-up: the connection is closed.
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.settimeout(5); s.connect(path); s.send(b"")
try:
    gone = s.recv(70000) == b""
except Exception:
    gone = False
print(("PASS" if gone else "FAIL") + ": ctlsec: empty record closes the connection")

# Idle connections (more than the daemon serves at once) do not block a
# well-formed request from a new one, which gets an answer or EBUSY.
idle = []
for i in range(12):
    c = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); c.connect(path); idle.append(c)
time.sleep(0.2)
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.settimeout(5); s.connect(path)
r = send_recv(s, hdr(1, 16, seq=99))
magic, version, t, length, seq = struct.unpack_from("<IHHII", r)
ok = (t == 0x81 and result(r)[0] == -16) or (t == 0x82 and seq == 99)
print(("PASS" if ok else "FAIL") + ": ctlsec: a request beside 12 idle connections is answered (type %#x)" % t)
for c in idle:
    c.close()
# A well-formed request on a fresh connection works, seq echoed. The daemon
# sees the idle connections' hang-ups on its next loop: until then a new
# client may still be refused as one too many (EBUSY), so retry for 2 s.
for attempt in range(20):
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.settimeout(5); s.connect(path)
        s.send(hdr(1, 16, seq=1234)); r = s.recv(70000)
        magic, version, t, length, seq = struct.unpack_from("<IHHII", r)
        if t == 0x82:
            break
    except (BrokenPipeError, ConnectionResetError, struct.error):
        pass
    s.close(); time.sleep(0.1)
ok = t == 0x82 and seq == 1234 and length == len(r)
print(("PASS" if ok else "FAIL") + ": ctlsec: well-formed raw status answered, seq echoed")
# Two requests on one connection, then a malformed one: both answered, then closed.
s.send(hdr(1, 16, seq=1)); a = s.recv(70000)
s.send(b"junk"); b = s.recv(70000); c = s.recv(70000)
ok = struct.unpack_from("<IHHII", a)[2] == 0x82 and result(b)[0] == -EBADMSG and c == b""
print(("PASS" if ok else "FAIL") + ": ctlsec: connection serves several requests, closed after a bad one")
EOF
cat "$T/raw.out"
check "ctlsec: raw-message client ran" grep -q "^PASS: ctlsec: well-formed raw status" "$T/raw.out"

check "ctlsec: daemon alive after the bad input" kill -0 "$DPID"
check "ctlsec: daemon still answers status" test "$(status_field ready)" = true
expect_exec "ctlsec: daemon still enforces" 126 "$W/tmp/unlisted"
expect_exec "ctlsec: listed binary still runs" 0 "$W/bin/true"
check "ctlsec: malformed requests logged" grep -q "control socket: malformed request from pid" "$DLOG"
check "ctlsec: SIGTERM stops the daemon" stop_daemon
finish
