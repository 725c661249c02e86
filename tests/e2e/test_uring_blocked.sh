#!/usr/bin/env bash
# test_uring_blocked: io_uring blocked by seccomp (tests/tools/no_uring), as
# Docker's and containerd 2.0's default profiles do (EPERM), or answered
# ENOSYS as on a kernel without it (issues 10 and 13). For each errno:
#   - `--engine auto` probes io_uring once, falls back to epoll and scans a
#     mixed world (every state, both kinds of closed) exactly; the first
#     line on stderr, and the only one of its kind, says so
#     ("io_uring unavailable (io_uring_setup: ERRNO ...): using epoll"); the
#     summary's workers line ends "(epoll: <why>)"; --stats has "engine":"epoll"
#     and an "engine_reason" naming io_uring_setup and the errno (for EPERM
#     exactly "io_uring_setup: EPERM (seccomp or kernel.io_uring_disabled)");
#   - `--engine uring` and `--engine compat` (io_uring too) stop at once,
#     before any worker is forked and before any packet: exit 1, one line
#     on stderr naming io_uring and the errno (and seccomp for EPERM), no
#     answer, and the world's SYN counter unchanged by that run.
# Under EPERM, `--engine epoll` asked for by name scans exactly with no
# fallback line and "engine_reason":null. Without the filter, `--engine
# auto` scans exactly on io_uring: no fallback line, "engine_reason":null.
# The 5 s `timeout`s are hang guards, not speed assertions (the refusal
# takes milliseconds).
# A ring that can be set up but not entered, and epoll_pwait2 refused,
# still give exact answers on epoll under auto.
# engine-independent: it picks its engines itself (auto, uring, compat, epoll).
# Usage: test_uring_blocked.sh BUILD_DIR
set -eu
. "$(dirname "$0")/lib.sh"
ns_reexec 180 "$0" "$@"
unset RS_ENGINE # every run below names its engine
need_scanner "${1:-}"
need_tools
NO_URING=$RS_TOOLS/no_uring
[ -x "$NO_URING" ] || rs_fail "no $NO_URING (run make)"
"$NO_URING" true || rs_skip "cannot install a seccomp filter here"
trap world_down EXIT
W=$RS_TMP/w
NET=127.31.0.0/27
PORTS=7000-7007
# 256 pairs: ~25% open, ~3% filtered (200 ms each, one attempt), ~8%
# unreachable; 7003 without a listener (closed by the kernel).
world_gen "$W" --seed 31 --addrs $NET --ports $PORTS --open 25 --filtered 3 --unreachable 8 \
	--closed-port 7003
world_is_mixed "$W"
world_up "$W"
SCAN=(--all -q -w 2 -t 200 --retries 0 "$NET" -p "$PORTS")
pass=0

# fallback_ok WHAT ERR STATS ERRNO: the stderr ERR and --stats STATS of an
# auto scan that fell back to epoll because io_uring_setup failed with ERRNO.
fallback_ok() {
	local what=$1 err=$2 stats=$3 errno=$4 first reason
	first=$(head -n 1 "$err")
	case $first in
	"ringscan: io_uring unavailable (io_uring_setup: $errno"*"): using epoll") ;;
	*)
		cat "$err" >&2
		rs_fail "$what: the first line on stderr is not the fallback line naming io_uring_setup and $errno"
		;;
	esac
	[ "$(grep -c 'io_uring unavailable' "$err")" = 1 ] ||
		{ cat "$err" >&2; rs_fail "$what: want the fallback said in exactly one line"; }
	if [ "$errno" = EPERM ]; then
		grep -q seccomp <<<"$first" || rs_fail "$what: the fallback line does not say seccomp: $first"
	fi
	grep -Eq "workers? x [0-9]+ in flight \\(epoll: io_uring_setup: $errno .*\\)\$" "$err" ||
		{ cat "$err" >&2; rs_fail "$what: the summary's workers line does not end (epoll: <why>)"; }
	grep -q '"engine":"epoll"' "$stats" || rs_fail "$what: --stats has no \"engine\":\"epoll\": $(cat "$stats")"
	reason=$(sed -n 's/.*"engine_reason":\("[^"]*"\|null\).*/\1/p' "$stats")
	case $reason in
	"\"io_uring_setup: $errno"*) ;;
	*) rs_fail "$what: --stats engine_reason is $reason, want one naming io_uring_setup and $errno" ;;
	esac
	# Under no_uring the process has a seccomp filter (Seccomp: 2), so
	# the reason names it rather than guessing between it and the sysctl.
	if [ "$errno" = EPERM ] && [ "$reason" != '"io_uring_setup: EPERM (seccomp filter)"' ]; then
		rs_fail "$what: --stats engine_reason is $reason"
	fi
	rs_say "ok: $what: exact on epoll; $first"
}

for err in EPERM ENOSYS; do
	# uring and compat need io_uring: refused at once, nothing sent.
	for engine in uring compat; do
		what="--engine $engine, io_uring_setup $err"
		out=$RS_TMP/out-$engine-$err.jsonl
		syns0=$(nft_syns)
		rc=0
		timeout -k 2 5 "$NO_URING" --errno $err "$RS" --engine $engine "${SCAN[@]}" \
			-o "$out" --stats "$out.stats" 2>"$out.err" || rc=$?
		words=(io_uring "$err")
		[ $err != EPERM ] || words+=(seccomp)
		fails_in_one_line "$what" "$rc" "$out" "$out.err" "${words[@]}"
		syns=$(nft_syns)
		[ "$syns" = "$syns0" ] || rs_fail "$what: $((syns - syns0)) SYNs were sent although io_uring was blocked"
		pass=$((pass + 1))
	done
	rs_say "ok: io_uring_setup $err: --engine uring and compat sent no SYN"

	# auto falls back to epoll and answers exactly.
	what="--engine auto, io_uring_setup $err"
	out=$RS_TMP/out-auto-$err.jsonl
	rc=0
	timeout -k 2 60 "$NO_URING" --errno $err "$RS" --engine auto "${SCAN[@]}" \
		-o "$out" --stats "$out.stats" 2>"$out.err" || rc=$?
	[ $rc = 0 ] || { cat "$out.err" >&2; rs_fail "$what: exit $rc, want 0"; }
	check_scan "$W/truth.txt" "$out" "$what" || exit 1
	fallback_ok "$what" "$out.err" "$out.stats" $err
	pass=$((pass + 1))
done

# epoll by name under the filter: nothing fell back, nothing to say.
what="--engine epoll, io_uring_setup EPERM"
out=$RS_TMP/out-epoll.jsonl
rc=0
timeout -k 2 60 "$NO_URING" --errno EPERM "$RS" --engine epoll "${SCAN[@]}" \
	-o "$out" --stats "$out.stats" 2>"$out.err" || rc=$?
[ $rc = 0 ] || { cat "$out.err" >&2; rs_fail "$what: exit $rc, want 0"; }
check_scan "$W/truth.txt" "$out" "$what" || exit 1
! grep -q 'io_uring unavailable' "$out.err" || { cat "$out.err" >&2; rs_fail "$what: a fallback line, but epoll was asked for"; }
grep -Eq 'workers? x [0-9]+ in flight \(epoll\)$' "$out.err" ||
	{ cat "$out.err" >&2; rs_fail "$what: the summary does not end its workers line with (epoll)"; }
if ! grep -q '"engine":"epoll"' "$out.stats" || ! grep -q '"engine_reason":null' "$out.stats"; then
	rs_fail "$what: want \"engine\":\"epoll\" and \"engine_reason\":null in --stats: $(cat "$out.stats")"
fi
rs_say "ok: $what: exact, no fallback line"
pass=$((pass + 1))

# A ring that can be made but not used (io_uring_enter refused): the
# coordinator's check sends a no-op through it, so auto still runs epoll,
# exactly, naming io_uring_enter; and epoll_pwait2 refused too, as
# profiles older than the call do: the backend waits with epoll_wait.
what="--engine auto, io_uring_enter and epoll_pwait2 EPERM"
out=$RS_TMP/out-enter.jsonl
rc=0
timeout -k 2 60 "$NO_URING" --errno EPERM --enter-only --no-pwait2 "$RS" --engine auto "${SCAN[@]}" \
	-o "$out" --stats "$out.stats" 2>"$out.err" || rc=$?
[ $rc = 0 ] || { cat "$out.err" >&2; rs_fail "$what: exit $rc, want 0"; }
check_scan "$W/truth.txt" "$out" "$what" || exit 1
grep -q '"engine_reason":"io_uring_enter: EPERM' "$out.stats" ||
	{ cat "$out.err" >&2; rs_fail "$what: want an engine_reason naming io_uring_enter: $(cat "$out.stats")"; }
rs_say "ok: $what: exact on epoll"
pass=$((pass + 1))

# Without the filter, auto keeps io_uring and says nothing about it.
what="--engine auto, io_uring allowed"
out=$RS_TMP/free.jsonl
rc=0
timeout -k 2 60 "$RS" --engine auto "${SCAN[@]}" -o "$out" --stats "$out.stats" 2>"$out.err" || rc=$?
[ $rc = 0 ] || { cat "$out.err" >&2; rs_fail "$what: exit $rc, want 0"; }
check_scan "$W/truth.txt" "$out" "$what" || exit 1
! grep -q 'io_uring unavailable' "$out.err" || { cat "$out.err" >&2; rs_fail "$what: fell back to epoll"; }
if grep -q '"engine":"epoll"' "$out.stats" || ! grep -q '"engine_reason":null' "$out.stats"; then
	rs_fail "$what: want io_uring and \"engine_reason\":null in --stats: $(cat "$out.stats")"
fi
rs_say "ok: $what: exact, $(grep -o '"engine":"[^"]*"' "$out.stats")"
pass=$((pass + 1))
rs_say "uring_blocked: $pass checks passed, 0 failed"
