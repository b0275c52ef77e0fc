"""The CodeDeploy phase mapping and the error translation: no AWS behind them.

What the engine does against AWS (promote, finish, rollback in every phase, release,
logs) runs end to end against the emulated AWS in test_e2e_operations.py and
test_e2e_story.py. Here: ``phase_of`` against the deployment and lifecycle-event
sequences AWS documents, ``--since`` parsing, and how AWS errors read (error shapes the
emulated AWS does not produce: access denied, throttling, expired tokens, credentials).

The short names used for sources below:

- STATUS_ENUM: botocore codedeploy model, DeploymentStatus (Created, Queued, InProgress,
  Baking, Succeeded, Failed, Stopped, Ready) and its DeploymentSuccessful waiter (final:
  Succeeded, Failed, Stopped).
- EVENT_ENUM: botocore codedeploy model, LifecycleEventStatus (Pending, InProgress,
  Succeeded, Failed, Skipped, Unknown); TargetStatus adds Ready.
- ECS_STEPS: CodeDeploy user guide, "Deployments on an Amazon ECS compute platform"
  (https://docs.aws.amazon.com/codedeploy/latest/userguide/deployment-steps-ecs.html):
  BeforeInstall, Install, AfterInstall, AllowTestTraffic, AfterAllowTestTraffic,
  BeforeAllowTraffic, AllowTraffic, AfterAllowTraffic, in that order.
- ECS_TUTORIAL: ECS developer guide, "Tutorial: Creating a service using a blue/green
  deployment" (create-blue-green.html), Step 6: get-deployment-target of a deployment
  without a test listener lists six events (no AllowTestTraffic/AfterAllowTestTraffic),
  all Succeeded, target Succeeded, the replacement PRIMARY at 100 and the original
  ACTIVE at 0.
- READY: botocore model, ContinueDeployment ("rerouting ... can start as soon as all
  instances have a status of Ready") and DeploymentIsNotInReadyStateException ("The
  deployment does not have a status of Ready and can't continue yet").
- ROADMAP_269: aws/containers-roadmap#269, AWS (v1jayr): "the deployment starts waiting
  (if configured) immediately after marking the target status as Succeeded and when the
  wait is complete the deployment status will be immediately updated as Succeeded".

The ECS engine's pure part is here too: ``bluegreen.engine.ecs.phase_of`` and the view
``status --output json`` prints, from ServiceDeployment documents as the ECS API
reference describes them (ServiceDeployment, ServiceRevisionSummary; the status and
lifecycleStage enums of botocore's ECS model, ServiceDeploymentStatus and
ServiceDeploymentLifecycleStage).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from ecs_support import stubbed_engine
from network_support import no_credentials
from test_aws_support import ACTIVE, Stubs

from bluegreen.aws import codedeploy as codedeploy_mod
from bluegreen.aws import logs as logs_mod
from bluegreen.aws.errors import AwsCallError, call
from bluegreen.aws.session import Clients
from bluegreen.engine import Phase
from bluegreen.engine.codedeploy import phase_of
from bluegreen.errors import UsageError

# ---- phases ----------------------------------------------------------------------------

WITH_TEST_LISTENER = (
    "BeforeInstall",
    "Install",
    "AfterInstall",
    "AllowTestTraffic",
    "AfterAllowTestTraffic",
    "BeforeAllowTraffic",
    "AllowTraffic",
    "AfterAllowTraffic",
)  # ECS_STEPS
WITHOUT_TEST_LISTENER = (
    "BeforeInstall",
    "Install",
    "AfterInstall",
    "BeforeAllowTraffic",
    "AllowTraffic",
    "AfterAllowTraffic",
)  # ECS_TUTORIAL


def target(
    done: int,
    status: str = "InProgress",
    running: str = "",
    *,
    events: tuple[str, ...] = WITH_TEST_LISTENER,
    override: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An ECS target: the first ``done`` events Succeeded, ``running`` InProgress, the
    rest Pending; ``override`` sets single events (Skipped, Unknown, ...)."""
    states = {
        name: "Succeeded" if i < done else ("InProgress" if name == running else "Pending")
        for i, name in enumerate(events)
    }
    states.update(override or {})
    return {
        "status": status,
        "lifecycleEvents": [{"lifecycleEventName": n, "status": st} for n, st in states.items()],
    }


PHASES = [
    # (deployment status, ECS target, phase, source)
    ("Created", None, Phase.QUEUED, "STATUS_ENUM: created, not started"),
    ("Queued", None, Phase.QUEUED, "STATUS_ENUM: queued behind another deployment"),
    ("InProgress", None, Phase.INSTALLING, "ListDeploymentTargets may list no target yet"),
    (
        "InProgress",
        {"status": "Pending", "lifecycleEvents": []},
        Phase.INSTALLING,
        "API_ECSTarget: lifecycleEvents is optional; a target with no events yet",
    ),
    ("InProgress", target(0), Phase.INSTALLING, "ECS_STEPS: every event still Pending"),
    ("InProgress", target(1, running="Install"), Phase.INSTALLING, "ECS_STEPS: Install"),
    (
        "InProgress",
        target(4, running="AfterAllowTestTraffic"),
        Phase.INSTALLING,
        "ECS_STEPS: the AfterAllowTestTraffic hook validates green before reroute",
    ),
    (
        "InProgress",
        target(4, override={"AfterAllowTestTraffic": "Unknown"}),
        Phase.INSTALLING,
        "EVENT_ENUM: an Unknown event is not done",
    ),
    (
        "InProgress",
        target(5),
        Phase.WAITING,
        "ECS_STEPS: test-traffic events done, BeforeAllowTraffic not started (heuristic)",
    ),
    (
        "InProgress",
        target(
            5,
            override={"BeforeInstall": "Skipped", "AfterInstall": "Skipped"},
        ),
        Phase.WAITING,
        "EVENT_ENUM: hooks reported Skipped count as done",
    ),
    (
        "InProgress",
        target(5, override={"BeforeAllowTraffic": "Unknown"}),
        Phase.WAITING,
        "EVENT_ENUM: an Unknown traffic event has not started shifting",
    ),
    ("Ready", target(5, status="Ready"), Phase.WAITING, "READY: the deployment is Ready"),
    ("Ready", target(5), Phase.WAITING, "READY: the deployment status decides"),
    (
        "InProgress",
        target(5, status="Ready"),
        Phase.WAITING,
        "READY: TargetStatus Ready (all instances Ready) while the deployment is InProgress",
    ),
    (
        "InProgress",
        target(5, running="BeforeAllowTraffic"),
        Phase.SHIFTING,
        "ECS_STEPS: BeforeAllowTraffic runs after reroute started",
    ),
    (
        "InProgress",
        target(5, running="AllowTraffic", override={"BeforeAllowTraffic": "Skipped"}),
        Phase.SHIFTING,
        "ECS_STEPS + EVENT_ENUM: AllowTraffic moves production (hook Skipped)",
    ),
    (
        "InProgress",
        target(7, running="AfterAllowTraffic"),
        Phase.SHIFTING,
        "ECS_STEPS: AfterAllowTraffic runs after production moved",
    ),
    (
        "InProgress",
        target(8),
        Phase.SHIFTING,
        "ROADMAP_269: AfterAllowTraffic done but the target still InProgress: the "
        "termination wait starts only once the target is Succeeded",
    ),
    (
        "InProgress",
        target(8, status="Succeeded"),
        Phase.TERMINATION_WAIT,
        "ROADMAP_269: target Succeeded, deployment still InProgress",
    ),
    (
        "Succeeded",
        target(8, status="Succeeded"),
        Phase.SUCCEEDED,
        "ROADMAP_269: the deployment is Succeeded when the wait ends",
    ),
    (
        "InProgress",
        target(1, running="Install", events=WITHOUT_TEST_LISTENER),
        Phase.INSTALLING,
        "ECS_TUTORIAL: no test listener, Install",
    ),
    (
        "InProgress",
        target(3, events=WITHOUT_TEST_LISTENER),
        Phase.WAITING,
        "ECS_TUTORIAL: no test listener, installed, BeforeAllowTraffic not started",
    ),
    (
        "InProgress",
        target(3, running="BeforeAllowTraffic", events=WITHOUT_TEST_LISTENER),
        Phase.SHIFTING,
        "ECS_TUTORIAL: no test listener, BeforeAllowTraffic",
    ),
    (
        "Succeeded",
        target(6, status="Succeeded", events=WITHOUT_TEST_LISTENER),
        Phase.SUCCEEDED,
        "ECS_TUTORIAL: the tutorial's final get-deployment-target output",
    ),
    (
        "InProgress",
        target(1, status="Unknown", running="Install"),
        Phase.INSTALLING,
        "EVENT_ENUM: a target status Unknown leaves the events to decide",
    ),
    ("Stopped", target(3), Phase.STOPPED, "STATUS_ENUM: final"),
    ("Failed", target(3, override={"AfterInstall": "Failed"}), Phase.FAILED, "STATUS_ENUM"),
]


@pytest.mark.parametrize(("status", "ecs_target", "phase", "source"), PHASES)
def test_phase_of(
    status: str, ecs_target: dict[str, Any] | None, phase: Phase, source: str
) -> None:
    assert phase_of({"status": status}, ecs_target) == phase, source


@pytest.mark.parametrize(
    "events", [WITH_TEST_LISTENER, WITHOUT_TEST_LISTENER], ids=["test-listener", "none"]
)
def test_phases_follow_the_documented_lifecycle_in_order(events: tuple[str, ...]) -> None:
    # Play the documented sequence (ECS_STEPS, ECS_TUTORIAL): each event InProgress then
    # Succeeded, the deployment InProgress, then the target Succeeded (ROADMAP_269), then
    # the deployment Succeeded. The phases only ever move forward, and each appears.
    order = [Phase.INSTALLING, Phase.WAITING, Phase.SHIFTING, Phase.TERMINATION_WAIT]
    seen: list[Phase] = []
    for done in range(len(events) + 1):
        for running in ("", events[done] if done < len(events) else ""):
            seen.append(
                phase_of({"status": "InProgress"}, target(done, running=running, events=events))
            )
    seen.append(phase_of({"status": "InProgress"}, target(len(events), "Succeeded", events=events)))
    seen.append(phase_of({"status": "Succeeded"}, target(len(events), "Succeeded", events=events)))
    ranks = [order.index(p) if p in order else len(order) for p in seen]
    assert ranks == sorted(ranks)
    assert set(seen) == {*order, Phase.SUCCEEDED}


def test_active_statuses_are_the_model_enum_minus_the_final_ones() -> None:
    # STATUS_ENUM, derived from the model in test_aws_support (not copied from the code).
    assert codedeploy_mod.ACTIVE_STATUSES == ACTIVE
    assert set(codedeploy_mod.FINAL_STATUSES).isdisjoint(ACTIVE)
    assert all(phase_of({"status": status}, None).active for status in ACTIVE)
    for final, phase in zip(
        codedeploy_mod.FINAL_STATUSES, (Phase.SUCCEEDED, Phase.FAILED, Phase.STOPPED), strict=True
    ):
        assert phase_of({"status": final}, None) == phase and not phase.active


# ---- logs ------------------------------------------------------------------------------


def test_since_durations() -> None:
    assert logs_mod.parse_since("30s") == timedelta(seconds=30)
    assert logs_mod.parse_since("10m") == timedelta(minutes=10)
    assert logs_mod.parse_since("2h") == timedelta(hours=2)
    assert logs_mod.parse_since("1d") == timedelta(days=1)
    assert logs_mod.parse_since("3653d") == timedelta(days=3653)
    for bad in ("10", "m", "-1m", "0s", "1w", "3654d", "100000d", "99999999999d"):
        with pytest.raises(UsageError):
            logs_mod.parse_since(bad)


# ---- error translation -------------------------------------------------------------------
# Error shapes the emulated AWS does not produce (it evaluates no operator policy, never
# throttles, and takes any credentials): botocore Stubber answers them.


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
        ("ExpiredTokenException", "the AWS credentials were rejected"),
    ],
)
def test_error_kinds(code: str, text: str) -> None:
    s = Stubs()
    s.error("cloudformation", "describe_stacks", code, "bad value")
    with pytest.raises(AwsCallError, match=text):
        call(s.client("cloudformation"), "describe_stacks", StackName="x")


def test_any_other_refusal_is_passed_on_with_the_action_and_aws_message() -> None:
    # An error the emulated AWS gives: DescribeStacks of a stack that does not exist is a
    # ValidationError (CloudFormation API reference, DescribeStacks).
    from bluegreen.emulator import Emulator

    with Emulator("ap-northeast-1") as aws, pytest.raises(AwsCallError) as info:
        call(aws.client("cloudformation"), "describe_stacks", StackName="nothing-here")
    assert info.value.message == (
        "cloudformation:DescribeStacks was rejected: Stack with id nothing-here does not exist"
    )
    assert info.value.code == "ValidationError"


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


# ---- the ECS engine: ServiceDeployment -> phase, view, JSON ------------------------------

ECS_ARN = "arn:aws:ecs:ap-northeast-1:123456789012:service-deployment/c/s/dep1"
REVISION = "arn:aws:ecs:ap-northeast-1:123456789012:service-revision/c/s/"


def _ecs_model_enum(shape: str) -> list[str]:
    import botocore.session

    model = botocore.session.get_session().get_service_model("ecs")
    return list(model.shape_for(shape).enum)


PAUSED_HOOK = {"hookId": "ecs-pause-1", "targetType": "PAUSE", "status": "AWAITING_ACTION"}

# (ServiceDeployment.status, lifecycleStage, hooks, phase). ECS developer guide, "Amazon
# ECS blue/green service deployments workflow", for the stages in order; ECS API
# reference, ServiceDeployment, for the statuses; a PAUSE hook AWAITING_ACTION is the
# only state ContinueServiceDeployment accepts ("Continuing service deployments").
ECS_PHASES: list[tuple[str, str, list[dict[str, str]], Phase]] = [
    ("PENDING", "", [], Phase.QUEUED),
    ("IN_PROGRESS", "RECONCILE_SERVICE", [], Phase.INSTALLING),
    ("IN_PROGRESS", "SCALE_UP", [], Phase.INSTALLING),
    ("IN_PROGRESS", "TEST_TRAFFIC_SHIFT", [], Phase.INSTALLING),
    ("IN_PROGRESS", "POST_TEST_TRAFFIC_SHIFT", [], Phase.INSTALLING),
    ("IN_PROGRESS", "POST_TEST_TRAFFIC_SHIFT", [PAUSED_HOOK], Phase.WAITING),
    ("IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT", [], Phase.SHIFTING),
    ("IN_PROGRESS", "POST_PRODUCTION_TRAFFIC_SHIFT", [], Phase.SHIFTING),
    ("IN_PROGRESS", "BAKE_TIME", [], Phase.TERMINATION_WAIT),
    ("IN_PROGRESS", "CLEAN_UP", [], Phase.TERMINATION_WAIT),
    ("SUCCESSFUL", "CLEAN_UP", [], Phase.SUCCEEDED),
    ("STOP_REQUESTED", "SCALE_UP", [], Phase.STOPPED),
    ("STOPPED", "SCALE_UP", [], Phase.STOPPED),
    ("ROLLBACK_REQUESTED", "BAKE_TIME", [], Phase.STOPPED),
    ("ROLLBACK_IN_PROGRESS", "BAKE_TIME", [], Phase.STOPPED),
    ("ROLLBACK_SUCCESSFUL", "BAKE_TIME", [], Phase.STOPPED),
    ("ROLLBACK_FAILED", "BAKE_TIME", [], Phase.FAILED),
    # a hook awaiting action in a deployment that is no longer IN_PROGRESS holds nothing
    ("ROLLBACK_REQUESTED", "POST_TEST_TRAFFIC_SHIFT", [PAUSED_HOOK], Phase.STOPPED),
]


@pytest.mark.parametrize(("status", "stage", "hooks", "phase"), ECS_PHASES)
def test_ecs_phase_of_each_documented_state(
    status: str, stage: str, hooks: list[dict[str, str]], phase: Phase
) -> None:
    from bluegreen.engine.ecs import phase_of as ecs_phase_of

    deployment = {"status": status, "lifecycleStage": stage, "lifecycleHookDetails": hooks}
    assert ecs_phase_of(deployment) == phase


def test_the_ecs_table_covers_every_status_and_stage_of_the_model() -> None:
    assert {row[0] for row in ECS_PHASES} == set(_ecs_model_enum("ServiceDeploymentStatus"))
    stages = {row[1] for row in ECS_PHASES if row[1]}
    missing = set(_ecs_model_enum("ServiceDeploymentLifecycleStage")) - stages
    # the stages between the ones above, each INSTALLING until the test traffic moved
    assert missing == {"PRE_SCALE_UP", "POST_SCALE_UP"}


def _shifting() -> dict[str, Any]:
    """A LINEAR deployment moving production: 40% on green (the target revision), 60%
    on blue (the source revision); ServiceRevisionSummary's fields."""
    return {
        "serviceDeploymentArn": ECS_ARN,
        "status": "IN_PROGRESS",
        "statusReason": "Service deployment in progress",
        "lifecycleStage": "PRODUCTION_TRAFFIC_SHIFT",
        "createdAt": datetime(2026, 12, 1, 8, 0, tzinfo=UTC),
        "targetServiceRevision": {
            "arn": REVISION + "222",
            "requestedTaskCount": 2,
            "runningTaskCount": 1,
            "pendingTaskCount": 1,
            "requestedTestTrafficWeight": 100.0,
            "requestedProductionTrafficWeight": 40.0,
        },
        "sourceServiceRevisions": [
            {
                "arn": REVISION + "111",
                "requestedTaskCount": 2,
                "runningTaskCount": 2,
                "pendingTaskCount": 0,
                "requestedTestTrafficWeight": 0.0,
                "requestedProductionTrafficWeight": 60.0,
            }
        ],
        "deploymentConfiguration": {
            "strategy": "LINEAR",
            "bakeTimeInMinutes": 15,
            "lifecycleHooks": [],
        },
    }


def test_the_ecs_status_document_of_a_shifting_deployment() -> None:
    view = stubbed_engine()._view(_shifting())
    done = ["PRE_SCALE_UP", "SCALE_UP", "POST_SCALE_UP", "TEST_TRAFFIC_SHIFT"]
    assert view.to_dict() == {
        "engine": "ecs",
        "id": ECS_ARN,
        "status": "IN_PROGRESS",
        "phase": "shifting",
        "created": "2026-12-01T08:00:00+00:00",
        "lifecycle": [{"event": s, "status": "Succeeded"} for s in done]
        + [
            {"event": "POST_TEST_TRAFFIC_SHIFT", "status": "Succeeded"},
            {"event": "PRODUCTION_TRAFFIC_SHIFT", "status": "InProgress"},
        ],
        "task_sets": [
            {
                "id": "222",
                "label": "green",
                "status": "TARGET",
                "traffic_weight": 40.0,
                "target_group": "",
                "desired": 2,
                "running": 1,
            },
            {
                "id": "111",
                "label": "blue",
                "status": "SOURCE",
                "traffic_weight": 60.0,
                "target_group": "",
                "desired": 2,
                "running": 2,
            },
        ],
        # statusReason of a deployment in progress is not an error
        "error": "",
        "bake_ends": None,
        "bake_seconds_left": None,
        "green_traffic_percent": {"production": 40.0, "test": 100.0},
    }
    # The same shape as a CodeDeploy deployment's (bluegreen status --output json).
    from bluegreen.engine import DeploymentView, Phase

    codedeploy = DeploymentView("codedeploy", "d-X", "InProgress", Phase.SHIFTING)
    assert codedeploy.to_dict().keys() == view.to_dict().keys()


@pytest.mark.parametrize(
    ("status", "rollback", "error"),
    [
        # ROLLBACK_FAILED / STOPPED say why in statusReason ("Information about why the
        # service deployment is in the current status. For example, the circuit breaker
        # detected a failure", ServiceDeployment); a rollback names its reason.
        ("ROLLBACK_FAILED", None, "tasks failed to start"),
        ("STOPPED", None, "tasks failed to start"),
        ("ROLLBACK_SUCCESSFUL", {"reason": "Alarm high-5xx"}, "Alarm high-5xx"),
        ("SUCCESSFUL", None, ""),
        ("PENDING", None, ""),
        ("IN_PROGRESS", None, ""),
    ],
)
def test_the_ecs_view_shows_why_a_deployment_ended(
    status: str, rollback: dict[str, str] | None, error: str
) -> None:
    d = _shifting() | {"status": status, "statusReason": "tasks failed to start"}
    if rollback is not None:
        d["rollback"] = rollback
    assert stubbed_engine()._view(d).error == error


@pytest.mark.parametrize(
    ("status", "stage", "hooks", "text"),
    [
        ("IN_PROGRESS", "SCALE_UP", [], "IN_PROGRESS (installing, SCALE_UP)"),
        (
            "IN_PROGRESS",
            "POST_TEST_TRAFFIC_SHIFT",
            [PAUSED_HOOK],
            "IN_PROGRESS (waiting-for-reroute, paused at POST_TEST_TRAFFIC_SHIFT)",
        ),
        ("ROLLBACK_SUCCESSFUL", "BAKE_TIME", [], "ROLLBACK_SUCCESSFUL (stopped)"),
        ("SUCCESSFUL", "CLEAN_UP", [], "SUCCESSFUL (succeeded)"),
    ],
)
def test_how_the_ecs_commands_name_a_deployments_state(
    status: str, stage: str, hooks: list[dict[str, str]], text: str
) -> None:
    from bluegreen.engine.ecs import _describe

    d = _shifting() | {"status": status, "lifecycleStage": stage, "lifecycleHookDetails": hooks}
    assert _describe(stubbed_engine()._view(d)) == text


def test_ecs_rollback_of_a_service_without_deployments_says_to_release() -> None:
    """An empty ListServiceDeployments answer (its serviceDeployments list may be empty:
    botocore's ECS model). Stubbed: the emulated ECS records the creation's deployment
    for every service, so it cannot answer that."""
    import boto3
    from botocore.stub import Stubber

    from bluegreen.errors import StateError

    client = boto3.client(
        "ecs", region_name="ap-northeast-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    engine = stubbed_engine(client)
    with Stubber(client) as stub:
        stub.add_response("list_service_deployments", {"serviceDeployments": []})
        with pytest.raises(StateError) as caught:
            engine.rollback()
        stub.assert_no_pending_responses()
    assert str(caught.value).splitlines()[0] == (
        "cannot roll back: the service s has no service deployments yet"
    )
    assert caught.value.hint == "start one with `bluegreen release`"


@pytest.mark.parametrize("allowed", [True, False])
def test_ecs_status_labels_each_revision_by_its_target_group(allowed: bool) -> None:
    """The target and source revisions' target groups come from DescribeServiceRevisions
    (ServiceRevision.resolvedConfiguration.loadBalancers[].targetGroupArn, ECS API
    reference), so status labels them for the whole deployment; a reader denied that
    call still gets its status, labelled by the weights (AccessDeniedException is
    documented for every ECS call, botocore's ECS model). Stubbed: the emulator grants
    every reader."""
    import boto3
    from botocore.stub import Stubber

    client = boto3.client(
        "ecs", region_name="ap-northeast-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    engine = stubbed_engine(client)
    group = "arn:aws:elasticloadbalancing:ap-northeast-1:123456789012:targetgroup/{}/abc"
    with Stubber(client) as stub:
        stub.add_response(
            "list_service_deployments",
            {"serviceDeployments": [{"serviceDeploymentArn": ECS_ARN}]},
        )
        stub.add_response("describe_service_deployments", {"serviceDeployments": [_shifting()]})
        if allowed:
            stub.add_response(
                "describe_service_revisions",
                {
                    "serviceRevisions": [
                        {
                            "serviceRevisionArn": REVISION + revision,
                            "resolvedConfiguration": {
                                "loadBalancers": [{"targetGroupArn": group.format(name)}]
                            },
                        }
                        for revision, name in (("222", "app-blue"), ("111", "app-green"))
                    ]
                },
            )
        else:
            stub.add_client_error(
                "describe_service_revisions", service_error_code="AccessDeniedException"
            )
        view = engine.status()
        stub.assert_no_pending_responses()
    assert view is not None
    groups = {t.label: t.target_group for t in view.task_sets}
    if allowed:
        assert groups == {"green": "app-blue", "blue": "app-green"}
    else:
        assert groups == {"green": "", "blue": ""}


def test_ecs_hooks_are_named_by_what_they_are_not_their_ids() -> None:
    """Review U16: `hook AWS_LAMBDA 6y87bAu…` said nothing; a hook detail's targetArn
    (ECS API reference, DeploymentLifecycleHookDetail) names the function."""
    from bluegreen.engine.ecs import _lifecycle

    lam = "arn:aws:lambda:ap-northeast-1:123456789012:function:"
    deployment = {
        "status": "IN_PROGRESS",
        "lifecycleStage": "POST_TEST_TRAFFIC_SHIFT",
        "lifecycleHookDetails": [
            {
                "hookId": "a1",
                "targetType": "AWS_LAMBDA",
                "targetArn": f"{lam}CodeDeployHook_p-verify",
                "status": "SUCCEEDED",
            },
            {
                "hookId": "b2",
                "targetType": "AWS_LAMBDA",
                "targetArn": f"{lam}mine:live",
                "status": "SUCCEEDED",
            },
            {"hookId": "c3", "targetType": "PAUSE", "status": "AWAITING_ACTION"},
            {"hookId": "d4", "targetType": "PAUSE", "status": "AWAITING_ACTION"},
        ],
    }
    hooks = [s.name for s in _lifecycle(deployment) if s.name.startswith("hook")]
    assert hooks == ["hook verify", "hook mine", "hook pause", "hook pause d4"]
