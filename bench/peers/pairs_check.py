#!/usr/bin/env python3
"""pairs_check: "which of these (host, port) pairs accept a connection?",
two ways, for bench/python.sh.

    pairs_check.py pool [-T THREADS] [-t MS] PAIRS OUT
    pairs_check.py ringscan [-t MS] [-w N] PAIRS OUT

PAIRS holds "IP PORT" lines. OUT gets "IP PORT open|notopen" lines, one
per pair. pool: the classic code, a multiprocessing pool of threads
(multiprocessing.pool.ThreadPool) mapping socket.create_connection over
the pairs, timeout MS. ringscan: the drop-in, ringscan.check_ports(pairs)
from python/ (the binary from $RINGSCAN or PATH), the same timeout, no
retries (as the pool). Bench use only, on 127.0.0.0/8 in a namespace.
"""
import argparse
import os
import socket
import struct
import sys
from multiprocessing.pool import ThreadPool


def is_open(pair, timeout):
    """The classic check: connect, then close with RST (no TIME_WAIT)."""
    try:
        s = socket.create_connection(pair, timeout=timeout)
    except OSError:
        return pair[0], pair[1], False
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    return pair[0], pair[1], True


def pool(pairs, threads, timeout):
    with ThreadPool(threads) as p:
        yield from p.imap_unordered(lambda pair: is_open(pair, timeout), pairs, chunksize=64)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["pool", "ringscan"])
    ap.add_argument("-T", type=int, default=300)
    ap.add_argument("-t", type=int, default=1000)
    ap.add_argument("-w", type=int)
    ap.add_argument("pairs")
    ap.add_argument("out")
    a = ap.parse_args()
    pairs = []
    with open(a.pairs) as f:
        for line in f:
            ip, port = line.split()
            if not ip.startswith("127."):
                sys.exit("pairs_check: only 127.0.0.0/8 (bench use)")
            pairs.append((ip, int(port)))
    if a.mode == "pool":
        answers = pool(pairs, a.T, a.t / 1000)
    else:
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                        "python"))
        import ringscan
        answers = ringscan.check_ports(pairs, timeout=a.t, retries=0, workers=a.w)
    with open(a.out, "w") as out:
        for ip, port, ok in answers:
            out.write("%s %d %s\n" % (ip, port, "open" if ok else "notopen"))


if __name__ == "__main__":
    main()
