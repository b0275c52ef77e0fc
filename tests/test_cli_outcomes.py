"""How a run ends, whatever the command: the parts that need no AWS.

Ctrl-C while a command follows AWS (release, status --watch, logs --follow, exit 130 and
what was left), errors in the middle of an operation (throttling, access denied) and the
JSON failure documents of failed operations run end to end against the emulated AWS in
test_e2e_operations.py. Here: Ctrl-C before any operation, a bug's one-line report,
usage documents, and the JSON plumbing of bluegreen.cli.common.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bluegreen.cli import common
from bluegreen.cli.app import main


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "bluegreen.toml"
    path.write_text('[project]\nname = "sample3"\n', encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_ctrl_c_outside_any_operation_just_says_interrupted(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def make_clients(*_: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(common, "make_clients", make_clients)
    code, out, err = run(capsys, "status", "--config", str(project))
    assert (code, out, err) == (130, "", "interrupted\n")


def test_a_bug_is_one_line_and_the_traceback_needs_debug(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def make_clients(*_: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(common, "make_clients", make_clients)
    code, out, err = run(capsys, "status", "--config", str(project), "-o", "json")
    assert code == 1
    assert err.splitlines() == [
        "error: internal error: RuntimeError: boom",
        "  hint: this is a bug in bluegreen: run again with --debug and report the traceback",
    ]
    assert json.loads(out)["kind"] == "internal"
    code, _, err = run(capsys, "--debug", "status", "--config", str(project))
    assert code == 1 and "Traceback" in err and "RuntimeError: boom" in err


def test_bad_flags_and_bad_config_print_a_usage_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "status", "--region", "mars-1", "--output", "json")
    assert code == 2 and "Invalid value for '--region'" in err
    document = json.loads(out)
    assert (document["ok"], document["kind"], document["exit_code"]) == (False, "usage", 2)
    assert document["error"] == (
        "Invalid value for '--region': 'mars-1' is not an AWS region code such as ap-northeast-1"
    )
    assert document["hint"] == "see `bluegreen status --help`"

    bad = tmp_path / "bluegreen.toml"
    bad.write_text('[project]\nname = "Sample 3"\n', encoding="utf-8")
    code, out, _ = run(capsys, "logs", "-ojson", "--config", str(bad))
    document = json.loads(out)
    assert code == 2 and document["kind"] == "usage"
    assert [p["key"] for p in document["problems"]] == ["project.name"]


def test_a_document_already_written_gets_no_second_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    common.begin(["status", "-o", "json"])
    common.emit_json({"a": 1})
    common.emit_failure({"ok": False})
    common.begin(["status", "-o", "json"])
    common.emit_json_line({"a": 1})
    common.emit_failure({"ok": False})
    common.begin(["status"])
    common.emit_failure({"ok": False})
    out = capsys.readouterr().out
    assert out.splitlines() == [
        "{",
        '  "a": 1',
        "}",
        '{"a": 1}',
        '{"ok": false, "region": null, "result": null}',
    ]


@pytest.mark.parametrize(
    ("args", "wanted"),
    [
        (["status", "-o", "json"], True),
        (["status", "--output", "json"], True),
        (["status", "--output=json"], True),
        (["status", "-ojson"], True),
        (["status", "-o", "text"], False),
        (["status", "-o", "json", "-o", "text"], False),
        (["status", "-o"], False),
        (["status"], False),
    ],
)
def test_json_is_recognised_before_click_parses(args: list[str], wanted: bool) -> None:
    assert common.json_requested(args) is wanted
