"""How a run ends, whatever the command: Ctrl-C (exit 130, what was left, how to resume),
errors in the middle of an operation, and the JSON failure document of --output json.

Stubbed AWS answers come from tests/test_aws_support.py (each cites its source there);
the ones added here cite theirs where they are queued.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import typer
from test_aws_engine import BOTH
from test_aws_support import (
    BLUE_TG,
    GREEN_TG,
    PIPELINE,
    Stubs,
    deployment,
    health,
    listeners,
    pipeline_poll,
    refs,
    service,
    task_definition,
)

from bluegreen.cli import common
from bluegreen.cli.app import main

LINK = (
    "https://ap-northeast-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/"
    "sample3-dev-pipeline/executions/exec-1/timeline?region=ap-northeast-1"
)
KEEPS_RUNNING = f"execution exec-1 of {PIPELINE} keeps running on AWS: {LINK}"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "bluegreen.toml"
    path.write_text('[project]\nname = "sample3"\n', encoding="utf-8")
    return path


@pytest.fixture
def stubs(monkeypatch: pytest.MonkeyPatch) -> Stubs:
    s = Stubs()
    monkeypatch.setattr(common, "make_clients", lambda config, profile, region: s.clients)
    monkeypatch.setattr(common, "sleep", lambda seconds: None)
    return s


def on_sleep(monkeypatch: pytest.MonkeyPatch, effect: Callable[[], None], after: int = 0) -> None:
    """The command's ``after``-th wait (0: the first) runs ``effect`` (raises)."""
    calls = {"n": 0}

    def sleep(seconds: float) -> None:
        calls["n"] += 1
        if calls["n"] > after:
            effect()

    monkeypatch.setattr(common, "sleep", sleep)


def ctrl_c() -> None:
    raise KeyboardInterrupt


def ctrl_c_at_a_prompt() -> None:
    # What typer.confirm (click's termui.confirm) does on Ctrl-C or end of input:
    # `except (KeyboardInterrupt, EOFError): raise Abort() from None`.
    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt:
        raise typer.Abort() from None


def end_of_input_at_a_prompt() -> None:
    try:
        raise EOFError
    except EOFError:
        raise typer.Abort() from None


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def started_and_building(s: Stubs) -> None:
    """`release` starts exec-1, which is building (no deployment yet)."""
    s.add("codepipeline", "start_pipeline_execution", {"pipelineExecutionId": "exec-1"})
    pipeline_poll(
        s,
        "exec-1",
        "InProgress",
        "Build",
        {"actionName": "BuildApp", "latestExecution": {"status": "InProgress"}},
    )


# ---- Ctrl-C ---------------------------------------------------------------------------


def test_ctrl_c_while_a_release_is_followed_says_the_execution_keeps_running(
    project: Path, stubs: Stubs, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    started_and_building(stubs)
    on_sleep(monkeypatch, ctrl_c)
    code, out, err = run(capsys, "release", "--config", str(project))
    stubs.done()
    assert code == 130
    assert out == ""
    assert err.splitlines() == [
        f"started {PIPELINE} execution exec-1",
        "Build/BuildApp: InProgress",
        f"interrupted: {KEEPS_RUNNING}; resume with: bluegreen status --watch",
    ]


def test_ctrl_c_in_json_mode_prints_a_failure_document_with_the_started_execution(
    project: Path, stubs: Stubs, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    started_and_building(stubs)
    on_sleep(monkeypatch, ctrl_c)
    code, out, _ = run(capsys, "release", "--config", str(project), "-o", "json")
    assert code == 130
    assert len(out.splitlines()) == 1
    document = json.loads(out)
    assert document == {
        "ok": False,
        "kind": "interrupted",
        "error": f"interrupted: {KEEPS_RUNNING}",
        "hint": "resume with: bluegreen status --watch",
        "exit_code": 130,
        "code": None,
        "action": None,
        "problems": [],
        "left": KEEPS_RUNNING,
        "resume": "bluegreen status --watch",
        "region": None,  # the stubbed make_clients does not record one
        "result": {
            "pipeline": PIPELINE,
            "execution_id": "exec-1",
            "status": "InProgress",
            "console": LINK,
            "waiting_deployment": None,
            "failed_action": None,
            "error": None,
            "deployment_phase": None,
            "promoted": False,
        },
    }


def test_ctrl_c_at_a_prompt_is_an_interrupt_and_end_of_input_an_abort(
    project: Path, stubs: Stubs, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    started_and_building(stubs)
    on_sleep(monkeypatch, ctrl_c_at_a_prompt)
    code, _, err = run(capsys, "release", "--config", str(project))
    assert code == 130
    assert err.splitlines()[-1] == (
        f"interrupted: {KEEPS_RUNNING}; resume with: bluegreen status --watch"
    )

    started_and_building(stubs)
    on_sleep(monkeypatch, end_of_input_at_a_prompt)
    code, _, err = run(capsys, "release", "--config", str(project))
    stubs.done()
    assert code == 1
    assert err.splitlines()[-3:] == [
        "error: aborted: the prompt got no answer (end of input)",
        "  hint: answer on a terminal, or pass --yes where the command offers it",
        f"  left: {KEEPS_RUNNING}; resume with: bluegreen status --watch",
    ]


def test_ctrl_c_outside_any_operation_just_says_interrupted(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def make_clients(*_: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(common, "make_clients", make_clients)
    code, out, err = run(capsys, "status", "--config", str(project))
    assert (code, out, err) == (130, "", "interrupted\n")


def waiting_snapshot(s: Stubs) -> None:
    """Every call of one `status` snapshot (a deployment waiting for reroute)."""
    refs(s)
    service(s, BOTH)
    deployment(s, "d-WAIT00001", "Ready", 5, target_status="Ready")
    s.add("codepipeline", "list_pipeline_executions", {"pipelineExecutionSummaries": []})
    s.add("codepipeline", "get_pipeline_state", {"stageStates": []})
    listeners(s, [(BLUE_TG, 1)], [(GREEN_TG, 1)])
    health(s, BLUE_TG, ["healthy"])
    health(s, GREEN_TG, ["healthy"])
    task_definition(s, 3, "0a1b2c3d")
    task_definition(s, 4, "1a2b3c4d")


def test_status_watch_and_logs_follow_exit_130_on_ctrl_c_leaving_nothing(
    project: Path, stubs: Stubs, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    waiting_snapshot(stubs)
    on_sleep(monkeypatch, ctrl_c)
    code, out, err = run(capsys, "status", "--watch", "--config", str(project))
    assert code == 130
    assert out.startswith("pipeline sample3-dev-pipeline: never ran\n")
    assert err == "interrupted: nothing left running (status --watch only reads)\n"

    # FilterLogEvents with no events: an empty list
    # (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html).
    stubs.add("logs", "describe_log_groups", {"logGroups": []})  # the service's clock
    stubs.add("logs", "filter_log_events", {"events": []})
    code, out, err = run(capsys, "logs", "--follow", "--config", str(project))
    stubs.done()
    assert code == 130 and out == ""
    lines = err.splitlines()
    assert lines[0].startswith("no events in /bluegreen/sample3-dev/webapp since ")
    assert lines[0].endswith(" UTC yet; waiting for new ones")
    assert lines[1:] == ["interrupted: nothing left running (logs --follow only reads)"]


# ---- errors in the middle of an operation ----------------------------------------------


def test_an_error_while_following_says_the_execution_keeps_running(
    project: Path, stubs: Stubs, capsys: pytest.CaptureFixture[str]
) -> None:
    stubs.add("codepipeline", "start_pipeline_execution", {"pipelineExecutionId": "exec-1"})
    # GetPipelineExecution throttled beyond the retries: a ThrottlingException
    # (https://docs.aws.amazon.com/codepipeline/latest/APIReference/CommonErrors.html).
    stubs.error("codepipeline", "get_pipeline_execution", "ThrottlingException", "Rate exceeded")
    code, out, err = run(capsys, "release", "--config", str(project))
    stubs.done()
    assert code == 1 and out == ""
    assert err.splitlines()[1:] == [
        "error: AWS throttled codepipeline:GetPipelineExecution even after retries "
        "(ThrottlingException)",
        "  hint: wait a minute and run the command again; other tools may be calling the same API",
        f"  left: {KEEPS_RUNNING}; resume with: bluegreen status --watch",
    ]


def test_a_pipeline_missing_in_the_region_names_region_and_account(
    project: Path, stubs: Stubs, capsys: pytest.CaptureFixture[str]
) -> None:
    # StartPipelineExecution on a pipeline the region does not have: AWS answers
    # PipelineNotFoundException naming the account (the wording seen from CodePipeline
    # and moto alike, ops-live review runs 08 and 50d).
    stubs.error(
        "codepipeline",
        "start_pipeline_execution",
        "PipelineNotFoundException",
        f"Account '123456789012' does not have a pipeline with name '{PIPELINE}'",
        {"name": PIPELINE},
    )
    code, out, err = run(capsys, "release", "--config", str(project))
    stubs.done()
    assert code == 1 and out == ""
    assert err.splitlines() == [
        f"error: the pipeline {PIPELINE} does not exist in ap-northeast-1 (account 123456789012)",
        "  hint: check --region / project.region (now ap-northeast-1); in the right region, "
        "run `bluegreen deploy` first (the pipeline stack creates it)",
    ]  # nothing started, so nothing is said to keep running


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


# ---- --output json failure documents ----------------------------------------------------


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


def test_an_aws_error_document_names_the_code_and_the_action(
    project: Path, stubs: Stubs, capsys: pytest.CaptureFixture[str]
) -> None:
    # DescribeStacks refused by IAM: AccessDenied naming the principal (ops-live review,
    # runs 55; https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/CommonErrors.html).
    stubs.error(
        "cloudformation",
        "describe_stacks",
        "AccessDenied",
        "User: arn:aws:sts::123456789012:assumed-role/ci/bot is not authorized to perform: "
        "cloudformation:DescribeStacks",
    )
    code, out, _ = run(capsys, "status", "--config", str(project), "--output=json")
    document = json.loads(out)
    assert code == 1
    assert (document["kind"], document["code"], document["action"]) == (
        "operation",
        "AccessDenied",
        "cloudformation:DescribeStacks",
    )
    assert document["error"] == (
        "access denied: arn:aws:sts::123456789012:assumed-role/ci/bot may not call "
        "cloudformation:DescribeStacks"
    )
    assert document["hint"].startswith("grant cloudformation:DescribeStacks to ")


def test_a_failed_release_in_json_is_one_document_carrying_the_result(
    project: Path, stubs: Stubs, capsys: pytest.CaptureFixture[str]
) -> None:
    stubs.add("codepipeline", "start_pipeline_execution", {"pipelineExecutionId": "exec-1"})
    pipeline_poll(
        stubs,
        "exec-1",
        "Failed",
        "Build",
        {
            "actionName": "BuildApp",
            "latestExecution": {
                "status": "Failed",
                "errorDetails": {"code": "JobFailed", "message": "exit status 1"},
            },
        },
    )
    code, out, _ = run(capsys, "release", "--config", str(project), "-o", "json")
    document = json.loads(out)  # exactly one document
    assert code == 1
    assert document["ok"] is False
    assert document["error"] == "the pipeline execution failed at Build/BuildApp: exit status 1"
    assert document["hint"] == f"details: {LINK}"
    assert document["left"] is None  # the execution ended: nothing keeps running
    assert document["result"]["status"] == "Failed"
    assert document["result"]["failed_action"] == "Build/BuildApp"


def test_status_watch_json_is_json_lines_ending_with_the_failure(
    project: Path, stubs: Stubs, capsys: pytest.CaptureFixture[str]
) -> None:
    waiting_snapshot(stubs)
    stubs.error("cloudformation", "describe_stacks", "Throttling", "Rate exceeded")
    code, out, _ = run(capsys, "status", "--watch", "-o", "json", "--config", str(project))
    stubs.done()
    assert code == 1
    first, last = (json.loads(line) for line in out.splitlines())
    assert first["deployment"]["phase"] == "waiting-for-reroute"
    assert (last["ok"], last["code"]) == (False, "Throttling")


def test_status_watch_json_without_a_terminal_prints_three_lines(
    project: Path, stubs: Stubs, capsys: pytest.CaptureFixture[str]
) -> None:
    for _ in range(3):
        waiting_snapshot(stubs)
    code, out, _ = run(capsys, "status", "-w", "-o", "json", "--config", str(project))
    stubs.done()
    assert code == 0
    documents = [json.loads(line) for line in out.splitlines()]
    assert len(documents) == 3
    assert all(d["listeners"][0]["port"] == 80 for d in documents)


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
