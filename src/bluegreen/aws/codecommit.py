"""CodeCommit: the application repository's first commit, made through the API.

The pipeline stack's creation triggers the pipeline's first run, which fails on an empty
branch. ``deploy`` therefore commits the local repository files before creating that
stack. CreateCommit with putFiles needs no git credentials (no HTTPS git user, no
credential helper), which is why it is used instead of ``git push``.

Which files: the ones git would commit. Inside a git work tree that is
``git ls-files --cached --others --exclude-standard`` (tracked files, plus untracked files
``.gitignore`` does not exclude); outside one, the same listing against a throw-away git
directory, so the repository's own ``.gitignore`` files still apply; without git, the
``pathspec`` library's implementation of gitignore (when it is installed); otherwise the
deploy refuses rather than commit ignored files. git runs with a clean environment (no
system or global configuration, no hooks, no fsmonitor), as the rehearsal does. Obvious
secret files (``.env*``, private keys, ``.aws/``) are refused even when not ignored,
unless the caller allows them.

One atomic commit. CreateCommit makes one commit or nothing, so the first commit is
always exactly one CreateCommit: a failure leaves the branch empty and a rerun starts
over, where chained commits could leave a partial tree that a rerun would mistake for a
finished first commit. The price is CodeCommit's per-commit limits (below): a repository
beyond them is refused before anything changes, with the way out (push the first commit
with git, then deploy again; deploy leaves a branch that has commits alone).

CodeCommit's API limits, and where they come from:

* a file: at most 6 MB (6,291,456 bytes), and not empty. The botocore model of
  CodeCommit gives ``FileContent`` a maximum of 6291456 bytes; the quotas page
  (https://docs.aws.amazon.com/codecommit/latest/userguide/limits.html, "File size":
  "Maximum of 6 MB for any individual file when using the CodeCommit console, APIs, or
  the AWS CLI"); ``FileContentRequiredException``: "The file cannot be added because it is
  empty. Empty files cannot be added to the repository with this API." (CreateCommit
  itself lists ``SourceFileOrContentRequiredException``; aws/aws-cdk#19012 reports empty
  ``__init__.py`` files failing a repository's initial commit.)
* a commit's content: ``FileContentSizeLimitExceededException`` ("the combined file
  content change size is 7 MB") and ``FolderContentSizeLimitExceededException`` ("a
  folder whose contents exceed the limit of 6 MB"). A first commit puts every file under
  the repository's root folder, so the smaller figure, 6 MB (the same MB as the 6291456
  bytes above), is the budget of the whole commit.
* the number of files in a commit: ``MaximumFileEntriesExceededException`` says a maximum
  exists and the quotas page gives it ("Number of files in a commit: Maximum of 100";
  awsdocs/aws-codecommit-user-guide doc_source/limits.md at bbeea671). It is not checked
  before the call: if CodeCommit refuses, the message says so and nothing was committed.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bluegreen.aws.errors import AwsCallError, call
from bluegreen.errors import OperationError, RepositoryError

MAX_FILE_BYTES = 6 * 1024 * 1024
"""CodeCommit's API limit for one file (botocore: FileContent max 6291456)."""
MAX_COMMIT_BYTES = 6 * 1024 * 1024
"""The content budget of the one first commit (the 6 MB folder limit; see the docstring)."""

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

SECRET_NAMES = (
    ".env*",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
)
"""File names refused in a first commit unless allowed (public keys ``*.pub`` excepted)."""
SECRET_DIRS = frozenset({".aws", ".ssh"})

AWS_REFUSALS = {
    "FileContentRequiredException": "a file is empty",
    "SourceFileOrContentRequiredException": "a file is empty",
    "FileContentSizeLimitExceededException": "a file, or the files together, are too large",
    "FolderContentSizeLimitExceededException": "a folder's files together are too large",
    "MaximumFileEntriesExceededException": "the commit has more files than CreateCommit takes",
}
"""CreateCommit errors that mean "these files cannot be one API commit" (botocore model)."""

PUSH_WITH_GIT = (
    "push the first commit with git instead (git remote add codecommit <the repository's "
    "clone URL> && git push codecommit HEAD:{branch}), then run `bluegreen deploy` again: "
    "it leaves a branch that has commits alone"
)


@dataclass(frozen=True)
class RepoFile:
    path: str
    content: bytes
    executable: bool


@dataclass(frozen=True)
class FirstCommit:
    """What :func:`commit_if_empty` did: the commit id made, or why it made none."""

    repository: str
    branch: str
    commits: list[str]
    files: int
    skipped: str = ""


@dataclass(frozen=True)
class Listing:
    """The repository paths a first commit would take, and how they were chosen."""

    paths: list[str]
    source: str  # "git work tree", ".gitignore (git)", ".gitignore (pathspec)"


# ---- which files ----------------------------------------------------------------------


def _git_env(home: str) -> dict[str, str]:
    """git with no system or global configuration: the user's settings cannot run
    programs (hooks, fsmonitor) or change what is listed."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": home,
        "XDG_CONFIG_HOME": home,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_TERMINAL_PROMPT": "0",
        "LC_ALL": "C",
    }


_GIT_SAFE = ("-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false")


def _git(root: Path, home: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["git", *_GIT_SAFE, *args],
        cwd=root,
        env=_git_env(home),
        capture_output=True,
        check=False,
    )


def _split(output: bytes) -> list[str]:
    names = [p.decode("utf-8", "surrogateescape") for p in output.split(b"\0") if p]
    # An untracked nested repository is listed as a directory ("sub/"): not a file.
    return [n for n in names if not n.endswith("/")]


def list_paths(root: Path) -> Listing:
    """The paths under ``root`` that git would commit (see the module docstring)."""
    if shutil.which("git") is not None:
        with tempfile.TemporaryDirectory(prefix="bluegreen-git-") as home:
            inside = _git(root, home, "rev-parse", "--is-inside-work-tree")
            if inside.returncode == 0 and inside.stdout.strip() == b"true":
                listed = _git(
                    root, home, "ls-files", "--cached", "--others", "--exclude-standard", "-z"
                )
                source = "git work tree"
            else:
                # Not a work tree: list it against an empty repository of our own, so
                # the .gitignore files in it decide, exactly as git would.
                probe = Path(home) / "probe"
                made = _git(Path(home), home, "init", "-q", str(probe))
                if made.returncode != 0:
                    raise _git_failed(root, made)
                listed = _git(
                    root,
                    home,
                    f"--git-dir={probe / '.git'}",
                    f"--work-tree={root}",
                    "ls-files",
                    "--others",
                    "--exclude-standard",
                    "-z",
                )
                source = ".gitignore (git)"
            if listed.returncode != 0:
                raise _git_failed(root, listed)
            return Listing(sorted(set(_split(listed.stdout))), source)
    return Listing(_pathspec_paths(root), ".gitignore (pathspec)")


def _git_failed(root: Path, done: subprocess.CompletedProcess[bytes]) -> RepositoryError:
    reason = done.stderr.decode("utf-8", "replace").strip() or f"exit {done.returncode}"
    return RepositoryError(
        f"cannot list the repository files in {root} with git: {reason}",
        hint="fix the git repository (or run deploy from a directory git can read)",
    )


def _pathspec_paths(root: Path) -> list[str]:
    """gitignore semantics without git, through the pathspec library when installed."""
    try:
        import pathspec
    except ImportError:
        raise RepositoryError(
            f"cannot tell which files in {root} .gitignore excludes: git is not on PATH "
            "and the pathspec library is not installed",
            hint="install git (or `pip install pathspec`) and run deploy again; bluegreen "
            "does not commit files without honouring .gitignore",
        ) from None
    found: list[str] = []
    specs: list[tuple[str, Any]] = []  # (directory prefix, spec), outermost first

    def ignored(rel: str, is_dir: bool) -> bool:
        verdict = False
        for prefix, spec in specs:
            if prefix and not rel.startswith(prefix):
                continue
            local = rel[len(prefix) :] + ("/" if is_dir else "")
            result = spec.check_file(local)
            if result.include is not None:  # the last matching pattern decides
                verdict = bool(result.include)
        return verdict

    for folder, dirs, names in os.walk(root):
        base = Path(folder).relative_to(root).as_posix()
        prefix = "" if base == "." else base + "/"
        specs[:] = [(p, s) for p, s in specs if not p or prefix.startswith(p)]
        rules = Path(folder) / ".gitignore"
        if rules.is_file():
            lines = rules.read_text(encoding="utf-8", errors="replace").splitlines()
            specs.append((prefix, pathspec.GitIgnoreSpec.from_lines(lines)))
        dirs[:] = sorted(d for d in dirs if d != ".git" and not ignored(prefix + d, True))
        found.extend(prefix + n for n in sorted(names) if not ignored(prefix + n, False))
    return sorted(found)


def _excluded(path: str) -> bool:
    parts = path.split("/")
    name = parts[-1]
    return (
        any(p in EXCLUDED_DIRS for p in parts[:-1])
        or name in EXCLUDED_FILES
        or name.endswith(EXCLUDED_SUFFIXES)
    )


def is_secret(path: str) -> bool:
    """Whether ``path`` looks like a credential or private key file."""
    parts = path.split("/")
    name = parts[-1]
    if name.endswith(".pub"):
        return False
    return any(p in SECRET_DIRS for p in parts[:-1]) or any(
        fnmatch.fnmatchcase(name, pattern) for pattern in SECRET_NAMES
    )


def collect_files(
    root: Path, required: Iterable[str] = (), *, allow_secrets: bool = False
) -> list[RepoFile]:
    """The files of ``root`` for the first commit, sorted, checked against CodeCommit's
    limits before anything changes.

    Raises :class:`RepositoryError` naming every problem at once: a ``required`` path
    (the files ``bluegreen init`` writes) missing, an empty file, a file over 6 MB, all
    files together over the commit budget, or a secret file (unless ``allow_secrets``).
    """
    listing = list_paths(root)
    files: list[RepoFile] = []
    for rel in listing.paths:
        if _excluded(rel):
            continue
        full = root / rel
        if full.is_symlink() or not full.is_file():
            continue
        files.append(
            RepoFile(
                path=rel,
                content=full.read_bytes(),
                executable=bool(full.stat().st_mode & 0o111),
            )
        )
    problems = file_problems(files, required, allow_secrets=allow_secrets)
    if problems:
        raise RepositoryError(
            f"the repository in {root} cannot be the first commit (made through the "
            "CodeCommit API):\n" + "\n".join(f"  {p}" for p in problems),
            hint="nothing was changed; fix the files named above (an empty file needs a "
            "line, for example a comment), add what must not be committed to .gitignore, "
            "or push the first commit with git yourself and run deploy again",
        )
    return files


def file_problems(
    files: list[RepoFile], required: Iterable[str] = (), *, allow_secrets: bool = False
) -> list[str]:
    """Every reason ``files`` cannot be the first commit, one line each."""
    problems: list[str] = []
    present = {f.path for f in files}
    missing = sorted(p for p in required if p not in present)
    if missing:
        problems.append(
            f"missing {', '.join(missing)} (run `bluegreen init . --restore` in the "
            "repository to write them)"
        )
    for f in files:
        size = len(f.content)
        if size == 0:
            problems.append(f"{f.path} is empty; CodeCommit's API refuses empty files")
        elif size > MAX_FILE_BYTES:
            problems.append(
                f"{f.path} is {size} bytes; CodeCommit's API takes files up to "
                f"{MAX_FILE_BYTES} bytes (6 MB)"
            )
    total = sum(len(f.content) for f in files)
    if total > MAX_COMMIT_BYTES:
        problems.append(
            f"the files together are {total} bytes; one CodeCommit API commit takes at most "
            f"{MAX_COMMIT_BYTES} bytes (6 MB)"
        )
    if not allow_secrets:
        secrets = [f.path for f in files if is_secret(f.path)]
        if secrets:
            problems.append(
                f"{', '.join(secrets)} look like secrets (credentials or private keys); add "
                "them to .gitignore, or pass --allow-secret-files to commit them"
            )
    if not files:
        problems.append("there are no files to commit (run `bluegreen init` to write them)")
    return problems


# ---- the commit -------------------------------------------------------------------------


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
    """Commit ``files`` to ``branch``, in one CreateCommit, when the branch does not exist.

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
    problems = file_problems(files)
    if problems:  # collect_files refuses these first; this guards direct callers
        raise RepositoryError("; ".join(problems))
    try:
        made = call(
            codecommit,
            "create_commit",
            repositoryName=repository,
            branchName=branch,
            authorName="bluegreen",
            commitMessage="Initial commit by bluegreen deploy",
            putFiles=[
                {
                    "filePath": f.path,
                    "fileContent": f.content,
                    "fileMode": "EXECUTABLE" if f.executable else "NORMAL",
                }
                for f in files
            ],
        )
    except AwsCallError as exc:
        what = AWS_REFUSALS.get(exc.code)
        if what is None:
            raise
        raise OperationError(
            f"CodeCommit refused the first commit of {len(files)} files to {repository}: "
            f"{what} ({exc.code}); nothing was committed (CreateCommit is atomic)",
            hint=PUSH_WITH_GIT.format(branch=branch),
        ) from exc
    return FirstCommit(repository, branch, [made["commitId"]], len(files))
