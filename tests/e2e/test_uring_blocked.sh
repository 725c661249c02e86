#!/usr/bin/env bash
# test_uring_blocked: io_uring blocked by seccomp, as Docker's and
# containerd 2.0's default profiles do (EPERM), or answered ENOSYS as on a
# kernel without it (issue 10, defect 4). With either engine (compat needs
# io_uring too) the scan must stop at once, before any worker is forked and
# before any packet, exit 1, and say in one line what is unavailable and
# why: io_uring, seccomp, and the errno. The 5 s `timeout` is a hang guard,
# not a speed assertion (today's answer takes milliseconds).
# Usage: test_uring_blocked.sh BUILD_DIR
set -eu
. "$(dirname "$0")/lib.sh"
ns_reexec 120 "$0" "$@"
need_scanner "${1:-}"
need_tools
NO_URING=$RS_TOOLS/no_uring
[ -x "$NO_URING" ] || rs_fail "no $NO_URING (run make)"
"$NO_URING" true || rs_skip "cannot install a seccomp filter here"
trap world_down EXIT
W=$RS_TMP/w
world_gen "$W" --seed 31 --addrs 127.31.0.0/28 --ports 7000-7003 --open 25
world_up "$W"

pass=0
for engine in auto compat; do
	for err in EPERM ENOSYS; do
		what="--engine $engine, io_uring_setup $err"
		out=$RS_TMP/out-$engine-$err.jsonl
		rc=0
		timeout -k 2 5 "$NO_URING" --errno $err "$RS" --engine $engine --all -q -w 2 -t 200 \
			127.31.0.0/28 -p 7000-7003 -o "$out" --stats "$out.stats" 2>"$out.err" || rc=$?
		fails_in_one_line "$what" "$rc" "$out" "$out.err" io_uring seccomp "$err"
		pass=$((pass + 1))
	done
done
syns=$(nft_syns)
[ "$syns" = 0 ] || rs_fail "$syns SYNs were sent although io_uring was blocked"
rs_say "ok: no SYN sent"

# The same scan without the filter answers exactly, and a compat scan says
# so in its summary.
out=$RS_TMP/free.jsonl
timeout -k 2 60 "$RS" --engine compat --all -q -w 2 -t 200 127.31.0.0/28 -p 7000-7003 \
	-o "$out" --stats "$out.stats" 2>"$out.err" || { cat "$out.err" >&2; rs_fail "unblocked scan failed"; }
check_scan "$W/truth.txt" "$out" "unblocked, compat" || exit 1
grep -q '(compat)' "$out.err" || { cat "$out.err" >&2; rs_fail "compat scan: summary does not say (compat)"; }
pass=$((pass + 2))
rs_say "uring_blocked: $pass checks passed, 0 failed"
