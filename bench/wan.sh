#!/usr/bin/env bash
# make bench, WAN section: ringscan on emulated real links (linkemu between
# two private namespaces, tests/e2e/linkworld.sh), side by side with the
# best fixed rate, nmap -sT -T4 and the Python pool. Never in CI.
#
# One world: 127.60.0.0/16 x 4 ports (262,144 pairs; 1.5625% open, 1.5625%
# filtered, the rest closed), behind each link:
#   lossy     RTT 100 ms +- 10 ms, 1% loss each way, 50 Mbit/s and 1,000
#             packets (without a bottleneck the emulator itself becomes
#             one: its 16,384 buffers hold ~160,000 packets/s at 100 ms)
#   bneck20   RTT 100 ms, 20 Mbit/s, 200-packet queue (issue 11's)
#   bneck10   RTT 40 ms, 10 Mbit/s, 100-packet queue
#   far       RTT 300 ms, 2% loss each way, 50 Mbit/s, 500-packet queue
#   nearfar   127.60.128.0/17 at RTT 300 ms, the rest at 20 ms, 2% loss
#             each way, 50 Mbit/s, 500-packet queue
#   sparse    another world, 127.60.0.0/18 x the 4 ports (65,536 pairs:
#             2% open, 90% filtered, as most of a real address space),
#             behind bneck10's link: few answers to judge the rate by,
#             and retries (to the filtered) most of the sends
# Per link: ringscan at the defaults (RUNS runs, each on a fresh link
# whose emulator's lag is read after it: each must be exact, and a run
# that is not says whether the emulator fell behind, lag p99 over 5 ms as
# in tests/e2e/test_wan.sh, which is then the world's fault, not the scan's),
# ringscan --fixed-rate at 50/70/85/100% of the bottleneck's SYN capacity
# (the best of them: the fastest exact one, else the fastest), nmap -sT
# -T4 and the pool (bench/peers/pool_scan.py) once, on bneck20 only (they
# take minutes). Capacity = rate / (8 x 60 bytes), a SYN with options.
# Columns: wall seconds (median), probes/s, fraction of capacity, open
# ports missed, pairs in a wrong state.
#
# Usage: bench/wan.sh [RUNS [LINK...]]   (default 3, every link); writes
# the table to stdout and to $RS_BENCH_WAN if set.
set -eu
. "$(dirname "$0")/../tests/e2e/lib.sh"
ns_reexec 7200 "$0" "$@"
RUNS=${1:-3}
shift || true
ONLY=" $* "
[ "$ONLY" != "  " ] || ONLY=" lossy bneck20 bneck10 far nearfar sparse "
need_scanner "$RS_ROOT/build"
need_tools
. "$RS_ROOT/tests/e2e/linkworld.sh"
POOL=$RS_ROOT/bench/peers/pool_scan.py
trap link_cleanup EXIT
T=$RS_TMP
NET=127.60.0.0/16 PORTS=7000-7003 PROBES=262144
export LINK_DURATION=3600
link_ns_up
W=$T/w
world_gen "$W" --seed 21 --addrs $NET --ports $PORTS --open 1.5625 --filtered 1.5625
link_world_up "$W"
OUT=${RS_BENCH_WAN:-$T/wan.md}
{
	echo "| link | tool | settings | wall s | probes/s | of capacity | opens missed | wrong |"
	echo "|---|---|---|---|---|---|---|---|"
} >"$OUT"

# check FILE KIND: "missed wrong" against the truth.
check() {
	local got=$T/got
	if [ "$2" = gnmap ]; then
		awk -F'\t' '/Ports: / { split($1, h, " "); sub(/^Ports: /, "", $2)
			n = split($2, p, ", "); for (i = 1; i <= n; i++) { split(p[i], f, "/")
			print h[2], f[1], f[2] } }' "$1" | sort >"$got"
	else
		scan_states "$1" >"$got"
	fi
	echo "$(comm -23 <(grep ' open$' "$W/truth.txt") <(grep ' open$' "$got") | wc -l)" \
		"$(comm -3 "$W/truth.txt" "$got" | wc -l)"
}

# row LINK TOOL SETTINGS SECONDS CAPACITY MISSED WRONG
row() {
	local pps frac
	pps=$(python3 -c "print('%.0f' % ($PROBES / $4))")
	frac=$([ "$5" = 0 ] && echo - || python3 -c "print('%.2f' % ($pps / $5))")
	echo "| $1 | $2 | $3 | $4 | $pps | $frac | $6 | $7 |" | tee -a "$OUT" >&2
}

# timed SECONDS_VAR CMD...: run CMD, put its wall time in SECONDS_VAR.
timed() {
	local var=$1 t0
	shift
	t0=$(date +%s%N)
	"$@" >/dev/null 2>"$T/err" || { cat "$T/err" >&2; rs_fail "$*"; }
	printf -v "$var" '%.2f' "$(echo "($(date +%s%N) - $t0) / 1000000000" | bc -l)"
}

# bench_link NAME CAPACITY LINKEMU-ARGS...
bench_link() {
	local name=$1 cap=$2 s walls=() bad=0 lagged=0 best='' bestw=999999 r i lag
	shift 2
	case $ONLY in *" $name "*) ;; *) return 0 ;; esac
	rs_say "$name: $*"
	for i in $(seq "$RUNS"); do
		link_up --seed $((8 + i)) "$@"
		timed s "$RS" --all -q --seed $RANDOM $NET -p $PORTS -o "$T/out"
		read -r m w <<<"$(check "$T/out" jsonl)"
		link_down
		lag=$(($(link_ctr a2b lag_p99_us) + $(link_ctr b2a lag_p99_us)))
		rs_say "  defaults: $s s, $m opens missed, $w wrong (emulator lag p99 $lag us)"
		walls+=("$s")
		[ "$w" = 0 ] || bad=$((bad + w))
		[ "$w" = 0 ] || [ "$lag" -le 5000 ] || lagged=$((lagged + 1))
	done
	s=$(printf '%s\n' "${walls[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p")
	row "$name" ringscan "defaults ($RUNS runs, all exact: $([ $bad = 0 ] && echo yes ||
		echo "no, $bad wrong$([ $lagged = 0 ] || echo ", in $lagged run(s) whose emulator lagged")"))" \
		"$s" "$cap" 0 "$bad"
	link_up --seed 9 "$@"
	if [ "$cap" != 0 ]; then
		for f in 50 70 85 100; do
			r=$((cap * f / 100))
			timed s "$RS" --all -q --seed 1 --fixed-rate -r $r $NET -p $PORTS -o "$T/out"
			read -r m w <<<"$(check "$T/out" jsonl)"
			rs_say "  --fixed-rate -r $r: $s s, $m missed, $w wrong"
			if [ "$w" = 0 ] && python3 -c "import sys; sys.exit(not $s < $bestw)"; then
				best="-r $r|$s|$m|$w" bestw=$s
			fi
		done
		[ -n "$best" ] || best="-r $r|$s|$m|$w"
		IFS='|' read -r r s m w <<<"$best"
		row "$name" ringscan "--fixed-rate $r (best exact of 50-100% of capacity)" "$s" "$cap" "$m" "$w"
	fi
	if [ "$name" = bneck20 ]; then
		# Each on a fresh link (nmap takes minutes).
		link_down
		link_up --seed 10 "$@"
		timed s timeout 3000 nmap -sT -T4 -n -Pn -p $PORTS -oG "$T/out.gnmap" $NET
		read -r m w <<<"$(check "$T/out.gnmap" gnmap)"
		row "$name" "nmap -sT -T4" "" "$s" "$cap" "$m" "$w"
		link_down
		link_up --seed 11 "$@"
		timed s python3 "$POOL" -w 2 -T 300 -t 1000 --all -o "$T/out" $NET $PORTS
		read -r m w <<<"$(check "$T/out" jsonl)"
		row "$name" "python pool" "2 procs x 300 threads, timeout 1 s" "$s" "$cap" "$m" "$w"
	fi
	link_down
	rs_say "  link: $(tr '\n' ' ' <"$LINK_DIR/stats")"
}

bench_link lossy 104166 --delay 50ms --jitter 5ms --loss 1 --rate 50mbit --queue 1000
bench_link bneck20 41666 --delay 50ms --rate 20mbit --queue 200
bench_link bneck10 20833 --delay 20ms --rate 10mbit --queue 100
bench_link far 104166 --delay 150ms --loss 2 --rate 50mbit --queue 500
bench_link nearfar 104166 --delay 10ms --delay 127.60.128.0/17=150ms --loss 2 --rate 50mbit --queue 500
case $ONLY in *" sparse "*)
	kill "$LINK_LPID" && wait "$LINK_LPID" || true # the first world's listener
	NET=127.60.0.0/18 PROBES=65536 W=$T/sparse
	world_gen "$W" --seed 22 --addrs $NET --ports $PORTS --open 2 --filtered 90
	link_world_up "$W" # its world.nft replaces the first's table
	bench_link sparse 20833 --delay 20ms --rate 10mbit --queue 100
	;;
esac
cat "$OUT"
