#!/usr/bin/env bash
# test_reuse: a slot's socket is reused from probe to probe, and an ICMP
# error that reaches a socket in SYN_SENT stays in its error queue (the
# kernel queues it whatever IP_RECVERR says, and neither a disconnect nor a
# new connect removes it), after which every connect on that socket
# "completes" at once with 0. An ICMP port unreachable that arrives while
# nobody holds the socket fails the connect with ECONNREFUSED, just like a
# RST, so the engine cannot tell such a socket from a clean one and must
# not trust the next "success" on it. On loopback an answer to the first
# SYN arrives while the connect still holds the socket (the error is then
# only "soft"), so here some closed pairs drop the first SYN and answer the
# retransmitted one (1 s later, sent by the timer) with ICMP port
# unreachable; they are still "closed". Among open, RST-closed, filtered
# and host-unreachable pairs, at one probe in flight (one socket for the
# whole scan) and more, the answers must be exact; and at -c 1 SYNs must
# outnumber pairs + late pairs: probes after such a refusal were asked
# again on a new socket, so the test reaches the case it is about.
# Usage: test_reuse.sh BUILD_DIR
# engines: split (each engine once, plain or ASan: 22-24 s a run)
set -eu
. "$(dirname "$0")/lib.sh"
ns_reexec 300 "$0" "$@"
need_scanner "${1:-}"
need_tools
trap 'nft delete table inet rsicmp 2>/dev/null || true; world_down' EXIT

NET=127.1.0.0/27
W=$RS_TMP/w
world_gen "$W" --seed 5 --addrs $NET --ports 4000-4003 --open 30 --filtered 3 --unreachable 10
world_up "$W"
npairs=$(wc -l <"$W/truth.txt")

# Every eighth closed pair answers late, with ICMP port unreachable, ahead
# of the world's own chain.
awk '$3 == "closed" && ++n % 8 == 0 { printf "%s%s . %s", sep, $1, $2; sep = ", " }' \
	"$W/truth.txt" >"$RS_TMP/late.elems"
nlate=$(awk '$3 == "closed" && ++n % 8 == 0' "$W/truth.txt" | wc -l)
[ "$nlate" -gt 0 ] || rs_fail "no closed pairs in the world"
nft -f - <<NFT
table inet rsicmp {
	counter syns { }
	set late {
		type ipv4_addr . inet_service
		elements = { $(cat "$RS_TMP/late.elems") }
	}
	set seen {
		type ipv4_addr . inet_service . ipv4_addr . inet_service
		flags dynamic
		timeout 30s
	}
	chain in {
		type filter hook input priority -10; policy accept;
		tcp flags & (syn | ack) == syn ip daddr 127.0.0.0/8 counter name syns
		tcp flags & (syn | ack) == syn ip daddr . tcp dport @late ip saddr . tcp sport . ip daddr . tcp dport @seen reject with icmp type port-unreachable
		tcp flags & (syn | ack) == syn ip daddr . tcp dport @late add @seen { ip saddr . tcp sport . ip daddr . tcp dport } drop
	}
}
NFT

# SYNs seen ahead of the world's chain (whose counter misses the rejected).
icmp_syns() { nft list counter inet rsicmp syns | sed -n 's/.*packets \([0-9]*\).*/\1/p'; }

for wc in "1 1" "1 4" "2 64"; do
	set -- $wc
	args=(--all -q -w "$1" -c "$2" -t 1500 --retries 0 --seed 3 "$NET" -p 4000-4003)
	out=$RS_TMP/w$1-c$2.jsonl
	before=$(icmp_syns)
	if run_scan 120 "${args[@]}" -o "$out" && check_scan "$W/truth.txt" "$out" "ringscan ${args[*]}"; then
		rs_pass
	else
		rs_nok "ringscan ${args[*]}"
	fi
	syns=$(($(icmp_syns) - before))
	rs_say "  -w $1 -c $2: $npairs pairs ($nlate answering late), $syns SYNs"
	if [ "$2" = 1 ]; then
		rs_check "at -c 1 a probe after a late ICMP refusal is asked again ($syns SYNs > $npairs + $nlate)" \
			[ "$syns" -gt $((npairs + nlate)) ]
	fi
done
rs_summary test_reuse
