#!/bin/bash
# tests/run.sh BUILD_DIR [FILTER...] - run the hmilock test suite.
# Runs every cmocka unit binary in BUILD_DIR/tests, every integration script
# tests/integration/NN-*.sh and the VM suite tests/vm/run.sh, and ends with
# one line "N passed, N failed, N skipped"; exits 1 on any failure.
# A FILTER (substring of a test file name, or "unit", "integration", "vm")
# restricts what runs.
# Script protocol: each test prints "PASS: name", "FAIL: name: why" or
# "SKIP: name: reason" lines; a script that exits nonzero without a FAIL line
# counts as one failure.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: tests/run.sh BUILD_DIR [FILTER...]}
shift
build=$(cd "$build" && pwd)
filters=("$@")
export HMILOCK_BUILD=$build HMILOCK_TOP=$top
pass=0 fail=0 skip=0
log=$(mktemp -d /tmp/hmilock-tests.XXXXXX)

wanted() { # $1 kind, $2 file
	[ ${#filters[@]} -eq 0 ] && return 0
	local f
	for f in "${filters[@]}"; do
		[ "$f" = "$1" ] && return 0
		case "$2" in *"$f"*) return 0 ;; esac
	done
	return 1
}

count() { # $1 name, $2 output file, $3 exit code; for PASS/FAIL/SKIP lines
	local p f s
	p=$(grep -c '^PASS: ' "$2")
	f=$(grep -c '^FAIL: ' "$2")
	s=$(grep -c '^SKIP: ' "$2")
	if [ "$3" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL: $1: exited $3 without a FAIL line"
		f=1
	fi
	if [ $((p + f + s)) -eq 0 ]; then
		echo "FAIL: $1: reported no test"
		f=1
	fi
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
}

run_unit() { # cmocka: [       OK ] / [  FAILED  ] / [  SKIPPED ]
	local bin=$1 name out rc p f s
	name=$(basename "$bin")
	out=$log/$name.out
	"$bin" >"$out" 2>&1
	rc=$?
	sed -n -e 's/^\[       OK \] /PASS: '"$name"': /p' -e 's/^\[  FAILED  \] \([^ ]*\)$/FAIL: '"$name"': \1/p' \
		-e 's/^\[  SKIPPED \] /SKIP: '"$name"': /p' "$out" | sort -u >"$out.r"
	cat "$out.r"
	if [ $rc -ne 0 ]; then
		grep -E 'ERROR|error:|Sanitizer|runtime error|Assert' "$out" | head -20 | sed 's/^/    /'
	fi
	count "$name" "$out.r" $rc
}

run_script() {
	local script=$1 name out rc
	name=$(basename "$script" .sh)
	out=$log/$name.out
	bash "$script" >"$out" 2>&1 </dev/null
	rc=$?
	grep -E '^(PASS|FAIL|SKIP): ' "$out"
	if [ $rc -ne 0 ] || grep -q '^FAIL: ' "$out"; then
		echo "    --- last lines of $name ---"
		tail -25 "$out" | sed 's/^/    /'
	fi
	count "$name" "$out" $rc
}

for bin in "$build"/tests/test_*; do
	[ -x "$bin" ] || continue
	wanted unit "$bin" || continue
	run_unit "$bin"
done
for script in "$top"/tests/integration/[0-9]*.sh; do
	[ -f "$script" ] || continue
	wanted integration "$script" || continue
	run_script "$script"
done
if [ -f "$top/tests/vm/run.sh" ] && wanted vm "$top/tests/vm/run.sh"; then
	run_script "$top/tests/vm/run.sh"
fi

echo "logs: $log"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
