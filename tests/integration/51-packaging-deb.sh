#!/bin/bash
# 51-packaging-deb.sh - `make deb` builds the package without touching the
# checkout; the .deb holds every file where the unit and the man pages say,
# its maintainer scripts are valid and carry the systemd and tmpfiles
# snippets, prerm removes the kernel helper's pin directory, Depends covers
# every library the programs load, the programs report the package's
# version, and lintian finds no error. (helper F)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pkg.sh"
pkg_need dpkg-buildpackage dh lintian
need_root

stamp=$T/stamp
touch "$stamp"
if pkg_deb; then
	pass "deb: make deb built $(basename "$DEB")"
else
	fail "deb: make deb failed"
	finish
fi
if [ ! -e "$TOP/debian" ] && [ -z "$(find "$TOP" "$TOP/.." -maxdepth 1 -newer "$stamp" \
	\( -name 'hmilock_*' -o -name 'hmilock-dbgsym_*' \) -print -quit)" ]; then
	pass "deb: the checkout and its parent stay clean (no debian/, no build results)"
else
	fail "deb: make deb left debian/ or build results next to the checkout"
fi

x=$T/x
mkdir -p "$x/ctl"
dpkg-deb -x "$DEB" "$x/root" && dpkg-deb -e "$DEB" "$x/ctl"
contents=$(cd "$x/root" && find . \( -type f -o -type l \) | sed 's|^\.||' | sort)

# Files where the unit and the documentation expect them.
want="/usr/sbin/hmilock /usr/sbin/hmilockd /etc/hmilock/hmilock.conf
/lib/systemd/system/hmilockd.service /usr/lib/tmpfiles.d/hmilock.conf
/usr/share/bash-completion/completions/hmilock /usr/share/doc/hmilock/copyright
/usr/bin/hmilock-notify /etc/xdg/autostart/hmilock-notify.desktop"
for m in "$TOP"/packaging/*.[1-9]; do
	[ -f "$m" ] && want="$want /usr/share/man/man${m##*.}/$(basename "$m").gz"
done
for p in $PKG_MANPAGES; do
	want="$want /usr/share/man/man${p##*.}/$p.gz"
done
missing=
for f in $(tr ' ' '\n' <<<"$want" | sort -u); do
	grep -qx -- "$f" <<<"$contents" || missing="$missing $f"
done
if [ -z "$missing" ]; then
	pass "deb: ships binaries, the notifier and its autostart entry, config, unit, tmpfiles, completion, man pages"
else
	fail "deb: missing from the package:$missing"
fi

unit=$x/root/lib/systemd/system/hmilockd.service
if cmp -s "$unit" "$TOP/packaging/hmilockd.service"; then
	pass "deb: the unit is packaging/hmilockd.service"
else
	fail "deb: the packaged unit differs from packaging/hmilockd.service"
fi
bad=
for k in ExecStart ExecReload; do
	for v in $(pkg_unit_value "$unit" Service "$k" | awk '{print $1}' | sed 's/^[-@:+!]*//'); do
		[ -x "$x/root$v" ] || bad="$bad $k=$v"
	done
done
if [ -z "$bad" ]; then
	pass "deb: every program the unit runs is in the package"
else
	fail "deb: the unit runs programs the package lacks:$bad"
fi

# The notifier: its autostart entry runs the packaged program, and postinst
# makes the events socket's group (the panel's user joins it).
ex=$(sed -n 's/^Exec=//p' "$x/root/etc/xdg/autostart/hmilock-notify.desktop" 2>/dev/null)
if [ -n "$ex" ] && [ -x "$x/root${ex%% *}" ] &&
	grep -q 'addgroup --quiet --system hmilock-events' "$x/ctl/postinst"; then
	pass "deb: the autostart entry runs $ex, and postinst creates group hmilock-events"
else
	fail "deb: autostart Exec '$ex' or the hmilock-events group in postinst"
fi

if grep -qx /etc/hmilock/hmilock.conf "$x/ctl/conffiles" 2>/dev/null; then
	pass "deb: /etc/hmilock/hmilock.conf is a conffile (upgrades keep edits)"
else
	fail "deb: /etc/hmilock/hmilock.conf is not in conffiles: $(cat "$x/ctl/conffiles" 2>&1)"
fi

for s in preinst postinst prerm postrm; do
	[ -f "$x/ctl/$s" ] || continue
	if out=$(sh -n "$x/ctl/$s" 2>&1); then
		pass "deb: $s passes sh -n"
	else
		fail "deb: $s: $out"
	fi
done
if grep -q 'deb-systemd-helper.*enable' "$x/ctl/postinst" &&
	grep -q "deb-systemd-invoke.*stop 'hmilockd.service'" "$x/ctl/prerm" &&
	grep -q 'systemd-tmpfiles.*--create' "$x/ctl/postinst"; then
	pass "deb: debhelper enables/starts/stops hmilockd.service and runs tmpfiles"
else
	fail "deb: maintainer scripts lack the dh_installsystemd or dh_installtmpfiles snippets"
fi

# The pin directory prerm removes is the one the kernel helper uses.
pin=$(sed -n 's/^#define[[:space:]]\{1,\}HMK_PIN_DIR[[:space:]]\{1,\}"\([^"]*\)".*/\1/p' \
	"$TOP"/kmod/*.h 2>/dev/null | head -1)
if [ -z "$pin" ]; then
	fail "deb: no HMK_PIN_DIR in kmod/*.h: cannot tell which pins prerm must remove"
elif awk '/^remove\)/,/;;/' "$x/ctl/prerm" | grep -q "rm -rf $pin\$"; then
	pass "deb: prerm remove unpins $pin (the helper's HMK_PIN_DIR)"
else
	fail "deb: prerm does not remove the helper's pin directory $pin on remove"
fi

# Every library the programs load is covered by Depends.
deps=$(pkg_deb_depends "$DEB")
missing=
for so in $(readelf -d "$x/root/usr/sbin/hmilock" "$x/root/usr/sbin/hmilockd" 2>/dev/null |
	sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort -u); do
	path=$(ldconfig -p | awk -v so="$so" '$1 == so { print $NF; exit }')
	owner=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -1 | cut -d: -f1)
	[ -z "$owner" ] && owner=$(dpkg -S "$path" 2>/dev/null | head -1 | cut -d: -f1)
	grep -qx -- "$owner" <<<"$deps" || missing="$missing $so(${owner:-?})"
done
if [ -z "$missing" ]; then
	pass "deb: Depends covers every NEEDED library ($(paste -sd' ' - <<<"$deps"))"
else
	fail "deb: libraries loaded but not in Depends:$missing"
fi

version=$(dpkg-deb -f "$DEB" Version)
upstream=${version%-*}
for p in hmilock hmilockd; do
	got=$("$x/root/usr/sbin/$p" --version 2>&1 | head -1)
	if [ "$got" = "$p $upstream" ]; then
		pass "deb: $p --version says the package version ($got)"
	else
		fail "deb: $p --version says '$got', the package is $upstream"
	fi
done

# lintian: no error (warnings are reported, not failed).
lint=$(lintian --tag-display-limit 0 "$DEB" 2>&1 | grep -v -e '^running with root' -e 'will drop')
errs=$(grep '^E: ' <<<"$lint")
warns=$(grep -c '^W: ' <<<"$lint")
if [ -z "$errs" ]; then
	pass "deb: lintian reports no error ($warns warnings)"
else
	fail "deb: lintian errors: $(paste -sd';' - <<<"$errs")"
fi
[ -n "$lint" ] && echo "lintian said:" && sed 's/^/    /' <<<"$lint"
finish
