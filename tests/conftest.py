"""Settings the whole test run needs before any test module (or bluegreen) is imported.

The run writes no caches into the working tree: no bytecode (``sys.dont_write_bytecode``
for this process, ``PYTHONDONTWRITEBYTECODE`` for the subprocesses the tests start), no
``.pytest_cache`` (``-p no:cacheprovider`` in pyproject's addopts), and ruff's and mypy's
caches live in the temporary directory (tests/test_quality.py).
"""

from __future__ import annotations

import os
import sys
from contextlib import suppress
from pathlib import Path

sys.dont_write_bytecode = True
os.environ["PYTHONDONTWRITEBYTECODE"] = "1"


def _forget_own_bytecode() -> None:
    """pytest compiles and caches this file (its assertion rewriting) before running it,
    so before the line above could stop it: remove that one file, and the cache
    directory if it is empty now. Several xdist workers may race here; any may win."""
    cache = Path(__file__).with_name("__pycache__")
    for pyc in cache.glob("conftest.*.pyc"):
        pyc.unlink(missing_ok=True)
    # Not empty (a cache from an earlier run without these settings), or gone: keep it.
    with suppress(OSError):
        cache.rmdir()


_forget_own_bytecode()
