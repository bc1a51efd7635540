# tests/guest/fallback.sh - sourced by tests/guest/runner.sh in the boot
# with hmilock.guest=fallback: the box on a kernel where the kernel helper
# cannot attach (Debian 12's own arm64 kernel, 6.1: arm64 has BPF
# trampolines from Linux 6.4 on, the attach fails with error 524). The
# package as installed (helper = auto) must run the fanotify gate alone,
# say why and what is open, lock the box, and with helper = required refuse
# to start, naming the reason.
# shellcheck shell=bash disable=SC2154 # PW is the runner's

kernel=$(uname -r)
if [ "$(systemctl is-active hmilockd.service)" = active ]; then
	pass "fallback: hmilockd.service is active on $kernel (helper = auto)"
else
	fail "fallback: hmilockd.service is $(systemctl is-active hmilockd.service) on $kernel: $(journalctl -b -u hmilockd -n 5 --no-pager 2>&1 | line)"
fi
helper=$(status_json helper)
gaps=$(status_json helper_gaps)
case $helper in
unavailable*"error 524"*)
	pass "fallback: status says the helper is unavailable and why: $(cut -c1-160 <<<"$helper")"
	;;
*) fail "fallback: status helper '$helper' (want unavailable, naming error 524)" ;;
esac
if [ -n "$gaps" ] && [ "$gaps" != None ]; then
	pass "fallback: status names the gaps left open: $(cut -c1-120 <<<"$gaps")"
else
	fail "fallback: status names no gaps with the helper unavailable"
fi
if journalctl -b -u hmilockd --no-pager | grep -q 'error 524'; then
	pass "fallback: hmilockd's log names the failed attach (error 524)"
else
	fail "fallback: no error 524 in hmilockd's log: $(journalctl -b -u hmilockd -n 5 --no-pager 2>&1 | line)"
fi

umask 077
printf 'guest-admin-password\n' >"$PW"
if o=$(hl passwd <"$PW" 2>&1) && o=$(hl init 2>&1) && o=$(hl reload 2>&1) &&
	entries=$(status_json list_entries) && [ "${entries:-0}" -gt 500 ]; then
	pass "fallback: passwd, init and reload ($entries entries)"
else
	fail "fallback: passwd/init/reload: $(line <<<"$o") list_entries '${entries:-}'"
fi

# helper = required: the service refuses to start, and says why.
conf=/etc/hmilock/hmilock.conf
if sed -i 's/^helper = auto$/helper = required/' "$conf" && grep -q '^helper = required$' "$conf"; then
	systemctl restart hmilockd.service >/dev/null 2>&1
	sleep 2
	st=$(systemctl is-active hmilockd.service)
	why=$(journalctl -b -u hmilockd -n 30 --no-pager 2>&1 | grep 'required but unavailable' | tail -1)
	if [ "$st" != active ] && grep -q 'error 524' <<<"$why"; then
		pass "fallback: with helper = required hmilockd.service does not start ($st): $(cut -c1-160 <<<"$why")"
	else
		fail "fallback: helper = required: service $st, log: $(line <<<"${why:-$(journalctl -b -u hmilockd -n 5 --no-pager 2>&1)}")"
	fi
else
	fail "fallback: cannot set helper = required in $conf"
fi
sed -i 's/^helper = required$/helper = auto/' "$conf"
systemctl reset-failed hmilockd.service >/dev/null 2>&1
if systemctl restart hmilockd.service && [ "$(systemctl is-active hmilockd.service)" = active ]; then
	pass "fallback: back to helper = auto, hmilockd.service starts again"
else
	fail "fallback: hmilockd.service does not start again with helper = auto: $(journalctl -b -u hmilockd -n 5 --no-pager 2>&1 | line)"
fi

# The fanotify gate alone locks the box.
if o=$(hl mode enforce --password-file "$PW" 2>&1) && [ "$(status_json mode)" = enforce ]; then
	pass "fallback: hmilock mode enforce locks the box without the helper"
else
	fail "fallback: hmilock mode enforce: $(line <<<"$o"); mode $(status_json mode)"
fi
o=$(as_operator 'cp /usr/bin/true ~/dropped && printf x >>~/dropped && chmod 755 ~/dropped && ~/dropped; echo rc=$?')
if grep -q '^rc=126$' <<<"$o"; then
	pass "fallback: operator's dropped binary is denied by the fanotify gate (126)"
else
	fail "fallback: operator's dropped binary was not denied: $(line <<<"$o")"
fi
listed_run fallback

# --- the platforms without the helper (README's table, docs/platforms.md) ----
# What happens instead on this kernel, case by case as platforms.sh does
# with the helper: the fanotify gate alone decides by path and hash. An
# overlay's files are approved as the overlay shows them (what `hmilock
# init` of the running box lists), btrfs files by their paths; a library
# mapped executable is not checked (a gap status names); a container's
# programs are denied (their path changes at every start).
# shellcheck source=tests/guest/plat-lib.sh
. /usr/local/lib/hmilock-guest/plat-lib.sh
umask 022
if o=$(plat_btrfs) &&
	o=$(hl maintenance begin --timeout 10m --password-file "$PW" 2>&1) &&
	mkdir -p "$PL/bin" "$PL/lib" "$PL/drop" && chmod 1777 "$PL/drop" &&
	cp /usr/bin/echo "$PL/bin/ptool" && printf 'plat' >>"$PL/bin/ptool" &&
	cp "$plat_lib" "$PL/lib/libok.so" && printf 'plat' >>"$PL/lib/libok.so" &&
	cp /usr/bin/echo "$PB/sv1/btool" && printf 'btr' >>"$PB/sv1/btool" &&
	o=$(podman import /usr/local/lib/hmilock-guest/ctr-rootfs.tar "$PI" 2>&1) &&
	o=$(hl maintenance end --password-file "$PW" 2>&1) &&
	o=$(plat_ovl_mount) &&
	o=$(hl maintenance begin --timeout 10m --password-file "$PW" 2>&1) &&
	o=$(hl add "$PO/bin/ptool" "$PO/lib/libok.so" 2>&1) && o=$(hl reload 2>&1) &&
	o=$(hl maintenance end --password-file "$PW" 2>&1) && [ "$(status_json mode)" = enforce ]; then
	pass "fallback: two windows installed the overlay's lower tree, sv1's program and the image $PI, and approved the overlay's files as it shows them"
else
	fail "fallback: the platforms' windows: $(line <<<"$o"); mode $(status_json mode)"
fi
o=$(as_operator "$PO/bin/ptool ovl-ok")
o2=$(as_operator "cp /usr/bin/true $PO/drop/t && $PO/drop/t; echo rc=\$?")
if [ "$o" = ovl-ok ] && grep -q 'rc=126' <<<"$o2" && [ -e "$PU/u/drop/t" ]; then
	pass "fallback: overlay: the listed file runs through the overlay, a program dropped in the upper layer is denied (126)"
else
	fail "fallback: overlay: listed: $(line <<<"$o"); dropped: $(line <<<"$o2")"
fi
o=$(as_operator "cp $plat_lib $PO/drop/l.so && printf d >>$PO/drop/l.so" && plat_py_load "$PO/drop/l.so")
if [ "$o" = loaded ] && grep -q 'unlisted libraries mapped executable' <<<"$(status_json helper_gaps)"; then
	pass "fallback: overlay: an unlisted library in the upper layer maps executable, as status's gaps say (no helper)"
else
	fail "fallback: overlay: the unlisted library: '$(line <<<"$o")'; gaps: $(status_json helper_gaps | cut -c1-120)"
fi
if o=$(plat_upper_change); then
	o=$(as_operator "$PO/bin/ptool x; echo rc=\$?")
	if grep -q 'rc=126' <<<"$o"; then
		pass "fallback: overlay: the file changed in the upper layer is denied by its hash (126)"
	else
		fail "fallback: overlay: the file changed in the upper layer: $(line <<<"$o")"
	fi
else
	fail "fallback: overlay: cannot change the upper layer offline: $(line <<<"$o")"
fi
umount "$PO" 2>/dev/null
umount "$PU" 2>/dev/null
o=$(podman run --rm --network=none "$PI" /bin/busybox echo ctr-ok 2>&1)
if [ "$o" != ctr-ok ] && grep -qi 'permission denied\|operation not permitted' <<<"$o" &&
	hl events -n 100 2>/dev/null | grep ' deny ' | grep -q 'busybox'; then
	pass "fallback: container: the approved image's program is denied in the container (its merged path is not listed; docs/platforms.md: run containers with the helper): $(line <<<"$o" | cut -c1-100)"
else
	fail "fallback: container: podman run without the helper: $(line <<<"$o")"
fi
o=$(as_operator "$PB/sv1/btool btr-ok")
o2=$(as_operator "cp $PB/sv1/btool $PB/sv2/btool && printf e >>$PB/sv2/btool && $PB/sv2/btool x; echo rc=\$?")
if [ "$o" = btr-ok ] && grep -q 'rc=126' <<<"$o2"; then
	pass "fallback: btrfs: the listed program in subvolume sv1 runs, operator's changed copy in sv2 is denied (126)"
else
	fail "fallback: btrfs: sv1: $(line <<<"$o"); sv2: $(line <<<"$o2")"
fi
umount "$PB" 2>/dev/null
