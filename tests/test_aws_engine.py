"""The CodeDeploy engine (promote, finish, rollback and their refusals), release, logs,
and the error translation, against stubbed clients."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from test_aws_support import (
    BLUE_TG,
    CLUSTER,
    GREEN_TG,
    PIPELINE,
    PROD_LISTENER,
    SERVICE,
    TEST_LISTENER,
    Stubs,
    deployment,
    health,
    refs,
    service,
    task_set,
)

from bluegreen import config as config_mod
from bluegreen import engine
from bluegreen.aws import logs as logs_mod
from bluegreen.aws import release as release_mod
from bluegreen.aws.errors import AwsCallError, call
from bluegreen.aws.session import Clients
from bluegreen.engine import Phase
from bluegreen.engine.codedeploy import phase_of
from bluegreen.errors import StateError, UsageError

CFG = config_mod.Config()
BOTH = [
    task_set("ecs-svc/1111", "PRIMARY", 3, BLUE_TG),
    task_set("ecs-svc/2222", "ACTIVE", 4, GREEN_TG),
]
# After a success: green (rev 4, on the green TG) is primary; blue (rev 3) still ACTIVE.
SWAPPED = [
    task_set("ecs-svc/2222", "PRIMARY", 4, GREEN_TG),
    task_set("ecs-svc/1111", "ACTIVE", 3, BLUE_TG),
]


def select(s: Stubs, task_sets: list[dict[str, object]] | None = None) -> engine.DeploymentEngine:
    refs(s)
    service(s, BOTH if task_sets is None else task_sets)
    return engine.select(s.clients, CFG)


def expect_continue(s: Stubs, deployment_id: str, wait_type: str) -> None:
    """The engine continues ``deployment_id`` past its ``wait_type`` wait."""
    s.add(
        "codedeploy",
        "continue_deployment",
        {},
        {"deploymentId": deployment_id, "deploymentWaitType": wait_type},
    )


def expect_stop(s: Stubs, deployment_id: str, answer: dict[str, object]) -> None:
    """The engine stops ``deployment_id`` with CodeDeploy's automatic rollback."""
    s.add(
        "codedeploy",
        "stop_deployment",
        answer,
        {"deploymentId": deployment_id, "autoRollbackEnabled": True},
    )


# ---- phases ----------------------------------------------------------------------------


def _target(done: int, status: str = "InProgress", running: str = "") -> dict[str, object]:
    from test_aws_support import LIFECYCLE

    return {
        "status": status,
        "lifecycleEvents": [
            {
                "lifecycleEventName": name,
                "status": "Succeeded"
                if i < done
                else ("InProgress" if name == running else "Pending"),
            }
            for i, name in enumerate(LIFECYCLE)
        ],
    }


@pytest.mark.parametrize(
    ("status", "target", "phase"),
    [
        ("Created", None, Phase.QUEUED),
        ("InProgress", _target(1, running="Install"), Phase.INSTALLING),
        ("Ready", _target(5), Phase.WAITING),
        ("InProgress", _target(5), Phase.WAITING),
        ("InProgress", _target(6, running="AllowTraffic"), Phase.SHIFTING),
        ("InProgress", _target(8, status="Succeeded"), Phase.TERMINATION_WAIT),
        ("Succeeded", _target(8, status="Succeeded"), Phase.SUCCEEDED),
        ("Stopped", _target(3), Phase.STOPPED),
        ("Failed", _target(3), Phase.FAILED),
    ],
)
def test_phase_of(status: str, target: dict[str, object] | None, phase: Phase) -> None:
    assert phase_of({"status": status}, target) == phase


# ---- promote / finish / rollback -----------------------------------------------------------


def test_promote_continues_a_deployment_waiting_for_reroute() -> None:
    s = Stubs()
    e = select(s)
    deployment(s, "d-WAIT00001", "Ready", 5, target_status="Ready")
    expect_continue(s, "d-WAIT00001", "READY_WAIT")
    result = e.promote()
    s.done()
    assert result.deployment_id == "d-WAIT00001"
    assert "rerouting production (:80)" in result.message


def test_promote_refuses_while_installing() -> None:
    s = Stubs()
    e = select(s)
    deployment(s, "d-INST00001", "InProgress", 1, running="Install")
    with pytest.raises(StateError) as info:
        e.promote()
    s.done()
    assert str(info.value).startswith(
        "cannot promote: deployment d-INST00001 is InProgress (installing, Install in progress), "
        "not waiting for reroute"
    )


def test_promote_refuses_without_any_deployment() -> None:
    s = Stubs()
    e = select(s)
    s.add("codedeploy", "list_deployments", {"deployments": []})
    s.add("codedeploy", "list_deployments", {"deployments": []})
    with pytest.raises(StateError, match="has no deployments yet"):
        e.promote()


def test_promote_finds_the_active_deployment_whatever_the_history_order() -> None:
    # ListDeployments promises no order: in a long history the waiting deployment need
    # not be among the first 25 ids of the first page. It is found by status instead.
    from test_aws_support import ACTIVE, APP, DG

    s = Stubs()
    e = select(s)
    s.add(
        "codedeploy",
        "list_deployments",
        {"deployments": ["d-WAIT00002"]},
        {"applicationName": APP, "deploymentGroupName": DG, "includeOnlyStatuses": ACTIVE},
    )
    s.add(
        "codedeploy",
        "batch_get_deployments",
        {
            "deploymentsInfo": [
                {"deploymentId": "d-WAIT00002", "status": "Ready", "createTime": datetime.now(UTC)}
            ]
        },
        {"deploymentIds": ["d-WAIT00002"]},
    )
    s.add(
        "codedeploy", "list_deployment_targets", {"targetIds": []}, {"deploymentId": "d-WAIT00002"}
    )
    expect_continue(s, "d-WAIT00002", "READY_WAIT")
    assert e.promote().deployment_id == "d-WAIT00002"
    s.done()


def test_finish_ends_the_termination_wait() -> None:
    s = Stubs()
    e = select(s)
    deployment(s, "d-TERM00001", "InProgress", 8, target_status="Succeeded", weights=(0, 100))
    expect_continue(s, "d-TERM00001", "TERMINATION_WAIT")
    assert "terminating the original (blue) task set" in e.finish().message
    s.done()


def test_finish_refuses_while_waiting_for_reroute() -> None:
    s = Stubs()
    e = select(s)
    deployment(s, "d-WAIT00001", "Ready", 5)
    with pytest.raises(StateError, match="not in the termination wait") as info:
        e.finish()
    assert "bluegreen promote" in str(info.value)


def test_rollback_in_progress_stops_with_auto_rollback() -> None:
    s = Stubs()
    e = select(s)
    deployment(s, "d-SHIFT0001", "InProgress", 6, running="AllowTraffic", weights=(50, 50))
    expect_stop(s, "d-SHIFT0001", {"status": "Pending", "statusMessage": "Stopping"})
    result = e.rollback()
    s.done()
    assert result.message.startswith(
        "stopped deployment d-SHIFT0001 (shifting) with rollback: production returns to the "
        "original task set"
    )


def test_rollback_during_termination_wait_uses_codedeploy() -> None:
    s = Stubs()
    e = select(s)
    deployment(s, "d-TERM00001", "InProgress", 8, target_status="Succeeded", weights=(0, 100))
    expect_stop(s, "d-TERM00001", {"status": "Pending"})
    assert "production returns to the original task set" in e.rollback().message
    s.done()


def test_rollback_after_success_reroutes_listeners_to_healthy_original() -> None:
    s = Stubs()
    e = select(s, SWAPPED)
    deployment(s, "d-DONE00001", "Succeeded", 8, target_status="Succeeded", weights=(0, 100))
    health(s, BLUE_TG, ["healthy"])
    for listener in (PROD_LISTENER, TEST_LISTENER):
        s.add(
            "elbv2",
            "modify_listener",
            {},
            {
                "ListenerArn": listener,
                "DefaultActions": [{"Type": "forward", "TargetGroupArn": BLUE_TG}],
            },
        )
    s.add(
        "ecs",
        "update_service_primary_task_set",
        {},
        {"cluster": CLUSTER, "service": SERVICE, "primaryTaskSet": "ecs-svc/1111"},
    )
    result = e.rollback()
    s.done()
    assert result.message == (
        "deployment d-DONE00001 had succeeded: pointed production (:80) and test (:8080) at "
        "sample3-dev-blue, served by the original task set ecs-svc/1111 (sample3-dev-task:3)"
    )


def test_rollback_after_success_refuses_unhealthy_original() -> None:
    s = Stubs()
    e = select(s, SWAPPED)
    deployment(s, "d-DONE00001", "Succeeded", 8, target_status="Succeeded")
    health(s, BLUE_TG, ["draining"])
    with pytest.raises(StateError, match="no healthy targets"):
        e.rollback()
    s.done()  # no listener was modified


def test_rollback_refuses_when_old_tasks_are_gone() -> None:
    s = Stubs()
    e = select(s, [task_set("ecs-svc/2222", "PRIMARY", 4, GREEN_TG)])
    deployment(s, "d-DONE00001", "Succeeded", 8, target_status="Succeeded")
    with pytest.raises(StateError, match="original task set is gone") as info:
        e.rollback()
    assert "revert" in str(info.value)


def test_rollback_refuses_an_already_stopped_deployment() -> None:
    s = Stubs()
    e = select(s)
    deployment(s, "d-STOP00001", "Stopped", 3, error=("DEPLOYMENT_STOPPED", "stopped by user"))
    with pytest.raises(StateError, match="already Stopped"):
        e.rollback()


def test_select_refuses_a_rolling_service() -> None:
    s = Stubs()
    refs(s)
    service(s, [], controller="ECS")
    with pytest.raises(StateError, match="not blue/green"):
        engine.select(s.clients, CFG)


def test_select_before_deploy() -> None:
    s = Stubs()
    s.error(
        "cloudformation", "describe_stacks", "ValidationError", "Stack with id x does not exist"
    )
    with pytest.raises(StateError, match="bluegreen deploy"):
        engine.select(s.clients, CFG)


# ---- release ----------------------------------------------------------------------------


class Lines:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def step(self, message: str) -> None:
        self.lines.append(message)


def _state(execution: str, deploy_status: str | None, external: str = "") -> dict[str, object]:
    def stage(name: str, status: str | None, action: str, ext: str = "") -> dict[str, object]:
        latest: dict[str, object] = {}
        if status:
            latest = {"status": status}
            if ext:
                latest["externalExecutionId"] = ext
        return {
            "stageName": name,
            "latestExecution": {"pipelineExecutionId": execution, "status": status or "InProgress"},
            "actionStates": [{"actionName": action, "latestExecution": latest}],
        }

    return {
        "pipelineName": PIPELINE,
        "stageStates": [
            stage("Source", "Succeeded", "Source"),
            stage("Build", "Succeeded", "BuildApp"),
            stage("Deploy", deploy_status, "Deploy", external),
        ],
    }


def test_release_follows_until_the_deployment_waits_for_reroute() -> None:
    s = Stubs()
    s.add(
        "codepipeline",
        "start_pipeline_execution",
        {"pipelineExecutionId": "exec-1"},
        {"name": PIPELINE},
    )
    running = {"pipelineExecution": {"pipelineExecutionId": "exec-1", "status": "InProgress"}}
    s.add("codepipeline", "get_pipeline_execution", running)
    s.add("codepipeline", "get_pipeline_state", _state("exec-1", "InProgress", "d-WAIT00001"))
    refs(s)
    service(s, BOTH)
    deployment(s, "d-WAIT00001", "InProgress", 2, running="AfterInstall")
    s.add("codepipeline", "get_pipeline_execution", running)
    s.add("codepipeline", "get_pipeline_state", _state("exec-1", "InProgress", "d-WAIT00001"))
    deployment(s, "d-WAIT00001", "Ready", 5, target_status="Ready")
    ui = Lines()
    naps: list[float] = []

    result = release_mod.release(s.clients, CFG, ui, sleep=naps.append)

    s.done()
    assert result.waiting_deployment == "d-WAIT00001" and not result.failed
    assert naps == [10.0]
    assert ui.lines == [
        "started sample3-dev-pipeline execution exec-1",
        "Source/Source: Succeeded",
        "Build/BuildApp: Succeeded",
        "Deploy/Deploy: InProgress (d-WAIT00001)",
    ]


def test_release_failure_names_the_failing_action() -> None:
    s = Stubs()
    s.add("codepipeline", "start_pipeline_execution", {"pipelineExecutionId": "exec-2"})
    s.add(
        "codepipeline",
        "get_pipeline_execution",
        {"pipelineExecution": {"pipelineExecutionId": "exec-2", "status": "Failed"}},
    )
    state = _state("exec-2", None)
    build = state["stageStates"][1]  # type: ignore[index]
    build["actionStates"][0]["latestExecution"] = {
        "status": "Failed",
        "errorDetails": {"code": "JobFailed", "message": "Build terminated with state: FAILED"},
    }
    s.add("codepipeline", "get_pipeline_state", state)

    result = release_mod.release(s.clients, CFG, Lines(), sleep=lambda _: None)

    s.done()
    assert result.failed
    assert (result.failed_action, result.error) == (
        "Build/BuildApp",
        "Build terminated with state: FAILED",
    )


def test_release_no_follow_only_starts() -> None:
    s = Stubs()
    s.add("codepipeline", "start_pipeline_execution", {"pipelineExecutionId": "exec-3"})
    result = release_mod.release(s.clients, CFG, Lines(), follow=False)
    s.done()
    assert result.execution_id == "exec-3" and result.link.endswith(
        "/pipelines/sample3-dev-pipeline/executions/exec-3/timeline?region=ap-northeast-1"
    )


# ---- logs -------------------------------------------------------------------------------

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
GROUP = "/bluegreen/sample3-dev/webapp"


def _log(i: int, ms: int, text: str) -> dict[str, object]:
    return {
        "eventId": f"e{i}",
        "timestamp": ms,
        "logStreamName": "webapp-firelens-1",
        "message": text,
    }


def test_since_durations() -> None:
    assert logs_mod.parse_since("30s") == timedelta(seconds=30)
    assert logs_mod.parse_since("10m") == timedelta(minutes=10)
    assert logs_mod.parse_since("2h") == timedelta(hours=2)
    assert logs_mod.parse_since("1d") == timedelta(days=1)
    assert logs_mod.parse_since("3653d") == timedelta(days=3653)
    for bad in ("10", "m", "-1m", "0s", "1w", "3654d", "100000d", "99999999999d"):
        with pytest.raises(UsageError):
            logs_mod.parse_since(bad)


def test_fetch_pages_and_orders() -> None:
    s = Stubs()
    start = int((NOW - timedelta(minutes=10)).timestamp() * 1000)
    s.add(
        "logs",
        "filter_log_events",
        {"events": [_log(2, start + 20, "second")], "nextToken": "n1"},
        {"logGroupName": GROUP, "startTime": start},
    )
    s.add(
        "logs",
        "filter_log_events",
        {"events": [_log(1, start + 10, "first\n")]},
        {"logGroupName": GROUP, "startTime": start, "nextToken": "n1"},
    )
    found = logs_mod.fetch(s.client("logs"), GROUP, timedelta(minutes=10), now=lambda: NOW)
    s.done()
    assert [e.message for e in found] == ["first", "second"]


def test_follow_dedupes_by_event_id_and_advances() -> None:
    s = Stubs()
    start = int((NOW - timedelta(seconds=30)).timestamp() * 1000)
    s.add(
        "logs",
        "filter_log_events",
        {"events": [_log(1, start + 5, "a"), _log(2, start + 9, "b")]},
        {"logGroupName": GROUP, "startTime": start},
    )
    s.add(
        "logs",
        "filter_log_events",
        {"events": [_log(2, start + 9, "b"), _log(3, start + 9, "c")]},
        {"logGroupName": GROUP, "startTime": start + 9},
    )
    got = list(
        logs_mod.follow(
            s.client("logs"),
            GROUP,
            timedelta(seconds=30),
            sleep=lambda _: None,
            now=lambda: NOW,
            polls=2,
        )
    )
    s.done()
    assert [e.message for e in got] == ["a", "b", "c"]


def test_missing_log_group_is_a_state_error() -> None:
    s = Stubs()
    s.error(
        "logs",
        "filter_log_events",
        "ResourceNotFoundException",
        "The specified log group does not exist.",
    )
    with pytest.raises(StateError, match="bluegreen deploy"):
        logs_mod.fetch(s.client("logs"), GROUP, timedelta(minutes=1), now=lambda: NOW)


# ---- error translation -------------------------------------------------------------------


def test_access_denied_names_the_action_and_principal() -> None:
    s = Stubs()
    s.error(
        "ecs",
        "describe_services",
        "AccessDeniedException",
        "User: arn:aws:iam::123456789012:user/dev is not authorized to perform: "
        "ecs:DescribeServices on resource: * because no identity-based policy allows it",
    )
    with pytest.raises(AwsCallError) as info:
        call(s.client("ecs"), "describe_services", cluster="c", services=["s"])
    assert info.value.message == (
        "access denied: arn:aws:iam::123456789012:user/dev may not call ecs:DescribeServices"
    )
    assert info.value.hint is not None and "grant ecs:DescribeServices" in info.value.hint


def test_elbv2_actions_use_the_iam_prefix() -> None:
    s = Stubs()
    s.error("elbv2", "describe_listeners", "AccessDenied", "denied")
    with pytest.raises(AwsCallError, match="elasticloadbalancing:DescribeListeners"):
        call(s.client("elbv2"), "describe_listeners", ListenerArns=["x"])


@pytest.mark.parametrize(
    ("code", "text"),
    [
        ("ThrottlingException", "throttled"),
        ("ExpiredTokenException", "rejected"),
        ("ValidationError", "was rejected: bad value"),
    ],
)
def test_error_kinds(code: str, text: str) -> None:
    s = Stubs()
    s.error("cloudformation", "describe_stacks", code, "bad value")
    with pytest.raises(AwsCallError, match=text):
        call(s.client("cloudformation"), "describe_stacks", StackName="x")


def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """An environment where the standard credential chain finds nothing, offline."""
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_missing_credentials_hint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    no_credentials(monkeypatch, tmp_path)
    clients = Clients(region="ap-northeast-1")
    with pytest.raises(AwsCallError) as info:
        call(clients.cloudformation, "describe_stacks", StackName="x")
    assert info.value.code == "NoCredentials"
    assert info.value.hint == "configure credentials: aws configure / AWS_PROFILE / --profile"


def test_unknown_profile(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    no_credentials(monkeypatch, tmp_path)
    with pytest.raises(AwsCallError, match="profile not found"):
        Clients(region="ap-northeast-1", profile="nope").ecs  # noqa: B018


def test_sso_profile_without_a_cached_token_says_sso_login(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # botocore raises SSOTokenLoadError (an SSOError, not UnauthorizedSSOTokenError) when
    # the SSO token cache holds nothing for the profile's sso-session.
    no_credentials(monkeypatch, tmp_path)
    config = tmp_path / "sso-config"
    config.write_text(
        "[profile sso]\nsso_session = corp\nsso_account_id = 123456789012\n"
        "sso_role_name = Dev\n[sso-session corp]\nsso_region = ap-northeast-1\n"
        "sso_start_url = https://example.awsapps.com/start\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("HOME", str(tmp_path))
    clients = Clients(region="ap-northeast-1", profile="sso")
    with pytest.raises(AwsCallError) as info:
        call(clients.cloudformation, "describe_stacks", StackName="x")
    assert info.value.code == "ExpiredToken"
    assert info.value.hint is not None and "aws sso login" in info.value.hint
