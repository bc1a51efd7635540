#!/bin/bash
# 70-export-import.sh - hmilock keygen/export/import: a signed export
# round-trips onto a fresh list (and the approved files then pass `hmilock
# check`); a tampered export, one signed with another key, one of another
# format version or truncated is refused and the list is left byte for
# byte as it was; import reports missing paths and files that differ and
# never approves them; --merge keeps the current entries, --replace does
# not. Needs no daemon: the CLI talks to a socket path of its own, where
# none listens. (helper G2)
. "$(dirname "$0")/lib.sh"

S=$T/src
KEYS=$T/keys
# box A exports, box B imports; each has its own list, key and config
ha() { "$HMILOCK" --db "$T/a.db" --key "$T/a.key" --config "$T/a.conf" --socket "$T/none.sock" "$@"; }
hb() { "$HMILOCK" --db "$T/b.db" --key "$T/b.key" --config "$T/b.conf" --socket "$T/none.sock" "$@"; }

# expect_rc WANT NAME CMD...: output in $T/out, $T/err.
expect_rc() {
	local want=$1 name=$2 rc
	shift 2
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
	if [ "$rc" -eq "$want" ]; then pass "$name"; else fail "$name: exit $rc, want $want: $(head -c 300 "$T/err")"; fi
}
grep_ok() { if grep -q -- "$2" "$3"; then pass "$1"; else fail "$1: no '$2' in $(basename "$3"): $(head -c 300 "$3")"; fi; }
unchanged() { # NAME FILE COPY: FILE is byte for byte COPY
	if cmp -s "$2" "$3"; then pass "$1"; else fail "$1: $2 changed"; fi
}
# paths_sha DB-FN: "sha path" lines of a list, sorted
paths_sha() { "$@" list | awk '{print $2, $3}' | sort; }

mkdir -p "$S/bin" "$S/lib" "$KEYS"
cp /bin/true "$S/bin/true"
cp /bin/echo "$S/bin/echo"
printf '#!/bin/sh\necho hi\n' >"$S/bin/hello.sh" && chmod 0755 "$S/bin/hello.sh"
cp /bin/true "$S/bin/odd name %41"$'\t'"x"
printf 'int f(void) { return 1; }\n' >"$T/lib.c"
cc -shared -fPIC -o "$S/lib/libf.so" "$T/lib.c" || fail "cc of a shared object failed"
S=$(realpath "$S")
printf '[agent]\nimport_pubkey = %s\n' "$KEYS/export.pub" >"$T/b.conf"
: >"$T/a.conf"

# ---- keygen ----
expect_rc 0 "keygen --out-dir writes a key pair" ha keygen --out-dir "$KEYS"
if [ "$(stat -c %a "$KEYS/export.key")" = 600 ] && grep -q 'BEGIN PUBLIC KEY' "$KEYS/export.pub"; then
	pass "keygen: private key mode 0600, public key PEM"
else
	fail "keygen: modes $(stat -c %a "$KEYS/export.key") / content of export.pub"
fi
grep_ok "keygen prints the key id" "key id [0-9a-f]\{64\}" "$T/out"
cp "$KEYS/export.key" "$T/key.copy"
expect_rc 2 "keygen refuses to overwrite a key" ha keygen --out-dir "$KEYS"
unchanged "keygen: existing private key untouched" "$KEYS/export.key" "$T/key.copy"
expect_rc 2 "keygen: --private without --public is a usage error" ha keygen --private "$T/x.key"
expect_rc 0 "keygen --private/--public (a second, other key)" \
	ha keygen --private "$KEYS/other.key" --public "$KEYS/other.pub"

# ---- export ----
expect_rc 0 "box A: init" ha init "$S"
expect_rc 0 "export signs the list" ha export --sign-key "$KEYS/export.key" "$T/exp"
grep_ok "export names the entry count" "exported 5 entries" "$T/out"
if head -1 "$T/exp" | grep -qx 'hmilock-export 1' && tail -1 "$T/exp" | grep -q '^signature ed25519 '; then
	pass "export: versioned header, signature line last"
else
	fail "export: format: $(head -c 200 "$T/exp")"
fi
if grep -q -e 'ino' -e 'ctime' -e 'mtime' "$T/exp"; then fail "export holds per-box identity fields"; else pass "export: no per-box identity fields"; fi
expect_rc 2 "export refuses to overwrite without --force" ha export --sign-key "$KEYS/export.key" "$T/exp"
expect_rc 2 "export: missing signing key" ha export --sign-key "$T/nope.key" "$T/exp2"
chmod 0644 "$KEYS/other.key"
expect_rc 2 "export: private key readable by others is refused" ha export --sign-key "$KEYS/other.key" "$T/exp2"
chmod 0600 "$KEYS/other.key"
[ -e "$T/exp2" ] && fail "export: a refused export left a file" || pass "export: a refused export writes nothing"

# ---- import: round trip onto a fresh box ----
expect_rc 0 "import --replace onto a box without a list" hb import --replace "$T/exp"
grep_ok "import summary" "imported 5 of 5 entries" "$T/out"
grep_ok "import says no daemon runs" "not running" "$T/out"
if [ "$(paths_sha ha)" = "$(paths_sha hb)" ]; then pass "round trip: same paths and hashes"; else fail "round trip: lists differ"; fi
ok=1
for f in "$S/bin/true" "$S/bin/echo" "$S/bin/hello.sh" "$S/lib/libf.so" "$S/bin/odd name %41"$'\t'"x"; do
	hb check "$f" >/dev/null 2>&1 || { ok=0; fail "imported $f does not pass hmilock check"; }
done
[ $ok = 1 ] && pass "every imported file passes hmilock check"

# ---- refusals: nothing changes ----
cp "$T/b.db" "$T/b.db.copy"
awk 'NR == 4 { $0 = (substr($0, 1, 1) == "0" ? "1" : "0") substr($0, 2) } 1' "$T/exp" >"$T/tampered"
cmp -s "$T/exp" "$T/tampered" && fail "test bug: tampered export equals the original"
expect_rc 2 "a tampered export is refused" hb import --merge "$T/tampered"
grep_ok "tampered: message says so" "does not verify" "$T/err"
unchanged "tampered: list unchanged" "$T/b.db" "$T/b.db.copy"
ha export --sign-key "$KEYS/other.key" "$T/exp-other" >/dev/null 2>&1
expect_rc 2 "an export signed with another key is refused" hb import "$T/exp-other"
grep_ok "other key: message names it" "another key" "$T/err"
unchanged "other key: list unchanged" "$T/b.db" "$T/b.db.copy"
expect_rc 0 "--pubkey names another public key (a box of its own)" \
	"$HMILOCK" --db "$T/d.db" --key "$T/d.key" --config "$T/b.conf" --socket "$T/none.sock" \
	import --replace --pubkey "$KEYS/other.pub" "$T/exp-other"
sed '1s/ 1$/ 9/' "$T/exp" >"$T/v9"
expect_rc 2 "an export of another format version is refused" hb import "$T/v9"
grep_ok "version: message names it" "not the one this hmilock reads" "$T/err"
head -c -50 "$T/exp" >"$T/trunc"
expect_rc 2 "a truncated export is refused" hb import "$T/trunc"
head -n -1 "$T/exp" >"$T/nosig"
expect_rc 2 "an export without its signature line is refused" hb import "$T/nosig"
printf 'hello\n' >"$T/junk"
expect_rc 2 "a file that is no export is refused" hb import "$T/junk"
expect_rc 2 "a missing export file is refused" hb import "$T/nope"
expect_rc 2 "--merge and --replace together" hb import --merge --replace "$T/exp"
expect_rc 2 "import: missing public key" hb import --pubkey "$T/nope.pub" "$T/exp"
unchanged "after every refusal the list is unchanged" "$T/b.db" "$T/b.db.copy"

# ---- missing and differing files ----
printf 'x' >>"$S/bin/echo"
rm "$S/bin/hello.sh"
rm -f "$T/c.db"
hc() { "$HMILOCK" --db "$T/c.db" --key "$T/c.key" --config "$T/b.conf" --socket "$T/none.sock" "$@"; }
expect_rc 1 "import with a missing and a differing file exits 1" hc import --replace "$T/exp"
grep_ok "reports the missing path" "^missing .*hello.sh" "$T/out"
grep_ok "reports the differing file" "^differs .*bin/echo (exported sha256" "$T/out"
grep_ok "summary counts them" "imported 3 of 5 entries.*1 missing, 1 differ" "$T/out"
if hc list | grep -q -e 'bin/echo' -e 'hello.sh'; then
	fail "a differing or missing file was approved"
else
	pass "differing and missing files are not approved"
fi
expect_rc 1 "the changed file does not pass hmilock check" hc check "$S/bin/echo"

# ---- --merge keeps what is listed; --replace does not ----
cp /bin/true "$T/extra" && chmod 0755 "$T/extra"
hb add "$T/extra" >/dev/null 2>&1
expect_rc 1 "import --merge (one differs, one missing)" hb import --merge "$T/exp"
if hb list | grep -q "$T/extra"; then pass "--merge keeps the entries already listed"; else fail "--merge dropped $T/extra"; fi
if hb list | grep -q 'bin/echo'; then pass "--merge leaves the old entry of a differing file as it was"; else fail "--merge dropped bin/echo"; fi
expect_rc 1 "import --replace" hb import --replace "$T/exp"
if hb list | grep -q "$T/extra"; then fail "--replace kept $T/extra"; else pass "--replace keeps only the import"; fi

# ---- nothing importable: the list stays ----
rm -f "$S/bin/true" "$S/bin/odd name"* "$S/lib/libf.so"
cp "$T/b.db" "$T/b.db.copy"
expect_rc 1 "an import that matches nothing on this box" hb import --replace "$T/exp"
unchanged "nothing importable: list unchanged (never an empty list)" "$T/b.db" "$T/b.db.copy"
grep_ok "nothing importable: says what to import instead" "list unchanged (import an export made on a box of the same image)" "$T/err"

# ---- a write-protected list (what the kernel helper does while the box
# is locked; here an immutable directory on ext4 gives the same EPERM) ----
if command -v mkfs.ext4 >/dev/null && command -v chattr >/dev/null; then
	D=$T/locked
	mkdir -p "$D"
	truncate -s 16M "$T/locked.img"
	if mkfs.ext4 -q -F "$T/locked.img" >/dev/null 2>&1 && mount -o loop "$T/locked.img" "$D"; then
		_MOUNTS+=("$D")
		mkdir -p "$D/list"
		cp "$T/b.db" "$D/list/b.db"
		hd() { "$HMILOCK" --db "$D/list/b.db" --key "$T/b.key" --config "$T/b.conf" --socket "$T/none.sock" "$@"; }
		cp /bin/true "$S/bin/true"
		chattr +i "$D/list"
		on_exit "chattr -i '$D/list' 2>/dev/null"
		expect_rc 2 "import into a write-protected list fails" hd import --merge "$T/exp"
		grep_ok "... and says how to change a locked box's list" "write-protected while the box is locked: make the change inside hmilock maintenance begin ... end, or run it as hmilock update -- hmilock" "$T/err"
		expect_rc 2 "add to a write-protected list fails the same way" hd add "$S/bin/true"
		grep_ok "... with the same hint" "write-protected while the box is locked" "$T/err"
	else
		fail "cannot make an ext4 image for the write-protected list"
	fi
else
	skip "write-protected list: mkfs.ext4 or chattr missing"
fi
finish
