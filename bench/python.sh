#!/usr/bin/env bash
# bench/python.sh: the Python drop-in against the code it replaces (part of
# make bench; make bench-python alone). "Which of these (host, port) pairs
# accept a connection?" on mixed worlds of hosts x ssh and telnet (22, 23;
# 1% open, 1% filtered, the rest closed), inside this run's private network
# namespace, three ways:
#   check_ports   ringscan.check_ports(pairs) from python/ (bench/peers/
#                 pairs_check.py ringscan): timeout 1 s, no retries
#   thread pool   multiprocessing.pool.ThreadPool(300) mapping
#                 socket.create_connection over the same pairs, timeout 1 s
#                 (bench/peers/pairs_check.py pool): the classic code
#   pool_scan.py  bench/peers/pool_scan.py: 2 processes x 300 threads over
#                 the world's CIDR x ports (make bench's Python peer)
# Each: median wall time of RUNS runs (default 3), CPU seconds and peak RSS
# (the largest process) of the last, and that run's answers checked
# against the world's truth (open pairs found, missed, false).
# Writes a Markdown table to $RS_BENCH_PYTHON (default build/bench/python.md).
# Usage: bench/python.sh [RUNS]
set -eu
. "$(dirname "$0")/../tests/e2e/lib.sh"
OUT=${RS_BENCH_PYTHON:-$RS_ROOT/build/bench/python.md}
export RS_BENCH_PYTHON=$OUT
ns_reexec 1800 "$0" "$@"
RUNS=${1:-3}
need_scanner "$RS_ROOT/build"
need_tools
PY=/usr/bin/python3
[ -x /usr/bin/time ] || rs_fail "/usr/bin/time missing: apt-get install time"
trap world_down EXIT
T=$RS_TMP
export PYTHONDONTWRITEBYTECODE=1 RINGSCAN=$RS
CHECK=$RS_ROOT/bench/peers/pairs_check.py
POOL=$RS_ROOT/bench/peers/pool_scan.py

# run_tool LABEL WANT OUTKIND CMD...: RUNS timed runs of CMD (its answers
# in $T/out), then one table row.
run_tool() {
	local label=$1 want=$2 kind=$3 walls=() wall user sys rss found missed false
	shift 3
	for _ in $(seq 1 "$RUNS"); do
		/usr/bin/time -f '%e %U %S %M' -o "$T/time" "$@" >/dev/null 2>"$T/run.err" ||
			{ cat "$T/run.err" >&2; rs_fail "$*"; }
		read -r wall user sys rss <"$T/time"
		walls+=("$wall")
	done
	case $kind in
	pairs) sed -n 's/ open$//p' "$T/out" | sort >"$T/got" ;;
	jsonl) scan_states "$T/out" | sed -n 's/ open$//p' >"$T/got" ;;
	esac
	[ "$kind" != pairs ] || [ "$(wc -l <"$T/out")" = "$(wc -l <"$T/pairs")" ] ||
		rs_fail "$label: $(wc -l <"$T/out") answers for $(wc -l <"$T/pairs") pairs"
	found=$(comm -12 "$want" "$T/got" | wc -l)
	missed=$(comm -23 "$want" "$T/got" | wc -l)
	false=$(comm -13 "$want" "$T/got" | wc -l)
	wall=$(printf '%s\n' "${walls[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p")
	printf '| %s | %s | %s | %s | %.2f | %d | %s/%s/%s |\n' "$WORLD" "$label" "$wall" \
		"$(echo "scale=0; $NPAIRS / $wall" | bc)" "$(echo "$user + $sys" | bc)" \
		"$((rss / 1024))" "$found" "$missed" "$false" >>"$T/rows"
	rs_say "  $label: ${wall}s, open found/missed/false $found/$missed/$false"
}

: >"$T/rows"
for cidr in 127.47.0.0/20 127.48.0.0/17; do
	W=$T/w${cidr//[.\/]/_}
	world_gen "$W" --seed 11 --addrs "$cidr" --ports 22-23 --open 1 --filtered 1
	world_up "$W"
	cut -d' ' -f1,2 "$W/truth.txt" | shuf --random-source=<(yes) >"$T/pairs"
	sed -n 's/ open$//p' "$W/truth.txt" | sort >"$T/want"
	NPAIRS=$(wc -l <"$T/pairs")
	WORLD="$cidr x 22,23 ($NPAIRS pairs)"
	rs_say "$WORLD"
	run_tool "check_ports (ringscan, -t 1000 --retries 0)" "$T/want" pairs \
		$PY "$CHECK" ringscan -t 1000 "$T/pairs" "$T/out"
	run_tool "ThreadPool(300) x create_connection, timeout 1 s" "$T/want" pairs \
		$PY "$CHECK" pool -T 300 -t 1000 "$T/pairs" "$T/out"
	run_tool "pool_scan.py: 2 procs x 300 threads, timeout 1 s" "$T/want" jsonl \
		$PY "$POOL" -w 2 -T 300 -t 1000 --all -o "$T/out" "$cidr" 22-23
	world_down
done

mkdir -p "$(dirname "$OUT")"
{
	echo "ringscan $("$RS" -V | cut -d' ' -f2), $(nproc) cores, $(uname -r), $(date -u +%F)," \
		"median of $RUNS runs"
	echo
	echo "| world | code | wall s | pairs/s | CPU s | peak RSS MiB | open found/missed/false |"
	echo "|---|---|---|---|---|---|---|"
	cat "$T/rows"
} >"$OUT"
cat "$OUT"
