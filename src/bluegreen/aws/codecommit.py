"""CodeCommit: the application repository's first commit, made through the API.

The pipeline stack's creation triggers the pipeline's first run, which fails on an empty
branch. ``deploy`` therefore commits the local repository files before creating that
stack. CreateCommit with putFiles needs no git credentials (no HTTPS git user, no
credential helper), which is why it is used instead of ``git push``. Its quotas shape
the batching: at most 100 files per commit, 6 MB per file, about 6-7 MB of content per
commit, so the files go in several chained commits when needed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bluegreen.aws.errors import AwsCallError, call
from bluegreen.errors import RepositoryError

MAX_FILES_PER_COMMIT = 100
MAX_FILE_BYTES = 6 * 1024 * 1024
MAX_COMMIT_BYTES = 5 * 1024 * 1024
"""Below CodeCommit's 6 MB folder / 7 MB per-commit limits, leaving room for encoding."""

EXCLUDED_DIRS = frozenset(
    {
        ".git",
        ".bluegreen",
        ".venv",
        "venv",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".tox",
        "node_modules",
        ".idea",
        ".vscode",
    }
)
EXCLUDED_FILES = frozenset({".DS_Store"})
EXCLUDED_SUFFIXES = (".pyc", ".pyo")


@dataclass(frozen=True)
class RepoFile:
    path: str
    content: bytes
    executable: bool


@dataclass(frozen=True)
class FirstCommit:
    """What :func:`commit_if_empty` did: the commit ids made, or why it made none."""

    repository: str
    branch: str
    commits: list[str]
    files: int
    skipped: str = ""


def collect_files(root: Path, required: Iterable[str] = ()) -> list[RepoFile]:
    """The files under ``root`` to commit, sorted; tool and cache directories excluded.

    ``required`` are repository paths that must be present (the files ``bluegreen init``
    writes); a missing one is a :class:`RepositoryError`, found before anything changes.
    """
    files: list[RepoFile] = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in EXCLUDED_DIRS)
        for name in sorted(names):
            if name in EXCLUDED_FILES or name.endswith(EXCLUDED_SUFFIXES):
                continue
            full = Path(folder) / name
            if full.is_symlink() or not full.is_file():
                continue
            rel = full.relative_to(root).as_posix()
            size = full.stat().st_size
            if size > MAX_FILE_BYTES:
                raise RepositoryError(
                    f"{rel} is {size} bytes; CodeCommit's API accepts files up to 6 MB",
                    hint="remove it from the repository directory or push the first commit "
                    "with git yourself, then run deploy again",
                )
            files.append(
                RepoFile(
                    path=rel,
                    content=full.read_bytes(),
                    executable=bool(full.stat().st_mode & 0o111),
                )
            )
    present = {f.path for f in files}
    missing = sorted(p for p in required if p not in present)
    if missing:
        raise RepositoryError(
            f"the application repository in {root} is missing {', '.join(missing)}",
            hint="run `bluegreen init` to write the repository files, or restore them",
        )
    return files


def batches(files: list[RepoFile]) -> list[list[RepoFile]]:
    """Split files into commits that respect the per-commit file-count and size limits."""
    result: list[list[RepoFile]] = []
    current: list[RepoFile] = []
    size = 0
    for item in files:
        too_many = len(current) >= MAX_FILES_PER_COMMIT
        too_big = current and size + len(item.content) > MAX_COMMIT_BYTES
        if too_many or too_big:
            result.append(current)
            current, size = [], 0
        current.append(item)
        size += len(item.content)
    if current:
        result.append(current)
    return result


def branch_head(codecommit: Any, repository: str, branch: str) -> str | None:
    """The branch's commit id, or None when the branch does not exist."""
    try:
        found = call(codecommit, "get_branch", repositoryName=repository, branchName=branch)
    except AwsCallError as exc:
        if exc.code == "BranchDoesNotExistException":
            return None
        raise
    head: str | None = found.get("branch", {}).get("commitId")
    return head


def commit_if_empty(
    codecommit: Any, repository: str, branch: str, files: list[RepoFile]
) -> FirstCommit:
    """Commit ``files`` to ``branch`` when the branch does not exist yet.

    A branch that exists is left alone (the user owns its history). A repository with
    other branches but not this one is left alone too: CreateCommit cannot start a branch
    from another, so the user pushes it.
    """
    if branch_head(codecommit, repository, branch) is not None:
        return FirstCommit(repository, branch, [], 0, skipped="the branch already has commits")
    listed = call(codecommit, "list_branches", repositoryName=repository).get("branches", [])
    if listed:
        return FirstCommit(
            repository,
            branch,
            [],
            0,
            skipped=f"the repository has other branches ({', '.join(sorted(listed))}) but "
            f"not {branch}: push {branch} with git",
        )
    if not files:
        raise RepositoryError(
            "no repository files to commit", hint="run `bluegreen init` to write them"
        )
    parent: str | None = None
    made: list[str] = []
    groups = batches(files)
    for number, group in enumerate(groups, start=1):
        kwargs: dict[str, Any] = {
            "repositoryName": repository,
            "branchName": branch,
            "authorName": "bluegreen",
            "commitMessage": "Initial commit by bluegreen deploy"
            + (f" ({number}/{len(groups)})" if len(groups) > 1 else ""),
            "putFiles": [
                {
                    "filePath": f.path,
                    "fileContent": f.content,
                    "fileMode": "EXECUTABLE" if f.executable else "NORMAL",
                }
                for f in group
            ],
        }
        if parent is not None:
            kwargs["parentCommitId"] = parent
        parent = call(codecommit, "create_commit", **kwargs)["commitId"]
        made.append(parent)
    return FirstCommit(repository, branch, made, len(files))
