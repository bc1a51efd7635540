#!/bin/bash
# 15-cli-bad-input: usage errors (no command, unknown command or option,
# missing argument, global option after the command) exit 2 with a message;
# broken list files (empty, truncated, one flipped byte, another key, a
# future format version, garbage) and bad keys are refused by every command
# with exit 2 and a message naming the file, and the file is never changed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cli_fixture.sh"

# ---- usage -------------------------------------------------------------
expect_rc 0 "usage: --help" "$HMILOCK" --help
for c in init add remove list verify check status mode reload events; do
	grep_ok "usage: --help lists $c" "^  $c " "$T/out"
done
expect_rc 0 "usage: -h" "$HMILOCK" -h
expect_rc 0 "usage: --version" "$HMILOCK" --version
grep_ok "usage: version printed" "^hmilock [0-9]" "$T/out"
expect_rc 2 "usage: no command" "$HMILOCK"
grep_ok "usage: no command says so" "no command" "$T/err"
expect_rc 2 "usage: no command after globals" "$HMILOCK" --db "$T/db"
expect_rc 2 "usage: unknown command" "$HMILOCK" frobnicate
grep_ok "usage: unknown command named" "frobnicate" "$T/err"
expect_rc 2 "usage: unknown global option" "$HMILOCK" --bogus list
grep_ok "usage: unknown global option named" "bogus" "$T/err"
expect_rc 2 "usage: global option without its argument" "$HMILOCK" --db
grep_ok "usage: missing argument named" "db" "$T/err"
expect_rc 2 "usage: unknown command option" hl list --bogus
grep_ok "usage: unknown command option named" "bogus" "$T/err"
expect_rc 2 "usage: command option without its argument" hl init --workers
grep_ok "usage: missing --workers argument named" "workers" "$T/err"
expect_rc 2 "usage: global option after the command" hl list --db "$T/other"
grep_ok "usage: hint about global options" "global options go before" "$T/err"
for c in init add remove list verify check; do
	expect_rc 0 "usage: $c --help" hl "$c" --help
	grep_ok "usage: $c --help shows usage" "usage: hmilock $c" "$T/out"
done
# Every command answers a usage error the same way (util_usage): exit 2,
# its usage line and where the global options go, on stderr only.
for c in init add remove list verify check status mode reload events maintenance update \
	keygen export import passwd; do
	hl "$c" --bogus-option >"$T/out" 2>"$T/err" </dev/null
	rc=$?
	if [ $rc -eq 2 ] && grep -q "^usage: .*$c" "$T/err" && grep -q "global options go before" "$T/err" &&
		[ ! -s "$T/out" ]; then
		pass "usage: $c --bogus-option: exit 2, usage and the global-options hint on stderr"
	else
		fail "usage: $c --bogus-option: exit $rc: $(head -c 300 "$T/err")"
	fi
done

# ---- a good list to break ------------------------------------------------
mkdir -p "$T/tree"
cp /bin/true "$T/tree/t"
cp /bin/false "$T/tree/f"
hl init "$T/tree" >/dev/null 2>&1 || fail "bad-input: init failed"
cp "$T/db" "$T/good.db"
size=$(stat -c %s "$T/good.db")

# bad_list NAME: every command refuses $T/db with exit 2, names it, keeps it.
bad_list() {
	local name=$1 c
	cp "$T/db" "$T/bad.copy"
	rm -f "$T/db.prev" "$T/db.tmp"
	for c in "list" "list --json" "verify" "verify --json" "check $T/tree/t" \
		"add $T/tree/t" "remove $T/tree/t" "init $T/tree"; do
		# shellcheck disable=SC2086
		expect_rc 2 "bad list ($name): $c refused" hl $c
		grep_ok "bad list ($name): $c names the file" "$T/db" "$T/err"
	done
	check "bad list ($name): file unchanged" cmp -s "$T/db" "$T/bad.copy"
	hl list >/dev/null 2>"$T/err" # the library's message, for the caller to check
	check "bad list ($name): no .prev or .tmp written" test ! -e "$T/db.prev" -a ! -e "$T/db.tmp"
}

: >"$T/db"
bad_list empty
grepi_ok "bad list (empty): message says empty" "empty" "$T/err"

head -c $((size / 2)) "$T/good.db" >"$T/db"
bad_list truncated
grepi_ok "bad list (truncated): message says truncated" "truncat\|short" "$T/err"

python3 -c '
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[len(b) // 2] ^= 0x10
open(sys.argv[2], "wb").write(b)
' "$T/good.db" "$T/db"
bad_list flipped-byte
grepi_ok "bad list (flipped byte): message says MAC" "mac\|tamper" "$T/err"

python3 -c '
import sys, struct
b = bytearray(open(sys.argv[1], "rb").read())
b[8:12] = struct.pack("<I", 99)
open(sys.argv[2], "wb").write(b)
' "$T/good.db" "$T/db"
bad_list future-version
grepi_ok "bad list (future version): message says version" "version" "$T/err"

head -c "$size" /dev/urandom >"$T/db"
bad_list garbage
grepi_ok "bad list (garbage): message says not a list" "not an hmilock\|magic" "$T/err"

"$HMILOCK" --db "$T/db" --key "$T/key2" --config "$CONF" init -f "$T/tree" >/dev/null 2>&1 ||
	fail "bad-input: init with a second key failed"
bad_list other-key
grepi_ok "bad list (other key): message says MAC or key" "mac\|key" "$T/err"

# ---- the key -------------------------------------------------------------
cp "$T/good.db" "$T/db"
expect_rc 0 "key: good list and key work" hl list
mv "$T/key" "$T/key.saved"
expect_rc 2 "key: missing key refused" hl list
grep_ok "key: missing key named" "$T/key" "$T/err"
cp "$T/key.saved" "$T/key" && chmod 0644 "$T/key"
expect_rc 2 "key: group/other-readable key refused" hl list
grep_ok "key: unsafe key named" "$T/key" "$T/err"
head -c 16 /dev/urandom >"$T/key" && chmod 0600 "$T/key"
expect_rc 2 "key: short key refused" hl verify
check "key: list untouched by key errors" cmp -s "$T/db" "$T/good.db"
mv "$T/key.saved" "$T/key"
expect_rc 0 "key: restored key works again" hl verify

# ---- the list path itself ------------------------------------------------
expect_rc 2 "list path: missing list" "$HMILOCK" --db "$T/none.db" --key "$T/key" list
grep_ok "list path: missing list named" "$T/none.db" "$T/err"
expect_rc 2 "list path: a directory" "$HMILOCK" --db "$T" --key "$T/key" list
grep_ok "list path: directory named" "$T" "$T/err"
finish
