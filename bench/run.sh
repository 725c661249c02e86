#!/usr/bin/env bash
# make bench: ringscan side by side with what users would pick instead, on
# loopback test worlds whose ground truth is known. Never in CI.
#
# Worlds (each inside the private network namespace of this run):
#   closed    127.40.0.0/16 x 4 ports (262,144), no listener: all RST
#   open      127.41.0.0/16 x 1 port (65,536), all open (accept-and-close
#             listener; its own counter must equal the handshakes made)
#   mixed     127.42.0.0/20 x 1 port (4,096): 1% open, 20% filtered, 2 dark
#             /24s, the rest closed; also 16,384, 65,536 and 262,144 pairs
#             for ringscan and the Python pool, to show how the ratio grows
#   filtered  127.43.0.0/16 x 16 ports (1,048,576), every SYN dropped; as
#             many probes in flight as the machine's limits allow
#   wide      127.0.0.0/8 x 1 port (16,777,216), all RST (127.255.255.255,
#             lo's broadcast address, is unreachable)
# Tools: ringscan (defaults, and best settings), bench/peers/epoll_connect
# (2 processes, non-blocking connect + epoll), bench/peers/pool_scan.py
# (multiprocessing x threads, socket.create_connection), nmap -sT (timeouts
# pinned to ringscan's, and its fastest settings).
#
# Each (world, tool): hyperfine timings (median of RUNS; 1 run for the slow
# peers), then one run under /usr/bin/time for CPU seconds and peak RSS (the
# largest process) and whose output is checked against the ground truth.
# Rows go to a TSV that bench/report.py turns into bench/results/DATE.md.
#
# Usage: bench/run.sh [RUNS]   (default 5); RS_BENCH_WORLDS="filtered wide"
# runs only those worlds (closed, open, mixed, filtered, wide).
# RS_BENCH_STATE=DIR keeps the measurements (rows.tsv, wide.check,
# open.listener) in DIR: a run of some worlds replaces theirs there and
# reports them with the others kept, so one world can be measured again
# without the whole bench.
set -eu
. "$(dirname "$0")/../tests/e2e/lib.sh"
# What the bench needs, installed when absent (as root).
for dep in hyperfine:hyperfine nmap:nmap python3:python3 /usr/bin/time:time strace:strace; do
	cmd=${dep%%:*} pkg=${dep#*:}
	command -v "$cmd" >/dev/null && continue
	[ "$(id -u)" = 0 ] || rs_fail "$cmd missing: apt-get install $pkg"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null
done
# 200,000 probes in flight need as many descriptors: raise the hard limit
# as real root, before the namespace (where it can no longer be raised).
ulimit -Hn 1048576 2>/dev/null || true
ulimit -n "$(ulimit -Hn)"
ns_reexec 3600 "$0" "$@"
RUNS=${1:-5}
need_scanner "$RS_ROOT/build"
need_tools
EPOLL=$RS_ROOT/build/bench/epoll_connect
POOL=$RS_ROOT/bench/peers/pool_scan.py
[ -x "$EPOLL" ] || rs_fail "no $EPOLL (make bench builds it)"
trap 'world_down; nft delete table inet rsbench 2>/dev/null || true' EXIT
T=$RS_TMP
ROWS=$T/rows.tsv
# want WORLD: is WORLD among those to run?
want() { [ -z "${RS_BENCH_WORLDS:-}" ] || [[ " $RS_BENCH_WORLDS " == *" $1 "* ]]; }
# The kept measurements of the worlds not run now ("mixed 4096" is mixed's).
: >"$ROWS"
if [ -n "${RS_BENCH_STATE:-}" ] && [ -n "${RS_BENCH_WORLDS:-}" ]; then
	mkdir -p "$RS_BENCH_STATE"
	[ ! -f "$RS_BENCH_STATE/rows.tsv" ] ||
		while IFS= read -r row; do
			want "${row%%[[:space:]]*}" || printf '%s\n' "$row" >>"$ROWS"
		done <"$RS_BENCH_STATE/rows.tsv"
	for w in wide:wide.check open:open.listener; do
		if ! want "${w%%:*}" && [ -f "$RS_BENCH_STATE/${w#*:}" ]; then
			cp "$RS_BENCH_STATE/${w#*:}" "$T/"
		fi
	done
fi
net_up

# states FILE KIND: a tool's output as sorted "IP PORT STATE" lines.
states() {
	case $2 in
	jsonl) scan_states "$1" ;;
	gnmap) awk -F'\t' '/Ports: / {
		split($1, h, " "); sub(/^Ports: /, "", $2); n = split($2, p, ", ")
		for (i = 1; i <= n; i++) { split(p[i], f, "/"); print h[2], f[1], f[2] } }' "$1" | sort ;;
	esac
}

# measure WORLD TOOL SETTINGS PROBES TRUTH KIND RUNS CMD...: time CMD (its
# output file is $T/out, of KIND jsonl or gnmap), check one run's output,
# append a row. Every tool writes every state (--all) so that accuracy
# covers every state, not only open.
measure() {
	local world=$1 tool=$2 settings=$3 probes=$4 truth=$5 kind=$6 runs=$7 median
	shift 7
	rs_say "  $world: $tool $settings"
	if [ "$runs" -gt 1 ]; then
		hyperfine -N --warmup 1 --runs "$runs" --export-json "$T/h.json" "$*" >/dev/null 2>"$T/h.err" ||
			{ cat "$T/h.err" >&2; rs_fail "hyperfine: $*"; }
		median=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["median"])' "$T/h.json")
	fi
	/usr/bin/time -f '%e %U %S %M' -o "$T/time" "$@" >/dev/null 2>"$T/run.err" ||
		{ cat "$T/run.err" >&2; rs_fail "$*"; }
	read -r wall user sys rss <"$T/time"
	[ "$runs" -gt 1 ] || median=$wall
	states "$T/out" "$kind" >"$T/got"
	local found missed false wrong
	found=$(comm -12 <(grep ' open$' "$truth") <(grep ' open$' "$T/got") | wc -l)
	missed=$(comm -23 <(grep ' open$' "$truth") <(grep ' open$' "$T/got") | wc -l)
	false=$(comm -13 <(grep ' open$' "$truth") <(grep ' open$' "$T/got") | wc -l)
	wrong=$(comm -3 "$truth" "$T/got" | wc -l) # lines in one but not the other
	# Timeout-bound worlds: the steady-state rate of the checked run.
	if [ -n "${STEADY_T:-}" ]; then
		EXTRA=$(python3 "$RS_ROOT/bench/steady.py" "$T/out" "$STEADY_T" \
			$([ "$tool" = ringscan ] && echo "$T/stats.json"))
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$world" "$tool" "$settings" \
		"$probes" "$median" "$runs" "$(echo "$user + $sys" | bc)" "$rss" "$found" "$missed" \
		"$false" "$wrong" "${EXTRA:-}" >>"$ROWS"
}

rs_run() { # WORLD SETTINGS PROBES TRUTH RUNS ARGS...: ringscan
	local w=$1 s=$2 p=$3 t=$4 r=$5
	shift 5
	measure "$w" ringscan "$s" "$p" "$t" jsonl "$r" "$RS" -q --all --seed 1 "$@" -o "$T/out"
}
ep_run() { # WORLD SETTINGS PROBES TRUTH RUNS ARGS...: the epoll baseline
	local w=$1 s=$2 p=$3 t=$4 r=$5
	shift 5
	measure "$w" epoll_connect "$s" "$p" "$t" jsonl "$r" "$EPOLL" -w 2 --all -o "$T/out" "$@"
}

# peak_mem CMD...: run CMD, print "peak_rss_kib peak_pss_kib" summed over
# its process tree, sampled every 100 ms (RSS counts shared pages once per
# process; PSS shares them out). Sparse enough not to slow the scan.
peak_mem() {
	"$@" &
	local pid=$! prss=0 ppss=0 r p k
	while kill -0 "$pid" 2>/dev/null; do
		r=0 p=0
		for k in $pid $(pgrep -P "$pid"); do
			r=$((r + $(awk '/^VmRSS/ {print $2}' "/proc/$k/status" 2>/dev/null || echo 0)))
			p=$((p + $(awk '/^Pss:/ {print $2}' "/proc/$k/smaps_rollup" 2>/dev/null || echo 0)))
		done
		[ "$r" -gt "$prss" ] && prss=$r
		[ "$p" -gt "$ppss" ] && ppss=$p
		sleep 0.1
	done
	wait "$pid" || true
	echo "$prss $ppss"
}

# syscalls_per_probe PROBES ARGS...: strace -f -c of one ringscan run.
syscalls_per_probe() {
	local probes=$1
	shift
	strace -f -c -o "$T/strace" "$RS" -q --all --seed 1 "$@" -o /dev/null 2>/dev/null
	awk -v p="$probes" '$NF == "total" { printf "%.4f", $(NF - 1) / p }' "$T/strace"
}

# The micro-benchmarks' tables (make bench runs them first), for the report.
[ -n "${RS_BENCH_MICRO:-}" ] && cp "$RS_BENCH_MICRO" "$T/micro.md"
echo "ringscan $("$RS" -V | cut -d' ' -f2), $(nproc) cores, $(uname -r), $(date -u +%F)" >"$T/machine"
rs_say "bench: $(cat "$T/machine"); rows in $ROWS"

# --- closed ----------------------------------------------------------------
if want closed; then
rs_say "closed"
ip4_seq 127.40.0.0 127.40.255.255 | cross 7 9 11 13 | sed 's/$/ closed/' >"$T/closed.truth"
EXTRA="syscalls/probe $(syscalls_per_probe 262144 127.40.0.0/16 -p 7,9,11,13)"
rs_run closed "defaults" 262144 "$T/closed.truth" "$RUNS" 127.40.0.0/16 -p 7,9,11,13
EXTRA=
rs_run closed "-c 64" 262144 "$T/closed.truth" "$RUNS" -c 64 127.40.0.0/16 -p 7,9,11,13
# --db: every answer also into the SQLite inventory (issue 14's goal: within
# 1.5x of the row above it). Each run adds a scan to the same database, as
# an inventory scanned again and again grows.
rs_run closed "--db" 262144 "$T/closed.truth" "$RUNS" --db "$T/closed.db" 127.40.0.0/16 -p 7,9,11,13
EXTRA="syscalls/probe $(syscalls_per_probe 262144 --engine epoll 127.40.0.0/16 -p 7,9,11,13)"
rs_run closed "--engine epoll" 262144 "$T/closed.truth" "$RUNS" --engine epoll 127.40.0.0/16 -p 7,9,11,13
EXTRA=
rs_run closed "--engine epoll -c 64" 262144 "$T/closed.truth" "$RUNS" --engine epoll -c 64 \
	127.40.0.0/16 -p 7,9,11,13
ep_run closed "-c 64" 262144 "$T/closed.truth" "$RUNS" -c 64 127.40.0.0/16 7,9,11,13
ep_run closed "-c 4096" 262144 "$T/closed.truth" "$RUNS" -c 4096 127.40.0.0/16 7,9,11,13

fi

# --- open ------------------------------------------------------------------
if want open; then
rs_say "open"
world_gen "$T/open" --seed 5 --addrs 127.41.0.0/16 --ports 8080-8080 --open 100
world_up "$T/open"
rs_run open "defaults" 65536 "$T/open/truth.txt" "$RUNS" 127.41.0.0/16 -p 8080
rs_run open "-c 64" 65536 "$T/open/truth.txt" "$RUNS" -c 64 127.41.0.0/16 -p 8080
# --db where every answer is open, so written (goal: within 5% of defaults).
rs_run open "--db" 65536 "$T/open/truth.txt" "$RUNS" --db "$T/open.db" 127.41.0.0/16 -p 8080
rs_run open "--engine epoll" 65536 "$T/open/truth.txt" "$RUNS" --engine epoll 127.41.0.0/16 -p 8080
ep_run open "-c 64" 65536 "$T/open/truth.txt" "$RUNS" -c 64 127.41.0.0/16 8080
ep_run open "-c 4096" 65536 "$T/open/truth.txt" "$RUNS" -c 4096 127.41.0.0/16 8080
world_down
# Every handshake was accepted: the listener kept up. 6 settings x (RUNS +
# warmup + the checked run) x 65,536.
want=$((6 * (RUNS + 2) * 65536))
echo "listener accepted $(listener_accepted) of $want handshakes" >"$T/open.listener"
rs_say "  $(cat "$T/open.listener")"
fi

# --- mixed -----------------------------------------------------------------
want mixed &&
for size in 4096 16384 65536 262144; do
	case $size in
	4096) cidr=127.42.0.0/20 ports=2000 ;;
	16384) cidr=127.44.0.0/18 ports=2000 ;;
	65536) cidr=127.45.0.0/16 ports=2000 ;;
	262144) cidr=127.46.0.0/16 ports=2000-2003 ;;
	esac
	rs_say "mixed $size"
	W=$T/mixed$size
	net=${cidr%.0.0/*}
	world_gen "$W" --seed 7 --addrs "$cidr" --ports "${ports%-*}-${ports#*-}" --open 1 --filtered 20 \
		--dark "$net.5.0/24" --dark "$net.11.0/24"
	world_up "$W"
	P=(-t 1000 --retries 0)
	rs_run "mixed $size" "-t 1000 --retries 0" $size "$W/truth.txt" "$RUNS" "${P[@]}" "$cidr" -p "$ports"
	rs_run "mixed $size" "-c 19000 -t 1000 --retries 0" $size "$W/truth.txt" "$RUNS" -c 19000 "${P[@]}" \
		"$cidr" -p "$ports"
	rs_run "mixed $size" "--engine epoll -t 1000 --retries 0" $size "$W/truth.txt" "$RUNS" \
		--engine epoll "${P[@]}" "$cidr" -p "$ports"
	# The peer below has no congestion control: the engine without it too.
	rs_run "mixed $size" "--engine epoll --fixed-rate -t 1000 --retries 0" $size "$W/truth.txt" \
		"$RUNS" --engine epoll --fixed-rate "${P[@]}" "$cidr" -p "$ports"
	measure "mixed $size" python-pool "2 procs x 300 threads, timeout 1 s" $size "$W/truth.txt" jsonl 1 \
		python3 "$POOL" -w 2 -T 300 -t 1000 --all -o "$T/out" "$cidr" "$ports"
	# The peer with ringscan's default in flight (2 workers x 16,384).
	ep_run "mixed $size" "-c 16384 -t 1000" $size "$W/truth.txt" "$RUNS" -c 16384 -t 1000 "$cidr" \
		"$ports"
	if [ $size = 4096 ]; then
		NM=(nmap -sT -n -Pn -p 2000 -oG "$T/out")
		measure "mixed $size" nmap "-sT, RTT timeouts pinned to 1000 ms, --max-retries 0" $size \
			"$W/truth.txt" gnmap 1 "${NM[@]}" --max-retries 0 --initial-rtt-timeout 1000ms \
			--min-rtt-timeout 1000ms --max-rtt-timeout 1000ms "$cidr"
		measure "mixed $size" nmap "-sT defaults" $size "$W/truth.txt" gnmap 1 "${NM[@]}" "$cidr"
		measure "mixed $size" nmap "-sT -T5 --min-rate 100000 --max-retries 0" $size \
			"$W/truth.txt" gnmap 1 "${NM[@]}" -T5 --min-rate 100000 --max-retries 0 "$cidr"
	fi
	world_down
done

# --- filtered --------------------------------------------------------------
if want filtered; then
rs_say "filtered"
nft -f - <<'EOF'
table inet rsbench {
	chain in {
		type filter hook input priority -10; policy accept;
		ip daddr 127.43.0.0/16 tcp flags & (syn | ack) == syn drop
	}
}
EOF
ip4_seq 127.43.0.0 127.43.255.255 | cross $(seq 1 16) | sed 's/$/ filtered/' >"$T/filtered.truth"
FR=$((RUNS < 3 ? RUNS : 3))
# 200,000 probes in flight: each process may register at most
# RLIMIT_NOFILE (hard 20,000 here) direct descriptors, so 12 workers of
# 17,500 (their rings fit RLIMIT_MEMLOCK, 8 MiB a user, since rings are
# sized by a loop's work). At a 1 s timeout that would be 200,000 SYNs a
# second, past what 2 cores can send (~60,000/s here), so the timeout is
# 4 s: 51,000 probes/s keep ~205,000 in flight. Unpaced, every slot starts
# at once and the run goes in waves of 210,000 timeouts; --rate spreads
# them. Whole-run probes/s includes the first timeout (no answer yet) and
# the last (the tail); the notes give the steady state (bench/steady.py)
# and the in-flight peak the scan measured itself (--stats).
# --fixed-rate: these rows measure the engines at this machine's limits.
# The last row is the defaults (2 workers, 16,384 in flight each, one
# retry where nothing answers late): until a88ecbc the controller read a
# world where every SYN is dropped as knowing nothing and crawled at its
# gentle start, with 10 attempts a probe (minutes for this world).
STEADY_T=4
F=(--fixed-rate --retries 0 --stats "$T/stats.json" 127.43.0.0/16 -p 1-16)
rs_run filtered "-w 12 -c 17500 -t 4000 -r 51000 --fixed-rate --retries 0" 1048576 \
	"$T/filtered.truth" "$FR" -w 12 -c 17500 -t 4000 -r 51000 "${F[@]}"
rs_run filtered "-w 12 -c 17500 -t 4000 --fixed-rate --retries 0" 1048576 "$T/filtered.truth" \
	"$FR" -w 12 -c 17500 -t 4000 "${F[@]}"
measure filtered epoll_connect "-w 12 -c 17500 -t 4000" 1048576 "$T/filtered.truth" jsonl "$FR" \
	"$EPOLL" -w 12 -c 17500 -t 4000 --all -o "$T/out" 127.43.0.0/16 1-16
rs_run filtered "--engine epoll -w 12 -c 17500 -t 4000 --fixed-rate --retries 0" 1048576 \
	"$T/filtered.truth" "$FR" --engine epoll -w 12 -c 17500 -t 4000 "${F[@]}"
STEADY_T=1
rs_run filtered "-w 2 -c 19000 -t 1000 --fixed-rate --retries 0" 1048576 "$T/filtered.truth" \
	"$FR" -w 2 -c 19000 -t 1000 "${F[@]}"
rs_run filtered "--engine epoll -w 2 -c 19000 -t 1000 --fixed-rate --retries 0" 1048576 \
	"$T/filtered.truth" "$FR" --engine epoll -w 2 -c 19000 -t 1000 "${F[@]}"
rs_run filtered "defaults" 1048576 "$T/filtered.truth" 1 --stats "$T/stats.json" 127.43.0.0/16 \
	-p 1-16
STEADY_T=
EXTRA=
nft delete table inet rsbench
fi

# --- wide ------------------------------------------------------------------
# One run; the rate of the first and the last million answers comes from
# the ts of the output's lines (in answer order); memory from sampling
# every process of the tree.
if want wide; then
rs_say "wide (16.7 M probes, a few minutes)"
read -r wide_rss wide_pss < <(peak_mem "$RS" -q --all --seed 1 127.0.0.0/8 -p 9 -o "$T/wide.jsonl")
python3 "$RS_ROOT/bench/wide_check.py" "$T/wide.jsonl" >"$T/wide.check"
echo "peak RSS sum $((wide_rss / 1024)) MiB, PSS sum $((wide_pss / 1024)) MiB" >>"$T/wide.check"
cat "$T/wide.check" >&2
rm -f "$T/wide.jsonl"
rs_say "wide on the epoll engine"
read -r wide_rss wide_pss < <(peak_mem "$RS" -q --all --seed 1 --engine epoll 127.0.0.0/8 -p 9 \
	-o "$T/wide.jsonl")
{
	echo "epoll engine:"
	python3 "$RS_ROOT/bench/wide_check.py" "$T/wide.jsonl"
	echo "peak RSS sum $((wide_rss / 1024)) MiB, PSS sum $((wide_pss / 1024)) MiB"
} >>"$T/wide.check"
rm -f "$T/wide.jsonl"
rs_say "wide with epoll_connect"
read -r wide_rss wide_pss < <(peak_mem "$EPOLL" -w 2 -c 16384 --all -o "$T/wide.jsonl" \
	127.0.0.0/8 9)
{
	echo "epoll_connect -w 2 -c 16384:"
	python3 "$RS_ROOT/bench/wide_check.py" "$T/wide.jsonl"
	echo "peak RSS sum $((wide_rss / 1024)) MiB, PSS sum $((wide_pss / 1024)) MiB"
} >>"$T/wide.check"
rm -f "$T/wide.jsonl"
fi

mkdir -p "$RS_ROOT/bench/results"
R=$RS_ROOT/bench/results/$(date -u +%F).md
if [ -n "${RS_BENCH_STATE:-}" ]; then
	mkdir -p "$RS_BENCH_STATE"
	for f in rows.tsv wide.check open.listener; do
		[ ! -f "$T/$f" ] || cp "$T/$f" "$RS_BENCH_STATE/"
	done
fi
python3 "$RS_ROOT/bench/report.py" "$T" >"$R"
# docs/performance.md: its hand-written head, then the latest results.
D=$RS_ROOT/docs/performance.md
{ sed '/^<!-- results below: written by bench\/run.sh -->$/q' "$D"; cat "$R"; } >"$T/perf.md"
mv "$T/perf.md" "$D"
rs_say "bench: wrote $R and $D"
