# tests/guest/after-reboot.sh - phase 2 of tests/guest/runner.sh, sourced
# by it after the guest rebooted (the marker $PHASE is on the disk): the
# locked boot, then the ways docs/operations.md changes a locked box, in its
# order: a maintenance window, hmilock update of a tarball installer, apt
# with the shipped hook (install and remove of a local .deb, an upgrade of
# hmilock itself), and hmilock verify at the end. Uses the runner's helpers
# (pass, fail, hl, status_json, as_operator, hmi_check).
# shellcheck shell=bash disable=SC2154 # PW, PHASE, ... are the runner's

# --- the locked boot ---------------------------------------------------------
state=$(timeout 300 systemctl is-system-running --wait 2>&1)
failed=$(systemctl --failed --plain --no-legend 2>/dev/null | awk '{print $1}' | paste -sd' ' -)
if [ "$state" = running ]; then
	pass "reboot: the box came back (phase $(cat "$PHASE")) and reached running, kernel $(uname -r)"
else
	fail "reboot: system state '$state' after the reboot; failed units: ${failed:-none}"
fi
# podman's units (podman-restart.service, enabled by Debian's package)
# probe overlay at boot, once its storage exists (phase 1 made it): mount,
# a look, umount, no retry. None of those mounts may be left: one would
# keep every maintenance window below from opening (tests/guest/platforms.sh,
# "probe").
j=$(journalctl -b -u hmilockd --no-pager 2>&1)
probes=$(grep -c 'new mount /var/lib/containers/storage/overlay/.* (overlay) marked' <<<"$j")
o=$(findmnt -rn -t overlay -o TARGET | paste -sd' ' -)
if [ -z "$o" ]; then
	pass "reboot: no overlay left mounted after the boot (podman's feature checks: hmilockd marked $probes of their mounts, and each was unmounted)"
else
	fail "reboot: overlays left mounted after the boot: $(line <<<"$o"); $(grep -E 'overlay|asked about' <<<"$j" | tail -3 | line)"
fi
mode=$(status_json mode)
helper=$(status_json helper)
if [ "$mode" = enforce ] && [ "$helper" = "active (pinned)" ] &&
	journalctl -b -u hmilockd --no-pager | grep -q 'mode enforce from the state file'; then
	pass "reboot: still enforcing after the reboot (mode from the state file), helper active (pinned)"
else
	fail "reboot: mode '$mode', helper '$helper' after the reboot: $(journalctl -b -u hmilockd --no-pager | grep -i mode | tail -2 | line)"
fi
# Everything the box ran during this boot was checked in enforce: the
# counters and the event ring start with hmilockd at boot.
denied=$(status_json denied)
wd=$(status_json would_deny)
ev=$(hl events -n 1024 2>&1 | grep -E 'deny' | head -5)
if [ "$denied" = 0 ] && [ "$wd" = 0 ] && [ -z "$ev" ] &&
	! journalctl -b -u hmilockd --no-pager | grep -q -E 'verdict=(deny|would-deny)|\b(deny|would-deny)\b.*path'; then
	pass "reboot: nothing denied during the locked boot (denied 0, would-deny 0, no deny event or log line)"
else
	fail "reboot: denials during the locked boot: denied '$denied', would-deny '$wd': $(line <<<"$ev")"
fi
# The HMI stack came up at boot, locked.
hmi_check "after the reboot"
# The shutdown before this boot (phase 1's reboot, locked): hmilockd agreed
# to stop at once (the system is shutting down), so hmilock adds no more to
# a reboot than its own stop, from systemd's "Stopping" to "Stopped".
sd=$(journalctl -b -1 -o short-unix --no-pager -u hmilockd 2>&1)
st=$(python3 -c '
import re, sys
t0 = t1 = None
for l in sys.stdin:  # the last stop of the boot: the shutdown
    m = re.match(r"([0-9]+\.[0-9]+) ", l)
    if not m:
        continue
    if re.search(r"Stopping hmilockd", l):
        t0, t1 = float(m.group(1)), None
    if t0 is not None and t1 is None and re.search(r"Stopped hmilockd|hmilockd.service: Deactivated", l):
        t1 = float(m.group(1))
print("%.3f" % (t1 - t0) if t0 is not None and t1 is not None else "none")' <<<"$sd")
if [ "$st" != none ] && python3 -c "import sys; sys.exit(0 if float('$st') < 1.0 else 1)" &&
	grep -q 'stopping: the system is shutting down' <<<"$sd"; then
	pass "reboot: at the shutdown before this boot hmilockd agreed at once (the system is shutting down) and stopped in $st s (< 1 s: all a reboot waits for hmilock)"
else
	fail "reboot: hmilockd's stop at the shutdown took '$st' s: $(grep -E 'signal 15' <<<"$sd" | tail -1 | sed 's/^[0-9.]* [^ ]* //' | line)"
	grep -E 'signal 15|timed out|Killing|still around|Failed|took|Deactivated|Stopp' <<<"$sd" | tail -12 |
		cut -c1-220 | while read -r l; do say "    $l"; done
fi

# For the console log (printed when a check fails), from now on: hmilockd's
# log and the kernel's lines on segfaults and traps, as they happen (started
# now, they still report when every new exec fails).
journalctl -f -o short-monotonic -u hmilockd >/dev/ttyS0 2>&1 &
dmesg -w 2>&1 | grep --line-buffered -E 'segfault|trap|BUG|hmilock' >/dev/ttyS0 &
# --- maintenance window: a script and a binary -------------------------------
# (docs/operations.md, step 6) Root installs them inside the window; `end`
# approves what changed and re-locks. The binary is a copy of echo with
# bytes of its own: neither its hash nor its path was ever listed. The
# same window takes the entry of phase 1's stick, gone for good, off the
# list (hmilock remove, then reload: `end` plans against the loaded list).
# Meanwhile the user operator drops a program of its own in its home
# (issue 9, class 7): the window records it, but `end` approves only the
# writes of [maintenance] writers (root): operator's stays denied.
script=/usr/local/bin/hmi-hello
binary=/usr/local/bin/hmi-tool
if o=$(hl maintenance begin --timeout 10m --password-file "$PW" 2>&1) &&
	[ "$(status_json mode)" = maintenance ] &&
	printf '#!/bin/sh\necho hmi-hello "$@"\n' >"$script" && chmod 0755 "$script" &&
	cp /usr/bin/echo "$binary" && printf 'hmi-tool' >>"$binary" && chmod 0755 "$binary" &&
	o=$(as_operator 'cp /usr/bin/echo m-dropped && printf x >>m-dropped && chmod 0755 m-dropped') &&
	o=$(hl remove /media/stick/tool 2>&1) && o=$(hl reload 2>&1) &&
	st=$(hl maintenance status 2>&1) &&
	o=$(hl maintenance end --password-file "$PW" 2>&1) && [ "$(status_json mode)" = enforce ]; then
	pass "maintenance: begin, install $script and $binary, remove the stick's entry, end: back in enforce ($(tail -1 <<<"$o" | line))"
else
	fail "maintenance: window: $(line <<<"$o"); mode $(status_json mode); status: $(line <<<"${st:-}")"
	kmsg_dump
fi
o=$(as_operator "$script a && $binary b")
if [ "$o" = "hmi-hello a
b" ]; then
	pass "maintenance: the installed script and binary run as operator in enforce"
else
	fail "maintenance: the installed script and binary as operator: $(line <<<"$o")"
fi
# shellcheck disable=SC2016 # $HOME is expanded by operator's shell
o=$(as_operator '$HOME/m-dropped hi; echo rc=$?')
if grep -q '^rc=126$' <<<"$o" && grep -q -E "held +/home/operator/m-dropped" <<<"${st:-}"; then
	pass "attack-class7: the program operator wrote during the window was held (not approved by end) and is denied (126)"
else
	fail "attack-class7: operator's program written during the window: $(line <<<"$o"); maintenance status: $(grep -i operator <<<"${st:-}" | line)"
fi

# --- hmilock update: a tarball installer -------------------------------------
# The vendor's tarball: install.sh copies its program to /opt/hmi-app. It is
# unpacked and run inside the trusted update, which approves what it wrote.
rm -rf /root/hmi-app-1.0 && mkdir -p /root/hmi-app-1.0 &&
	cp /usr/bin/printf /root/hmi-app-1.0/hmi-app && printf 'hmi-app 1.0' >>/root/hmi-app-1.0/hmi-app &&
	printf '#!/bin/sh\nset -e\ninstall -D -m 0755 hmi-app /opt/hmi-app/bin/hmi-app\n' >/root/hmi-app-1.0/install.sh &&
	chmod 0755 /root/hmi-app-1.0/install.sh &&
	tar -C /root -czf /root/hmi-app-1.0.tar.gz hmi-app-1.0 && rm -rf /root/hmi-app-1.0
if o=$(cd /root && hl update --password-file "$PW" -- \
	sh -c 'tar -xzf hmi-app-1.0.tar.gz && cd hmi-app-1.0 && ./install.sh' 2>&1) &&
	o2=$(as_operator "/opt/hmi-app/bin/hmi-app 'hmi-app %s' ok") && [ "$o2" = "hmi-app ok" ]; then
	pass "update: hmilock update of the tarball installer: /opt/hmi-app/bin/hmi-app runs as operator in enforce"
else
	fail "update: hmilock update -- sh -c 'tar -xzf ... && ./install.sh': $(line <<<"$o"); operator: $(line <<<"${o2:-}")"
fi

# An installer of many small steps, each a cp its shell reaps at once and
# then runs: hmilockd reads the change after the writer is gone, when /proc
# can no longer tell its cgroup; the kernel helper noted the session's
# writes (hmk_updwrites), so they are the session's: each program runs in
# the session and is approved at its end. (Without those notes the first
# run was refused: "writer ... was gone before its change was read".)
if o=$(hl update --password-file "$PW" -- sh -c 'mkdir -p /opt/hmi-many && for i in $(seq 1 40); do cp /usr/bin/true /opt/hmi-many/t$i && printf %s "$i" >>/opt/hmi-many/t$i && /opt/hmi-many/t$i || exit 1; done' 2>&1) &&
	o2=$(as_operator 'n=0; for i in $(seq 1 40); do /opt/hmi-many/t$i && n=$((n + 1)); done; echo ran=$n') &&
	[ "$o2" = ran=40 ]; then
	pass "update: an installer of 40 cp-then-run steps ran in the session and its programs run as operator ($(journalctl -b -u hmilockd --no-pager | grep -c 'kernel helper saw the session write') changes placed by the helper's notes)"
else
	fail "update: 40 cp-then-run steps: $(line <<<"$o"); operator: $(line <<<"${o2:-}")"
fi

# --- apt: a local .deb through the shipped hook, and its removal -------------
arch=$(dpkg --print-architecture)
# The vendor's package: a copy of echo with bytes of its own in /usr/bin.
if ! { rm -rf /root/hmi-demo && mkdir -p /root/hmi-demo/DEBIAN /root/hmi-demo/usr/bin &&
	cp /usr/bin/echo /root/hmi-demo/usr/bin/hmi-demo && printf 'hmi-demo 1.0' >>/root/hmi-demo/usr/bin/hmi-demo &&
	printf 'Package: hmi-demo\nVersion: 1.0\nArchitecture: %s\nMaintainer: guest <root@localhost>\nDescription: hmilock guest test package\n' "$arch" \
		>/root/hmi-demo/DEBIAN/control &&
	o=$(dpkg-deb --root-owner-group --build /root/hmi-demo /root/hmi-demo_1.0_$arch.deb 2>&1); }; then
	fail "apt: dpkg-deb --build of the test package: $(line <<<"$o")"
fi
cp /root/hmi-demo/usr/bin/hmi-demo /root/hmi-demo.saved
export HMILOCK_PASSWORD_FILE=$PW
if o=$(DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y /root/hmi-demo_1.0_$arch.deb 2>&1) &&
	o2=$(as_operator "/usr/bin/hmi-demo from-apt") && [ "$o2" = from-apt ]; then
	pass "apt: apt-get install of a local .deb through the hook: its /usr/bin/hmi-demo runs as operator in enforce"
else
	fail "apt: apt-get install ./hmi-demo_1.0_$arch.deb: $(tail -4 <<<"$o" | line); operator: $(line <<<"${o2:-}")"
fi
if o=$(DEBIAN_FRONTEND=noninteractive timeout 300 apt-get remove -y hmi-demo 2>&1) && [ ! -e /usr/bin/hmi-demo ] &&
	! hl check /usr/bin/hmi-demo >/dev/null 2>&1; then
	pass "apt: apt-get remove hmi-demo: /usr/bin/hmi-demo is gone and off the list"
else
	fail "apt: apt-get remove hmi-demo: $(tail -4 <<<"$o" | line); $(stat -c '%n %s bytes' /usr/bin/hmi-demo 2>&1 | line); check: $(hl check /usr/bin/hmi-demo 2>&1 | line)"
fi
# The same file put back at the same path by hand (not by apt) is refused.
if cp /root/hmi-demo.saved /usr/bin/hmi-demo 2>/dev/null; then
	o=$(as_operator "/usr/bin/hmi-demo back; echo rc=\$?")
	if grep -q '^rc=126$' <<<"$o"; then
		pass "apt: the removed program copied back by hand is denied (126)"
	else
		fail "apt: the removed program copied back by hand runs: $(line <<<"$o")"
	fi
	rm -f /usr/bin/hmi-demo
else
	pass "apt: the removed program cannot even be copied back to /usr/bin"
fi

# --- prescan: apt installs a package that carries a known-bad program --------
# The signature (ClamAV's .hsb format: sha256:size:name) and [prescan] are
# put in place in a maintenance window, as an operator copies databases onto
# a locked box; hmilockd reads [prescan] anew at each end of an update.
rm -rf /root/hmi-evil && mkdir -p /root/hmi-evil/DEBIAN /root/hmi-evil/usr/bin &&
	cp /usr/bin/echo /root/hmi-evil/usr/bin/hmi-evil && printf 'hmi-evil sample' >>/root/hmi-evil/usr/bin/hmi-evil &&
	printf 'Package: hmi-evil\nVersion: 1.0\nArchitecture: %s\nMaintainer: guest <root@localhost>\nDescription: hmilock guest test package (known-bad)\n' "$arch" \
		>/root/hmi-evil/DEBIAN/control &&
	dpkg-deb --root-owner-group --build /root/hmi-evil /root/hmi-evil_1.0_$arch.deb >/dev/null 2>&1 ||
	fail "prescan: dpkg-deb --build of the known-bad package"
evil_sig="$(sha256sum /root/hmi-evil/usr/bin/hmi-evil | cut -c1-64):$(stat -c %s /root/hmi-evil/usr/bin/hmi-evil):Guest.Evil.Sample"
if o=$(hl maintenance begin --timeout 10m --password-file "$PW" 2>&1) &&
	mkdir -p /var/lib/hmilock/prescan && printf '%s\n' "$evil_sig" >/var/lib/hmilock/prescan/guest.hsb &&
	printf '\n[prescan]\ndatabases = /var/lib/hmilock/prescan\n' >>/etc/hmilock/hmilock.conf &&
	o=$(hl maintenance end --password-file "$PW" 2>&1); then
	pass "prescan: [prescan] and a signature database put in place in a maintenance window"
else
	fail "prescan: setting up [prescan] in a window: $(line <<<"$o")"
fi
o=$(DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y /root/hmi-evil_1.0_$arch.deb 2>&1)
rc=$?
o2=$(as_operator "/usr/bin/hmi-evil ran; echo rc=\$?")
if [ $rc -ne 0 ] && grep -q "NOT approved as known-bad: /usr/bin/hmi-evil (Guest.Evil.Sample.UNOFFICIAL)" <<<"$o" &&
	grep -q '^rc=126$' <<<"$o2"; then
	pass "prescan: apt-get install of a package with a known-bad program fails loudly (exit $rc, the hook names it) and the program is denied (126)"
else
	fail "prescan: apt-get install of the known-bad package: exit $rc: $(grep -i 'known-bad\|E:' <<<"$o" | line); operator: $(line <<<"$o2")"
fi
if hl events -n 200 --json 2>/dev/null | python3 -c '
import json, sys
ev = [e for e in json.load(sys.stdin) if e["reason"] == "known-bad" and e["op"] == "approve"]
assert any(e["path"] == "/usr/bin/hmi-evil" for e in ev), ev'; then
	pass "prescan: an event (deny known-bad approve) names /usr/bin/hmi-evil; known_bad=$(hl status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["known_bad"])')"
else
	fail "prescan: no known-bad event for /usr/bin/hmi-evil: $(hl events -n 5 2>&1 | line)"
fi
if o=$(DEBIAN_FRONTEND=noninteractive timeout 300 apt-get remove -y hmi-evil 2>&1) && [ ! -e /usr/bin/hmi-evil ]; then
	pass "prescan: apt-get remove hmi-evil works"
else
	fail "prescan: apt-get remove hmi-evil: $(tail -3 <<<"$o" | line)"
fi

# --- upgrade of hmilock itself while locked (apt, the hook) -------------------
# A rebuild of the installed .deb with a higher version.
v0=$(dpkg-query -W -f '${Version}' hmilock)
if ! { rm -rf /root/hmilock-up && o=$(dpkg-deb -R /var/lib/hmilock-guest/hmilock.deb /root/hmilock-up 2>&1) &&
	sed -i "s/^Version: .*/Version: $v0+guest1/" /root/hmilock-up/DEBIAN/control &&
	o=$(dpkg-deb --build /root/hmilock-up /root/hmilock-up.deb 2>&1); }; then
	fail "upgrade: rebuilding hmilock.deb as $v0+guest1: $(line <<<"$o")"
fi
pid0=$(systemctl show -p MainPID --value hmilockd.service)
if o=$(DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y /root/hmilock-up.deb 2>&1) &&
	[ "$(dpkg-query -W -f '${Version}' hmilock)" = "$v0+guest1" ]; then
	pass "upgrade: apt-get install of hmilock $v0+guest1 over $v0 on the locked box"
else
	fail "upgrade: apt-get install of hmilock $v0+guest1: $(tail -5 <<<"$o" | line)"
fi
unset HMILOCK_PASSWORD_FILE
sleep 2
pid1=$(systemctl show -p MainPID --value hmilockd.service)
# (operator's dropped binary of phase 1 in its home: /tmp is emptied at boot)
# shellcheck disable=SC2016 # $HOME is expanded by operator's shell
o=$(as_operator '$HOME/dropped; echo rc=$?')
ms=$(hl maintenance status 2>&1)
if [ "$(systemctl is-active hmilockd.service)" = active ] && [ "$pid0" != "$pid1" ] &&
	[ "$(status_json mode)" = enforce ] && [ "$(status_json helper)" = "active (pinned)" ] &&
	grep -q '^rc=126$' <<<"$o" && grep -q '^maintenance: none' <<<"$ms"; then
	pass "upgrade: hmilockd restarted ($pid0 -> $pid1), still enforcing, helper pinned, a dropped binary still denied, no change waiting for review"
else
	fail "upgrade: after the upgrade: hmilockd $(systemctl is-active hmilockd.service) ($pid0 -> $pid1), mode $(status_json mode), helper $(status_json helper); dropped: $(line <<<"$o"); maintenance: $(line <<<"$ms")"
	echo "--- upgrade: the new binary, and the log of the upgrade ---"
	ls -li /usr/sbin/hmilockd
	/usr/sbin/hmilockd --version
	echo "run by root: rc=$?"
	kmsg_dump
	journalctl -b --no-pager -o short-monotonic |
		grep -v -E 'Scheduled restart|(Stopped|Starting) hmilockd|Failed (to execute|at step|with result|to start)|status=203' |
		grep -E 'hmilock|kernel helper|apt|dpkg' | tail -80
fi
o=$(as_operator "$binary still && /opt/hmi-app/bin/hmi-app 'app %s' still")
if [ "$o" = "still
app still" ]; then
	pass "upgrade: what the window and the update installed still runs after the upgrade"
else
	fail "upgrade: after the upgrade: $(line <<<"$o")"
fi

# --- verify: the list matches the box -----------------------------------------
if o=$(hl verify 2>&1); then
	pass "verify: hmilock verify is clean at the end ($(tail -1 <<<"$o" | line))"
else
	fail "verify: hmilock verify reports drift: $(tail -5 <<<"$o" | line)"
fi
d=$(status_json denied)
hmi_check "at the end"
if [ "$(status_json mode)" = enforce ]; then
	pass "end: the box is locked at the end of the workflow ($d denied in this boot, all by the checks above)"
else
	fail "end: mode $(status_json mode) at the end"
fi
# --- removal of hmilock from the locked box (last: it unlocks the box) -------
# The prerm stops hmilockd the sanctioned way (hmilock stop) and unpins the
# helper with hmilockd --unpin, both with the admin password: without it
# nothing is removed and hmilockd runs on; with it the package goes, and
# with it the daemon, the pins and (purge) the list.
pidr=$(systemctl show -p MainPID --value hmilockd.service)
# (dpkg itself: apt's hook would refuse before dpkg without the password)
o=$(env -u HMILOCK_PASSWORD_FILE DEBIAN_FRONTEND=noninteractive timeout 300 dpkg --purge hmilock </dev/null 2>&1)
rc=$?
if [ $rc -ne 0 ] && dpkg-query -W -f '${Status}' hmilock 2>/dev/null | grep -q ' installed' &&
	kill -0 "$pidr" 2>/dev/null && [ "$(status_json mode)" = enforce ] && [ -e /sys/fs/bpf/hmilock ] &&
	grep -q 'the box is locked and hmilockd stays' <<<"$o"; then
	pass "purge: dpkg --purge hmilock without the admin password on the locked box is refused by the prerm; nothing removed, hmilockd ($pidr) runs on"
else
	fail "purge without the password: rc $rc, package $(dpkg-query -W -f '${Status}' hmilock 2>&1), hmilockd $pidr $(kill -0 "$pidr" 2>/dev/null && echo alive || echo gone): $(tail -4 <<<"$o" | line)"
fi
o=$(HMILOCK_PASSWORD_FILE=$PW DEBIAN_FRONTEND=noninteractive timeout 300 apt-get purge -y hmilock </dev/null 2>&1)
rc=$?
if [ $rc -eq 0 ] && ! dpkg-query -W -f '${Status}' hmilock 2>/dev/null | grep -q installed &&
	! kill -0 "$pidr" 2>/dev/null && [ ! -e /sys/fs/bpf/hmilock ] && [ ! -e /var/lib/hmilock/approved.db ] &&
	! systemctl is-active -q hmilockd.service && cp /usr/bin/true /tmp/after-purge && /tmp/after-purge; then
	pass "purge: with HMILOCK_PASSWORD_FILE the prerm stops hmilockd (hmilock stop) and unpins the helper; package, daemon, pins and list are gone and a dropped binary runs"
else
	fail "purge with the password: rc $rc, package $(dpkg-query -W -f '${Status}' hmilock 2>&1), hmilockd $(kill -0 "$pidr" 2>/dev/null && echo alive || echo gone), pins $(ls /sys/fs/bpf/hmilock 2>&1 | wc -l): $(tail -4 <<<"$o" | line)"
fi

# For the record on the console (not the report): hmilockd's log of this
# boot, which explains a failed update or apt run above.
echo "--- journalctl -b -u hmilockd (phase 2) ---"
journalctl -b -u hmilockd --no-pager 2>&1 |
	grep -v -E 'Scheduled restart|(Stopped|Starting) hmilockd|Failed (to execute|at step|with result|to start)|status=203' | tail -80
_done=1
