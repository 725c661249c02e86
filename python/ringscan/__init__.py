"""ringscan from Python: run the ringscan scanner, stream its answers.

    import ringscan

    # the drop-in for a pool of threads around socket.create_connection
    for host, port, is_open in ringscan.check_ports([("127.0.0.1", 22), ("127.0.0.2", 23)]):
        ...

    # every field of every answer, as dicts
    for rec in ringscan.scan(["127.0.0.0/24"], [22, 23], all=True, banner=True):
        print(rec["ip"], rec["port"], rec["state"], rec.get("service"))

Both run the ringscan binary (binary=PATH, else $RINGSCAN, else the one
on PATH), feed it targets on stdin from a thread, and yield answers as
its JSON lines arrive. A failed run raises RingscanError carrying
ringscan's own message; closing a generator early stops the scan.
Keyword options map to ringscan's flags (see OPTIONS); unknown ones
raise TypeError. Standard library only.
"""
from ._errors import RingscanError
from ._options import OPTIONS, ports_text, to_argv
from ._pairs import check
from ._process import find_binary, stream

__all__ = ["check_ports", "scan", "RingscanError", "OPTIONS"]
__version__ = "0.1.0"

# What check_ports leaves out: --all is always on (every pair gets its
# answer), and --stats or --shard would make no sense over several runs.
_PAIR_OPTIONS = {k: v for k, v in OPTIONS.items() if k not in ("all", "stats", "shard")}


def _base(binary):
    """ringscan's command line up to the options: quiet, JSON lines to
    stdout, targets from stdin."""
    return [find_binary(binary), "-q", "-f", "jsonl", "-i", "-"]


def scan(targets, ports=None, *, binary=None, **options):
    """Scan targets x ports; yield one dict per answer, with every field
    ringscan writes (ip, port, proto, state, reason, rtt_us, attempts, ts,
    and with banner=True or service=True: service, banner, ssh, telnet).

    targets: one target or an iterable of them, in any form ringscan
    takes (address, CIDR, range, hostname, IPv6), fed on stdin from a
    thread as they come. ports: an int, a list of ints, or a string such
    as "22,23,80-90" (None: ringscan's default, 22,23). Open ports only
    unless all=True. Other options: see OPTIONS (workers=2 is -w 2,
    banner=True is --banner, ...). Raises TypeError for an unknown
    option (at once), RingscanError when ringscan fails (on iteration).
    """
    argv = _base(binary) + to_argv(options)
    if ports is not None:
        argv += ["-p", ports_text(ports)]
    if isinstance(targets, str):
        targets = [targets]
    return stream(argv, (t if isinstance(t, str) else str(t) for t in targets))


def check_ports(pairs, *, binary=None, **options):
    """For each (host, port) of pairs, yield (host, port, is_open), once
    per pair given (duplicates included), in the order answers arrive:
    what a pool of threads calling socket.create_connection((host, port))
    tells, from one ringscan scan per port (or per set of ports) instead.

    host: a numeric address or a name (resolved as create_connection
    does; open if any of its addresses is; a name that does not resolve
    is not open). Options as for scan() except all (always on), stats and
    shard. pairs is read whole before the first scan starts.
    """
    argv = _base(binary) + to_argv(options, _PAIR_OPTIONS) + ["--all"]
    return check(pairs, argv)
