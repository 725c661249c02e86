"""pip installs the package offline, with Debian's setuptools, and the
installed copy imports and runs."""
import os
import shutil
import subprocess
import sys

import pytest

PY = sys.executable


def pip_install(root, tmp_path, *extra):
    """pip install a copy of python/ (setuptools writes build/ and
    *.egg-info beside setup.py: not in the source tree) into a target
    directory, offline."""
    src = tmp_path / "src"
    shutil.copytree(os.path.join(root, "python"), str(src),
                    ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    target = tmp_path / "site"
    cmd = [PY, "-m", "pip", "install", "--no-index", "--no-cache-dir", "--disable-pip-version-check",
           "--target", str(target), *extra, str(src)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=str(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr
    return target


def imports_from(target, tmp_path):
    code = "import ringscan, sys; print(ringscan.__file__); print(ringscan.__version__)"
    env = dict(os.environ, PYTHONPATH=str(target))
    r = subprocess.run([PY, "-c", code], capture_output=True, text=True, env=env, timeout=30,
                       cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr
    path, version = r.stdout.split()
    assert path.startswith(str(target) + os.sep) and version


@pytest.fixture
def pip(root):
    if subprocess.run([PY, "-m", "pip", "--version"], capture_output=True).returncode:
        pytest.skip("no pip for %s (python3-pip)" % PY)
    return root


def test_no_build_isolation(pip, tmp_path):
    target = pip_install(pip, tmp_path, "--no-build-isolation")
    imports_from(target, tmp_path)
    # The package only: no tests, no stray top-level modules.
    tops = sorted(p.name for p in target.iterdir() if not p.name.endswith((".dist-info", ".egg-info")))
    assert tops == ["ringscan"]
    assert not (target / "ringscan" / "tests").exists()


def test_plain(pip, tmp_path):
    imports_from(pip_install(pip, tmp_path), tmp_path)


def test_installed_copy_scans(pip, world, tmp_path):
    target = pip_install(pip, tmp_path, "--no-build-isolation")
    ip, port = next(iter(world.truth))
    code = ("import ringscan; print(list(ringscan.check_ports([(%r, %d)], timeout=300, retries=0)))"
            % (ip, port))
    env = dict(os.environ, PYTHONPATH=str(target))
    r = subprocess.run([PY, "-c", code], capture_output=True, text=True, env=env, timeout=60,
                       cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == repr([(ip, port, world.truth[(ip, port)] == "open")])
