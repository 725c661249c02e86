"""Keyword options -> flags, ports -> -p, pairs -> runs (no scan needed)."""
import pytest

from ringscan._options import ports_text, to_argv
from ringscan._pairs import Plan, numeric


def test_flags():
    assert to_argv({"workers": 2, "banner": True, "service": False, "timeout": None}) == \
        ["-w", "2", "--banner"]
    assert to_argv({"shard": (1, 4), "exclude": ["127.0.0.1", "127.0.0.2/31"]}) == \
        ["--shard", "1/4", "--exclude", "127.0.0.1,127.0.0.2/31"]
    with pytest.raises(TypeError):
        to_argv({"banner": "yes"})
    with pytest.raises(TypeError):
        to_argv({"output": "x"})


def test_ports():
    assert ports_text([23, 22, 80, 81, 82, 443]) == "22-23,80-82,443"
    assert ports_text(22) == "22"
    assert ports_text("22,23") == "22,23"
    with pytest.raises(ValueError):
        ports_text([])


def test_numeric():
    assert numeric("127.0.0.1") == "127.0.0.1"
    assert numeric("::ffff:127.0.0.1") == "127.0.0.1"
    assert numeric("0:0::1") == "::1"
    assert numeric("127.1") is None and numeric("localhost") is None


def test_plan_one_run_per_port_set():
    pairs = [("127.0.0.%d" % i, p) for i in range(1, 50) for p in (22, 23)]
    [(ports, addrs)] = Plan(pairs).runs
    assert ports == (22, 23) and sorted(addrs) == sorted("127.0.0.%d" % i for i in range(1, 50))


def test_plan_one_run_per_port():
    pairs = [("127.0.0.%d" % i, 22 + i % 2) for i in range(1, 50)]
    pairs.append(("127.0.0.1", 22))
    runs = Plan(pairs).runs
    assert [ports for ports, _ in runs] == [(22,), (23,)]
    assert sum(len(a) for _, a in runs) == 50


def test_plan_names_and_spellings():
    plan = Plan([("127.0.0.1", 22), ("::ffff:127.0.0.1", 22), ("127.1", 22)])
    assert [(p, sorted(a)) for p, a in plan.runs] == [((22,), ["127.0.0.1"])]
    assert sorted(plan.answer("127.0.0.1", 22, True)) == sorted(
        [("127.0.0.1", 22, True), ("::ffff:127.0.0.1", 22, True), ("127.1", 22, True)])
    assert plan.rest() == []


def test_fields():
    from ringscan._pairs import _fields
    line = (b'{"ip":"::1","port":2323,"proto":"tcp","state":"open","reason":"syn-ack",'
            b'"rtt_us":1,"attempts":1,"ts":"2026-12-01T19:22:52.106864Z","banner":"a\\"b"}\n')
    assert _fields(line) == ("::1", 2323, True)
    assert _fields(b'{"port":1,"ip":"127.0.0.1","state":"closed"}') == ("127.0.0.1", 1, False)


def test_plan_answers():
    plan = Plan([("127.0.0.1", 22), ("127.0.0.1", 22), ("127.0.0.2", 22)])
    assert plan.answer("127.0.0.1", 22, True) == [("127.0.0.1", 22, True)] * 2
    assert plan.answer("127.0.0.1", 22, False) == []
    assert plan.rest() == [("127.0.0.2", 22, False)]
