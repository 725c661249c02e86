#!/usr/bin/env bash
# test_ipv6: IPv6 targets, on ::1 inside the namespace.
#
# A dual-stack listener ([::], IPV6_V6ONLY off) and nft rules give ::1 and
# 127.0.0.1 one known state per port, 4600-4608:
#
#   port  rule (SYNs to that address)          ::1                127.0.0.1
#   4600  none, listener                       open               open
#   4601  none, no listener (kernel RST)       closed             closed
#   4602  reject with tcp reset, listener      closed             closed
#   4603  drop                                 filtered           filtered
#   4604  icmpv6 addr-unreachable / icmp       unreachable        unreachable
#         host-unreachable                     (EHOSTUNREACH)     (EHOSTUNREACH)
#   4605  icmpv6 no-route / icmp               unreachable        unreachable
#         net-unreachable                      (ENETUNREACH)      (ENETUNREACH)
#   4606  icmpv6 / icmp admin-prohibited       error EACCES       unreachable
#                                                                 (EHOSTUNREACH)
#   4607  icmpv6 / icmp port-unreachable       closed             closed
#                                              (ECONNREFUSED)     (ECONNREFUSED)
#   4608  none, listener                       open               open
#
# The errno each ICMP type gives a connecting socket was measured on Linux
# 6.18 (net/ipv6/icmp.c tab_unreach, net/ipv4/icmp.c icmp_err_convert):
# ICMPv6 policy-fail and reject-route give EACCES too; ICMP host-prohibited
# gives EHOSTUNREACH, net-prohibited ENETUNREACH, prot-unreachable
# ENOPROTOOPT.
#
# Timing quirk, also measured: on loopback the ICMPv6 error provoked by the
# first SYN arrives while connect() still holds the socket lock (loopback
# delivers inline), so TCP keeps it only as a soft error (TcpExt
# LockDroppedIcmps) and the connect goes on; the ICMPv6 error answering the
# SYN retransmitted after the initial RTO (1 s) ends it. IPv4's ICMP errors
# end the connect at once. ringscan therefore reads SO_ERROR when an
# attempt times out, where that soft error is kept: the answers must be the
# same at -t 2500 (the kernel's own retransmit settles it) and at -t 300
# (only the SO_ERROR check can).
#
# Checks: `::1 -p 4600-4608 --all` answers exactly, "ip" is "::1", the
# EACCES line has reason "EACCES"; 127.0.0.1 and ::1 in one run answer
# exactly for both; ::1 written as ::1/128, 0:0:0:0:0:0:0:1, 0::1 and
# ::1-::1 (all at once) is one target, printed "::1" (real scan, open only,
# and dry runs in jsonl, list "[::1]:P" and csv "::1,P"). The ::1 scans run
# on the engine under test and its other modes (lib.sh rs_engines).
# Usage: test_ipv6.sh BUILD_DIR
# engines: split (each engine once, plain or ASan, with its other modes: 11-15 s a run)
set -eu
. "$(dirname "$0")/lib.sh"
ns_reexec 120 "$0" "$@"
need_scanner "${1:-}"
need_tools
T=$RS_TMP
net_up
ip -6 addr show dev lo | grep -q 'inet6 ::1/128' || rs_skip "no ::1 on lo in the namespace (IPv6 disabled?)"

nft -f - <<'EOF'
table inet rsv6 {
	chain input {
		type filter hook input priority 0; policy accept;
		tcp flags & (syn | ack) != syn accept
		ip6 daddr ::1 tcp dport 4602 reject with tcp reset
		ip6 daddr ::1 tcp dport 4603 drop
		ip6 daddr ::1 tcp dport 4604 reject with icmpv6 type addr-unreachable
		ip6 daddr ::1 tcp dport 4605 reject with icmpv6 type no-route
		ip6 daddr ::1 tcp dport 4606 reject with icmpv6 type admin-prohibited
		ip6 daddr ::1 tcp dport 4607 reject with icmpv6 type port-unreachable
		ip daddr 127.0.0.1 tcp dport 4602 reject with tcp reset
		ip daddr 127.0.0.1 tcp dport 4603 drop
		ip daddr 127.0.0.1 tcp dport 4604 reject with icmp type host-unreachable
		ip daddr 127.0.0.1 tcp dport 4605 reject with icmp type net-unreachable
		ip daddr 127.0.0.1 tcp dport 4606 reject with icmp type admin-prohibited
		ip daddr 127.0.0.1 tcp dport 4607 reject with icmp type port-unreachable
	}
}
EOF
printf '%s\n' 4600 4602 4603 4604 4605 4606 4607 4608 >"$T/listen.txt"
"$RS_TOOLS/listener" --bind :: --ports-file "$T/listen.txt" --ready "$T/ready" 2>"$T/listener.log" &
listener=$!
trap 'kill $listener 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
	[ -e "$T/ready" ] && break
	kill -0 $listener 2>/dev/null || {
		cat "$T/listener.log" >&2
		rs_fail "listener died"
	}
	sleep 0.1
done
[ -e "$T/ready" ] || rs_fail "listener not ready after 10 s"

cat >"$T/truth6.txt" <<'EOF'
::1 4600 open
::1 4601 closed
::1 4602 closed
::1 4603 filtered
::1 4604 unreachable
::1 4605 unreachable
::1 4606 error
::1 4607 closed
::1 4608 open
EOF
cat >"$T/truth4.txt" <<'EOF'
127.0.0.1 4600 open
127.0.0.1 4601 closed
127.0.0.1 4602 closed
127.0.0.1 4603 filtered
127.0.0.1 4604 unreachable
127.0.0.1 4605 unreachable
127.0.0.1 4606 unreachable
127.0.0.1 4607 closed
127.0.0.1 4608 open
EOF
sort "$T/truth6.txt" -o "$T/truth6.txt"
sort "$T/truth4.txt" "$T/truth6.txt" >"$T/truth46.txt"

# reasons FILE: "IP PORT STATE REASON" lines of FILE, sorted.
reasons() {
	sed -n 's/^{"ip":"\([^"]*\)","port":\([0-9]*\),"proto":"tcp","state":"\([a-z]*\)","reason":"\([^"]*\)".*/\1 \2 \3 \4/p' "$1" | sort
}

for t in 300 2500; do
	for engine in $(rs_engines); do
		args=(--all -q -w 2 -c 64 -t $t --retries 0 --engine $engine)
		if run_scan 30 "${args[@]}" --seed 1 ::1 -p 4600-4608 -o "$T/v6-$t-$engine.jsonl" &&
			check_scan "$T/truth6.txt" "$T/v6-$t-$engine.jsonl" "::1 x 4600-4608 (-t $t, $engine)"; then
			rs_pass
		else
			rs_nok "ringscan ${args[*]} --seed 1 ::1 -p 4600-4608"
		fi
	done
done
cp "$T/v6-2500-${RS_ENGINE:-auto}.jsonl" "$T/v6.jsonl"
args=(--all -q -w 2 -c 64 -t 2500 --retries 0)
if grep -q '^{"ip":"::1","port":4606,"proto":"tcp","state":"error","reason":"EACCES",' "$T/v6.jsonl"; then rs_pass; else
	rs_nok "::1 port 4606 (icmpv6 admin-prohibited): want state error, reason EACCES; got: $(grep '"port":4606' "$T/v6.jsonl")"
fi
want_reasons=$'::1 4604 unreachable unreachable\n::1 4605 unreachable unreachable\n::1 4607 closed rst'
if [ "$(reasons "$T/v6.jsonl" | grep -E ' 460[457] ')" = "$want_reasons" ]; then rs_pass; else
	rs_nok "reasons for 4604/4605/4607: got $(reasons "$T/v6.jsonl" | grep -E ' 460[457] ' | tr '\n' ';')"
fi

if run_scan 30 "${args[@]}" --seed 2 127.0.0.1 ::1 -p 4600-4608 -o "$T/v46.jsonl" &&
	check_scan "$T/truth46.txt" "$T/v46.jsonl" "127.0.0.1 and ::1 x 4600-4608"; then
	rs_pass
else
	rs_nok "ringscan ${args[*]} --seed 2 127.0.0.1 ::1 -p 4600-4608"
fi

# ::1 five ways, open ports only: one target.
forms=(::1/128 0:0:0:0:0:0:0:1 0::1 ::1-::1 ::1)
grep ' open$' "$T/truth6.txt" >"$T/open6.txt"
if run_scan 30 -q -w 2 -c 64 -t 2500 --retries 0 --seed 3 "${forms[@]}" -p 4600-4608 >"$T/forms.jsonl" &&
	check_scan "$T/open6.txt" "$T/forms.jsonl" "::1 written 5 ways, open only"; then
	rs_pass
else
	rs_nok "ringscan --seed 3 ${forms[*]} -p 4600-4608 (open only)"
fi

printf '::1 22\n::1 80\n' >"$T/dry-want"
if dry_run "$T/dry" --seed 4 "${forms[@]}" -p 22,80; then
	dry_pairs "$T/dry" >"$T/dry.pairs"
	rs_check "dry run of ::1 written 5 ways" same_set "dry run, ::1 five ways" "$T/dry-want" "$T/dry.pairs"
else
	rs_nok "dry run of ${forms[*]}"
fi
# fmt_dry FORMAT WANT-LINES...: the dry run in FORMAT prints exactly these
# lines (sorted, after the csv header).
fmt_dry() {
	local fmt=$1 rc=0
	shift
	timeout -k 5 30 "$RS" --dry-run --seed 5 -f "$fmt" -p 80,22 ::1 127.0.0.1 >"$T/fmt.$fmt" 2>"$T/fmt.err" || rc=$?
	printf '%s\n' "$@" >"$T/fmt.want"
	if [ $rc = 0 ] && same_set "dry run -f $fmt" "$T/fmt.want" "$T/fmt.$fmt"; then return 0; fi
	rs_say "ringscan --dry-run -f $fmt -p 80,22 ::1 127.0.0.1 -> exit $rc"
	return 1
}
rs_check "dry run -f list" fmt_dry list '[::1]:22' '[::1]:80' 127.0.0.1:22 127.0.0.1:80
rs_check "dry run -f jsonl" fmt_dry jsonl '{"ip":"::1","port":22}' '{"ip":"::1","port":80}' \
	'{"ip":"127.0.0.1","port":22}' '{"ip":"127.0.0.1","port":80}'
if fmt_dry csv ip,port ::1,22 ::1,80 127.0.0.1,22 127.0.0.1,80 && [ "$(head -1 "$T/fmt.csv")" = ip,port ]; then rs_pass; else
	rs_nok "dry run -f csv: want the header ip,port first, then ::1,22 ..."
fi

rs_summary ipv6
