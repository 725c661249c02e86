#!/usr/bin/env bash
# test_interrupt: SIGINT or SIGTERM stops a scan with what was answered
# written out: exit status 130 / 143, only well-formed lines, each a
# correct answer (a subset of the ground truth, none twice), and a summary
# that says INCOMPLETE (interrupted). Resuming is test_resume.
# Usage: test_interrupt.sh BUILD_DIR
# engines: split (each engine once, plain or ASan: 15-17 s a run)
set -eu
. "$(dirname "$0")/lib.sh"
ns_reexec 120 "$0" "$@"
need_scanner "${1:-}"
need_tools
trap world_down EXIT
W=$RS_TMP/w
# 4096 pairs, half filtered: with -c 64 and a 1 s timeout the scan takes
# about 30 s, so a signal after 1.5 s lands mid-scan.
world_gen "$W" --seed 11 --addrs 127.8.0.0/24 --ports 5000-5015 --open 20 --filtered 50
world_up "$W"
for sig in INT TERM; do
	out=$RS_TMP/out-$sig.jsonl
	"$RS" --all -q -w 2 -c 64 -t 1000 --retries 0 --seed 11 127.8.0.0/24 -p 5000-5015 \
		-o "$out" 2>"$RS_TMP/err-$sig" &
	pid=$!
	sleep 1.5
	kill -s "$sig" "$pid"
	rc=0
	wait "$pid" || rc=$?
	want=$([ $sig = INT ] && echo 130 || echo 143)
	[ "$rc" = "$want" ] || { cat "$RS_TMP/err-$sig" >&2; rs_fail "SIG$sig: exit $rc, want $want"; }
	grep -q 'INCOMPLETE (interrupted)' "$RS_TMP/err-$sig" ||
		{ cat "$RS_TMP/err-$sig" >&2; rs_fail "SIG$sig: summary does not say INCOMPLETE (interrupted)"; }
	json_bad_lines "$out" || rs_fail "SIG$sig: malformed output"
	scan_states "$out" >"$out.states"
	n=$(wc -l <"$out.states")
	[ "$n" -gt 0 ] && [ "$n" -lt 4096 ] || rs_fail "SIG$sig: $n lines: the signal did not land mid-scan"
	dups=$(cut -d' ' -f1,2 "$out.states" | uniq -d | wc -l)
	[ "$dups" = 0 ] || rs_fail "SIG$sig: $dups pairs answered twice"
	wrong=$(comm -13 "$W/truth.txt" "$out.states" | wc -l)
	[ "$wrong" = 0 ] || { comm -13 "$W/truth.txt" "$out.states" | head -5 >&2; rs_fail "SIG$sig: $wrong wrong answers"; }
	pgrep -P "$pid" >/dev/null 2>&1 && rs_fail "SIG$sig: workers left behind"
	rs_say "ok: SIG$sig: exit $rc, $n correct answers written before stopping"
done

# The stop is graceful: probes in flight are answered, not abandoned. One
# worker keeps 64 probes in flight to dropped SYNs (1 s timeout): 64 time
# out at ~1 s and the next 64 go out at once. A SIGINT at 1.5 s must let
# those finish: exactly 128 filtered answers, exit 130, a little after 2 s.
# (Abandoning them would give 64.) A second signal stops at once.
nft add table inet rsdrop
nft add chain inet rsdrop in '{ type filter hook input priority -10; policy accept; }'
nft add rule inet rsdrop in ip daddr 127.99.0.0/24 tcp dport 7 drop
for second in no yes; do
	out=$RS_TMP/drain-$second.jsonl
	t0=$(date +%s%N)
	"$RS" --all -q -w 1 -c 64 -t 1000 --retries 0 --seed 1 127.99.0.0/24 -p 7 -o "$out" \
		2>"$RS_TMP/drain.err" &
	pid=$!
	sleep 1.5
	kill -INT "$pid"
	[ $second = yes ] && sleep 0.2 && kill -INT "$pid"
	rc=0
	wait "$pid" || rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ $rc = 130 ] || { cat "$RS_TMP/drain.err" >&2; rs_fail "drain ($second): exit $rc, want 130"; }
	n=$(grep -c '"state":"filtered"' "$out" || true)
	want=$([ $second = no ] && echo 128 || echo 64)
	[ "$n" = "$want" ] && [ "$(wc -l <"$out")" = "$want" ] ||
		rs_fail "stop with second signal $second: $n filtered answers ($(wc -l <"$out") lines), want $want"
	if [ $second = no ]; then
		[ $ms -ge 1900 ] || rs_fail "graceful stop: ended after $ms ms, before the probes in flight timed out"
	else
		[ $ms -lt 1900 ] || rs_fail "second signal: ended after $ms ms, not at once"
	fi
	rs_say "ok: SIGINT at 1.5 s, second signal: $second: $n answers, exit 130 after $ms ms"
done
nft delete table inet rsdrop

# A reader that has stalled must not make the scan unstoppable, nor cost
# the graceful stop: writing into the full pipe blocks, yet the first
# SIGTERM still ends the scan with the INCOMPLETE summary and --stats
# (after giving the reader the stop's grace, timeout + 2 s), exit 143; a
# second signal ends it at once, still with the summary.
mkfifo "$RS_TMP/fifo"
for second in no yes; do
	sleep 30 <"$RS_TMP/fifo" &
	reader=$!
	stats=$RS_TMP/stall-$second.json
	# 127.9.0.0/16 port 9 has no listener and no rule: 65,536 fast RSTs,
	# some 10 MB of lines, far more than the pipe and the output buffer hold.
	"$RS" --all -q -w 2 -c 64 -t 1000 --seed 11 127.9.0.0/16 -p 9 --stats "$stats" \
		>"$RS_TMP/fifo" 2>"$RS_TMP/stall.err" &
	pid=$!
	sleep 1.5
	t0=$(date +%s%N)
	kill -TERM "$pid"
	[ $second = yes ] && sleep 0.3 && kill -TERM "$pid"
	for i in $(seq 1 200); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" "$reader" 2>/dev/null || true
		rs_fail "SIGTERM (second: $second) did not stop a scan whose reader stalled within 10 s"
	fi
	ms=$((($(date +%s%N) - t0) / 1000000))
	rc=0
	wait "$pid" || rc=$?
	kill "$reader" 2>/dev/null || true
	wait "$reader" 2>/dev/null || true
	[ $rc = 143 ] || { cat "$RS_TMP/stall.err" >&2; rs_fail "stalled reader (second: $second): exit $rc, want 143"; }
	grep -q 'INCOMPLETE (interrupted)' "$RS_TMP/stall.err" ||
		{ cat "$RS_TMP/stall.err" >&2; rs_fail "stalled reader (second: $second): no INCOMPLETE (interrupted) summary"; }
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["answered"] < d["targets"] == 65536' "$stats" ||
		rs_fail "stalled reader (second: $second): --stats is not the interrupted summary: $(head -c 300 "$stats")"
	[ "$(wc -l <"$RS_TMP/stall.err")" -lt 20 ] || rs_fail "stalled reader: stderr too long"
	if [ $second = yes ]; then
		[ $ms -lt 2000 ] || rs_fail "second signal with a stalled reader: ended after $ms ms, not at once"
	fi
	rs_say "ok: SIGTERM with a stalled reader, second signal $second: exit 143 after $ms ms, summary and --stats written"
done
