"""check_ports: arbitrary (host, port) pairs on ringscan's TARGETS x PORTS.

ringscan scans a cross product: every target on every port of -p. A list
of pairs is not one, so it is cut into cross products that hold exactly
the pairs asked for, never one more (no connection the caller did not
ask for is ever made): either one run per port (the hosts asked on that
port), or one run per set of ports (the hosts asked on exactly that set;
"every host on 22 and 23" is one run), whichever needs fewer runs. The
runs go one after the other, each streaming its answers.

Hosts are resolved here as socket.create_connection does
(getaddrinfo(host, port, 0, SOCK_STREAM)), and a host is open on a port
if any of its addresses is, so the answers are those of the classic
create_connection pool: a name that does not resolve is not open, and
is answered at once. Addresses are written as ringscan writes them
(inet_ntop; IPv4-mapped IPv6 as IPv4), so its answers map back exactly.
"""
import collections
import json
import socket

from ._options import ports_text
from ._process import stream

_MAPPED = b"\0" * 10 + b"\xff\xff"


def numeric(host):
    """host's text as ringscan writes it if host is a numeric address in
    its strict form, else None."""
    for fam in (socket.AF_INET, socket.AF_INET6):
        try:
            packed = socket.inet_pton(fam, host)
        except (OSError, ValueError):
            continue
        if fam == socket.AF_INET6 and packed[:12] == _MAPPED:
            return socket.inet_ntop(socket.AF_INET, packed[12:])
        return socket.inet_ntop(fam, packed)
    return None


def _resolve(host, port):
    """host's addresses, in getaddrinfo's order, as ringscan writes them;
    [] if it does not resolve."""
    if not isinstance(host, str):
        host = str(host)  # ipaddress objects, for instance
    addr = numeric(host)
    if addr:
        return [addr]
    try:
        infos = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
    except (OSError, UnicodeError, TypeError, ValueError):
        return []
    out = []
    for fam, _, _, _, sa in infos:
        if fam in (socket.AF_INET, socket.AF_INET6):
            a = numeric(sa[0].split("%")[0])
            if a and a not in out:
                out.append(a)
    return out


class Plan:
    """The pairs, deduplicated: which probes answer which pairs, and the
    runs (a -p list and its addresses) that make exactly those probes.
    A pair whose host is an address as ringscan writes it is its own
    probe; the others (names, other spellings) are listed in asks."""

    def __init__(self, pairs):
        self.count = collections.Counter(map(tuple, pairs))  # (host, port) -> times asked
        addrs = {}  # host -> its addresses
        self.asks = {}  # (addr, port) -> [(host, port), ...] other than itself
        self.pending = {}  # (host, port) -> probes not yet answered
        self.unresolved = []
        by_port = collections.defaultdict(set)  # port -> addresses to probe on it
        for key in self.count:
            host, port = key
            if type(port) is not int or not 0 < port < 65536:
                raise ValueError("port %r: expected an int in 1-65535" % (port,))
            got = addrs.get(host)
            if got is None:
                got = addrs[host] = _resolve(host, port)
            if not got:
                self.unresolved.append(key)
                continue
            self.pending[key] = len(got)
            for a in got:
                if a != host:
                    self.asks.setdefault((a, port), []).append(key)
                by_port[port].add(a)
        self.runs = self._runs(by_port)

    @staticmethod
    def _runs(by_port):
        """[(ports, [addr, ...]), ...]: one run per port or one per set of
        ports, whichever is fewer."""
        if len(by_port) > 1:
            by_addr = collections.defaultdict(list)
            for p in sorted(by_port):
                for a in by_port[p]:
                    by_addr[a].append(p)
            by_set = collections.defaultdict(list)
            for a, ports in by_addr.items():
                by_set[tuple(ports)].append(a)
            if len(by_set) < len(by_port):
                return sorted(by_set.items())
        return [((p,), list(addrs)) for p, addrs in sorted(by_port.items())]

    def answer(self, addr, port, is_open):
        """The (host, port, is_open) tuples one probe's answer completes."""
        probe = (addr, port)
        out = []
        for key in [probe] + self.asks.pop(probe, []):
            left = self.pending.get(key)
            if left is None:
                continue  # not asked as such, or answered: another address was open
            if is_open or left == 1:
                del self.pending[key]
                out += [(key[0], key[1], is_open)] * self.count[key]
            else:
                self.pending[key] = left - 1
        return out

    def rest(self):
        """The pairs no probe answered (excluded by the caller): not open."""
        out = []
        for key in self.pending:
            out += [(key[0], key[1], False)] * self.count[key]
        self.pending.clear()
        return out


def _fields(raw):
    """(ip, port, is_open) of one JSON line. The contract fixes the first
    keys and their order ({"ip":"…","port":N,"proto":"tcp","state":"…",),
    so a split on quotes finds them; anything else goes through json."""
    q = raw.split(b'"', 14)
    if len(q) == 15 and q[1] == b"ip" and q[5] == b"port" and q[11] == b"state":
        return q[3].decode(), int(q[6][1:-1]), q[13] == b"open"
    rec = json.loads(raw)
    return rec["ip"], rec["port"], rec["state"] == "open"


def check(pairs, argv):
    """Generator behind check_ports: argv is ringscan's command line
    without -p; --all is in it."""
    plan = Plan(pairs)
    for key in plan.unresolved:
        for _ in range(plan.count[key]):
            yield (key[0], key[1], False)
    for ports, addrs in plan.runs:
        for ip, port, is_open in stream(argv + ["-p", ports_text(ports)], addrs, _fields):
            yield from plan.answer(ip, port, is_open)
    yield from plan.rest()
