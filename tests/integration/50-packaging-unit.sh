#!/bin/bash
# 50-packaging-unit.sh - `make install DESTDIR=...` lays the files out as
# the unit expects; systemd-analyze verify accepts the installed unit with
# its ExecStart binary and man pages present; the unit keeps the properties
# issue 6 asks for and no option that would give hmilockd a private mount
# namespace; its capability bounding set holds every capability the
# daemon's sandbox keeps; the tmpfiles.d entry creates root-only
# directories. No network, no package build. (helper F)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pkg.sh"
pkg_need systemd-analyze systemd-tmpfiles python3
need_root
UNIT=$TOP/packaging/hmilockd.service
val() { pkg_unit_value "$UNIT" "$1" "$2" | tail -1; }
vals() { pkg_unit_value "$UNIT" "$1" "$2" | tr ' ' '\n' | grep -v '^$'; }

# --- make install into a DESTDIR -----------------------------------------
D=$T/dest
if [ ! -x "$HMILOCK" ] || [ ! -x "$HMILOCKD" ]; then
	fail "unit: $HMILOCK and $HMILOCKD must be built first"
	finish
fi
flavor="rel"
ldd "$HMILOCKD" 2>/dev/null | grep -q libasan && flavor=test
if out=$(make -C "$TOP" -s install BUILD="$BIN" FLAVOR=$flavor DESTDIR="$D" 2>&1); then
	pass "unit: make install DESTDIR=... succeeds"
else
	fail "unit: make install failed: $out"
	finish
fi
units=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null || echo /lib/systemd/system)
tmpf=$(pkg-config --variable=tmpfilesdir systemd 2>/dev/null || echo /usr/lib/tmpfiles.d)
missing=
for f in /usr/sbin/hmilock /usr/sbin/hmilockd /etc/hmilock/hmilock.conf "$units/hmilockd.service" \
	"$tmpf/hmilock.conf" /usr/share/bash-completion/completions/hmilock; do
	[ -f "$D$f" ] || missing="$missing $f"
done
for p in $PKG_MANPAGES; do
	[ -f "$D/usr/share/man/man${p##*.}/$p" ] || missing="$missing man:$p"
done
if [ -z "$missing" ]; then
	pass "unit: install lays out programs, config, unit, tmpfiles, completion, man pages"
else
	fail "unit: not installed:$missing"
fi
# The included packaging rules do not take over `make`'s default goal.
goal=$(make -C "$TOP" -pn BUILD="$T/goal" 2>/dev/null | sed -n 's/^\.DEFAULT_GOAL := //p')
if [ "$goal" = all ]; then
	pass "unit: plain make still builds 'all' with packaging.mk included"
else
	fail "unit: make's default goal is '$goal', not all"
fi
# A second install keeps an existing (edited) config.
echo "# edited" >>"$D/etc/hmilock/hmilock.conf"
make -C "$TOP" -s install BUILD="$BIN" FLAVOR=$flavor DESTDIR="$D" >/dev/null 2>&1
if tail -1 "$D/etc/hmilock/hmilock.conf" | grep -q '^# edited$' && [ -f "$D/etc/hmilock/hmilock.conf.dist" ]; then
	pass "unit: make install keeps an existing config (new one as hmilock.conf.dist)"
else
	fail "unit: make install overwrote /etc/hmilock/hmilock.conf"
fi
# PREFIX moves the programs and the unit follows.
make -C "$TOP" -s install BUILD="$BIN" FLAVOR=$flavor DESTDIR="$T/dest2" PREFIX=/usr/local >/dev/null 2>&1
if [ -x "$T/dest2/usr/local/sbin/hmilockd" ] &&
	[ "$(pkg_unit_value "$T/dest2$units/hmilockd.service" Service ExecStart | awk '{print $1}')" = /usr/local/sbin/hmilockd ]; then
	pass "unit: PREFIX=/usr/local installs there and the unit's ExecStart follows"
else
	fail "unit: PREFIX=/usr/local: ExecStart does not point at the installed hmilockd"
fi

# --- systemd-analyze verify against the installed files --------------------
# The unit's absolute program paths are re-rooted into DESTDIR, man pages
# come from DESTDIR: verify then checks exactly what make install produced.
V=$T/verify
mkdir -p "$V"
sed -e "s|^\(Exec[A-Za-z]*=[-@:+!]*\)/|\1$D/|" "$D$units/hmilockd.service" >"$V/hmilockd.service"
o=$(MANPATH=$D/usr/share/man systemd-analyze verify "$V/hmilockd.service" 2>&1)
if [ $? -eq 0 ] && [ -z "$o" ]; then
	pass "unit: systemd-analyze verify clean (binaries and man pages of the install)"
else
	fail "unit: systemd-analyze verify: $(paste -sd';' - <<<"$o")"
fi
# ... and it does notice a missing binary (the check is real).
sed -e "s|^ExecStart=[^ ]*|ExecStart=$D/usr/sbin/hmilockd-missing|" "$V/hmilockd.service" >"$V/bad.service"
if ! MANPATH=$D/usr/share/man systemd-analyze verify "$V/bad.service" >/dev/null 2>&1; then
	pass "unit: systemd-analyze verify fails when ExecStart's binary is missing"
else
	fail "unit: systemd-analyze verify accepted a missing ExecStart binary"
fi

# --- the properties issue 6 asks for ----------------------------------------
expect() { # NAME GOT WANT
	if [ "$2" = "$3" ]; then pass "unit: $1 = $3"; else fail "unit: $1 is '$2', want '$3'"; fi
}
expect Type "$(val Service Type)" notify
expect NotifyAccess "$(val Service NotifyAccess)" main
expect Restart "$(val Service Restart)" always
# `hmilock stop` exits 4: the unit goes inactive, neither restarted nor failed
expect RestartPreventExitStatus "$(val Service RestartPreventExitStatus)" 4
expect SuccessExitStatus "$(val Service SuccessExitStatus)" 4
expect DefaultDependencies "$(val Unit DefaultDependencies)" no
expect NoNewPrivileges "$(val Service NoNewPrivileges)" yes
start=$(val Service ExecStart)
expect "ExecStart" "$start" "/usr/sbin/hmilockd --foreground"
wd=$(val Service WatchdogSec)
rs=$(val Service RestartSec)
secs() { systemd-analyze timespan "$1" 2>/dev/null | sed -n 's/^[^:]*s: *\([0-9][0-9]*\)$/\1/p'; }
if [ -n "$wd" ] && [ "$(secs "$wd")" -gt 0 ] 2>/dev/null && [ "$(secs "$wd")" -le 60000000 ]; then
	pass "unit: WatchdogSec=$wd (0 < watchdog <= 60 s)"
else
	fail "unit: WatchdogSec '$wd' not set or not within (0, 60 s]"
fi
if [ -n "$rs" ] && [ "$(secs "$rs")" -le 5000000 ] 2>/dev/null; then
	pass "unit: RestartSec=$rs (short)"
else
	fail "unit: RestartSec '$rs' missing or longer than 5 s"
fi
before=$(vals Unit Before)
after=$(vals Unit After)
if grep -qx -e sysinit.target -e basic.target <<<"$before" && grep -qx local-fs.target <<<"$after" &&
	grep -qx shutdown.target <<<"$before" && grep -qx shutdown.target <<<"$(vals Unit Conflicts)"; then
	pass "unit: ordered after local-fs, before $(grep -x -e sysinit.target -e basic.target <<<"$before" | head -1), stopped at shutdown"
else
	fail "unit: ordering: Before=[$before] After=[$after]"
fi
if ! vals Unit Requires | grep -q auditd && ! vals Unit BindsTo | grep -q auditd; then
	pass "unit: no hard dependency on auditd"
else
	fail "unit: hmilockd must not require auditd"
fi
wanted=$(vals Install WantedBy)
if grep -qx -e sysinit.target -e basic.target <<<"$wanted"; then
	pass "unit: WantedBy=$wanted (pulled in at the stage it is ordered in)"
else
	fail "unit: WantedBy '$wanted' does not pull hmilockd in early"
fi

# No private mount namespace: FAN_MARK_MOUNT fallback marks would then cover
# the namespace's copies of the mounts, not the host's, and the mount watch
# would read the wrong table (see the comment in the unit).
ns_opts="ProtectSystem ProtectHome PrivateTmp PrivateDevices PrivateMounts ReadWritePaths
ReadOnlyPaths InaccessiblePaths ExecPaths NoExecPaths TemporaryFileSystem BindPaths
BindReadOnlyPaths ProtectKernelTunables ProtectKernelModules ProtectKernelLogs
ProtectControlGroups ProtectProc ProcSubset RootDirectory RootImage MountAPIVFS
PrivateUsers DynamicUser"
bad=
for o in $ns_opts; do
	v=$(val Service "$o")
	case $v in "" | no | false | off | 0 | default) ;; *) bad="$bad $o=$v" ;; esac
done
if [ -z "$bad" ]; then
	pass "unit: no option that gives hmilockd its own mount namespace"
else
	fail "unit: mount-namespace options would hide host mounts from the marks:$bad"
fi
for o in User Group; do
	v=$(val Service $o)
	[ -z "$v" ] || [ "$v" = root ] || fail "unit: $o=$v: hmilockd must run as root"
done

# Capabilities: the bounding set holds what fanotify, BPF and audit need,
# every capability the sandbox keeps (sandbox_keep[] in agent/sandbox.c),
# and CAP_SETPCAP when the sandbox drops the bounding set itself (without
# it capng_apply() fails and hmilockd refuses to start).
bset=$(vals Service CapabilityBoundingSet)
need="CAP_SYS_ADMIN CAP_BPF CAP_PERFMON CAP_AUDIT_WRITE CAP_DAC_READ_SEARCH CAP_SYS_PTRACE"
# CAP_SYS_RESOURCE: [agent] user_namespaces = off writes user.max_user_namespaces
# at start (agent/mounts.c); dropped with the rest before seccomp
need="$need CAP_SYS_RESOURCE"
# CAP_DAC_OVERRIDE: the [update] cgroup root is made at start below the
# cgroup2 mount, mode 0555 under systemd (agent/update.c); dropped likewise
need="$need CAP_DAC_OVERRIDE"
# CAP_CHOWN: the events socket is given to [events] group at start
# (agent/ctl.c); dropped likewise
need="$need CAP_CHOWN"
if kept=$(python3 "$PKG_MANPARSE" c-array sandbox_keep "$TOP/agent/sandbox.c" 2>&1) &&
	grep -q '^CAP_' <<<"$kept"; then
	need="$need $(grep '^CAP_' <<<"$kept" | paste -sd' ' -)"
	grep -q -e CAPNG_BOUNDING_SET -e 'CAPNG_SELECT_\(ALL\|BOUNDS\)' "$TOP/agent/sandbox.c" &&
		need="$need CAP_SETPCAP"
else
	fail "unit: cannot read sandbox_keep[] in agent/sandbox.c: $kept"
fi
missing=
for c in $need; do
	grep -qx "$c" <<<"$bset" || missing="$missing $c"
done
if [ -n "$bset" ] && [ -z "$missing" ]; then
	pass "unit: CapabilityBoundingSet covers $(tr ' ' '\n' <<<"$need" | sort -u | paste -sd' ' -)"
else
	fail "unit: CapabilityBoundingSet [$(paste -sd' ' - <<<"$bset")] lacks$missing"
fi
extra=$(comm -23 <(sort -u <<<"$bset") <(tr ' ' '\n' <<<"$need" | sort -u) | paste -sd' ' -)
if [ -z "$extra" ]; then
	pass "unit: CapabilityBoundingSet holds nothing hmilockd does not use"
else
	fail "unit: CapabilityBoundingSet grants capabilities nothing needs: $extra"
fi

# --- tmpfiles.d: root-only directories ---------------------------------------
TR=$T/tmpfiles-root
mkdir -p "$TR/run" "$TR/var/lib"
if o=$(systemd-tmpfiles --root="$TR" --create "$TOP/packaging/hmilock.tmpfiles" 2>&1) &&
	[ "$(stat -c '%a %U' "$TR/run/hmilock")" = "700 root" ] &&
	[ "$(stat -c '%a %U' "$TR/var/lib/hmilock")" = "700 root" ]; then
	pass "unit: tmpfiles.d creates /run/hmilock and /var/lib/hmilock, 0700 root"
else
	fail "unit: tmpfiles.d: $o $(ls -ld "$TR"/run/hmilock "$TR"/var/lib/hmilock 2>&1)"
fi
# The daemon's default socket and list live in those directories.
sock=$(sed -n 's/^#define HMD_DEFAULT_SOCKET "\(.*\)"/\1/p' "$TOP/whitelist/config.h")
db=$(sed -n 's/^#define HMD_DEFAULT_DB "\(.*\)"/\1/p' "$TOP/whitelist/config.h")
if [ "$(dirname "$sock")" = /run/hmilock ] && [ "$(dirname "$db")" = /var/lib/hmilock ]; then
	pass "unit: the daemon's default socket and list are in the tmpfiles.d directories"
else
	fail "unit: default socket '$sock' / list '$db' are not under /run/hmilock, /var/lib/hmilock"
fi
finish
