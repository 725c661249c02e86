#!/usr/bin/env python3
"""report.py DIR: turn bench/run.sh's measurements into Markdown.

DIR holds rows.tsv (one row per world x tool: world, tool, settings,
probes, median s, runs, CPU s, peak RSS KiB, open found, open missed,
open false, differing lines vs the ground truth, notes), machine,
open.listener and wide.check. Prints the results page on stdout: one table
per world, each tool's probes/s and how many times faster ringscan's best
row of that world is, then the goals of issue 5 against the figures."""
import csv
import os
import sys

d = sys.argv[1]
rows = list(csv.reader(open(os.path.join(d, "rows.tsv")), delimiter="\t"))
machine = open(os.path.join(d, "machine")).read().strip()


def read(name):
    p = os.path.join(d, name)
    return open(p).read().strip() if os.path.exists(p) else ""


def rate(r):
    return int(r[3]) / float(r[4])


ORDER = ["closed", "open", "mixed", "filtered", "wide"]


def world_key(w):
    """Worlds in bench/run.sh's order, a kept world's rows merged in."""
    kind, _, size = w.partition(" ")
    return (ORDER.index(kind) if kind in ORDER else len(ORDER), int(size or 0))


worlds = []
for r in rows:
    if r[0] not in worlds:
        worlds.append(r[0])
worlds.sort(key=world_key)

out = []
out.append("# ringscan benchmarks\n")
out.append("%s. Reproduce with `make bench` (bench/run.sh); every world is built "
           "on loopback inside a private network namespace, and every tool scans "
           "the same world in the same invocation.\n" % machine)
out.append("How to read: *median s* is hyperfine's median wall time over *runs* "
           "(1 for the slow peers); *probes/s* = probes / median; *ringscan ÷ tool* "
           "is how many times faster the best ringscan row of that world is; "
           "*CPU s* is user + system of one run, all processes; *RSS* the largest "
           "process's peak (GNU time); *open found / missed / false* compares the "
           "open answers with the ground truth, and *exact* says whether every "
           "answer, in every state, equals it.\n")

best = {}
for w in worlds:
    rs = [r for r in rows if r[0] == w and r[1] == "ringscan"]
    best[w] = max(rate(r) for r in rs) if rs else None

for w in worlds:
    probes = next(int(r[3]) for r in rows if r[0] == w)
    out.append("\n## %s (%s probes)\n" % (w, format(probes, ",")))
    out.append("| tool | settings | median s | runs | probes/s | ringscan ÷ tool | CPU s "
               "| RSS MiB | open found / missed / false | exact | notes |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        if r[0] != w:
            continue
        ratio = "%.2f" % (best[w] / rate(r)) if best[w] else "-"
        out.append("| %s | `%s` | %.3f | %s | %s | %s | %.2f | %.1f | %s / %s / %s | %s | %s |" % (
            r[1], r[2], float(r[4]), r[5], format(int(rate(r)), ","), ratio, float(r[6]),
            int(r[7]) / 1024, r[8], r[9], r[10], "yes" if r[11] == "0" else "no (%s lines differ)" % r[11],
            r[12]))
    if w == "open":
        out.append("\n%s.\n" % read("open.listener"))

wide = read("wide.check")
if wide:
    out.append("\n## wide (16,777,216 probes)\n")
    out.append("```\n%s\n```\n" % wide)


# Goals of issue 5 against the figures.
def pick(world, tool, settings=None):
    c = [r for r in rows if r[0] == world and r[1] == tool and (settings is None or r[2] == settings)]
    return max(c, key=rate) if c else None


goals = []
for w in ("closed", "open"):
    a, b = pick(w, "ringscan"), pick(w, "epoll_connect")
    if a and b:
        goals.append("| %s: ringscan ÷ 2-process epoll | ≥ 1.2 | %.2f (%s vs %s probes/s) |" % (
            w, rate(a) / rate(b), format(int(rate(a)), ","), format(int(rate(b)), ",")))
m = "mixed 4096"
a = pick(m, "ringscan")
n = pick(m, "nmap", "-sT, RTT timeouts pinned to 1000 ms, --max-retries 0")
p = pick(m, "python-pool")
if a and n:
    goals.append("| mixed: ringscan ÷ nmap -sT (timeouts pinned) | ≥ 10 | %.1f |" % (rate(a) / rate(n)))
big = [w for w in worlds if w.startswith("mixed ")]
big = max(big, key=lambda w: int(w.split()[1])) if big else None
a, p = (pick(big, "ringscan"), pick(big, "python-pool")) if big else (None, None)
if a and p:
    goals.append("| mixed: ringscan ÷ Python pool (%s) | ≥ 30 | %.1f |" % (big, rate(a) / rate(p)))
for size in ("4096", "16384", "65536", "262144"):
    a, p = pick("mixed " + size, "ringscan"), pick("mixed " + size, "python-pool")
    if a and p:
        goals.append("| mixed %s: ringscan ÷ Python pool (growth with the world) | - | %.1f |" % (
            size, rate(a) / rate(p)))
import re
peak = 0
for r in rows:
    if r[0] == "filtered":
        m = re.search(r"steady (\d+) probes/s; in flight (\d+) \((\w+)\); ratio ([\d.]+)", r[12])
        t = re.search(r"-t (\d+)", r[2])
        if not (m and t):
            continue
        if m.group(3) == "peak":
            peak = max(peak, int(m.group(2)))
        goals.append("| filtered, %s `%s`: steady probes/s ÷ (in flight / %g s) | ≥ 0.9 | %s (%s probes/s steady, %s in flight, %s; %s probes/s over the whole run) |" % (
            r[1], r[2], int(t.group(1)) / 1000, m.group(4), format(int(m.group(1)), ","),
            format(int(m.group(2)), ","), "measured peak" if m.group(3) == "peak" else "Little's law: rate x mean rtt",
            format(int(rate(r)), ",")))
goals.append("| filtered: probes in flight (ringscan's own peak, --stats) | ≥ 200,000 | %s |" % format(peak, ","))
sc = [r for r in rows if r[0] == "closed" and r[12].startswith("syscalls/probe")]
if sc:
    goals.append("| closed: syscalls per probe (strace -f -c, all processes) | ≤ 0.05 | %s |" % sc[0][12].split()[-1])
if wide:
    goals.append("| wide: exact, RSS < 64 MiB, rate held | - | see above |")
micro = read("micro.md")
if micro:
    out.append("\n## Micro-benchmarks (bench/micro/)\n")
    out.append("The pure hot parts in tight loops, every result checked; one process "
               "each (the job ring's consumers are fork()ed).\n")
    out.append(micro.replace("### ", "#### "))
out.append("\n## Goals (issue 5)\n")
out.append("| goal | target | measured |")
out.append("|---|---|---|")
out.extend(goals)
print("\n".join(out))
