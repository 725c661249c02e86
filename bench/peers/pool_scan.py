#!/usr/bin/env python3
"""pool_scan: the approach ringscan replaces, as people write it today.

    pool_scan.py [-w PROCS] [-T THREADS] [-t MS] [--all] [--banner MS] [-o FILE] CIDR PORTS

A multiprocessing pool (one process per core by default) whose processes
each run a thread pool (a few hundred threads) calling
socket.create_connection((ip, port), timeout=T). Each process takes a
contiguous slice of the address-major (address, port) space. Answers are
the same JSON lines ringscan writes (open only unless --all): success ->
open, ConnectionRefusedError/ConnectionResetError -> closed, timeout ->
filtered, EHOSTUNREACH/ENETUNREACH -> unreachable, anything else -> error.
No retries. With --banner MS, an open connection is then read (recv with
a timeout of MS) until a line ends, 1,024 bytes, or the service closes,
and the line gains "banner" (the way "does this host speak ssh" is asked
today). Bench use only (bench/run.sh, bench/service.sh), on 127.0.0.0/8
in a namespace.
"""
import argparse
import concurrent.futures as cf
import datetime
import errno
import ipaddress
import json
import multiprocessing as mp
import os
import socket
import struct
import sys
import time


def grab(s, timeout):
    """What the service says first: to the end of a line, 1 KiB, EOF or timeout."""
    data = b""
    s.settimeout(timeout)
    try:
        while b"\n" not in data and len(data) < 1024:
            chunk = s.recv(1024 - len(data))
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    return data.decode("utf-8", "surrogateescape")


def probe(ip, port, timeout, banner_timeout=None):
    t0 = time.monotonic()
    banner = None
    try:
        s = socket.create_connection((ip, port), timeout=timeout)
    except (ConnectionRefusedError, ConnectionResetError):
        state, reason = "closed", "rst"
    except socket.timeout:
        state, reason = "filtered", "timeout"
    except OSError as e:
        if e.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
            state, reason = "unreachable", "unreachable"
        else:
            state, reason = "error", errno.errorcode.get(e.errno, "error")
    else:
        if banner_timeout is not None:
            banner = grab(s, banner_timeout)
        # RST on close, as ringscan does: no TIME_WAIT.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
        state, reason = "open", "syn-ack"
    rtt = int((time.monotonic() - t0) * 1e6)
    return ip, port, state, reason, rtt, banner


def work(args):
    base, nports, ports, begin, end, threads, timeout, show_all, out, banner_t = args
    lines = []
    with cf.ThreadPoolExecutor(max_workers=threads) as ex:
        futs = [
            ex.submit(probe, str(ipaddress.IPv4Address(base + i // nports)), ports[i % nports], timeout,
                      banner_t)
            for i in range(begin, end)
        ]
        for f in cf.as_completed(futs):
            ip, port, state, reason, rtt, banner = f.result()
            if show_all or state == "open":
                ts = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                rec = {"ip": ip, "port": port, "proto": "tcp", "state": state,
                       "reason": reason, "rtt_us": rtt, "attempts": 1, "ts": ts}
                if banner is not None:
                    rec["banner"] = banner
                lines.append(json.dumps(rec, separators=(",", ":")) + "\n")
    data = "".join(lines).encode()
    fd = os.open(out, os.O_WRONLY | os.O_APPEND) if out else 1
    os.write(fd, data)
    return len(lines)


def parse_ports(s):
    ports = []
    for item in s.split(","):
        lo, _, hi = item.partition("-")
        ports.extend(range(int(lo), int(hi or lo) + 1))
    return ports


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-w", type=int, default=os.cpu_count())
    ap.add_argument("-T", type=int, default=300)
    ap.add_argument("-t", type=int, default=1000)
    ap.add_argument("--all", action="store_true")
    ap.add_argument("--banner", type=int, metavar="MS")
    ap.add_argument("-o")
    ap.add_argument("cidr")
    ap.add_argument("ports")
    a = ap.parse_args()
    net = ipaddress.IPv4Network(a.cidr, strict=False)
    if not net.network_address.is_loopback:
        sys.exit("pool_scan: only 127.0.0.0/8 (bench use)")
    ports = parse_ports(a.ports)
    total = net.num_addresses * len(ports)
    if a.o:
        open(a.o, "w").close()
    jobs = [(int(net.network_address), len(ports), ports, total * k // a.w, total * (k + 1) // a.w,
             a.T, a.t / 1000, a.all, a.o, a.banner / 1000 if a.banner else None) for k in range(a.w)]
    with mp.Pool(a.w) as pool:
        pool.map(work, jobs)


if __name__ == "__main__":
    main()
