#!/bin/bash
# 81-prescan-cli: `hmilock init` and `add` check every file they are about
# to approve against [prescan]: ClamAV databases made here with sigtool
# (a SHA-256 .hsb and MD5 .hdb of a sample ELF, a .ndb body signature of a
# sample script) and plain SHA-256 blocklists. A named file is not
# approved, the command names it with the signature, approves the rest
# and exits 1; a database or blocklist that does not load is an error
# naming it that approves nothing; --no-prescan approves anyway; `hmilock
# verify --prescan` finds known-bad files already on the list with newer
# signatures, without hashing the list again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cli_fixture.sh"
. "$(dirname "$0")/prescan_fixture.sh"
need_root

ps_make || { fail "prescan: cannot make the samples and databases with sigtool"; finish; }
mkdir -p "$T/tree/bin" "$T/tree/lib"
cp /bin/true "$T/tree/bin/true"
cp /bin/ls "$T/tree/bin/ls"
printf '#!/bin/sh\necho fine\n' >"$T/tree/bin/fine.sh" && chmod 0755 "$T/tree/bin/fine.sh"
cp "$PS_SAMPLES/evil-elf" "$T/tree/bin/helper"     # named by its hash
cp "$PS_SAMPLES/evil.sh" "$T/tree/lib/startup.sh"  # named by its body
printf 'notes %s\n' "$PS_MARK" >"$T/tree/lib/notes.txt" # data: never approved, never scanned
conf() { printf '[prescan]\n%s\n' "$@" >"$CONF"; }

# ---- init ----
conf "databases = $PS_SIGS"
expect_rc 1 "init: known-bad files found: exit 1" hl init "$T/tree"
grep_ok "init: says what it loaded" "prescan: libclamav .*signatures from 1 database" "$T/err"
grep_ok "init: names the ELF and its hash signature" "refused 2 as known-bad: .*$T/tree/bin/helper ($PS_HASH_SIG)" "$T/err"
grep_ok "init: names the script and its body signature" "$T/tree/lib/startup.sh ($PS_BODY_SIG)" "$T/err"
grep_ok "init: approved the rest (approved 3, refused 2)" "approved 3, refused 2 as known-bad" "$T/err"
grep_ok "init: the summary counts them as skipped" "approved 3 files.*2 known-bad" "$T/out"
hl list >"$T/list.txt" 2>&1
check "init: the clean files are listed" grep -q "$T/tree/bin/true\$" "$T/list.txt"
check "init: the known-bad ELF is not" bash -c '! grep -q "bin/helper" "$1"' _ "$T/list.txt"
check "init: the known-bad script is not" bash -c '! grep -q "startup.sh" "$1"' _ "$T/list.txt"
check "init: 3 entries" test "$(grep -c "$T/tree" "$T/list.txt")" -eq 3

# ---- add ----
cp "$PS_SAMPLES/evil-elf" "$T/tree/bin/helper2"
expect_rc 1 "add: a known-bad file alone: exit 1" hl add "$T/tree/bin/helper2"
grep_ok "add: names it" "refused 1 as known-bad: $T/tree/bin/helper2 ($PS_HASH_SIG)" "$T/err"
grep_ok "add: nothing added, list unchanged" "nothing to add.*list unchanged" "$T/out"
cp /bin/echo "$T/tree/bin/echo"
expect_rc 1 "add: a tree with one known-bad and one clean file: exit 1" hl add "$T/tree/bin"
grep_ok "add: the clean one is added" "1 new" "$T/out"
hl list >"$T/list.txt" 2>&1
check "add: echo listed" grep -q "$T/tree/bin/echo\$" "$T/list.txt"
check "add: helper2 not listed" bash -c '! grep -q "helper2" "$1"' _ "$T/list.txt"
expect_rc 0 "add: a clean file: exit 0" hl add "$T/tree/bin/echo"

# ---- databases that do not load: an error naming them, nothing approved ----
gen=$(hl list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["generation"])')
sum=$(sha256sum "$T/db")
ps_corrupt_copy "$T/badsigs"
conf "databases = $T/badsigs"
expect_rc 2 "init: a corrupt database: exit 2" hl init --force "$T/tree"
grep_ok "init: the error names the database" "signature database $T/badsigs does not load: .*test.ndb" "$T/err"
grep_ok "init: ... and says nothing was approved" "nothing was approved" "$T/err"
expect_rc 2 "add: a corrupt database: exit 2" hl add "$T/tree/bin/true"
check "corrupt database: the list file is untouched" test "$(sha256sum "$T/db")" = "$sum"
conf "databases = $T/nosuch/main.cvd"
expect_rc 2 "init: a missing database: exit 2" hl init --force "$T/tree"
grep_ok "init: names the missing database" "$T/nosuch/main.cvd: No such file" "$T/err"
: >"$T/empty.hsb"
conf "databases = $T/empty.hsb"
expect_rc 2 "init: an empty database: exit 2" hl init --force "$T/tree"
grep_ok "init: names the empty database" "$T/empty.hsb" "$T/err"
conf "databases = relative/main.cvd"
expect_rc 2 "config: a relative database path is refused" hl init --force "$T/tree"
grep_ok "config: names the key" "\[prescan\] databases: bad value 'relative/main.cvd'" "$T/err"
check "bad databases: still the same list" test "$(sha256sum "$T/db")" = "$sum"

# ---- blocklists (threat feeds of SHA-256), checked by the hash init computes ----
sha256sum "$T/tree/bin/ls" | sed "s#$T/tree/bin/ls#Feed.Linux.Fake#" >"$T/feed.sha256"
printf '# a feed\n%s  Feed.Linux.Helper\n' "$(sha256sum "$PS_SAMPLES/evil-elf" | cut -c1-64)" >>"$T/feed.sha256"
conf "blocklists = $T/feed.sha256"
expect_rc 1 "init: blocklisted files: exit 1" hl init --force "$T/tree"
grep_ok "init: a blocklist entry names the file" "$T/tree/bin/ls (Feed.Linux.Fake (blocklist))" "$T/err"
grep_ok "init: and the sample" "$T/tree/bin/helper (Feed.Linux.Helper (blocklist))" "$T/err"
grep_ok "init: says what it loaded" "prescan: 2 SHA-256 from 1 blocklist" "$T/err"
printf 'deadbeef  short\n' >>"$T/feed.sha256"
expect_rc 2 "init: a bad blocklist line: exit 2" hl init --force "$T/tree"
grep_ok "init: names the blocklist and the line" "blocklist $T/feed.sha256 line 4: expected a SHA-256" "$T/err"
sed -i '$d' "$T/feed.sha256"
conf "databases = $PS_SIGS" "blocklists = $T/feed.sha256"
expect_rc 1 "init: databases and blocklists together" hl init --force "$T/tree"
grep_ok "init: all four refused (ls, helper, helper2, startup.sh)" "approved 3, refused 4 as known-bad" "$T/err"

# ---- --no-prescan: approved anyway, and said so ----
expect_rc 0 "init --no-prescan: exit 0" hl init --force --no-prescan "$T/tree"
grep_ok "init --no-prescan: says the files are approved without a prescan" "no-prescan: files are approved without a prescan" "$T/err"
hl list >"$T/list.txt" 2>&1
check "init --no-prescan: the samples are listed" grep -q "bin/helper\$" "$T/list.txt"

# ---- verify --prescan: the list against the signatures it has now ----
conf "databases = $PS_SIGS"
expect_rc 1 "verify --prescan: known-bad files on the list: exit 1" hl verify --prescan
grep_ok "verify --prescan: names the ELF" "^known-bad *$T/tree/bin/helper ($PS_HASH_SIG" "$T/out"
grep_ok "verify --prescan: names the script" "^known-bad *$T/tree/lib/startup.sh ($PS_BODY_SIG)" "$T/out"
grep_ok "verify --prescan: names the copy" "^known-bad *$T/tree/bin/helper2 ($PS_HASH_SIG" "$T/out"
grep_ok "verify --prescan: summary" "prescanned 7 entries of generation .*4 ok, 3 known-bad; KNOWN-BAD FILES ARE APPROVED" "$T/out"
grep_ok "verify --prescan: says how to take them off" "hmilock remove PATH" "$T/err"
grep_ok "verify --prescan: says hmilockd did not count them (none runs)" "not counted by hmilockd" "$T/err"
hl verify --prescan --json >"$T/v.json" 2>/dev/null
check "verify --prescan --json: the signatures" python3 -c '
import json, sys
v = json.load(open(sys.argv[1]))
got = {p["path"]: p["signature"] for p in v["problems"] if p["status"] == "known-bad"}
assert got[sys.argv[2] + "/tree/lib/startup.sh"] == sys.argv[3], got
assert v["counts"]["known-bad"] == 3, v["counts"]' "$T/v.json" "$T" "$PS_BODY_SIG"
# The blocklist is checked by the listed hash, without reading the file:
# an unreadable copy of ls (a moved mount, a failing disk) is still named.
conf "blocklists = $T/feed.sha256"
chmod 000 "$T/tree/bin/ls"
expect_rc 1 "verify --prescan: blocklists by the listed hash" hl verify --prescan
chmod 755 "$T/tree/bin/ls"
grep_ok "verify --prescan: ls named without a read" "^known-bad *$T/tree/bin/ls (Feed" "$T/out"
# A FIFO put at a listed path is never opened (it would block the worker).
mv "$T/tree/bin/fine.sh" "$T/fine.sh.saved" && mkfifo "$T/tree/bin/fine.sh"
expect_rc 1 "verify --prescan: a FIFO at a listed path does not hang it" timeout 30 "$HMILOCK" --db "$T/db" --key "$T/key" --config "$CONF" verify --prescan
grep_ok "verify --prescan: the FIFO is reported, not opened" "^not-regular *$T/tree/bin/fine.sh (now a fifo)" "$T/out"
rm -f "$T/tree/bin/fine.sh" && mv "$T/fine.sh.saved" "$T/tree/bin/fine.sh"
# A listed file larger than the engine scans (512 MiB; sparse here) is
# checked against the blocklists only, and verify --prescan says so.
conf "databases = $PS_SIGS" "blocklists = $T/feed.sha256"
truncate -s 600M "$T/tree/bin/big" && chmod 0755 "$T/tree/bin/big"
expect_rc 0 "verify --prescan: a 600 MiB program added" hl add "$T/tree/bin/big"
expect_rc 1 "verify --prescan: with the 600 MiB program on the list" hl verify --prescan
grep_ok "verify --prescan: names the file checked against the blocklists only" "^ok *$T/tree/bin/big (larger than the engine scans: blocklists only)" "$T/out"
grep_ok "verify --prescan: counts it in the summary" "(1 of them larger than the engine scans: blocklists only)" "$T/out"
hl verify --prescan --json >"$T/v.json" 2>/dev/null
check "verify --prescan --json: blocklists_only 1, not among the problems" python3 -c '
import json, sys
v = json.load(open(sys.argv[1]))
assert v["blocklists_only"] == 1, v["blocklists_only"]
assert not [p for p in v["problems"] if p["path"].endswith("/bin/big")], v["problems"]' "$T/v.json"
expect_rc 0 "verify --prescan: the 600 MiB program removed" hl remove "$T/tree/bin/big"
rm -f "$T/tree/bin/big"
# ---- import: a signed export of a list that holds the samples ----
conf "databases = $PS_SIGS"
mkdir -p "$T/keys"
expect_rc 0 "import: keygen" hl keygen --out-dir "$T/keys"
expect_rc 0 "import: export the list (it holds the samples)" hl export --sign-key "$T/keys/export.key" "$T/exp"
hb() { "$HMILOCK" --db "$T/b.db" --key "$T/b.key" --config "$CONF" --socket "$T/none.sock" "$@"; }
expect_rc 1 "import: known-bad entries are not imported: exit 1" hb import --pubkey "$T/keys/export.pub" --replace "$T/exp"
grep_ok "import: names each" "^known-bad *$T/tree/lib/startup.sh ($PS_BODY_SIG)" "$T/out"
grep_ok "import: counts them" "3 known-bad" "$T/out"
grep_ok "import: the refusal line" "refused 3 as known-bad" "$T/err"
hb list >"$T/blist.txt" 2>&1
check "import: the clean entries are imported" grep -q "$T/tree/bin/true\$" "$T/blist.txt"
check "import: the samples are not" bash -c '! grep -q "helper\|startup.sh" "$1"' _ "$T/blist.txt"
: >"$CONF"
expect_rc 2 "verify --prescan without [prescan]: exit 2" hl verify --prescan
grep_ok "verify --prescan without [prescan]: says so" "names no \[prescan\] databases or blocklists" "$T/err"
expect_rc 0 "init without [prescan]: approves" hl init --force "$T/tree"
grep_ok "init without [prescan]: says no prescan ran" "names no \[prescan\].*approved without a prescan" "$T/err"
finish
