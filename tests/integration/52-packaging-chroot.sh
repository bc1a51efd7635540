#!/bin/bash
# 52-packaging-chroot.sh - the .deb in a Debian 12 root made with
# debootstrap (cached under build/cache): dpkg -i puts every file where the
# unit expects it, the programs run there, systemd-analyze verify accepts the
# unit in that root, a fresh install starts in audit mode and prints the next
# steps; an upgrade keeps the list, the key and an edited config; remove
# stops enforcement and removes the helper's pins; purge removes the list,
# the key and /etc/hmilock. Nothing of the host is bound into the root; a
# fresh proc instance is mounted there only while dpkg runs.
# (helper F)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pkg.sh"
pkg_need debootstrap dpkg-buildpackage dh chroot systemd-analyze
need_root

if ! pkg_deb; then
	fail "chroot: make deb failed"
	finish
fi
R=$T/root
t0=$(date +%s)
pkg_root "$R" "$DEB"
rc=$?
if [ $rc -eq 2 ]; then
	skip "chroot: $PKG_MIRROR unreachable: cannot make a Debian root"
	finish
elif [ $rc -ne 0 ]; then
	fail "chroot: could not make a Debian $PKG_SUITE root"
	finish
fi
echo "Debian root ready in $(($(date +%s) - t0)) s"

cp "$DEB" "$R/tmp/hmilock.deb"
out=$(pkg_dpkg "$R" -i /tmp/hmilock.deb 2>&1)
rc=$?
echo "$out" | sed 's/^/    dpkg: /'
if [ $rc -eq 0 ] && [ "$(pkg_in "$R" dpkg-query -W -f='${Status}' hmilock)" = "install ok installed" ]; then
	pass "chroot: dpkg -i installs the package"
else
	fail "chroot: dpkg -i failed ($rc)"
	finish
fi

# Where the unit expects things.
unit=$R/lib/systemd/system/hmilockd.service
bad=
for k in ExecStart ExecReload; do
	for v in $(pkg_unit_value "$unit" Service "$k" | awk '{print $1}' | sed 's/^[-@:+!]*//'); do
		[ -x "$R$v" ] || bad="$bad $k=$v"
	done
done
if [ -f "$unit" ] && [ -z "$bad" ]; then
	pass "chroot: the unit's ExecStart/ExecReload programs are installed"
else
	fail "chroot: unit missing or its programs are not installed:$bad"
fi
if cmp -s "$R/etc/hmilock/hmilock.conf" "$TOP/packaging/hmilock.conf"; then
	pass "chroot: /etc/hmilock/hmilock.conf is the default config"
else
	fail "chroot: /etc/hmilock/hmilock.conf missing or not packaging/hmilock.conf"
fi
missing=
for p in $PKG_MANPAGES; do
	[ -f "$R/usr/share/man/man${p##*.}/$p.gz" ] || missing="$missing $p"
done
[ -f "$R/usr/share/bash-completion/completions/hmilock" ] || missing="$missing completion"
[ -f "$R/usr/lib/tmpfiles.d/hmilock.conf" ] || missing="$missing tmpfiles"
if [ -z "$missing" ]; then
	pass "chroot: man pages, completion and tmpfiles.d entry installed"
else
	fail "chroot: not installed:$missing"
fi
link=$(readlink "$R/etc/systemd/system/sysinit.target.wants/hmilockd.service")
if [ "$link" = /lib/systemd/system/hmilockd.service ]; then
	pass "chroot: hmilockd.service enabled (sysinit.target.wants)"
else
	fail "chroot: hmilockd.service not enabled: sysinit.target.wants link is '$link'"
fi
perm() { stat -c '%a %U' "$1" 2>/dev/null; }
if [ "$(perm "$R/var/lib/hmilock")" = "700 root" ] && [ "$(perm "$R/run/hmilock")" = "700 root" ]; then
	pass "chroot: /var/lib/hmilock and /run/hmilock exist, 0700 root"
else
	fail "chroot: state dirs: /var/lib/hmilock '$(perm "$R/var/lib/hmilock")', /run/hmilock '$(perm "$R/run/hmilock")'"
fi

# The programs run in the root: every library they need is there.
for cmd in "/usr/sbin/hmilock --version" "/usr/sbin/hmilockd --version" \
	"/usr/sbin/hmilockd --check-config"; do
	# shellcheck disable=SC2086
	if o=$(pkg_in "$R" $cmd 2>&1); then
		pass "chroot: '$cmd' runs ($(head -1 <<<"$o"))"
	else
		fail "chroot: '$cmd' fails: $o"
	fi
done
if o=$(pkg_in "$R" bash -c '. /usr/share/bash-completion/completions/hmilock && complete -p hmilock' 2>&1) &&
	grep -q -- '-F _hmilock' <<<"$o"; then
	pass "chroot: bash completion loads"
else
	fail "chroot: bash completion does not load: $o"
fi

# systemd-analyze verify in the root (its units, its binaries, its man pages).
o=$(MANPATH=$R/usr/share/man systemd-analyze verify --root="$R" hmilockd.service 2>&1)
if [ $? -eq 0 ] && [ -z "$o" ]; then
	pass "chroot: systemd-analyze verify --root accepts hmilockd.service"
else
	fail "chroot: systemd-analyze verify: $(paste -sd';' - <<<"$o")"
fi

# A fresh install does not lock the box and says what to do next.
if grep -q 'runs in audit mode' <<<"$out" && grep -q 'hmilock init' <<<"$out" &&
	grep -q 'hmilock events' <<<"$out" && grep -q 'hmilock mode enforce' <<<"$out"; then
	pass "chroot: fresh install: audit mode, next steps printed (init, events, mode enforce)"
else
	fail "chroot: fresh install did not announce audit mode and the next steps"
fi

docs=$(grep -o '/usr/share/[^ ]*[A-Za-z0-9]' <<<"$out" | sort -u)
bad=
for d in $docs; do [ -e "$R$d" ] || bad="$bad $d"; done
if [ -n "$docs" ] && [ -z "$bad" ]; then
	pass "chroot: the documents the install message names exist ($(paste -sd' ' - <<<"$docs"))"
else
	fail "chroot: the install message names missing documents:$bad"
fi

# --- upgrade: the list, the key and an edited config stay -------------------
if o=$(pkg_in "$R" hmilock init /usr/sbin 2>&1); then
	pass "chroot: hmilock init /usr/sbin in the root ($(tail -1 <<<"$o"))"
else
	fail "chroot: hmilock init in the root failed: $o"
fi
sed -i 's/^workers = .*/workers = 2 ; site edit/' "$R/etc/hmilock/hmilock.conf"
echo "# site edit" >>"$R/etc/hmilock/hmilock.conf"
sums() { (cd "$R" && md5sum etc/hmilock/hmilock.conf etc/hmilock/list.key var/lib/hmilock/approved.db 2>&1); }
before=$(sums)
# The next version: the same package with a higher version number.
up=$T/up
dpkg-deb -R "$DEB" "$up"
v=$(dpkg-deb -f "$DEB" Version)
sed -i "s/^Version: .*/Version: $v+upgradetest1/" "$up/DEBIAN/control"
dpkg-deb --root-owner-group -b "$up" "$R/tmp/hmilock-up.deb" >/dev/null
out=$(pkg_dpkg "$R" -i /tmp/hmilock-up.deb 2>&1)
rc=$?
after=$(sums)
if [ $rc -eq 0 ] && [ "$(pkg_in "$R" dpkg-query -W -f='${Version}' hmilock)" = "$v+upgradetest1" ]; then
	pass "chroot: upgrade to $v+upgradetest1 installs"
else
	fail "chroot: upgrade failed ($rc): $out"
fi
if [ "$before" = "$after" ] && ! grep -q 'No such file' <<<"$after"; then
	pass "chroot: upgrade keeps the list, its key and the edited config (mode with it)"
else
	fail "chroot: upgrade changed state: before [$before] after [$after]"
fi
if o=$(pkg_in "$R" hmilock verify 2>&1); then
	pass "chroot: the list still verifies after the upgrade"
else
	fail "chroot: hmilock verify after upgrade: $o"
fi
if grep -q 'Next steps' <<<"$out"; then
	fail "chroot: an upgrade printed the fresh-install next steps"
else
	pass "chroot: an upgrade does not repeat the fresh-install message"
fi

# --- remove: enforcement stops, pins go, the list stays ----------------------
pin=$(sed -n 's/^#define[[:space:]]\{1,\}HMK_PIN_DIR[[:space:]]\{1,\}"\([^"]*\)".*/\1/p' \
	"$TOP"/kmod/*.h 2>/dev/null | head -1)
pin=${pin:-/sys/fs/bpf/hmilock}
# Stand-ins for pinned objects: plain files in the root's own /sys (nothing
# is mounted there).
mkdir -p "$R$pin/maps" && touch "$R$pin/maps/approved" "$R$pin/link_exec"
out=$(pkg_dpkg "$R" -r hmilock 2>&1)
rc=$?
if [ $rc -eq 0 ] && [ ! -e "$R/usr/sbin/hmilockd" ] && [ ! -e "$unit" ]; then
	pass "chroot: dpkg -r removes the programs and the unit"
else
	fail "chroot: dpkg -r ($rc): $out"
fi
if [ ! -e "$R$pin" ]; then
	pass "chroot: remove unpins the kernel helper ($pin gone)"
else
	fail "chroot: $pin still there after remove"
fi
if [ -f "$R/var/lib/hmilock/approved.db" ] && [ -f "$R/etc/hmilock/list.key" ] &&
	[ -f "$R/etc/hmilock/hmilock.conf" ] && [ ! -e "$R/run/hmilock" ]; then
	pass "chroot: remove keeps list, key and config; /run/hmilock goes"
else
	fail "chroot: after remove: $(ls -la "$R/var/lib/hmilock" "$R/etc/hmilock" "$R/run/hmilock" 2>&1 | paste -sd' ' -)"
fi

# --- purge: nothing of hmilock remains ---------------------------------------
out=$(pkg_dpkg "$R" -P hmilock 2>&1)
rc=$?
left=$(cd "$R" && ls -d var/lib/hmilock etc/hmilock run/hmilock \
	etc/systemd/system/sysinit.target.wants/hmilockd.service 2>/dev/null | paste -sd' ' -)
if [ $rc -eq 0 ] && [ -z "$left" ]; then
	pass "chroot: purge removes /var/lib/hmilock, the key, /etc/hmilock and the enable link"
else
	fail "chroot: purge ($rc) left: $left $out"
fi

# --- reinstall after purge is a fresh install again --------------------------
out=$(pkg_dpkg "$R" -i /tmp/hmilock.deb 2>&1)
if [ $? -eq 0 ] && grep -q 'Next steps' <<<"$out" && [ ! -e "$R/var/lib/hmilock/approved.db" ]; then
	pass "chroot: install after purge is fresh (no list, next steps printed)"
else
	fail "chroot: install after purge: $out"
fi
finish
