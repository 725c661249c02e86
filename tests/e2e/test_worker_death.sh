#!/usr/bin/env bash
# test_worker_death: kill -9 of a worker mid-scan, or a worker that wedges
# (SIGSTOP), loses nothing (DESIGN.md invariant 5). The coordinator hands the dead worker's unanswered
# positions to the others, starts a replacement, and drops any repeat
# answer: exit 0, the exact answer set, no line twice, and --stats says how
# many workers were replaced and how many positions were handed over. On
# the engine under test, and a kill in its other modes (lib.sh
# rs_engine_extra: compat for io_uring).
# Usage: test_worker_death.sh BUILD_DIR
# engines: split (each engine once, plain or ASan: 14-17 s a run)
set -eu
. "$(dirname "$0")/lib.sh"
ns_reexec 300 "$0" "$@"
need_scanner "${1:-}"
need_tools
trap world_down EXIT
W=$RS_TMP/w
# 4,096 pairs, 20% filtered: about 4 s at -c 64 -t 500, so kills land mid-scan.
world_gen "$W" --seed 17 --addrs 127.13.0.0/24 --ports 7000-7015 --open 25 --filtered 20 --unreachable 5
world_up "$W"

run() { # LABEL KILLS ENGINE [SIGNAL]
	local label=$1 kills=$2 engine=$3 sig=${4:-KILL} out=$RS_TMP/$1.jsonl pid rc=0 victim
	"$RS" --all -q -w 2 -c 64 -t 500 --retries 0 --engine "$engine" --seed 17 \
		127.13.0.0/24 -p 7000-7015 -o "$out" --stats "$out.stats" 2>"$out.err" &
	pid=$!
	for k in $(seq 1 "$kills"); do
		sleep 1
		victim=$(pgrep -P "$pid" | sed -n "${k}p;1p" | tail -1)
		[ -n "$victim" ] || rs_fail "$label: no worker to kill"
		kill -s "$sig" "$victim"
	done
	wait "$pid" || rc=$?
	[ $rc = 0 ] || { cat "$out.err" >&2; rs_fail "$label: exit $rc, want 0"; }
	check_scan "$W/truth.txt" "$out" "$label" || { cat "$out.err" >&2; exit 1; }
	restarts=$(sed -E 's/.*"restarts":([0-9]+).*/\1/' "$out.stats")
	requeued=$(sed -E 's/.*"requeued":([0-9]+).*/\1/' "$out.stats")
	# More than the kills when the watchdog also took a worker that an
	# overloaded machine left unscheduled past its limit: harmless, and
	# the answers must still be exact.
	[ "$restarts" -ge "$kills" ] || rs_fail "$label: --stats says $restarts restarts, want at least $kills"
	[ "$requeued" -gt 0 ] || rs_fail "$label: no position was handed over"
	grep -q 'died and were replaced' "$out.err" || rs_fail "$label: the summary does not say so"
	rs_say "ok: $label: exact after $kills kill(s); $requeued positions handed over"
}
main=${RS_ENGINE:-auto}
run one-kill 1 "$main"
run two-kills 2 "$main"
for eng in $(rs_engine_extra); do
	run "$eng" 1 "$eng"
done
# A wedged worker (stopped, alive, no progress) is found by its stale
# heartbeat after max(2 s, 4 x timeout), killed and handed over too.
run wedged 1 "$main" STOP
grep -q 'made no progress' "$RS_TMP/wedged.jsonl.err" ||
	rs_fail "wedged: the coordinator did not report the wedged worker"
