#!/usr/bin/env python3
"""steady.py JSONL TIMEOUT_S [STATS_JSON]: the steady-state rate of a scan
whose probes all time out, from its JSON lines.

A whole run's probes/s undercounts what the engine sustains: nothing is
answered during the first timeout, and the last timeout drains what is
left. So the rate is counted over the answers whose ts falls between
(first launch + timeout + 1 s) and (last answer - timeout), the first
launch being the first answer's ts minus its rtt. Probes in flight are the
scan's own measured peak (--stats "inflight_peak") when given, else
Little's law over the window (rate x mean rtt, which makes the ratio
timeout / mean rtt). Prints one line for bench/report.py:
  steady R probes/s; in flight K (peak|little); ratio Q; mean rtt S s
where Q = R / (K / timeout)."""
import json
import sys
from datetime import datetime, timezone


def ts_of(line):
    i = line.index('"ts":"') + 6
    t = datetime.strptime(line[i:i + 27], "%Y-%m-%dT%H:%M:%S.%fZ")
    return t.replace(tzinfo=timezone.utc).timestamp()


def rtt_of(line):
    i = line.index('"rtt_us":') + 9
    return int(line[i:line.index(",", i)]) / 1e6


path, timeout = sys.argv[1], float(sys.argv[2])
answers = [(ts_of(l), rtt_of(l)) for l in open(path)]
if not answers:
    sys.exit("steady.py: no answers in " + path)
answers.sort()
start = min(t - r for t, r in answers)
lo, hi = start + timeout + 1.0, answers[-1][0] - timeout
window = [(t, r) for t, r in answers if lo <= t < hi]
if hi - lo < 2.0 or len(window) < 1000:
    sys.exit("steady.py: run too short for a steady window (%.1f s)" % (hi - lo))
rate = len(window) / (hi - lo)
mean_rtt = sum(r for _, r in window) / len(window)
inflight, how = rate * mean_rtt, "little"
if len(sys.argv) > 3:
    inflight, how = json.load(open(sys.argv[3]))["inflight_peak"], "peak"
print("steady %d probes/s; in flight %d (%s); ratio %.2f; mean rtt %.3f s" %
      (rate, inflight, how, rate / (inflight / timeout), mean_rtt))
