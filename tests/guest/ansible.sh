# tests/guest/ansible.sh - sourced by tests/guest/runner.sh in the guest
# booted with hmilock.guest=ansible (a boot of its own, tests/guest/run.sh):
# the Ansible role of packaging/ansible (in the image under
# /usr/local/lib/hmilock-guest/ansible) rolls hmilock out to this box with
# Debian's ansible-core over a local connection, as a fleet's controller
# does over ssh. The box starts as the image has it (hmilock installed, an
# empty list); a golden list is exported from it, then hmilock is purged:
#   import  enrol by importing that signed export; audit, no lock; run twice
#   purge   again; local: enrol by hmilock init on the box, audit period
#   would   an unlisted program runs in the audit period: the lock run fails,
#           naming it, and the box stays in audit
#   lock    approved (hmilock add), the audit period starts again; the run
#           waits it out and locks with the admin password the role set
#   again   the same run on the locked box changes nothing
#   bad     a bad configuration fails the run, naming the key; nothing changes
#   upgrade the run with a newer .deb upgrades hmilock on the locked box
# Each run's output: /root/ansible-run/NAME.log (tail in a FAIL line).
# shellcheck shell=bash disable=SC2154 # pass, fail, line, hl, status_json: runner.sh

AN_DIR=/usr/local/lib/hmilock-guest/ansible
AN_RUN=/root/ansible-run
AN_DEB=/var/lib/hmilock-guest/hmilock.deb
AN_PW=guest-ansible-admin-password
mkdir -p "$AN_RUN" /root/golden
# The controller is this box, as root: no become (Debian's minbase has no
# sudo); everything else as a fleet's inventory would have it.
printf '[hmi]\nlocalhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3 ansible_become=false\n' \
	>"$AN_RUN/hosts"

# play NAME ARGS...: ansible-playbook site.yml from packaging/ansible (so its
# ansible.cfg holds) with ARGS; sets an_rc, an_changed, an_failed (from the
# PLAY RECAP) and an_log.
play() {
	local name=$1 recap
	shift
	an_log=$AN_RUN/$name.log
	(cd "$AN_DIR" && ANSIBLE_NOCOLOR=1 timeout 1800 ansible-playbook -v -i "$AN_RUN/hosts" site.yml "$@") \
		>"$an_log" 2>&1
	an_rc=$?
	recap=$(grep -E '^localhost +: ok=' "$an_log" | tail -1)
	an_changed=$(sed -n 's/.* changed=\([0-9]*\).*/\1/p' <<<"$recap")
	an_failed=$(sed -n 's/.* failed=\([0-9]*\).*/\1/p' <<<"$recap")
	echo "ansible: $name: rc $an_rc, $recap"
	# the whole run and the role's record, for the console log
	{
		sed "s/^/ansible[$name]: /" "$an_log"
		echo "ansible[$name]: audit.json: $(tr -d '\n' </var/lib/hmilock-ansible/audit.json 2>&1)"
		echo "ansible[$name]: status: $(hl status --json 2>&1 | tr -d '\n' | cut -c1-600)"
	} >/dev/console 2>/dev/null
}
# an_why: the end of the last run's output, for a FAIL line
an_why() { grep -E 'fatal:|FAILED|ERROR|msg' "$an_log" | tail -4 | line; }
# conf_sha: the configuration's SHA-256
conf_sha() { sha256sum /etc/hmilock/hmilock.conf 2>/dev/null | cut -c1-64; }

# --- the golden list: made on this box, as on the image's reference box -----
if v=$(ansible-playbook --version 2>&1 | head -1) && o=$(hl keygen --out-dir /root/golden 2>&1) &&
	o=$(hl --db /root/golden/approved.db --key /root/golden/list.key init 2>&1) &&
	o=$(hl --db /root/golden/approved.db --key /root/golden/list.key export \
		--sign-key /root/golden/export.key /root/golden/box.hml 2>&1); then
	golden=$(sed -n 's/^exported \([0-9]*\) entries.*/\1/p' <<<"$o")
	pass "ansible: $v; a golden list of this box exported and signed ($golden entries)"
else
	golden=
	fail "ansible: golden export: $(line <<<"${v:-} $o")"
fi
# purge: a box without hmilock, as the role finds a new one
an_purge() {
	local o
	if o=$(DEBIAN_FRONTEND=noninteractive timeout 300 dpkg --purge hmilock 2>&1) &&
		! dpkg-query -W hmilock >/dev/null 2>&1 && [ ! -e /var/lib/hmilock/approved.db ] &&
		[ ! -e /sys/fs/bpf/hmilock ] && ! systemctl is-active -q hmilockd.service; then
		pass "ansible: $1: dpkg --purge hmilock leaves no package, list, pins or daemon"
	else
		fail "ansible: $1: purge: $(tail -3 <<<"$o" | line) $(ls /sys/fs/bpf/hmilock 2>&1 | line)"
	fi
}
an_purge "before the import"

# --- enrol by import (audit, no lock), twice ----------------------------------
cat >"$AN_RUN/import.yml" <<EOF
hmilock_deb: $AN_DEB
hmilock_enrol: import
hmilock_import_file: /root/golden/box.hml
hmilock_import_pubkey: /root/golden/export.pub
hmilock_lock: false
hmilock_config:
  notify:
    message: "Call the maintenance desk, ext. 4711."
EOF
play import1 -e @"$AN_RUN/import.yml"
entries=$(status_json list_entries)
if [ "$an_rc" = 0 ] && [ "${an_changed:-0}" -gt 0 ] && [ "$(status_json mode)" = audit ] &&
	[ "$(status_json helper)" = "active (pinned)" ] && [ -n "$golden" ] &&
	[ "${entries:-0}" -ge $((golden * 99 / 100)) ] && grep -q 'ext. 4711' /etc/hmilock/hmilock.conf &&
	grep -q 'not locked yet' "$an_log" && [ -s /var/lib/hmilock-ansible/audit.json ]; then
	pass "ansible: import: the role installed the .deb, wrote the configuration, imported the signed golden list ($entries of $golden entries) and started the audit period; not locked (changed=$an_changed)"
else
	fail "ansible: import: rc $an_rc changed '${an_changed:-}', mode '$(status_json mode)', helper '$(status_json helper)', entries '${entries:-}' of '$golden', message in the configuration: $(grep -c 4711 /etc/hmilock/hmilock.conf 2>&1), audit.json: $(stat -c '%s bytes' /var/lib/hmilock-ansible/audit.json 2>&1): $(an_why)"
fi
play import2 -e @"$AN_RUN/import.yml"
if [ "$an_rc" = 0 ] && [ "$an_changed" = 0 ] && [ "$an_failed" = 0 ]; then
	pass "ansible: import: the second run changes nothing (changed=0)"
else
	fail "ansible: import: second run: rc $an_rc changed '${an_changed:-}' ($(grep -E '^changed:' "$an_log" | line)) $(an_why)"
fi
an_purge "after the import"

# --- enrol locally: audit, a would-deny refuses the lock ----------------------
cat >"$AN_RUN/local.yml" <<EOF
hmilock_deb: $AN_DEB
hmilock_enrol: local
hmilock_admin_password: $AN_PW
hmilock_audit_period: 20
EOF
play local1 -e @"$AN_RUN/local.yml" -e hmilock_lock=false
entries=$(status_json list_entries)
if [ "$an_rc" = 0 ] && [ "${an_changed:-0}" -gt 0 ] && [ "$(status_json mode)" = audit ] &&
	[ "${entries:-0}" -gt 500 ] && [ -s /etc/hmilock/admin.pass ] && grep -q 'not locked yet' "$an_log"; then
	pass "ansible: local: the role installed, set the admin password, built the list on the box ($entries entries) and started the audit period (changed=$an_changed)"
else
	fail "ansible: local: rc $an_rc changed '${an_changed:-}', mode '$(status_json mode)', entries '${entries:-}', admin.pass $(stat -c %s /etc/hmilock/admin.pass 2>&1): $(an_why)"
fi
printf '#!/bin/sh\necho "shift report"\n' >/usr/local/bin/plant-report
chmod 0755 /usr/local/bin/plant-report
/usr/local/bin/plant-report >/dev/null 2>&1
play local2 -e @"$AN_RUN/local.yml" -e hmilock_lock=true -e hmilock_audit_period=0
if [ "$an_rc" != 0 ] && grep -q 'not locked: the audit period' "$an_log" &&
	grep -q '/usr/local/bin/plant-report' "$an_log" && [ "$(status_json mode)" = audit ]; then
	pass "ansible: local: an unlisted program ran in the audit period: the run fails and names it ($(grep -o 'exec /usr/local/bin/plant-report ([^)]*)' "$an_log" | head -1)); the box stays in audit"
else
	fail "ansible: local: lock despite a would-deny: rc $an_rc, mode '$(status_json mode)': $(an_why)"
fi

# --- approved: the audit period starts again, the run waits it out and locks
if o=$(hl add /usr/local/bin/plant-report 2>&1) && o=$(hl reload 2>&1); then
	t0=$(date +%s)
	play local3 -e @"$AN_RUN/local.yml" -e hmilock_lock=true -e hmilock_audit_wait=true
	took=$(($(date +%s) - t0))
	printf '#!/bin/sh\necho never\n' >/usr/local/bin/not-approved
	chmod 0755 /usr/local/bin/not-approved
	if [ "$an_rc" = 0 ] && [ "$(status_json mode)" = enforce ] && [ "$took" -ge 20 ] &&
		[ "$(sed -n 's/^mode=//p' /var/lib/hmilock/state)" = enforce ] &&
		[ "$(/usr/local/bin/plant-report 2>&1)" = "shift report" ] &&
		! /usr/local/bin/not-approved >/dev/null 2>&1; then
		pass "ansible: local: after hmilock add, the run waited out a new 20 s audit period ($took s in all), found no would-deny and locked the box with the admin password: plant-report runs, a new program is denied"
	else
		fail "ansible: local: lock: rc $an_rc after $took s, mode '$(status_json mode)', state '$(cat /var/lib/hmilock/state 2>&1 | line)': $(an_why)"
	fi
else
	fail "ansible: local: hmilock add/reload: $(line <<<"$o")"
fi
play local4 -e @"$AN_RUN/local.yml" -e hmilock_lock=true -e hmilock_audit_wait=true
if [ "$an_rc" = 0 ] && [ "$an_changed" = 0 ] && [ "$an_failed" = 0 ] && [ "$(status_json mode)" = enforce ]; then
	pass "ansible: local: the same run on the locked box changes nothing (changed=0; modules reach python3 on stdin: ansible.cfg pipelining)"
else
	fail "ansible: local: second run on the locked box: rc $an_rc changed '${an_changed:-}' ($(grep -E '^changed:' "$an_log" | line)) $(an_why)"
fi
# Why ansible.cfg turns pipelining on: without it a module is a file under
# ~/.ansible/tmp that python3 runs, an unlisted script on a locked box.
o=$(cd "$AN_DIR" && ANSIBLE_PIPELINING=False ANSIBLE_NOCOLOR=1 timeout 600 ansible -i "$AN_RUN/hosts" hmi -m ansible.builtin.ping 2>&1)
if ! grep -q '"ping": "pong"' <<<"$o" && grep -q -i 'permission denied\|operation not permitted' <<<"$o"; then
	pass "ansible: local: without pipelining the locked box refuses Ansible's module files (unlisted scripts): $(grep -o -i -m1 '[^"]*\(permission denied\|operation not permitted\)[^"]*' <<<"$o" | head -1 | cut -c1-160)"
else
	fail "ansible: local: a module ran as a file on the locked box without pipelining: $(line <<<"$o")"
fi

# --- bad input: nothing changes -----------------------------------------------
before=$(conf_sha)
play bad -e @"$AN_RUN/local.yml" -e '{"hmilock_config": {"agent": {"bogus_key": 1}}}'
if [ "$an_rc" != 0 ] && grep -q '\[agent\] bogus_key: unknown key' "$an_log" && [ "$(conf_sha)" = "$before" ] &&
	[ "$(status_json mode)" = enforce ]; then
	pass "ansible: bad input: an unknown key in hmilock_config fails the run with hmilockd's message ([agent] bogus_key: unknown key); the configuration and the lock are unchanged"
else
	fail "ansible: bad input: rc $an_rc, configuration $([ "$(conf_sha)" = "$before" ] && echo unchanged || echo CHANGED), mode '$(status_json mode)': $(an_why)"
fi
play bad2 -e @"$AN_RUN/local.yml" -e '{"hmilock_config": {"agent": {"mode": "enforce"}}}'
if [ "$an_rc" != 0 ] && grep -q 'hmilock_config sets \[agent\] mode = enforce' "$an_log" && [ "$(conf_sha)" = "$before" ]; then
	pass "ansible: bad input: [agent] mode = enforce in hmilock_config is refused (the role locks only after the audit period)"
else
	fail "ansible: bad input: mode = enforce in hmilock_config: rc $an_rc: $(an_why)"
fi

# --- an upgrade of hmilock by the role, on the locked box ---------------------
# A fleet's next release: the same run with a newer .deb. The role installs
# it with apt-get and the admin password, so the apt hook makes it a
# trusted update; the box stays locked, what was approved still runs.
v0=$(dpkg-query -W -f '${Version}' hmilock)
pid0=$(systemctl show -p MainPID --value hmilockd.service)
if o=$(rm -rf /root/an-up && dpkg-deb -R "$AN_DEB" /root/an-up 2>&1 &&
	sed -i "s/^Version: .*/Version: $v0+fleet1/" /root/an-up/DEBIAN/control &&
	dpkg-deb --build /root/an-up /root/hmilock-fleet1.deb 2>&1); then
	sed "s|^hmilock_deb: .*|hmilock_deb: /root/hmilock-fleet1.deb|" "$AN_RUN/local.yml" >"$AN_RUN/upgrade.yml"
	play upgrade -e @"$AN_RUN/upgrade.yml" -e hmilock_lock=true -e hmilock_audit_wait=true
	pid1=$(systemctl show -p MainPID --value hmilockd.service)
	if [ "$an_rc" = 0 ] && [ "${an_changed:-0}" -gt 0 ] &&
		[ "$(dpkg-query -W -f '${Version}' hmilock)" = "$v0+fleet1" ] && [ "$pid1" != "$pid0" ] &&
		[ "$(status_json mode)" = enforce ] && [ "$(status_json helper)" = "active (pinned)" ] &&
		[ "$(/usr/local/bin/plant-report 2>&1)" = "shift report" ] &&
		! /usr/local/bin/not-approved >/dev/null 2>&1; then
		pass "ansible: upgrade: the role upgraded hmilock $v0 -> $v0+fleet1 on the locked box (apt-get, the hook's trusted update); hmilockd restarted ($pid0 -> $pid1), still enforcing with the helper pinned: plant-report runs, a new program is denied"
	else
		fail "ansible: upgrade: rc $an_rc changed '${an_changed:-}', version $(dpkg-query -W -f '${Version}' hmilock 2>&1), hmilockd $pid0 -> $pid1, mode '$(status_json mode)', helper '$(status_json helper)': $(an_why)"
	fi
else
	fail "ansible: upgrade: rebuilding the .deb as $v0+fleet1: $(line <<<"$o")"
fi
