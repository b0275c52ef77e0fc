"""The first commit: which files (git's own rules), which are refused, and the one
CreateCommit (on the emulated CodeCommit; deploy's first commit end to end is in
test_e2e_refusals.py and test_e2e_deploy.py).

The limits are written here from their sources, not read from the implementation:
botocore's CodeCommit model (FileContent max 6291456 bytes; FileContentRequiredException
for empty files) and the CodeCommit quotas page ("Maximum of 6 MB for any individual file
when using the CodeCommit console, APIs, or the AWS CLI"); the commit budget is the 6 MB
folder limit of FolderContentSizeLimitExceededException (the 7 MB combined limit of
FileContentSizeLimitExceededException is the looser one).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from git_support import SIX_MB, git, needs_git, write

from bluegreen.aws import codecommit
from bluegreen.emulator import Emulator
from bluegreen.emulator.services.codecommit import MAX_FILE_ENTRIES
from bluegreen.errors import OperationError, RepositoryError

REGION = "ap-northeast-1"
REPO = "sample3-dev-webappservice"
T0 = datetime(2021, 9, 19, 1, 0, tzinfo=UTC)


TREE: dict[str, str | bytes] = {
    ".gitignore": "*.log\nbuild/\n!keep.log\n/only-top.txt\n",
    "app.py": "print(1)\n",
    "debug.log": "x\n",
    "keep.log": "kept by a negation\n",
    "build/out.bin": "x\n",
    "only-top.txt": "ignored at the top only\n",
    "sub/only-top.txt": "not ignored below\n",
    # git reads .gitignore as bytes; a comment in Latin-1 (not UTF-8) must not stop
    # the listing (gitignore documentation: "A line starting with # serves as a comment").
    "sub/.gitignore": b"# caf\xe9\n*.tmp\n",
    "sub/a.tmp": "x\n",
    "sub/b.txt": "y\n",
    "sub/deeper/c.tmp": "x\n",
    "other/d.tmp": "not ignored outside sub\n",
    "other/build": "a file: build/ ignores directories only\n",
}
EXPECTED = [
    ".gitignore",
    "app.py",
    "keep.log",
    "other/build",
    "other/d.tmp",
    "sub/.gitignore",
    "sub/b.txt",
    "sub/only-top.txt",
]


# ---- which files --------------------------------------------------------------------------


def test_the_model_gives_the_per_file_limit() -> None:
    model = botocore.session.get_session().get_service_model("codecommit")
    assert model.shape_for("FileContent").metadata["max"] == SIX_MB
    errors = {e.name for e in model.operation_model("CreateCommit").error_shapes}
    assert {
        "MaximumFileEntriesExceededException",
        "FileContentSizeLimitExceededException",
        "FolderContentSizeLimitExceededException",
        "SourceFileOrContentRequiredException",
    } <= errors


@needs_git
def test_outside_a_work_tree_gitignore_files_decide(tmp_path: Path) -> None:
    root = write(tmp_path / "plain", TREE)
    listing = codecommit.list_paths(root)
    assert listing.source == ".gitignore (git)"
    assert listing.paths == EXPECTED


def test_without_git_pathspec_gives_the_same_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A differential check: pathspec's gitignore against git's on the same tree."""
    pytest.importorskip("pathspec")
    root = write(tmp_path / "plain", TREE)
    monkeypatch.setattr(codecommit.shutil, "which", lambda name: None)
    listing = codecommit.list_paths(root)
    assert listing.source == ".gitignore (pathspec)"
    assert listing.paths == EXPECTED


def test_without_git_or_pathspec_the_commit_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write(tmp_path / "plain", {"a.txt": "a\n"})
    monkeypatch.setattr(codecommit.shutil, "which", lambda name: None)
    monkeypatch.setitem(sys.modules, "pathspec", None)  # import fails
    with pytest.raises(RepositoryError, match="git is not on PATH and the pathspec") as info:
        codecommit.list_paths(root)
    assert info.value.exit_code == 2
    assert info.value.hint == (
        "install git (or `pip install pathspec`) and run deploy again; bluegreen does not "
        "commit files without honouring .gitignore"
    )


@needs_git
def test_inside_a_work_tree_tracked_files_stay_and_ignored_untracked_ones_go(
    tmp_path: Path,
) -> None:
    root = write(tmp_path / "repo", {".gitignore": "*.log\n", "a.py": "a\n", "forced.log": "f\n"})
    git(root, "init", "-q")
    git(root, "add", "a.py", ".gitignore")
    git(root, "add", "-f", "forced.log")  # tracked although ignored: git commits it
    git(root, "commit", "-q", "-m", "one")
    write(root, {"new.py": "n\n", "noise.log": "x\n", ".env": "SECRET=1\n"})
    (root / "a.py").unlink()  # deleted but still in the index: not a file to commit

    listing = codecommit.list_paths(root)

    assert listing.source == "git work tree"
    assert listing.paths == [".env", ".gitignore", "a.py", "forced.log", "new.py"]
    files = codecommit.collect_files(root, allow_secrets=True)
    assert [f.path for f in files] == [".env", ".gitignore", "forced.log", "new.py"]


@needs_git
def test_a_subdirectory_of_a_work_tree_lists_its_own_files(tmp_path: Path) -> None:
    top = write(
        tmp_path / "mono", {"other/x.py": "x\n", "app/a.py": "a\n", "app/.gitignore": "*.o\n"}
    )
    write(top, {"app/b.o": "o\n"})
    git(top, "init", "-q")
    assert codecommit.list_paths(top / "app").paths == [".gitignore", "a.py"]


@needs_git
def test_the_repositorys_git_config_cannot_run_a_program(tmp_path: Path) -> None:
    """git runs without hooks and with fsmonitor off: a hostile clone's .git/config
    (core.fsmonitor names a program git would run) runs nothing."""
    root = write(tmp_path / "hostile", {"a.py": "a\n"})
    git(root, "init", "-q")
    marker = tmp_path / "ran"
    git(root, "config", "core.fsmonitor", f"touch {marker}; false")
    codecommit.list_paths(root)
    assert not marker.exists()


# ---- which files are refused ------------------------------------------------------------------


def test_every_problem_is_named_at_once(tmp_path: Path) -> None:
    root = write(
        tmp_path / "repo",
        {
            "empty.py": b"",
            "big.bin": b"x" * (SIX_MB + 1),
            ".env": "DB_PASSWORD=hunter2\n",
            "app.py": "ok\n",
        },
    )
    with pytest.raises(RepositoryError) as info:
        codecommit.collect_files(root, ["taskdef.json"])
    text = str(info.value)
    assert "missing taskdef.json" in text
    assert "empty.py is empty; CodeCommit's API refuses empty files" in text
    assert f"big.bin is {SIX_MB + 1} bytes; CodeCommit's API takes files up to {SIX_MB}" in text
    assert ".env look like secrets" in text and "--allow-secret-files" in text
    assert "nothing was changed" in text and info.value.exit_code == 2


def test_a_file_of_exactly_six_mb_is_accepted(tmp_path: Path) -> None:
    root = write(tmp_path / "repo", {"big.bin": b"x" * SIX_MB})
    [only] = codecommit.collect_files(root)
    assert len(only.content) == SIX_MB


def test_one_byte_more_than_six_mb_in_all_is_refused(tmp_path: Path) -> None:
    half = SIX_MB // 2
    at_limit = write(tmp_path / "at", {"a.bin": b"x" * half, "b.bin": b"x" * half})
    assert len(codecommit.collect_files(at_limit)) == 2
    over = write(tmp_path / "over", {"a.bin": b"x" * half, "b.bin": b"x" * (half + 1)})
    with pytest.raises(RepositoryError, match=f"the files together are {SIX_MB + 1} bytes"):
        codecommit.collect_files(over)


@pytest.mark.parametrize(
    ("path", "secret"),
    [
        (".env", True),
        (".env.production", True),
        ("config/.envrc", True),
        ("certs/server.pem", True),
        ("server.key", True),
        ("keys/id_rsa", True),
        ("keys/id_ed25519", True),
        ("keys/id_rsa.pub", False),
        (".aws/credentials", True),
        ("deploy/.ssh/config", True),
        ("webapp/app/main.py", False),
        ("docs/environment.md", False),
        ("keyboard.py", False),
    ],
)
def test_secret_looking_files(path: str, secret: bool) -> None:
    assert codecommit.is_secret(path) is secret


def test_secrets_pass_when_allowed(tmp_path: Path) -> None:
    root = write(tmp_path / "repo", {".env": "A=1\n", "app.py": "x\n"})
    with pytest.raises(RepositoryError):
        codecommit.collect_files(root)
    assert [f.path for f in codecommit.collect_files(root, allow_secrets=True)] == [
        ".env",
        "app.py",
    ]


def test_tool_directories_and_caches_are_left_out(tmp_path: Path) -> None:
    root = write(
        tmp_path / "repo",
        {
            "a.py": "a\n",
            ".venv/lib/x.py": "x\n",
            "webapp/__pycache__/m.cpython-311.pyc": b"\0",
            "b.pyc": b"\0",
            ".bluegreen/out.yaml": "x\n",
        },
    )
    assert [f.path for f in codecommit.collect_files(root)] == ["a.py"]


# ---- the commit, on the emulated CodeCommit --------------------------------------------------


@pytest.fixture
def cc(tmp_path: Path) -> Iterator[Any]:
    """The emulated account's CodeCommit with the application repository, still empty."""
    with Emulator(REGION, start=T0, work_dir=tmp_path / "aws") as aws:
        client = aws.client("codecommit")
        client.create_repository(repositoryName=REPO)
        yield client


def _tree(cc: Any, commit_id: str) -> dict[str, str]:
    """Every file of a commit with its mode (GetFolder, folder by folder)."""
    found: dict[str, str] = {}
    folders = ["/"]
    while folders:
        listed = cc.get_folder(
            repositoryName=REPO, commitSpecifier=commit_id, folderPath=folders.pop()
        )
        found.update({f["absolutePath"]: f["fileMode"] for f in listed.get("files", [])})
        folders += [f["absolutePath"] for f in listed.get("subFolders", [])]
    return found


def test_the_first_commit_is_one_create_commit_with_every_file(cc: Any) -> None:
    # As many files as the emulated CodeCommit takes in one CreateCommit (AWS gives no
    # number: MaximumFileEntriesExceededException only says there is one).
    files = [
        codecommit.RepoFile(f"dir{i % 3}/f{i:03}", f"{i}\n".encode(), i == 0)
        for i in range(MAX_FILE_ENTRIES)
    ]

    done = codecommit.commit_if_empty(cc, REPO, "main", files)

    [commit_id] = done.commits
    assert done.files == MAX_FILE_ENTRIES and done.skipped == ""
    commit = cc.get_commit(repositoryName=REPO, commitId=commit_id)["commit"]
    assert commit["parents"] == [] and commit["message"] == "Initial commit by bluegreen deploy"
    assert commit["author"]["name"] == "bluegreen"
    assert cc.get_branch(repositoryName=REPO, branchName="main")["branch"] == {
        "branchName": "main",
        "commitId": commit_id,
    }
    tree = _tree(cc, commit_id)
    assert sorted(tree) == sorted(f.path for f in files)
    assert tree["dir0/f000"] == "EXECUTABLE" and set(tree.values()) == {"EXECUTABLE", "NORMAL"}
    assert cc.get_file(repositoryName=REPO, filePath="dir1/f001")["fileContent"] == b"1\n"


def test_a_commit_codecommit_refuses_leaves_the_branch_empty_and_says_what_to_do(
    cc: Any,
) -> None:
    # One file more than the emulated CodeCommit takes in a CreateCommit: it refuses with
    # MaximumFileEntriesExceededException (botocore CodeCommit model), and a CreateCommit
    # makes a commit or none.
    files = [codecommit.RepoFile(f"f{i:03}", b"x\n", False) for i in range(MAX_FILE_ENTRIES + 1)]

    with pytest.raises(OperationError) as info:
        codecommit.commit_if_empty(cc, REPO, "main", files)

    text = str(info.value)
    assert text.startswith(
        f"CodeCommit refused the first commit of {MAX_FILE_ENTRIES + 1} files to {REPO}: the "
        "commit has more files than CreateCommit takes (MaximumFileEntriesExceededException); "
        "nothing was committed (CreateCommit is atomic)"
    )
    assert "git push codecommit HEAD:main" in text
    assert cc.list_branches(repositoryName=REPO)["branches"] == []


def test_a_branch_with_commits_is_left_alone(cc: Any) -> None:
    head = cc.create_commit(
        repositoryName=REPO,
        branchName="main",
        putFiles=[{"filePath": "README.md", "fileContent": b"mine\n"}],
    )["commitId"]

    done = codecommit.commit_if_empty(cc, REPO, "main", [])

    assert done.commits == [] and done.skipped == "the branch already has commits"
    assert cc.get_branch(repositoryName=REPO, branchName="main")["branch"]["commitId"] == (head)


def test_a_repository_with_only_other_branches_is_left_to_git(cc: Any) -> None:
    """CreateCommit cannot start a branch from another one, so the user pushes it."""
    cc.create_commit(
        repositoryName=REPO,
        branchName="develop",
        putFiles=[{"filePath": "README.md", "fileContent": b"mine\n"}],
    )
    files = [codecommit.RepoFile("a.py", b"a\n", False)]

    done = codecommit.commit_if_empty(cc, REPO, "main", files)

    assert done.commits == []
    assert done.skipped == (
        "the repository has other branches (develop) but not main: push main with git"
    )
    assert cc.list_branches(repositoryName=REPO)["branches"] == ["develop"]
