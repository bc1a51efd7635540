#!/bin/bash
# 75-metrics: the Prometheus text file ([metrics] textfile) read by the real
# node_exporter from Debian (prometheus-node-exporter, textfile collector):
# while its directory is missing the daemon says so in status and writes
# nothing; once it exists the file appears, 0644 under the daemon's umask
# 077, replaced atomically (no temporary file left); decisions are counted
# by verdict, layer and operation, the mode is one-hot and follows a
# switch; node_exporter scrapes it without a parse error; a path the
# daemon cannot write is named in status and the daemon keeps deciding.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_fixture.sh"
need_root

NE=$(command -v prometheus-node-exporter || true)
setup_mount || { fail "metrics: cannot mount tmpfs"; finish; }
cp /bin/true "$W/bin/true"
make_list "$W/bin" || { fail "metrics: hmilock init"; finish; }
cp /bin/true "$W/tmp/unlisted"
P=$T/prom
METRICS_FILE=$P/hmilock.prom METRICS_INTERVAL=1s write_conf enforce path+hash
umask 077
start_daemon || { fail "metrics: daemon did not start"; finish; }
umask 022

metrics_says() { grep -q "$1" <<<"$(status_field metrics)"; }

# The directory does not exist yet (no node exporter on the box).
if wait_for 30 metrics_says "NOT written: its directory does not exist" && [ ! -e "$P" ]; then
	pass "metrics: missing directory: status says so, nothing written ($(status_field metrics | cut -c1-90))"
else
	fail "metrics: missing directory: status '$(status_field metrics)'"
fi
check "metrics: the missing directory is logged once, as information" \
	test "$(grep -c 'metrics: .*its directory does not exist' "$DLOG")" -eq 1

mkdir -p "$P"
"$W/bin/true"
"$W/tmp/unlisted" 2>/dev/null
"$W/tmp/unlisted" 2>/dev/null
deny_line='hmilock_decisions_total{verdict="deny",layer="fanotify",op="exec"} 2'
if wait_for 50 grep -qF "$deny_line" "$P/hmilock.prom" 2>/dev/null; then
	pass "metrics: the file appears once the directory exists and counts the 2 denials"
else
	fail "metrics: no '$deny_line' in $P/hmilock.prom: $(head -c 300 "$P/hmilock.prom" 2>&1)"
fi
check "metrics: status names the file and the interval" metrics_says "$P/hmilock.prom, every 1 s"
check "metrics: the file is 0644 under the daemon's umask 077 (got $(stat -c %a "$P/hmilock.prom"))" \
	test "$(stat -c %a "$P/hmilock.prom")" = 644
for l in 'hmilock_mode{mode="enforce"} 1' 'hmilock_mode{mode="audit"} 0' 'hmilock_list_generation 1' \
	'hmilock_list_entries 1' 'hmilock_ready 1' 'hmilock_helper_active 0' 'hmilock_open_gaps 1' \
	'hmilock_decisions_total{verdict="deny",layer="helper",op="mmap"} 0' \
	'# TYPE hmilock_decisions_total counter'; do
	check "metrics: the file has '$l'" grep -qxF "$l" "$P/hmilock.prom"
done
check "metrics: no temporary file is left beside it ($(ls -A "$P" | tr '\n' ' '))" \
	test "$(ls -A "$P")" = hmilock.prom

# A mode switch shows at the next write.
hl mode audit >/dev/null 2>&1
if wait_for 50 grep -qxF 'hmilock_mode{mode="audit"} 1' "$P/hmilock.prom"; then
	pass "metrics: hmilock_mode follows a switch to audit"
else
	fail "metrics: hmilock_mode after the switch: $(grep hmilock_mode "$P/hmilock.prom" | tr '\n' ' ')"
fi
hl mode enforce >/dev/null 2>&1

# The real node_exporter scrapes it.
if [ -z "$NE" ]; then
	fail "metrics: prometheus-node-exporter is not installed (tools/bootstrap.sh installs it)"
else
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	"$NE" --collector.disable-defaults --collector.textfile --collector.textfile.directory="$P" \
		--web.listen-address="127.0.0.1:$port" >"$T/ne.log" 2>&1 &
	track_pid $!
	scrape() { python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' "http://127.0.0.1:$port/metrics" >"$T/scrape.txt" 2>/dev/null; }
	# the switch back to enforce shows at the next write (1 s)
	scrape_ok() {
		scrape && grep -qx 'node_textfile_scrape_error 0' "$T/scrape.txt" &&
			grep -qxF 'hmilock_decisions_total{layer="fanotify",op="exec",verdict="deny"} 2' "$T/scrape.txt" &&
			grep -qxF 'hmilock_mode{mode="enforce"} 1' "$T/scrape.txt" &&
			grep -q '^node_textfile_mtime_seconds{file="\(.*/\)\{0,1\}hmilock.prom"}' "$T/scrape.txt"
	}
	if wait_for 50 scrape_ok; then
		pass "metrics: node_exporter scrapes the file without error: $(grep -c '^hmilock_' "$T/scrape.txt") hmilock samples, the 2 denials among them"
	elif [ ! -s "$T/scrape.txt" ]; then
		fail "metrics: node_exporter did not answer on 127.0.0.1:$port: $(tail -3 "$T/ne.log")"
	else
		fail "metrics: node_exporter's scrape: $(grep -E '^(node_textfile|hmilock_mode|hmilock_decisions_total\{layer="fanotify")' "$T/scrape.txt" | tr '\n' ' ' | cut -c1-500)"
	fi
fi

# A path the daemon cannot write: named in status, logged, decisions go on.
stop_daemon
rm -rf "$P"
: >"$P"
METRICS_FILE=$P/hmilock.prom METRICS_INTERVAL=1s write_conf enforce path+hash
start_daemon || { fail "metrics: daemon did not start with an unwritable metrics path"; finish; }
if wait_for 30 metrics_says "NOT written: Not a directory"; then
	pass "metrics: an unwritable path is named in status ($(status_field metrics | cut -c1-90))"
else
	fail "metrics: unwritable path: status '$(status_field metrics)'"
fi
check "metrics: ... and logged as a warning" grep -q "metrics: $P/hmilock.prom: NOT written: Not a directory" "$DLOG"
expect_exec "metrics: the daemon still denies with its metrics unwritable" 126 "$W/tmp/unlisted"
expect_exec "metrics: ... and allows the listed program" 0 "$W/bin/true"

# off: no thread, no file, status says off.
stop_daemon
rm -f "$P"
mkdir -p "$P"
METRICS_FILE=off write_conf enforce path+hash
start_daemon || { fail "metrics: daemon did not start with metrics off"; finish; }
sleep 1.5
check "metrics: textfile = off: status says off" metrics_says "^off"
check "metrics: textfile = off: nothing written" test -z "$(ls -A "$P")"
finish
