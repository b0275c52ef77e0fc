"""aws/builds.py: what each image build of a release did, the branch builds, and a failed
build's last output line.

A build exists in the emulated AWS only after a whole pipeline run, so the answers here
are queued on botocore Stubber (validated against the model), shaped as the API
reference documents them:

- ListActionExecutions gives each action's input.actionTypeId and
  output.executionResult.externalExecutionId, the CodeBuild build id (CodePipeline API
  reference, ActionExecutionDetail / ActionExecutionResult).
- BatchGetBuilds takes 1 to 100 ids (CodeBuild API reference, BatchGetBuilds: "ids ...
  Maximum number of 100 items") and answers with exportedEnvironmentVariables, logs
  (groupName, streamName), buildNumber, startTime/endTime.
- ListBuildsForProject with sortOrder DESCENDING lists the newest build first.
- GetLogEvents with startFromHead=False and limit gives the last events of a stream
  (CloudWatch Logs API reference, GetLogEvents).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from deploy_support import make_repo
from test_aws_support import Stubs

from bluegreen import config as config_mod
from bluegreen.aws import builds
from bluegreen.aws.builds import BranchBuild, ImageBuild
from bluegreen.cli import common
from bluegreen.cli.app import main
from bluegreen.names import Names
from bluegreen.stacks.branches import branch_check_project

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _detail(name: str, provider: str, build_id: str | None, minute: int | None) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "actionName": name,
        "input": {
            "actionTypeId": {
                "category": "Build",
                "owner": "AWS",
                "provider": provider,
                "version": "1",
            }
        },
    }
    if minute is not None:
        detail["startTime"] = T0 + timedelta(minutes=minute)
    if build_id is not None:
        detail["output"] = {"executionResult": {"externalExecutionId": build_id}}
    return detail


def _build(build_id: str, project: str, variables: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {
        "id": build_id,
        "projectName": project,
        "buildStatus": "SUCCEEDED",
        "exportedEnvironmentVariables": [{"name": k, "value": v} for k, v in variables.items()],
        **extra,
    }


def test_image_builds_in_action_order_with_their_verdicts() -> None:
    s = Stubs()
    details = [
        _detail("Sidecar", "CodeBuild", "b:2", 5),
        _detail("Source", "CodeCommit", "commit", 0),  # not a build
        _detail("App", "CodeBuild", "b:1", 1),
        _detail("Unknown", "CodeBuild", "b:3", None),  # no start time: first
        _detail("Pending", "CodeBuild", None, 2),  # not started: no build id
        _detail("Gone", "CodeBuild", "b:4", 9),  # BatchGetBuilds does not know it
    ]
    s.add(
        "codepipeline",
        "list_action_executions",
        {"actionExecutionDetails": details},
        {"pipelineName": "p", "filter": {"pipelineExecutionId": "e-1"}},
    )
    s.add(
        "codebuild",
        "batch_get_builds",
        {
            "builds": [
                _build(
                    "b:1",
                    "app",
                    {"IMAGE_TAG": "abc", "IMAGE_BUILT": "yes"},
                    startTime=T0,
                    endTime=T0 + timedelta(seconds=61, milliseconds=600),
                ),
                _build("b:2", "sidecar", {"IMAGE_TAG": "def", "IMAGE_BUILT": "no"}),
                {"id": "b:3", "projectName": "x", "buildStatus": "FAILED"},
            ]
        },
        {"ids": ["b:3", "b:1", "b:2", "b:4"]},
    )
    found = builds.image_builds(s.client("codepipeline"), s.client("codebuild"), "p", "e-1")
    s.done()
    assert found == [
        ImageBuild("Unknown", "x", "b:3", "FAILED", "", None, 0),
        ImageBuild("App", "app", "b:1", "SUCCEEDED", "abc", True, 62),
        ImageBuild("Sidecar", "sidecar", "b:2", "SUCCEEDED", "def", False, 0),
    ]
    assert [b.verdict for b in found] == ["failed", "built", "reused"]
    assert found[1].to_dict() == {
        "action": "App",
        "project": "app",
        "build_id": "b:1",
        "status": "SUCCEEDED",
        "tag": "abc",
        "result": "built",
        "seconds": 62,
    }


def test_an_execution_without_builds_asks_codebuild_nothing() -> None:
    s = Stubs()
    s.add(
        "codepipeline",
        "list_action_executions",
        {"actionExecutionDetails": [_detail("Source", "CodeCommit", "c", 0)]},
        {"pipelineName": "p", "filter": {"pipelineExecutionId": "e-1"}},
    )
    assert builds.image_builds(s.client("codepipeline"), s.client("codebuild"), "p", "e-1") == []
    s.done()


def test_an_unknown_image_built_value_says_nothing() -> None:
    s = Stubs()
    s.add(
        "codepipeline",
        "list_action_executions",
        {"actionExecutionDetails": [_detail("App", "CodeBuild", "b:1", 0)]},
        {"pipelineName": "p", "filter": {"pipelineExecutionId": "e-1"}},
    )
    s.add(
        "codebuild",
        "batch_get_builds",
        {"builds": [_build("b:1", "app", {"IMAGE_BUILT": "YES"})]},
        {"ids": ["b:1"]},
    )
    (found,) = builds.image_builds(s.client("codepipeline"), s.client("codebuild"), "p", "e-1")
    assert found.built is None and found.verdict == "succeeded"
    s.done()


def _branch(n: int, branch: str | None, env_branch: str | None = None) -> dict[str, Any]:
    variables = {"BRANCH": branch} if branch is not None else {}
    extra: dict[str, Any] = {
        "buildNumber": n,
        "currentPhase": "COMPLETED",
        "resolvedSourceVersion": f"sha{n}",
        "startTime": T0,
        "endTime": T0 + timedelta(seconds=n),
    }
    if env_branch is not None:
        extra["environment"] = {
            "type": "LINUX_CONTAINER",
            "image": "aws/codebuild/standard:7.0",
            "computeType": "BUILD_GENERAL1_SMALL",
            "environmentVariables": [
                {"name": "OTHER", "value": "x"},
                {"name": "BRANCH", "value": env_branch},
            ],
        }
    return _build(f"check:{n}", "check", variables, **extra)


def test_branch_builds_newest_first_filtered_and_limited() -> None:
    s = Stubs()
    ids = [f"check:{n}" for n in range(105, 0, -1)]
    s.add(
        "codebuild",
        "list_builds_for_project",
        {"ids": ids},
        {"projectName": "check", "sortOrder": "DESCENDING"},
    )
    first = [_branch(n, "main" if n % 2 else "feature") for n in range(105, 5, -1)]
    first[1] = _branch(104, None, env_branch="feature")  # BRANCH only in the environment
    s.add("codebuild", "batch_get_builds", {"builds": first}, {"ids": ids[:100]})
    s.add(
        "codebuild",
        "batch_get_builds",
        {"builds": [_branch(n, "feature") for n in range(5, 0, -1)]},
        {"ids": ids[100:]},
    )
    found = builds.branch_builds(s.client("codebuild"), "check", "feature", limit=52)
    s.done()  # the second chunk of ids was read: 50 feature builds in the first 100
    assert len(found) == 52
    assert [b.number for b in found[:2]] == [104, 102]
    assert [b.number for b in found[-2:]] == [5, 4]
    assert found[0] == BranchBuild(
        build_id="check:104",
        number=104,
        branch="feature",
        commit="sha104",
        status="SUCCEEDED",
        phase="COMPLETED",
        started=T0,
        seconds=104,
        variables={},
    )
    assert found[1].to_dict() == {
        "build_id": "check:102",
        "number": 102,
        "branch": "feature",
        "commit": "sha102",
        "status": "SUCCEEDED",
        "phase": "COMPLETED",
        "started": "2026-12-01T09:00:00+00:00",
        "seconds": 102,
        "variables": {"BRANCH": "feature"},
    }


def test_branch_builds_stop_at_the_limit_and_default_to_ten() -> None:
    s = Stubs()
    ids = [f"check:{n}" for n in range(12, 0, -1)]
    s.add(
        "codebuild",
        "list_builds_for_project",
        {"ids": ids},
        {"projectName": "check", "sortOrder": "DESCENDING"},
    )
    answered = [_branch(n, "main") for n in range(12, 0, -1) if n != 7]  # 7 unknown
    missing = {"id": "check:1", "projectName": "check", "buildStatus": "IN_PROGRESS"}
    # Not resolved yet (a build still in its first phase): the requested sourceVersion.
    answered[0] = dict(answered[0], sourceVersion="refs/heads/main")
    del answered[0]["resolvedSourceVersion"]
    answered[-1] = missing  # no number, no source version, no phase, no times
    s.add("codebuild", "batch_get_builds", {"builds": answered}, {"ids": ids})
    found = builds.branch_builds(s.client("codebuild"), "check")
    s.done()
    assert [b.number for b in found] == [12, 11, 10, 9, 8, 6, 5, 4, 3, 2]
    assert [b.commit for b in found[:2]] == ["refs/heads/main", "sha11"]
    s.add(
        "codebuild",
        "list_builds_for_project",
        {"ids": ["check:1"]},
        {"projectName": "check", "sortOrder": "DESCENDING"},
    )
    s.add("codebuild", "batch_get_builds", {"builds": [missing]}, {"ids": ["check:1"]})
    (bare,) = builds.branch_builds(s.client("codebuild"), "check")
    # Nothing known is "" (never str(None), "None", which would read as a commit).
    assert (bare.number, bare.branch, bare.commit, bare.phase, bare.seconds) == (0, "", "", "", 0)
    assert bare.to_dict()["started"] is None
    s.done()


def test_builds_says_an_unknown_commit_as_a_dash_and_as_empty_in_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`bluegreen builds` of a build CodeBuild has not resolved a source for yet (BatchGetBuilds
    answers no sourceVersion, resolvedSourceVersion or currentPhase: none is required in
    the Build shape of botocore's codebuild model)."""
    make_repo(tmp_path)
    monkeypatch.chdir(tmp_path)
    s = Stubs()
    monkeypatch.setattr(common, "make_clients", lambda config, profile, region: s.clients)
    project = branch_check_project(Names.of(config_mod.load(tmp_path / "bluegreen.toml")))
    bare = {"id": f"{project}:1", "projectName": project, "buildStatus": "IN_PROGRESS"}
    for _ in range(2):
        s.add(
            "codebuild",
            "list_builds_for_project",
            {"ids": [bare["id"]]},
            {"projectName": project, "sortOrder": "DESCENDING"},
        )
        s.add("codebuild", "batch_get_builds", {"builds": [bare]}, {"ids": [bare["id"]]})
    assert main(["builds"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "#0  -  -  IN_PROGRESS  0 s  tests -, checks -, app image -, router image -"
    ]
    assert main(["builds", "-o", "json"]) == 0
    (item,) = json.loads(capsys.readouterr().out)
    assert (item["commit"], item["phase"], item["branch"]) == ("", "", "")
    s.done()


def _logs_of(s: Stubs, build_id: str, logs: dict[str, str] | None) -> None:
    build: dict[str, Any] = {"id": build_id}
    if logs is not None:
        build["logs"] = logs
    s.add("codebuild", "batch_get_builds", {"builds": [build]}, {"ids": [build_id]})


def test_last_output_is_the_last_line_the_commands_printed() -> None:
    s = Stubs()
    _logs_of(s, "b:1", {"groupName": "/aws/codebuild/app", "streamName": "s1"})
    s.add(
        "logs",
        "get_log_events",
        {
            "events": [
                {"timestamp": 1, "message": "step 1\n"},
                {"timestamp": 2, "message": "  the deployment failed  \n"},
                {"timestamp": 3, "message": "   \n"},
                {"timestamp": 4, "message": "[Container] 2026/12/01 Phase complete: BUILD"},
            ]
        },
        {
            "logGroupName": "/aws/codebuild/app",
            "logStreamName": "s1",
            "limit": 100,
            "startFromHead": False,
        },
    )
    assert builds.last_output(s.client("codebuild"), s.client("logs"), "b:1") == (
        "the deployment failed"
    )
    s.done()


def test_last_output_is_empty_when_it_cannot_be_read() -> None:
    s = Stubs()
    cb, logs = s.client("codebuild"), s.client("logs")
    _logs_of(s, "b:1", None)
    assert builds.last_output(cb, logs, "b:1") == ""
    _logs_of(s, "b:2", {"groupName": "g"})  # no stream
    assert builds.last_output(cb, logs, "b:2") == ""
    _logs_of(s, "b:3", {"streamName": "s"})  # no group
    assert builds.last_output(cb, logs, "b:3") == ""
    _logs_of(s, "b:4", {"groupName": "g", "streamName": "s"})
    s.error("logs", "get_log_events", "AccessDeniedException", "no")
    assert builds.last_output(cb, logs, "b:4") == ""
    _logs_of(s, "b:5", {"groupName": "g", "streamName": "s"})
    only = [{"timestamp": 1, "message": "[Container] started"}]
    s.add("logs", "get_log_events", {"events": only})
    assert builds.last_output(cb, logs, "b:5") == ""
    s.done()


def test_one_line_of_a_failed_command() -> None:
    script = "set -e\n  echo one\n\n  exit 3\n"
    message = (
        f"Phase: BUILD\n Message: Error while executing command: {script}. Reason: exit status 3"
    )
    assert builds.is_script_error(message)
    assert builds.one_line(message, " last   words ") == (
        "Phase: BUILD Message: `set -e … (3-line script)` failed: exit status 3; "
        "last output: last words"
    )
    # An empty command (only whitespace) is said as empty.
    empty = "Error while executing command:  . Reason: exit status 1"
    assert not builds.is_script_error(empty)
    assert builds.one_line(empty) == "`` failed: exit status 1"
    # The reason is the message's last line; text after it is not a command error.
    assert not builds.is_script_error(
        "Error while executing command: a\nb. Reason: exit status 1\nmore"
    )


def test_the_cut_keeps_exactly_200_characters() -> None:
    assert builds.one_line("x", "y" * 200) == "x; last output: " + "y" * 200
    assert builds.one_line("x", "y" * 201) == "x; last output: " + "y" * 199 + "…"
    long = "c" * 201
    assert builds.one_line(f"Error while executing command: {long}. Reason: r") == (
        "`" + "c" * 199 + "…` failed: r"
    )
