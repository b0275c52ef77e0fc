"""`bluegreen init --restore`: the missing files back, from the repository's own config."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bluegreen import appkit
from bluegreen import config as config_mod
from bluegreen.cli.app import main


def test_restore_writes_only_the_missing_files_from_the_repositorys_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = tmp_path / "repo"
    assert main(["init", str(repo), "--project", "shop"]) == 0
    (repo / "taskdef.json").unlink()
    (repo / "firelens" / "buildspec.yml").unlink()
    readme = repo / "README.md"
    readme.write_text("# my own notes\n", encoding="utf-8")
    capsys.readouterr()

    assert main(["init", str(repo), "--restore", "--output", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert sorted(data["files"]) == ["firelens/buildspec.yml", "taskdef.json"]
    assert '"family": "shop-dev-task"' in (repo / "taskdef.json").read_text(encoding="utf-8")
    assert readme.read_text(encoding="utf-8") == "# my own notes\n"
    assert appkit.check(repo, config_mod.load(repo / "bluegreen.toml")) == []


def test_restore_refuses_flags_that_would_change_the_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", str(tmp_path), "--restore", "--project", "shop"]) == 2
    assert "drop --project" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_restore_needs_a_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", str(tmp_path), "--restore"]) == 2
    assert "bluegreen.toml" in capsys.readouterr().err
