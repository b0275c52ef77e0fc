"""The README's sandbox walkthrough changes the greeting with one `sed`: run that very
line on a `bluegreen init` scaffold. Every file holding the greeting (the app, its test,
bluegreen.toml's app.greeting) must change, or the release it pushes fails its own
test and the config no longer describes the app."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

from bluegreen.appkit import init
from bluegreen.config import Config, load

README = Path(__file__).resolve().parents[1] / "README.md"
OLD, NEW = "Hello, 網走", "こんにちは、あばしり"


def _sed_line() -> list[str]:
    lines = [
        line.removeprefix("$ ")
        for line in README.read_text(encoding="utf-8").splitlines()
        if line.startswith("$ sed -i ") and OLD in line
    ]
    assert len(lines) == 1, lines
    return shlex.split(lines[0])


def test_the_walkthrough_sed_changes_every_copy_of_the_greeting(tmp_path: Path) -> None:
    init(tmp_path, Config())
    holding = sorted(
        path.relative_to(tmp_path).as_posix()
        for path in tmp_path.rglob("*")
        if path.is_file() and OLD in path.read_text(encoding="utf-8", errors="replace")
    )
    assert holding == ["bluegreen.toml", "webapp/app/main.py", "webapp/tests/test_main.py"]
    command = _sed_line()
    assert sorted(command[3:]) == holding  # the sed names exactly those files
    subprocess.run(command, cwd=tmp_path, check=True)
    left = [p for p in tmp_path.rglob("*") if p.is_file() and OLD in p.read_text("utf-8")]
    assert left == []
    assert load(tmp_path / "bluegreen.toml").app.greeting == NEW
    # The app's own test passes on the changed app (what the release ships).
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=tmp_path / "webapp",
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"\d+ passed", done.stdout)
