#!/usr/bin/env bash
# test_no_timewait: probes of open ports are closed with SO_LINGER {1,0}
# semantics, so the scan leaves no TIME_WAIT behind (DESIGN.md, worker).
# Whichever side closed with a FIN would hold a TIME_WAIT for 60 s: after
# scanning a world of 4,096 open pairs, the namespace must have none, on
# the engine under test and its other modes (lib.sh rs_engines).
# Usage: test_no_timewait.sh BUILD_DIR
set -eu
. "$(dirname "$0")/lib.sh"
ns_reexec 120 "$0" "$@"
need_scanner "${1:-}"
need_tools
command -v ss >/dev/null || rs_skip "ss(8) not found"
trap world_down EXIT
W=$RS_TMP/w
world_gen "$W" --seed 9 --addrs 127.7.0.0/24 --ports 4000-4015 --open 100
world_up "$W"
for engine in $(rs_engines); do
	run_scan 60 --all -q -c 512 --engine $engine --seed 9 127.7.0.0/24 -p 4000-4015 \
		-o "$RS_TMP/out-$engine.jsonl" || rs_fail "scan failed ($engine)"
	check_scan "$W/truth.txt" "$RS_TMP/out-$engine.jsonl" "all-open world ($engine)" || exit 1
	tw=$(ss -Htan state time-wait | wc -l)
	[ "$tw" = 0 ] || { ss -Htan state time-wait | head -5 >&2; rs_fail "$tw TIME_WAIT sockets after the $engine scan"; }
	rs_say "ok: $engine: 4096 open probes, 0 TIME_WAIT"
done
