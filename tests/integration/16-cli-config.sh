#!/bin/bash
# 16-cli-config.sh - the CLI takes its paths from the configuration: with
# --config F naming db, key, socket, admin_password_file, import_pubkey and
# [init] roots under $T, init/add/list/verify/remove/passwd/status/keygen
# use exactly those, and nothing is written at the built-in defaults
# (/var/lib/hmilock, /etc/hmilock). --db, --key and --socket override the
# file; a missing, unreadable or invalid --config is an error naming it.
# Each command runs in a private mount namespace whose /etc and /var/lib are
# overlays with their upper layers under $T: a write at a default path
# lands there (and is caught), never in the machine's own directories.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cli_fixture.sh"
need_root

OV=$T/overlay
mkdir -p "$OV/etc/up" "$OV/etc/work" "$OV/var/up" "$OV/var/work"
# isolated CMD...: CMD with /etc and /var/lib copy-on-write into $OV.
isolated() {
	unshare -m --propagation private bash -c '
		ov=$1
		shift
		mount -t overlay hmilock-test-etc -o "lowerdir=/etc,upperdir=$ov/etc/up,workdir=$ov/etc/work" /etc &&
			mount -t overlay hmilock-test-var -o "lowerdir=/var/lib,upperdir=$ov/var/up,workdir=$ov/var/work" /var/lib ||
			exit 99
		exec "$@"' _ "$OV" "$@"
}
if ! isolated true; then
	skip "cli config: no private mount namespace with overlays (unshare -m, overlayfs)"
	finish
fi
# nothing_at_defaults NAME: no hmilock file was written under /etc or /var/lib.
nothing_at_defaults() {
	local w
	w=$(cd "$OV" && find etc/up var/up -path '*hmilock*' 2>/dev/null | head -5)
	if [ -z "$w" ]; then pass "$1: nothing written at the defaults"; else fail "$1: wrote at the defaults: $w"; fi
}
# The machine's own default files stay as they were (they are never
# written: the overlays above take any write).
real_state() { stat -c '%n %s %Y' /var/lib/hmilock/approved.db /etc/hmilock/list.key /etc/hmilock/admin.pass 2>&1; }
REAL_BEFORE=$(real_state)

C=$T/c
mkdir -p "$C/bin" "$C/extra" "$T/state" "$T/keys" "$T/run" "$T/conf"
cp /bin/true "$C/bin/true"
cp /bin/echo "$C/bin/echo"
cp /bin/true "$C/extra/tool"
F=$T/conf/hmilock.conf
DB=$T/state/approved.db
KEY=$T/keys/list.key
SOCK=$T/run/hmilockd.sock
PW=$T/keys/admin.pass
PUB=$T/keys/import.pub
printf '[agent]\ndb = %s\nkey = %s\nsocket = %s\nadmin_password_file = %s\nimport_pubkey = %s\n[init]\nroots = %s\n' \
	"$DB" "$KEY" "$SOCK" "$PW" "$PUB" "$C/bin" >"$F"
hc() { isolated "$HMILOCK" --config "$F" "$@"; }

# ---- the list commands on [agent] db and key ----
expect_rc 0 "config: init DIR" hc init "$C/bin"
check "config: init wrote the list at [agent] db" test -s "$DB"
check "config: init made the key at [agent] key" test "$(stat -c %s "$KEY" 2>/dev/null)" = 32
grep_ok "config: init names [agent] db" "written to $DB" "$T/out"
grep_ok "config: init names [agent] key" "created list key $KEY" "$T/out"
nothing_at_defaults "config: init"
expect_rc 0 "config: add" hc add "$C/extra/tool"
grep_ok "config: add wrote generation 2 to [agent] db" "generation 2 written to $DB" "$T/out"
expect_rc 0 "config: list" hc list
grep_ok "config: list reads [agent] db" "$C/extra/tool" "$T/out"
expect_rc 0 "config: verify" hc verify
expect_rc 0 "config: remove" hc remove "$C/extra/tool"
grep_ok "config: remove wrote to [agent] db" "generation 3 written to $DB" "$T/out"
if hc list | grep -q "$C/extra/tool"; then fail "config: remove did not take the file off"; else pass "config: remove took the file off [agent] db"; fi
nothing_at_defaults "config: add, list, verify, remove"

# ---- [init] roots when init is given no PATH ----
expect_rc 0 "config: init -f with [init] roots" hc init -f
grep_ok "config: [init] roots scanned" "approved 2 files" "$T/out"

# ---- the global options override the file ----
cp "$DB" "$T/db.copy"
expect_rc 0 "config: --db overrides [agent] db" isolated "$HMILOCK" --config "$F" --db "$T/other.db" init "$C/extra"
check "config: --db: list written there" test -s "$T/other.db"
check "config: --db: [agent] db untouched" cmp -s "$DB" "$T/db.copy"
expect_rc 0 "config: --db list" isolated "$HMILOCK" --config "$F" --db "$T/other.db" list
grep_ok "config: --db list reads the other list" "$C/extra/tool" "$T/out"
expect_rc 2 "config: --key overrides [agent] key" isolated "$HMILOCK" --config "$F" --key "$T/no.key" list
grep_ok "config: --key: the error names it" "$T/no.key" "$T/err"
expect_rc 3 "config: status without a daemon" hc status
grep_ok "config: status connects to [agent] socket" "$SOCK" "$T/err"
expect_rc 3 "config: --socket overrides [agent] socket" isolated "$HMILOCK" --config "$F" --socket "$T/other.sock" status
grep_ok "config: --socket: the error names it" "$T/other.sock" "$T/err"
nothing_at_defaults "config: overrides"

# ---- admin_password_file and import_pubkey ----
expect_rc 0 "config: passwd" hc passwd <<<"pw-16"
check "config: passwd wrote [agent] admin_password_file" test -s "$PW"
expect_rc 0 "config: keygen" hc keygen --out-dir "$T/keys"
grep_ok "config: keygen names [agent] import_pubkey" "as $PUB" "$T/out"
nothing_at_defaults "config: passwd, keygen"

# ---- a bad --config is an error naming it; nothing is written ----
cp "$DB" "$T/db.copy"
expect_rc 2 "config: missing --config file" isolated "$HMILOCK" --config "$T/nope.conf" --db "$DB" list
grep_ok "config: missing file named" "$T/nope.conf" "$T/err"
expect_rc 2 "config: --config of a directory" isolated "$HMILOCK" --config "$T/conf" list
grep_ok "config: directory named" "$T/conf" "$T/err"
printf '[agent]\ndb = relative.db\n' >"$T/bad.conf"
expect_rc 2 "config: invalid --config" isolated "$HMILOCK" --config "$T/bad.conf" add "$C/extra/tool"
grep_ok "config: invalid file named with line and key" "$T/bad.conf:2: \[agent\] db" "$T/err"
check "config: nothing changed after the refusals" cmp -s "$DB" "$T/db.copy"
nothing_at_defaults "config: refusals"

if [ "$(real_state)" = "$REAL_BEFORE" ]; then
	pass "config: the machine's default list, key and password file are as before"
else
	fail "config: default files changed: $REAL_BEFORE -> $(real_state)"
fi
finish
