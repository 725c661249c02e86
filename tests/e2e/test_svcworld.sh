#!/usr/bin/env bash
# test_svcworld: the real daemons of tests/e2e/svcworld.sh, the ground
# truth of the service-identification tests, say what svcworld records and
# what their packages say they will, on every run; and none outlives
# svc_down. On 127.0.0.1: sshd 2222, dropbear 2223, telnetd 2323,
# http.server 8080, openssl s_server 8443. Checks:
#   1. sshd and dropbear: the identification line equals the one the
#      package version gives, byte for byte (CR LF included) on a second
#      connection; sshd's KEXINIT lists equal `sshd -T`'s; ssh-keyscan
#      (a full key exchange) returns exactly the generated host keys;
#   2. telnetd: the exact negotiation bytes of inetutils-telnetd 2.4 (first
#      flight, then the rest when every option is refused) and the prompt
#      "ringscan-test login: ", the same on a second connection (the last
#      two commands may come before or after the prompt); a client that
#      says nothing gets the first flight and nothing else;
#   3. http.server: its Server header (urllib) is the one python3 says;
#   4. s_server: `openssl s_client` completes a handshake and sees the
#      generated certificate (same SHA-256); a handshake behind an idle
#      client waits, and completes once that client has gone;
#   5. after svc_down no daemon process is left (not even the login of a
#      telnet session still open) and no port listens.
# engine-independent: the test world's daemons; the scanner never runs.
# Skips (77) only if a daemon's package is missing. Usage: test_svcworld.sh
# [BUILD_DIR] (unused: nothing here runs the scanner).
set -eu
. "$(dirname "$0")/lib.sh"
ns_reexec 90 "$0" "$@"
for b in dpkg-query /usr/sbin/sshd /usr/sbin/dropbear /usr/sbin/telnetd socat openssl ssh-keyscan python3; do
	[ -x "$b" ] || command -v "$b" >/dev/null || rs_skip "$b not found (scripts/deps.sh test installs it)"
done
. "$(dirname "$0")/svcworld.sh"
A=127.0.0.1

# eq WHAT WANT GOT: a check that GOT is exactly WANT.
eq() {
	if [ "$2" = "$3" ]; then
		rs_pass
	else
		rs_nok "$1: want '$2', got '$3'"
	fi
}

# first_line PORT: the first line a server sends, CR LF shown as \r\n.
first_line() {
	python3 - "$A" "$1" <<'EOF'
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
buf = b""
while b"\n" not in buf:
    d = s.recv(4096)
    if not d:
        break
    buf += d
print(buf.split(b"\n")[0].decode("latin-1").replace("\r", "\\r") + "\\n")
EOF
}

# scanned_keys PORT: "TYPE BASE64" of every host key ssh-keyscan gets.
scanned_keys() {
	ssh-keyscan -T 5 -t ed25519,rsa -p "$1" "$A" 2>/dev/null | awk '{ print $2, $3 }' | sort
}
# key_files FILE...: "TYPE BASE64" of public key files.
key_files() { awk '{ print $1, $2 }' "$@" | sort; }

# up FUNCTION PORT: start a daemon on $A:PORT, saying how long it took.
up() {
	local t0
	t0=$(date +%s%N)
	"$1" "$A" "$2"
	rs_say "$1 $A:$2 up and asked in $((($(date +%s%N) - t0) / 1000000)) ms"
}
up svc_sshd 2222
up svc_dropbear 2223
up svc_telnetd 2323
up svc_http 8080
up svc_tls 8443
rs_say "ground truth ($SVC_DIR/truth.env):"
sed 's/^/  /' "$SVC_DIR/truth.env" >&2

# 1. SSH.
eq "sshd identification vs package" "$SVC_SSHD_IDENT_PKG" "$SVC_SSHD_IDENT"
eq "sshd first line" "$SVC_SSHD_IDENT\\r\\n" "$(first_line 2222)"
eq "sshd proto|software|comment vs package" "2.0|$SVC_SSHD_SOFTWARE_PKG|$SVC_SSHD_COMMENT_PKG" \
	"$SVC_SSHD_PROTO|$SVC_SSHD_SOFTWARE|$SVC_SSHD_COMMENT"
# sshd_t KEYWORD: its value in `sshd -T` for svc_sshd's config (as the
# same uid as the daemon).
sshd_t() {
	unshare -U --map-user=65534 --map-group=65534 /usr/sbin/sshd -T -f "$SVC_SSHD_CONFIG" |
		sed -n "s/^$1 //p"
}
eq "sshd KEXINIT kex" "$(sshd_t kexalgorithms),kex-strict-s-v00@openssh.com" "$SVC_SSHD_KEX"
eq "sshd KEXINIT host keys" "$(sshd_t hostkeyalgorithms | tr , '\n' |
	grep -xE 'ssh-ed25519|rsa-sha2-(256|512)' | paste -sd,)" "$SVC_SSHD_HOSTKEY"
eq "sshd KEXINIT ciphers" "$(sshd_t ciphers) $(sshd_t ciphers)" \
	"$SVC_SSHD_CIPHERS_C2S $SVC_SSHD_CIPHERS_S2C"
eq "sshd KEXINIT macs" "$(sshd_t macs) $(sshd_t macs)" "$SVC_SSHD_MACS_C2S $SVC_SSHD_MACS_S2C"
# shellcheck disable=SC2086
eq "sshd host keys (ssh-keyscan)" "$(key_files $SVC_SSHD_KEYS)" "$(scanned_keys 2222)"

eq "dropbear identification vs package" "$SVC_DROPBEAR_IDENT_PKG" "$SVC_DROPBEAR_IDENT"
eq "dropbear proto|software|comment vs package" \
	"2.0|$SVC_DROPBEAR_SOFTWARE_PKG|$SVC_DROPBEAR_COMMENT_PKG" \
	"$SVC_DROPBEAR_PROTO|$SVC_DROPBEAR_SOFTWARE|$SVC_DROPBEAR_COMMENT"
eq "dropbear identification vs dropbear -V" \
	"SSH-2.0-dropbear_$(/usr/sbin/dropbear -V 2>&1 | sed -n 's/^Dropbear v//p')" "$SVC_DROPBEAR_IDENT"
eq "dropbear first line" "$SVC_DROPBEAR_IDENT\\r\\n" "$(first_line 2223)"
# shellcheck disable=SC2086
eq "dropbear host keys (ssh-keyscan)" "$(key_files $SVC_DROPBEAR_KEYS)" "$(scanned_keys 2223)"

# 2. telnet. inetutils-telnetd 2.4 (Debian 12), refused every option:
# first flight WILL AUTHENTICATION, WILL ENCRYPT, DO TTYPE, DO TSPEED,
# DO XDISPLOC, DO NEW_ENVIRON, DO OLD_ENVIRON; then WILL SGA, DO ECHO,
# DO LINEMODE, DO NAWS, WILL STATUS, DO LFLOW, WILL ECHO, DO TM,
# DO BINARY; then the prompt and WILL SGA, WILL ECHO in either order.
first=fffb25fffb26fffd18fffd20fffd23fffd27fffd24
rest=fffb03fffd01fffd22fffd1ffffb05fffd21fffb01fffd06fffd00
last=fffb03fffb01
prompt="$SVC_HOSTNAME login: "
ptext=$(printf %s "$prompt" | od -An -tx1 | tr -d ' \n')
case $SVC_TELNETD_VERSION_PKG in
*:2.4-*)
	eq "telnetd first flight" "$first" "$SVC_TELNETD_FIRST_HEX"
	eq "telnetd commands" "$first$rest$last" "$SVC_TELNETD_COMMANDS_HEX"
	case $SVC_TELNETD_STREAM_HEX in
	"$first$rest$last$ptext" | "$first$rest$ptext$last") rs_pass ;;
	*) rs_nok "telnetd stream: $SVC_TELNETD_STREAM_HEX" ;;
	esac
	eq "telnetd negotiation" "WILL:37 WILL:38 DO:24 DO:32 DO:35 DO:39 DO:36 WILL:3 DO:1 DO:34 DO:31 WILL:5 DO:33 WILL:1 DO:6 DO:0 WILL:3 WILL:1" \
		"$SVC_TELNETD_NEGOTIATION"
	eq "telnetd WILL options" "1 3 5 37 38" "$SVC_TELNETD_WILL"
	eq "telnetd DO options" "0 1 6 24 31 32 33 34 35 36 39" "$SVC_TELNETD_DO"
	;;
*) rs_say "note: inetutils-telnetd $SVC_TELNETD_VERSION_PKG is not 2.4: exact bytes not checked" ;;
esac
eq "telnetd text" "$prompt" "$SVC_TELNETD_TEXT"
svc_telnet_refusing "$A" 2323 "$RS_TMP/telnet-again"
again=$(. "$RS_TMP/telnet-again" &&
	printf '%s|%s|%s' "$SVC_TELNET_FIRST_HEX" "$SVC_TELNET_COMMANDS_HEX" "$SVC_TELNET_TEXT")
eq "telnetd second connection (first flight|commands|text)" \
	"$SVC_TELNETD_FIRST_HEX|$SVC_TELNETD_COMMANDS_HEX|$SVC_TELNETD_TEXT" "$again"
eq "telnetd to a silent client: the first flight only" "$SVC_TELNETD_FIRST_HEX" "$(python3 - "$A" <<'EOF'
import socket, sys, time
s = socket.create_connection((sys.argv[1], 2323), timeout=5)
buf, end = s.recv(4096), time.monotonic() + 1.5
while time.monotonic() < end:
    s.settimeout(max(0.01, end - time.monotonic()))
    try:
        d = s.recv(4096)
    except socket.timeout:
        break
    if not d:
        break
    buf += d
print(buf.hex())
EOF
)"

# 3. HTTP.
eq "http Server header vs python3" "$SVC_HTTP_SERVER_PKG" "$SVC_HTTP_SERVER"
eq "http urllib" "200 $SVC_HTTP_SERVER" "$(python3 -c '
import sys, urllib.request
r = urllib.request.urlopen("http://%s:8080/" % sys.argv[1], timeout=5)
print(r.status, r.headers["Server"])' "$A")"
eq "http status line" "HTTP/1.0 200 OK" "$SVC_HTTP_STATUS"
eq "http title" "ringscan svcworld" "$SVC_HTTP_TITLE"

# 4. TLS.
eq "tls certificate sent vs file" "$SVC_TLS_SHA256_FILE" "$SVC_TLS_SHA256"
eq "tls CN" ringscan-test "$SVC_TLS_CN"
eq "tls answer" "HTTP/1.0 200 ok" "$SVC_TLS_STATUS"
if timeout 10 openssl s_client -connect "$A:8443" </dev/null >"$RS_TMP/s_client.out" 2>&1; then
	rs_pass
	eq "s_client certificate" "$SVC_TLS_SHA256_FILE" "$(openssl x509 -in "$RS_TMP/s_client.out" \
		-noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f')"
	eq "s_client protocol and cipher" "New, $SVC_TLS_VERSION, Cipher is $SVC_TLS_CIPHER" \
		"$(grep -m1 '^New, ' "$RS_TMP/s_client.out")"
	eq "s_client subject" "subject=CN = ringscan-test" "$(grep -m1 '^subject=' "$RS_TMP/s_client.out")"
else
	rs_nok "openssl s_client -connect $A:8443 failed: $(tail -3 "$RS_TMP/s_client.out")"
fi
# s_server serves one connection at a time: a handshake waits while an idle
# client holds the server, and completes once that client closes.
eq "tls handshake behind an idle client" "waited done" "$(python3 - "$A" <<'EOF'
import socket, ssl, sys, time
idle = socket.create_connection((sys.argv[1], 8443), timeout=5)
time.sleep(0.2)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
s = socket.create_connection((sys.argv[1], 8443), timeout=1)
try:
    w = ctx.wrap_socket(s)
    print("no-wait", end=" ")
except socket.timeout:
    print("waited", end=" ")
s.close()
idle.close()
s = socket.create_connection((sys.argv[1], 8443), timeout=5)
ctx.wrap_socket(s)
print("done")
EOF
)"

# 5. Stop; nothing left, not even the login of a telnet session still open
# (a client that refuses every option and then waits).
python3 - "$A" <<'EOF' &
import socket, sys, time
s = socket.create_connection((sys.argv[1], 2323), timeout=5)
end = time.monotonic() + 30
while time.monotonic() < end:
    d = s.recv(4096)
    if not d:
        break
    r = b""
    for i in range(len(d) - 2):
        if d[i] == 255 and d[i + 1] in (251, 253):
            r += bytes([255, 254 if d[i + 1] == 251 else 252, d[i + 2]])
    s.sendall(r)
EOF
holder=$!
left=''
for _ in $(seq 50); do
	left=$(svc_leftovers)
	grep -qw login <<<"$left" && break
	sleep 0.1
done
eq "daemon processes seen before svc_down" "dropbear login openssl python3 socat sshd telnetd" \
	"$(awk '$2 ~ /^(dropbear|login|openssl|python3|socat|sshd|telnetd)$/ { print $2 }' <<<"$left" |
		sort -u | paste -sd' ')"
pids=("${SVC_PIDS[@]}")
svc_down
kill "$holder" 2>/dev/null || true
wait "$holder" 2>/dev/null || true
eq "processes left after svc_down" "" "$(svc_leftovers)"
for p in "${pids[@]}"; do
	eq "wrapper $p gone" "" "$(svc__alive "$p")"
done
eq "ports still listening" "" "$(ss -Hltn | awk '{ print $4 }' | grep -E ':(2222|2223|2323|8080|8443)$' || true)"
rs_summary test_svcworld
