#!/usr/bin/env bash
# make bench, service section: how fast ringscan tells what speaks on
# open ports, side by side with a plain port scan of the same world, with
# nmap -sV and with the Python pool of threads it replaces. Never in CI.
#
# The world: tests/tools/svcd on 127.70.0.0/28 (16 addresses) x ports
# 6000-7023 (1,024): 16,384 open ports, every one a service that speaks
# first --
#   6000-6511  an SSH identification, distinct per port, connection held
#   6512-6767  telnet: IAC DO/WILL, then "login: " (refused, then done)
#   6768-7023  "220 ftp PORT ready", then a FIN (unrecognised: its banner)
# Rows (RUNS runs each, medians): ringscan without --banner (the port
# scan), ringscan --banner (every answer checked: 8,192 ssh with their own
# software, 4,096 telnet, 4,096 banners), the pool (bench/peers/pool_scan.py
# --banner: connect, read to the end of a line) on the same world, nmap
# -sV --version-intensity 0 on 256 of them (one address: 6000-6127,
# 6512-6575, 6768-6831; it takes minutes). Columns: wall s, services/s,
# and the ratios the issue asks for.
# Then the real daemons of tests/e2e/svcworld.sh on 127.70.1.1 (sshd,
# dropbear, telnetd, http.server, s_server): ringscan --service and nmap
# -sV side by side, name, product and version per port.
#
# Usage: bench/service.sh [RUNS]   (default 3); writes the table to stdout
# and to $RS_BENCH_SERVICE if set. NMAP=0 leaves nmap out (~9 minutes).
set -eu
. "$(dirname "$0")/../tests/e2e/lib.sh"
ns_reexec 3600 "$0" "$@"
RUNS=${1:-3}
need_scanner "$RS_ROOT/build"
need_tools
net_up
T=$RS_TMP
NET=127.70.0.0/28 PORTS=6000-7023 N=16384
svcd_up w --bind 0.0.0.0 '6000-6511=banner:SSH-2.0-OpenSSH_%p bench\r\n' \
	'6512-6767=banner:\xff\xfd\x18\xff\xfb\x01login: ' '6768-7023=banner-close:220 ftp %p ready\r\n'
OUT=${RS_BENCH_SERVICE:-$T/service.md}

# median of the numbers on stdin
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# timed OUTFILE CMD...: run CMD with stdout to OUTFILE; prints seconds.
timed() {
	local out=$1 t0
	shift
	t0=$(date +%s%N)
	"$@" >"$out" 2>"$T/err" || { tail -5 "$T/err" >&2; rs_fail "$* failed"; }
	awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.3f\n", (b - a) / 1e9 }'
}

# check FILE: every service of the world answered right, once.
check() {
	python3 - "$1" <<'PY'
import json, sys
n = {"ssh": 0, "telnet": 0, "ftp": 0}
bad = 0
for line in open(sys.argv[1], encoding="utf-8", errors="surrogateescape"):
    r = json.loads(line)
    p, svc = r["port"], r.get("service", {})
    if p < 6512:
        ok = svc.get("name") == "ssh" and r["ssh"]["software"] == "OpenSSH_%d" % p
        n["ssh"] += ok
    elif p < 6768:
        ok = svc.get("name") == "telnet" and r["telnet"]["text"] == "login: "
        n["telnet"] += ok
    else:  # whatever nmap's rules make of it, when they are installed
        ok = r["banner"] == "220 ftp %d ready\r\n" % p
        n["ftp"] += ok
    bad += not ok
if n != {"ssh": 8192, "telnet": 4096, "ftp": 4096} or bad:
    sys.exit("wrong: %s, %d bad lines" % (n, bad))
PY
}

declare -A wall
run() {
	local name=$1 i s
	shift
	: >"$T/times"
	for i in $(seq 1 "$RUNS"); do
		s=$(timed "$T/$name.out" "$@")
		echo "$s" >>"$T/times"
		[ "$name" != banner ] || check "$T/$name.out" || rs_fail "ringscan --banner: wrong answers"
	done
	wall[$name]=$(median <"$T/times")
	rs_say "$name: ${wall[$name]} s (median of $RUNS)"
}
run scan "$RS" -q -p $PORTS $NET
run banner "$RS" -q --banner -p $PORTS $NET
run pool python3 "$RS_ROOT/bench/peers/pool_scan.py" -t 1000 --banner 3000 $NET $PORTS
pool_ok=$(python3 -c '
import json, sys
print(sum(1 for l in open(sys.argv[1]) if json.loads(l).get("banner")))' "$T/pool.out")
nmap_s=none
NMAP_N=256
if [ "${NMAP:-1}" = 1 ] && command -v nmap >/dev/null; then
	nmap_s=$(timed "$T/nmap.out" nmap -n -Pn -sT -sV --version-intensity 0 -T4 \
		-p 6000-6127,6512-6575,6768-6831 127.70.0.1)
	rs_say "nmap -sV: $nmap_s s for $NMAP_N services"
fi
# calc EXPR: awk arithmetic, printed with %g.
calc() { awk "BEGIN { printf \"%.4g\\n\", $1 }"; }
{
	echo "| tool | services | wall s | services/s |"
	echo "|---|---|---|---|"
	echo "| ringscan (port scan only) | $N open ports | ${wall[scan]} | $(calc "$N / ${wall[scan]}") |"
	echo "| ringscan --banner | $N (all exact) | ${wall[banner]} | $(calc "$N / ${wall[banner]}") |"
	echo "| pool_scan.py --banner | $N ($pool_ok with a banner) | ${wall[pool]} | $(calc "$N / ${wall[pool]}") |"
	[ "$nmap_s" = none ] ||
		echo "| nmap -sV --version-intensity 0 -T4 | $NMAP_N | $nmap_s | $(calc "$NMAP_N / $nmap_s") |"
	echo
	echo "--banner takes $(calc "${wall[banner]} / ${wall[scan]}")x the port scan's time;" \
		"the pool $(calc "${wall[pool]} / ${wall[banner]}")x --banner's."
	[ "$nmap_s" = none ] ||
		echo "ringscan --banner identifies $(calc "($N / ${wall[banner]}) / ($NMAP_N / $nmap_s)")x as many services per second as nmap -sV."
} | tee "$OUT"
svcd_down w

# The real daemons: ringscan --service and nmap -sV, field by field.
. "$RS_ROOT/tests/e2e/svcworld.sh"
svc_sshd 127.70.1.1 2222
svc_dropbear 127.70.1.1 2223
svc_telnetd 127.70.1.1 2323
svc_http 127.70.1.1 8080
svc_tls 127.70.1.1 8443
REAL=2222,2223,2323,8080,8443
rs_s=$(timed "$T/real.out" "$RS" -q --service -p $REAL 127.70.1.1)
if [ "$nmap_s" != none ]; then
	nm_s=$(timed "$T/real.gnmap" nmap -n -Pn -sT -sV -oG - -p $REAL 127.70.1.1)
	python3 - "$T/real.out" "$T/real.gnmap" "$rs_s" "$nm_s" <<'PY' | tee -a "$OUT"
import json, sys
rs = {}
for l in open(sys.argv[1], encoding="utf-8", errors="surrogateescape"):
    r = json.loads(l); s = r.get("service", {})
    rs[r["port"]] = (s.get("name", ""), s.get("product", ""), s.get("version", ""), s.get("info", ""))
nm = {}
for l in open(sys.argv[2]):
    if "Ports: " not in l:
        continue
    for p in l.split("Ports: ")[1].split("\t")[0].split(", "):
        f = p.split("/")  # port/state/proto/owner/service/rpc/version/
        nm[int(f[0])] = (f[4], f[6].replace("|", "/"))
print("\n| port | ringscan --service (%s s) | nmap -sV (%s s) | agree |" % (sys.argv[3], sys.argv[4]))
print("|---|---|---|---|")
for p in sorted(set(rs) | set(nm)):
    a = rs.get(p, ("", "", "", ""))
    b = nm.get(p, ("", ""))
    mine = " ".join(x for x in (a[1], a[2], "(%s)" % a[3] if a[3] else "") if x)
    same = a[0] == b[0] and mine == b[1]
    print("| %d | %s %s | %s %s | %s |" % (p, a[0], mine, b[0], b[1], "yes" if same else "no"))
PY
else
	rs_say "ringscan --service on the real daemons: $rs_s s (nmap left out)"
fi
svc_down
