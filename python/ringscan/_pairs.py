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


def _check_port(port):
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ValueError("port %r: expected an int in 1-65535" % (port,))


class Plan:
    """The pairs, deduplicated: which probes answer which pairs, and the
    runs (a -p list and its addresses) that make exactly those probes."""

    def __init__(self, pairs):
        self.count = {}  # (host, port) -> times asked
        for host, port in pairs:
            _check_port(port)
            key = (host, port)
            self.count[key] = self.count.get(key, 0) + 1
        addrs = {}  # host -> its addresses
        self.asks = {}  # (addr, port) -> [(host, port), ...]
        self.pending = {}  # (host, port) -> probes not yet answered
        self.unresolved = []
        for host, port in self.count:
            if host not in addrs:
                addrs[host] = _resolve(host, port)
            if not addrs[host]:
                self.unresolved.append((host, port))
                continue
            self.pending[(host, port)] = len(addrs[host])
            for a in addrs[host]:
                self.asks.setdefault((a, port), []).append((host, port))
        self.runs = self._runs()

    def _runs(self):
        """[(ports, [addr, ...]), ...]: one per port or one per set of ports,
        whichever is fewer."""
        by_port, by_addr = {}, {}
        for a, p in self.asks:
            by_port.setdefault(p, []).append(a)
            by_addr.setdefault(a, []).append(p)
        by_set = {}
        for a, ports in by_addr.items():
            by_set.setdefault(tuple(sorted(ports)), []).append(a)
        if len(by_port) <= len(by_set):
            return [((p,), addrs) for p, addrs in sorted(by_port.items())]
        return sorted(by_set.items())

    def answer(self, addr, port, is_open):
        """The (host, port, is_open) tuples one probe's answer completes."""
        out = []
        for key in self.asks.pop((addr, port), ()):
            left = self.pending.get(key)
            if left is None:
                continue  # already answered: another address was open
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


def check(pairs, argv):
    """Generator behind check_ports: argv is ringscan's command line
    without -p; --all is in it."""
    plan = Plan(pairs)
    for host, port in plan.unresolved:
        for _ in range(plan.count[(host, port)]):
            yield (host, port, False)
    for ports, addrs in plan.runs:
        for rec in stream(argv + ["-p", ports_text(ports)], addrs):
            yield from plan.answer(rec["ip"], rec["port"], rec["state"] == "open")
    yield from plan.rest()
