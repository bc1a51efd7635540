#!/bin/bash
# 53-packaging-man.sh - every man page in packaging/ renders with man -l and
# groff without a warning, its .TH matches its file name, whatis can read its
# NAME line, and the pages the package must ship exist. (helper F)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pkg.sh"
pkg_need man groff lexgrog python3

for want in $PKG_MANPAGES; do
	if [ -f "$TOP/packaging/$want" ]; then
		pass "man: packaging/$want exists"
	else
		fail "man: packaging/$want: missing (the package ships it)"
	fi
done

shopt -s nullglob
pages=("$TOP"/packaging/*.[1-9])
[ ${#pages[@]} -gt 0 ] || fail "man: no man page in packaging/"
for page in "${pages[@]}"; do
	name=$(basename "$page")
	# groff with every warning, as a typesetter would see it
	out=$(groff -man -ww -z "$page" 2>&1)
	if [ -z "$out" ]; then
		pass "man: $name: groff -man -ww clean"
	else
		fail "man: $name: groff warnings: $(echo "$out" | head -5 | tr '\n' ' ')"
	fi
	# man -l as lintian runs it (UTF-8, 80 columns)
	out=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z \
		"$page" 2>&1 >/dev/null)
	if [ -z "$out" ]; then
		pass "man: $name: man -l --warnings clean"
	else
		fail "man: $name: man -l warnings: $(echo "$out" | head -5 | tr '\n' ' ')"
	fi
	# .TH TITLE SECTION must be the file name upper-cased and its suffix
	th=$(sed -n 's/^\.TH[[:space:]]\{1,\}"\{0,1\}\([^" ]*\)"\{0,1\}[[:space:]]\{1,\}"\{0,1\}\([^" ]*\).*/\1 \2/p' "$page" | head -1)
	base=${name%.*}
	sec=${name##*.}
	if [ "$th" = "${base^^} $sec" ]; then
		pass "man: $name: .TH $th"
	else
		fail "man: $name: .TH says '$th', file name wants '${base^^} $sec'"
	fi
	# whatis/apropos read the NAME section
	if lexgrog "$page" 2>/dev/null | grep -q ": \"$base - "; then
		pass "man: $name: NAME line parses ($(lexgrog "$page" | sed 's/^[^"]*//'))"
	else
		fail "man: $name: lexgrog cannot parse the NAME section: $(lexgrog "$page" 2>&1)"
	fi
	# references to our own pages point at pages that exist
	refs=$(sed 's/\\f[BIRP]//g' "$page" | grep -o -E '(hmilock|hmilockd|hmilock\.conf) ?\([1-9]\)' |
		sed -E 's/ ?\(([1-9])\)/.\1/' | sort -u)
	bad=
	for r in $refs; do
		[ -f "$TOP/packaging/$r" ] || bad="$bad $r"
	done
	if [ -z "$bad" ]; then
		pass "man: $name: references to hmilock pages resolve"
	else
		fail "man: $name: refers to pages that do not exist:$bad"
	fi
done

# Every page has the sections an operator looks for.
for page in "${pages[@]}"; do
	name=$(basename "$page")
	secs=$(python3 "$PKG_MANPARSE" sections "$page")
	missing=
	for s in NAME SYNOPSIS DESCRIPTION FILES "SEE ALSO"; do
		grep -qx "$s" <<<"$secs" || missing="$missing '$s'"
	done
	case $name in *.8) grep -qx "EXIT STATUS" <<<"$secs" || missing="$missing 'EXIT STATUS'" ;; esac
	if [ -z "$missing" ]; then
		pass "man: $name: has the standard sections"
	else
		fail "man: $name: missing sections:$missing"
	fi
done
finish
