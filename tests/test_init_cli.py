"""`bluegreen init DIR`: writes everything or nothing, names what blocks it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bluegreen import appkit, config
from bluegreen.cli.app import main
from bluegreen.config import Config
from bluegreen.errors import RepositoryError


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_init_writes_the_scaffold_and_says_what_next(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "new" / "repo"
    assert main(["init", str(target)]) == 0
    captured = capsys.readouterr()
    expected = appkit.render(config.scaffold())
    assert _snapshot(target) == {p: t.encode() for p, t in expected.items()}
    lines = captured.out.splitlines()
    assert lines[0] == f"wrote {len(expected)} files to {target}"
    assert [line.strip() for line in lines[1 : 1 + len(expected)]] == list(expected)
    assert f"cd {target}" in captured.out
    assert "bluegreen verify" in captured.out
    # Inside the repository a bare `bluegreen rehearse` plays a fresh scaffold, not it.
    assert "bluegreen rehearse . " in captured.out
    assert "sample3-dev (ap-northeast-1)" in captured.err


def test_init_writes_a_check_and_the_appspec_hook_that_runs_it(tmp_path: Path) -> None:
    assert main(["init", str(tmp_path)]) == 0
    written = config.load(tmp_path / "bluegreen.toml")
    (check,) = written.verify.checks
    assert (check.method, check.path, check.status, check.count) == ("GET", "/", 200, 3)
    # The check passes both greetings of the seed's two releases, and an empty page fails it.
    pattern = re.compile(check.body_pattern)
    assert pattern.search("Hello, 網走") and pattern.search("こんにちは、あばしり")
    assert not pattern.search("") and not check.body
    # CodeDeploy runs the verify function after test traffic (AppSpec Hooks).
    appspec = (tmp_path / "appspec.yml").read_text(encoding="utf-8")
    assert 'Hooks:\n  - AfterAllowTestTraffic: "CodeDeployHook_sample3-dev-verify"\n' in appspec
    toml = (tmp_path / "bluegreen.toml").read_text(encoding="utf-8")
    assert "`bluegreen init` writes one: GET / must answer 200" in toml
    # A bluegreen.toml without [verify] still runs none (Config()'s default).
    assert Config().verify.checks == []


def test_init_flags_set_the_project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["init", str(tmp_path), "--project", "shop", "--environment", "prod"]
    assert main([*args, "--region", "us-east-1", "--output", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["project"], result["environment"], result["region"]) == (
        "shop",
        "prod",
        "us-east-1",
    )
    assert result["files"] == sorted(result["files"]) and "taskdef.json" in result["files"]
    assert result["next_steps"][0] == f"cd {tmp_path}"
    cfg = config.load(tmp_path / "bluegreen.toml")
    assert (cfg.project.name, cfg.project.environment, cfg.project.region) == (
        "shop",
        "prod",
        "us-east-1",
    )
    assert json.loads((tmp_path / "taskdef.json").read_text())["family"] == "shop-prod-task"


def test_no_twelve_digit_number_anywhere(tmp_path: Path) -> None:
    assert main(["init", str(tmp_path)]) == 0
    for rel, data in _snapshot(tmp_path).items():
        # (a 12-digit number on its own: hex sha256 hashes hold digit runs inside words)
        assert not re.search(rb"(?<![0-9A-Za-z])\d{12}(?![0-9A-Za-z])", data), rel


def test_init_refuses_to_overwrite_and_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "webapp").mkdir()
    (tmp_path / "webapp" / "Dockerfile").write_text("FROM mine:1\n")
    assert main(["init", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'webapp' / 'Dockerfile'}" in err
    assert "--force" in err and "nothing was written" in err
    assert _snapshot(tmp_path) == {"webapp/Dockerfile": b"FROM mine:1\n"}


def test_force_overwrites(tmp_path: Path) -> None:
    assert main(["init", str(tmp_path), "--project", "first"]) == 0
    (tmp_path / "taskdef.json").write_text("edited")
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["init", str(tmp_path), "--force"]) == 0
    files = _snapshot(tmp_path)
    assert files.pop("notes.txt") == b"mine"  # files init does not write are left alone
    assert files == {p: t.encode() for p, t in appkit.render(config.scaffold()).items()}


def test_force_does_not_replace_a_directory(tmp_path: Path) -> None:
    (tmp_path / "taskdef.json").mkdir()
    with pytest.raises(RepositoryError, match="exist as directories"):
        appkit.init(tmp_path, force=True)
    assert _snapshot(tmp_path) == {}


def test_target_that_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    assert main(["init", str(target)]) == 2
    assert "is not a directory" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("flags", "key"),
    [
        (["--project", "BAD"], "project.name (--project)"),
        (["--project", "my_app"], "project.name (--project)"),
        (["--environment", "prod-"], "project.environment (--environment)"),
        (["--region", "tokyo"], "project.region (--region)"),
        (["--project", "a-very-long-project-name", "--environment", "production"], "--project"),
    ],
)
def test_bad_flags_exit_2_naming_the_key_and_write_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], key: str
) -> None:
    target = tmp_path / "repo"
    assert main(["init", str(target), *flags]) == 2
    err = capsys.readouterr().err
    assert key in err and "nothing was written" in err
    assert "Traceback" not in err
    assert not target.exists()


def test_an_unwritable_target_is_a_message_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "mkdir", refuse)
    assert main(["init", str(tmp_path / "app")]) == 1
    captured = capsys.readouterr().err
    assert "could not write the repository" in captured and "Permission denied" in captured
    assert "Traceback" not in captured
