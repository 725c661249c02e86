#!/usr/bin/env bash
# test_filtered: worlds where (nearly) nothing answers, scanned with no
# timing option at all. Such a world gives the congestion controller no
# signal, and it once read that as "nothing known": the rate stayed at the
# gentle start (2,000/s) and every probe got 10 attempts, so a wholly
# filtered /16 took over 5 minutes (docs/architecture.md, "Sending on a
# real link"). Checked here by what the scan did, not by a stopwatch:
#   1. wholly filtered, 8,192 pairs: exact; each probe sent twice (one
#      retry: nothing was ever answered late), and the controller went
#      past its start;
#   2. sparse, 2% open and 98% filtered: exact, filtered pairs sent at
#      most 3 times (no loss on loopback).
# Usage: test_filtered.sh BUILD_DIR
# engines: split (each engine once, plain or ASan: 11-18 s a run)
set -eu
. "$(dirname "$0")/lib.sh"
ns_reexec 200 "$0" "$@"
need_scanner "${1:-}"
need_tools
command -v python3 >/dev/null || rs_skip "python3 not found"
trap world_down EXIT
RS_NPASS=0 RS_NFAIL=0

# stat FILE EXPR: a value from a --stats file (python expression over d).
stat() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

# within LO HI MIN MAX: MIN <= LO and HI <= MAX.
within() { [ "$1" -ge "$3" ] && [ "$2" -le "$4" ]; }

# attempts OUT: "LO HI" attempts of the filtered lines of OUT.
attempts() {
	sed -n 's/.*"state":"filtered".*"attempts":\([0-9]*\).*/\1/p' "$1" |
		sort -n | sed -n '1p;$p' | tr '\n' ' '
}

NET=127.61.0.0/20
W=$RS_TMP/all
world_gen "$W" --seed 5 --addrs $NET --ports 7100-7101 --filtered 100
world_up "$W"
out=$RS_TMP/all.jsonl
rs_say "1. wholly filtered: $(wc -l <"$W/truth.txt") pairs"
if run_scan 120 --all -q --stats "$RS_TMP/all.stats" $NET -p 7100-7101 -o "$out" &&
	check_scan "$W/truth.txt" "$out" "wholly filtered"; then
	rs_pass
	rs_say "  $(stat "$RS_TMP/all.stats" '"%.2f s, retries %d, up to %d attempts, peak %d/s" % (d["elapsed_s"], d["retries"], d["sending"]["attempts_max"], d["sending"]["rate_peak"])')"
	rs_check "one retry per probe (attempts $(attempts "$out"))" [ "$(attempts "$out")" = "2 2 " ]
	rs_check "retries = pairs" [ "$(stat "$RS_TMP/all.stats" 'd["retries"]')" = 8192 ]
	rs_check "the rate went past the gentle start" \
		[ "$(stat "$RS_TMP/all.stats" 'int(d["sending"]["rate_peak"] > 4 * 2000)')" = 1 ]
else
	rs_nok "wholly filtered: not exact"
fi
world_down

W=$RS_TMP/sparse
world_gen "$W" --seed 6 --addrs $NET --ports 7100-7101 --open 2 --filtered 98
world_up "$W"
out=$RS_TMP/sparse.jsonl
rs_say "2. sparse: $(grep -c ' open$' "$W/truth.txt") open of $(wc -l <"$W/truth.txt")"
if run_scan 120 --all -q --stats "$RS_TMP/sparse.stats" $NET -p 7100-7101 -o "$out" &&
	check_scan "$W/truth.txt" "$out" "sparse"; then
	rs_pass
	rs_say "  $(stat "$RS_TMP/sparse.stats" '"%.2f s, retries %d, up to %d attempts, peak %d/s" % (d["elapsed_s"], d["retries"], d["sending"]["attempts_max"], d["sending"]["rate_peak"])')"
	read -r lo hi <<<"$(attempts "$out")"
	rs_check "filtered pairs sent 2-3 times (got $lo-$hi)" within "$lo" "$hi" 2 3
else
	rs_nok "sparse: not exact"
fi
rs_summary filtered
