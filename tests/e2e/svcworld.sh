# shellcheck shell=bash
# Real service daemons for the service-identification tests (issue 12):
# OpenSSH's sshd, dropbear, inetutils' telnetd, Python's http.server and
# openssl s_server, each started inside the test's private network namespace
# on a 127/8 address and port, and asked once, when it starts, what it says:
# that answer is the ground truth a scan must reproduce. Source it after
# lib.sh, inside the namespace (ns_reexec):
#
#   svc_sshd 127.0.0.1 2222        # SVC_SSHD_IDENT, SVC_SSHD_KEX, ...
#   svc_dropbear 127.0.0.1 2223    # SVC_DROPBEAR_*
#   svc_telnetd 127.0.0.1 2323     # SVC_TELNETD_*
#   svc_http 127.0.0.1 8080        # SVC_HTTP_*
#   svc_tls 127.0.0.1 8443         # SVC_TLS_*
#   ... scan ...; compare with $SVC_DIR/truth.env
#   svc_down                       # also run on EXIT
#
# Every variable a svc_* function sets is exported and also appended to
# $SVC_DIR/truth.env (shell assignments). Names ending in _PKG (or _FILE)
# are what the installed package (or the generated key or certificate)
# says the daemon will say, found without connecting; the others are what
# it said when asked. test_svcworld.sh checks that the two agree.
#
# Each daemon runs in namespaces of its own, nested in the test's: a pid
# namespace (where the system allows one; then svc_down kills its first
# process and the kernel kills the rest, so that nothing a daemon forks,
# such as telnetd's login, can outlive it), a mount namespace with private
# tmpfs on /run and /var/log (login and telnetd write utmp and wtmp records;
# as real root they would otherwise land in the host's files), and a UTS
# namespace whose hostname is $SVC_HOSTNAME (it appears in telnetd's login
# prompt). (SVC_NO_PIDNS=1: no pid namespaces, as where the system allows
# none; svc_down then kills each daemon's process tree.) Logs:
# $SVC_DIR/NAME.log. Only 127/8 IPv4 addresses are accepted. The daemons
# listen in the current network namespace (svc_init brings lo up).
#
# A test that sets its own EXIT trap after the first svc_* call must call
# svc_down from it (one set before is kept: svc_down runs first). The
# daemons are disowned: a bare `wait` in the test does not wait for them.

SVC_HOSTNAME=${SVC_HOSTNAME:-ringscan-test}
SVC_DIR='' SVC_WRAP_PIDNS=0 SVC_PID=''
SVC_PIDS=()

# svc_init: make $SVC_DIR ($RS_TMP/svc), write the Python helper there,
# bring lo up, note the processes of this network namespace (svc_leftovers
# reports the others), and install svc_down on EXIT, before whatever EXIT
# trap was already set. Called by the first svc_* function; idempotent.
svc_init() {
	local prev
	[ -z "$SVC_DIR" ] || return 0
	[ "${RS_IN_NS:-}" = 1 ] || rs_fail "svcworld: not inside the test namespace (ns_reexec first)"
	command -v python3 >/dev/null || rs_skip "python3 not found"
	SVC_DIR=$RS_TMP/svc
	mkdir -p "$SVC_DIR"
	: >"$SVC_DIR/truth.env"
	svc__write_helper
	ip link set lo up
	if [ "${SVC_NO_PIDNS:-0}" != 1 ] && unshare -m -u -pf --kill-child true 2>/dev/null; then
		SVC_WRAP_PIDNS=1
	fi
	python3 "$SVC_DIR/svc.py" nsprocs /dev/null >"$SVC_DIR/procs.before"
	prev=$(trap -p EXIT) # trap -- 'CMD' EXIT
	if [ -n "$prev" ]; then
		prev=$(eval "svc__third $prev")
		# shellcheck disable=SC2064 # expanded now, on purpose
		trap "svc_down; $prev" EXIT
	else
		trap svc_down EXIT
	fi
}
svc__third() { printf '%s' "$3"; }

# svc__spawn NAME CMD...: start CMD in the background, in its own pid
# (where possible), mount and UTS namespaces (see the top of this file),
# stdin from /dev/null, stdout and stderr to $SVC_DIR/NAME.log, disowned
# (not a job of the shell's); remember the pid for svc_down. Sets SVC_PID.
svc__spawn() {
	local name=$1
	local -a wrap=(unshare -m -u)
	shift
	[ "$SVC_WRAP_PIDNS" = 1 ] && wrap+=(-pf --kill-child)
	# shellcheck disable=SC2016 # expanded by the inner sh
	"${wrap[@]}" sh -c 'mount -t tmpfs -o mode=0755 svc-run /run &&
		{ [ ! -d /var/log ] || mount -t tmpfs -o mode=0755 svc-log /var/log; } &&
		hostname "$0" && exec "$@"' "$SVC_HOSTNAME" "$@" \
		</dev/null >"$SVC_DIR/$name.log" 2>&1 &
	SVC_PID=$!
	disown "$SVC_PID" # a bare `wait` in the test must not wait for it
	SVC_PIDS+=("$SVC_PID")
}

# svc__check_addr NAME ADDR PORT: fail unless ADDR is a 127/8 IPv4
# address (the safety rule: loopback only), PORT a port number, and
# nothing listens on ADDR:PORT yet (else the daemon could not bind, and
# svc__ask would ask the one already there).
svc__check_addr() {
	local busy
	[[ $2 =~ ^127\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$ ]] ||
		rs_fail "$1: address '$2' is not in 127.0.0.0/8"
	if ! [[ $3 =~ ^[0-9]{1,5}$ ]] || [ "$3" -lt 1 ] || [ "$3" -gt 65535 ]; then
		rs_fail "$1: bad port '$3'"
	fi
	busy=$(ss -Hltn "sport = :$3" | awk -v a="$2" -v p="$3" \
		'$4 == a ":" p || $4 == "0.0.0.0:" p || $4 == "*:" p || $4 == "[::]:" p')
	[ -z "$busy" ] || rs_fail "$1: something already listens on $2:$3: $busy"
}

# svc__ask NAME KIND ADDR PORT PREFIX [ARGS...]: connect to the daemon just
# started (retrying for up to 5 s while it is still alive, so this is also
# the wait for it to accept connections), ask it what it says (svc.py
# KIND), and export the PREFIX_* variables the helper prints, appending
# them to truth.env. Fails the test, showing the daemon's log, if the
# daemon died, never accepted, or answered something unreadable.
svc__ask() {
	local name=$1 kind=$2 addr=$3 port=$4 prefix=$5 out rc=0
	shift 5
	out=$(python3 "$SVC_DIR/svc.py" "$kind" "$addr" "$port" "$prefix" "$SVC_PID" \
		"$SVC_DIR/$name" "$@" 2>"$SVC_DIR/$name.ask.err") || rc=$?
	if [ $rc != 0 ]; then
		rs_say "$name on $addr:$port: $(cat "$SVC_DIR/$name.ask.err")"
		rs_say "--- $SVC_DIR/$name.log:"
		tail -20 "$SVC_DIR/$name.log" >&2
		rs_fail "$name did not start or did not answer"
	fi
	if [ -z "$(svc__alive "$SVC_PID")" ]; then
		tail -20 "$SVC_DIR/$name.log" >&2
		rs_fail "$name exited after answering"
	fi
	svc__record "$out"
	svc__record "$(printf '%s_ADDR=%s\n%s_PORT=%s' "$prefix" "$addr" "$prefix" "$port")"
}

# svc__record LINES: LINES are NAME=VALUE assignments, VALUE quoted for
# bash (one line: other bytes than printable ASCII as $'\xHH'); export
# each and append it to truth.env.
svc__record() {
	local line
	while IFS= read -r line; do
		[ -n "$line" ] || continue
		[[ $line =~ ^SVC_[A-Z0-9_]+= ]] || rs_fail "svcworld: bad assignment '$line'"
		eval "export $line"
		printf '%s\n' "$line" >>"$SVC_DIR/truth.env"
	done <<<"$1"
}

# svc__pkgver PACKAGE: the installed version of a Debian package, or
# nothing (no dpkg, or not installed).
svc__pkgver() {
	dpkg-query -W -f='${Status} ${Version}' "$1" 2>/dev/null |
		sed -n 's/^install ok installed //p'
}

# svc__need NAME BINARY...: skip the test (77) if a daemon's program is
# missing (its package is not installed).
svc__need() {
	local name=$1 b
	shift
	for b in "$@"; do
		[ -x "$b" ] || command -v "$b" >/dev/null ||
			rs_skip "$name: $b not found (scripts/deps.sh test installs it)"
	done
}

# svc_sshd ADDR PORT: OpenSSH's sshd on ADDR:PORT with fresh ed25519 and
# RSA host keys (RSA of 1,024 bits: quick to make, OpenSSH 9's minimum).
# It runs as uid 65534 in a user namespace nested in the test's: as
# (namespace) root, its privilege separation chroots to /run/sshd and
# calls setgroups(), which a user namespace made by `unshare -r` refuses
# ("setgroups: Operation not permitted [preauth]"), so every connection
# ended right after the identification line, before KEXINIT; as an
# ordinary user sshd skips the chroot and runs the whole key exchange.
# Sets SVC_SSHD_IDENT (the identification line without CR LF), _PROTO,
# _SOFTWARE, _COMMENT (its parts, RFC 4253 4.2), the KEXINIT name-lists
# _KEX, _HOSTKEY, _CIPHERS_C2S, _CIPHERS_S2C, _MACS_C2S, _MACS_S2C,
# _COMP_C2S, _COMP_S2C; _IDENT_PKG, _SOFTWARE_PKG, _COMMENT_PKG (what
# the openssh-server package's version says: SSH-2.0-OpenSSH_UPSTREAM
# VENDOR-DEBIANREVISION, VENDOR from /etc/os-release); _KEYS (the host
# public key files); _CONFIG. Password and keyboard-interactive logins
# are off; MaxStartups is raised so that sshd never drops connections at
# random (its default 10:30:100 does past 10 pending).
svc_sshd() {
	local addr=$1 port=$2 d ver vendor
	svc__need sshd /usr/sbin/sshd ssh-keygen
	svc__check_addr sshd "$addr" "$port"
	svc_init
	d=$SVC_DIR/sshd
	mkdir -p "$d"
	if ! ssh-keygen -q -t ed25519 -N '' -C svcworld -f "$d/host_ed25519" ||
		! ssh-keygen -q -t rsa -b 1024 -N '' -C svcworld -f "$d/host_rsa"; then
		rs_fail "sshd: ssh-keygen failed"
	fi
	cat >"$d/sshd_config" <<EOF
ListenAddress $addr:$port
HostKey $d/host_ed25519
HostKey $d/host_rsa
PidFile $d/sshd.pid
UsePAM no
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile none
MaxStartups 1000
LogLevel VERBOSE
EOF
	svc__spawn sshd unshare -U --map-user=65534 --map-group=65534 \
		/usr/sbin/sshd -D -e -f "$d/sshd_config"
	svc__ask sshd ssh "$addr" "$port" SVC_SSHD
	ver=$(svc__pkgver openssh-server)
	if [ -n "$ver" ]; then
		ver=${ver#*:}
		vendor=$(. /etc/os-release 2>/dev/null && echo "${ID:-debian}")
		vendor=${vendor^}
		svc__record "SVC_SSHD_IDENT_PKG='SSH-2.0-OpenSSH_${ver%-*} $vendor-${ver##*-}'
SVC_SSHD_SOFTWARE_PKG='OpenSSH_${ver%-*}'
SVC_SSHD_COMMENT_PKG='$vendor-${ver##*-}'"
	fi
	svc__record "SVC_SSHD_KEYS='$d/host_ed25519.pub $d/host_rsa.pub'
SVC_SSHD_CONFIG='$d/sshd_config'"
}

# svc_dropbear ADDR PORT: dropbear on ADDR:PORT with fresh ed25519 and RSA
# (1,024 bits) host keys, password logins and forwarding off. It runs as
# namespace root (it drops no privileges before authentication). Note:
# dropbear 2022.83 lists rsa-sha2-256 and ssh-rsa in KEXINIT even when it
# has no RSA key (a client that picks them then makes it fail an
# assertion); with both keys its list is true. Sets the same
# SVC_DROPBEAR_* fields as svc_sshd; _IDENT_PKG is
# SSH-2.0-dropbear_UPSTREAM from the dropbear-bin package; _KEYS holds the
# host public keys in OpenSSH format (dropbearkey -y).
svc_dropbear() {
	local addr=$1 port=$2 d t ver
	svc__need dropbear /usr/sbin/dropbear dropbearkey
	svc__check_addr dropbear "$addr" "$port"
	svc_init
	d=$SVC_DIR/dropbear
	mkdir -p "$d"
	# RSA: ssh-keygen, converted (dropbearkey takes up to 2 s for one).
	(dropbearkey -t ed25519 -f "$d/host_ed25519" &&
		ssh-keygen -q -t rsa -b 1024 -m PEM -N '' -f "$d/rsa.pem" &&
		dropbearconvert openssh dropbear "$d/rsa.pem" "$d/host_rsa" &&
		for t in ed25519 rsa; do
			dropbearkey -y -f "$d/host_$t" | grep '^ssh-' >"$d/host_$t.pub" || exit 1
		done) >"$d/keygen.log" 2>&1 ||
		rs_fail "dropbear: making host keys failed: $(cat "$d/keygen.log")"
	svc__spawn dropbear /usr/sbin/dropbear -F -E -s -j -k -p "$addr:$port" \
		-r "$d/host_ed25519" -r "$d/host_rsa" -P "$d/dropbear.pid"
	svc__ask dropbear ssh "$addr" "$port" SVC_DROPBEAR
	ver=$(svc__pkgver dropbear-bin)
	if [ -n "$ver" ]; then
		ver=${ver#*:}
		svc__record "SVC_DROPBEAR_IDENT_PKG='SSH-2.0-dropbear_${ver%-*}'
SVC_DROPBEAR_SOFTWARE_PKG='dropbear_${ver%-*}'
SVC_DROPBEAR_COMMENT_PKG=''"
	fi
	svc__record "SVC_DROPBEAR_KEYS='$d/host_ed25519.pub $d/host_rsa.pub'"
}

# svc_telnetd ADDR PORT: inetutils' telnetd, one per connection, started
# by socat as inetd would: `socat TCP-LISTEN:PORT,fork EXEC:telnetd,nofork`
# (nofork: the accepted TCP socket itself is telnetd's stdin and stdout,
# as with inetd; without it telnetd gets a socketpair and works too, but
# names the peer wrongly). telnetd -h: no "Linux RELEASE (PEER) (pts/N)"
# line before the login prompt (it would depend on the kernel, the
# resolver and the pty number). telnetd runs /bin/login on a pty; login
# runs as namespace root and prints "$SVC_HOSTNAME login: ", then waits 60
# s for a name. Sets, for a client that refuses every option (DO -> WONT,
# WILL -> DONT): SVC_TELNETD_FIRST_HEX (what the server sends before the
# client says anything: it then waits for the answers, forever),
# _COMMANDS_HEX (every telnet command it sends, in order), _NEGOTIATION
# (the same as "WILL:37 WILL:38 DO:24 ..."), _WILL and _DO (the option
# numbers offered with WILL and asked for with DO, sorted, once each),
# _OPTIONS ("NUMBER:NAME ..." in order of first appearance, names as
# arpa/telnet.h's TELOPT_ macros), _TEXT (the bytes that are not telnet
# commands: the prompt), _STREAM_HEX (all it sent, up to 0.5 s after the
# prompt); raw bytes in $SVC_DIR/telnetd.first and telnetd.stream;
# _VERSION_PKG (the inetutils-telnetd package version). All are the same
# on every connection except _STREAM_HEX: telnetd's last two commands
# (WILL SGA, WILL ECHO, its answer to login setting up the terminal) come
# before the prompt or, about one time in 13 on a loaded machine, after it.
svc_telnetd() {
	local addr=$1 port=$2
	svc__need telnetd /usr/sbin/telnetd socat /bin/login
	svc__check_addr telnetd "$addr" "$port"
	svc_init
	svc__spawn telnetd socat "TCP-LISTEN:$port,bind=$addr,reuseaddr,fork" \
		"EXEC:/usr/sbin/telnetd -h,nofork"
	svc__ask telnetd telnet "$addr" "$port" SVC_TELNETD
	svc__record "SVC_TELNETD_VERSION_PKG='$(svc__pkgver inetutils-telnetd)'"
}

# svc_http ADDR PORT: `python3 -m http.server` on ADDR:PORT serving a
# scratch directory with one index.html (title "ringscan svcworld"). It
# says nothing until asked. Sets SVC_HTTP_STATUS and SVC_HTTP_SERVER (the
# status line and Server header it answers "GET / HTTP/1.0" with),
# SVC_HTTP_TITLE; SVC_HTTP_SERVER_PKG (the Server header the same python3
# says it sends: SimpleHTTP/0.6 Python/X.Y.Z).
svc_http() {
	local addr=$1 port=$2 d
	svc__check_addr http "$addr" "$port"
	svc_init
	d=$SVC_DIR/http
	mkdir -p "$d/www"
	printf '<html><head><title>ringscan svcworld</title></head><body>ringscan svcworld</body></html>\n' \
		>"$d/www/index.html"
	svc__spawn http python3 -m http.server --bind "$addr" --directory "$d/www" "$port"
	svc__ask http http "$addr" "$port" SVC_HTTP
	svc__record "SVC_HTTP_SERVER_PKG='$(python3 -c 'import http.server as h
r = h.SimpleHTTPRequestHandler
print(r.server_version + " " + r.sys_version)')'"
}

# svc_tls ADDR PORT: `openssl s_server -WWW` on ADDR:PORT with a fresh
# self-signed P-256 certificate for CN=ringscan-test, serving files from a
# scratch directory (GET /index.html -> "HTTP/1.0 200 ok", the file; GET /
# or any missing file -> "HTTP/1.0 200 ok" too, then an error text that
# holds a hex thread id, different on every run). It says nothing until
# the client's hello (in the default mode, without -WWW, s_server would
# read stdin, and at its end, /dev/null's, stop serving). s_server serves one connection at
# a time: a second one is accepted by the kernel but its handshake waits
# until the first connection closes (a client that connects and says
# nothing holds the server until it closes). Sets SVC_TLS_VERSION and
# SVC_TLS_CIPHER (as negotiated with Python's default client context),
# SVC_TLS_SHA256 (of the certificate it sent, DER, lowercase hex), _CN,
# _STATUS (its answer's status line); SVC_TLS_SHA256_FILE (of the
# certificate file); SVC_TLS_CERT (its path).
svc_tls() {
	local addr=$1 port=$2 d fp
	svc__need tls openssl
	svc__check_addr tls "$addr" "$port"
	svc_init
	d=$SVC_DIR/tls
	mkdir -p "$d/www"
	printf 'ringscan svcworld\n' >"$d/www/index.html"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-subj /CN=ringscan-test -days 2 -keyout "$d/key.pem" -out "$d/cert.pem" \
		>"$d/req.log" 2>&1 || rs_fail "tls: openssl req failed: $(cat "$d/req.log")"
	fp=$(openssl x509 -in "$d/cert.pem" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g')
	# shellcheck disable=SC2016 # expanded by that sh
	svc__spawn tls sh -c 'cd "$1" && exec openssl s_server -accept "$2" -cert "$3" -key "$4" -WWW' \
		s_server "$d/www" "$addr:$port" "$d/cert.pem" "$d/key.pem"
	svc__ask tls tls "$addr" "$port" SVC_TLS
	svc__record "SVC_TLS_SHA256_FILE='${fp,,}'
SVC_TLS_CERT='$d/cert.pem'"
}

# svc__tree PID: PID and all its descendants, one per line.
svc__tree() {
	local p c
	for p in "$@"; do
		echo "$p"
		# shellcheck disable=SC2013 # pids, one word each
		for c in $(cat "/proc/$p/task/"*/children 2>/dev/null); do
			svc__tree "$c"
		done
	done
}

# svc__alive PID...: those of PIDs that still run (zombies aside).
svc__alive() {
	local p st
	for p in "$@"; do
		st=$(cat "/proc/$p/stat" 2>/dev/null) || continue
		st=${st##*) }
		[ "${st%% *}" = Z ] || echo "$p"
	done
}

# svc_down: stop every daemon started, and wait (up to 5 s) until none of
# their processes is left. With pid namespaces, SIGKILL to each wrapper
# (unshare) makes the kernel kill the daemon (its child, --kill-child) and
# then everything in its namespace; without, SIGKILL goes to each daemon's
# whole process tree. The daemons get no chance to clean up: nothing of
# theirs lives outside $SVC_DIR and their private /run and /var/log.
# Idempotent; always status 0 (it runs from the EXIT trap).
svc_down() {
	local -a tree=()
	[ ${#SVC_PIDS[@]} -gt 0 ] || return 0
	mapfile -t tree < <(svc__tree "${SVC_PIDS[@]}")
	if [ "$SVC_WRAP_PIDNS" = 1 ]; then
		kill -KILL "${SVC_PIDS[@]}" 2>/dev/null || true
	else
		kill -KILL "${tree[@]}" 2>/dev/null || true
	fi
	SVC_PIDS=()
	for _ in $(seq 1 50); do
		[ -z "$(svc__alive "${tree[@]}")" ] && return 0
		sleep 0.1
	done
	rs_say "svcworld: daemon processes still running after svc_down: $(svc__alive "${tree[@]}" | tr '\n' ' ')"
	return 0
}

# svc_leftovers: "PID COMMAND" lines for the processes of this network
# namespace that were not there when svc_init ran, other than the callers
# of this function: nothing once svc_down is done (unless the test started
# processes of its own after the daemons).
svc_leftovers() {
	[ -n "$SVC_DIR" ] || return 0
	python3 "$SVC_DIR/svc.py" nsprocs "$SVC_DIR/procs.before"
}

# svc_telnet_refusing ADDR PORT OUT: connect to a telnet server as
# svc_telnetd did (refusing every option) and write the same SVC_TELNET_*
# assignments to OUT: a second look, for tests of determinism.
svc_telnet_refusing() {
	python3 "$SVC_DIR/svc.py" telnet "$1" "$2" SVC_TELNET 0 "$RS_TMP/svc-telnet-again" >"$3"
}

# svc__write_helper: the Python client svc__ask runs ($SVC_DIR/svc.py).
svc__write_helper() {
	cat >"$SVC_DIR/svc.py" <<'PY'
# svc.py KIND ADDR PORT PREFIX PID RAWBASE: connect to a daemon, ask what it
# says, print PREFIX_FIELD=VALUE lines (VALUE shell-quoted). PID: the
# daemon's (wrapper's) pid, which must stay alive while we wait for it to
# accept (0: do not check). RAWBASE: prefix for raw byte files.
# svc.py nsprocs BEFORE: "PID COMM" of the processes in this network
# namespace that are not in the file BEFORE (such lines) nor our ancestors.
import os, shlex, socket, ssl, struct, sys, time

DEADLINE = time.monotonic() + 10

def die(msg):
    print(msg, file=sys.stderr)
    sys.exit(1)

def connect(addr, port, pid):
    # Retry for up to 5 s while the daemon is alive and not yet listening.
    end = time.monotonic() + 5
    while True:
        s = socket.socket()
        s.settimeout(5)
        try:
            s.connect((addr, port))
            return s
        except (ConnectionRefusedError, socket.timeout) as e:
            s.close()
            if pid:
                try:
                    os.kill(pid, 0)
                    if open("/proc/%d/stat" % pid).read().split(") ")[1][0] == "Z":
                        raise ProcessLookupError
                except (ProcessLookupError, FileNotFoundError):
                    die("the daemon exited before accepting a connection")
            if time.monotonic() > end:
                die("no connection accepted within 5 s (%s)" % e)
            time.sleep(0.05)

def recv_some(s, timeout):
    s.settimeout(max(0.01, min(timeout, DEADLINE - time.monotonic())))
    try:
        return s.recv(65536)
    except socket.timeout:
        return None

def quote(v):
    # For bash, on one line: shlex.quote, or $'...' with \xHH escapes.
    if all(32 <= ord(c) < 127 for c in v):
        return shlex.quote(v)
    return "$'" + "".join(c if 32 <= ord(c) < 127 and c not in "'\\" else
                          "\\x%02x" % ord(c) for c in v) + "'"

def out(prefix, **kv):
    for k, v in kv.items():
        print("%s_%s=%s" % (prefix, k, quote(str(v))))

def ssh(s, prefix, raw):
    buf = b""
    while True:  # lines before the identification are allowed (RFC 4253 4.2)
        while b"\n" not in buf:
            d = recv_some(s, 5)
            if not d:
                die("no identification line (got %r)" % buf[:300])
            buf += d
        line, buf = buf.split(b"\n", 1)
        if line.startswith(b"SSH-"):
            break
    ident = line.rstrip(b"\r").decode()
    s.sendall(b"SSH-2.0-ringscan_svcworld\r\n")
    while len(buf) < 5 or len(buf) < 4 + struct.unpack(">I", buf[:4])[0]:
        d = recv_some(s, 5)
        if not d:
            die("no KEXINIT after %r (got %d bytes)" % (ident, len(buf)))
        buf += d
    n, pad = struct.unpack(">IB", buf[:5])
    p = buf[5:4 + n - pad]
    if p[0] != 20:
        die("first packet is type %d, not KEXINIT" % p[0])
    i, lists = 17, []
    for _ in range(10):
        (ln,) = struct.unpack(">I", p[i:i + 4])
        lists.append(p[i + 4:i + 4 + ln].decode())
        i += 4 + ln
    proto, _, rest = ident[4:].partition("-")
    software, _, comment = rest.partition(" ")
    out(prefix, IDENT=ident, PROTO=proto, SOFTWARE=software, COMMENT=comment,
        KEX=lists[0], HOSTKEY=lists[1], CIPHERS_C2S=lists[2], CIPHERS_S2C=lists[3],
        MACS_C2S=lists[4], MACS_S2C=lists[5], COMP_C2S=lists[6], COMP_S2C=lists[7])

IAC, DONT, DO, WONT, WILL, SB, SE = 255, 254, 253, 252, 251, 250, 240
CMDS = {WILL: "WILL", WONT: "WONT", DO: "DO", DONT: "DONT"}
TELOPT = ["BINARY", "ECHO", "RCP", "SGA", "NAMS", "STATUS", "TM", "RCTE", "NAOL",
          "NAOP", "NAOCRD", "NAOHTS", "NAOHTD", "NAOFFD", "NAOVTS", "NAOVTD", "NAOLFD",
          "XASCII", "LOGOUT", "BM", "DET", "SUPDUP", "SUPDUPOUTPUT", "SNDLOC", "TTYPE",
          "EOR", "TUID", "OUTMRK", "TTYLOC", "3270REGIME", "X3PAD", "NAWS", "TSPEED",
          "LFLOW", "LINEMODE", "XDISPLOC", "OLD_ENVIRON", "AUTHENTICATION", "ENCRYPT",
          "NEW_ENVIRON"]

def parse_telnet(buf, neg):
    # Split BUF into text and telnet commands (appended to NEG as (CMD,
    # OPT)); return (text, the commands' bytes, the reply refusing every
    # option, the unparsed tail: a command cut by the end of BUF).
    text, cmds, reply, i = b"", b"", b"", 0
    while i < len(buf):
        i0 = i
        c = buf[i]
        if c != IAC:
            text += bytes([c])
            i += 1
            continue
        if i + 1 >= len(buf):
            break
        cmd = buf[i + 1]
        if cmd in CMDS:
            if i + 2 >= len(buf):
                break
            opt = buf[i + 2]
            neg.append((CMDS[cmd], opt))
            if cmd == DO:
                reply += bytes([IAC, WONT, opt])
            elif cmd == WILL:
                reply += bytes([IAC, DONT, opt])
            i += 3
        elif cmd == SB:
            j = buf.find(bytes([IAC, SE]), i)
            if j < 0 or j < i + 3:
                break
            neg.append(("SB", buf[i + 2]))
            i = j + 2
        elif cmd == IAC:
            text += b"\xff"
            i += 2
            continue
        else:  # NOP, GA, ...
            i += 2
        cmds += buf[i0:i]
    return text, cmds, reply, buf[i:]

def telnet(s, prefix, raw):
    # The first flight: what the server sends before hearing from us (it
    # then waits for our answers): its first bytes (within 5 s), then
    # until 0.5 s of silence.
    first = recv_some(s, 5)
    if not first:
        die("the server sent nothing within 5 s")
    while True:
        d = recv_some(s, 0.5)
        if not d:
            break
        first += d
    # Then refuse everything, until text came and 0.5 s passed without a
    # byte (or the server closed, or 10 s passed).
    stream, tail, text, cmds, neg, d = first, b"", b"", b"", [], first
    while d and time.monotonic() < DEADLINE:
        t, c, reply, tail = parse_telnet(tail + d, neg)
        text += t
        cmds += c
        if reply:
            s.sendall(reply)
        d = recv_some(s, 0.5)
        while d is None and not text and time.monotonic() < DEADLINE:
            d = recv_some(s, 0.5)
        stream += d or b""
    with open(raw + ".first", "wb") as f:
        f.write(first)
    with open(raw + ".stream", "wb") as f:
        f.write(stream)
    seen, opts = set(), []
    for _, o in neg:
        if o not in seen:
            seen.add(o)
            opts.append("%d:%s" % (o, TELOPT[o] if o < len(TELOPT) else "?"))
    out(prefix, FIRST_HEX=first.hex(), STREAM_HEX=stream.hex(), COMMANDS_HEX=cmds.hex(),
        NEGOTIATION=" ".join("%s:%d" % c for c in neg),
        WILL=" ".join(str(o) for o in sorted({o for c, o in neg if c == "WILL"})),
        DO=" ".join(str(o) for o in sorted({o for c, o in neg if c == "DO"})),
        OPTIONS=" ".join(opts), TEXT=text.decode("latin-1"))

def read_all(s):
    buf = b""
    while True:
        d = recv_some(s, 5)
        if not d:
            return buf
        buf += d

def http(s, prefix, raw):
    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
    resp = read_all(s)
    head, _, body = resp.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    server = [l.split(":", 1)[1].strip() for l in lines[1:] if l.lower().startswith("server:")]
    title = body.decode("latin-1").partition("<title>")[2].partition("</title>")[0]
    out(prefix, STATUS=lines[0], SERVER=server[0] if server else "", TITLE=title)

def tls(s, prefix, raw):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    w = ctx.wrap_socket(s)
    der = w.getpeercert(binary_form=True)
    import hashlib
    cn = ""
    try:  # the subject's CN, from the DER: good enough for our own cert
        k = der.index(bytes.fromhex("0603550403"))
        n = der[k + 6]
        cn = der[k + 7:k + 7 + n].decode()
    except ValueError:
        pass
    version, cipher = w.version(), w.cipher()[0]
    w.sendall(b"GET /index.html HTTP/1.0\r\n\r\n")
    resp = b""
    while True:
        try:
            d = w.recv(65536)
        except (ssl.SSLError, OSError):
            break
        if not d:
            break
        resp += d
    out(prefix, VERSION=version, CIPHER=cipher, SHA256=hashlib.sha256(der).hexdigest(),
        CN=cn, STATUS=resp.split(b"\r\n", 1)[0].decode("latin-1"))

def nsprocs(before):
    # Processes in our network namespace, less those listed in BEFORE and
    # our own ancestors (the shells that run us), zombies aside.
    known = {l.split()[0] for l in open(before) if l.strip()}
    me, p = os.readlink("/proc/self/ns/net"), os.getpid()
    while p > 1:
        known.add(str(p))
        try:
            p = int(open("/proc/%d/stat" % p).read().rsplit(") ", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            break
    for p in sorted(os.listdir("/proc"), key=lambda x: int(x) if x.isdigit() else 0):
        if not p.isdigit() or p in known:
            continue
        try:
            if os.readlink("/proc/%s/ns/net" % p) != me:
                continue
            comm = open("/proc/%s/comm" % p).read().strip()
            state = open("/proc/%s/stat" % p).read().rsplit(") ", 1)[1][0]
        except OSError:
            continue
        if state != "Z":
            print(p, comm)

if sys.argv[1] == "nsprocs":
    nsprocs(sys.argv[2])
    sys.exit(0)
kind, addr, port, prefix, pid, raw = sys.argv[1:7]
sock = connect(addr, int(port), int(pid))
{"ssh": ssh, "telnet": telnet, "http": http, "tls": tls}[kind](sock, prefix, raw)
PY
}
