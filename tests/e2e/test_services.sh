#!/usr/bin/env bash
# test_services: --banner and --service against real daemons (issue 12),
# every answer checked against what the daemons themselves said when
# tests/e2e/svcworld.sh started them, on the engine under test and its
# other modes (lib.sh rs_engines: io_uring direct and compat, or epoll):
#   - OpenSSH's sshd (2222) and dropbear (2223): ssh, with proto_version,
#     software and comment equal to their identification and to what their
#     packages say, nmap's product and version; with --service the server's
#     KEXINIT lists, equal to what svcworld read from each;
#   - inetutils telnetd (2323, not 23): telnet, with exactly the options
#     it offered (WILL) and asked for (DO), and its login prompt;
#   - python's http.server (8080) and openssl s_server (8443) speak only
#     when spoken to: with --banner an empty banner; with --service, http
#     (SimpleHTTPServer, its version and python's, from GetRequest) and ssl;
#   - hostile ones (svcd): accept-and-close is tcpwrapped, silent says
#     nothing, one byte a second and an endless flood are cut;
#   - nothing else claims ssh or telnet (22 and 23 are closed).
# Needs nmap's service database (Debian's nmap) for the product fields.
# Usage: test_services.sh BUILD_DIR
# engines: split (each engine once, plain or ASan, with its other modes: 18-26 s a run)
set -eu
. "$(dirname "$0")/lib.sh"
ns_reexec 240 "$0" "$@"
need_scanner "${1:-}"
need_tools
[ -r /usr/share/nmap/nmap-service-probes ] || rs_skip "no nmap service database (apt-get install nmap)"
net_up
. "$RS_ROOT/tests/e2e/svcworld.sh"
svc_sshd 127.0.0.1 2222
svc_dropbear 127.0.0.1 2223
svc_telnetd 127.0.0.1 2323
svc_http 127.0.0.1 8080
svc_tls 127.0.0.1 8443
svcd_up h --bind 127.0.0.1 2400=close 2401=silent 2402=slow:abc 2403=flood
PORTS=22,23,2222,2223,2323,8080,8443,2400-2403

# check MODE FILE: the answers of a --banner or --service scan, exactly.
check() {
	python3 - "$1" "$2" <<'PY'
import json, os, sys
mode, path = sys.argv[1], sys.argv[2]
E = os.environ
def ssh(pre, kex):
    soft = E[pre + "_SOFTWARE"]
    assert soft == E[pre + "_SOFTWARE_PKG"] and E[pre + "_COMMENT"] == E[pre + "_COMMENT_PKG"]
    o = {"proto_version": E[pre + "_PROTO"], "software": soft, "comment": E[pre + "_COMMENT"]}
    if kex:
        for k in ("kex", "hostkey", "ciphers_c2s", "ciphers_s2c", "macs_c2s", "macs_s2c",
                  "compression_c2s", "compression_s2c"):
            v = E[pre + "_" + k.upper().replace("COMPRESSION", "COMP")]
            o[k] = v.split(",") if v else []
    return o
probed = mode == "service"
want = {
    2222: ("ssh", "OpenSSH", E["SVC_SSHD_SOFTWARE"].split("_", 1)[1] + " " +
           E["SVC_SSHD_COMMENT"].replace("-", " "), ssh("SVC_SSHD", probed)),
    2223: ("ssh", "Dropbear sshd", E["SVC_DROPBEAR_SOFTWARE"].split("_", 1)[1], ssh("SVC_DROPBEAR", probed)),
    2323: ("telnet", None, None, None),
    8080: ("http", "SimpleHTTPServer", "0.6", None) if probed else (None, None, None, None),
    8443: ("ssl", None, None, None) if probed else (None, None, None, None),
    2400: ("tcpwrapped", None, None, None),
    2401: (None, None, None, None),
    2402: (None, None, None, None),
    2403: (None, None, None, None),
}
bad, seen = [], set()
for line in open(path, encoding="utf-8", errors="surrogateescape"):
    r = json.loads(line)
    p = r["port"]
    seen.add(p)
    if p not in want:
        bad.append("%d: unexpected %s" % (p, r)); continue
    name, product, version, sshobj = want[p]
    svc = r.get("service", {})
    got = (svc.get("name"), svc.get("product"), svc.get("version"))
    if got != (name, product, version):
        bad.append("%d: service %s, want %s" % (p, got, (name, product, version)))
    if r.get("ssh") != sshobj:
        bad.append("%d: ssh %s, want %s" % (p, r.get("ssh"), sshobj))
    b = r["banner"].encode("utf-8", "surrogateescape")
    if p in (2222, 2223) and b != (E["SVC_SSHD_IDENT" if p == 2222 else "SVC_DROPBEAR_IDENT"] + "\r\n").encode():
        bad.append("%d: banner %r" % (p, b))
    if p == 2323:
        t = r.get("telnet", {})
        will = " ".join(str(o["code"]) for o in t.get("will", []))
        do = " ".join(str(o["code"]) for o in t.get("do", []))
        if (will, do, t.get("text")) != (E["SVC_TELNETD_WILL"], E["SVC_TELNETD_DO"], E["SVC_TELNETD_TEXT"]):
            bad.append("2323: telnet %s %s %r" % (will, do, t.get("text")))
        if not b.startswith(bytes.fromhex(E["SVC_TELNETD_FIRST_HEX"])):
            bad.append("2323: banner %r" % b)
    if p == 8080 and probed:
        want_info = "Python " + E["SVC_HTTP_SERVER"].split("Python/")[1]
        if (svc.get("info"), svc.get("method"), svc.get("probe")) != (want_info, "probed", "GetRequest") \
                or not b.startswith(b"HTTP/1.0 200 OK\r\nServer: " + E["SVC_HTTP_SERVER"].encode()):
            bad.append("8080: %s %r" % (svc, b[:60]))
    if p in (8080, 8443, 2401) and not probed and b != b"":
        bad.append("%d: banner %r, want none" % (p, b))
    if p == 2402 and b != b"a":
        bad.append("2402: banner %r" % b)
    if p == 2403 and (len(b) != 1024 or r.get("banner_truncated") is not True):
        bad.append("2403: %d bytes, truncated %s" % (len(b), r.get("banner_truncated")))
if seen != set(want):
    bad.append("ports %s, want %s" % (sorted(seen), sorted(want)))
for b in bad:
    print("  " + b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
}

for engine in $(rs_engines); do
	for mode in banner service; do
		out=$RS_TMP/$mode-$engine.jsonl
		t0=$(date +%s%N)
		# --service-intensity 0: the port's own probes only, so the
		# silent and slow ports do not get nmap's twenty others.
		extra=()
		[ $mode = banner ] || extra=(--service-intensity 0)
		run_scan 120 --$mode "${extra[@]}" -q --engine $engine --read-timeout 1500 -p $PORTS 127.0.0.1 -o "$out" ||
			rs_fail "--$mode scan failed ($engine)"
		ms=$((($(date +%s%N) - t0) / 1000000))
		check $mode "$out" || rs_fail "--$mode answers not exact ($engine)"
		rs_say "ok: $engine --$mode: 9 services exact in $ms ms"
	done
done
# At nmap's default intensity, the daemons that answer a probe.
run_scan 120 --service -q --read-timeout 1500 -p 2222,2223,2323,8080 127.0.0.1 \
	-o "$RS_TMP/default.jsonl" || rs_fail "--service at the default intensity failed"
python3 - "$RS_TMP/default.jsonl" <<'PY' || rs_fail "--service at the default intensity not exact"
import json, sys
got = {json.loads(l)["port"]: json.loads(l)["service"]["name"] for l in open(sys.argv[1])}
sys.exit(got != {2222: "ssh", 2223: "ssh", 2323: "telnet", 8080: "http"})
PY
rs_say "ok: --service at intensity 7: ssh, ssh, telnet, http"
svcd_down h
grep -q " open=0 " "$RS_TMP/h.stats" || rs_fail "the scanner left connections open: $(cat "$RS_TMP/h.stats")"
svc_down
[ -z "$(svc_leftovers)" ] || rs_fail "daemons left: $(svc_leftovers)"
rs_say "test_services: all checks passed"
