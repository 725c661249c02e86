"""Errors: ringscan's refusals as RingscanError with its message; the
package's own checks as TypeError/ValueError, before anything runs."""
import pytest

import ringscan


def test_bad_target_line(world):
    with pytest.raises(ringscan.RingscanError) as e:
        list(ringscan.scan(["127.0.0.1", "foo bar"], 22))
    assert e.value.returncode == 2
    assert e.value.message == "ringscan: -i/--input: <stdin>:2: one target per line, got 'foo bar'"
    assert "exit status 2" in str(e.value)


def test_bad_ports(world):
    with pytest.raises(ringscan.RingscanError) as e:
        list(ringscan.scan("127.0.0.1", "22,0"))
    assert e.value.returncode == 2
    assert e.value.message.startswith("ringscan: -p/--ports: ")
    assert "port 0" in e.value.message


def test_bad_option_value(world):
    with pytest.raises(ringscan.RingscanError) as e:
        list(ringscan.check_ports([("127.0.0.1", 22)], engine="warp"))
    assert e.value.returncode == 2
    assert e.value.message == "ringscan: --engine: unknown mode 'warp' (auto, uring, epoll, compat)"


def test_unknown_option_is_typeerror():
    with pytest.raises(TypeError, match="bogus"):
        ringscan.scan("127.0.0.1", 22, bogus=1)
    with pytest.raises(TypeError, match="all"):
        ringscan.check_ports([("127.0.0.1", 22)], all=True)
    with pytest.raises(TypeError):
        ringscan.scan("127.0.0.1", 22, workers="2")


def test_bad_pair_is_valueerror():
    with pytest.raises(ValueError):
        list(ringscan.check_ports([("127.0.0.1", 0)], binary="/nonexistent"))


def test_line_break_in_target_scans_nothing(world):
    # The feeder refuses it and kills the child before it reads to the end
    # of its input: no partial scan, the ValueError comes through.
    with pytest.raises(ValueError, match="line break"):
        list(ringscan.scan(["127.0.0.1", "127.0.0.2\n127.0.0.3"], 22, all=True))


def test_no_binary(tmp_path, monkeypatch):
    monkeypatch.delenv("RINGSCAN", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="ringscan not found"):
        ringscan.scan("127.0.0.1", 22)
