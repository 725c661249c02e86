#!/usr/bin/env bash
# test_python: the Python package (python/ringscan) against a test world,
# with Debian's pytest (python/tests). Inside the namespace: a mixed world
# on 127.1.0.0/26 x 8 ports (open, closed by the kernel and by nft,
# filtered, unreachable), then `/usr/bin/python3 -m pytest python/tests`
# with the world's truth and the scanner under test in the environment:
# check_ports on every pair (and on subsets that need several runs) must
# give exactly the truth, scan() every field; 200,000 closed pairs stream
# through in bounded time; bad input raises RingscanError with ringscan's
# own message; a generator closed early leaves no child and no thread; and
# `pip install --no-build-isolation --no-index --target DIR ./python`
# works offline and the installed package imports.
# Skips (77) without /usr/bin/python3 or its pytest (python3-pytest).
# engines: uring (what it checks is the coordinator's: sinks, the inventory, the
# Python wrapper; the engine only answers. test_db and test_db_resume run on
# both engines, and every other test shows the engines answer alike)
# Usage: test_python.sh BUILD_DIR
set -eu
. "$(dirname "$0")/lib.sh"
ns_reexec 300 "$0" "$@"
need_scanner "${1:-}"
need_tools
PY=/usr/bin/python3
[ -x $PY ] || rs_skip "no $PY (scripts/deps.sh test installs python3)"
$PY -c 'import pytest' 2>/dev/null || rs_skip "no pytest for $PY (scripts/deps.sh test installs python3-pytest)"
trap world_down EXIT

W=$RS_TMP/w
world_gen "$W" --seed 4 --addrs 127.1.0.0/26 --ports 3000-3007 --open 30 --filtered 1.5 \
	--unreachable 10 --closed-port 3005
world_is_mixed "$W"
world_up "$W"

# Nothing of the test's may land in the source tree: no bytecode, no
# pytest cache; pip's scratch space under RS_TMP.
export PYTHONDONTWRITEBYTECODE=1 TMPDIR=$RS_TMP HOME=$RS_TMP
export RINGSCAN=$RS RS_PY_TRUTH=$W/truth.txt RS_PY_NET=127.1.0.0/26 RS_PY_PORTS=3000-3007
export RS_PY_ROOT=$RS_ROOT
cd "$RS_ROOT"
$PY -m pytest -p no:cacheprovider -q -rs --durations=5 python/tests
