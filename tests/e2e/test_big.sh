#!/usr/bin/env bash
# test_big: a 65,536-probe world (127.2.0.0/24 x 256 ports: 20% open, 3%
# filtered, 5% unreachable, the rest closed by kernel or nft) scanned with
# -c 8192 and the default workers must come back exact; the listener must
# have accepted exactly one connection per open pair (no probe twice).
# Usage: test_big.sh BUILD_DIR
set -eu
. "$(dirname "$0")/lib.sh"
ns_reexec 300 "$0" "$@"
need_scanner "${1:-}"
need_tools
trap world_down EXIT

W=$RS_TMP/big
world_gen "$W" --seed 11 --addrs 127.2.0.0/24 --ports 2000-2255 --open 20 --filtered 3 --unreachable 5 \
	--closed-port 2000 --closed-port 2128
world_is_mixed "$W"
world_up "$W"
out=$RS_TMP/big.jsonl
args=(--all -q -c 8192 -t 1000 --seed 5 --stats "$RS_TMP/stats.json" 127.2.0.0/24 -p 2000-2255)
t0=$(date +%s%N)
rc=0
run_scan 200 "${args[@]}" -o "$out" || rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
syns=$(nft_syns)
world_down
[ $rc = 0 ] || rs_fail "ringscan ${args[*]} -> exit $rc"
rs_say "65,536 probes in ${ms} ms ($syns SYNs seen by nft)"
check_scan "$W/truth.txt" "$out" "ringscan ${args[*]}" || rs_fail "answers differ from the world's truth"
open=$(grep -c ' open$' "$W/truth.txt")
[ "$(listener_accepted)" = "$open" ] ||
	rs_fail "listener accepted $(listener_accepted) connections for $open open pairs"
rs_say "big OK"
