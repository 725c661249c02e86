#!/usr/bin/env bash
# make bench: ringscan's throughput and memory on loopback test worlds.
#
# Worlds (each 65,536 probes, inside a private network namespace):
#   closed  127.4.0.0/16 x port 80, no listener: every probe answered RST
#   mixed   127.5.0.0/24 x ports 2000-2255: 10% open, 5% filtered (dropped),
#           5% unreachable (icmp), the rest closed
# For each: hyperfine timings (median of several runs), and one extra run
# sampled every 10 ms for the peak memory of the whole process tree
# (coordinator + workers): the sum of RSS (which counts the shared region
# once per process) and the sum of PSS (which shares it out: the honest
# total). Never in CI: it takes a few minutes and measures, not tests.
#
# Usage: bench/run.sh [RUNS]   (default 5)
set -eu
. "$(dirname "$0")/../tests/e2e/lib.sh"
command -v hyperfine >/dev/null || {
	[ "$(id -u)" = 0 ] || rs_fail "hyperfine missing: apt-get install hyperfine"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hyperfine >/dev/null
}
ns_reexec 1800 "$0" "$@"
RUNS=${1:-5}
need_scanner "$RS_ROOT/build"
need_tools
trap world_down EXIT
OUT=$RS_TMP

# peak_mem CMD...: run CMD, print "peak_rss_kib peak_pss_kib" of its tree.
peak_mem() {
	"$@" &
	local pid=$! prss=0 ppss=0 r p kids
	while kill -0 "$pid" 2>/dev/null; do
		kids="$pid $(pgrep -P "$pid" | tr '\n' ' ')"
		r=0 p=0
		for k in $kids; do
			r=$((r + $(awk '/^VmRSS/ {print $2}' "/proc/$k/status" 2>/dev/null || echo 0)))
			p=$((p + $(awk '/^Pss:/ {print $2}' "/proc/$k/smaps_rollup" 2>/dev/null || echo 0)))
		done
		[ "$r" -gt "$prss" ] && prss=$r
		[ "$p" -gt "$ppss" ] && ppss=$p
		sleep 0.01
	done
	wait "$pid" || true
	echo "$prss $ppss"
}

bench_world() { # NAME ARGS...
	local name=$1
	shift
	hyperfine -N --warmup 1 --runs "$RUNS" --export-json "$OUT/$name.json" \
		"$RS -q --all --seed 1 $* -o /dev/null" >"$OUT/$name.hf" 2>&1 ||
		{ cat "$OUT/$name.hf"; rs_fail "hyperfine $name"; }
	local med
	med=$(sed -n 's/.*"median": *\([0-9.]*\).*/\1/p' "$OUT/$name.json" | head -1)
	# shellcheck disable=SC2086
	read -r rss pss < <(peak_mem "$RS" -q --all --seed 1 "$@" -o "$OUT/$name.jsonl")
	check_scan "$TRUTH" "$OUT/$name.jsonl" "$name" >/dev/null 2>&1 && exact=yes || exact=NO
	awk -v n="$name $*" -v m="$med" -v r="$rss" -v p="$pss" -v e="$exact" 'BEGIN {
		printf "| %-28s | %8.3f | %10.0f | %7.1f | %7.1f | %-5s |\n", n, m, 65536 / m, r / 1024, p / 1024, e }'
}

net_up
echo "ringscan $("$RS" -V | cut -d' ' -f2), $(nproc) cores, kernel $(uname -r), $(date -u +%F)"
echo
echo '| world / options              | median s | probes/s   | RSS MiB | PSS MiB | exact |'
echo '|------------------------------|----------|------------|---------|---------|-------|'

# closed: no listener, no rules: the kernel answers every SYN with RST.
W=$OUT/closed
world_gen "$W" --seed 1 --addrs 127.4.0.0/16 --ports 80-80 --open 0
world_up "$W"
TRUTH=$W/truth.txt
for c in 64 4096; do bench_world "closed" -c $c 127.4.0.0/16 -p 80; done
world_down

W=$OUT/mixed
world_gen "$W" --seed 2 --addrs 127.5.0.0/24 --ports 2000-2255 --open 10 --filtered 5 --unreachable 5
world_up "$W"
TRUTH=$W/truth.txt
bench_world "mixed" -t 1000 --retries 0 127.5.0.0/24 -p 2000-2255
bench_world "mixed" -t 1000 --retries 0 -c 8192 127.5.0.0/24 -p 2000-2255
world_down
