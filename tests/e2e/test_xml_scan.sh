#!/usr/bin/env bash
# test_xml_scan: -f xml from real scans (issue 14). The answers come in
# permuted order; they are kept in the inventory (--db, or a private one
# in $TMPDIR) and written sorted by host at the end.
#   1. --all on a mixed world: valid against nmap's DTD, one <host> per
#      address, every pair once, each state as the same scan's JSON lines
#      say (unreachable: filtered, reason host-unreach); python-libnmap
#      reads the same set. No private store is left behind.
#   2. Open only: exactly the open pairs.
#   3. Interrupted (SIGINT) with --db and --resume: exit 130, a closed,
#      valid file that says it is incomplete; resumed to the end: one valid
#      file, every pair once, exit="success".
#   4. The world changed (one open pair now refuses, another is now
#      dropped): ndiff between the two scans names exactly those two
#      ports on those two hosts.
#   5. Killed (-9) while the XML is being written (131,072 closed pairs,
#      --all: the write takes a while): the file is as the scan left it
#      (empty), never cut short, and nothing is left beside it; a whole
#      run then replaces it, valid, keeping its mode.
#   6. --banner over IPv4 and IPv6 (svcd on "::": ssh, telnet, a banner
#      nmap's rules may not know, a silent port, a closed one): valid;
#      addrtype ipv4 and ipv6 as the addresses are; each port's state,
#      <service> (name, product, version, extrainfo, cpe) and banner
#      script as the same scan's JSON lines say; libnmap reads the services.
# engines: uring (what it checks is the coordinator's: sinks, the inventory, the
# Python wrapper; the engine only answers. test_db and test_db_resume run on
# both engines, and every other test shows the engines answer alike)
# Usage: test_xml_scan.sh BUILD_DIR
set -eu
. "$(dirname "$0")/lib.sh"
ns_reexec 300 "$0" "$@"
need_scanner "${1:-}"
need_tools
trap world_down EXIT
PY=/usr/bin/python3
DTD=/usr/share/nmap/nmap.dtd
command -v xmllint >/dev/null || rs_skip "xmllint not found (apt-get install libxml2-utils)"
[ -r $DTD ] || rs_skip "$DTD not found (apt-get install nmap)"
command -v ndiff >/dev/null || rs_skip "ndiff not found (apt-get install ndiff)"
"$PY" -c 'import libnmap.parser' 2>/dev/null ||
	rs_skip "python-libnmap not importable by $PY (apt-get install python3-libnmap)"
RS_NPASS=0 RS_NFAIL=0
export TMPDIR=$RS_TMP/tmp
mkdir -p "$TMPDIR"

NET=127.62.0.0/26
W=$RS_TMP/w
world_gen "$W" --seed 8 --addrs $NET --ports 7300-7303 --open 20 --filtered 3 --unreachable 5 \
	--closed-port 7303
world_is_mixed "$W"
world_up "$W"
S=(-q -w 2 -t 1000 --retries 1 --seed 8 $NET -p 7300-7303)

# pairs XML: "ip port state reason" lines, sorted; fails unless every host
# element holds a distinct address.
pairs() {
	"$PY" - "$1" <<'EOF'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
addrs = [h.find("address").get("addr") for h in root.findall("host")]
if len(addrs) != len(set(addrs)):
    sys.exit("a host element repeats an address")
out = []
for h in root.findall("host"):
    a = h.find("address").get("addr")
    for p in h.iter("port"):
        st = p.find("state")
        out.append("%s %s %s %s" % (a, p.get("portid"), st.get("state"), st.get("reason")))
print("\n".join(sorted(out)))
EOF
}
# want JSONL: what the XML should hold for a JSON lines output.
want() {
	sed -n 's/.*"ip":"\([^"]*\)","port":\([0-9]*\),.*"state":"\([a-z]*\)".*/\1 \2 \3/p' "$1" |
		awk 'BEGIN { r["open"] = "syn-ack"; r["closed"] = "conn-refused"
		             r["filtered"] = "no-response"; r["unreachable"] = "host-unreach" }
		     { print $1, $2, ($3 == "unreachable" ? "filtered" : $3), r[$3] }' | sort
}
valid() { xmllint --noout --dtdvalid $DTD "$1" 2>&1 | head -3 >&2; [ "${PIPESTATUS[0]}" = 0 ]; }
# finished FILE: the exit attribute of <finished>.
finished() { sed -n 's/.*<finished [^>]*exit="\([a-z]*\)".*/\1/p' "$1"; }
between() { [ "$1" -gt "$2" ] && [ "$1" -lt "$3" ]; } # N LO HI: LO < N < HI
same() { # LABEL A B
	if cmp -s "$2" "$3"; then rs_pass; else
		rs_nok "$1: $(diff "$2" "$3" | head -5 | tr '\n' ' ')"
	fi
}

rs_say "1. --all"
run_scan 120 "${S[@]}" --all -o "$RS_TMP/a.jsonl" || rs_fail "jsonl scan"
check_scan "$W/truth.txt" "$RS_TMP/a.jsonl" "jsonl" || rs_fail "the JSON lines scan is not exact"
run_scan 120 "${S[@]}" --all -f xml -o "$RS_TMP/a.xml" || rs_fail "xml scan"
rs_check "valid against nmap's DTD" valid "$RS_TMP/a.xml"
want "$RS_TMP/a.jsonl" >"$RS_TMP/a.want"
pairs "$RS_TMP/a.xml" >"$RS_TMP/a.got" || rs_nok "the XML's hosts"
same "every pair once, as the JSON lines say" "$RS_TMP/a.want" "$RS_TMP/a.got"
rs_check "exit=success" [ "$(finished "$RS_TMP/a.xml")" = success ]
n=$("$PY" -c 'import sys; from libnmap.parser import NmapParser as P
r = P.parse_fromfile(sys.argv[1]); print(sum(len(h.get_ports()) for h in r.hosts))' "$RS_TMP/a.xml")
rs_check "libnmap reads $n ports, want $(wc -l <"$W/truth.txt")" [ "$n" = "$(wc -l <"$W/truth.txt")" ]
rs_check "no private store left in TMPDIR ($(ls "$TMPDIR"))" [ -z "$(ls -A "$TMPDIR")" ]

rs_say "2. open only"
run_scan 120 "${S[@]}" -f xml -o "$RS_TMP/o.xml" || rs_fail "open-only xml scan"
rs_check "valid (open only)" valid "$RS_TMP/o.xml"
grep ' open$' "$W/truth.txt" | awk '{print $1, $2, "open syn-ack"}' | sort >"$RS_TMP/o.want"
pairs "$RS_TMP/o.xml" >"$RS_TMP/o.got" || rs_nok "the open-only XML's hosts"
same "exactly the open pairs" "$RS_TMP/o.want" "$RS_TMP/o.got"

rs_say "3. interrupted, then resumed"
out=$RS_TMP/r.xml ck=$RS_TMP/r.ck db=$RS_TMP/r.db
R=("${S[@]}" --all -f xml -r 100 --resume "$ck" --db "$db" -o "$out")
"$RS" "${R[@]}" 2>"$RS_TMP/r1.err" &
pid=$!
for _ in $(seq 1 50); do [ -s "$ck" ] && break; sleep 0.1; done
sleep 1
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
rs_check "SIGINT: exit $rc, want 130" [ $rc = 130 ]
rs_check "interrupted: valid" valid "$out"
rs_check "interrupted: exit=error" [ "$(finished "$out")" = error ]
grep -q 'errormsg="[^"]*incomplete[^"]*interrupted by SIGINT' "$out" ||
	rs_nok "interrupted: no errormsg saying so: $(grep -o '<finished[^>]*>' "$out")"
k=$(pairs "$out" | wc -l)
rs_check "interrupted: part of the pairs ($k)" between "$k" 0 "$(wc -l <"$W/truth.txt")"
run_scan 120 "${R[@]}" -r 0 || rs_fail "resume"
rs_check "resumed: valid" valid "$out"
rs_check "resumed: exit=success" [ "$(finished "$out")" = success ]
pairs "$out" >"$RS_TMP/r.got" || rs_nok "the resumed XML's hosts"
same "resumed: every pair once" "$RS_TMP/a.want" "$RS_TMP/r.got"

rs_say "4. what changed: ndiff"
grep ' open$' "$W/truth.txt" | sort -u -k1,1 | head -2 >"$RS_TMP/chg"
read -r oip oport _ < <(sed -n 1p "$RS_TMP/chg")
read -r qip qport _ < <(sed -n 2p "$RS_TMP/chg")
nft add table inet xmlchg
nft add chain inet xmlchg in '{ type filter hook input priority -20; }'
nft add rule inet xmlchg in ip daddr "$oip" tcp dport "$oport" reject with tcp reset
nft add rule inet xmlchg in ip daddr "$qip" tcp dport "$qport" drop
run_scan 120 "${S[@]}" --all -f xml -o "$RS_TMP/b.xml" || rs_fail "second xml scan"
nft delete table inet xmlchg
rc=0
ndiff "$RS_TMP/a.xml" "$RS_TMP/b.xml" >"$RS_TMP/nd.txt" || rc=$?
rs_check "ndiff: exit $rc, want 1 (differences)" [ $rc = 1 ]
# Its port lines ("-PORT/tcp  STATE ...", "+PORT/tcp  STATE ...") and hosts.
sed -nE 's|^([-+])([0-9]+)/tcp +([a-z]+).*|\1 \2 \3|p' "$RS_TMP/nd.txt" | sort >"$RS_TMP/nd.got"
printf '%s\n' "- $oport open" "+ $oport closed" "- $qport open" "+ $qport filtered" |
	sort >"$RS_TMP/nd.want"
same "ndiff names exactly the two changed ports" "$RS_TMP/nd.want" "$RS_TMP/nd.got"
grep -oE '^[ +-]?127\.[0-9.]+:' "$RS_TMP/nd.txt" | tr -d ' +:-' | sort -u >"$RS_TMP/ndh.got"
printf '%s\n' "$oip" "$qip" | sort -u >"$RS_TMP/ndh.want"
same "ndiff names exactly the two hosts" "$RS_TMP/ndh.want" "$RS_TMP/ndh.got"
rs_say "5. kill -9 while the XML is written"
K=$RS_TMP/kill
mkdir -p "$K"
printf 'before\n' >"$K/k.xml"
chmod 600 "$K/k.xml"
BIG=(-q --all -f xml --seed 9 127.61.0.0/16 -p 1-2 -o "$K/k.xml")
"$RS_BIN" "${BIG[@]}" 2>"$RS_TMP/k.err" &
pid=$!
# The nameless file the XML goes to (O_TMPFILE) shows in /proc as
# "DIR/#INODE (deleted)": it is opened once the scan has ended.
seen=0
for _ in $(seq 1 6000); do
	if ls -l /proc/$pid/fd 2>/dev/null | grep -q "$K/#[0-9]* (deleted)"; then
		seen=1
		break
	fi
	kill -0 $pid 2>/dev/null || break
	sleep 0.02
done
kill -KILL $pid 2>/dev/null || true
wait $pid 2>/dev/null || true
rs_check "killed while writing the XML (the window was seen)" [ $seen = 1 ]
rs_check "the file is as the scan left it: empty, not cut short" [ ! -s "$K/k.xml" ]
rs_check "nothing left beside it" [ "$(ls -A "$K")" = k.xml ]
run_scan 300 "${BIG[@]}" || rs_fail "the big xml scan"
rs_check "a whole run replaces it: valid" valid "$K/k.xml"
rs_check "and keeps its mode" [ "$(stat -c %a "$K/k.xml")" = 600 ]
rs_check "with every pair" [ "$(grep -c '<port ' "$K/k.xml")" = 131072 ]
rs_say "6. --banner, IPv4 and IPv6"
svcd_up x --bind :: '7400=banner:SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n' \
	'7401=banner:\xff\xfd\x18\xff\xfb\x01login: ' '7402=banner-close:hello <&"> there\r\n' \
	'7403=silent'
B=(-q --all --banner --read-timeout 600 -t 1000 --retries 1 127.62.1.1 ::1 -p 7400-7404)
run_scan 120 "${B[@]}" -o "$RS_TMP/s.jsonl" || rs_fail "banner jsonl scan"
run_scan 120 "${B[@]}" -f xml -o "$RS_TMP/s.xml" || rs_fail "banner xml scan"
rs_check "valid (services, IPv6)" valid "$RS_TMP/s.xml"
# svc FILE.jsonl|FILE.xml: "family ip port state name|product|version|
# extrainfo|cpes" lines, sorted, from either form. (Banners are escaped
# differently by design, JSON's way and nmap's banner script's: checked
# below where they are printable.)
svc() {
	"$PY" - "$1" <<'EOF'
import json, sys, xml.etree.ElementTree as ET
f, out = sys.argv[1], []
if f.endswith(".jsonl"):
    for line in open(f, encoding="utf-8", errors="surrogateescape"):
        r = json.loads(line)
        s = r.get("service", {})
        fam = "ipv6" if ":" in r["ip"] else "ipv4"
        out.append("%s %s %s %s %s|%s|%s|%s|%s" % (fam, r["ip"], r["port"], r["state"],
                   s.get("name", ""), s.get("product", ""), s.get("version", ""),
                   s.get("info", ""), ",".join(s.get("cpe", []))))
else:
    for h in ET.parse(f).getroot().findall("host"):
        a = h.find("address")
        for p in h.iter("port"):
            s = p.find("service")
            g = (lambda k: s.get(k, "") if s is not None else "")
            out.append("%s %s %s %s %s|%s|%s|%s|%s" % (a.get("addrtype"), a.get("addr"),
                       p.get("portid"), p.find("state").get("state"), g("name"), g("product"),
                       g("version"), g("extrainfo"), ",".join(c.text for c in p.iter("cpe"))))
print("\n".join(sorted(out)))
EOF
}
svc "$RS_TMP/s.jsonl" >"$RS_TMP/s.want"
svc "$RS_TMP/s.xml" >"$RS_TMP/s.got"
same "services and addresses as the JSON lines say" "$RS_TMP/s.want" "$RS_TMP/s.got"
rs_check "ssh on both families" [ "$(grep -c ' 7400 open ssh|OpenSSH|' "$RS_TMP/s.got")" = 2 ]
rs_check "telnet on both families" [ "$(grep -c ' 7401 open telnet|' "$RS_TMP/s.got")" = 2 ]
rs_check "IPv6 says ipv6" [ "$(grep -c '^ipv6 ::1 ' "$RS_TMP/s.got")" = 5 ]
b=$("$PY" -c 'import sys, xml.etree.ElementTree as ET
for h in ET.parse(sys.argv[1]).getroot().findall("host"):
    for p in h.iter("port"):
        b = p.find("script[@id=\"banner\"]")
        if p.get("portid") in ("7400", "7402"):
            print(p.get("portid"), b.get("output") if b is not None else None)' "$RS_TMP/s.xml" | sort | uniq -c | tr -s ' ')
rs_check "banner scripts, escaped and read back: $b" [ "$b" = ' 2 7400 SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\x0D\x0A
 2 7402 hello <&"> there\x0D\x0A' ]
n=$("$PY" -c 'import sys; from libnmap.parser import NmapParser as P
r = P.parse_fromfile(sys.argv[1])
print(sorted(set(s.service for h in r.hosts for s in h.services if s.state == "open" and s.service)))' "$RS_TMP/s.xml")
rs_check "libnmap reads the services: $n" [ "$n" = "['ssh', 'telnet']" ]
svcd_down x
rs_summary xml_scan
