#!/usr/bin/env bash
# demo: build a small private test world, scan it with ringscan --all, show
# the answers and the summary, and say whether they match the world's
# ground truth (exit 1 if not). Everything happens inside a private network
# namespace (unshare -rn) on 127.3.0.0/28; nothing leaves the machine.
# Usage: tests/e2e/demo.sh BUILD_DIR   (what `make demo` runs)
set -eu
. "$(dirname "$0")/lib.sh"
ns_reexec 120 "$0" "$@"
need_scanner "${1:-}"
need_tools
trap world_down EXIT

W=$RS_TMP/world
NET=127.3.0.0/28
PORTS=20-27
world_gen "$W" --seed 3 --addrs $NET --ports $PORTS --open 12 --filtered 4 --unreachable 8 \
	--closed-port 21
world_up "$W"
count() { grep -c " $1\$" "$W/truth.txt" || true; }
echo "== Test world: $NET x ports $PORTS, $(wc -l <"$W/truth.txt") pairs, in a private network namespace"
printf '   %-12s %4s  %s\n' open "$(count open)" "(a listener on ports $(paste -sd, "$W/listen.txt"))" \
	closed "$(count closed)" "(nft 'reject with tcp reset' on those ports, the kernel's own RST elsewhere)" \
	filtered "$(count filtered)" "(nft drop)" \
	unreachable "$(count unreachable)" "(nft 'reject with icmp type host-unreachable')"
echo
echo "== ringscan --all -t 300 --seed 1 $NET -p $PORTS"
rc=0
timeout -k 5 60 "$RS" --all -t 300 --seed 1 $NET -p $PORTS -o "$RS_TMP/out.jsonl" \
	2>"$RS_TMP/summary.txt" || rc=$?
cat "$RS_TMP/out.jsonl"
echo
echo "== Summary (ringscan's stderr)"
tr '\r' '\n' <"$RS_TMP/summary.txt" | grep -v '^$' | tail -5
echo
world_down
if [ $rc != 0 ]; then
	echo "== RESULT: ringscan exited with status $rc"
	exit 1
fi
if check_scan "$W/truth.txt" "$RS_TMP/out.jsonl" "demo scan" 2>"$RS_TMP/report"; then
	echo "== RESULT: MATCH. All $(wc -l <"$W/truth.txt") answers agree with the world's ground truth:"
	compare "$W/truth.txt" "$RS_TMP/out.jsonl.states" 2>&1
else
	echo "== RESULT: MISMATCH. ringscan's answers differ from the world's ground truth:"
	cat "$RS_TMP/report"
	exit 1
fi
