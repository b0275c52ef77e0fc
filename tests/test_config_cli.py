"""Bad bluegreen.toml files through the CLI: exit 2, the key named, nothing written.

`bluegreen synth` reads the config before it writes anything, so it is the command
these cases go through (with --no-lint: lint is not what is tested here).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bluegreen import appkit
from bluegreen.cli.app import main
from bluegreen.config import Config

BASE = appkit.render_config(Config())


def _replace(old: str, new: str) -> str:
    assert old in BASE, old
    return BASE.replace(old, new, 1)


CASES: dict[str, tuple[str, str]] = {
    "malformed TOML": (_replace('name = "sample3"', 'name = "sample3'), "not valid TOML"),
    "unknown key (typo)": (
        _replace("desired_count = 1", "desired_cuont = 1"),
        "task.desired_cuont",
    ),
    "unknown section": (BASE + "\n[servce]\nname = 'x'\n", "servce"),
    "name breaking AWS rules": (_replace('name = "sample3"', 'name = "Sample_3"'), "project.name"),
    "name too long for the ALB": (
        _replace('name = "sample3"', 'name = "a-very-long-project-name-indeed"'),
        "project.name + project.environment",
    ),
    "app port out of range": (_replace("port = 80", "port = 70000"), "app.port"),
    "port as a string": (_replace("port = 80", 'port = "80"'), "app.port"),
    "production port == test port": (
        _replace("test_port = 8080", "test_port = 80"),
        "listeners.test_port",
    ),
    "Fargate cpu/memory pair AWS rejects": (
        _replace("memory = 512", "memory = 4096"),
        "task.memory",
    ),
    "Fargate cpu size AWS rejects": (_replace("cpu = 256", "cpu = 300"), "task.cpu"),
    "desired count < 1": (
        _replace("desired_count = 1", "desired_count = 0"),
        "task.desired_count",
    ),
    "health-check path without /": (
        _replace('path = "/health"', 'path = "health"'),
        "health_check.path",
    ),
    "unknown deployment config": (
        _replace('config = "CodeDeployDefault.ECSAllAtOnce"', 'config = "AllAtOnce"'),
        "deployment.config",
    ),
    "same container names": (
        _replace('name = "log-router"', 'name = "webapp"'),
        "router.name",
    ),
}


@pytest.mark.parametrize(("text", "key"), CASES.values(), ids=CASES.keys())
def test_bad_config_exits_2_naming_the_key_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, key: str
) -> None:
    path = tmp_path / "bluegreen.toml"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    code = main(["synth", "--config", str(path), "--out", str(out), "--no-lint"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert key in err
    assert str(path) in err and "Traceback" not in err
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bluegreen.toml"]


def test_every_problem_is_listed_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = BASE.replace("port = 80", "port = 0", 1).replace(
        "desired_count = 1", "desired_count = 0"
    )
    path = tmp_path / "bluegreen.toml"
    path.write_text(text, encoding="utf-8")
    assert main(["synth", "--config", str(path), "--out", str(tmp_path / "o"), "--no-lint"]) == 2
    err = capsys.readouterr().err
    assert "2 invalid settings" in err and "app.port" in err and "task.desired_count" in err


def test_the_written_config_is_accepted(tmp_path: Path) -> None:
    """The counterpart: the file init writes passes the same command."""
    appkit.init(tmp_path)
    out = tmp_path / "out"
    assert (
        main(
            ["synth", "--config", str(tmp_path / "bluegreen.toml"), "--out", str(out), "--no-lint"]
        )
        == 0
    )
    assert (out / "2-service.yaml").is_file()
