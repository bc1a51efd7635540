#!/bin/bash
# 02-fuzz: every libFuzzer target tests/fuzz/fuzz_<name>.c builds with clang
# and runs FUZZ_SECONDS (5) from its seeds without a crash, a leak, a
# sanitizer report or a time-out: `make fuzz` at the top of the tree, one
# PASS or FAIL line per target. A failing input stays in build/fuzz/crash/.
# Needs no build of its own: also runs as `bash tests/integration/02-fuzz.sh`.
: "${HMILOCK_BUILD:=$(cd "$(dirname "$0")/../.." && pwd)/build/rel}"
export HMILOCK_BUILD
. "$(dirname "$0")/lib.sh"
cd "$TOP" || exit 1
secs=${FUZZ_SECONDS:-5}
if ! command -v clang >/dev/null; then
	fail "fuzz: clang is not installed (tools/bootstrap.sh installs it)"
	finish
fi
# Run as a make of its own, not as a sub-make of `make test`.
unset MAKEFLAGS MFLAGS MAKELEVEL
make -k -j2 fuzz FUZZ_SECONDS="$secs" >"$T/fuzz.log" 2>&1
rc=$?
for src in tests/fuzz/fuzz_*.c; do
	name=${src#tests/fuzz/fuzz_}
	name=${name%.c}
	line=$(grep -m1 "^fuzz $name: " "$T/fuzz.log")
	case $line in
	"fuzz $name: OK"*) pass "$line" ;;
	"fuzz $name: FAILED"*)
		fail "$line"
		# the report's first lines, for the test log
		sed -n "/^fuzz $name: FAILED/,/^[^ ]/p" "$T/fuzz.log" | sed -n '2,20p'
		;;
	*)
		fail "fuzz $name: did not run (build failed?)"
		grep -E 'error|Error' "$T/fuzz.log" | head -10
		;;
	esac
done
if [ $rc -ne 0 ] && [ $_failed -eq 0 ]; then
	fail "fuzz: make fuzz exited $rc"
	tail -20 "$T/fuzz.log"
fi
finish
