#!/bin/bash
# 57-packaging-ansible.sh - the Ansible role of packaging/ansible, on the
# host and without touching it (the role's real runs, install to lock, are
# in the Debian guest: tests/guest/ansible.sh): site.yml passes Debian's
# ansible-playbook --syntax-check; the role's variable checks refuse each
# bad variable with a message naming it and pass good ones; the
# configuration template gives a file hmilockd --check-config accepts, with
# lists and booleans written as hmilock.conf(5) reads them, and a bad key is
# refused by the template's validation (hmilockd's message) before the file
# is written; ansible.cfg turns pipelining on (a locked box refuses module
# files run by python3, tests/guest/ansible.sh shows it).
. "$(dirname "$0")/lib.sh"
AN=$TOP/packaging/ansible
if ! command -v ansible-playbook >/dev/null 2>&1; then
	fail "ansible: ansible-playbook is not installed (tools/bootstrap.sh installs ansible-core)"
	finish
fi
T=$(mktemp -d /tmp/hmilock-ansible.XXXXXX)
on_exit rm -rf "$T"
export ANSIBLE_NOCOLOR=1 ANSIBLE_LOCAL_TEMP=$T/tmp ANSIBLE_REMOTE_TEMP=$T/rtmp HOME=$T
printf '[hmi]\nlocalhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n' >"$T/hosts"

if o=$(cd "$AN" && ansible-playbook -i "$T/hosts" --syntax-check site.yml 2>&1); then
	pass "ansible: site.yml and the role pass ansible-playbook --syntax-check ($(ansible-playbook --version | head -1))"
else
	fail "ansible: --syntax-check: $(tail -5 <<<"$o" | tr '\n' ' ')"
fi
v=$(cd "$AN" && ansible-config dump --only-changed 2>&1)
if grep -q '^ANSIBLE_PIPELINING(.*ansible.cfg) = True' <<<"$v" && grep -q '^DEFAULT_ROLES_PATH(.*ansible.cfg)' <<<"$v"; then
	pass "ansible: ansible.cfg turns pipelining on and names the roles directory"
else
	fail "ansible: ansible.cfg does not take: $(tr '\n' ' ' <<<"$v")"
fi

# The variable checks alone (tasks/check.yml: asserts, nothing else).
cat >"$T/check.yml" <<EOF
- hosts: localhost
  gather_facts: false
  tasks:
    - ansible.builtin.import_role:
        name: hmilock
        tasks_from: check
EOF
# check NAME WANT EXTRA_VARS_JSON: WANT is "ok" or a message the refusal has
check() {
	local o rc
	o=$(cd "$AN" && ansible-playbook -i "$T/hosts" "$T/check.yml" -e "$3" 2>&1)
	rc=$?
	if [ "$2" = ok ]; then
		if [ $rc -eq 0 ]; then pass "ansible: variables: $1 pass the checks"; else fail "ansible: variables: $1 refused: $(grep msg <<<"$o" | tail -1)"; fi
	elif [ $rc -ne 0 ] && grep -q -F "$2" <<<"$o"; then
		pass "ansible: variables: $1 refused: \"$2...\""
	else
		fail "ansible: variables: $1: rc $rc, want a refusal saying \"$2\": $(grep -E 'msg|ok=' <<<"$o" | tr '\n' ' ')"
	fi
}
check "the defaults" ok '{}'
check "an import with its files and a configuration" ok \
	'{"hmilock_enrol":"import","hmilock_import_file":"/x.hml","hmilock_import_pubkey":"/x.pub","hmilock_config":{"watch":{"mounts":["/"]}},"hmilock_audit_period":"3600"}'
check "an unknown hmilock_enrol" "hmilock_enrol is 'golden': it must be local or import" '{"hmilock_enrol":"golden"}'
check "an import without its export" "set hmilock_import_file (the signed export) and hmilock_import_pubkey" '{"hmilock_enrol":"import"}'
check "[agent] mode = enforce" "hmilock_config sets [agent] mode = enforce" '{"hmilock_config":{"agent":{"mode":"enforce"}}}'
check "a section that is no mapping" "hmilock_config must map section names to mappings of keys" '{"hmilock_config":{"agent":"mode=audit"}}'
check "an audit period of 7d" "hmilock_audit_period is '7d': a number of seconds" '{"hmilock_audit_period":"7d"}'

# The configuration template, as the role writes it (validated by hmilockd).
cat >"$T/conf.yml" <<EOF
- hosts: localhost
  gather_facts: false
  vars_files: [$AN/roles/hmilock/defaults/main.yml, $AN/roles/hmilock/vars/main.yml]
  tasks:
    - ansible.builtin.template:
        src: $AN/roles/hmilock/templates/hmilock.conf.j2
        dest: $T/hmilock.conf
        mode: "0644"
        validate: $BIN/hmilockd --check-config --config %s
EOF
o=$(cd "$AN" && ansible-playbook -i "$T/hosts" "$T/conf.yml" \
	-e '{"hmilock_config":{"watch":{"mounts":["/","/opt"]},"agent":{"strict_wx":false},"notify":{"message":"Call ext. 4711."}}}' 2>&1)
c=$(grep -v '^#' "$T/hmilock.conf" 2>/dev/null | grep -v '^$' | tr '\n' '|')
if [ "$c" = "[agent]|mode = audit|strict_wx = no|[notify]|message = Call ext. 4711.|[watch]|mounts = / /opt|" ] &&
	"$BIN/hmilockd" --check-config --config "$T/hmilock.conf" >/dev/null 2>&1; then
	pass "ansible: template: hmilock_config is written as hmilock.conf(5) reads it (mode = audit added, lists space-separated, booleans yes/no) and passes hmilockd --check-config"
else
	fail "ansible: template: got '$c': $(grep -E 'msg|stderr' <<<"$o" | tail -2 | tr '\n' ' ')"
fi
cp "$T/hmilock.conf" "$T/before"
o=$(cd "$AN" && ansible-playbook -i "$T/hosts" "$T/conf.yml" -e '{"hmilock_config":{"agent":{"bogus_key":1}}}' 2>&1)
if [ $? -ne 0 ] && grep -q '\[agent\] bogus_key: unknown key' <<<"$o" && cmp -s "$T/before" "$T/hmilock.conf"; then
	pass "ansible: template: an unknown key fails the validation with hmilockd's message ([agent] bogus_key: unknown key); the file is not replaced"
else
	fail "ansible: template: a bad key: $(grep -E 'msg|stderr' <<<"$o" | tail -2 | tr '\n' ' ')"
fi
finish
