#!/bin/bash
# 66-apt-hook: packaging/apt/99hmilock makes a package install a trusted
# update. The hook commands are read out of the shipped file with
# apt-config and run the way apt runs them (each as `sh -c CMD`, a child of
# the apt process, before and after dpkg); dpkg installs a small local .deb
# built here with dpkg-deb into the watched tmpfs (its own --admindir, so
# the machine's package database is never touched). Its binaries end up
# approved, its postinst runs what was just unpacked while the box is
# locked, a file written outside meanwhile stays unlisted, and removing the
# package takes its files off the list.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_fixture.sh"
. "$(dirname "$0")/maint_fixture.sh"
need_root
[ -n "$C2" ] || { skip "apt hook: no cgroup2 mount on this host"; finish; }
for p in dpkg dpkg-deb apt-config; do
	command -v $p >/dev/null || { skip "apt hook: $p not installed"; finish; }
done
HOOK=$TOP/packaging/apt/99hmilock

setup_mount || { fail "apt hook: cannot mount tmpfs"; finish; }
cp /bin/true "$W/bin/true"
make_list "$W/bin" || { fail "apt hook: hmilock init"; finish; }
write_mconf enforce
start_daemon || { fail "apt hook: daemon did not start"; finish; }
gen0=$(list_gen)

# The hook commands, as apt parses them, pointed at this test's daemon.
cat >"$T/hmilock-cli" <<EOS
#!/bin/sh
exec "$HMILOCK" --db "$DB" --key "$KEY" --config "$T/cli.conf" --socket "$SOCK" "\$@"
EOS
chmod 0755 "$T/hmilock-cli"
hooks() {
	apt-config -c "$HOOK" dump "DPkg::$1" | grep 'hmilock update' |
		sed -n 's/^DPkg::[A-Za-z-]*:: "\(.*\)";$/\1/p' |
		sed -e "s|/usr/sbin/hmilock|$T/hmilock-cli|g" -e "s|/run/hmilock/hmilockd.sock|$SOCK|g"
}
hooks Pre-Invoke >"$T/pre"
hooks Post-Invoke >"$T/post"
check "apt hook: apt-config reads one Pre-Invoke hook" test "$(wc -l <"$T/pre")" -eq 1
check "apt hook: apt-config reads one Post-Invoke hook" test "$(wc -l <"$T/post")" -eq 1
# A stand-in for apt: Pre-Invoke hooks (a failing one stops it), dpkg,
# Post-Invoke hooks. As apt (RunScripts): a forked child runs the hooks, each
# with system(3), and exits; dpkg is forked by apt itself. (A hook that
# moved its own parent, the child, would leave dpkg out of the session.)
cat >"$T/fake-apt" <<'EOS'
#!/bin/bash
(while IFS= read -r c; do sh -c "$c" || exit 100; done <"$HOOK_PRE") || { echo "E: Pre-Invoke failed"; exit 100; }
"$@"
rc=$?
(while IFS= read -r c; do sh -c "$c" || exit 100; done <"$HOOK_POST") || rc=100
exit $rc
EOS
chmod 0755 "$T/fake-apt"
export HOOK_PRE=$T/pre HOOK_POST=$T/post

# The package: a binary, a library, a data file, a postinst running the binary.
P=$T/pkg
mkdir -p "$P/DEBIAN" "$P$W/opt/hello/bin" "$P$W/opt/hello/lib" "$P$W/opt/hello/share"
cp /bin/echo "$P$W/opt/hello/bin/hello"
cp "$(readlink -f "$(ldd /bin/ls | awk '/libc.so/ { print $3 }')")" "$P$W/opt/hello/lib/libc-copy.so"
echo "read me" >"$P$W/opt/hello/share/README"
printf 'Package: hmilock-test-hello\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@example.org>\nDescription: test\n' >"$P/DEBIAN/control"
printf '#!/bin/sh\n%s/opt/hello/bin/hello postinst-ran >%s/postinst.out\n' "$W" "$T" >"$P/DEBIAN/postinst"
chmod 0755 "$P/DEBIAN/postinst"
dpkg-deb --root-owner-group -b "$P" "$T/hello.deb" >/dev/null 2>&1 || { fail "apt hook: dpkg-deb"; finish; }
A=$T/admin
mkdir -p "$A/info" "$A/updates" "$A/triggers"
touch "$A/status" "$A/available"
DPKG=(dpkg --admindir="$A" --log="$T/dpkg.log" --force-not-root)

(sleep 0.2; cp /bin/ls "$W/tmp/outside") &
bg=$!
"$T/fake-apt" "${DPKG[@]}" -i "$T/hello.deb" >"$T/apt.out" 2>&1
check "apt hook: install through the hooks succeeds" test $? -eq 0
wait $bg
check "apt hook: postinst ran the just-unpacked binary while locked" grep -qx postinst-ran "$T/postinst.out"
check "apt hook: the package's binary is approved" listed "$W/opt/hello/bin/hello"
check "apt hook: the package's library is approved" listed "$W/opt/hello/lib/libc-copy.so"
check "apt hook: the data file is not" unlisted "$W/opt/hello/share/README"
check "apt hook: no dpkg temporary name on the list" bash -c '! "$1" list 2>/dev/null | grep -q dpkg-new' _ "$T/hmilock-cli"
check "apt hook: a file written outside meanwhile stays unlisted" unlisted "$W/tmp/outside"
check "apt hook: one new generation" test "$(list_gen)" -eq $((gen0 + 1))
check "apt hook: box stayed locked" test "$(status_field mode)" = enforce
expect_exec "apt hook: the installed binary runs locked" 0 "$W/opt/hello/bin/hello" hi
expect_exec "apt hook: the outside file is refused" 126 "$W/tmp/outside"
for _ in $(seq 30); do ls -d "$CGR"/s* >/dev/null 2>&1 || break; sleep 0.1; done
check "apt hook: session cgroup removed" bash -c '! ls -d "$1"/s* 2>/dev/null' _ "$CGR"

"$T/fake-apt" "${DPKG[@]}" -r hmilock-test-hello >"$T/apt2.out" 2>&1
check "apt hook: remove through the hooks succeeds" test $? -eq 0
check "apt hook: removed binary left the list" unlisted "$W/opt/hello/bin/hello"
check "apt hook: removed library left the list" unlisted "$W/opt/hello/lib/libc-copy.so"

# A refusing daemon stops the install before dpkg runs.
hl maintenance begin >/dev/null
"$T/fake-apt" "${DPKG[@]}" -i "$T/hello.deb" >"$T/apt3.out" 2>&1
check "apt hook: refused session stops apt (exit 100)" test $? -eq 100
check "apt hook: dpkg did not run" test ! -e "$W/opt/hello/bin/hello"
check "apt hook: the refusal names the open window" grep -q "a maintenance window is open already: make the change inside it, or end it first" "$T/apt3.out"
check "apt hook: ... and says that nothing was installed and what to do" grep -q "apt stops before dpkg, nothing was installed or removed. Fix what the line above names" "$T/apt3.out"
hl maintenance end --discard >/dev/null

# A commit that fails (here: no session, as when the daemon was restarted
# between the hooks) says that the packages are not approved yet.
sh -c "$(cat "$T/post")" >"$T/post.out" 2>&1
check "apt hook: a failing Post-Invoke fails" test $? -ne 0
check "apt hook: ... and points to the review" grep -q "not approved yet. See hmilock maintenance status, then hmilock maintenance end --review" "$T/post.out"
finish
