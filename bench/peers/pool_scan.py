#!/usr/bin/env python3
"""pool_scan: the approach ringscan replaces, as people write it today.

    pool_scan.py [-w PROCS] [-T THREADS] [-t MS] [--all] [-o FILE] CIDR PORTS

A multiprocessing pool (one process per core by default) whose processes
each run a thread pool (a few hundred threads) calling
socket.create_connection((ip, port), timeout=T). Each process takes a
contiguous slice of the address-major (address, port) space. Answers are
the same JSON lines ringscan writes (open only unless --all): success ->
open, ConnectionRefusedError/ConnectionResetError -> closed, timeout ->
filtered, EHOSTUNREACH/ENETUNREACH -> unreachable, anything else -> error.
No retries. Bench use only (bench/run.sh), on 127.0.0.0/8 in a namespace.
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


def probe(ip, port, timeout):
    t0 = time.monotonic()
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
        # RST on close, as ringscan does: no TIME_WAIT.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
        state, reason = "open", "syn-ack"
    rtt = int((time.monotonic() - t0) * 1e6)
    return ip, port, state, reason, rtt


def work(args):
    base, nports, ports, begin, end, threads, timeout, show_all, out = args
    lines = []
    with cf.ThreadPoolExecutor(max_workers=threads) as ex:
        futs = [
            ex.submit(probe, str(ipaddress.IPv4Address(base + i // nports)), ports[i % nports], timeout)
            for i in range(begin, end)
        ]
        for f in cf.as_completed(futs):
            ip, port, state, reason, rtt = f.result()
            if show_all or state == "open":
                ts = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                lines.append(json.dumps({"ip": ip, "port": port, "proto": "tcp", "state": state,
                                         "reason": reason, "rtt_us": rtt, "attempts": 1, "ts": ts},
                                        separators=(",", ":")) + "\n")
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
             a.T, a.t / 1000, a.all, a.o) for k in range(a.w)]
    with mp.Pool(a.w) as pool:
        pool.map(work, jobs)


if __name__ == "__main__":
    main()
