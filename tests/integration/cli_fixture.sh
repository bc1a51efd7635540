# shellcheck shell=bash disable=SC2034
# tests/integration/cli_fixture.sh - helpers for the CLI scripts 10-19
# (source after lib.sh): hl runs hmilock on the test's own list, key and
# config (never the machine's), mk_tree builds a tree with every kind of file
# the scanner meets, PY_LIB holds python helpers for the JSON checks.
CONF=$T/hmilock.conf # empty (all defaults) unless a test writes it
: >"$CONF"
hl() { "$HMILOCK" --db "$T/db" --key "$T/key" --config "$CONF" "$@"; }

# expect_rc WANT NAME CMD...: PASS when CMD exits with WANT; output in $T/out, $T/err.
expect_rc() {
	local want=$1 name=$2 rc
	shift 2
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
	if [ "$rc" -eq "$want" ]; then
		pass "$name"
	else
		fail "$name: exit $rc, want $want: $(head -c 300 "$T/err")"
	fi
}

# grep_ok NAME PATTERN FILE: PASS when FILE has a line matching PATTERN.
grep_ok() {
	if grep -q -- "$2" "$3"; then pass "$1"; else fail "$1: no '$2' in $(basename "$3"): $(head -c 300 "$3")"; fi
}

grepi_ok() { # case-insensitive grep_ok
	if grep -qi -- "$2" "$3"; then pass "$1"; else fail "$1: no '$2' in $(basename "$3"): $(head -c 300 "$3")"; fi
}

# Files mk_tree creates that qualify for the list, and what it skips.
TREE_APPROVED=12 TREE_SPECIAL=3 TREE_SYMLINKS=4 TREE_NOTEXEC=1

# mk_tree DIR: programs (PIE, non-PIE), a shared object without exec bits,
# /bin/true, scripts with and without exec bits, a +x text file, odd names
# (space, newline, tab, UTF-8, non-UTF-8), a FIFO, a socket, a device,
# symlinks (to a file, a loop, to the parent dir) and a data file.
mk_tree() {
	local d=$1
	mkdir -p "$d/bin" "$d/lib" "$d/data" "$d/odd" "$d/special"
	printf 'int main(void) { return 0; }\n' >"$T/prog.c"
	printf 'int f(void) { return 1; }\n' >"$T/lib.c"
	cc -o "$d/bin/prog-pie" "$T/prog.c" || return 1
	cc -no-pie -o "$d/bin/prog-exec" "$T/prog.c" || return 1
	cc -shared -fPIC -o "$d/lib/libf.so" "$T/lib.c" && chmod 0644 "$d/lib/libf.so" || return 1
	cp /bin/true "$d/bin/true"
	printf '#!/bin/sh\necho hi\n' >"$d/bin/script.sh" && chmod 0755 "$d/bin/script.sh"
	printf '#!/usr/bin/python3 -u\npass\n' >"$d/bin/noexec-script" && chmod 0644 "$d/bin/noexec-script"
	printf 'echo plain\n' >"$d/bin/plain-x" && chmod 0755 "$d/bin/plain-x"
	printf 'just data\n' >"$d/data/readme.txt" && chmod 0644 "$d/data/readme.txt"
	cp /bin/true "$d/odd/with space"
	cp /bin/true "$d/odd/new"$'\n'"line"
	cp /bin/true "$d/odd/tab"$'\t'"here"
	cp /bin/true "$d/odd/"$'\xff\xfe'"-latin1"
	cp /bin/true "$d/odd/ünïcödé"
	mkfifo "$d/special/fifo"
	python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$d/special/sock"
	mknod "$d/special/null" c 1 3
	ln -s /bin/true "$d/bin/link-true"
	ln -s loop-b "$d/special/loop-a"
	ln -s loop-a "$d/special/loop-b"
	ln -s .. "$d/special/up"
}

# Python helpers: unesc() turns the CLI's escaped path form back into bytes;
# entries() reads a `list --json` array and gives (path bytes, entry) pairs.
PY_LIB="
import hashlib, json, os, sys
sys.path.insert(0, '$TOP/tests/integration')
from listjson import unesc, path_of, entries, sha
"
