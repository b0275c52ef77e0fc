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
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
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
