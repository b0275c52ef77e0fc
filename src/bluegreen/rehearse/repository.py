"""The application repository of a rehearsal: a real git repository, one commit per release.

The pipeline's Source stage hands CodeBuild a commit, and the builds tag images with its
first 8 characters, so the rehearsal needs real commits, not copies of files. git runs as
a subprocess with a fixed author and committer, dates from the simulated clock, and no
user or system configuration (no hooks, no signing), so the same tree always gives the
same commit ids. The user's own files are never touched: the rehearsal works on a copy.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bluegreen.errors import OperationError, RehearsalError, UsageError

AUTHOR = "bluegreen rehearsal"
EMAIL = "rehearsal@bluegreen.invalid"
# Never copied from a user's working tree into the rehearsal.
_SKIP = {".git", ".venv", "venv", "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"}


@dataclass(frozen=True)
class Commit:
    sha: str
    message: str
    files: tuple[str, ...]

    @property
    def short(self) -> str:
        return self.sha[:8]


class Repository:
    """A git working tree under the rehearsal's temporary directory."""

    def __init__(self, path: Path, branch: str) -> None:
        self.path = path
        self.branch = branch
        if shutil.which("git") is None:
            raise UsageError(
                "the rehearsal needs git (each release is a commit) and git is not on PATH",
                hint="install git (apt install git, brew install git, ...) and run it again",
            )
        home = path.parent / "git-home"
        home.mkdir(exist_ok=True)
        self._env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(home),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_AUTHOR_NAME": AUTHOR,
            "GIT_AUTHOR_EMAIL": EMAIL,
            "GIT_COMMITTER_NAME": AUTHOR,
            "GIT_COMMITTER_EMAIL": EMAIL,
            "LC_ALL": "C",
        }

    @classmethod
    def create(cls, path: Path, branch: str) -> Repository:
        path.mkdir(parents=True, exist_ok=True)
        repo = cls(path, branch)
        repo.git("init", "-q")
        repo.git("symbolic-ref", "HEAD", f"refs/heads/{branch}")
        return repo

    def git(self, *args: str, when: datetime | None = None) -> str:
        env = dict(self._env)
        if when is not None:
            env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = when.isoformat()
        command = ["git", "-c", "core.hooksPath=/dev/null", "-c", "commit.gpgsign=false", *args]
        done = subprocess.run(
            command, cwd=self.path, env=env, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise OperationError(
                f"git {' '.join(args)} failed in the rehearsal's repository: "
                f"{done.stderr.strip() or done.stdout.strip()}"
            )
        return done.stdout

    def commit(self, message: str, when: datetime) -> Commit:
        """Commit the whole working tree; refuses an empty release."""
        self.git("add", "-A")
        changed = self.git("diff", "--cached", "--name-only").split()
        if not changed:
            raise RehearsalError(f"release {message!r} changes nothing; there is nothing to deploy")
        self.git("commit", "-q", "-m", message, when=when)
        sha = self.git("rev-parse", "HEAD").strip()
        return Commit(sha, message, tuple(changed))

    def show(self, commit: Commit, path: str) -> str | None:
        """The text of ``path`` at ``commit``, or None when the commit has no such file."""
        listed = self.git("ls-tree", "--name-only", commit.sha, "--", path).strip()
        if not listed:
            return None
        return self.git("show", f"{commit.sha}:{path}")

    def tree_id(self, commit: Commit, path: str) -> str:
        """git's id of ``path`` (a directory or file) at ``commit``: a content hash."""
        spec = f"{commit.sha}:{path.strip('/')}" if path.strip("/.") else f"{commit.sha}^{{tree}}"
        return self.git("rev-parse", spec).strip()


def copy_tree(source: Path, target: Path) -> None:
    """Copy a working tree (without .git, virtualenvs and caches) for the rehearsal."""

    def ignore(folder: str, names: list[str]) -> set[str]:
        return {name for name in names if name in _SKIP}

    shutil.copytree(source, target, ignore=ignore, symlinks=True, dirs_exist_ok=True)


def replace_text(root: Path, directory: str, old: str, new: str) -> list[str]:
    """Replace ``old`` by ``new`` in every text file under ``root/directory``; the
    changed paths, relative to ``root``."""
    changed = []
    for path in sorted((root / directory).rglob("*")):
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        if old in text:
            path.write_text(text.replace(old, new), encoding="utf-8")
            changed.append(path.relative_to(root).as_posix())
    return changed
