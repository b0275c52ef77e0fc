"""The real CLI against the emulated AWS: fixtures for end-to-end tests (no tests here).

    def test_something(emulated: Emulated) -> None:
        emulated.cli("deploy", "--yes")              # exit code, stdout, stderr
        emulated.push("Say hello", {"webapp/app/main.py": "..."})
        emulated.cli("status")

The commands get their AWS clients and their sleep through the CLI's two seams
(``bluegreen.cli.common.make_clients`` and ``sleep``): clients of the emulated account,
and simulated time. So every command runs its real code, unchanged, against an AWS with
state; nothing is stubbed.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bluegreen.config import Config
from bluegreen.emulator import Emulator

T0 = datetime(2021, 9, 19, 1, 0, tzinfo=UTC)
REGION = "ap-northeast-1"


@dataclass
class Result:
    code: int
    out: str
    err: str


class Emulated:
    """An emulated AWS account, the application repository, and the CLI to drive them."""

    def __init__(
        self,
        aws: Emulator,
        root: Path,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        self.aws = aws
        self.root = root
        self._capsys = capsys

    @property
    def config(self) -> Config:
        from bluegreen.config import load

        return load(self.root / "bluegreen.toml")

    def cli(self, *args: str) -> Result:
        """Run ``bluegreen <args>`` in the repository (its config), as a user would."""
        from bluegreen.cli.app import main

        self._capsys.readouterr()
        cwd = Path.cwd()
        os.chdir(self.root)
        try:
            code = main(list(args))
        finally:
            os.chdir(cwd)
        captured = self._capsys.readouterr()
        return Result(code, captured.out, captured.err)

    def git(self, *args: str) -> str:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(self.root.parent),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_AUTHOR_NAME": "A Developer",
            "GIT_AUTHOR_EMAIL": "dev@example.invalid",
            "GIT_COMMITTER_NAME": "A Developer",
            "GIT_COMMITTER_EMAIL": "dev@example.invalid",
            "GIT_AUTHOR_DATE": self.aws.now().isoformat(),
            "GIT_COMMITTER_DATE": self.aws.now().isoformat(),
        }
        done = subprocess.run(
            ["git", "-c", "core.hooksPath=/dev/null", *args],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout

    def remote(self) -> Path:
        """The emulated CodeCommit repository as a git remote (what the sandbox prints)."""
        from bluegreen.names import Names

        codecommit = self.aws.service("codecommit")
        path: Path = codecommit.local_remote(Names.of(self.config).codecommit_repository)
        return path

    def adopt_first_commit(self) -> None:
        """After ``deploy`` made the first commit through the API: the local repository
        takes that commit as its branch (`git fetch` + `git reset`, as a user does)."""
        if not (self.root / ".git").exists():
            self.git("init", "-q", "-b", self.config.source.branch)
        self.git("fetch", "-q", str(self.remote()), self.config.source.branch)
        self.git("reset", "-q", "--mixed", "FETCH_HEAD")

    def push(self, message: str, files: dict[str, str]) -> str:
        """Change ``files``, commit and ``git push`` to the emulated repository; the
        commit id. CodeCommit sees the push at its next poll (the clock moves then)."""
        for path, text in files.items():
            target = self.root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        self.git("push", "-q", str(self.remote()), f"HEAD:refs/heads/{self.config.source.branch}")
        self.aws.service("codecommit").check_pushes()
        return self.git("rev-parse", "HEAD").strip()

    def sleep(self, seconds: float) -> None:
        self.aws.sleep(seconds)

    def configure(self, section: str, **values: object) -> None:
        """Set keys of ``[section]`` in bluegreen.toml, as a user edits the scaffold's file
        (a value of None removes the key). Strings are quoted, numbers written as is."""
        lines = (self.root / "bluegreen.toml").read_text(encoding="utf-8").splitlines()
        current = ""
        out: list[str] = []
        pending = dict(values)
        for line in lines:
            stripped = line.strip()
            if stripped.startswith("[") and stripped.endswith("]"):
                if current == section:
                    out += [_toml(k, v) for k, v in pending.items() if v is not None]
                    pending = {}
                current = stripped[1:-1]
            key = stripped.split("=", 1)[0].strip() if "=" in stripped else ""
            if current == section and key in pending and not stripped.startswith("#"):
                value = pending.pop(key)
                if value is not None:
                    out.append(_toml(key, value))
                continue
            out.append(line)
        if pending and current == section:
            out += [_toml(k, v) for k, v in pending.items() if v is not None]
        elif pending:
            out += ["", f"[{section}]", *(_toml(k, v) for k, v in pending.items() if v is not None)]
        (self.root / "bluegreen.toml").write_text("\n".join(out) + "\n", encoding="utf-8")

    def until(self, condition: Callable[[], bool], limit: float = 3600, step: float = 5) -> float:
        """Let simulated time pass, ``step`` seconds at a time, until ``condition()`` holds
        (read it through the emulated API, not through bluegreen's code); the seconds
        waited. AssertionError after ``limit`` seconds."""
        waited = 0.0
        while not condition():
            if waited >= limit:
                raise AssertionError(f"still not the case after {waited:g} simulated seconds")
            self.aws.sleep(step)
            waited += step
        return waited


def _toml(key: str, value: object) -> str:
    text = (
        f'"{value}"'
        if isinstance(value, str)
        else str(value).lower()
        if isinstance(value, bool)
        else str(value)
    )
    return f"{key} = {text}"


@contextmanager
def wired(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    config: Config,
) -> Iterator[Emulated]:
    """A fresh emulated account and the `bluegreen init` scaffold of ``config``, the CLI
    wired to it (its AWS clients, its simulated sleep, no terminal)."""
    from bluegreen.appkit import init
    from bluegreen.cli import common

    root = tmp_path / "app"
    init(root, config)
    with Emulator(REGION, start=T0, work_dir=tmp_path / "aws") as aws:

        def make_clients(config: Config, profile: str | None, region: str | None) -> Any:
            # as the real seam does: JSON failure documents name the region
            common.invocation().region = region or config.project.region
            return aws.clients()

        monkeypatch.setattr(common, "make_clients", make_clients)
        monkeypatch.setattr(common, "sleep", aws.sleep)
        monkeypatch.setattr(common, "interactive", lambda: False)
        yield Emulated(aws, root, capsys)


@pytest.fixture
def emulated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Emulated]:
    """A fresh emulated account and a fresh `bluegreen init` scaffold, the CLI wired to it."""
    with wired(tmp_path, monkeypatch, capsys, Config()) as emulated:
        yield emulated
