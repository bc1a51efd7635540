#!/bin/bash
# 03-agent-deps: the file-level dependency graph of agent/ has no cycle
# (tests/tools/depgraph.py, which prints it), and the checker itself finds
# a cycle when there is one.
. "$(dirname "$0")/lib.sh"

out=$(python3 "$TOP/tests/tools/depgraph.py" "$TOP/agent" 2>&1)
rc=$?
if [ $rc -eq 0 ]; then
	pass "deps: agent/ has no dependency cycle"
else
	fail "deps: agent/ has a dependency cycle: $(grep -E '^(cycle|main file)' <<<"$out" | head -5 | tr '\n' ';')"
fi
echo "$out"

# The checker on a made-up pair that calls each other, and on a main file
# that a module depends on.
mkdir -p "$T/m"
printf 'void a_one(void);\n' >"$T/m/a.h"
printf '#include "b.h"\nvoid a_one(void) { b_two(); }\n' >"$T/m/a.c"
printf 'void b_two(void);\n' >"$T/m/b.h"
printf '#include "a.h"\nvoid b_two(void) { a_one(); }\n' >"$T/m/b.c"
python3 "$TOP/tests/tools/depgraph.py" "$T/m" >"$T/m.out" 2>&1
check "deps: a cycle a -> b -> a is found" grep -q "^cycle: a -> b -> a" "$T/m.out"
printf 'void b_two(void);\n' >"$T/m/b.h"
printf 'void b_two(void) { }\n' >"$T/m/b.c"
python3 "$TOP/tests/tools/depgraph.py" "$T/m" >"$T/m.out" 2>&1
check "deps: without it the graph is clean" grep -q "^no cycle" "$T/m.out"
finish
