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
    assert lines[-1] == "6/6 checks passed, 1 warning"
    assert [line.split()[:2] for line in lines[:-1] if not line.startswith(" ")] == [
        ["ok", "templates"],
        ["ok", "repository"],
        ["ok", "wiring"],
        ["ok", "account-ids"],
        ["ok", "first-commit"],
        ["warn", "exposure"],
    ]


def test_files_deploys_first_commit_would_refuse_are_a_warning(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """deploy's first commit goes through CodeCommit's API, which refuses empty files
    (B1); a first push with git would not, so verify warns and still passes."""
    (repo / "webapp" / "app" / "__init__.py").write_bytes(b"")
    assert run(repo, "--output", "json") == 0
    report = json.loads(capsys.readouterr().out)
    (first,) = [c for c in report["checks"] if c["name"] == "first-commit"]
    assert first["ok"] is True
    assert first["warnings"] == [
        "webapp/app/__init__.py is empty; CodeCommit's API refuses empty files (bluegreen "
        "deploy's first commit would refuse it; a first push with git would not)"
    ]


def test_an_open_test_listener_is_a_warning_not_a_failure(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The seed's default test_cidrs (0.0.0.0/0) passes, but verify says what it means."""
    assert run(repo) == 0
    out = capsys.readouterr().out
    (warning,) = [line.strip() for line in out.splitlines() if "warning:" in line]
    assert warning.startswith("- warning: listeners.test_cidrs contains 0.0.0.0/0")
    assert "port 8080" in warning and "office or VPN range" in warning
    assert run(repo, "--output", "json") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True
    exposure = [c for c in report["checks"] if c["name"] == "exposure"]
    assert exposure == [
        {
            "name": "exposure",
            "ok": True,
            "description": "who can reach the test listener (:8080): 0.0.0.0/0",
            "problems": [],
            "warnings": [warning.removeprefix("- warning: ")],
        }
    ]
    assert all(c["warnings"] == [] for c in report["checks"] if c["name"] != "exposure")


def test_a_narrowed_test_listener_gives_no_warning(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = repo / "bluegreen.toml"
    path.write_text(path.read_text().replace('["0.0.0.0/0"]', '["203.0.113.0/24", "0.0.0.0/1"]'))
    assert run(repo) == 0
    out = capsys.readouterr().out
    assert "warning" not in out and out.splitlines()[-1] == "6/6 checks passed"
    path.write_text(path.read_text().replace('"0.0.0.0/1"', '"0.0.0.0/0"'))
    assert run(repo) == 0
    assert "contains 0.0.0.0/0" in capsys.readouterr().out


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
    """The wiring check compares taskdef.json with the service stack's task definition.

    appkit.check demands exactly app.name and router.name, so a taskdef.json it accepts
    can only disagree with a service built from another config: here the service's
    router is called "fluentbit" (the stacks of a config edited after init)."""
    cfg = config.load(repo / "bluegreen.toml")
    assert appkit.check(repo, cfg) == []
    renamed = config.parse('[router]\nname = "fluentbit"')
    assert _wiring(stacks.build(cfg), repo) == []
    assert _wiring(stacks.build(renamed), repo) == [
        "taskdef.json: containers ['log-router', 'webapp'] differ from the service's "
        "['fluentbit', 'webapp']; CodeDeploy would replace the task with other containers"
    ]


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
    assert report.exit_code == 2
