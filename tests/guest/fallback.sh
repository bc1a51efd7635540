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
