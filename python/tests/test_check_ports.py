"""check_ports against the world: exactly its truth, pair by pair."""
import collections
import random

import ringscan
from conftest import FAST


def answers(pairs, **options):
    """check_ports' tuples as a Counter (each must come once per pair)."""
    return collections.Counter(ringscan.check_ports(pairs, **{**FAST, **options}))


def want(world, pairs):
    return collections.Counter((ip, port, world.truth[(ip, port)] == "open") for ip, port in pairs)


def test_every_pair(world):
    pairs = list(world.truth)
    random.Random(1).shuffle(pairs)
    got = answers(pairs)
    assert got == want(world, pairs)
    assert sum(got.values()) == len(pairs)
    assert any(is_open for _, _, is_open in got) and not all(is_open for _, _, is_open in got)


def test_subsets_need_several_runs(world):
    # Each address on its own random subset of the ports, so no single
    # cross product holds them: several runs, still exactly these pairs.
    rnd = random.Random(2)
    pairs = [p for p in world.truth if rnd.random() < 0.4]
    plan = ringscan._pairs.Plan(pairs)
    assert len(plan.runs) > 1
    assert sum(len(ports) * len(addrs) for ports, addrs in plan.runs) == len(pairs)
    assert answers(pairs, workers=1) == want(world, pairs)


def test_duplicates_and_forms(world):
    ip, port = sorted(p for p, s in world.truth.items() if s == "open")[0]
    other = sorted(p for p, s in world.truth.items() if s == "closed")[0]
    mapped = "::ffff:" + ip  # the same address, as IPv6 writes it
    pairs = [(ip, port), (ip, port), (mapped, port), other, ("no-such-host.invalid", port)]
    got = answers(pairs)
    assert got == collections.Counter({(ip, port, True): 2, (mapped, port, True): 1,
                                       (other[0], other[1], False): 1,
                                       ("no-such-host.invalid", port, False): 1})


def test_empty():
    assert list(ringscan.check_ports([], binary="/nonexistent/never-run")) == []
