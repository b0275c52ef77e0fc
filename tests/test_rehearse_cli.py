"""``bluegreen rehearse`` as a user runs it: exit codes, the timeline, the JSON schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bluegreen.cli.app import main


def test_rehearse_exits_0_with_two_releases(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rehearse"]) == 0
    captured = capsys.readouterr()
    assert "Release 1" in captured.out and "Release 2" in captured.out
    assert "こんにちは、あばしり" in captured.out
    assert "Rehearsed 2 releases: all succeeded" in captured.out
    assert "AllowTestTraffic: Succeeded" in captured.out
    assert "$ bluegreen deploy" in captured.out and "$ git push" in captured.out
    assert "$ bluegreen promote" in captured.out
    assert "release 2: succeeded" in captured.err  # progress goes to stderr


def test_rehearse_json_schema_and_fault_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rehearse", "--output", "json", "--fault", "test-traffic-fails"]) == 1
    captured = capsys.readouterr()
    data: dict[str, Any] = json.loads(captured.out)
    assert "release 2" in captured.err and "test-traffic-fails" in captured.err
    assert data["outcome"] == "failed"
    assert set(data["summary"]) >= {"releases", "succeeded", "simulated_seconds", "wall_seconds"}
    assert data["summary"]["releases"] == 2 and data["summary"]["succeeded"] == 1
    first, second = data["releases"]
    assert first["outcome"] == "succeeded" and second["outcome"] == "rolled back"
    assert second["fault"] == "test-traffic-fails"
    for release in data["releases"]:
        assert len(release["commit"]) == 40
        for step in release["steps"]:
            assert set(step) >= {
                "time",
                "seconds",
                "kind",
                "event",
                "production",
                "test",
                "task_sets",
            }
            assert step["kind"] in ("operation", "status")
            assert step["time"].startswith("T+")
            assert all(isinstance(w, int) for w in step["production"].values())
            for task_set in step["task_sets"]:
                assert task_set["status"] in ("PRIMARY", "ACTIVE", "DRAINING")
                assert set(task_set["images"]) == {"webapp", "log-router"}
                assert task_set["task_definition"].startswith("sample3-dev-task:")
    # The image tags are the ones the builds computed from the images' content.
    final = first["steps"][-1]["task_sets"][0]
    assert [b["result"] for b in first["builds"]] == ["built", "built"]
    assert final["images"]["webapp"] == first["builds"][0]["tag"]
    assert [b["result"] for b in second["builds"]] == ["built", "reused"]


def test_rehearse_refuses_an_unknown_fault(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rehearse", "--fault", "meteor"]) == 2
    assert "green-unhealthy" in capsys.readouterr().err


def test_rehearse_refuses_an_unknown_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rehearse", "--scenario", "chaos"]) == 2
    assert "rollback-after-success" in capsys.readouterr().err


def test_no_promote_is_refused_with_automatic_reroute(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bluegreen.toml").write_text('[deployment]\nreroute = "auto"\n', encoding="utf-8")
    assert main(["rehearse", "--config", str(tmp_path / "bluegreen.toml"), "--no-promote"]) == 2
    captured = capsys.readouterr()
    assert "--no-promote" in captured.err and 'reroute = "manual"' in captured.err
    assert captured.out == ""


def test_an_injected_build_failure_is_not_called_a_rollback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["rehearse", "--output", "json", "--fault", "build-fails"]) == 1
    captured = capsys.readouterr()
    assert "build-fails" in captured.err and "rollback" not in captured.err


def test_a_repository_verify_would_reject_is_refused_up_front(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bluegreen.appkit import init

    init(tmp_path)
    taskdef = tmp_path / "taskdef.json"
    taskdef.write_text(taskdef.read_text().replace('"name": "webapp"', '"name": "web"'))
    assert main(["rehearse", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert "problem" in captured.err and "taskdef.json" in captured.err
    assert "rehearsing" not in captured.err  # refused before the emulator started
    assert captured.out == ""


def test_path_and_config_together_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bluegreen.appkit import init

    init(tmp_path)
    assert main(["rehearse", str(tmp_path), "--config", str(tmp_path / "bluegreen.toml")]) == 2
    assert "not both" in capsys.readouterr().err
