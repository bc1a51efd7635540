#!/bin/bash
# 01-style: every C file and header git tracks is formatted as .clang-format
# says (make check-style), so formatting drift fails the suite, not review.
. "$(dirname "$0")/lib.sh"
cd "$TOP" || exit 1
if ! command -v clang-format >/dev/null; then
	fail "style: clang-format is not installed (tools/bootstrap.sh installs it)"
	finish
fi
if out=$(make -s check-style 2>&1); then
	pass "style: make check-style"
else
	fail "style: make check-style: $(printf '%s\n' "$out" | grep -m5 'error:')"
fi
finish
