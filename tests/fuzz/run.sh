#!/bin/bash
# tests/fuzz/run.sh NAME BIN FUZZ_BUILD SECONDS [LIBFUZZER_FLAGS...] - run one
# libFuzzer target for SECONDS (0: only replay the corpus) and say in one line
# "fuzz NAME: OK ..." or "fuzz NAME: FAILED ...". Called by `make fuzz`
# (tests/fuzz/fuzz.mk) from the top of the tree. Owns FUZZ_BUILD/corpus/NAME
# (the working corpus: new inputs go there), FUZZ_BUILD/crash/NAME (inputs
# that crashed, leaked, tripped a sanitizer or timed out) and
# FUZZ_BUILD/log/NAME.log; the committed seeds tests/fuzz/corpus/NAME are
# passed as a second, read-only corpus directory, which libFuzzer never
# writes, and tests/fuzz/fuzz_NAME.dict, when there is one, as the
# dictionary. Exits 0 when the run ended cleanly, 1 otherwise.
set -u
name=${1:?usage: run.sh NAME BIN FUZZ_BUILD SECONDS [FLAGS...]}
bin=${2:?} fb=${3:?} secs=${4:?}
shift 4
seeds=tests/fuzz/corpus/$name
corpus=$fb/corpus/$name
crash=$fb/crash/$name
log=$fb/log/$name.log

if [ ! -x "$bin" ]; then
	echo "fuzz $name: FAILED: $bin was not built"
	exit 1
fi
mkdir -p "$corpus" "$crash" "$fb/log" || exit 1
dirs=("$corpus")
[ -d "$seeds" ] && dirs+=("$seeds")
dict=()
[ -f "tests/fuzz/fuzz_$name.dict" ] && dict=(-dict="tests/fuzz/fuzz_$name.dict")
if [ "$secs" -gt 0 ] 2>/dev/null; then
	limit=(-max_total_time="$secs")
else
	limit=(-runs=0) # replay the corpus only
fi
# halt_on_error: the first report ends the run with the input kept.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
"$bin" "${limit[@]}" -print_final_stats=1 -artifact_prefix="$crash/" "${dict[@]}" "$@" "${dirs[@]}" \
	>"$log" 2>&1
rc=$?

runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
if [ $rc -eq 0 ]; then
	cov=$(grep -E '^#[0-9]+[[:space:]]+(DONE|INITED)' "$log" | tail -1 |
		sed -n 's/.* cov: \([0-9]*\) .*corp: \([0-9]*\).*/cov \1, corpus \2/p')
	echo "fuzz $name: OK: ${runs:-?} inputs in ${secs} s${cov:+, $cov}"
	exit 0
fi
input=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
what=$(grep -m1 -E '^(==[0-9]+==ERROR|SUMMARY:|.*runtime error:|==[0-9]+== ERROR: libFuzzer)' "$log")
echo "fuzz $name: FAILED (exit $rc): ${what:-see the log}; input kept in" \
	"${input:-(none written)}; log $log"
# the report without libFuzzer's and libc's own frames
grep -E '^ *#[0-9]+ 0x|runtime error|ERROR|SUMMARY' "$log" |
	grep -v -E ' in (fuzzer::|__sanitizer_|__libc_start|_start |main )' | head -25 | sed 's/^/    /'
exit 1
