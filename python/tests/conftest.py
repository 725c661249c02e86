"""Fixtures for the ringscan package's tests. They need a test world in a
private network namespace: tests/e2e/test_python.sh makes one and runs
pytest with RINGSCAN (the scanner), RS_PY_TRUTH (the world's "IP PORT
STATE" lines), RS_PY_NET and RS_PY_PORTS (its targets and ports) and
RS_PY_ROOT (the source tree) in the environment. Run directly, without
them, the world's tests skip."""
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # python/: the package under test

# Every scan of the world: short timeouts, no retries (filtered pairs
# cost 300 ms each, on loopback nothing is lost).
FAST = {"timeout": 300, "retries": 0}


class World:
    def __init__(self, truth, net, ports):
        self.net = net
        self.ports = ports
        self.truth = {}  # (ip, port) -> state
        with open(truth) as f:
            for line in f:
                ip, port, state = line.split()
                self.truth[(ip, int(port))] = state

    def states(self):
        return {(ip, port, s) for (ip, port), s in self.truth.items()}


@pytest.fixture(scope="session")
def world():
    need = ("RINGSCAN", "RS_PY_TRUTH", "RS_PY_NET", "RS_PY_PORTS")
    if not all(os.environ.get(k) for k in need) or os.environ.get("RS_IN_NS") != "1":
        pytest.skip("needs a test world in a namespace: run tests/e2e/test_python.sh BUILD_DIR")
    return World(os.environ["RS_PY_TRUTH"], os.environ["RS_PY_NET"], os.environ["RS_PY_PORTS"])


@pytest.fixture(scope="session")
def root():
    return os.environ.get("RS_PY_ROOT") or os.path.dirname(os.path.dirname(HERE))
