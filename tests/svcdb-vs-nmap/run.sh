#!/usr/bin/env bash
# tests/svcdb-vs-nmap/run.sh BUILD_DIR [COUNT]: ringscan's reading of nmap's
# service probe database (src/svcdb*.c) against nmap -sV itself. Responses
# made up from the rules of the NULL and GetRequest probes (up to COUNT
# each, default 200, at most 900) are served on 127.0.0.1 inside a private
# network namespace: "banner" services speak first (ports 41000-), the
# others answer whatever they are sent (42000-, where no probe's ports
# directive reaches, so nmap's plan is NULL, GenericLines, GetRequest...).
# For every response svcdb hard-matches, nmap -sV must report exactly
# svcdb's name, product, version, info, hostname, os, device, TLS tunnel
# and CPEs. Manual, not part of make test (1 min for 200, 4 for 900; needs
# nmap and python3); exit 77 = skipped. Files go to BUILD_DIR/svcdb-vs-nmap/.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?usage: run.sh BUILD_DIR [COUNT]}" && pwd)
count=${2:-200}
db=/usr/share/nmap/nmap-service-probes
for c in nmap python3 unshare ip cc; do
	command -v "$c" >/dev/null || { echo "skip: no $c"; exit 77; }
done
[ -r "$db" ] || { echo "skip: no $db"; exit 77; }
[ "$count" -le 900 ] || { echo "run.sh: COUNT is at most 900" >&2; exit 2; }
out=$build/svcdb-vs-nmap
mkdir -p "$out"
cc -O2 -std=gnu11 -D_GNU_SOURCE -I"$here/../../include" -o "$out/describe" "$here/describe.c" \
	"$build/libringscan.a" -lpcre2-8 -luring -lm
py=$here/vsnmap.py

python3 "$py" gen "$db" NULL "$count" 1 >"$out/null.hex"
sed 's/^/NULL /' "$out/null.hex" | "$out/describe" "$db" >"$out/null.ans"
n1=$(python3 "$py" pick banner 41000 "$out/null.hex" "$out/null.ans" "$out/banner.cases" \
	"$out/banner.expect")
python3 "$py" gen "$db" GetRequest "$count" 2 >"$out/get.hex"
"$out/describe" "$db" 42000 <"$out/get.hex" >"$out/get.ans"
n2=$(python3 "$py" pick respond 42000 "$out/get.hex" "$out/get.ans" "$out/respond.cases" \
	"$out/respond.expect")
echo "svcdb hard-matches $n1 banners (ports 41000-) and $n2 responses (42000-)"

# Everything below runs in a private network namespace: loopback only.
export py out n1 n2
timeout -k 10 900 unshare -rn bash -c '
	set -e
	ip link set lo up
	ulimit -n 8192
	python3 "$py" serve "$out/banner.cases" & s1=$!
	python3 "$py" serve "$out/respond.cases" & s2=$!
	trap "kill $s1 $s2 2>/dev/null" EXIT
	sleep 2
	nmap -sV -Pn -n -T4 -p "41000-$((41000 + n1 - 1)),42000-$((42000 + n2 - 1))" \
		127.0.0.1 -oX "$out/nmap.xml" >/dev/null
'
rc=0
python3 "$py" compare "$out/banner.expect" "$out/nmap.xml" || rc=1
python3 "$py" compare "$out/respond.expect" "$out/nmap.xml" || rc=1
exit $rc
