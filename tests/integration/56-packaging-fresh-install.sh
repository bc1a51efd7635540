#!/bin/bash
# 56-packaging-fresh-install.sh - what a fresh install does, run for real on
# a throw-away tmpfs: hmilockd with the shipped default config (only its
# paths pointed at this test) and no list yet, inside the unit's capability
# bounding set with no_new_privs (as hmilockd.service starts it), becomes
# ready in audit mode with an empty list and blocks nothing; then the
# walkthrough the postinst prints (init, reload, events, mode enforce)
# locks the mount. (helper F)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pkg.sh"
. "$(dirname "$0")/daemon_fixture.sh"
pkg_need setpriv python3
need_root
[ -x "$HMILOCKD" ] && [ -x "$HMILOCK" ] || {
	fail "fresh: $HMILOCKD and $HMILOCK must be built first"
	finish
}
setup_mount || {
	fail "fresh: cannot mount a tmpfs on $W"
	finish
}
: >"$T/cli.conf"

# The shipped config with this test's list, key, socket and mount.
sed -e "s|^db = .*|db = $DB|" -e "s|^key = .*|key = $KEY|" -e "s|^socket = .*|socket = $SOCK|" \
	-e "s|^mounts =.*|mounts = $W|" "$TOP/packaging/hmilock.conf" >"$CONF"
for k in "db = $DB" "key = $KEY" "socket = $SOCK" "mounts = $W"; do
	grep -qx "$k" "$CONF" || {
		fail "fresh: cannot point the default config's '${k%% =*}' at this test"
		finish
	}
done

# The unit's capability bounding set, as setpriv wants it.
caps=$(pkg_unit_value "$TOP/packaging/hmilockd.service" Service CapabilityBoundingSet |
	tr ' ' '\n' | grep '^CAP_' | sed 's/^CAP_/+/' | tr 'A-Z' 'a-z' | paste -sd, -)
start_unit_like() {
	setpriv --bounding-set "-all,$caps" --inh-caps -all --no-new-privs -- \
		"$HMILOCKD" --foreground --config "$CONF" >>"$DLOG" 2>&1 &
	DPID=$!
	track_pid "$DPID"
	for _ in $(seq 100); do
		kill -0 "$DPID" 2>/dev/null || return 1
		[ "$(status_field ready 2>/dev/null)" = true ] && return 0
		sleep 0.1
	done
	return 1
}

printf '#!/bin/sh\nexit 0\n' >"$W/bin/hmi-panel"
cp /bin/true "$W/bin/hmi-true"
cp /bin/true "$W/tmp/dropped"
chmod 755 "$W/bin/hmi-panel" "$W/bin/hmi-true" "$W/tmp/dropped"

if start_unit_like; then
	pass "fresh: hmilockd with the default config and no list gets ready (unit's caps, no_new_privs)"
else
	fail "fresh: hmilockd with no list yet does not start: $(tail -5 "$DLOG" | paste -sd' ' -)"
	finish
fi
mode=$(status_field mode)
entries=$(status_field list_entries)
if [ "$mode" = audit ] && [ "$entries" = 0 ]; then
	pass "fresh: audit mode, empty list"
else
	fail "fresh: mode '$mode', list_entries '$entries' (want audit, 0)"
fi
expect_exec "fresh: an unlisted program still runs in audit mode" 0 "$W/tmp/dropped"
# (the event is recorded after the exec is answered: give it a moment)
for _ in $(seq 20); do
	hl events 2>/dev/null | grep -q -F "$W/tmp/dropped" && break
	sleep 0.1
done
if hl events 2>/dev/null | grep -q -F "$W/tmp/dropped"; then
	pass "fresh: hmilock events shows the would-deny"
else
	fail "fresh: hmilock events does not show $W/tmp/dropped: $(hl events 2>&1 | tail -3)"
fi

# The next steps the package prints.
if make_list "$W/bin" && hl reload >/dev/null 2>&1 && [ "$(status_field list_entries)" -ge 2 ]; then
	pass "fresh: hmilock init + hmilock reload load the new list"
else
	fail "fresh: init/reload: $(hl reload 2>&1) entries $(status_field list_entries)"
fi
if hl mode enforce >/dev/null 2>&1 && [ "$(status_field mode)" = enforce ]; then
	pass "fresh: hmilock mode enforce locks the box"
else
	fail "fresh: hmilock mode enforce did not switch: $(status_field mode)"
fi
expect_exec "fresh: enforce: a listed program runs" 0 "$W/bin/hmi-true"
expect_exec "fresh: enforce: a listed script runs" 0 "$W/bin/hmi-panel"
expect_exec "fresh: enforce: an unlisted program is refused" 126 "$W/tmp/dropped"
# The documented order ends there: no edit of the configuration (which
# still says audit); a restart comes back locked from the state file.
if stop_daemon && start_unit_like && [ "$(status_field mode)" = enforce ]; then
	pass "fresh: locked by hmilock mode alone, still enforcing after a restart"
else
	fail "fresh: after a restart the mode is $(status_field mode), want enforce"
fi
expect_exec "fresh: after the restart an unlisted program is refused" 126 "$W/tmp/dropped"
if stop_daemon; then
	pass "fresh: hmilockd stops on SIGTERM"
else
	fail "fresh: hmilockd did not stop within 5 s of SIGTERM"
fi
finish
