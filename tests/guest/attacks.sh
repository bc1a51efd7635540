# tests/guest/attacks.sh - the attacks of issue 9 (classes 0 to 6), run as
# the user operator on the locked box; sourced by tests/guest/runner.sh in
# phase 1, after enforce (class 7, the maintenance window, is in
# after-reboot.sh). Uses the runner's helpers (pass, fail, hl, line,
# status_json, as_operator) and its state ($stick_ok, /tmp/dropped).
# shellcheck shell=bash disable=SC2154 # stick_ok, ... are the runner's

# The counters before the attacks: what they block is counted in status
# (checked at the end).
hl status --json >/tmp/status-before-attacks.json 2>&1

# --- attacks: interpreter control (issue 9, class 4) -------------------------
# Each attack runs as operator an unlisted script it wrote in /tmp: the
# script creates a marker file, so "denied" means the marker is missing, and
# hmilock events must show a deny naming the file (a deny logged while the
# script runs anyway is a FAIL too: the marker says so).
I9=/tmp/i9
I9L=/usr/local/lib/hmilock-i9
i9_py() { printf 'open("%s/ran-%s", "w").write("x")\nprint("RAN")\n' "$I9" "$1"; }
i9_sh() { printf ': >%s/ran-%s\necho RAN\n' "$I9" "$1"; }
i9_long=$(printf '%0100d' 0 | tr 0 n)
rm -rf "$I9" && mkdir -p "$I9/dir" "$I9/pkgm" "$I9/zip"
for n in plain ldso long-opt modx modb modr fd lnk-target decoy-py py-E "$i9_long"; do i9_py "$n" >"$I9/$n.py"; done
i9_py dir >"$I9/dir/__main__.py"
i9_py pkgm >"$I9/pkgm/__main__.py"
: >"$I9/pkgm/__init__.py"
i9_py zip >"$I9/zip/__main__.py"
python3 -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1], "w"); z.write(sys.argv[2], "__main__.py"); z.close()' \
	"$I9/app.zip" "$I9/zip/__main__.py"
for n in benv bplain decoy-sh long bash-e sh-e bash-dash; do i9_sh "$n" >"$I9/$n.sh"; done
# (perl -c compiles only, but runs BEGIN blocks; awk -f and mawk -W exec
# name its program)
printf 'BEGIN { open(my $f, ">", "%s/ran-perl-c"); print "RAN\n"; }\n' "$I9" >"$I9/perl-c.pl"
for n in awk-f awk-wexec; do printf 'BEGIN { printf "" > "%s/ran-%s"; print "RAN" }\n' "$I9" "$n" >"$I9/$n.awk"; done
ln -s "$I9/lnk-target.py" "$I9/lnk"
printf '{"a": [1, 2]}\n' >"$I9/data.json"
printf 'data line\n' >"$I9/data.txt"
chown -R operator:users "$I9"
# (the dynamic loader: x86-64's or AArch64's)
ldso=$(ls /lib64/ld-linux-x86-64.so.2 /lib/ld-linux-aarch64.so.1 2>/dev/null | head -1)

# i9_attack NAME FILE CMD: operator runs CMD (in $I9); FILE is the script
# that must be denied (its marker is ran-NAME).
i9_attack() {
	local name=$1 file=$2 cmd=$3 o ev
	rm -f "$I9/ran-$name"
	o=$(as_operator "cd $I9 && timeout -s KILL 60 $cmd")
	ev=$(hl events -n 400 2>/dev/null | grep -F -- "path=$file" | grep -E ' deny .*script')
	if [ -e "$I9/ran-$name" ] || grep -q '^RAN' <<<"$o"; then
		fail "interp: $name: operator's unlisted script ran ($cmd)$([ -n "$ev" ] && echo ' although a deny was logged'): $(line <<<"$o")"
	elif [ -z "$ev" ]; then
		fail "interp: $name: did not run, but no script deny event names $file ($cmd): $(line <<<"$o")"
	else
		pass "interp: $name: operator's unlisted script is denied and the deny is logged ($cmd)"
	fi
}
i9_attack plain "$I9/plain.py" "python3 $I9/plain.py"
i9_attack bplain "$I9/bplain.sh" "bash $I9/bplain.sh"
i9_attack benv "$I9/benv.sh" "env BASH_ENV=$I9/benv.sh bash $I9/benv.sh"
i9_attack ldso "$I9/ldso.py" "$ldso /usr/bin/python3 $I9/ldso.py"
i9_attack dir "$I9/dir/__main__.py" "python3 $I9/dir"
i9_attack dir "$I9/dir/__main__.py" "python3 $I9/dir/."
i9_attack modx "$I9/modx.py" "python3 -m modx"
i9_attack modb "$I9/modb.py" "python3 -Bm modb"
i9_attack pkgm "$I9/pkgm/__init__.py" "python3 -m pkgm"
i9_attack modr "$I9/modr.py" "python3 -m runpy modr"
i9_attack zip "$I9/app.zip" "python3 $I9/app.zip"
i9_attack long "$I9/long.sh" "bash -c 'exec -a \"\$(printf %04096d 0)\" bash $I9/long.sh'"
i9_attack long-opt "$I9/long-opt.py" "python3 -W \$(printf %04096d 0) $I9/long-opt.py"
# (event paths keep 63 bytes of a name)
i9_attack "$i9_long" "$I9/${i9_long:0:60}" "python3 $I9/$i9_long.py"
i9_attack lnk-target "$I9/lnk-target.py" "python3 $I9/lnk"
i9_attack fd "$I9/fd.py" "python3 /dev/fd/3 3<$I9/fd.py"
i9_attack decoy-py "$I9/decoy-py.py" "python3 -W libc.so.6 $I9/decoy-py.py"
i9_attack decoy-sh "$I9/decoy-sh.sh" "bash $I9/decoy-sh.sh libc.so.6"
# Option letters that are code for one interpreter are flags for another:
# -e is errexit for a shell, -E "ignore the environment" for python, -c
# "check" for perl (BEGIN blocks run), and "-" ends a shell's options (for
# python it is the program on stdin): the file after them is the script.
i9_attack bash-e "$I9/bash-e.sh" "bash -e $I9/bash-e.sh"
i9_attack sh-e "$I9/sh-e.sh" "sh -e $I9/sh-e.sh"
i9_attack bash-dash "$I9/bash-dash.sh" "bash - $I9/bash-dash.sh"
i9_attack py-E "$I9/py-E.py" "python3 -E $I9/py-E.py"
i9_attack perl-c "$I9/perl-c.pl" "perl -c $I9/perl-c.pl"
i9_attack awk-f "$I9/awk-f.awk" "awk -f $I9/awk-f.awk"
i9_attack awk-wexec "$I9/awk-wexec.awk" "mawk -W exec $I9/awk-wexec.awk"

# No false denials for code on the command line: what follows the code is
# data (find -exec sh -c '...' _ {}, python3 -c, perl -ne, a program on
# stdin), the data files being the operator's own.
# shellcheck disable=SC2016 # $1 and $l are the one-liners' own
for c in "python3 -c 'import sys; print(open(sys.argv[1]).read())' $I9/data.txt" \
	"sh -c 'read -r l <\"\$1\"; echo \"\$l\"' _ $I9/data.txt" \
	"bash -c 'read -r l <\"\$1\"; echo \"\$l\"' _ $I9/data.txt" \
	"perl -ne print $I9/data.txt" \
	"printf 'import sys\\nprint(open(sys.argv[1]).read())\\n' | python3 - $I9/data.txt"; do
	o=$(as_operator "cd $I9 && timeout -s KILL 60 $c; echo rc=\$?")
	if grep -q '^rc=0$' <<<"$o" && grep -q '^data line' <<<"$o"; then
		pass "interp: code: operator's one-liner reads its data file ($c)"
	else
		fail "interp: code: operator's one-liner cannot read its data file ($c): $(line <<<"$o")"
	fi
done

# No false denials: listed scripts reading data files named in their
# arguments, and a stdlib module run with -m on a file. (Listed in audit
# mode: maintenance and trusted updates cannot record on the guest's
# initramfs root, a filesystem without an fsid.)
# shellcheck disable=SC2016 # $1, $2 are the listed script's own
o=$(hl mode audit --password-file "$PW" 2>&1 && mkdir -p $I9L && chmod 755 $I9L &&
	printf '#!/usr/bin/python3\nimport sys\nopen(sys.argv[2], "w").write(open(sys.argv[1]).read())\n' >$I9L/ok.py &&
	printf '#!/usr/bin/python3\nimport sys, threading\nt = threading.Thread(target=lambda: open(sys.argv[2], "w").write(open(sys.argv[1]).read()))\nt.start()\nt.join()\n' >$I9L/ok-thread.py &&
	printf '#!/bin/bash\nread -r l <"$1"; echo "$l" >"$2"\n' >$I9L/ok.sh &&
	printf '#!/bin/bash\n(read -r l <"$1"; echo "$l" >"$2")\n' >$I9L/ok-fork.sh &&
	printf '#!/bin/bash\nbash "$1"\nexit $?\n' >$I9L/runs.sh &&
	printf '#!/usr/bin/python3\nimport os, sys\nif os.fork() == 0:\n    open(sys.argv[2], "w").write(open(sys.argv[1]).read())\n    os._exit(0)\nos.wait()\n' >$I9L/ok-fork.py &&
	chmod 755 $I9L/ok.py $I9L/ok-thread.py $I9L/ok.sh $I9L/ok-fork.sh $I9L/ok-fork.py $I9L/runs.sh &&
	hl add $I9L/ok.py $I9L/ok-thread.py $I9L/ok.sh $I9L/ok-fork.sh $I9L/ok-fork.py $I9L/runs.sh 2>&1 && hl reload 2>&1 && hl mode enforce --password-file "$PW" 2>&1)
if ! hl check "$I9L/ok.py" >/dev/null 2>&1 || ! hl check "$I9L/ok-thread.py" >/dev/null 2>&1 ||
	! hl check "$I9L/ok.sh" >/dev/null 2>&1 || ! hl check "$I9L/ok-fork.py" >/dev/null 2>&1 ||
	[ "$(status_json mode)" != enforce ]; then
	fail "interp: listed: cannot list $I9L/ok.py, ok.sh and lock again: $(line <<<"$o")"
fi
for c in "python3 $I9L/ok.py $I9/data.txt $I9/out-py" "bash $I9L/ok.sh $I9/data.txt $I9/out-sh" \
	"$ldso /usr/bin/python3 $I9L/ok.py $I9/data.txt $I9/out-ldso" \
	"python3 $I9L/ok-thread.py $I9/data.txt $I9/out-thread" \
	"bash $I9L/ok-fork.sh $I9/data.txt $I9/out-fork-sh" "python3 $I9L/ok-fork.py $I9/data.txt $I9/out-fork-py"; do
	out=${c##* }
	rm -f "$out"
	o=$(as_operator "cd $I9 && timeout -s KILL 60 $c; echo rc=\$?")
	if grep -q '^rc=0$' <<<"$o" && grep -q 'data line' "$out" 2>/dev/null; then
		pass "interp: listed: operator runs '$c' (reads its data file)"
	else
		fail "interp: listed: operator cannot run '$c': $(line <<<"$o")"
	fi
done
# A listed script that runs bash on the operator's file: the new bash (a
# fork and an exec of the same binary) is a new program, not a fork of the
# resolved script: it does not take the script's state.
i9_sh exec-child >"$I9/exec-child.sh" && chown operator:users "$I9/exec-child.sh"
i9_attack exec-child "$I9/exec-child.sh" "bash $I9L/runs.sh $I9/exec-child.sh"
o=$(as_operator "cd $I9 && timeout -s KILL 60 python3 -m json.tool $I9/data.json; echo rc=\$?")
if grep -q '^rc=0$' <<<"$o" && grep -q '"a"' <<<"$o"; then
	pass "interp: listed: operator runs 'python3 -m json.tool $I9/data.json' (a stdlib module on a file)"
else
	fail "interp: listed: 'python3 -m json.tool' on a file fails: $(line <<<"$o")"
fi

# --- attacks: the helper must never oops the kernel (issue 9, class 0) -------
# Anonymous executable memory, as every JIT maps it: on 6.12 the helper's
# mmap_file hook dereferenced the NULL file of such a mapping and the kernel
# killed the process with an oops. The operator's process must survive and
# the kernel log must stay clean. (Shared anonymous memory is a shmem file
# once mapped: mmap_file sees NULL, mprotect sees the file.)
for fl in MAP_PRIVATE MAP_SHARED; do
	o=$(as_operator "python3 -c 'import mmap
m = mmap.mmap(-1, 4096, flags=mmap.$fl, prot=mmap.PROT_READ | mmap.PROT_EXEC)
print(\"jit-ok\")'; echo rc=\$?")
	if grep -q '^jit-ok$' <<<"$o" && grep -q '^rc=0$' <<<"$o"; then
		pass "attack-class0: operator's anonymous $fl PROT_EXEC mmap (the hook sees a NULL file) runs and the process survives"
	else
		fail "attack-class0: anonymous $fl PROT_EXEC mmap killed or failed the process: $(line <<<"$o")"
	fi
done
# mprotect of private anonymous memory (no file behind it, the other hook
# with a NULL file): the process survives; making it executable is W^X's
# to refuse (-1), read-only is fine.
for prot in "mmap.PROT_READ | mmap.PROT_EXEC:-1" "mmap.PROT_READ:0"; do
	o=$(as_operator "python3 -c 'import mmap, ctypes
m = mmap.mmap(-1, 8192, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_WRITE)
a = ctypes.addressof(ctypes.c_char.from_buffer(m))
libc = ctypes.CDLL(None)
libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
print(\"mprotect\", libc.mprotect(a, 4096, ${prot%%:*}))'; echo rc=\$?")
	if grep -q "^mprotect ${prot##*:}\$" <<<"$o" && grep -q '^rc=0$' <<<"$o"; then
		pass "attack-class0: operator's mprotect(${prot%%:*}) of private anonymous memory returns ${prot##*:}; the process survives"
	else
		fail "attack-class0: mprotect(${prot%%:*}) of private anonymous memory: $(line <<<"$o")"
	fi
done

# --- attacks: native code without a file, W^X (issue 9, class 3) -----------
# A listed interpreter with an FFI is a userland loader: it writes machine
# code (here: mov eax, 42; ret) into memory and makes it executable. Each
# way to get written bytes executed must be refused (W^X is on by default).
wx() { # NAME PYTHON-SNIPPET: the snippet prints RAN when the code ran
	local o
	o=$(as_operator "python3 -c '
import ctypes, mmap, os
libc = ctypes.CDLL(None, use_errno=True)
libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
code = bytes([0xb8, 42, 0, 0, 0, 0xc3])
def run(addr):
    if ctypes.CFUNCTYPE(ctypes.c_int)(addr)() == 42: print(\"RAN\")
try:
$2
except OSError as e:
    print(\"refused\", e)
'; echo rc=\$?")
	if grep -q '^RAN$' <<<"$o"; then
		fail "attack-class3: $1: the written machine code ran: $(line <<<"$o")"
	elif grep -q -E '^(refused|mprotect -1)' <<<"$o"; then
		pass "attack-class3: $1: refused ($(grep -E '^(refused|mprotect)' <<<"$o" | head -1 | cut -c1-60))"
	else
		fail "attack-class3: $1: unexpected: $(line <<<"$o")"
	fi
}
wx "anonymous memory written, then mprotect(PROT_EXEC)" '    m = mmap.mmap(-1, 4096, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_WRITE)
    m.write(code)
    a = ctypes.addressof(ctypes.c_char.from_buffer(m))
    r = libc.mprotect(a, 4096, mmap.PROT_READ | mmap.PROT_EXEC)
    print("mprotect", r)
    if r == 0: run(a)'
wx "anonymous memory mapped writable and executable at once" '    m = mmap.mmap(-1, 4096, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    m.write(code)
    run(ctypes.addressof(ctypes.c_char.from_buffer(m)))'
wx "an executable anonymous region made writable" '    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
    a = libc.mmap(None, 4096, mmap.PROT_READ | mmap.PROT_EXEC, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1, 0)
    r = libc.mprotect(a, 4096, mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    print("mprotect", r)
    if r == 0:
        ctypes.memmove(a, code, len(code)); run(a)'
wx "a private writable and executable mapping of an approved file" '    fd = os.open("/usr/bin/true", os.O_RDONLY)
    m = mmap.mmap(fd, 4096, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    m.seek(0); m.write(code)
    run(ctypes.addressof(ctypes.c_char.from_buffer(m)))'
wx "pages of an approved file written (copy-on-write), then mprotect(PROT_EXEC)" '    fd = os.open("/usr/bin/true", os.O_RDONLY)
    m = mmap.mmap(fd, 4096, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_WRITE)
    m.seek(0); m.write(code)
    a = ctypes.addressof(ctypes.c_char.from_buffer(m))
    r = libc.mprotect(a, 4096, mmap.PROT_READ | mmap.PROT_EXEC)
    print("mprotect", r)
    if r == 0: run(a)'
wx "/proc/self/mem opened for writing (patches approved text)" '    f = open("/proc/self/mem", "r+b", buffering=0)
    print("opened")'
o=$(as_operator "python3 -c 'print(42)'")
if [ "$o" = 42 ]; then
	pass "attack-class3: W^X leaves python3 itself running"
else
	fail "attack-class3: python3 under W^X: $(line <<<"$o")"
fi
# node (V8 compiles JavaScript to machine code) is refused until exempted
o=$(as_operator "node -e 'console.log(\"node-ok\")'; echo rc=\$?")
if ! grep -q '^node-ok$' <<<"$o"; then
	pass "attack-class3: node, not exempted, cannot run its JIT under W^X ($(tail -1 <<<"$o"))"
else
	fail "attack-class3: node ran under W^X without an exemption"
fi
if hl events -n 200 2>/dev/null | grep -q -E '\bwx\b'; then
	pass "events: W^X refusals are in hmilock events (op wx)"
else
	fail "events: no wx event: $(hl events -n 5 2>&1 | line)"
fi

# --- attacks: mounts in other mount namespaces (issue 9, class 1) ------------
# Any user may make a user namespace on Debian 12: a tmpfs of their own in
# it carries no fanotify mark. The helper checks the exec wherever it is.
# shellcheck disable=SC2016 # expanded by operator's namespaced shell
o=$(as_operator 'unshare -Urm sh -c "mkdir -p \$HOME/m && mount -t tmpfs t \$HOME/m && cp /tmp/dropped \$HOME/m/x && \$HOME/m/x && echo RAN; echo rc=\$?"')
if grep -q '^rc=126$' <<<"$o" && ! grep -q '^RAN$' <<<"$o"; then
	pass "attack-class1: operator's dropped binary on a tmpfs of its own (unshare -Urm) is denied by the helper"
else
	fail "attack-class1: operator's dropped binary in its own mount namespace: $(line <<<"$o")"
fi

# --- attacks: approval laundering (issue 9, class 2) ------------------------
# The operator's own copy of a listed program, held open for writing and
# bind-mounted over the listed path in a namespace of its own: its exec
# reads back as /usr/bin/true with the listed hash. Were it approved, the
# operator would rewrite it through the fd and map it with ld.so (the fd
# stays open: its close would tell hmilockd to forget the file).
as_operator 'cp /usr/bin/true ~/t && cp /usr/bin/echo ~/evil && printf x >>~/evil' >/dev/null
# shellcheck disable=SC2016 # expanded by operator's namespaced shell
o=$(as_operator 'unshare -Urm sh -c "exec 3<>\$HOME/t; mount --bind \$HOME/t /usr/bin/true && /usr/bin/true; echo exec-rc=\$?; cat \$HOME/evil >&3; '"$ldso"' \$HOME/t PWNED; echo ldso-rc=\$?"')
if grep -q '^PWNED' <<<"$o"; then
	fail "attack-class2: the laundered copy was approved and ran rewritten code: $(line <<<"$o")"
elif grep -q 'exec-rc=126' <<<"$o" && grep -q -E 'ldso-rc=(1|12[67])' <<<"$o"; then
	pass "attack-class2: a copy bind-mounted over /usr/bin/true in a user namespace is not the listed file (exec denied), and rewritten it does not map ($(grep -o 'ldso-rc=[0-9]*' <<<"$o"))"
else
	fail "attack-class2: unexpected outcome: $(line <<<"$o")"
fi
if journalctl -b -u hmilockd --no-pager | grep -q 'deny.*/usr/bin/true'; then
	pass "attack-class2: hmilockd logged the deny of the laundered /usr/bin/true"
else
	fail "attack-class2: no deny of the laundered /usr/bin/true in hmilockd's log: $(journalctl -b -u hmilockd --no-pager | grep -i true | tail -2 | line)"
fi
# The helper's own rules: an approved library with a writer open is not
# mapped executable; a write through that old fd is refused and ends the
# approval, so closing the fd does not make it mappable again.
if [ $wlib_ok = 1 ]; then
	o=$(as_operator "python3 -c '$dl'")
	if grep -q '^refused' <<<"$o"; then
		pass "attack-class2: an approved library that root holds open for writing is not mapped executable"
	else
		fail "attack-class2: an approved library with a writer open was mapped: $(line <<<"$o")"
	fi
	if printf x >&7 2>/dev/null; then
		fail "attack-class2: a write through an fd opened before the approval went through"
	else
		pass "attack-class2: a write through an fd opened before the approval is refused"
	fi
	exec 7>&-
	o=$(as_operator "python3 -c '$dl'")
	if grep -q '^refused' <<<"$o"; then
		pass "attack-class2: after that write attempt the approval is gone: the library stays unmappable once the fd is closed"
	else
		fail "attack-class2: the library maps again after the refused write: $(line <<<"$o")"
	fi
fi

# --- attacks: stale approvals (issue 9, class 6) -----------------------------
# The stick's tool ran (approved in the helper's map by device and inode
# number); the stick is unmounted. The operator's own tmpfs in a namespace
# gets the freed anonymous device number and numbers its inodes from the
# start again: its first file has the tool's (dev, ino). An approval left
# behind would let a dropped binary run there.
if [ $stick_ok = 1 ]; then
	o=$(as_operator "/media/stick/tool && echo tool-ran")
	grep -q '^tool-ran$' <<<"$o" || fail "stale: the listed tool on the stick does not run: $(line <<<"$o")"
	want=$(stat -c '%d:%i' /media/stick/tool)
	if umount /media/stick; then
		# shellcheck disable=SC2016 # expanded by operator's namespaced shell
		o=$(as_operator 'unshare -Urm sh -c "mkdir -p \$HOME/s && mount -t tmpfs s \$HOME/s && cp /tmp/dropped \$HOME/s/tool && stat -c id=%d:%i \$HOME/s/tool && \$HOME/s/tool && echo RAN; echo rc=\$?"')
		got=$(sed -n 's/^id=//p' <<<"$o")
		if [ "$got" != "$want" ]; then
			fail "attack-class6: could not reproduce the reuse: the stick's tool was $want, the operator's file $got: $(line <<<"$o")"
		elif grep -q '^rc=126$' <<<"$o" && ! grep -q '^RAN$' <<<"$o"; then
			pass "attack-class6: operator's dropped binary with the unmounted stick's (dev, ino) $got is denied: the approval went with the stick"
		else
			fail "attack-class6: operator's dropped binary inherited the unmounted stick's approval ($got): $(line <<<"$o")"
		fi
	else
		fail "stale: cannot unmount /media/stick"
	fi
fi

# --- attacks: hashing denial of service (issue 9, class 5) ------------------
# The operator floods the daemon with execs of 64 GiB sparse files (four
# loops) while the box runs its own programs. On the old code every
# listed program waited behind the hashing until the watchdog (30 s)
# denied it. Each must now start, and well before the watchdog: within
# 10 s, a third of it (the guest runs under TCG on a shared machine, so a
# tighter bound would measure the host; the latency itself is measured in
# make bench, 24). The same execs without the flood are timed first and
# reported beside it. The sparse files are refused without being hashed.
# shellcheck disable=SC2016 # expanded by operator's shell
as_operator 'for i in 1 2 3 4; do truncate -s 64G /tmp/huge$i && chmod 755 /tmp/huge$i; done' >/dev/null
listed="/usr/bin/true /usr/bin/id /usr/bin/env /usr/bin/date /usr/bin/uname"
# class5_execs: run each listed program 3 times; sets worst (ms), slow
# (over 10 s) and denied_listed.
class5_execs() {
	local p ms t0
	slow=0 worst=0 denied_listed=0
	for p in $listed; do
		for _ in 1 2 3; do
			t0=$(date +%s%N)
			timeout -s KILL 35 "$p" >/dev/null 2>&1 || denied_listed=$((denied_listed + 1))
			ms=$((($(date +%s%N) - t0) / 1000000))
			[ $ms -gt $worst ] && worst=$ms
			[ $ms -gt 10000 ] && slow=$((slow + 1))
		done
	done
}
class5_execs
quiet_worst=$worst
flood=()
for i in 1 2 3 4; do
	runuser -u operator -- sh -c "while :; do /tmp/huge$i 2>/dev/null; done" &
	flood+=($!)
done
sleep 2
class5_execs
for pid in "${flood[@]}"; do kids=$(pgrep -P "$pid"); kill "$pid" $kids 2>/dev/null; done
wait "${flood[@]}" 2>/dev/null
rm -f /tmp/huge1 /tmp/huge2 /tmp/huge3 /tmp/huge4
if [ $slow = 0 ] && [ $denied_listed = 0 ]; then
	pass "attack-class5: during the operator's flood of 64 GiB sparse execs, 15 listed programs started, the slowest in $worst ms (without the flood: $quiet_worst ms)"
else
	fail "attack-class5: during the flood $slow listed execs took over 10 s (worst $worst ms; without the flood $quiet_worst ms), $denied_listed failed"
fi
if hl events -n 400 2>/dev/null | grep -q 'too-large.*/tmp/huge'; then
	pass "attack-class5: the sparse files were refused as too-large (not hashed)"
else
	fail "attack-class5: no too-large refusal of /tmp/huge*: $(hl events -n 3 2>&1 | line)"
fi

# --- root tamper: signals by another route (issue 10, item 6) ---------------
# As root, on the locked box: the kill guard hooks task_kill, and these two
# reach hmilockd without kill(2). Both must leave the same hmilockd running.
dpid=$(systemctl show -p MainPID --value hmilockd.service)
kills0=$(hl status --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["denied_by"]["helper"]["kill"])')
# F_SETOWN + F_SETSIG(SIGKILL) on a pipe, then I/O: the kernel's
# send_sigio() signals the owner (file_send_sigiotask)
o=$(DPID=$dpid python3 - 2>&1 <<'EOF2'
import fcntl, os
r, w = os.pipe()
fcntl.fcntl(r, fcntl.F_SETOWN, int(os.environ["DPID"]))
fcntl.fcntl(r, 10, 9)  # F_SETSIG, SIGKILL
fcntl.fcntl(r, fcntl.F_SETFL, os.O_ASYNC | os.O_NONBLOCK)
os.write(w, b"x")
print("sent")
EOF2
)
sleep 2
if [ "$o" = sent ] && kill -0 "$dpid" 2>/dev/null &&
	[ "$(systemctl show -p MainPID --value hmilockd.service)" = "$dpid" ]; then
	pass "root-tamper: F_SETOWN + F_SETSIG(SIGKILL) + I/O on a pipe owned by hmilockd: refused, hmilockd ($dpid) runs on"
else
	fail "root-tamper: the SIGIO route: '$(line <<<"$o")', hmilockd $dpid -> $(systemctl show -p MainPID --value hmilockd.service) ($(systemctl is-active hmilockd.service))"
fi
o=$(prlimit --cpu=1 --pid "$dpid" 2>&1)
rc=$?
lim=$(prlimit --cpu --pid "$dpid" --output SOFT --noheadings 2>&1 | tr -d ' ')
if [ $rc -ne 0 ] && grep -q -i 'not permitted' <<<"$o" && [ "$lim" = unlimited ]; then
	pass "root-tamper: prlimit --cpu=1 --pid hmilockd: refused ($(line <<<"$o")); its CPU limit stays $lim"
else
	fail "root-tamper: prlimit --cpu=1 on hmilockd: rc $rc '$(line <<<"$o")', limit now '$lim'"
fi
kills1=$(hl status --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["denied_by"]["helper"]["kill"])')
if [ "${kills1:-0}" -ge $((${kills0:-0} + 2)) ] && hl events -n 200 2>/dev/null | grep -q 'kill'; then
	pass "root-tamper: both are counted and logged as the helper's kill refusals ($kills0 -> $kills1)"
else
	fail "root-tamper: helper kill count $kills0 -> $kills1: $(hl events -n 5 2>&1 | line)"
fi

# --- root tamper: the files that decide enforcement (issue 10, items 1, 3, 7)
# As root on the locked box (an admin password is set): removing the
# password, editing the state file, renaming their directories away, and a
# trusted update's command removing hmilock's own files are all refused.
pf=$(hl status --json 2>/dev/null | python3 -c '
import json, sys
for f in json.load(sys.stdin)["protected"]:
    print("%s=%s" % (f["what"].replace(" ", "_"), f["state"]))')
if grep -qx 'admin_password=protected' <<<"$pf" && grep -qx 'state_file=protected' <<<"$pf" &&
	grep -qx 'list_key=protected' <<<"$pf" && grep -qx 'hmilockd_binary=protected' <<<"$pf"; then
	pass "root-tamper: status lists the files that decide enforcement as protected ($(grep -c '=protected' <<<"$pf") of $(wc -l <<<"$pf"))"
else
	fail "root-tamper: status protected: $(line <<<"$pf")"
fi
o1=$(rm -f /etc/hmilock/admin.pass 2>&1)
o2=$(mv /etc/hmilock /etc/hmilock.off 2>&1)
o3=$( (printf 'mode=audit\n' >/var/lib/hmilock/state) 2>&1)
o4=$(mv /var/lib/hmilock /var/lib/hmilock.off 2>&1)
o5=$(ln /etc/hmilock/list.key /root/list.key.link 2>&1)
if [ -s /etc/hmilock/admin.pass ] && [ -d /etc/hmilock ] && [ -d /var/lib/hmilock ] &&
	[ ! -e /root/list.key.link ] && grep -q -i 'not permitted' <<<"$o5" &&
	grep -q '^mode=enforce$' /var/lib/hmilock/state && [ "$(status_json mode)" = enforce ] &&
	grep -q -i 'not permitted' <<<"$o1" && grep -q -i 'not permitted' <<<"$o2" &&
	grep -q -i 'not permitted' <<<"$o3" && grep -q -i 'not permitted' <<<"$o4"; then
	pass "root-tamper: rm admin.pass, mv /etc/hmilock, mode=audit into the state file, mv /var/lib/hmilock, a hard link of the list key: each refused ($(line <<<"$o1")); the mode stays enforce"
else
	fail "root-tamper: protected files: rm '$(line <<<"$o1")' mv '$(line <<<"$o2")' state '$(line <<<"$o3")' mv '$(line <<<"$o4")' ln '$(line <<<"$o5")'; admin.pass $(stat -c %s /etc/hmilock/admin.pass 2>&1), state $(tr '\n' ' ' </var/lib/hmilock/state 2>&1 | cut -c1-80), mode $(status_json mode)"
fi
o=$(timeout 60 hmilock passwd --remove --password-file "$PW" 2>&1)
rc=$?
if [ $rc -ne 0 ] && [ -s /etc/hmilock/admin.pass ] && grep -q 'write-protected while the box is locked' <<<"$o"; then
	pass "root-tamper: hmilock passwd --remove, with the password, on the locked box: refused, it says to use a maintenance window"
else
	fail "root-tamper: passwd --remove while locked: rc $rc, admin.pass $(stat -c %s /etc/hmilock/admin.pass 2>&1): $(line <<<"$o")"
fi
pin=$(ls /sys/fs/bpf/hmilock 2>/dev/null | head -1)
o=$(timeout 300 hmilock update --password-file "$PW" -- sh -c \
	"rm -f /var/lib/hmilock/state /etc/hmilock/list.key /sys/fs/bpf/hmilock/$pin" 2>&1)
if [ -n "$pin" ] && [ -e "/sys/fs/bpf/hmilock/$pin" ] && [ -s /etc/hmilock/list.key ] &&
	grep -q '^mode=enforce$' /var/lib/hmilock/state && [ "$(status_json helper)" = "active (pinned)" ]; then
	pass "root-tamper: a trusted update's command cannot remove the state file, the list key or a pin ($pin): $(line <<<"$o" | cut -c1-160)"
else
	fail "root-tamper: inside hmilock update: pin '$pin' $(ls /sys/fs/bpf/hmilock 2>&1 | line), key $(stat -c %s /etc/hmilock/list.key 2>&1), state $(tr '\n' ' ' </var/lib/hmilock/state 2>&1 | cut -c1-80): $(line <<<"$o")"
fi

# A read-only fd of a helper map is enough for a BPF program of root's own
# to write it (the verifier does not check the fd's mode): none is given out.
o=$(python3 - 2>&1 <<'EOF2'
import ctypes, platform
libc = ctypes.CDLL(None, use_errno=True)
path = ctypes.create_string_buffer(b"/sys/fs/bpf/hmilock/hmk_approved")
attr = (ctypes.c_uint8 * 128)()
ctypes.c_uint64.from_buffer(attr, 0).value = ctypes.addressof(path)  # pathname
ctypes.c_uint32.from_buffer(attr, 12).value = 1 << 3  # file_flags = BPF_F_RDONLY
nr = {"x86_64": 321, "aarch64": 280}[platform.machine()]
fd = libc.syscall(nr, 7, attr, 128)  # BPF_OBJ_GET
print("fd" if fd >= 0 else "errno %d" % ctypes.get_errno())
EOF2
)
if [ "$o" = "errno 1" ]; then
	pass "root-tamper: a read-only fd of the helper's approved map (BPF_OBJ_GET, BPF_F_RDONLY) is refused (EPERM)"
else
	fail "root-tamper: BPF_OBJ_GET read-only of a helper map: $(line <<<"$o")"
fi

# --- one count of what was blocked (issue 13, item 1) ------------------------
# Most of the attacks above were refused by the helper, not by fanotify:
# status must count them in denied, with the breakdown by layer and
# operation (before, status said "denied: 0" after 28 blocked attacks).
hl status --json >/tmp/status-after-attacks.json 2>&1
# (The file names go in the environment: a file named in a listed
# interpreter's argv, with no approved script opened, is refused as its
# script, docs/helper.md.)
o=$(ST_A=/tmp/status-before-attacks.json ST_B=/tmp/status-after-attacks.json WLIB=${wlib_ok:-0} python3 - <<'EOF'
import json, os
a, b = (json.load(open(os.environ[k])) for k in ("ST_A", "ST_B"))
ha, hb = a["denied_by"]["helper"], b["denied_by"]["helper"]
d = {k: hb[k] - ha.get(k, 0) for k in hb}
total = b["denied_by"]["fanotify"]["exec"] + sum(hb.values())
moved = ", ".join("%s +%d" % (k, v) for k, v in d.items() if v)
want = {"script": 13, "wx": 1, "exec": 2}
if os.environ["WLIB"] == "1":
    want["mmap"] = 1
short = [k for k, n in want.items() if d.get(k, 0) < n]
if b["denied"] != total:
    print("BAD denied %d is not fanotify %d + helper %d" % (b["denied"], b["denied_by"]["fanotify"]["exec"], sum(hb.values())))
elif short:
    print("BAD helper counts too low for %s (moved: %s)" % (" ".join(short), moved))
else:
    print("OK denied %d -> %d; helper %s" % (a["denied"], b["denied"], moved))
EOF
)
if [[ $o == OK* ]]; then
	pass "counts: status counts the helper's refusals in denied, by operation (${o#OK })"
else
	fail "counts: $(line <<<"${o#BAD }")"
fi
st=$(hl status 2>&1)
if grep -q -E '^denied by: .*helper: .*script [0-9]+' <<<"$st"; then
	pass "counts: text status breaks the denials down ($(grep '^denied by:' <<<"$st" | cut -c13-120))"
else
	fail "counts: text status has no helper breakdown: $(grep -E '^(decisions|denied by)' <<<"$st" | line)"
fi

# --- root tamper: stop, unpin, a daemon of root's own (issue 10, item 2) -----
# Last in phase 1 (it restarts hmilockd, which starts status's counts
# again). As root on the locked box, with an admin password set:
# `systemctl stop hmilockd`, `systemctl kill -s KILL` and cgroup.kill are
# refused, and hmilockd runs on; `hmilock stop` with the password stops it,
# the pinned helper going on enforcing, and nothing root runs next may
# remove or lower it without the password: `hmilockd --unpin` (no or a
# wrong password), an hmilockd of its own with another configuration
# (whose state says audit), and mounts over its files before the service's
# next start.
rt_denied() { # the dropped copy of true does not run
	cp /usr/bin/true /tmp/rt-drop 2>/dev/null
	chmod 755 /tmp/rt-drop
	! /tmp/rt-drop 2>/dev/null
}
rt_pins() { ls /sys/fs/bpf/hmilock 2>/dev/null | wc -l; }
pins0=$(rt_pins)
# wait_unit STATE SECONDS: until hmilockd.service is STATE
wait_unit() {
	local i=0
	while [ "$(systemctl is-active hmilockd.service)" != "$1" ] && [ $i -lt "$2" ]; do
		sleep 1
		i=$((i + 1))
	done
	[ "$(systemctl is-active hmilockd.service)" = "$1" ]
}
pid0=$(systemctl show -p MainPID --value hmilockd.service)
t0=$(date +%s)
o=$(timeout 100 systemctl stop hmilockd.service 2>&1)
rc=$?
t1=$(date +%s)
wait_unit active 40
pid1=$(systemctl show -p MainPID --value hmilockd.service)
if [ "$pid0" -gt 0 ] && kill -0 "$pid0" 2>/dev/null && rt_denied &&
	[ "$(status_json pid)" = "$pid0" ] && [ "$(status_json mode)" = enforce ] &&
	journalctl -u hmilockd -n 200 --no-pager | grep -q "from pid 1 (systemd): stop refused: the box is locked" &&
	[ "$(systemctl is-active hmilockd.service)" = active ] && [ "$pid1" != "$pid0" ]; then
	pass "root-tamper: systemctl stop hmilockd on the locked box is refused (systemctl returned $rc after $((t1 - t0)) s without stopping it); hmilockd ($pid0) runs on and enforces, and the unit is active again (pid $pid1 stands by)"
else
	fail "root-tamper: systemctl stop: rc $rc '$(line <<<"$o")' after $((t1 - t0)) s; hmilockd $pid0 $(kill -0 "$pid0" 2>/dev/null && echo alive || echo gone), status pid $(status_json pid), unit $(systemctl is-active hmilockd.service) (main $pid1); $(journalctl -u hmilockd -n 200 --no-pager | grep -i 'stop' | tail -3 | line)"
fi
cg=/sys/fs/cgroup$(sed -n 's/^0:://p' "/proc/$pid0/cgroup")
o1=$(systemctl kill -s KILL hmilockd.service 2>&1)
sleep 2
o2=$(sh -c "echo 1 >$cg/cgroup.kill" 2>&1)
r2=$?
o3=$(sh -c "echo 1 >$cg/cgroup.freeze" 2>&1)
r3=$?
[ $r3 -eq 0 ] && echo 0 >"$cg/cgroup.freeze"
sleep 1
if kill -0 "$pid0" 2>/dev/null && [ $r2 -ne 0 ] && [ $r3 -ne 0 ] && [ "$(status_json pid)" = "$pid0" ] &&
	grep -qi 'not permitted' <<<"$o2"; then
	pass "root-tamper: systemctl kill -s KILL, cgroup.kill and cgroup.freeze of $cg: hmilockd ($pid0) runs on ($(line <<<"$o2" | cut -c1-80))"
else
	fail "root-tamper: kill routes: hmilockd $pid0 $(kill -0 "$pid0" 2>/dev/null && echo alive || echo gone); systemctl kill '$(line <<<"$o1")', cgroup.kill rc $r2 '$(line <<<"$o2")', cgroup.freeze rc $r3"
fi
# (systemd cleans up after the killed standby, hmilockd refuses that stop
# too and has the unit started again)
wait_unit active 60
o=$(hl stop --password-file "$PW" 2>&1)
rc=$?
wait_unit inactive 30
sleep 1
if [ $rc -eq 0 ] && ! kill -0 "$pid0" 2>/dev/null && [ "$(systemctl is-active hmilockd.service)" = inactive ] &&
	[ "$(rt_pins)" = "$pins0" ] && [ "$pins0" -gt 0 ] && rt_denied; then
	pass "root-tamper: hmilock stop with the admin password stops hmilockd ($(line <<<"$o" | cut -c1-80)); the unit is inactive, not failed, and the pinned helper ($pins0 pins) still denies a dropped binary"
else
	fail "root-tamper: hmilock stop: rc $rc '$(line <<<"$o")'; hmilockd $pid0 $(kill -0 "$pid0" 2>/dev/null && echo alive || echo gone), unit $(systemctl is-active hmilockd.service) ($(systemctl show -p Result -p ExecMainCode -p ExecMainStatus hmilockd.service | line)), pins $pins0 -> $(rt_pins), drop denied: $(rt_denied && echo yes || echo no)"
	journalctl -u hmilockd -n 60 --no-pager | grep -E 'systemd\[1\]|took|stopping|standing' | tail -12 | cut -c17-220 |
		while read -r l; do say "    $l"; done
fi
o1=$(env -u HMILOCK_PASSWORD -u HMILOCK_PASSWORD_FILE timeout 60 hmilockd --unpin 2>&1)
r1=$?
o2=$(HMILOCK_PASSWORD=not-the-password timeout 60 hmilockd --unpin 2>&1)
r2=$?
if [ $r1 -ne 0 ] && [ $r2 -ne 0 ] && grep -q 'admin password is set' <<<"$o1" &&
	grep -q 'wrong admin password' <<<"$o2" && [ "$(rt_pins)" = "$pins0" ] && rt_denied; then
	pass "root-tamper: hmilockd --unpin without the password ($(line <<<"$o1" | cut -c1-110)) and with a wrong one: refused, the helper stays"
else
	fail "root-tamper: --unpin: rc $r1 '$(line <<<"$o1")', wrong password rc $r2 '$(line <<<"$o2")', pins $(rt_pins)"
fi
rm -rf /tmp/evil && mkdir -p /tmp/evil
sed 's|^db = .*|db = /tmp/evil/approved.db|; s|^socket = /run.*|socket = /tmp/evil/sock|' \
	/etc/hmilock/hmilock.conf >/tmp/evil/hmilock.conf
cp /var/lib/hmilock/approved.db /tmp/evil/approved.db
printf 'mode=audit\nwindow=none\n' >/tmp/evil/state
o=$(timeout 60 hmilockd --foreground --config /tmp/evil/hmilock.conf 2>&1)
rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q 'enforces under another configuration' <<<"$o" &&
	[ "$(rt_pins)" = "$pins0" ] && rt_denied; then
	pass "root-tamper: an hmilockd started with root's own configuration (state: audit) is refused by the locked helper and exits ($rc); the drop stays denied"
else
	fail "root-tamper: hmilockd --config /tmp/evil: rc $rc, pins $(rt_pins), drop denied: $(rt_denied && echo yes || echo no): $(grep -i -m1 'helper' <<<"$o" | line)"
fi
# Mounts over hmilock's files (issue 10, item 4), while no daemon runs:
# the pinned helper refuses each one where hmilockd would see it (the host's
# namespace, or a namespace whose mounts propagate back to it); in a private
# namespace a mount is allowed and changes nothing hmilockd reads.
printf 'mode=audit\nwindow=none\n' >/tmp/evil/fake-state
mkdir -p /tmp/evil/etc
# mount(2) itself, for its errno (mount(8) words an EPERM from move_mount
# as "mount point is not a directory")
rt_mount() { # SOURCE TARGET TYPE|"" FLAGS
	python3 -c '
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
t = sys.argv[3].encode() or None
r = libc.mount(sys.argv[1].encode(), sys.argv[2].encode(), t, int(sys.argv[4]), None)
print("mounted" if r == 0 else os.strerror(ctypes.get_errno()))
sys.exit(0 if r == 0 else 1)' "$@"
}
o1=$(rt_mount /tmp/evil/fake-state /var/lib/hmilock/state "" 4096 2>&1)
r1=$?
o2=$(rt_mount evil /etc/hmilock tmpfs 0 2>&1)
r2=$?
o3=$(unshare -m --propagation shared python3 -c '
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
r = libc.mount(b"/tmp/evil/fake-state", b"/var/lib/hmilock/state", None, 4096, None)
print("mounted" if r == 0 else os.strerror(ctypes.get_errno()))
sys.exit(0 if r == 0 else 1)' 2>&1)
r3=$?
o4=$(unshare -m --propagation private sh -c 'mount --bind /tmp/evil/fake-state /var/lib/hmilock/state && cat /var/lib/hmilock/state' 2>&1)
r4=$?
[ $r1 -eq 0 ] && umount /var/lib/hmilock/state
[ $r2 -eq 0 ] && umount /etc/hmilock
if [ $r1 -ne 0 ] && [ $r2 -ne 0 ] && [ $r3 -ne 0 ] && [ "$o1" = "Operation not permitted" ] &&
	[ "$o2" = "Operation not permitted" ] && [ "$o3" = "Operation not permitted" ] &&
	! grep -q 'mode=audit' /var/lib/hmilock/state; then
	pass "root-tamper: a bind mount over the state file, a tmpfs over /etc/hmilock, and a bind in a namespace that propagates back: each refused by the pinned helper (EPERM)"
else
	fail "root-tamper: mounts over hmilock's files: state rc $r1 '$(line <<<"$o1")', /etc/hmilock rc $r2 '$(line <<<"$o2")', shared ns rc $r3 '$(line <<<"$o3")'"
fi
if [ $r4 -eq 0 ] && grep -q 'mode=audit' <<<"$o4" && ! grep -q 'mode=audit' /var/lib/hmilock/state; then
	pass "root-tamper: the same bind in a private mount namespace is allowed (systemd's sandboxing keeps working) and leaves the host's file as it was"
else
	fail "root-tamper: bind in a private namespace: rc $r4 '$(line <<<"$o4")', host's state: $(tr '\n' ' ' </var/lib/hmilock/state | cut -c1-60)"
fi
systemctl start hmilockd.service
sleep 2
if [ "$(status_json mode)" = enforce ] && [ "$(status_json helper)" = "active (pinned)" ] && rt_denied; then
	pass "root-tamper: the restarted hmilockd re-attaches in enforce"
else
	fail "root-tamper: restart: mode $(status_json mode), helper $(status_json helper), drop denied: $(rt_denied && echo yes || echo no)"
fi
# A forged list (issue 10, item 4): root would copy the list, add a program
# of its own and sign it with the list key. The key is readable only by
# hmilockd while locked, so that fails; the CLI's readers still work (they
# take the list hmilockd vouches for). The unchanged copy cannot be put at
# the list path either: mounted over it (refused, above) or renamed over it
# (refused: the list is protected).
rm -rf /tmp/forge && mkdir -p /tmp/forge
cp /usr/bin/true /tmp/forge/evil && chmod 755 /tmp/forge/evil
cp /var/lib/hmilock/approved.db /tmp/forge/approved.db
ko=$(cat /etc/hmilock/list.key 2>&1 >/dev/null)
kr=$?
ao=$(timeout 300 hmilock --db /tmp/forge/approved.db --socket /tmp/forge/sock add /tmp/forge/evil 2>&1)
ar=$?
lo=$(hl list 2>&1)
lr=$?
if [ $kr -ne 0 ] && grep -qi 'not permitted' <<<"$ko" && [ $ar -ne 0 ] &&
	grep -q 'cannot open key file' <<<"$ao" && [ $lr -eq 0 ] && grep -q ' /usr/bin/true$' <<<"$lo" &&
	hl check /usr/bin/true >/dev/null 2>&1 && ! hmilock --db /tmp/forge/approved.db check /tmp/forge/evil >/dev/null 2>&1; then
	pass "root-tamper: root cannot read the list key (cat: $(line <<<"$ko" | cut -c1-60)), so cannot sign a list of its own ($(line <<<"$ao" | cut -c1-100)); hmilock list and check still work"
else
	fail "root-tamper: list key: cat rc $kr '$(line <<<"$ko")', add to a copy rc $ar '$(line <<<"$ao")', list rc $lr '$(head -3 <<<"$lo" | line)'"
fi
o1=$(rt_mount /tmp/forge/approved.db /var/lib/hmilock/approved.db "" 4096 2>&1)
r1=$?
[ $r1 -eq 0 ] && umount /var/lib/hmilock/approved.db
o2=$(cp /tmp/forge/approved.db /var/lib/hmilock/approved.db.new 2>&1 && mv /var/lib/hmilock/approved.db.new /var/lib/hmilock/approved.db 2>&1)
r2=$?
rm -f /var/lib/hmilock/approved.db.new
o=$(timeout 60 hmilock reload 2>&1)
rc=$?
/tmp/forge/evil 2>/dev/null
erc=$?
if [ "$o1" = "Operation not permitted" ] && [ $r2 -ne 0 ] && [ $rc -eq 0 ] && [ $erc -ne 0 ] &&
	[ "$(status_json mode)" = enforce ]; then
	pass "root-tamper: another list file cannot be put at the list path (mount: $(line <<<"$o1" | cut -c1-80); rename: $(line <<<"$o2" | cut -c1-80)); the reload keeps the real list and a dropped program stays denied"
else
	fail "root-tamper: list path: mount rc $r1 '$(line <<<"$o1")', rename rc $r2 '$(line <<<"$o2")', reload rc $rc '$(line <<<"$o")', evil exit $erc, mode $(status_json mode)"
fi
rm -rf /tmp/forge
hl stop --password-file "$PW" >/dev/null 2>&1
wait_unit inactive 30
o=$(timeout 60 hmilockd --unpin --password-file "$PW" 2>&1)
rc=$?
systemctl start hmilockd.service
sleep 2
if [ $rc -eq 0 ] && [ "$(status_json mode)" = enforce ] && rt_denied &&
	[ "$(status_json helper)" = "active (pinned)" ]; then
	pass "root-tamper: with the admin password, hmilockd --unpin removes the helper ($(line <<<"$o")); the service's start loads it again, in enforce"
else
	fail "root-tamper: --unpin with the password: rc $rc '$(line <<<"$o")'; after start: mode $(status_json mode), helper $(status_json helper)"
fi
rm -rf /tmp/evil /tmp/rt-drop
