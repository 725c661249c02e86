#!/usr/bin/env bash
# test_stdfds: a closed standard descriptor is not taken by anything the
# scan opens (issue 10, defect 2). With stderr closed, -o must not land on
# fd 2 (the summary would be written into the output); with stdout closed
# and no -o, the results must not go into the signalfd (the run failed with
# "writing output: Invalid argument"). ringscan opens /dev/null on a closed
# 0, 1 or 2 first, as daemons do. On the engine under test and its other
# modes (lib.sh rs_engines): each opens its own descriptors.
# Usage: test_stdfds.sh BUILD_DIR
set -eu
. "$(dirname "$0")/lib.sh"
ns_reexec 60 "$0" "$@"
need_scanner "${1:-}"
net_up
T=$RS_TMP
# Nothing listens and no rule drops: 127.64.0.0/30 x 22,23 are 8 closed pairs.

for engine in $(rs_engines); do
	# stderr closed, -o FILE: the file holds exactly the 8 answers.
	rc=0
	"$RS" --engine "$engine" --all -t 500 -o "$T/o-$engine.jsonl" 127.64.0.0/30 2>&- || rc=$?
	[ $rc = 0 ] || rs_fail "2>&-: exit $rc"
	json_bad_lines "$T/o-$engine.jsonl" || rs_fail "2>&-: the output holds lines that are not answers: $(head -c 300 "$T/o-$engine.jsonl")"
	n=$(grep -c '"state":"closed"' "$T/o-$engine.jsonl" || true)
	[ "$n" = 8 ] && [ "$(wc -l <"$T/o-$engine.jsonl")" = 8 ] ||
		rs_fail "2>&-: $n closed answers in $(wc -l <"$T/o-$engine.jsonl") lines, want 8 and 8"
	rs_say "ok ($engine): stderr closed: the output file holds exactly the 8 answers"

	# Resumed with stderr closed: still nothing but answers.
	rc=0
	"$RS" --engine "$engine" --all -t 500 -o "$T/r-$engine.jsonl" --resume "$T/r-$engine.ck" 127.64.0.0/30 2>&- || rc=$?
	[ $rc = 0 ] && json_bad_lines "$T/r-$engine.jsonl" && [ "$(wc -l <"$T/r-$engine.jsonl")" = 8 ] ||
		rs_fail "2>&- with --resume: exit $rc, $(wc -l <"$T/r-$engine.jsonl") lines"
	grep -q 'ringscan' "$T/r-$engine.jsonl" && rs_fail "2>&- with --resume: summary text in the output"

	# stdout closed, no -o: the results go nowhere, but the run succeeds and
	# says nothing of a write error; the summary is on stderr.
	rc=0
	"$RS" --engine "$engine" --all -t 500 127.64.0.0/30 >&- 2>"$T/err" || rc=$?
	[ $rc = 0 ] || { cat "$T/err" >&2; rs_fail ">&-: exit $rc"; }
	grep -q 'writing output' "$T/err" && { cat "$T/err" >&2; rs_fail ">&-: a write error"; }
	grep -q 'closed 8' "$T/err" || { cat "$T/err" >&2; rs_fail ">&-: no summary counting 8 closed"; }
	rs_say "ok ($engine): stdout closed: exit 0, no write error, summary on stderr"

	# Every standard descriptor closed at once: still exactly the answers.
	rc=0
	"$RS" --engine "$engine" --all -q -t 500 -o "$T/all-$engine.jsonl" 127.64.0.0/30 <&- >&- 2>&- || rc=$?
	[ $rc = 0 ] && json_bad_lines "$T/all-$engine.jsonl" && [ "$(wc -l <"$T/all-$engine.jsonl")" = 8 ] ||
		rs_fail "<&- >&- 2>&-: exit $rc, $(wc -l <"$T/all-$engine.jsonl") lines"
	rs_say "ok ($engine): all three closed: exactly the answers"
done
