#!/usr/bin/env bash
# test_exact_loaded: exact answers on a machine that is busy. A mixed world
# of 4,096 pairs (open, closed by nft and by the kernel, filtered,
# unreachable) is scanned at the default timing (-t 1000, --retries 1)
# while busy loops occupy every core and one more, each bounded by
# `timeout`. Every scan must answer the world's ground truth exactly: a
# busy machine may be slow, never wrong. The workers and the coordinator
# compete with the loops for the CPU, so completions are reaped late (an
# answer's rtt_us then reaches tens of milliseconds on loopback); a refused
# probe must still be closed, never filtered. See docs/testing-under-load.md.
# Usage: test_exact_loaded.sh BUILD_DIR
set -eu
. "$(dirname "$0")/lib.sh"
ns_reexec 240 "$0" "$@"
need_scanner "${1:-}"
need_tools

LOOPS=()
stop_load() {
	local p
	for p in "${LOOPS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${LOOPS[@]}"; do wait "$p" 2>/dev/null || true; done
	LOOPS=()
}
trap 'stop_load; world_down' EXIT

NET=127.3.0.0/23
W=$RS_TMP/w
# 512 addresses x 8 ports = 4,096 pairs: ~20% open, ~1.5% filtered (2 x 1 s
# each, in parallel), ~5% unreachable; one port without a listener.
world_gen "$W" --seed 41 --addrs $NET --ports 7000-7007 --open 20 --filtered 1.5 --unreachable 5 \
	--closed-port 7003
world_is_mixed "$W"
world_up "$W"
[ "$(wc -l <"$W/truth.txt")" = 4096 ] || rs_fail "world: $(wc -l <"$W/truth.txt") pairs"

ncpu=$(nproc 2>/dev/null || echo 2)
for _ in $(seq 0 "$ncpu"); do
	timeout 150 sh -c 'while :; do :; done' &
	LOOPS+=($!)
done
rs_say "load: $((ncpu + 1)) busy loops on $ncpu cores"

pass=0 fail=0
failed=()
main=${RS_ENGINE:-auto} plain=$(rs_plain_engine)
for cfg in "1 64 $main" "2 8192 $main" "4 512 $main" "2 1024 $plain"; do
	read -r w c eng <<<"$cfg"
	args=(--all -q -w "$w" -c "$c" --engine "$eng" --seed $((RANDOM + 1)) "$NET" -p 7000-7007)
	out=$RS_TMP/w$w-c$c-$eng.jsonl
	t0=$(date +%s%N)
	if run_scan 90 "${args[@]}" -o "$out" && check_scan "$W/truth.txt" "$out" "loaded: ringscan ${args[*]}"; then
		pass=$((pass + 1))
		rtt=$(grep '"state":"closed"' "$out" | sed 's/.*"rtt_us":\([0-9]*\).*/\1/' | sort -n | tail -1)
		rs_say "ok: ringscan ${args[*]}: exact in $((($(date +%s%N) - t0) / 1000000)) ms; slowest refusal reaped after ${rtt} us"
	else
		fail=$((fail + 1))
		failed+=("ringscan ${args[*]}")
	fi
done
stop_load

rs_say "exact under load: $pass checks passed, $fail failed"
if [ $fail != 0 ]; then
	printf '  failed: %s\n' "${failed[@]}" >&2
	exit 1
fi
