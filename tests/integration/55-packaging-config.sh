#!/bin/bash
# 55-packaging-config.sh - fails when a config key known to the daemon (the
# config_keys[] table of whitelist/config.c) is missing from hmilock.conf(5) or
# from the default config packaging/hmilock.conf, when the default config
# names a key the daemon does not know or does not pass
# `hmilockd --check-config`, when it would start a fresh install in any
# mode but audit, and when the roles of the configuration's mode and of the
# state file are not stated in the same words everywhere. (helper F)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pkg.sh"
pkg_need python3
MP() { python3 "$PKG_MANPARSE" "$@"; }
CONF=$TOP/packaging/hmilock.conf
MAN5=$TOP/packaging/hmilock.conf.5

keys=$(MP config-keys "$TOP/whitelist/config.c" 2>&1)
rc=$?
# The parser must really see the table: the keys issue 3 requires must be
# among what it found, or the checks below would pass on nothing.
missing=
for k in "agent mode" "agent db" "agent key" "agent socket" "agent match" \
	"agent on_error" "agent workers" "watch mounts"; do
	grep -qx "$k" <<<"$keys" || missing="$missing [$k]"
done
if [ $rc -eq 0 ] && [ -z "$missing" ]; then
	pass "config: key table of whitelist/config.c read ($(wc -l <<<"$keys") keys)"
else
	fail "config: cannot read the key table of whitelist/config.c (rc $rc; missing$missing): $keys"
	finish
fi

# Default config: every key shown (set or commented out) in its section,
# and nothing the daemon does not know.
if [ ! -f "$CONF" ]; then
	fail "config: packaging/hmilock.conf missing"
else
	ini=$(MP ini-keys "$CONF")
	absent=$(comm -23 <(sort -u <<<"$keys") <(sort -u <<<"$ini") | sed 's/^\(.*\) \(.*\)$/[\1] \2/' | paste -sd' ' -)
	if [ -z "$absent" ]; then
		pass "config: every daemon key is in packaging/hmilock.conf"
	else
		fail "config: packaging/hmilock.conf lacks $absent"
	fi
	unknown=$(comm -13 <(sort -u <<<"$keys") <(sort -u <<<"$ini") | sed 's/^\(.*\) \(.*\)$/[\1] \2/' | paste -sd' ' -)
	if [ -z "$unknown" ]; then
		pass "config: packaging/hmilock.conf names no key unknown to the daemon"
	else
		fail "config: packaging/hmilock.conf names keys the daemon rejects: $unknown"
	fi
	if [ -x "$HMILOCKD" ]; then
		out=$("$HMILOCKD" --check-config --config "$CONF" 2>&1)
		if [ $? -eq 0 ] && [ "$out" = "configuration OK" ]; then
			pass "config: hmilockd --check-config accepts packaging/hmilock.conf"
		else
			fail "config: hmilockd --check-config refuses packaging/hmilock.conf: $out"
		fi
	else
		fail "config: $HMILOCKD not built"
	fi
	# A fresh install must not lock the box: the shipped mode is audit.
	mode=$(awk '/^[[:space:]]*\[/ { s = $0; gsub(/[][[:space:]]/, "", s) }
		s == "agent" && /^[[:space:]]*mode[[:space:]]*=/ { sub(/^[^=]*=[[:space:]]*/, ""); sub(/[[:space:]]*(;.*)?$/, ""); print; exit }' "$CONF")
	if [ "$mode" = audit ]; then
		pass "config: packaging/hmilock.conf starts a fresh install in audit mode"
	else
		fail "config: packaging/hmilock.conf sets [agent] mode = '${mode:-<unset: enforce>}'; a fresh install must start in audit (issue 6)"
	fi
fi

# Every config section the man pages tell operators to use is one hmilockd
# accepts: a section it refuses stops it from starting at all.
pages=$(ls "$TOP"/packaging/*.[1-9] 2>/dev/null)
if [ -x "$HMILOCKD" ] && [ -n "$pages" ]; then
	# shellcheck disable=SC2086
	secs=$(MP conf-sections $pages)
	for sec in $secs; do
		printf '[%s]\n' "$sec" >"$T/sec.conf"
		out=$("$HMILOCKD" --check-config --config "$T/sec.conf" 2>&1)
		if [ $? -eq 0 ]; then
			pass "config: section [$sec] named in the man pages is accepted by hmilockd"
		else
			fail "config: the man pages name section [$sec] but hmilockd refuses it: $out"
		fi
	done
fi

# Man page: every key stands as a tag (.TP/.IP/.SS) in hmilock.conf(5).
if [ ! -f "$MAN5" ]; then
	fail "config: packaging/hmilock.conf.5 missing"
else
	tags=$(MP tags "$MAN5")
	absent=
	while read -r sec k; do
		grep -qx -- "$k" <<<"$tags" || absent="$absent [$sec] $k"
	done <<<"$keys"
	if [ -z "$absent" ]; then
		pass "config: every daemon key is documented in hmilock.conf(5)"
	else
		fail "config: hmilock.conf(5) has no entry for$absent"
	fi
	# ... and each section is named there.
	absent=
	for sec in $(cut -d' ' -f1 <<<"$keys" | sort -u); do
		grep -q -F "[$sec]" "$MAN5" || absent="$absent [$sec]"
	done
	if [ -z "$absent" ]; then
		pass "config: every section is named in hmilock.conf(5)"
	else
		fail "config: hmilock.conf(5) never names section$absent"
	fi
fi

# The mode at start, stated once and in the same words everywhere an
# operator reads about it: README, the shipped configuration, the
# postinst's message, the man pages and the guides (compared as plain text,
# without each format's markup).
ROLES="The mode at start: the state file /var/lib/hmilock/state, which hmilock mode \
writes, wins; the configuration's mode applies only while that file does not \
exist (a fresh install, or an image built to boot locked). Lock and unlock \
with hmilock mode, not by editing the configuration: once the box is locked, \
the kernel helper write-protects it."
for f in README.md packaging/hmilock.conf packaging/debian/postinst packaging/hmilock.conf.5 \
	packaging/hmilockd.8 packaging/hmilock.8 docs/operations.md docs/maintenance.md; do
	if MP plain-text "$TOP/$f" | grep -qF -- "$ROLES"; then
		pass "config: $f states where the mode at start comes from in the common words"
	else
		fail "config: $f does not say, in the common words, where the mode at start comes from: $ROLES"
	fi
done
finish
