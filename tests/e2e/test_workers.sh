#!/usr/bin/env bash
# test_workers: -w 2 means two worker processes, and both do the work.
#   1. On a 4,096-pair mixed world, --stats lists exactly 2 workers with
#      distinct pids (not the coordinator's), each with probes > 0, the
#      probes summing to the number of targets; the answers are exact.
#   2. While a slow scan of an all-filtered world runs, the coordinator has
#      exactly 2 child processes.
# Usage: test_workers.sh BUILD_DIR
set -eu
. "$(dirname "$0")/lib.sh"
ns_reexec 240 "$0" "$@"
need_scanner "${1:-}"
need_tools
scan_pid=
cleanup() {
	[ -z "$scan_pid" ] || kill -KILL "$scan_pid" 2>/dev/null || true
	world_down
}
trap cleanup EXIT

# wait_pid PID SECONDS: wait (bounded) for a background scan; its status.
wait_pid() {
	local pid=$1 rc=0
	for _ in $(seq 1 $(($2 * 10))); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid"
		rs_say "scan $pid still running after $2 s: killed"
	fi
	wait "$pid" || rc=$?
	return $rc
}

# 1. Stats of a mixed world.
W=$RS_TMP/w
world_gen "$W" --seed 21 --addrs 127.1.0.0/24 --ports 3000-3015 --open 25 --filtered 2 --unreachable 5 \
	--closed-port 3007
world_up "$W"
out=$RS_TMP/scan.jsonl
stats=$RS_TMP/stats.json
args=(--all -q -w 2 -c 64 -t 300 --retries 0 --seed 3 --stats "$stats" 127.1.0.0/24 -p 3000-3015)
"$RS" "${args[@]}" -o "$out" 2>"$RS_TMP/scan.err" &
scan_pid=$!
coord=$scan_pid
rc=0
wait_pid "$scan_pid" 60 || rc=$?
scan_pid=
world_down
if [ $rc != 0 ]; then
	cat "$RS_TMP/scan.err" >&2
	rs_fail "ringscan ${args[*]} -> exit $rc"
fi
check_scan "$W/truth.txt" "$out" "ringscan ${args[*]}" || rs_fail "answers differ from the world's truth"
[ -s "$stats" ] || rs_fail "no --stats file"
workers=$(tr -d ' \n' <"$stats" | sed -n 's/.*"workers":\[\([^]]*\)\].*/\1/p')
[ -n "$workers" ] || rs_fail "no \"workers\" array in $(cat "$stats")"
grep -o '{[^}]*}' <<<"$workers" >"$RS_TMP/workers" || true
rs_say "coordinator $coord, workers: $(tr '\n' ' ' <"$RS_TMP/workers")"
n=$(wc -l <"$RS_TMP/workers")
[ "$n" = 2 ] || rs_fail "$n entries in \"workers\", want 2"
pids=$(sed -n 's/.*"pid":\([0-9]*\).*/\1/p' "$RS_TMP/workers")
probes=$(sed -n 's/.*"probes":\([0-9]*\).*/\1/p' "$RS_TMP/workers")
if [ "$(echo "$pids" | wc -w)" != 2 ] || [ "$(echo "$probes" | wc -w)" != 2 ]; then
	rs_fail "workers entries lack pid or probes"
fi
[ "$(echo "$pids" | sort -u | wc -l)" = 2 ] || rs_fail "the 2 workers have the same pid"
for p in $pids; do
	[ "$p" != "$coord" ] || rs_fail "a worker has the coordinator's pid $coord"
done
for p in $probes; do
	[ "$p" -gt 0 ] || rs_fail "a worker answered no probe (probes: $(paste -sd' ' <<<"$probes"))"
done
total=$(wc -l <"$W/truth.txt")
sum=$(($(echo "$probes" | paste -sd+)))
[ "$sum" = "$total" ] || rs_fail "workers' probes sum to $sum, want $total"

# 2. Child processes of a running scan: 64 filtered pairs, 100 ms each, one
# in flight per worker: several seconds of scanning.
D=$RS_TMP/dark
world_gen "$D" --seed 22 --addrs 127.4.0.0/28 --ports 4000-4003 --dark 127.4.0.0/28
world_up "$D"
args=(--all -q -w 2 -c 1 -t 100 --retries 0 --seed 4 127.4.0.0/28 -p 4000-4003)
"$RS" "${args[@]}" -o "$RS_TMP/dark.jsonl" 2>"$RS_TMP/dark.err" &
scan_pid=$!
sleep 1
counts=
for _ in 1 2 3; do
	kill -0 "$scan_pid" 2>/dev/null || break
	counts="$counts $(pgrep -P "$scan_pid" | wc -l)"
	sleep 0.3
done
rc=0
wait_pid "$scan_pid" 60 || rc=$?
scan_pid=
world_down
[ $rc = 0 ] || rs_fail "ringscan ${args[*]} -> exit $rc"
[ -n "$counts" ] || rs_fail "the scan ended within 1 s: no chance to count its children"
for n in $counts; do
	[ "$n" = 2 ] || rs_fail "coordinator had$counts child processes at successive looks, want 2"
done
check_scan "$D/truth.txt" "$RS_TMP/dark.jsonl" "ringscan ${args[*]}" || rs_fail "answers differ from the world's truth"
rs_say "workers OK (children seen:$counts)"
