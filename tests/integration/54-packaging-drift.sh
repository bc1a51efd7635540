#!/bin/bash
# 54-packaging-drift.sh - fails when the programs and their documentation
# drift apart: the commands of `hmilock --help` and those hmilock(8)
# documents, the global and per-command options, the exit codes, the options
# of `hmilockd --help` in hmilockd(8), what the bash completion offers, and
# the hmilock commands used in docs/operations.md and README.md. (helper F)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pkg.sh"
pkg_need python3 bash
MP() { python3 "$PKG_MANPARSE" "$@"; }
MAN8=$TOP/packaging/hmilock.8
MAND8=$TOP/packaging/hmilockd.8

# same_set NAME WHAT_A LIST_A WHAT_B LIST_B: PASS when equal, else FAIL naming
# what only one side has.
same_set() {
	local name=$1 wa=$2 a=$3 wb=$4 b=$5 only_a only_b
	only_a=$(comm -23 <(sort -u <<<"$a") <(sort -u <<<"$b") | paste -sd' ' -)
	only_b=$(comm -13 <(sort -u <<<"$a") <(sort -u <<<"$b") | paste -sd' ' -)
	if [ -z "$(sort -u <<<"$a" | grep -v '^$')" ]; then
		fail "$name: found nothing in $wa"
	elif [ -z "$only_a$only_b" ]; then
		pass "$name ($(sort -u <<<"$a" | paste -sd' ' -))"
	else
		fail "$name: only in $wa: [${only_a}]; only in $wb: [${only_b}]"
	fi
}

# subset NAME WHAT_A LIST_A WHAT_B LIST_B: every item of A is in B.
subset() {
	local name=$1 wa=$2 a=$3 wb=$4 b=$5 missing
	missing=$(comm -23 <(sort -u <<<"$a" | grep -v '^$') <(sort -u <<<"$b") | paste -sd' ' -)
	if [ -z "$(grep -v '^$' <<<"$a")" ]; then
		fail "$name: found nothing in $wa"
	elif [ -z "$missing" ]; then
		pass "$name"
	else
		fail "$name: in $wa but not in $wb: $missing"
	fi
}

if [ ! -x "$HMILOCK" ]; then
	fail "drift: $HMILOCK not built"
	finish
fi
if [ ! -f "$MAN8" ]; then
	fail "drift: packaging/hmilock.8 missing"
	finish
fi

help=$("$HMILOCK" --help 2>&1)
help_cmds=$(MP help-commands - <<<"$help")
man_cmds=$(MP tags "$MAN8" 'COMMANDS' | grep -E '^[a-z][a-z0-9-]*$')
same_set "drift: commands of hmilock --help = commands in hmilock(8)" \
	"hmilock --help" "$help_cmds" "hmilock(8) *COMMANDS sections" "$man_cmds"

# Global options: those of --help stand as tags in GLOBAL OPTIONS.
help_glob=$(MP help-options - <<<"$(sed -n '1,/^Commands/p' <<<"$help")")
man_glob=$(MP tagtext "$MAN8" 'GLOBAL OPTIONS|^OPTIONS' | MP help-options -)
same_set "drift: global options of hmilock --help = hmilock(8) GLOBAL OPTIONS" \
	"hmilock --help" "$help_glob" "hmilock(8)" "$man_glob"

# Each command's own options appear among the tags of hmilock(8).
man_tagopts=$(MP tagtext "$MAN8" | MP help-options -)
for c in $help_cmds; do
	ch=$("$HMILOCK" "$c" --help 2>&1)
	rc=$?
	if [ $rc -ne 0 ] && [ $rc -ne 2 ]; then
		fail "drift: hmilock $c --help exited $rc"
		continue
	fi
	opts=$(MP help-options - <<<"$ch" | grep -v -x -e '--help' -e '-h')
	[ -n "$opts" ] || continue
	subset "drift: options of hmilock $c --help documented in hmilock(8)" \
		"hmilock $c --help" "$opts" "hmilock(8) tags" "$man_tagopts"
done

# Exit codes: every code --help lists has a tag in EXIT STATUS, and back.
help_codes=$(grep -i -A3 '^exit status' <<<"$help" | grep -o -E '(^|[ :,])[0-9]+ ' | tr -dc '0-9\n' | grep -v '^$')
man_codes=$(MP tags "$MAN8" 'EXIT STATUS' | grep -E '^[0-9]+$')
same_set "drift: exit codes of hmilock --help = hmilock(8) EXIT STATUS" \
	"hmilock --help" "$help_codes" "hmilock(8)" "$man_codes"

# hmilockd: its options are documented in hmilockd(8).
if [ ! -x "$HMILOCKD" ]; then
	fail "drift: $HMILOCKD not built"
elif [ ! -f "$MAND8" ]; then
	fail "drift: packaging/hmilockd.8 missing"
else
	dhelp=$("$HMILOCKD" --help 2>&1)
	dopts=$(MP help-options - <<<"$dhelp")
	man_dopts=$(MP tagtext "$MAND8" | MP help-options -)
	subset "drift: options of hmilockd --help documented in hmilockd(8)" \
		"hmilockd --help" "$dopts" "hmilockd(8) tags" "$man_dopts"
	# (--help and --version need not list themselves in the usage)
	man_dopts_all=$(MP words "$MAND8" 'OPTIONS|SYNOPSIS' | MP help-options - |
		grep -v -x -e --help -e -h -e --version -e -V)
	subset "drift: options hmilockd(8) documents exist in hmilockd --help" \
		"hmilockd(8) OPTIONS" "$man_dopts_all" "hmilockd --help" "$dopts"
fi

# The bash completion offers exactly the commands (it reads them from the
# program) and a command's options.
comp=$TOP/packaging/hmilock.bash-completion
complete_words() { # WORD...: what completing the last word offers
	bash -c '
		. "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_hmilock; printf "%s\n" "${COMPREPLY[@]}"' _ "$comp" "$HMILOCK" "$@" 2>&1
}
if [ -f "$comp" ]; then
	same_set "drift: bash completion offers the commands of hmilock(8)" \
		"completion" "$(complete_words '')" "hmilock(8)" "$man_cmds"
	got=$(complete_words --db /x --s)
	if [ "$got" = "--socket" ]; then
		pass "drift: completion of global options"
	else
		fail "drift: completion of '--s' gave '$got', want --socket"
	fi
	got=$(complete_words list --js)
	if [ "$got" = "--json" ]; then
		pass "drift: completion of a command's option (list --json)"
	else
		fail "drift: completion of 'list --js' gave '$got', want --json"
	fi
	got=$(complete_words mode '' | sort | paste -sd' ' -)
	if [ "$got" = "audit enforce" ] || [ "$got" = "audit enforce maintenance" ]; then
		pass "drift: completion of the modes ($got)"
	else
		fail "drift: completion of 'mode ' gave '$got', want the modes of hmilock mode --help"
	fi
else
	fail "drift: packaging/hmilock.bash-completion missing"
fi

# Commands used in the operator docs exist ("hmilock WORD" in code).
for doc in "$TOP/docs/operations.md" "$TOP/README.md"; do
	[ -f "$doc" ] || {
		fail "drift: ${doc#"$TOP"/} missing"
		continue
	}
	used=$(sed -n '/^```/,/^```/p' "$doc" | grep -o -E '(^|[[:space:];&|(])hmilock( --[a-z]+ [^ ]+)* [a-z][a-z-]*' |
		awk '{print $NF}' | sort -u)
	if [ -z "$used" ]; then
		skip "drift: ${doc#"$TOP"/} uses no hmilock command in a code block"
		continue
	fi
	subset "drift: hmilock commands used in ${doc#"$TOP"/} exist" \
		"${doc#"$TOP"/}" "$used" "hmilock --help" "$help_cmds"
done
finish
