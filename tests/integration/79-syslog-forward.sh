#!/bin/bash
# 79-syslog-forward: the central log of docs/operations.md, for real.
# hmilockd logs to syslog; an rsyslog on the box forwards its lines with
# the documented action (copied from docs/operations.md: omfwd, RFC 5424
# over TCP, a disk-assisted queue) to a second rsyslog listening in a
# network namespace this test makes, over a veth pair. Three denials of an
# unlisted program run by uid 65534 must each arrive once, RFC 5424 over
# TCP, with path, exe, uid, reason and the box's host name, the first with
# the file's sha256 (the others come from the verdict cache, which keeps
# no hash).
# This machine has no /dev/log: hmilockd and the box's rsyslog run in a
# mount namespace with a private /dev (the host's nodes bound in), so
# nothing else's logging changes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_fixture.sh"
need_root

for p in rsyslogd ip unshare nsenter setpriv; do
	command -v "$p" >/dev/null || { fail "syslog: $p is not installed (tools/bootstrap.sh installs it)"; finish; }
done
chmod 0755 "$T"
setup_mount || { fail "syslog: cannot mount tmpfs"; finish; }
cp /bin/true "$W/bin/true"
make_list "$W/bin" || { fail "syslog: hmilock init"; finish; }
cp /bin/true "$W/tmp/unlisted"
sum=$(sha256sum "$W/tmp/unlisted" | cut -d' ' -f1)
write_conf enforce path+hash


# --- the central log server: its own network namespace, a veth pair -------
NS=hmk-syslog-$$
VH=hmks$$ VR=hmkr$$
A_BOX=10.213.7.1 A_LOG=10.213.7.2
ip netns add "$NS" || { fail "syslog: ip netns add $NS"; finish; }
on_exit "ip netns del $NS"
ip link add "$VH" type veth peer name "$VR" || { fail "syslog: veth pair"; finish; }
on_exit "ip link del $VH 2>/dev/null"
ip link set "$VR" netns "$NS"
ip addr add "$A_BOX/30" dev "$VH" && ip link set "$VH" up
ip netns exec "$NS" sh -c "ip addr add $A_LOG/30 dev $VR && ip link set $VR up && ip link set lo up" ||
	{ fail "syslog: addresses"; finish; }
mkdir -p "$T/rs-recv" "$T/rs-send"
cat >"$T/recv.conf" <<CONF
global(workDirectory="$T/rs-recv")
module(load="imtcp")
input(type="imtcp" port="6514" address="$A_LOG")
template(name="fields" type="string"
         string="proto=%protocol-version% input=%inputname% host=%hostname% app=%app-name% msg=%msg%\n")
if \$app-name == "hmilockd" then action(type="omfile" file="$T/received.log" template="fields")
CONF
ip netns exec "$NS" rsyslogd -n -f "$T/recv.conf" -i "$T/recv.pid" >"$T/recv.out" 2>&1 &
track_pid $!
listening() { ip netns exec "$NS" cat /proc/net/tcp | awk '$4 == "0A"' | grep -qi ':1972 '; }
wait_for 100 listening || { fail "syslog: the receiver does not listen on $A_LOG:6514: $(tail -3 "$T/recv.out")"; finish; }

# --- the box's rsyslog: the action of docs/operations.md -------------------
block=$(sed -n '/^if \$programname == "hmilockd" then {$/,/^}$/p' "$TOP/docs/operations.md")
if [ -z "$block" ] || ! grep -q 'target="siem.example.net"' <<<"$block"; then
	fail "syslog: docs/operations.md has no forwarding block for hmilockd to test"
	finish
fi
{
	printf 'global(workDirectory="%s/rs-send")\n' "$T"
	printf 'module(load="imuxsock" SysSock.Name="/dev/log")\n'
	sed "s/siem.example.net/$A_LOG/" <<<"$block"
} >"$T/send.conf"
cat >"$T/box.sh" <<BOX
set -e
mkdir -p "$T/hostdev"
mount --bind /dev "$T/hostdev"
mount -t tmpfs -o mode=0755 boxdev /dev
for n in null zero full random urandom tty; do
	touch /dev/\$n
	mount --bind "$T/hostdev/\$n" /dev/\$n
done
rsyslogd -f "$T/send.conf" -i "$T/send.pid"
for _ in \$(seq 100); do [ -S /dev/log ] && break; sleep 0.1; done
exec "$HMILOCKD" --foreground --config "$CONF"
BOX
on_exit '[ -s "$T/send.pid" ] && kill "$(cat "$T/send.pid")"'
unshare -m --propagation private bash "$T/box.sh" >>"$DLOG" 2>&1 &
DPID=$!
track_pid $DPID
wait_for 100 status_field ready >/dev/null || { fail "syslog: hmilockd did not start: $(tail -5 "$DLOG")"; finish; }
check "syslog: the box's rsyslog runs (pid $(cat "$T/send.pid" 2>/dev/null))" test -s "$T/send.pid"

# Three denials of a program uid 65534 runs, in the daemon's mount namespace
# (its marks are on its copy of the mount).
for _ in 1 2 3; do
	nsenter -m -t "$DPID" setpriv --reuid=65534 --regid=65534 --clear-groups "$W/tmp/unlisted" 2>/dev/null &&
		fail "syslog: the unlisted program ran"
done
check "syslog: hmilockd counted the 3 denials" test "$(status_field denied)" -eq 3
denials() { grep -c -E "msg= ?deny exec path=$W/tmp/unlisted " "$T/received.log" 2>/dev/null; }
wait_for 100 test "$(denials)" -ge 3
sleep 2 # anything sent twice would be here by now
n=$(denials)
if [ "$n" = 3 ]; then
	pass "syslog: each of the 3 denials arrived once at the central log"
else
	fail "syslog: $n denial lines at the central log: $(head -c 600 "$T/received.log" 2>&1); box: $(tail -3 "$DLOG")"
fi
host=$(hostname)
# The first denial hashed the file; the two after it were answered from the
# verdict cache, which keeps no hash (agent/cache.h): sha256=none there.
want="^proto=1 input=imtcp host=$host app=hmilockd msg= ?deny exec path=$W/tmp/unlisted reason=not-listed pid=[0-9]+ uid=65534 exe=/usr/bin/setpriv sha256=($sum|none)\$"
good=$(grep -c -E "$want" "$T/received.log")
first=$(grep -m1 -E 'deny exec' "$T/received.log")
if [ "$good" = 3 ] && grep -q "sha256=$sum\$" <<<"$first"; then
	pass "syslog: RFC 5424 over TCP, each with host, path, reason, uid, exe; the first (hashed) with its sha256 ($(grep -o 'deny exec.*' <<<"$first" | cut -c1-100)...)"
else
	fail "syslog: $good of the lines carry every field; want /$want/, the first with sha256=$sum: $(grep 'deny exec' "$T/received.log" | grep -v -E "$want" | head -2) first: $first"
fi
finish
