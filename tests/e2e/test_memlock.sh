#!/usr/bin/env bash
# test_memlock: a small RLIMIT_MEMLOCK (issues 10 and 13). Since Linux 6.13
# an io_uring's pages count against it.
#   - 64 KiB, a common unprivileged limit, holds two workers' rings only
#     when they shrink: with --engine auto, uring and compat the scan says
#     so in one line naming RLIMIT_MEMLOCK and its value, answers exactly,
#     and stays on io_uring ("engine_reason":null); its summary says which
#     engine ran.
#   - 16 KiB cannot hold the smallest rings of 4 workers at all: --engine
#     auto falls back to epoll and answers exactly, saying so in its first
#     stderr line ("io_uring unavailable (... RLIMIT_MEMLOCK ...): using
#     epoll"), in the summary's "(epoll: ...)" and in --stats ("engine":"epoll",
#     an "engine_reason" naming RLIMIT_MEMLOCK); --engine uring and compat
#     exit 1 at once with one line naming RLIMIT_MEMLOCK, its value and what
#     would fit (-w 2), instead of retrying a limit that will never be met.
#   - -w far above the CPUs gets a notice.
# The `timeout`s are hang guards, not speed assertions.
# engine-independent: it picks its engines itself (auto, uring, compat).
#
# The limit is checked against a counter of the user's, shared by all its
# processes; root's user namespaces all share uid 0's, so as root the test
# runs as a uid of its own (and so also shows that unshare -rn and prlimit
# work for an ordinary user).
# Usage: test_memlock.sh BUILD_DIR
set -eu
. "$(dirname "$0")/lib.sh"
if [ "$(id -u)" = 0 ] && [ -z "${RS_IN_NS:-}" ] && [ -z "${RS_OWN_UID:-}" ] &&
	command -v setpriv >/dev/null; then
	RS_OWN_UID=$((61000 + $$ % 4000))
	export RS_OWN_UID
	own=(setpriv --reuid="$RS_OWN_UID" --regid="$RS_OWN_UID" --clear-groups)
	# Only where that uid can reach the scanner, this script and a scratch
	# directory (not, say, under a root-only /root).
	if "${own[@]}" test -x "${1:-build}/ringscan" -a -w "${TMPDIR:-/tmp}" -a -r "$0" 2>/dev/null; then
		exec "${own[@]}" bash "$0" "$@"
	fi
fi
ns_reexec 120 "$0" "$@"
unset RS_ENGINE # every run below names its engine, or wants auto
need_scanner "${1:-}"
need_tools
command -v prlimit >/dev/null || rs_skip "prlimit(1) not found"
[ "$(ulimit -l)" = unlimited ] || [ "$(ulimit -l)" -ge 64 ] || rs_skip "RLIMIT_MEMLOCK below 64 KiB here"
trap world_down EXIT
W=$RS_TMP/w
world_gen "$W" --seed 37 --addrs 127.37.0.0/26 --ports 7100-7115 --open 25 --filtered 2 --unreachable 5
world_up "$W"
SCAN=(--all -q -t 300 --retries 0 127.37.0.0/26 -p 7100-7115)
# workers_line ERR: the summary's line that names the engine that ran.
workers_line() { grep -E 'workers? x [0-9]+ in flight \([a-z]+(: .*)?\)$' "$1"; }

pass=0
for engine in auto uring compat; do
	what="--engine $engine, RLIMIT_MEMLOCK 64 KiB"
	out=$RS_TMP/out-$engine.jsonl
	rc=0
	timeout -k 2 30 prlimit --memlock=65536:65536 "$RS" --engine $engine -w 2 "${SCAN[@]}" \
		-o "$out" --stats "$out.stats" 2>"$out.err" || rc=$?
	[ $rc = 0 ] || { cat "$out.err" >&2; rs_fail "$what: exit $rc"; }
	check_scan "$W/truth.txt" "$out" "$what" || exit 1
	grep -q 'RLIMIT_MEMLOCK is 64 KiB' "$out.err" ||
		{ cat "$out.err" >&2; rs_fail "$what: no line names RLIMIT_MEMLOCK and its value"; }
	grep -q '"restarts":0,' "$out.stats" || rs_fail "$what: workers were restarted"
	if grep -q 'io_uring unavailable' "$out.err" || grep -q '"engine":"epoll"' "$out.stats"; then
		cat "$out.err" >&2
		rs_fail "$what: left io_uring, but smaller rings fit: $(grep -o '"engine[a-z_]*":[^,]*' "$out.stats" | tr '\n' ' ')"
	fi
	grep -q '"engine_reason":null' "$out.stats" ||
		rs_fail "$what: --stats has no \"engine_reason\":null: $(grep -o '"engine[a-z_]*":[^,]*' "$out.stats" | tr '\n' ' ')"
	ran=$(workers_line "$out.err") || { cat "$out.err" >&2; rs_fail "$what: the summary does not say which engine ran"; }
	rs_say "ok: $what: exact; $(grep RLIMIT_MEMLOCK "$out.err"); ${ran##* }"
	pass=$((pass + 1))
done

# 16 KiB, -w 4: auto answers on epoll.
what="--engine auto, -w 4, RLIMIT_MEMLOCK 16 KiB"
out=$RS_TMP/small-auto.jsonl
rc=0
timeout -k 2 60 prlimit --memlock=16384:16384 "$RS" --engine auto -w 4 "${SCAN[@]}" \
	-o "$out" --stats "$out.stats" 2>"$out.err" || rc=$?
[ $rc = 0 ] || { cat "$out.err" >&2; rs_fail "$what: exit $rc, want 0 (on epoll)"; }
check_scan "$W/truth.txt" "$out" "$what" || exit 1
first=$(head -n 1 "$out.err")
case $first in
"ringscan: io_uring unavailable ("*RLIMIT_MEMLOCK*"): using epoll") ;;
*)
	cat "$out.err" >&2
	rs_fail "$what: the first line on stderr is not the fallback line naming RLIMIT_MEMLOCK"
	;;
esac
[ "$(grep -c 'io_uring unavailable' "$out.err")" = 1 ] ||
	{ cat "$out.err" >&2; rs_fail "$what: want the fallback said in exactly one line"; }
ran=$(workers_line "$out.err") || true
case $ran in
*"(epoll: RLIMIT_MEMLOCK"*")") ;;
*)
	cat "$out.err" >&2
	rs_fail "$what: the summary's workers line does not end (epoll: RLIMIT_MEMLOCK ...)"
	;;
esac
if ! grep -q '"engine":"epoll"' "$out.stats" || ! grep -q '"engine_reason":"[^"]*RLIMIT_MEMLOCK' "$out.stats"; then
	rs_fail "$what: want \"engine\":\"epoll\" and an engine_reason naming RLIMIT_MEMLOCK: $(cat "$out.stats")"
fi
grep -q '"restarts":0,' "$out.stats" || rs_fail "$what: workers were restarted"
rs_say "ok: $what: exact on epoll; $first"
pass=$((pass + 1))

# 16 KiB, -w 4: io_uring asked for by name cannot run at all.
for engine in uring compat; do
	what="--engine $engine, -w 4, RLIMIT_MEMLOCK 16 KiB"
	out=$RS_TMP/small-$engine.jsonl
	rc=0
	timeout -k 2 5 prlimit --memlock=16384:16384 "$RS" --engine $engine -w 4 "${SCAN[@]}" \
		-o "$out" 2>"$out.err" || rc=$?
	fails_in_one_line "$what" "$rc" "$out" "$out.err" 'RLIMIT_MEMLOCK is 16 KiB' '-w 2'
	pass=$((pass + 1))
done
# -w far above the CPUs (more than 8 each): a notice says why it is slow,
# and the answers stay exact.
n=$(($(nproc) * 8 + 1))
if [ $n -le 256 ]; then
	out=$RS_TMP/crowded.jsonl
	timeout -k 2 60 "$RS" -w $n "${SCAN[@]}" -o "$out" 2>"$out.err" ||
		{ cat "$out.err" >&2; rs_fail "-w $n: scan failed"; }
	check_scan "$W/truth.txt" "$out" "-w $n" || exit 1
	grep -q -- "-w $n is .* workers per CPU" "$out.err" ||
		{ cat "$out.err" >&2; rs_fail "-w $n: no notice of too many workers per CPU"; }
	rs_say "ok: -w $n: exact; $(grep 'per CPU' "$out.err")"
	pass=$((pass + 1))
fi
rs_say "memlock: $pass checks passed, 0 failed${RS_OWN_UID:+ (as uid $RS_OWN_UID, one of its own)}"
