#!/usr/bin/env python3
"""wide_check.py FILE: check the wide world's answers and their pace.

FILE holds ringscan --all JSON lines for 127.0.0.0/8 x one port. The
ground truth: every address closed (RST) except 127.255.255.255, lo's
broadcast address, which the kernel refuses with ENETUNREACH. Prints the
counts, whether the answers are exact (each address once, in its state),
and the answer rate of the first and of the last million lines (from
their "ts", in answer order)."""
import datetime
import sys


def ts(line):
    t = line.rsplit('"ts":"', 1)[1][:26]
    return datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%f").timestamp()


seen = bytearray(1 << 24)
counts = {}
bad = 0
times = []
n = 0
with open(sys.argv[1]) as f:
    for line in f:
        parts = line.split('"')
        ip, state = parts[3], parts[13]
        a = ip.split(".")
        k = (int(a[1]) << 16) | (int(a[2]) << 8) | int(a[3])
        if a[0] != "127" or seen[k]:
            bad += 1
        seen[k] = 1
        want = "unreachable" if k == 0xFFFFFF else "closed"
        if state != want:
            bad += 1
        counts[state] = counts.get(state, 0) + 1
        if n == 0 or n == 999999 or n >= (1 << 24) - 1000000:
            times.append((n, ts(line)))
        n += 1
missing = (1 << 24) - sum(seen)
exact = bad == 0 and missing == 0 and n == 1 << 24
t = dict(times)
first = 1e6 / (t[999999] - t[0]) if 999999 in t and t[999999] > t[0] else 0
last_b = (1 << 24) - 1000000
last = 1e6 / (t[(1 << 24) - 1] - t[last_b]) if last_b in t and (1 << 24) - 1 in t else 0
print("wide: %d answers (%s), %s; %d missing, %d wrong or repeated"
      % (n, ", ".join("%s %d" % kv for kv in sorted(counts.items())),
         "exact" if exact else "NOT EXACT", missing, bad))
print("rate of the first million answers: %.0f/s, of the last million: %.0f/s" % (first, last))
