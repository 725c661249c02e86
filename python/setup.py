# Plain setuptools, no pyproject.toml: Debian's pip (with python3-setuptools
# and python3-wheel) then builds in the current environment, so both
# `pip install ./python` and `pip install --no-build-isolation ./python`
# work without network access. The metadata is in setup.cfg.
from setuptools import setup

setup()
