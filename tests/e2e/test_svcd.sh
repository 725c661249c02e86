#!/usr/bin/env bash
# test_svcd: the service world's server (tests/tools/svcd.c) plays each of
# its modes exactly, since ringscan's service stage is judged against it:
# banner bytes (NUL, invalid UTF-8, escapes) exactly and the connection
# held; %p over a range (from a spec file) and over 2,000 ports, each its
# own banner; banner-close and close end in a FIN (EOF, not a reset), close
# without a byte; silent says nothing; slow one byte a second, cycling;
# flood more than 1 MB, the documented buffer repeated exactly; reply only
# after the peer spoke, and once; "::" serves both families. Its counters
# at exit are exact for a known set of connections; bad SPECs exit 2, a
# port in use 1. Clients are python3 sockets to 127.0.0.1 / ::1 only.
# engine-independent: a test tool's test; the scanner never runs.
# Usage: test_svcd.sh BUILD_DIR
set -eu
. "$(dirname "$0")/lib.sh"
ns_reexec 60 "$0" "$@"
need_tools
SVCD=$RS_TOOLS/svcd
command -v python3 >/dev/null || rs_skip "python3 not found"
net_up
T=$RS_TMP

# --- Bad usage: exit 2 and a message naming the problem; a busy port: 1.
bad() {
	local rc=0 want=$1
	shift
	"$SVCD" --ready "$T/bad.ready" "$@" >/dev/null 2>"$T/bad.err" || rc=$?
	[ $rc = 2 ] || rs_fail "svcd $*: exit $rc, want 2"
	grep -q -- "$want" "$T/bad.err" || { cat "$T/bad.err" >&2; rs_fail "svcd $*: no '$want'"; }
	[ ! -e "$T/bad.ready" ] || rs_fail "svcd $*: wrote its ready file"
}
bad "unknown mode" --bind 127.0.0.1 7000=echo
bad "needs :TEXT" --bind 127.0.0.1 7000=banner
bad "takes no TEXT" --bind 127.0.0.1 7000=silent:x
bad "empty TEXT" --bind 127.0.0.1 7000=slow:
bad "bad escape" --bind 127.0.0.1 '7000=banner:a\q'
bad "bad escape" --bind 127.0.0.1 '7000=banner:a\x4'
bad "ascending" --bind 127.0.0.1 7001-7000=silent
bad "PORT" --bind 127.0.0.1 0=silent
bad "PORT" --bind 127.0.0.1 65536=silent
bad "in two SPECs" --bind 127.0.0.1 7000-7005=silent 7005=close
bad "longer than 16384" --bind 127.0.0.1 "7000=banner:$(head -c 16385 /dev/zero | tr '\0' x)"
bad "no SPEC" --bind 127.0.0.1
rc=0
"$SVCD" 7000=silent 2>"$T/bad.err" || rc=$?
[ $rc = 2 ] && grep -q "ready is required" "$T/bad.err" || rs_fail "svcd without --ready: exit $rc, want 2"
printf '# comment\n\n7000=silent\n7001=bogus\n' >"$T/bad.spec"
bad "bad.spec:4: unknown mode" --bind 127.0.0.1 --spec-file "$T/bad.spec"
bad "not an IPv4 or IPv6 address" --bind 127.0.0.256 7000=silent
rs_say "ok: bad SPECs and options exit 2, naming the problem"

# --- Every mode on 127.0.0.1: A (modes, ranges), then B (exact counters).
cat >"$T/a.spec" <<'EOF'
# svcd spec file: comments and blank lines are skipped

  7100-7109=banner:port %p here\r\n
30000-31999=banner:SVC-%p\r\n
EOF
svcd_up a --bind 127.0.0.1 --spec-file "$T/a.spec" \
	'7001=banner:SSH-2.0-OpenSSH_9.2p1 svcd\r\n' \
	'7002=banner:bin\0\xff\xFE\t\\%%p%%\r\n' \
	'7003=banner-close:220 bye %p\r\n' 7004=silent 7005=close '7006=slow:ab\n' 7007=flood \
	'7008=reply:HTTP/1.0 200 OK\r\n\r\n'
rc=0
timeout 5 "$SVCD" --ready "$T/busy.ready" --bind 127.0.0.1 7004=silent 2>"$T/busy.err" || rc=$?
[ $rc = 1 ] && grep -q "port 7004" "$T/busy.err" || rs_fail "a busy port: exit $rc, want 1 naming it"

cat >"$T/modes.py" <<'EOF'
import os, select, socket, sys, time

H = "127.0.0.1"
fails = 0


def check(ok, what):
    global fails
    print(("ok: " if ok else "FAIL: ") + what, file=sys.stderr)
    fails += 0 if ok else 1


def conn(port, host=H):
    s = socket.create_connection((host, port), timeout=5)
    s.settimeout(None)
    return s


def quiet(s, secs):
    """Nothing arrives (no byte, no EOF, no reset) within secs."""
    return not select.select([s], [], [], secs)[0]


def read_n(s, n, secs=3.0):
    """Up to n bytes within secs; stops early at EOF."""
    buf, end = b"", time.monotonic() + secs
    while len(buf) < n:
        left = end - time.monotonic()
        if left <= 0 or not select.select([s], [], [], left)[0]:
            break
        d = s.recv(n - len(buf))
        if not d:
            break
        buf += d
    return buf


def eof_after(s, want):
    """Reads want then a clean EOF (a FIN: no ECONNRESET) within 3 s."""
    try:
        got = read_n(s, len(want) + 1)
        return got == want and read_n(s, 1, 0.5) == b""
    except ConnectionResetError:
        return False


def rst_close(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
    s.close()


def modes():
    b1 = b"SSH-2.0-OpenSSH_9.2p1 svcd\r\n"
    s = conn(7001)
    check(read_n(s, len(b1)) == b1 and quiet(s, 0.2), "banner: exactly %r" % b1)
    s.sendall(b"SSH-2.0-client\r\n" * 100)
    check(quiet(s, 0.5), "banner: then nothing more, connection held after the peer wrote")
    s.close()
    b2 = b"bin\0\xff\xfe\t\\%p%\r\n"
    s = conn(7002)
    check(read_n(s, len(b2)) == b2 and quiet(s, 0.1), "banner: escapes, NUL, invalid UTF-8, %%%%: %r" % b2)
    rst_close(s)
    ok = True
    for p in range(7100, 7110):
        s = conn(p)
        want = b"port %d here\r\n" % p
        ok = ok and read_n(s, len(want)) == want and quiet(s, 0.05)
        s.close()
    check(ok, "banner range from the spec file: port N here, N = 7100..7109")
    s = conn(7003)
    check(eof_after(s, b"220 bye 7003\r\n"), "banner-close: the text then EOF (FIN)")
    s.close()
    s = conn(7005)
    check(eof_after(s, b""), "close: EOF (FIN) without a byte")
    s.close()
    s = conn(7004)
    check(quiet(s, 1.0), "silent: nothing within 1 s")
    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
    check(quiet(s, 0.3), "silent: still nothing after the peer wrote")
    rst_close(s)


def reply():
    want = b"HTTP/1.0 200 OK\r\n\r\n"
    s = conn(7008)
    check(quiet(s, 0.5), "reply: nothing before the peer speaks")
    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
    check(read_n(s, len(want)) == want, "reply: %r after the peer spoke" % want)
    s.sendall(b"again\r\n")
    check(quiet(s, 0.5), "reply: once only, and the connection held")
    s.close()


def slow():
    s = conn(7006)
    t0, got = time.monotonic(), []
    while time.monotonic() - t0 < 3.5:
        if select.select([s], [], [], max(0, 3.5 - (time.monotonic() - t0)))[0]:
            d = s.recv(16)
            if not d:
                break
            got += [(time.monotonic() - t0, bytes([c])) for c in d]
    rst_close(s)
    data = b"".join(c for _, c in got)
    gaps = [round(b[0] - a[0], 2) for a, b in zip(got, got[1:])]
    check(data == b"ab\nab\n"[: len(data)] and 3 <= len(data) <= 4,
          "slow: 'ab\\n' cycled, 3-4 bytes in 3.5 s (got %r)" % data)
    check(bool(got) and got[0][0] < 0.5 and all(0.9 <= g <= 1.6 for g in gaps),
          "slow: first byte at once, then one a second (at %s s)" % [round(t, 2) for t, _ in got])


def flood():
    buf, x = bytearray(65536), 0x9E3779B9
    for i in range(65536):
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        buf[i] = x >> 24
    s = conn(7007)
    t0 = time.monotonic()
    got = read_n(s, 4 << 20, 5.0)
    secs = time.monotonic() - t0
    rst_close(s)
    check(len(got) == 4 << 20 and secs < 3, "flood: 4 MiB in %.2f s (> 1 MB quickly)" % secs)
    check(got == bytes(buf) * 64, "flood: the documented 64 KiB buffer, repeated exactly")


def many(lo, hi, batch=500, secs=20):
    """Each port of lo..hi answers b"SVC-<port>\r\n" (batches of 500
    non-blocking sockets, RST close, bounded in time)."""
    t0, good, bad = time.monotonic(), 0, []
    for first in range(lo, hi + 1, batch):
        socks = {}
        for p in range(first, min(first + batch, hi + 1)):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex((H, p))
            socks[s] = [p, b""]
        while socks and time.monotonic() - t0 < secs:
            for s in select.select(list(socks), [], [], 1.0)[0]:
                p, b = socks[s]
                try:
                    d = s.recv(64)
                except BlockingIOError:
                    continue
                want = b"SVC-%d\r\n" % p
                socks[s][1] = b = b + d
                if d and len(b) < len(want):
                    continue
                if b == want:
                    good += 1
                else:
                    bad.append((p, b))
                rst_close(s)
                del socks[s]
        bad += [(p, b"(timeout) " + b) for p, b in socks.values()]
        for s in socks:
            s.close()
    n = hi - lo + 1
    check(good == n and not bad, "%d ports %d-%d: %d own %%p banners in %.1f s%s" % (
        n, lo, hi, good, time.monotonic() - t0, (", wrong: %r" % bad[:3]) if bad else ""))


for f in (modes, reply, slow, flood):
    f()
many(30000, 31999)
sys.exit(1 if fails else 0)
EOF
python3 "$T/modes.py" || rs_fail "svcd modes (above)"
svcd_down a
# Every connection above: 1+1+10+1+1+1 (modes) + 1 (reply) + 1 (slow) +
# 1 (flood) + 2000 (many) = 2018, all gone by now.
stats=$(cat "$T/a.stats")
case $stats in
"accepted=2018 sent="*" received="*" open=0 resets="*" dropped=0") ;;
*) rs_fail "svcd a stats: $stats; want accepted=2018 ... open=0 ... dropped=0" ;;
esac
rs_say "ok: svcd a at exit: $stats"

# --- B: a known set of connections and exact counters at exit, some held.
svcd_up b --bind 127.0.0.1 '7201=banner:hello %p\r\n' '7202=banner-close:bye\r\n' \
	7203=close '7204=reply:pong\r\n' 7205=silent
cat >"$T/stats.py" <<'EOF'
import os, signal, socket, sys, time

T, pid = sys.argv[1], int(open(sys.argv[2]).read())
H, held = "127.0.0.1", []


def conn(port):
    return socket.create_connection((H, port), timeout=5)


def read_all(s, n):
    buf = b""
    while len(buf) < n:
        d = s.recv(n - len(buf))
        if not d:
            break
        buf += d
    return buf


for _ in range(3):  # banner, read in full, closed with a FIN
    s = conn(7201)
    assert read_all(s, 12) == b"hello 7201\r\n"
    s.close()
for _ in range(2):  # banner-close: svcd closes
    s = conn(7202)
    assert read_all(s, 99) == b"bye\r\n"
    s.close()
for _ in range(2):  # close
    s = conn(7203)
    assert read_all(s, 1) == b""
    s.close()
for _ in range(2):  # reply: 5 bytes in, 6 out
    s = conn(7204)
    s.sendall(b"ping\n")
    assert read_all(s, 6) == b"pong\r\n"
    s.close()
for _ in range(3):  # silent, reset by the peer
    s = conn(7205)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
    s.close()
held = [conn(7205) for _ in range(4)] + [conn(7201)]  # held at exit
assert read_all(held[-1], 12) == b"hello 7201\r\n"
time.sleep(0.5)
os.kill(pid, signal.SIGTERM)
end = time.monotonic() + 5
while not os.path.exists(T + "/b.stats") and time.monotonic() < end:
    time.sleep(0.05)
time.sleep(0.2)
for s in held:
    s.close()
EOF
python3 "$T/stats.py" "$T" "$T/b.ready" || rs_fail "svcd b: a client check failed (above)"
svcd_wait b
# accepted 3+2+2+2+3+5 = 17; sent 4*12 + 2*5 + 2*6 = 70; received 2*5 = 10;
# open 5 (4 silent, 1 banner); resets 3 (the silent ones reset).
want="accepted=17 sent=70 received=10 open=5 resets=3 dropped=0"
got=$(cat "$T/b.stats")
[ "$got" = "$want" ] || rs_fail "svcd b stats: '$got', want '$want'"
grep -qx "svcd: $want" "$T/b.log" || { cat "$T/b.log" >&2; rs_fail "svcd b: no counter line on stderr"; }
rs_say "ok: svcd b at exit, exact: $got"

# --- "::" serves both families (where the namespace has IPv6).
if [ -e /proc/net/if_inet6 ] && grep -q '^0\{31\}1 ' /proc/net/if_inet6; then
	svcd_up c --bind :: '7301=banner:dual %p\r\n'
	python3 - <<'EOF' || rs_fail "svcd --bind :: (above)"
import socket
for host in ("127.0.0.1", "::1"):
    s = socket.create_connection((host, 7301), timeout=5)
    got = s.recv(64)
    assert got == b"dual 7301\r\n", (host, got)
    s.close()
EOF
	svcd_down c
	rs_say "ok: --bind :: answers on 127.0.0.1 and ::1"
else
	rs_say "note: no ::1 in this namespace, the dual-stack check is skipped"
fi
rs_say "test_svcd: all checks passed"
