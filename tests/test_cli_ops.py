"""The operating commands end to end through the CLI, with stubbed AWS clients.

The seam is ``bluegreen.cli.common.make_clients`` (and ``common.sleep``): each test
replaces it, runs ``bluegreen.cli.app.main`` and asserts exact output and exit codes.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from test_aws_engine import BOTH, no_credentials
from test_aws_support import (
    BLUE_TG,
    GREEN_TG,
    PIPELINE,
    T0,
    Stubs,
    deployment,
    health,
    listeners,
    pipeline_poll,
    refs,
    service,
    task_definition,
    task_set,
)

from bluegreen.cli import common
from bluegreen.cli.app import main


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


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str], str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err


def pipeline_state(s: Stubs) -> None:
    s.add(
        "codepipeline",
        "list_pipeline_executions",
        {
            "pipelineExecutionSummaries": [
                {
                    "pipelineExecutionId": "8f1e2d3c-aaaa",
                    "status": "InProgress",
                    "startTime": T0,
                    "sourceRevisions": [
                        {
                            "actionName": "Source",
                            "revisionId": "1a2b3c4d5e6f7a8b9c0d",
                            "revisionSummary": "Say hello from Abashiri\n\nbody",
                        }
                    ],
                }
            ]
        },
        {"pipelineName": PIPELINE, "maxResults": 1},
    )

    def stage(name: str, status: str, actions: list[tuple[str, str, str]]) -> dict[str, Any]:
        return {
            "stageName": name,
            "latestExecution": {"pipelineExecutionId": "8f1e2d3c-aaaa", "status": status},
            "actionStates": [
                {
                    "actionName": a,
                    "latestExecution": {
                        "status": st,
                        **({"externalExecutionId": ext} if ext else {}),
                    },
                }
                for a, st, ext in actions
            ],
        }

    s.add(
        "codepipeline",
        "get_pipeline_state",
        {
            "pipelineName": PIPELINE,
            "stageStates": [
                stage("Source", "Succeeded", [("Source", "Succeeded", "1a2b3c4d")]),
                stage(
                    "Build",
                    "Succeeded",
                    [("BuildApp", "Succeeded", "b:1"), ("BuildRouter", "Succeeded", "b:2")],
                ),
                stage("Deploy", "InProgress", [("Deploy", "InProgress", "d-WAIT00001")]),
            ],
        },
        {"name": PIPELINE},
    )


def waiting_status(s: Stubs) -> None:
    refs(s)
    service(s, BOTH)
    deployment(s, "d-WAIT00001", "Ready", 5, target_status="Ready")
    pipeline_state(s)
    listeners(s, [(BLUE_TG, 1)], [(GREEN_TG, 1)])
    health(s, BLUE_TG, ["healthy", "healthy"])
    health(s, GREEN_TG, ["healthy", "initial"])
    task_definition(s, 3, "0a1b2c3d")
    task_definition(s, 4, "1a2b3c4d")


def test_status_while_waiting_for_reroute(
    project: Path, stubs: Stubs, capsys: pytest.CaptureFixture[str]
) -> None:
    waiting_status(stubs)
    code, lines, _ = run(capsys, "status", "--config", str(project))
    stubs.done()
    assert code == 0
    assert lines == [
        "pipeline sample3-dev-pipeline: InProgress "
        "(execution 8f1e2d3c-aaaa, 2026-01-02 03:04:05 UTC)",
        "  revision 1a2b3c4d Say hello from Abashiri",
        "  Source         Succeeded",
        "    Source       Succeeded",
        "  Build          Succeeded",
        "    BuildApp     Succeeded",
        "    BuildRouter  Succeeded",
        "  Deploy         InProgress",
        "    Deploy       InProgress  d-WAIT00001",
        "deployment d-WAIT00001: Ready (waiting-for-reroute)",
        "  BeforeInstall          Succeeded",
        "  Install                Succeeded",
        "  AfterInstall           Succeeded",
        "  AllowTestTraffic       Succeeded",
        "  AfterAllowTestTraffic  Succeeded",
        "  BeforeAllowTraffic     Pending",
        "  AllowTraffic           Pending",
        "  AfterAllowTraffic      Pending",
        "  traffic: blue 100%, green 0%",
        "listeners",
        "  production  :80    sample3-dev-blue 100%",
        "  test        :8080  sample3-dev-green 100%",
        "target groups",
        "  blue   sample3-dev-blue   healthy 2",
        "  green  sample3-dev-green  healthy 1, initial 1",
        "task sets",
        "  blue   PRIMARY  sample3-dev-task:3  1/1 running  webapp:0a1b2c3d log-router:0a1b2c3d",
        "  green  ACTIVE   sample3-dev-task:4  1/1 running  webapp:1a2b3c4d log-router:1a2b3c4d",
    ]


def test_status_while_shifting_weighted(
    project: Path, stubs: Stubs, capsys: pytest.CaptureFixture[str]
) -> None:
    refs(stubs)
    service(stubs, BOTH)
    deployment(stubs, "d-SHIFT0001", "InProgress", 6, running="AllowTraffic", weights=(90.0, 10.0))
    stubs.add("codepipeline", "list_pipeline_executions", {"pipelineExecutionSummaries": []})
    stubs.add("codepipeline", "get_pipeline_state", {"stageStates": [{"stageName": "Source"}]})
    listeners(stubs, [(BLUE_TG, 90), (GREEN_TG, 10)], [(GREEN_TG, 1)])
    health(stubs, BLUE_TG, ["healthy"])
    health(stubs, GREEN_TG, [])
    task_definition(stubs, 3, "0a1b2c3d")
    task_definition(stubs, 4, "1a2b3c4d")

    code, lines, _ = run(capsys, "status", "--config", str(project))

    stubs.done()
    assert code == 0
    assert lines[0] == "pipeline sample3-dev-pipeline: never ran"
    assert lines[1] == "deployment d-SHIFT0001: InProgress (shifting)"
    assert "  AllowTraffic           InProgress" in lines
    assert "  traffic: blue 90%, green 10%" in lines
    assert "  production  :80    sample3-dev-blue 90%, sample3-dev-green 10%" in lines
    assert "  green  sample3-dev-green  no targets" in lines


def test_status_json(project: Path, stubs: Stubs, capsys: pytest.CaptureFixture[str]) -> None:
    waiting_status(stubs)
    code = main(["status", "--config", str(project), "--output", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert data["deployment"]["phase"] == "waiting-for-reroute"
    assert data["listeners"][0] == {
        "role": "production",
        "port": 80,
        "forwards": [{"target_group": "sample3-dev-blue", "weight": 100}],
    }
    assert [t["label"] for t in data["target_groups"]] == ["blue", "green"]
    assert data["task_sets"][1]["images"] == {"webapp": "1a2b3c4d", "log-router": "1a2b3c4d"}


def test_status_after_release_both_listeners_on_one_group(
    project: Path, stubs: Stubs, capsys: pytest.CaptureFixture[str]
) -> None:
    """After a release the serving group is blue whatever its name."""
    refs(stubs)
    service(stubs, [task_set("ecs-svc/2222", "PRIMARY", 4, GREEN_TG)])
    deployment(stubs, "d-DONE00001", "Succeeded", 8, target_status="Succeeded")
    stubs.add("codepipeline", "list_pipeline_executions", {"pipelineExecutionSummaries": []})
    stubs.add("codepipeline", "get_pipeline_state", {"stageStates": []})
    listeners(stubs, [(GREEN_TG, 1)], [(GREEN_TG, 1)])
    health(stubs, BLUE_TG, [])
    health(stubs, GREEN_TG, ["healthy"])
    task_definition(stubs, 4, "1a2b3c4d")

    code, lines, _ = run(capsys, "status", "--config", str(project))

    assert code == 0
    stubs.done()
    assert lines[-8:] == [
        "listeners",
        "  production  :80    sample3-dev-green 100%",
        "  test        :8080  sample3-dev-green 100%",
        "target groups",
        "  green  sample3-dev-blue   no targets",
        "  blue   sample3-dev-green  healthy 1",
        "task sets",
        "  blue  PRIMARY  sample3-dev-task:4  1/1 running  webapp:1a2b3c4d log-router:1a2b3c4d",
    ]


def test_promote_ok(project: Path, stubs: Stubs, capsys: pytest.CaptureFixture[str]) -> None:
    refs(stubs)
    service(stubs, BOTH)
    deployment(stubs, "d-WAIT00001", "Ready", 5)
    # ContinueDeployment with deploymentWaitType READY_WAIT ends the wait before reroute
    # (https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_ContinueDeployment.html);
    # it answers with an empty body (no output shape in botocore's codedeploy model).
    stubs.add(
        "codedeploy",
        "continue_deployment",
        {},
        {"deploymentId": "d-WAIT00001", "deploymentWaitType": "READY_WAIT"},
    )
    code, lines, _ = run(capsys, "promote", "--config", str(project))
    stubs.done()
    assert code == 0
    assert lines == [
        "rerouting production (:80) to the green task set of deployment d-WAIT00001; follow "
        "with `bluegreen status --watch`"
    ]


def test_promote_refused_exits_1_with_reason(
    project: Path, stubs: Stubs, capsys: pytest.CaptureFixture[str]
) -> None:
    refs(stubs)
    service(stubs, BOTH)
    deployment(stubs, "d-DONE00001", "Succeeded", 8, target_status="Succeeded")
    code, lines, err = run(capsys, "promote", "--config", str(project))
    assert code == 1 and lines == []
    assert err.splitlines() == [
        "error: cannot promote: deployment d-DONE00001 is Succeeded (succeeded), not waiting "
        "for reroute",
        "  hint: start a new release with `bluegreen release`",
    ]


def test_finish_and_rollback(
    project: Path, stubs: Stubs, capsys: pytest.CaptureFixture[str]
) -> None:
    refs(stubs)
    service(stubs, BOTH)
    deployment(stubs, "d-TERM00001", "InProgress", 8, target_status="Succeeded")
    # TERMINATION_WAIT ends the wait that keeps the original task set (same API page as
    # READY_WAIT above: ContinueDeployment, deploymentWaitType).
    stubs.add(
        "codedeploy",
        "continue_deployment",
        {},
        {"deploymentId": "d-TERM00001", "deploymentWaitType": "TERMINATION_WAIT"},
    )
    code, lines, _ = run(capsys, "finish", "--config", str(project))
    assert code == 0
    assert lines == [
        "terminating the original (blue) task set of deployment d-TERM00001 now; "
        "rollback is no longer possible once it is gone"
    ]
    refs(stubs)
    service(stubs, BOTH)
    deployment(stubs, "d-INST00001", "InProgress", 2, running="AfterInstall")
    # StopDeployment with autoRollbackEnabled=true rolls back to the original revision and
    # answers with a status and message
    # (https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_StopDeployment.html).
    stubs.add(
        "codedeploy",
        "stop_deployment",
        {"status": "Pending"},
        {"deploymentId": "d-INST00001", "autoRollbackEnabled": True},
    )
    code, lines, _ = run(capsys, "rollback", "--config", str(project))
    stubs.done()
    assert code == 0
    assert lines == [
        "stopped deployment d-INST00001 (installing) with rollback: production stays on the "
        "original task set and CodeDeploy removes the replacement"
    ]


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


def test_access_denied_names_the_action(
    project: Path, stubs: Stubs, capsys: pytest.CaptureFixture[str]
) -> None:
    stubs.error(
        "cloudformation",
        "describe_stacks",
        "AccessDenied",
        "User: arn:aws:sts::123456789012:assumed-role/ci/bot is not authorized to perform: "
        "cloudformation:DescribeStacks",
    )
    code, _, err = run(capsys, "rollback", "--config", str(project))
    assert code == 1
    assert err.splitlines()[0] == (
        "error: access denied: arn:aws:sts::123456789012:assumed-role/ci/bot may not call "
        "cloudformation:DescribeStacks"
    )


def started_release(
    s: Stubs, execution: str, status: str, stage: str, action: dict[str, Any]
) -> None:
    """`release` starts ``execution``, which is ``status`` with one ``stage`` (and that
    stage's one ``action`` state) in the pipeline state."""
    s.add("codepipeline", "start_pipeline_execution", {"pipelineExecutionId": execution})
    pipeline_poll(s, execution, status, stage, action)


def test_release_waits_and_says_how_to_promote(
    project: Path, stubs: Stubs, capsys: pytest.CaptureFixture[str]
) -> None:
    started_release(
        stubs,
        "exec-1",
        "InProgress",
        "Deploy",
        {
            "actionName": "Deploy",
            "latestExecution": {"status": "InProgress", "externalExecutionId": "d-WAIT00001"},
        },
    )
    refs(stubs)
    service(stubs, BOTH)
    deployment(stubs, "d-WAIT00001", "Ready", 5)
    refs(stubs)  # links for the test URL
    code, lines, err = run(capsys, "release", "--config", str(project))
    stubs.done()
    assert code == 0
    assert lines[0] == "execution exec-1: InProgress"
    assert lines[2] == (
        "deployment d-WAIT00001 waits for reroute: test green on "
        "http://alb-123.ap-northeast-1.elb.amazonaws.com:8080, then `bluegreen promote` "
        "(or `bluegreen rollback`)"
    )
    assert "Deploy/Deploy: InProgress (d-WAIT00001)" in err


def test_release_failed_exits_1(
    project: Path, stubs: Stubs, capsys: pytest.CaptureFixture[str]
) -> None:
    started_release(
        stubs,
        "exec-2",
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
    code, _, err = run(capsys, "release", "--config", str(project), "--output", "json")
    assert code == 1
    assert "error: the pipeline execution failed at Build/BuildApp: exit status 1" in err


def test_logs_text_and_bad_input(
    project: Path, stubs: Stubs, capsys: pytest.CaptureFixture[str]
) -> None:
    stubs.add("logs", "describe_log_groups", {"logGroups": []})  # the service's clock
    stubs.add(
        "logs",
        "filter_log_events",
        {
            "events": [
                {
                    "eventId": "e1",
                    "timestamp": int((T0 + timedelta(milliseconds=7)).timestamp() * 1000),
                    "logStreamName": "log-router-firelens-abc",
                    "message": "[info] started",
                }
            ]
        },
    )
    code, lines, _ = run(
        capsys, "logs", "--config", str(project), "--container", "router", "--since", "1h"
    )
    assert code == 0
    assert lines == ["2026-01-02T03:04:05.007Z log-router-firelens-abc [info] started"]
    code, _, err = run(capsys, "logs", "--config", str(project), "--since", "ten")
    assert code == 2 and "--since 'ten' is not a duration" in err
    code, _, err = run(capsys, "logs", "--config", str(project), "--container", "db")
    assert code == 2 and "webapp (or app) or log-router (or router)" in err


def test_deploy_without_terminal_needs_yes(
    project: Path, stubs: Stubs, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "deploy", "--config", str(project))
    assert code == 2
    assert "pass --yes" in err


def test_destroy_without_terminal_needs_yes(
    project: Path, stubs: Stubs, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines, err = run(capsys, "destroy", "--config", str(project))
    assert code == 2 and lines == []
    assert "destroy needs confirmation but no terminal is attached" in err
    assert "pass --yes" in err


@pytest.mark.parametrize(
    "command", ["deploy", "destroy", "release", "status", "promote", "finish", "rollback", "logs"]
)
def test_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main([command, "--help"])
    text = capsys.readouterr().out
    assert code == 0
    for option in ("--config", "--profile", "--region"):
        assert option in text


def test_deploy_dry_run_json_on_an_empty_account(
    tmp_path: Path, stubs: Stubs, capsys: pytest.CaptureFixture[str]
) -> None:
    from deploy_support import make_repo, repositories, role
    from test_aws_support import missing_stack

    make_repo(tmp_path)
    for name in ("source", "service", "pipeline", "source", "service", "pipeline", "service"):
        missing_stack(stubs, f"sample3-dev-{name}")  # deploy's first look, the stacks, links
    repositories(stubs, ["x"])
    role(stubs, exists=True)
    code = main(
        ["deploy", "--dry-run", "--output", "json", "--config", str(tmp_path / "bluegreen.toml")]
    )
    captured = capsys.readouterr()
    stubs.done()
    data = json.loads(captured.out)
    assert code == 0
    assert [s["action"] for s in data["stacks"]] == ["would-create"] * 3
    assert data["would_commit_files"] > 10 and data["links"] is None
    assert "sample3-dev-service: CREATE" in captured.err  # the changes went to stderr


def test_first_release_hint_says_when_to_promote() -> None:
    from bluegreen.cli.deploy import _first_release_hint
    from bluegreen.config import parse

    assert _first_release_hint(parse("")) == (
        "the first release is running: follow it with `bluegreen status --watch`; when green "
        'answers on :8080, run `bluegreen promote` within 10 min (deployment.reroute = "manual")'
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


def test_logs_without_events_say_so_on_stderr(
    project: Path, stubs: Stubs, capsys: pytest.CaptureFixture[str]
) -> None:
    # FilterLogEvents over a quiet window: an empty events list
    # (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html).
    for _ in range(2):
        stubs.add("logs", "describe_log_groups", {"logGroups": []})  # the service's clock
        stubs.add("logs", "filter_log_events", {"events": []})
    code, lines, err = run(capsys, "logs", "--config", str(project), "--since", "2h")
    assert code == 0 and lines == []
    assert err.startswith("no events in /bluegreen/sample3-dev/webapp since ")
    assert err.endswith(" UTC (--since 2h)\n")
    code, lines, err = run(capsys, "logs", "--config", str(project), "-o", "json")
    stubs.done()
    assert code == 0 and lines == ["[]"]
    assert err.endswith(" UTC (--since 10m)\n")


def test_logs_text_strips_terminal_escapes_and_json_keeps_them(
    project: Path, stubs: Stubs, capsys: pytest.CaptureFixture[str]
) -> None:
    message = "\x1b]0;owned\x07\x1b[31mred\x1b[0m\r\nnext line\x9b2J tab\x00"
    for _ in range(2):
        stubs.add("logs", "describe_log_groups", {"logGroups": []})  # the service's clock
        stubs.add(
            "logs",
            "filter_log_events",
            {
                "events": [
                    {
                        "eventId": "e1",
                        "timestamp": int(T0.timestamp() * 1000),
                        "logStreamName": "webapp-firelens-\x1b[2Kabc",
                        "message": message,
                    }
                ]
            },
        )
    code, lines, _ = run(capsys, "logs", "--config", str(project))
    assert code == 0
    assert lines == [
        "2026-01-02T03:04:05.000Z webapp-firelens-[2Kabc ]0;owned[31mred[0m\\nnext line2J tab"
    ]
    code = main(["logs", "--config", str(project), "-o", "json"])
    out = capsys.readouterr().out
    stubs.done()
    assert code == 0
    assert "\x1b" not in out and "\x9b" not in out and "\\u009b" in out
    assert json.loads(out)[0]["message"] == message


def test_logs_of_a_missing_group_name_the_region(
    project: Path, stubs: Stubs, capsys: pytest.CaptureFixture[str]
) -> None:
    # FilterLogEvents on a group the region does not have: ResourceNotFoundException
    # ("The specified log group does not exist.", FilterLogEvents API reference, Errors).
    stubs.add("logs", "describe_log_groups", {"logGroups": []})  # the service's clock
    stubs.error(
        "logs",
        "filter_log_events",
        "ResourceNotFoundException",
        "The specified log group does not exist.",
    )
    code, lines, err = run(capsys, "logs", "--config", str(project))
    stubs.done()
    assert code == 1 and lines == []
    assert err.splitlines() == [
        "error: log group /bluegreen/sample3-dev/webapp does not exist in ap-northeast-1",
        "  hint: check --region / project.region (now ap-northeast-1); in the right region, "
        "run `bluegreen deploy` first (the service stack creates it)",
    ]
