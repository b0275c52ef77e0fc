"""`bluegreen verify`: every check passes on a fresh scaffold and fails on each mistake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bluegreen import appkit, config, stacks
from bluegreen.cli.app import main
from bluegreen.verify import _wiring, verify


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    appkit.init(tmp_path / "repo")
    return tmp_path / "repo"


def run(repo: Path, *args: str) -> int:
    return main(["verify", "--config", str(repo / "bluegreen.toml"), *args])


def test_fresh_scaffold_passes(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(repo) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == "4/4 checks passed"
    assert [line.split()[:2] for line in lines[:-1]] == [
        ["ok", "templates"],
        ["ok", "repository"],
        ["ok", "wiring"],
        ["ok", "account-ids"],
    ]


def test_account_id_anywhere_in_the_repository_fails(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    notes = repo / "docs" / "notes.md"
    notes.parent.mkdir()
    notes.write_text("push to 210987654321.dkr.ecr.ap-northeast-1.amazonaws.com/x\n")
    assert run(repo, "--output", "json") == 2
    report = json.loads(capsys.readouterr().out)
    failed = {c["name"]: c["problems"] for c in report["checks"] if not c["ok"]}
    assert list(failed) == ["account-ids"]
    assert failed["account-ids"][0].startswith("docs/notes.md:1: account id 210987654321")


def test_missing_image_placeholder_is_a_wiring_problem(repo: Path) -> None:
    taskdef = json.loads((repo / "taskdef.json").read_text())
    taskdef["containerDefinitions"][1]["image"] = "public.ecr.aws/x/y:1"
    (repo / "taskdef.json").write_text(json.dumps(taskdef))
    built = stacks.build(config.load(repo / "bluegreen.toml"))
    # The pipeline's deploy action fills <IMAGE2_NAME>: the wiring check sees it is gone.
    assert [p for p in _wiring(built, repo) if "<IMAGE2_NAME>" in p] == [
        "taskdef.json: no <IMAGE2_NAME> image placeholder; the deploy action fills it "
        "with image 2's URI"
    ]


def test_extra_container_differs_from_the_service(repo: Path) -> None:
    taskdef = json.loads((repo / "taskdef.json").read_text())
    extra = dict(taskdef["containerDefinitions"][0], name="sidecar")
    taskdef["containerDefinitions"].append(extra)
    (repo / "taskdef.json").write_text(json.dumps(taskdef))
    report = verify(config.load(repo / "bluegreen.toml"), repo)
    assert report.exit_code == 2


def test_bad_config_exits_2_before_any_check(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = repo / "bluegreen.toml"
    path.write_text(path.read_text().replace("port = 80", "port = 99999", 1))
    assert run(repo) == 2
    assert "app.port" in capsys.readouterr().err


def test_an_account_id_in_taskdef_fails_both_checks(repo: Path) -> None:
    taskdef = repo / "taskdef.json"
    taskdef.write_text(
        taskdef.read_text().replace("<TASK_ROLE_ARN>", "arn:aws:iam::123456789012:role/x")
    )
    report = verify(config.load(repo / "bluegreen.toml"), repo)
    failed = {c.name for c in report.checks if not c.ok}
    assert failed == {"repository", "account-ids"}
