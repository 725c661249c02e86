#!/usr/bin/env bash
# test_uring_late: io_uring that passes the coordinator's check and then
# fails in the workers (issue 13): a filter or a limit applied between the
# check and the fork. tests/tools/no_uring --children-only builds that for
# real: a seccomp filter hands io_uring_setup to a listener that lets the
# coordinator's own calls run and fails every worker's (--spare K: all but
# the first K workers') with EPERM or ENOSYS. On a mixed world (every
# state, both kinds of closed):
#   - `--engine auto`: each worker whose ring fails runs epoll instead;
#     the scan is exact, exit 0; stderr has exactly one line
#     "io_uring unavailable in worker N (io_uring_setup: ERRNO ...): it
#     uses epoll" and not the coordinator's fallback line (its check
#     passed); the summary's workers line ends "(epoll: REASON)"; --stats
#     has "engine":"epoll", the engine_reason, and every worker's
#     "engine":"epoll";
#   - with one worker spared (-w 2 --spare 1): exact too, "engine":"epoll"
#     and an engine_reason saying "in 1 of 2 workers (the others direct)"
#     (or compat, on a kernel without direct descriptors); the workers
#     list one worker on io_uring and one on epoll;
#   - ENOMEM that never goes away (what a RLIMIT_MEMLOCK lowered after
#     the check gives, or memory other rings never release): each worker
#     waits it out as local trouble (5 s, shrinking its rings) and then
#     runs epoll; exact, exit 0, the line names io_uring_setup: ENOMEM,
#     and the scan took at least those 5 s;
#   - `--engine uring` and `compat`: exit 1 within the hang guard, a line
#     "worker N: io_uring unavailable (io_uring_setup: EPERM (seccomp
#     filter)), and --engine uring needs it", no answer, no SYN sent.
# engine-independent: it picks its engines itself (auto, uring, compat).
# Usage: test_uring_late.sh BUILD_DIR
set -eu
. "$(dirname "$0")/lib.sh"
ns_reexec 180 "$0" "$@"
unset RS_ENGINE # every run below names its engine
need_scanner "${1:-}"
need_tools
NO_URING=$RS_TOOLS/no_uring
[ -x "$NO_URING" ] || rs_fail "no $NO_URING (run make)"
"$NO_URING" --children-only true || rs_skip "cannot install a notifying seccomp filter here"
"$RS" --engine uring -q -w 1 127.0.0.1 -p 1 -t 100 -o /dev/null 2>/dev/null ||
	rs_skip "io_uring is not available here at all (test_uring_blocked covers that)"
trap world_down EXIT
W=$RS_TMP/w
NET=127.32.0.0/27
PORTS=7000-7007
# 256 pairs: ~25% open, ~3% filtered (200 ms each, one attempt), ~8%
# unreachable; 7003 without a listener (closed by the kernel).
world_gen "$W" --seed 32 --addrs $NET --ports $PORTS --open 25 --filtered 3 --unreachable 8 \
	--closed-port 7003
world_is_mixed "$W"
world_up "$W"
SCAN=(--all -q -t 200 --retries 0 "$NET" -p "$PORTS")
pass=0

# late_ok WHAT ERR STATS ERRNO: the stderr and --stats of an auto scan
# whose workers all found io_uring_setup failing with ERRNO.
late_ok() {
	local what=$1 err=$2 stats=$3 errno=$4 reason want
	[ "$(grep -c 'io_uring unavailable' "$err")" = 1 ] ||
		{ cat "$err" >&2; rs_fail "$what: want the fallback said in exactly one line"; }
	grep -Eq "^ringscan: io_uring unavailable in worker [0-9]+ \\(io_uring_setup: $errno .*\\): it uses epoll\$" "$err" ||
		{ cat "$err" >&2; rs_fail "$what: no line 'io_uring unavailable in worker N (io_uring_setup: $errno ...): it uses epoll'"; }
	want="io_uring_setup: $errno (seccomp filter)"
	[ "$errno" = EPERM ] || want="io_uring_setup: ENOSYS (seccomp filter, or no io_uring in this kernel)"
	grep -Fq "in flight (epoll: $want)" "$err" ||
		{ cat "$err" >&2; rs_fail "$what: the summary's workers line does not end (epoll: $want)"; }
	grep -q '"engine":"epoll","concurrency"' "$stats" || rs_fail "$what: --stats has no \"engine\":\"epoll\": $(cat "$stats")"
	reason=$(sed -n 's/.*"engine_reason":\("[^"]*"\|null\).*/\1/p' "$stats")
	[ "$reason" = "\"$want\"" ] || rs_fail "$what: --stats engine_reason is $reason, want \"$want\""
	[ "$(grep -o '"probes":[0-9]*,"engine":"epoll"' "$stats" | wc -l)" = 2 ] ||
		rs_fail "$what: --stats does not list both workers on epoll: $(cat "$stats")"
}

for err in EPERM ENOSYS; do
	what="--engine auto, io_uring_setup $err in the workers only"
	out=$RS_TMP/out-auto-$err.jsonl
	rc=0
	timeout -k 2 60 "$NO_URING" --errno $err --children-only "$RS" --engine auto -w 2 "${SCAN[@]}" \
		-o "$out" --stats "$out.stats" 2>"$out.err" || rc=$?
	[ $rc = 0 ] || { cat "$out.err" >&2; rs_fail "$what: exit $rc, want 0"; }
	check_scan "$W/truth.txt" "$out" "$what" || exit 1
	late_ok "$what" "$out.err" "$out.stats" $err
	rs_say "ok: $what: exact on epoll; $(grep 'io_uring unavailable' "$out.err")"
	pass=$((pass + 1))
done

# One worker keeps io_uring, the other falls back: exact, and said.
what="--engine auto, io_uring_setup EPERM in one of two workers"
out=$RS_TMP/out-mixed.jsonl
rc=0
timeout -k 2 60 "$NO_URING" --children-only --spare 1 "$RS" --engine auto -w 2 "${SCAN[@]}" \
	-o "$out" --stats "$out.stats" 2>"$out.err" || rc=$?
[ $rc = 0 ] || { cat "$out.err" >&2; rs_fail "$what: exit $rc, want 0"; }
check_scan "$W/truth.txt" "$out" "$what" || exit 1
[ "$(grep -c 'io_uring unavailable in worker' "$out.err")" = 1 ] ||
	{ cat "$out.err" >&2; rs_fail "$what: want the fallback said in exactly one line"; }
grep -Eq '"engine_reason":"io_uring_setup: EPERM \(seccomp filter\), in 1 of 2 workers \(the others (direct|compat)\)"' "$out.stats" ||
	rs_fail "$what: --stats engine_reason does not say 1 of 2 workers: $(cat "$out.stats")"
grep -q '"engine":"epoll","concurrency"' "$out.stats" || rs_fail "$what: want \"engine\":\"epoll\": $(cat "$out.stats")"
[ "$(grep -o '"probes":[0-9]*,"engine":"epoll"' "$out.stats" | wc -l)" = 1 ] &&
	[ "$(grep -Eo '"probes":[0-9]*,"engine":"(direct|compat)"' "$out.stats" | wc -l)" = 1 ] ||
	rs_fail "$what: want one worker on io_uring and one on epoll: $(cat "$out.stats")"
rs_say "ok: $what: exact; $(grep -o '"engine_reason":"[^"]*"' "$out.stats")"
pass=$((pass + 1))

# ENOMEM in every worker's io_uring_setup, lasting: waited out, then epoll.
what="--engine auto, io_uring_setup ENOMEM in the workers only, lasting"
out=$RS_TMP/out-enomem.jsonl
rc=0
t0=$(date +%s%N)
timeout -k 2 60 "$NO_URING" --errno ENOMEM --children-only "$RS" --engine auto -w 2 "${SCAN[@]}" \
	-o "$out" --stats "$out.stats" 2>"$out.err" || rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
[ $rc = 0 ] || { cat "$out.err" >&2; rs_fail "$what: exit $rc, want 0"; }
check_scan "$W/truth.txt" "$out" "$what" || exit 1
[ "$(grep -c 'io_uring unavailable' "$out.err")" = 1 ] ||
	{ cat "$out.err" >&2; rs_fail "$what: want the fallback said in exactly one line"; }
grep -Eq '^ringscan: io_uring unavailable in worker [0-9]+ \(io_uring_setup: ENOMEM\): it uses epoll$' "$out.err" ||
	{ cat "$out.err" >&2; rs_fail "$what: no line 'io_uring unavailable in worker N (io_uring_setup: ENOMEM): it uses epoll'"; }
[ "$(grep -o '"probes":[0-9]*,"engine":"epoll"' "$out.stats" | wc -l)" = 2 ] ||
	rs_fail "$what: --stats does not list both workers on epoll: $(cat "$out.stats")"
[ $ms -ge 5000 ] || rs_fail "$what: fell back after $ms ms, without waiting ENOMEM out (5 s)"
rs_say "ok: $what: exact on epoll after $ms ms; $(grep 'io_uring unavailable' "$out.err")"
pass=$((pass + 1))

# uring and compat need io_uring in every worker: fail fast, nothing sent.
for engine in uring compat; do
	what="--engine $engine, io_uring_setup EPERM in the workers only"
	out=$RS_TMP/out-$engine.jsonl
	syns0=$(nft_syns)
	rc=0
	timeout -k 2 10 "$NO_URING" --children-only "$RS" --engine $engine -w 2 "${SCAN[@]}" \
		-o "$out" --stats "$out.stats" 2>"$out.err" || rc=$?
	[ "$rc" != 124 ] && [ "$rc" != 137 ] || rs_fail "$what: still running at its hang guard"
	[ $rc = 1 ] || { cat "$out.err" >&2; rs_fail "$what: exit $rc, want 1"; }
	grep -Eq "^ringscan: worker [0-9]+: io_uring unavailable \\(io_uring_setup: EPERM \\(seccomp filter\\)\\), and --engine $engine needs it\$" "$out.err" ||
		{ cat "$out.err" >&2; rs_fail "$what: no line naming the worker, io_uring_setup, EPERM and seccomp"; }
	! grep -q 'it uses epoll' "$out.err" || { cat "$out.err" >&2; rs_fail "$what: fell back to epoll although $engine was asked for"; }
	[ ! -s "$out" ] || rs_fail "$what: answers were written"
	syns=$(nft_syns)
	[ "$syns" = "$syns0" ] || rs_fail "$what: $((syns - syns0)) SYNs were sent"
	rs_say "ok: $what: exit 1 at once: $(grep 'io_uring unavailable' "$out.err")"
	pass=$((pass + 1))
done
rs_say "uring_late: $pass checks passed, 0 failed"
