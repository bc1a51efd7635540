#!/bin/bash
# 22-cold-exec: the first exec of a 100 MB listed binary - nothing cached, no
# ignore mark (each round starts after a reload, which flushes both), so
# hmilockd hashes all of it through the event's fd before it answers -
# against `sha256sum` of the same file (page cache warm for both), and
# against a warm exec of it (ignore mark in place). ROUNDS alternating
# rounds, medians, ratio cold exec / sha256sum.
. "$(dirname "$0")/daemon_bench.sh"

setup_mount || exit 1
cp /bin/true "$W/bin/big"
head -c 100M /dev/urandom >>"$W/bin/big"
make_list "$W/bin" || exit 1
write_conf enforce path+hash
start_daemon >/dev/null || { echo "daemon did not start"; exit 1; }

t() { # ms of one run of CMD
	local a b
	a=$(now_ns)
	"$@" >/dev/null 2>&1 || return 1
	b=$(now_ns)
	awk "BEGIN{printf \"%.2f\", ($b - $a) / 1e6}"
}
rc=() rs=() rw=()
sha256sum "$W/bin/big" >/dev/null
for ((r = 0; r < ROUNDS; r++)); do
	hl reload >/dev/null || { echo "reload failed"; exit 1; }
	rc+=("$(t "$W/bin/big")") || { echo "cold exec failed"; exit 1; }
	rw+=("$(t "$W/bin/big")")
	rs+=("$(t sha256sum "$W/bin/big")")
done
mc=$(median "${rc[@]}") ms=$(median "${rs[@]}") mw=$(median "${rw[@]}")
printf 'cold exec of a 100 MB listed binary: %s ms; sha256sum of it: %s ms; ratio %s; warm exec %s ms (medians of %d)\n' \
	"$mc" "$ms" "$(ratio "$mc" "$ms")" "$mw" "$ROUNDS"
stop_daemon
