#!/usr/bin/env bash
# test_constrained: exact answers on a starved machine (DESIGN.md
# invariant 2, issue 4): a 64-port ephemeral range inside the namespace,
# and a 64-fd limit (prlimit), each on the engine under test and its other
# modes (lib.sh rs_engines: io_uring direct and compat, or epoll) and
# thousands of probes wanting to be in flight. Local trouble may slow
# the scan; it must never change an answer. (Linux shares a local port
# across distinct 4-tuples, so the small range alone rarely fails a
# connect; test_local_errors provokes real EMFILE.) And a full result
# ring: a coordinator stopped for 2 s.
# Usage: test_constrained.sh BUILD_DIR
set -eu
. "$(dirname "$0")/lib.sh"
ns_reexec 300 "$0" "$@"
need_scanner "${1:-}"
need_tools
trap world_down EXIT
W=$RS_TMP/w
world_gen "$W" --seed 13 --addrs 127.12.0.0/24 --ports 6000-6015 --open 25 --filtered 2 --unreachable 5
world_up "$W"
sysctl -qw net.ipv4.ip_local_port_range="40000 40063" ||
	echo 40000 40063 >/proc/sys/net/ipv4/ip_local_port_range
[ "$(awk '{print $1 "-" $2}' /proc/sys/net/ipv4/ip_local_port_range)" = 40000-40063 ] ||
	rs_fail "could not shrink the ephemeral port range"
pass=0
for engine in $(rs_engines); do
	for limit in none 64; do
		pre=()
		[ $limit = none ] || pre=(prlimit --nofile=$limit)
		out=$RS_TMP/out-$engine-$limit.jsonl
		"${pre[@]}" "$RS" --all -q -w 2 -c 4096 -t 300 --retries 0 --engine $engine --seed 13 \
			127.12.0.0/24 -p 6000-6015 -o "$out" --stats "$out.stats" 2>"$out.err" ||
			{ cat "$out.err" >&2; rs_fail "scan failed ($engine, nofile $limit)"; }
		check_scan "$W/truth.txt" "$out" "$engine engine, 64 ephemeral ports, nofile $limit" || exit 1
		rs_say "ok: $engine, nofile $limit: exact; $(sed -E 's/.*"local_errors":([0-9]+).*"concurrency":([0-9]+).*/local-error backoffs \1, \2 in flight per worker/' "$out.stats")"
		pass=$((pass + 1))
	done
done

# Pressure on the result ring: a coordinator that stops draining (SIGSTOP
# for 2 s) lets its worker's 65,536-entry result ring fill; the worker
# must wait (without looking wedged to the watchdog) and lose nothing.
# 262,144 pairs with no listener and no rule: every one closed (RST).
out=$RS_TMP/stalled.jsonl
"$RS" --all -q -w 1 --seed 13 127.22.0.0/16 -p 7,9,11,13 -o "$out" --stats "$out.stats" \
	2>"$out.err" &
pid=$!
sleep 0.3
kill -STOP "$pid"
sleep 2
kill -CONT "$pid"
rc=0
wait "$pid" || rc=$?
[ $rc = 0 ] || { cat "$out.err" >&2; rs_fail "stalled coordinator: exit $rc"; }
ip4_seq 127.22.0.0 127.22.255.255 | cross 7 9 11 13 | sed 's/$/ closed/' >"$RS_TMP/stalled.truth"
check_scan "$RS_TMP/stalled.truth" "$out" "stalled coordinator" || exit 1
grep -q '"restarts":0,' "$out.stats" || rs_fail "stalled coordinator: a waiting worker was taken for wedged"
rs_say "ok: a coordinator stopped for 2 s: the full result ring held the worker back; exact, no restart"
pass=$((pass + 1))
rs_say "constrained: $pass checks passed, 0 failed"
