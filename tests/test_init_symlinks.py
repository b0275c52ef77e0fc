"""`init`, `init --force` and `init --restore` never write through a symbolic link.

A repository can come from anywhere (a clone, an archive), and a link in it can point
anywhere; the security review reproduced writes outside the directory with a linked
file, a linked directory and dangling links (cases r1 to r6). Each is refused: exit 2,
the link named, nothing written inside or outside the directory.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bluegreen import appkit
from bluegreen.cli.app import main
from bluegreen.config import Config
from bluegreen.errors import RepositoryError


def _tree(root: Path) -> dict[str, object]:
    """Everything under ``root`` without following links: path -> bytes, link target or
    "dir"."""
    found: dict[str, object] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder, name)
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                found[rel] = ("link", os.readlink(path))
            elif path.is_dir():
                found[rel] = "dir"
            else:
                found[rel] = path.read_bytes()
    return found


@pytest.fixture
def world(tmp_path: Path) -> Path:
    """A repository written by init (``repo``), and next to it what must stay untouched:
    a file, an empty directory."""
    appkit.init(tmp_path / "repo", Config())
    (tmp_path / "victim.txt").write_text("precious\n")
    (tmp_path / "outside").mkdir()
    return tmp_path


def _remove(entry: Path) -> None:
    if entry.is_dir() and not entry.is_symlink():
        for child in sorted(entry.rglob("*"), reverse=True):
            if child.is_dir() and not child.is_symlink():
                child.rmdir()
            else:
                child.unlink()
        entry.rmdir()
    elif entry.exists() or entry.is_symlink():
        entry.unlink()


def _link(path: Path, target: str) -> None:
    """Make ``path`` a symbolic link to ``target``, whatever it was."""
    _remove(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(target)


# (case, link inside repo, where it points, the init flags)
CASES = [
    ("r1 linked file, --force", "README.md", "../victim.txt", ["--force"]),
    ("r2 linked directory, --restore", "webapp", "../outside", ["--restore"]),
    (
        "r3 dangling file link, --restore",
        "firelens/extra.conf",
        "../../created-by-restore.conf",
        ["--restore"],
    ),
    ("r4 linked file, plain init", "taskdef.json", "../victim.txt", []),
    ("r5 dangling file link, --force", "appspec.yml", "../created-by-force.yml", ["--force"]),
    ("r6 linked directory, --force", "firelens", "../outside", ["--force"]),
    ("linked directory, plain init", "webapp", "../outside", []),
    ("dangling directory link, --restore", "webapp", "../not-there", ["--restore"]),
    ("link to the same file, --force", "README.md", "bluegreen.toml", ["--force"]),
    ("linked bluegreen.toml, --force", "bluegreen.toml", "../victim.txt", ["--force"]),
]


@pytest.mark.parametrize(
    ("link", "target", "flags"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_a_symbolic_link_on_the_way_is_refused_and_nothing_is_written(
    world: Path, capsys: pytest.CaptureFixture[str], link: str, target: str, flags: list[str]
) -> None:
    repo = world / "repo"
    _link(repo / link, target)
    if not flags:  # plain init writes into a directory without the scaffold's files
        for entry in repo.iterdir():
            if entry.name != link.split("/")[0]:
                _remove(entry)
    before = _tree(world)
    capsys.readouterr()
    assert main(["init", str(repo), *flags]) == 2
    err = capsys.readouterr().err
    assert f"{repo / link} -> {target}" in err
    assert "symbolic links; nothing was written" in err and "Traceback" not in err
    assert _tree(world) == before


def test_the_library_refuses_too(world: Path) -> None:
    repo = world / "repo"
    _link(repo / "webapp", "../outside")
    with pytest.raises(RepositoryError) as info:
        appkit.restore(repo, Config())
    assert info.value.exit_code == 2
    with pytest.raises(RepositoryError):
        appkit.init(repo, Config(), force=True)
    assert appkit.symbolic_links(repo, ["webapp/Dockerfile", "README.md"]) == [repo / "webapp"]
    assert list((world / "outside").iterdir()) == []


def test_links_init_does_not_write_through_are_left_alone(
    world: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Only the paths init writes are checked: a link elsewhere in the repository is the
    user's business."""
    repo = world / "repo"
    (repo / "docs").symlink_to("../outside")
    (repo / "taskdef.json").unlink()
    assert main(["init", str(repo), "--restore"]) == 0
    assert (repo / "taskdef.json").is_file()
    assert main(["init", str(repo), "--force"]) == 0
    assert os.readlink(repo / "docs") == "../outside"
    assert list((world / "outside").iterdir()) == []


def test_force_replaces_a_hard_linked_file_without_writing_into_the_other_name(
    world: Path,
) -> None:
    """--force writes a new file and renames it over the old one, so another name of the
    old file (a hard link) keeps its content."""
    repo = world / "repo"
    (repo / "README.md").unlink()
    os.link(world / "victim.txt", repo / "README.md")
    appkit.init(repo, Config(), force=True)
    assert (world / "victim.txt").read_text() == "precious\n"
    assert (repo / "README.md").read_text() == appkit.render(Config())["README.md"]
    assert not [p for p in repo.rglob(".*.tmp")]


def test_a_linked_target_directory_is_the_users_choice(tmp_path: Path) -> None:
    """DIR itself may be a link (the user named it); only what is below it is checked."""
    (tmp_path / "real").mkdir()
    (tmp_path / "alias").symlink_to("real")
    assert main(["init", str(tmp_path / "alias")]) == 0
    assert (tmp_path / "real" / "taskdef.json").is_file()
