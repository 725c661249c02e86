#!/usr/bin/env bash
# test_xml_tools: the nmap XML sink's files as nmap's own tools read them.
# The unit test binary (test_sink_xml --write DIR) writes them through the
# sink: every state, IPv4 and IPv6, services with hostile banners, an
# interrupted scan, and two pairs of scans a week apart. Each must be valid
# against nmap's DTD (xmllint); python-libnmap (Debian's, /usr/bin/python3)
# must see exactly the hosts, ports, states and services written; ndiff must
# report exactly the changes between the scans of each pair, no more.
# engine-independent: nothing here scans or connects; the files are written
# by the sink directly. (algos.xml: an SSH server's --service answer, its
# KEXINIT as nmap's ssh2-enum-algos script.)
# Usage: test_xml_tools.sh BUILD_DIR
set -eu
. "$(dirname "$0")/lib.sh"
B=${1:?build dir expected as \$1}
GEN=$B/tests/test_sink_xml
DTD=/usr/share/nmap/nmap.dtd
PY=/usr/bin/python3
[ -x "$GEN" ] || rs_fail "no $GEN (make units, or make asan)"
command -v xmllint >/dev/null || rs_skip "xmllint not found (apt-get install libxml2-utils)"
[ -r "$DTD" ] || rs_skip "$DTD not found (apt-get install nmap)"
command -v ndiff >/dev/null || rs_skip "ndiff not found (apt-get install ndiff)"
"$PY" -c 'import libnmap.parser' 2>/dev/null ||
	rs_skip "python-libnmap not importable by $PY (apt-get install python3-libnmap)"

T=$(mktemp -d "${TMPDIR:-/tmp}/ringscan-xml.XXXXXX")
trap 'rm -rf "$T"' EXIT
export TZ=UTC
"$GEN" --write "$T" || rs_fail "$GEN --write failed"

for f in full cut old new old_all new_all algos; do
	rs_check "$f.xml valid against $DTD" xmllint --noout --dtdvalid "$DTD" "$T/$f.xml"
done

# What libnmap sees, compared with what the unit test wrote.
libnmap_check() {
	"$PY" - "$T" <<'EOF'
import sys
from libnmap.parser import NmapParser

d = sys.argv[1]
bad = []
def want(what, got, exp):
    if got != exp:
        bad.append("%s: got %r, want %r" % (what, got, exp))

r = NmapParser.parse_fromfile(d + "/full.xml")
want("scanner", r._nmaprun.get("scanner"), "nmap")
want("commandline", r.commandline,
     "ringscan -f xml --all -p 22,23,80-82,993 'a b' 127.0.0.0/29 ::1-::2")
want("scan type", r.scan_type, "connect")
want("started", r.started, 1795624499)
want("endtime", r.endtime, 1795624511)
want("elapsed", r.elapsed, 12.35)
want("hosts total/up/down", (r.hosts_total, r.hosts_up, r.hosts_down), (10, 3, 3))
hosts = {h.address: h for h in r.hosts}
want("hosts", [h.address for h in r.hosts],
     ["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6",
      "::1", "::2"])
want("status", [h.status for h in r.hosts],
     ["up", "up", "down", "down", "unknown", "unknown", "up", "down"])
want("ipv6", (hosts["::1"].ipv6, hosts["::1"].ipv4), ("::1", ""))
ports = {(h.address, s.port): s for h in r.hosts for s in h.services}
want("ports", sorted(ports), sorted([
    ("127.0.0.1", p) for p in (22, 23, 80, 81, 82, 993)] + [
    ("127.0.0.2", 22), ("127.0.0.2", 23), ("127.0.0.3", 22), ("127.0.0.4", 22),
    ("127.0.0.4", 23), ("127.0.0.5", 22), ("127.0.0.6", 22), ("::1", 22), ("::1", 23),
    ("::2", 22)]))
states = {k: (s.state, s.reason) for k, s in ports.items()}
want("1:23", states[("127.0.0.1", 23)], ("closed", "conn-refused"))
want("2:23", states[("127.0.0.2", 23)], ("filtered", "no-response"))
want("4:22", states[("127.0.0.4", 22)], ("filtered", "host-unreach"))
want("5:22", states[("127.0.0.5", 22)], ("filtered", "admin-prohibited"))
want("6:22", states[("127.0.0.6", 22)], ("unknown", "EPROTO"))
want("::1:22", states[("::1", 22)], ("open", "syn-ack"))
ssh = ports[("127.0.0.1", 22)]
want("ssh", (ssh.service, ssh.service_dict.get("product"), ssh.service_dict.get("version"),
             ssh.service_dict.get("extrainfo")), ("ssh", "OpenSSH", "9.2p1", "protocol 2.0"))
want("ssh banner", [s["output"] for s in ssh.scripts_results],
     ["SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\\x0D\\x0A"])
http = ports[("127.0.0.1", 80)]
want("http", (http.service, http.service_dict.get("product"), http.service_dict.get("version"),
              http.service_dict.get("extrainfo"), http.service_dict.get("ostype")),
     ("http", 'Evil "httpd" <&> \\x01\\x02\\xFF end', "1.0'\\x09\\x0A", "a]]>b", "Linux"))
want("http cpe", [str(c) for c in http.cpelist],
     ["cpe:/a:evil:httpd:1.0<&>", "cpe:/o:linux:linux_kernel"])
b = http.scripts_results[0]
want("http banner start", b["output"][:72],
     'HTTP/1.0 200 OK\\x0D\\x0AX: "q" <b> & \'a\' \\\\ \\x00\\x01\\x1B\\x7F \\xFF\\xC3( \u00e9 ')
want("http banner truncated", b["elements"], {"truncated": "true"})
# Lossless: unescaping gives back the banner's first 1024 bytes.
def unescape(s):
    out, i, raw = bytearray(), 0, s.encode("utf-8")
    while i < len(raw):
        if raw[i:i + 2] == b"\\\\":
            out += b"\\"; i += 2
        elif raw[i:i + 2] == b"\\x":
            out.append(int(raw[i + 2:i + 4], 16)); i += 4
        else:
            out.append(raw[i]); i += 1
    return bytes(out)
head = (b"HTTP/1.0 200 OK\r\nX: \"q\" <b> & 'a' \\ \x00\x01\x1b\x7f \xff\xc3\x28 \xc3\xa9 "
        b"\xef\xbf\xbe \xed\xa0\x80 \xf4\x90\x80\x80|")
want("http banner bytes", unescape(b["output"]), head + b"A" * (1024 - len(head)))
want("tcpwrapped", (ports[("127.0.0.1", 81)].service,
                    ports[("127.0.0.1", 81)].service_dict.get("conf")), ("tcpwrapped", "8"))
raw = ports[("127.0.0.1", 82)]
want("raw", (raw.service, unescape(raw.scripts_results[0]["output"])),
     ("", b"\x00\x01\x02 raw\r\n"))
want("ssl tunnel", (ports[("127.0.0.1", 993)].service, ports[("127.0.0.1", 993)].tunnel),
     ("imap", "ssl"))

c = NmapParser.parse_fromfile(d + "/cut.xml")
want("cut hosts", [(h.address, len(h.services)) for h in c.hosts], [("127.0.0.1", 5)])
fin = c._runstats["finished"]
want("cut exit", (fin.get("exit"), fin.get("errormsg")),
     ("error", "incomplete scan: interrupted by SIGTERM; 5 of 60 probes answered"))

for f in ("old", "new", "old_all", "new_all"):
    NmapParser.parse_fromfile("%s/%s.xml" % (d, f))
o = NmapParser.parse_fromfile(d + "/old.xml")
n = NmapParser.parse_fromfile(d + "/new.xml")
want("old", sorted((h.address, s.port, s.state) for h in o.hosts for s in h.services),
     [("127.0.0.1", 22, "open"), ("127.0.0.1", 80, "open"), ("127.0.0.2", 22, "open"),
      ("127.0.0.3", 8080, "open")])
want("new", sorted((h.address, s.port, s.state) for h in n.hosts for s in h.services),
     [("127.0.0.1", 22, "open"), ("127.0.0.1", 443, "open"), ("127.0.0.2", 22, "open")])
a = NmapParser.parse_fromfile(d + "/algos.xml").hosts[0].services[0]
algos = {x["id"]: x for x in a.scripts_results}["ssh2-enum-algos"]
want("ssh2-enum-algos tables", algos["elements"], {
    "kex_algorithms": {None: ["curve25519-sha256", "dh<&>"]},
    "server_host_key_algorithms": {None: "ssh-ed25519"},
    "encryption_algorithms": {None: ["chacha20-poly1305@openssh.com", "aes256-gcm"]},
    "mac_algorithms": {None: ["umac-64", "hmac-sha1"]},
    "compression_algorithms": {None: ["none", "zlib@openssh.com"]}})
want("ssh2-enum-algos text", algos["output"].split("\n")[1:4],
     ["  kex_algorithms: (2)", "      curve25519-sha256", "      dh<&>"])
for line in bad:
    print("libnmap: " + line, file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
}
rs_check "python-libnmap sees what was written" libnmap_check

# ndiff_is OLD NEW EXPECTED: ndiff's exit status 1 and exactly that text.
ndiff_is() {
	local rc=0
	ndiff "$T/$1.xml" "$T/$2.xml" >"$T/ndiff.out" 2>&1 || rc=$?
	printf '%s\n' "$3" >"$T/ndiff.want"
	if [ $rc != 1 ] || ! cmp -s "$T/ndiff.out" "$T/ndiff.want"; then
		rs_say "ndiff $1 $2: exit $rc (want 1); diff want got:"
		diff "$T/ndiff.want" "$T/ndiff.out" >&2 || true
		return 1
	fi
}
a='ringscan -p 22,80,443,8080 -f xml 127.0.0.0/30'
rs_check "ndiff: 80 closed, 443 opened, 127.0.0.3 gone" ndiff_is old new "-Nmap 0.1.0 scan initiated Wed Nov 25 16:34:59 2026 as: $a
+Nmap 0.1.0 scan initiated Wed Dec 02 16:34:59 2026 as: $a

 127.0.0.1:
 PORT    STATE SERVICE VERSION
-80/tcp  open
+443/tcp open

-127.0.0.3:
-Host is up.
-PORT     STATE SERVICE VERSION
-8080/tcp open"
a='ringscan --all -p 22,80,443 -f xml 127.0.0.1-127.0.0.3'
rs_check "ndiff --all: 80 open->closed, 443 closed->open, 127.0.0.3 down" ndiff_is old_all new_all \
	"-Nmap 0.1.0 scan initiated Wed Nov 25 16:34:59 2026 as: $a
+Nmap 0.1.0 scan initiated Wed Dec 02 16:34:59 2026 as: $a

 127.0.0.1:
 PORT    STATE  SERVICE VERSION
-80/tcp  open
+80/tcp  closed
-443/tcp closed
+443/tcp open

 127.0.0.3:
-Host is up.
+Host is down.
 PORT    STATE    SERVICE VERSION
-22/tcp  closed
+22/tcp  filtered
-80/tcp  closed
+80/tcp  filtered
-443/tcp open
+443/tcp filtered"
same() {
	local rc=0
	ndiff "$T/old.xml" "$T/old.xml" >"$T/same.out" 2>&1 || rc=$?
	[ $rc = 0 ] && ! grep -q '^[-+]' "$T/same.out"
}
rs_check "ndiff: a scan against itself: no change, exit 0" same
rs_summary test_xml_tools
