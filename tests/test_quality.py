"""The code standards hold on every CI run: ruff (lint and format) and mypy --strict."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The tools' caches go to the temporary directory, not into the working tree; one per
# checkout, kept between runs so mypy stays incremental.
CACHE = Path(tempfile.gettempdir()) / (
    "bluegreen-tool-cache-" + hashlib.sha256(str(ROOT).encode()).hexdigest()[:12]
)


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "src", "tests", "bench"],
        ["ruff", "format", "--check", "src", "tests", "bench"],
        ["mypy"],
    ],
    ids=["ruff-check", "ruff-format", "mypy-strict"],
)
def test_code_standard(command: list[str]) -> None:
    env = {
        **os.environ,
        "RUFF_CACHE_DIR": str(CACHE / "ruff"),
        "MYPY_CACHE_DIR": str(CACHE / "mypy"),
    }
    result = subprocess.run(
        [sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stdout + result.stderr
