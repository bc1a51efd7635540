#!/bin/bash
# 42-daemon-writers: a listed file that someone holds open for writing is
# never trusted beyond the one answer (issue 9, class 2). The attack: open a
# listed program (or, under match = hash, one's own copy of it) for
# writing, exec it so that hmilockd hashes and approves it, then rewrite it
# through the fd and run the new code from the approval. Here, on
# fanotify alone: the exec gets its answer (the kernel then refuses it
# with ETXTBSY), but no ignore mark, no cached verdict, no approval; with
# the fd closed the next exec is hashed again and the rewritten file is
# refused. The guest suite runs the same attack against the helper.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_fixture.sh"
need_root

setup_mount || { fail "writers: cannot mount tmpfs"; finish; }
cp /bin/true "$W/bin/a"
make_list "$W/bin" || { fail "writers: hmilock init"; finish; }
chmod 0777 "$W/tmp"
cp /bin/true "$W/tmp/copy"

for match in path+hash hash; do
	stop_daemon
	: >"$DLOG"
	write_conf enforce "$match"
	start_daemon || { fail "writers: daemon did not start ($match)"; finish; }
	f=$W/bin/a
	[ "$match" = hash ] && f=$W/tmp/copy
	marks0=$(status_field ignore_marks)
	ev0=$(status_field events)
	# fd 3 open for writing while the file is exec'd
	out=$( (exec 3<>"$f" && "$f") 2>&1)
	rc=$?
	if [ $rc -ne 0 ] && grep -q -i 'text file busy' <<<"$out"; then
		pass "writers[$match]: exec with a writer open ends in ETXTBSY"
	else
		fail "writers[$match]: exec with a writer open: rc $rc: $out"
	fi
	check "writers[$match]: the daemon saw that exec" test "$(status_field events)" -gt "$ev0"
	check "writers[$match]: no ignore mark for a file open for writing" \
		test "$(status_field ignore_marks)" -eq "$marks0"
	check "writers[$match]: the log says why" grep -q "$f (exec by pid [0-9]*) is open for writing: not approved, not cached" "$DLOG"
	# the writer rewrites it; the next exec must be hashed again: refused
	cp "$f" "$T/orig"
	ev1=$(status_field events)
	(exec 3>>"$f" && printf 'x' >&3)
	out=$("$f" 2>&1)
	rc=$?
	if [ $rc -eq 126 ] && grep -q 'Operation not permitted' <<<"$out"; then
		pass "writers[$match]: the rewritten file is refused (hashed again, not cached)"
	else
		fail "writers[$match]: the rewritten file: rc $rc: $out"
	fi
	check "writers[$match]: that exec reached the daemon" test "$(status_field events)" -gt "$ev1"
	cp "$T/orig" "$f"
	expect_exec "writers[$match]: restored, with no writer, it runs" 0 "$f"
	check "writers[$match]: and now gets its ignore mark" \
		test "$(status_field ignore_marks)" -gt "$marks0"
done
stop_daemon || fail "writers: daemon did not stop"
finish
