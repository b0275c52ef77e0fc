"""The operating commands' input checks, help and hints: no AWS behind them.

Every operating command against AWS (status in each phase, promote, finish, rollback,
release, logs, deploy's dry run, the refusals) runs end to end against the emulated AWS
in test_e2e_operations.py and test_e2e_story.py. Here: what is refused before any AWS
call (bad flags, missing credentials), help texts and hint wording.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from network_support import no_credentials

from bluegreen.cli import common
from bluegreen.cli.app import main


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "bluegreen.toml"
    path.write_text('[project]\nname = "sample3"\n', encoding="utf-8")
    return path


@pytest.fixture
def no_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any AWS client asked for fails the test: these commands must stop before."""

    def make_clients(*_: Any) -> Any:
        raise AssertionError("an AWS client was made")

    monkeypatch.setattr(common, "make_clients", make_clients)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str], str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err


def test_missing_credentials_exit_1_with_hint(
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    no_credentials(monkeypatch, tmp_path)
    code, lines, err = run(capsys, "status", "--config", str(project))
    assert code == 1
    assert err.splitlines() == [
        "error: no AWS credentials found for cloudformation:DescribeStacks",
        "  hint: configure credentials: aws configure / AWS_PROFILE / --profile",
    ]
    assert "Traceback" not in err


def test_logs_bad_input_is_refused_before_any_call(
    project: Path, no_aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "logs", "--config", str(project), "--since", "ten")
    assert code == 2 and "--since 'ten' is not a duration" in err
    code, _, err = run(capsys, "logs", "--config", str(project), "--container", "db")
    assert code == 2 and "webapp (or app) or log-router (or router)" in err


@pytest.mark.parametrize(
    "command", ["deploy", "destroy", "release", "status", "promote", "finish", "rollback", "logs"]
)
def test_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main([command, "--help"])
    text = capsys.readouterr().out
    assert code == 0
    for option in ("--config", "--profile", "--region"):
        assert option in text


def test_first_release_hint_says_when_to_promote() -> None:
    from bluegreen.cli.deploy import _first_release_hint
    from bluegreen.config import parse

    assert _first_release_hint(parse("")) == (
        "the first release is running: follow it with `bluegreen status --watch`; when green "
        'answers on :8080, run `bluegreen promote` within 10 min (deployment.reroute = "manual"), '
        "or run `bluegreen deploy` again: it follows the first release and promotes it"
    )
    assert _first_release_hint(parse('[deployment]\nreroute = "auto"')).endswith("--watch`")


@pytest.mark.parametrize("command", ["status", "deploy", "destroy", "promote", "logs"])
def test_a_malformed_region_flag_is_bad_input(
    capsys: pytest.CaptureFixture[str], project: Path, command: str
) -> None:
    # Refused before any client is made: no endpoint lookup, no network timeout.
    code, lines, err = run(capsys, command, "--config", str(project), "--region", "mars-1")
    assert code == 2 and lines == []
    assert "'mars-1' is not an AWS region code" in err
