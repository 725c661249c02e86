"""Large inputs stream through without deadlock; a generator closed early
leaves no child process and no thread behind."""
import os
import threading
import time

import ringscan

# 200,000 pairs on addresses outside the world (nothing listens, nothing
# filters: the kernel answers RST at once).
N = 200_000
BOUND = 120  # seconds; ~5 s on 2 cores, far more under ASan


def closed_pairs(n=N, port=9):
    return [("127.%d.%d.%d" % (100 + (i >> 16), (i >> 8) & 255, i & 255), port) for i in range(n)]


def children():
    """Our child processes (pids whose parent is us), from /proc."""
    me, out = os.getpid(), []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    stat = f.read()
            except OSError:
                continue
            comm, rest = stat[stat.index("(") + 1:].rsplit(")", 1)
            if int(rest.split()[1]) == me:
                out.append((int(d), comm))
    return out


def our_threads():
    return [t.name for t in threading.enumerate() if t.name.startswith("ringscan-")]


def test_200k_pairs_stream(world):
    pairs = closed_pairs()
    t0 = time.monotonic()
    first = None
    seen = set()
    for host, port, is_open in ringscan.check_ports(pairs, timeout=1000):
        if first is None:
            first = time.monotonic() - t0
        assert not is_open
        seen.add(host)
    took = time.monotonic() - t0
    assert len(seen) == N
    assert took < BOUND, "200,000 pairs took %.1f s" % took
    print("200,000 pairs: first answer after %.2f s, all after %.2f s" % (first, took))


def test_200k_targets_slow_reader(world):
    # The reader sleeps first: ringscan fills the stdout pipe and waits on
    # it while the feeder thread still writes; nothing may hang.
    gen = ringscan.scan((h for h, _ in closed_pairs()), 9, all=True, timeout=1000)
    rec = next(gen)
    time.sleep(1)
    n = 1 + sum(1 for _ in gen)
    assert n == N and rec["state"] == "closed"
    assert children() == [] and our_threads() == []


def test_close_early_leaves_nothing(world):
    gen = ringscan.scan((h for h, _ in closed_pairs()), 9, all=True, timeout=1000)
    assert next(gen)["state"] == "closed"
    kids = children()
    assert kids and all(name == "ringscan" for _, name in kids), kids
    t0 = time.monotonic()
    gen.close()
    assert time.monotonic() - t0 < 15
    assert children() == []
    assert our_threads() == []
    for pid, _ in kids:
        assert not os.path.exists("/proc/%d" % pid)


def test_break_leaves_nothing(world):
    for n, _ in enumerate(ringscan.check_ports(closed_pairs(20_000), timeout=1000)):
        if n == 10:
            break
    # The generator is unreferenced now: CPython closes it at once.
    assert children() == []
    assert our_threads() == []
