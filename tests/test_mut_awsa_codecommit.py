"""The first commit's files and messages, each rule at its edge (complements
test_aws_first_commit.py).

Sources: CodeCommit's CreateCommit errors and limits are in botocore's CodeCommit model
(FileContent max 6291456 bytes; FileContentRequiredException, SourceFileOrContentRequired
Exception, FileContentSizeLimitExceededException, FolderContentSizeLimitExceededException,
MaximumFileEntriesExceededException; BranchDoesNotExistException for GetBranch). The
per-commit limits are CodeCommit's quotas page
(https://docs.aws.amazon.com/codecommit/latest/userguide/limits.html; its source,
awsdocs/aws-codecommit-user-guide doc_source/limits.md at bbeea671): "File size: Maximum of
6 MB for any individual file when using the CodeCommit console, APIs, or the AWS CLI",
"Number of files in a commit: Maximum of 100"; the whole commit's 6 MB is
FolderContentSizeLimitExceededException's "a folder whose contents exceed the limit of
6 MB" (every first-commit file is under the root folder). "Nothing was committed": one
CreateCommit makes one commit ("Creates a commit for a repository on the tip of a specified
branch", CodeCommit API reference), and a call answered with an error made none (the
emulated branch stays empty after a refusal, below and in test_mut_awsa_deploy). git's
``ls-files --others`` lists an untracked nested repository as ``dir/`` (git-ls-files
documentation, --directory behaviour of untracked repositories).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from git_support import SIX_MB, git, needs_git, write
from test_aws_support import Stubs

from bluegreen.aws import codecommit
from bluegreen.aws.errors import AwsCallError
from bluegreen.emulator import Emulator
from bluegreen.errors import OperationError, RepositoryError

REPO = "sample3-dev-webappservice"


@pytest.mark.parametrize(
    "left_out",
    [
        ".git/config",
        ".bluegreen/state.json",
        ".venv/x.py",
        "venv/x.py",
        "deep/__pycache__/m.py",
        ".mypy_cache/x.json",
        ".pytest_cache/v",
        ".ruff_cache/x",
        ".tox/x",
        "web/node_modules/x.js",
        ".idea/x.xml",
        ".vscode/settings.json",
        "deep/.DS_Store",
        "m.pyc",
        "m.pyo",
    ],
)
def test_tool_files_are_left_out(tmp_path: Path, left_out: str) -> None:
    root = write(tmp_path / "repo", {"app.py": b"x\n", left_out: b"x\n"})
    assert [f.path for f in codecommit.collect_files(root)] == ["app.py"]


@pytest.mark.parametrize(
    "kept", ["node_modules.md", "venv.txt", "x.pyc.txt", "DS_Store", "docs/.vscode.md"]
)
def test_files_that_only_look_like_tool_files_stay(tmp_path: Path, kept: str) -> None:
    root = write(tmp_path / "repo", {kept: b"x\n"})
    assert [f.path for f in codecommit.collect_files(root)] == [kept]


@pytest.mark.parametrize(
    "path",
    ["a.p12", "b.pfx", "keys/id_dsa", "keys/id_ecdsa", ".ssh/known_hosts", "x/.aws/config"],
)
def test_every_secret_pattern(path: str) -> None:
    assert codecommit.is_secret(path)


@pytest.mark.parametrize("path", ["id_ecdsa.pub", "aws/config", "ssh/x", "p12.txt", "a.env"])
def test_look_alikes_are_not_secrets(path: str) -> None:
    assert not codecommit.is_secret(path)


def test_the_problems_read_as_one_line_each() -> None:
    files = [
        codecommit.RepoFile("a.key", b"k", False),
        codecommit.RepoFile("b/.env", b"e", False),
    ]
    assert codecommit.file_problems(files, ["taskdef.json", "appspec.yml", "a.key"]) == [
        "missing appspec.yml, taskdef.json (run `bluegreen init . --restore` in the "
        "repository to write them)",
        "a.key, b/.env look like secrets (credentials or private keys); add them to "
        ".gitignore, or pass --allow-secret-files to commit them",
    ]
    assert codecommit.file_problems([]) == [
        "there are no files to commit (run `bluegreen init` to write them)"
    ]
    assert codecommit.file_problems([codecommit.RepoFile("x", b"x" * SIX_MB, False)]) == []
    over = [codecommit.RepoFile("x", b"x" * (SIX_MB + 1), False)]
    assert codecommit.file_problems(over) == [
        f"x is {SIX_MB + 1} bytes; CodeCommit's API takes files up to {SIX_MB} bytes (6 MB)",
        f"the files together are {SIX_MB + 1} bytes; one CodeCommit API commit takes at most "
        f"{SIX_MB} bytes (6 MB)",
    ]
    assert codecommit.file_problems([codecommit.RepoFile("one", b"1", False)]) == []


def test_the_refusal_names_the_repository_and_what_to_do(tmp_path: Path) -> None:
    root = write(tmp_path / "repo", {"empty.txt": b""})
    with pytest.raises(RepositoryError) as info:
        codecommit.collect_files(root)
    assert info.value.message == (
        f"the repository in {root} cannot be the first commit (made through the CodeCommit "
        "API):\n  empty.txt is empty; CodeCommit's API refuses empty files"
    )
    assert info.value.hint == (
        "nothing was changed; fix the files named above (an empty file needs a line, for "
        "example a comment), add what must not be committed to .gitignore, or push the "
        "first commit with git yourself and run deploy again"
    )


@needs_git
def test_links_and_nested_repositories_are_not_files(tmp_path: Path) -> None:
    root = write(tmp_path / "repo", {"app.py": b"x\n", "run.sh": b"#!/bin/sh\n"})
    (root / "run.sh").chmod(0o755)
    (root / "link.py").symlink_to(root / "app.py")
    nested = write(root / "vendor", {"lib.py": b"x\n"})
    git(nested, "init", "-q")
    git(root, "init", "-q")
    files = codecommit.collect_files(root)
    assert [(f.path, f.executable) for f in files] == [("app.py", False), ("run.sh", True)]
    assert files[0].content == b"x\n"
    assert codecommit.list_paths(root).source == "git work tree"


@needs_git
def test_a_broken_repository_is_refused_with_gits_reason(tmp_path: Path) -> None:
    root = write(tmp_path / "repo", {"app.py": b"x\n"})
    git(root, "init", "-q")
    (root / ".git" / "index").write_bytes(b"not an index")
    with pytest.raises(RepositoryError) as info:
        codecommit.list_paths(root)
    assert info.value.message.startswith(f"cannot list the repository files in {root} with git: ")
    assert "index" in info.value.message
    assert info.value.hint == (
        "fix the git repository (or run deploy from a directory git can read)"
    )


# ---- the commit --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "what"),
    [
        ("FileContentRequiredException", "a file is empty"),
        ("SourceFileOrContentRequiredException", "a file is empty"),
        ("FileContentSizeLimitExceededException", "a file, or the files together, are too large"),
        ("FolderContentSizeLimitExceededException", "a folder's files together are too large"),
    ],
)
def test_each_refusal_of_the_commit_is_said_in_words(code: str, what: str) -> None:
    # Stubber: these refusals are made impossible by the checks before the call.
    s = Stubs()
    s.error("codecommit", "get_branch", "BranchDoesNotExistException", "no branch")
    s.add("codecommit", "list_branches", {"branches": []}, {"repositoryName": REPO})
    s.error("codecommit", "create_commit", code, "refused")
    files = [codecommit.RepoFile("a.py", b"a\n", False), codecommit.RepoFile("b", b"b", True)]
    with pytest.raises(OperationError) as info:
        codecommit.commit_if_empty(s.client("codecommit"), REPO, "release", files)
    assert info.value.message == (
        f"CodeCommit refused the first commit of 2 files to {REPO}: {what} ({code}); nothing "
        "was committed (CreateCommit is atomic)"
    )
    assert info.value.hint == (
        "push the first commit with git instead (git remote add codecommit <the "
        "repository's clone URL> && git push codecommit HEAD:release), then run `bluegreen "
        "deploy` again: it leaves a branch that has commits alone"
    )
    s.done()


def test_other_errors_are_passed_on() -> None:
    s = Stubs()
    s.error("codecommit", "get_branch", "RepositoryDoesNotExistException", "no repository")
    s.error("codecommit", "get_branch", "BranchDoesNotExistException", "no branch")
    s.add("codecommit", "list_branches", {"branches": []}, {"repositoryName": REPO})
    s.error("codecommit", "create_commit", "EncryptionKeyAccessDeniedException", "kms")
    client = s.client("codecommit")
    with pytest.raises(AwsCallError):
        codecommit.branch_head(client, REPO, "main")
    with pytest.raises(AwsCallError) as info:
        codecommit.commit_if_empty(client, REPO, "main", [codecommit.RepoFile("a", b"a", False)])
    assert info.value.code == "EncryptionKeyAccessDeniedException"
    s.done()


@pytest.fixture
def cc(tmp_path: Path) -> Iterator[Any]:
    with Emulator(
        "ap-northeast-1", start=datetime(2021, 9, 19, tzinfo=UTC), work_dir=tmp_path
    ) as aws:
        client = aws.client("codecommit")
        client.create_repository(repositoryName=REPO)
        yield client


def test_a_direct_caller_with_bad_files_commits_nothing(cc: Any) -> None:
    with pytest.raises(RepositoryError) as info:
        codecommit.commit_if_empty(cc, REPO, "main", [codecommit.RepoFile("e", b"", False)])
    assert info.value.message == "e is empty; CodeCommit's API refuses empty files"
    assert cc.list_branches(repositoryName=REPO)["branches"] == []


def test_the_head_of_a_branch(cc: Any) -> None:
    assert codecommit.branch_head(cc, REPO, "main") is None
    done = codecommit.commit_if_empty(cc, REPO, "main", [codecommit.RepoFile("a", b"a", False)])
    assert done == codecommit.FirstCommit(REPO, "main", done.commits, 1)
    assert codecommit.branch_head(cc, REPO, "main") == done.commits[0]
