#!/usr/bin/env bash
# test_constrained: exact answers on a starved machine (DESIGN.md
# invariant 2, issue 4): a 64-port ephemeral range inside the namespace,
# and a 64-fd limit (prlimit), each with the direct and the compat engine
# and thousands of probes wanting to be in flight. Local trouble may slow
# the scan; it must never change an answer. (Linux shares a local port
# across distinct 4-tuples, so the small range alone rarely fails a
# connect; test_local_errors provokes real EMFILE.)
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
for engine in auto compat; do
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
rs_say "constrained: $pass checks passed, 0 failed"
