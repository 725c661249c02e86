"""scan(): every field of every answer, exactly the world."""
import re

import ringscan
from conftest import FAST

KEYS = ["ip", "port", "proto", "state", "reason", "rtt_us", "attempts", "ts"]
REASON = {"open": "syn-ack", "closed": "rst", "filtered": "timeout", "unreachable": "unreachable"}
TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def test_all_fields(world):
    recs = list(ringscan.scan([world.net], world.ports, all=True, workers=2, **FAST))
    assert {(r["ip"], r["port"], r["state"]) for r in recs} == world.states()
    assert len(recs) == len(world.truth)
    for r in recs:
        assert list(r)[:8] == KEYS
        assert r["proto"] == "tcp"
        assert r["reason"] == REASON[r["state"]]
        assert r["attempts"] == 1
        assert isinstance(r["rtt_us"], int) and r["rtt_us"] >= 0
        assert TS.match(r["ts"])


def test_open_only_ports_as_list(world):
    lo, hi = map(int, world.ports.split("-"))
    recs = list(ringscan.scan(world.net, list(range(lo, hi + 1)), seed=5, **FAST))
    assert {(r["ip"], r["port"]) for r in recs} == {p for p, s in world.truth.items() if s == "open"}


def test_targets_streamed_from_a_generator(world):
    addrs = sorted({ip for ip, _ in world.truth})
    recs = list(ringscan.scan((a for a in addrs), world.ports, all=True, **FAST))
    assert {(r["ip"], r["port"], r["state"]) for r in recs} == world.states()


def test_banner_fields(world):
    # The world's listener accepts and closes at once: tcpwrapped, as nmap says.
    opened = {p for p, s in world.truth.items() if s == "open"}
    recs = list(ringscan.scan(world.net, world.ports, banner=True, read_timeout=500, **FAST))
    assert {(r["ip"], r["port"]) for r in recs} == opened
    for r in recs:
        assert r["service"]["name"] == "tcpwrapped", r
