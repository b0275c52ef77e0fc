"""The ECS built-in blue/green engine, call by call: what each command asks ECS (the
parameters, checked by botocore's Stubber against the ECS model) and what it says.

Stubbed rather than emulated: these pin the exact requests and the states ECS reports
(every status and lifecycle stage, hooks in each state, pages, errors) in milliseconds;
the emulated ECS plays the same commands end to end in test_e2e_ecs_engine.py and
test_rehearse_ecs.py.

Sources, by short name:

- SD: ECS API reference, ServiceDeployment (status, lifecycleStage, lifecycleHookDetails,
  targetServiceRevision, sourceServiceRevisions, rollback.reason, statusReason, alarms
  .triggeredAlarmNames, deploymentConfiguration.bakeTimeInMinutes), and botocore's ECS
  model for the enums ServiceDeploymentStatus and ServiceDeploymentLifecycleStage.
- WORKFLOW: ECS developer guide, "Amazon ECS blue/green service deployments workflow"
  (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/blue-green-deployment-how-it-works.html):
  the lifecycle stages in order, RECONCILE_SERVICE ... CLEAN_UP.
- HOOK: ECS API reference, DeploymentLifecycleHookDetail (hookId, targetType PAUSE or
  AWS_LAMBDA, targetArn, status AWAITING_ACTION ...).
- CONTINUE: ECS API reference, ContinueServiceDeployment (serviceDeploymentArn, hookId,
  action CONTINUE or ROLLBACK; the hook must be AWAITING_ACTION).
- STOP: ECS API reference, StopServiceDeployment (stopType ROLLBACK).
- LIST: ECS API reference, ListServiceDeployments (cluster, service, maxResults 1..100,
  nextToken, createdAt.after).
- REVISIONS: ECS API reference, DescribeServiceRevisions (serviceRevisionArns, at most
  20; ServiceRevision.taskDefinition, resolvedConfiguration.loadBalancers).
- RULES: ELBv2 API reference, DescribeRules (Rules[].Actions[].ForwardConfig
  .TargetGroups[].Weight; a forward action with TargetGroupArn only).
- DATE: RFC 9110, the Date header of every HTTP response.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.stub import Stubber
from engine_stubs import Ui, refs, refusal

from bluegreen.aws.errors import AwsCallError
from bluegreen.engine import DeploymentView, LifecycleStep, Phase
from bluegreen.engine import ecs as ecs_engine
from bluegreen.engine.ecs import EcsEngine
from bluegreen.errors import StateError

REGION = "ap-northeast-1"
ACCOUNT = "123456789012"
DEP = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service-deployment/c/s/"
REV = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service-revision/c/s/"
TD = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/app:"
TG = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/"
RULE = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener-rule/app/lb/1/2/"
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
DATE = "Tue, 01 Dec 2026 08:20:00 GMT"  # DATE: 08:20 UTC by ECS's clock
PAUSE = {"hookId": "h-pause", "targetType": "PAUSE", "status": "AWAITING_ACTION"}


_SESSION = boto3.session.Session(
    region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
)


_CLIENTS: dict[str, Any] = {}


def _client(service: str) -> Any:
    """One client a service for the file (each test stubs it with its own Stubber, active
    only inside ``Stubs.active``): creating clients is most of these tests' time."""
    if service not in _CLIENTS:
        _CLIENTS[service] = _SESSION.client(service)
    return _CLIENTS[service]


class Stubs:
    """ECS, ELBv2 and CodeBuild clients behind Stubbers, and the engine over them."""

    def __init__(self, *, production_rule: str = "", test_rule: str = "") -> None:
        self.ecs = _client("ecs")
        self.elbv2 = _client("elbv2")
        self.codebuild = _client("codebuild")
        self.stub = {n: Stubber(getattr(self, n)) for n in ("ecs", "elbv2", "codebuild")}
        clients = SimpleNamespace(ecs=self.ecs, elbv2=self.elbv2, codebuild=self.codebuild)
        service = refs(region=REGION, production_rule=production_rule, test_rule=test_rule)
        self.engine = EcsEngine(clients, service, {})  # type: ignore[arg-type]

    @contextmanager
    def active(self) -> Iterator[Stubs]:
        for stub in self.stub.values():
            stub.activate()
        try:
            yield self
        finally:
            for stub in self.stub.values():
                stub.deactivate()
        for stub in self.stub.values():
            stub.assert_no_pending_responses()

    def listed(self, *ids: str, date: str = DATE, **params: Any) -> None:
        """ListServiceDeployments answers ``ids`` (newest last in createdAt)."""
        self.stub["ecs"].add_response(
            "list_service_deployments",
            {
                "serviceDeployments": [
                    {"serviceDeploymentArn": DEP + i, "createdAt": T0 + timedelta(minutes=n)}
                    for n, i in enumerate(ids)
                ],
                "ResponseMetadata": {"HTTPHeaders": {"date": date}},
            },
            {"cluster": "c", "service": "s", "maxResults": 100, **params},
        )

    def none_listed(self) -> None:
        """ListServiceDeployments answers no deployments (and no Date header)."""
        self.stub["ecs"].add_response(
            "list_service_deployments",
            {"serviceDeployments": []},
            {"cluster": "c", "service": "s", "maxResults": 100},
        )

    def described(self, d: dict[str, Any], date: str = DATE) -> None:
        self.stub["ecs"].add_response(
            "describe_service_deployments",
            {"serviceDeployments": [d], "ResponseMetadata": {"HTTPHeaders": {"date": date}}},
            {"serviceDeploymentArns": [d["serviceDeploymentArn"]]},
        )

    def revisions(self, arns: list[str], answer: list[dict[str, Any]]) -> None:
        self.stub["ecs"].add_response(
            "describe_service_revisions",
            {"serviceRevisions": answer},
            {"serviceRevisionArns": arns},
        )

    def continued(self, arn: str, hook: str, action: str) -> None:
        self.stub["ecs"].add_response(
            "continue_service_deployment",
            {"serviceDeploymentArn": arn},
            {"serviceDeploymentArn": arn, "hookId": hook, "action": action},
        )

    def error(self, method: str, code: str, params: dict[str, Any] | None = None) -> None:
        self.stub["ecs"].add_client_error(
            method, service_error_code=code, service_message="no", expected_params=params
        )


def dep(
    ident: str = "d2",
    status: str = "IN_PROGRESS",
    stage: str = "POST_TEST_TRAFFIC_SHIFT",
    hooks: list[dict[str, Any]] | None = None,
    *,
    sources: bool = True,
    **more: Any,
) -> dict[str, Any]:
    """A ServiceDeployment (SD) of revision 222 replacing revision 111."""
    found: dict[str, Any] = {
        "serviceDeploymentArn": DEP + ident,
        "status": status,
        "lifecycleStage": stage,
        "createdAt": T0,
        "lifecycleHookDetails": hooks if hooks is not None else [],
        "targetServiceRevision": {
            "arn": REV + "222",
            "requestedTaskCount": 3,
            "runningTaskCount": 2,
            "requestedProductionTrafficWeight": 0.0,
            "requestedTestTrafficWeight": 100.0,
        },
        "deploymentConfiguration": {
            "strategy": "BLUE_GREEN",
            "bakeTimeInMinutes": 15,
            "lifecycleHooks": [{"targetType": "PAUSE"}] if hooks is None or hooks else [],
        },
    }
    if sources:
        found["sourceServiceRevisions"] = [
            {
                "arn": REV + "111",
                "requestedTaskCount": 2,
                "runningTaskCount": 2,
                "requestedProductionTrafficWeight": 100.0,
                "requestedTestTrafficWeight": 0.0,
            }
        ]
    return found | {k: v for k, v in more.items() if v is not None}


def view(d: dict[str, Any], **groups: str) -> DeploymentView:
    return Stubs().engine._view(d, groups or None)


# ---- the view: lifecycle, task sets, bake, error, alarms --------------------------------


@pytest.mark.parametrize(
    ("stage", "expected"),
    [
        # WORKFLOW: RECONCILE_SERVICE is listed by no step (nothing to show yet)
        ("RECONCILE_SERVICE", []),
        ("PRE_SCALE_UP", [("PRE_SCALE_UP", "InProgress")]),
        ("SCALE_UP", [("PRE_SCALE_UP", "Succeeded"), ("SCALE_UP", "InProgress")]),
        ("", []),  # SD: lifecycleStage absent before the deployment starts
        ("SOMETHING_NEW", []),
    ],
)
def test_lifecycle_lists_the_stages_up_to_the_current_one(
    stage: str, expected: list[tuple[str, str]]
) -> None:
    steps = ecs_engine._lifecycle({"status": "IN_PROGRESS", "lifecycleStage": stage})
    assert [(s.name, s.status) for s in steps] == expected


WORKFLOW_STAGES = (
    "RECONCILE_SERVICE",
    "PRE_SCALE_UP",
    "SCALE_UP",
    "POST_SCALE_UP",
    "TEST_TRAFFIC_SHIFT",
    "POST_TEST_TRAFFIC_SHIFT",
    "PRODUCTION_TRAFFIC_SHIFT",
    "POST_PRODUCTION_TRAFFIC_SHIFT",
    "BAKE_TIME",
    "CLEAN_UP",
)
"""WORKFLOW: the lifecycle stages in the order a blue/green deployment passes them."""


def test_the_workflow_lists_every_stage_ecs_reports() -> None:
    # SD: botocore's ECS model, the ServiceDeploymentLifecycleStage enum; a stage AWS adds
    # shows up here, before a user sees an unknown one
    enum = botocore.session.get_session().get_service_model("ecs")
    assert set(enum.shape_for("ServiceDeploymentLifecycleStage").enum) == set(WORKFLOW_STAGES)


def test_lifecycle_of_a_successful_deployment_has_every_stage_succeeded() -> None:
    steps = ecs_engine._lifecycle({"status": "SUCCESSFUL", "lifecycleStage": "CLEAN_UP"})
    # WORKFLOW: RECONCILE_SERVICE is listed by no step
    assert [s.name for s in steps] == list(WORKFLOW_STAGES[1:])
    assert {s.status for s in steps} == {"Succeeded"}


@pytest.mark.parametrize("at", range(1, len(WORKFLOW_STAGES)))
def test_lifecycle_of_a_running_deployment_lists_the_stages_before_it_in_order(at: int) -> None:
    stage = WORKFLOW_STAGES[at]
    steps = ecs_engine._lifecycle({"status": "IN_PROGRESS", "lifecycleStage": stage})
    assert [(s.name, s.status) for s in steps] == [
        *[(name, "Succeeded") for name in WORKFLOW_STAGES[1:at]],
        (stage, "InProgress"),
    ]


@pytest.mark.parametrize(
    "status",
    [
        "STOPPED",
        "STOP_REQUESTED",
        "ROLLBACK_REQUESTED",
        "ROLLBACK_IN_PROGRESS",
        "ROLLBACK_SUCCESSFUL",
        "ROLLBACK_FAILED",
    ],
)
def test_lifecycle_marks_the_stage_where_a_deployment_stopped(status: str) -> None:
    steps = ecs_engine._lifecycle({"status": status, "lifecycleStage": "SCALE_UP"})
    assert steps == [
        LifecycleStep("PRE_SCALE_UP", "Succeeded"),
        LifecycleStep("SCALE_UP", "Stopped"),
    ]


@pytest.mark.parametrize("status", ["IN_PROGRESS", "PENDING"])
def test_lifecycle_of_a_running_deployment_has_its_stage_in_progress(status: str) -> None:
    steps = ecs_engine._lifecycle({"status": status, "lifecycleStage": "TEST_TRAFFIC_SHIFT"})
    assert steps[-1] == LifecycleStep("TEST_TRAFFIC_SHIFT", "InProgress")
    assert [s.status for s in steps[:-1]] == ["Succeeded"] * 3


def test_a_deployment_stopped_before_any_stage_has_no_steps() -> None:
    # SD: a deployment can be STOPPED while still in RECONCILE_SERVICE (no stage listed)
    assert ecs_engine._lifecycle({"status": "STOPPED", "lifecycleStage": "RECONCILE_SERVICE"}) == []


def test_lifecycle_lists_each_hook_with_its_status_after_the_stages() -> None:
    steps = ecs_engine._lifecycle(
        {
            "status": "IN_PROGRESS",
            "lifecycleStage": "PRE_SCALE_UP",
            "lifecycleHookDetails": [
                {"hookId": "a", "targetType": "PAUSE", "status": "SUCCEEDED"},
                {"hookId": "b", "targetType": "PAUSE", "status": "AWAITING_ACTION"},
                {"hookId": "c", "targetType": "PAUSE"},
            ],
        }
    )
    assert steps == [
        LifecycleStep("PRE_SCALE_UP", "InProgress"),
        LifecycleStep("hook pause", "SUCCEEDED"),
        LifecycleStep("hook pause b", "AWAITING_ACTION"),
        LifecycleStep("hook pause c", ""),
    ]


@pytest.mark.parametrize(
    ("hook", "name"),
    [
        ({"targetType": "PAUSE", "hookId": "x"}, "hook pause"),
        (
            {
                "targetType": "AWS_LAMBDA",
                "targetArn": "arn:aws:lambda:r:1:function:CodeDeployHook_p-verify",
            },
            "hook verify",
        ),
        (
            {
                "targetType": "AWS_LAMBDA",
                "targetArn": "arn:aws:lambda:r:1:function:CodeDeployHook_p",
            },
            "hook CodeDeployHook_p",
        ),
        (
            {"targetType": "AWS_LAMBDA", "targetArn": "arn:aws:lambda:r:1:function:p-verify"},
            "hook p-verify",
        ),
        (
            {"targetType": "AWS_LAMBDA", "targetArn": "arn:aws:lambda:r:1:function:f:prod:x"},
            "hook f",
        ),
        (
            {"targetType": "AWS_LAMBDA", "targetArn": "arn:aws:x", "hookId": "h1"},
            "hook AWS_LAMBDA h1",
        ),
        ({"targetType": "AWS_LAMBDA", "targetArn": None, "hookId": "h1"}, "hook AWS_LAMBDA h1"),
        ({"targetType": "OTHER", "targetArn": "arn:aws:lambda:r:1:function:f"}, "hook OTHER"),
        ({}, "hook"),
    ],
)
def test_hook_names(hook: dict[str, Any], name: str) -> None:
    # HOOK: a Lambda hook's targetArn names its function (qualifier after the next ':')
    assert ecs_engine._hook_name(hook) == name


def test_the_view_of_a_paused_deployment() -> None:
    v = view(dep(hooks=[PAUSE]), **{REV + "222": "tg-green", REV + "111": "tg-blue"})
    assert (v.engine, v.id, v.status, v.phase) == ("ecs", DEP + "d2", "IN_PROGRESS", Phase.WAITING)
    assert v.phase_text == "waiting-for-reroute"
    assert v.paused is True and v.ready is True
    assert v.auto_reroute is False  # a PAUSE hook is configured
    assert v.created == T0
    assert v.task_sets[0].__dict__ == {
        "task_set_id": "222",
        "label": "green",
        "status": "TARGET",
        "weight": 0.0,
        "target_group": "tg-green",
        "desired": 3,
        "running": 2,
    }
    assert v.task_sets[1].__dict__ == {
        "task_set_id": "111",
        "label": "blue",
        "status": "SOURCE",
        "weight": 100.0,
        "target_group": "tg-blue",
        "desired": 2,
        "running": 2,
    }
    assert v.weights == {"production": 0.0, "test": 100.0}
    assert v.bake_ends is None and v.bake_left is None
    assert v.alarms == [] and v.new_target_group == "" and v.error == ""


def test_the_view_of_a_revision_with_no_counts_or_weights_reads_zero() -> None:
    d = dep(targetServiceRevision={"arn": REV + "222"}, sourceServiceRevisions=[{"arn": REV + "1"}])
    v = view(d)
    assert [(t.weight, t.desired, t.running, t.target_group) for t in v.task_sets] == [
        (0.0, 0, 0, ""),
        (0.0, 0, 0, ""),
    ]
    assert v.weights == {"production": 0.0, "test": 0.0}
    # ServiceRevisionSummary.arn is optional in the model: no id rather than a made-up one
    assert view(dep(sourceServiceRevisions=[{}])).task_sets[1].task_set_id == ""
    # every ServiceDeployment member is optional in the model: nothing made up for them
    blank = view({})
    assert (blank.id, blank.status, blank.phase, blank.lifecycle) == ("", "", Phase.INSTALLING, [])
    empty = view({"serviceDeploymentArn": DEP + "x", "status": "PENDING"})
    assert empty.task_sets[0].task_set_id == "" and len(empty.task_sets) == 1
    assert empty.auto_reroute is True and empty.paused is False and empty.lifecycle == []


def test_the_view_without_a_pause_hook_reroutes_by_itself() -> None:
    d = dep(hooks=[])
    d["deploymentConfiguration"]["lifecycleHooks"] = [{"targetType": "AWS_LAMBDA"}]
    v = view(d)
    assert v.auto_reroute is True and v.paused is False and v.ready is False
    assert v.phase == Phase.INSTALLING and v.phase_text == "installing"


def test_the_bake_ends_bake_minutes_after_the_last_update_by_ecss_clock() -> None:
    # SD: updatedAt, bakeTimeInMinutes; DATE: the answer's Date header is 08:20 UTC.
    # An estimate, not AWS's figure: SD defines updatedAt only as "the time the service
    # deployment was last updated", and no AWS page says when BAKE_TIME began; the
    # engine takes the last update (the move to BAKE_TIME) as the start, and what users
    # read says "about" (finish: "it ends at about", test_finish_in_the_bake...; status:
    # "bake: ends about"). Against the emulated ECS: test_e2e_ecs_engine.py::
    # test_release_pause_promote_bake_rollback_and_what_ecs_refuses ("14 min left").
    d = dep(stage="BAKE_TIME", updatedAt=T0 + timedelta(minutes=10))
    s = Stubs()
    with s.active():
        s.described(d)
        v = s.engine.deployment(DEP + "d2")
    assert v.phase == Phase.TERMINATION_WAIT and v.phase_text == "bake-time"
    assert v.bake_ends == T0 + timedelta(minutes=25)
    assert v.bake_left == 300.0
    assert v.to_dict()["bake_seconds_left"] == 300
    late = Stubs()
    with late.active():
        late.described(d, date="Tue, 01 Dec 2026 09:00:00 GMT")
        assert late.engine.deployment(DEP + "d2").bake_left == 0.0
    no_bake = dict(d, deploymentConfiguration={})
    assert view(no_bake).bake_ends == T0 + timedelta(minutes=10)
    assert view(no_bake).bake_left is None  # no answer read: no clock


@pytest.mark.parametrize(
    ("stage", "updated"),
    [("CLEAN_UP", True), ("PRODUCTION_TRAFFIC_SHIFT", True), ("BAKE_TIME", False)],
)
def test_no_bake_end_outside_the_bake_or_without_an_update_time(stage: str, updated: bool) -> None:
    d = dep(stage=stage, **({"updatedAt": T0} if updated else {}))
    assert view(d).bake_ends is None
    assert view(d).phase_name == ("bake-time" if stage != "PRODUCTION_TRAFFIC_SHIFT" else "")


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        (DATE, datetime(2026, 12, 1, 8, 20, tzinfo=UTC)),
        ("Tue, 01 Dec 2026 17:20:00 +0900", datetime(2026, 12, 1, 8, 20, tzinfo=UTC)),
        ("", None),
        ("not a date", None),
    ],
)
def test_the_service_clock_is_the_date_header(date: str, expected: datetime | None) -> None:
    answer = {"ResponseMetadata": {"HTTPHeaders": {"date": date}}}
    found = ecs_engine._service_clock(answer)
    assert found == expected
    if found is not None:
        assert found.tzinfo == UTC
    assert ecs_engine._service_clock({}) is None


def test_alarms_name_the_target_revisions_group() -> None:
    # SD: alarms.triggeredAlarmNames
    d = dep(alarms={"triggeredAlarmNames": ["p-5xx", "p-latency"]}, status="ROLLBACK_IN_PROGRESS")
    v = view(d, **{REV + "222": "tg-green"})
    assert v.alarms == ["p-5xx", "p-latency"]
    assert v.new_target_group == "tg-green"
    assert v.to_dict()["alarms"] == ["p-5xx", "p-latency"]
    assert view(dep(alarms={}), **{REV + "222": "tg-green"}).new_target_group == ""
    assert ecs_engine._triggered({"alarms": {"triggeredAlarmNames": None}}) == []


@pytest.mark.parametrize(
    ("status", "reason", "rollback", "error"),
    [
        ("STOPPED", "circuit breaker", None, "circuit breaker"),
        ("ROLLBACK_SUCCESSFUL", "circuit breaker", {"reason": "Alarm x"}, "Alarm x"),
        ("ROLLBACK_SUCCESSFUL", "circuit breaker", {"reason": ""}, "circuit breaker"),
        ("IN_PROGRESS", "in progress", {"reason": "Alarm x"}, "Alarm x"),
        ("STOPPED", None, None, ""),
    ],
)
def test_the_error_is_the_rollback_reason_or_why_it_ended(
    status: str, reason: str | None, rollback: dict[str, str] | None, error: str
) -> None:
    d = dep(status=status, statusReason=reason, rollback=rollback)
    assert view(d).error == error


# ---- reading: pages, order, one deployment ----------------------------------------------


def test_status_reads_the_newest_deployment_of_every_page() -> None:
    # LIST: maxResults 100 and nextToken; ECS documents no order: createdAt decides
    s = Stubs()
    with s.active():
        s.stub["ecs"].add_response(
            "list_service_deployments",
            {
                "serviceDeployments": [
                    {"serviceDeploymentArn": DEP + "old", "createdAt": T0},
                    {"serviceDeploymentArn": DEP + "undated"},
                ],
                "nextToken": "t1",
                "ResponseMetadata": {"HTTPHeaders": {"date": DATE}},
            },
            {"cluster": "c", "service": "s", "maxResults": 100},
        )
        s.stub["ecs"].add_response(
            "list_service_deployments",
            {
                "serviceDeployments": [
                    {"serviceDeploymentArn": DEP + "new", "createdAt": T0 + timedelta(hours=1)}
                ],
                "ResponseMetadata": {"HTTPHeaders": {"date": "Tue, 01 Dec 2026 10:00:00 GMT"}},
            },
            {"cluster": "c", "service": "s", "maxResults": 100, "nextToken": "t1"},
        )
        s.described(dep("new"))
        s.revisions(
            [REV + "222", REV + "111"],
            [
                {
                    "serviceRevisionArn": REV + "222",
                    "resolvedConfiguration": {
                        "loadBalancers": [{}, {"targetGroupArn": TG + "green/abc"}]
                    },
                },
                {"serviceRevisionArn": REV + "111", "resolvedConfiguration": {"loadBalancers": []}},
                {"serviceRevisionArn": REV + "999"},
            ],
        )
        v = s.engine.status()
    assert v is not None and v.id == DEP + "new"
    assert [t.target_group for t in v.task_sets] == ["green", ""]
    # the clock of the first page's answer
    assert s.engine._listed_at == datetime(2026, 12, 1, 8, 20, tzinfo=UTC)


def test_a_repeated_page_token_ends_the_listing() -> None:
    s = Stubs()
    with s.active():
        for params in ({}, {"nextToken": "t1"}):
            s.stub["ecs"].add_response(
                "list_service_deployments",
                {"serviceDeployments": [{"serviceDeploymentArn": DEP + "x"}], "nextToken": "t1"},
                {"cluster": "c", "service": "s", "maxResults": 100, **params},
            )
        found = s.engine._list()
    assert len(found) == 2
    assert s.engine._listed_at is None  # no Date header


def test_status_of_a_service_without_deployments_is_none() -> None:
    s = Stubs()
    with s.active():
        s.none_listed()
        assert s.engine.status() is None


def test_a_deployment_ecs_does_not_describe_is_refused() -> None:
    s = Stubs()
    with s.active():
        s.stub["ecs"].add_response(
            "describe_service_deployments",
            {"serviceDeployments": []},
            {"serviceDeploymentArns": [DEP + "gone"]},
        )
        assert refusal(lambda: s.engine.deployment(DEP + "gone")) == (
            f"ECS does not describe service deployment {DEP}gone",
            "see the service's Deployments tab in the ECS console",
        )


def test_target_groups_ask_for_at_most_20_revisions_and_need_one() -> None:
    # REVISIONS: at most 20 ARNs a call
    s = Stubs()
    many = dep(sourceServiceRevisions=[{"arn": REV + str(n)} for n in range(25)])
    with s.active():
        s.revisions([REV + "222", *[REV + str(n) for n in range(19)]], [])
        assert s.engine._target_groups(many) == {}
        assert s.engine._target_groups({"targetServiceRevision": {}}) == {}


def test_target_groups_denied_fall_back_to_no_labels() -> None:
    # AccessDeniedException: the only denial DescribeServiceRevisions lists (botocore's
    # ECS model, its errors)
    s = Stubs()
    with s.active():
        s.error("describe_service_revisions", "AccessDeniedException")
        assert s.engine._target_groups(dep()) == {}


def test_other_errors_reading_target_groups_are_passed_on() -> None:
    # ServerException: another of DescribeServiceRevisions' errors (botocore's ECS model)
    s = Stubs()
    with s.active():
        s.error("describe_service_revisions", "ServerException")
        with pytest.raises(AwsCallError) as caught:
            s.engine._target_groups(dep())
    assert caught.value.code == "ServerException"


@pytest.mark.parametrize(
    ("status", "rollback", "reason", "outcome", "said"),
    [
        ("SUCCESSFUL", None, "done", "succeeded", ""),
        ("ROLLBACK_SUCCESSFUL", {"reason": "Alarm a"}, "x", "rolled back", "Alarm a"),
        ("ROLLBACK_FAILED", None, "tasks failed", "failed", "tasks failed"),
        ("STOPPED", None, "stopped by user", "stopped", "stopped by user"),
        ("IN_PROGRESS", None, None, "", ""),
        ("ROLLBACK_IN_PROGRESS", None, "rolling", "", "rolling"),
    ],
)
def test_how_a_deployment_ended(
    status: str, rollback: dict[str, str] | None, reason: str | None, outcome: str, said: str
) -> None:
    s = Stubs()
    with s.active():
        s.described(
            dep(
                status=status,
                rollback=rollback,
                statusReason=reason,
                alarms={"triggeredAlarmNames": ["a"]},
            )
        )
        ending = s.engine.ending(DEP + "d2")
    assert (ending.status, ending.outcome, ending.reason) == (status, outcome, said)
    assert ending.alarms == ("a",) and ending.rollback is False


# ---- forwards: what the listener rules do now -------------------------------------------


def test_forwards_reads_both_rules_weights() -> None:
    s = Stubs(production_rule=RULE + "p", test_rule=RULE + "t")
    with s.active():
        s.stub["elbv2"].add_response(
            "describe_rules",
            {
                "Rules": [
                    {
                        "RuleArn": RULE + "t",
                        "Actions": [{"Type": "forward", "TargetGroupArn": TG + "green/1"}],
                    },
                    {
                        "RuleArn": RULE + "p",
                        "Actions": [
                            {
                                "Type": "forward",
                                "ForwardConfig": {
                                    "TargetGroups": [
                                        {"TargetGroupArn": TG + "blue/1", "Weight": 60},
                                        {"TargetGroupArn": TG + "green/1", "Weight": 40},
                                        {"TargetGroupArn": TG + "x/1"},
                                    ]
                                },
                            },
                            {"Type": "fixed-response"},
                        ],
                    },
                ]
            },
            {"RuleArns": [RULE + "p", RULE + "t"]},
        )
        found = s.engine.forwards()
    assert found == {
        "production": [(TG + "blue/1", 60), (TG + "green/1", 40), (TG + "x/1", 1)],
        "test": [(TG + "green/1", 1)],
    }


def test_forwards_without_rules_asks_nothing() -> None:
    s = Stubs()
    with s.active():
        assert s.engine.forwards() == {}
    only = Stubs(test_rule=RULE + "t")
    with only.active():
        only.stub["elbv2"].add_response("describe_rules", {"Rules": []}, {"RuleArns": [RULE + "t"]})
        assert only.engine.forwards() == {}


# ---- promote, finish -------------------------------------------------------------------


def test_promote_continues_the_awaiting_pause_hook() -> None:
    # CONTINUE: the hook AWAITING_ACTION, action CONTINUE
    s = Stubs()
    done = {"hookId": "h-done", "targetType": "PAUSE", "status": "SUCCEEDED"}
    with s.active():
        s.listed("d1", "d2")
        s.described(dep(hooks=[done, PAUSE]))
        s.continued(DEP + "d2", "h-pause", "CONTINUE")
        result = s.engine.promote()
    assert result.to_dict() == {
        "action": "promote",
        "deployment_id": DEP + "d2",
        "message": "continued service deployment d2: ECS shifts production (:80) to green; "
        "follow with `bluegreen status --watch`",
        "started_deployment": None,
        "revision": None,
        "phase": None,
        "promoted": False,
    }


def test_promote_without_a_pause_hook_says_it_moves_by_itself() -> None:
    s = Stubs()
    d = dep(hooks=[], stage="SCALE_UP")
    d["deploymentConfiguration"]["lifecycleHooks"] = []
    with s.active():
        s.listed("d2")
        s.described(d)
        assert refusal(s.engine.promote) == (
            (
                "cannot promote: service deployment d2 moves production by itself (no PAUSE hook: "
                'deployment.reroute is "auto")'
            ),
            "follow it with `bluegreen status --watch`",
        )


@pytest.mark.parametrize(
    ("status", "stage", "text", "hint"),
    [
        (
            "IN_PROGRESS",
            "SCALE_UP",
            "IN_PROGRESS (installing, SCALE_UP)",
            "wait until green serves the test listener (`bluegreen status --watch`)",
        ),
        (
            "PENDING",
            "",
            "PENDING (queued)",
            "wait until green serves the test listener (`bluegreen status --watch`)",
        ),
        (
            "IN_PROGRESS",
            "PRODUCTION_TRAFFIC_SHIFT",
            "IN_PROGRESS (shifting, PRODUCTION_TRAFFIC_SHIFT)",
            "traffic is shifting; `bluegreen rollback` stops and reverts it",
        ),
        (
            "IN_PROGRESS",
            "BAKE_TIME",
            "IN_PROGRESS (bake-time, BAKE_TIME)",
            "the bake runs; `bluegreen rollback` returns production to blue",
        ),
        (
            "SUCCESSFUL",
            "CLEAN_UP",
            "SUCCESSFUL (succeeded)",
            "start a new release with `bluegreen release`",
        ),
        (
            "ROLLBACK_SUCCESSFUL",
            "BAKE_TIME",
            "ROLLBACK_SUCCESSFUL (stopped)",
            "start a new release with `bluegreen release`",
        ),
    ],
)
def test_promote_refuses_a_deployment_not_paused(
    status: str, stage: str, text: str, hint: str
) -> None:
    s = Stubs()
    with s.active():
        s.listed("d2")
        s.described(
            dep(
                status=status,
                stage=stage,
                hooks=[{"hookId": "h", "targetType": "PAUSE", "status": "SUCCEEDED"}],
            )
        )
        assert refusal(s.engine.promote) == (
            f"cannot promote: service deployment d2 is {text}, not paused for reroute",
            hint,
        )


def test_the_hint_while_paused() -> None:
    assert ecs_engine._hint(view(dep(hooks=[PAUSE]))) == (
        "`bluegreen promote` shifts production to green; `bluegreen rollback` drops it"
    )


def test_promote_if_ready_continues_only_an_awaiting_hook() -> None:
    s = Stubs()
    ready = view(dep(hooks=[PAUSE]))
    with s.active():
        assert s.engine.promote_if_ready(view(dep(hooks=[]))) is None  # asks nothing
        s.described(dep(hooks=[dict(PAUSE, status="SUCCEEDED")]))
        assert s.engine.promote_if_ready(ready) is None  # no longer awaiting
        s.described(dep(hooks=[PAUSE]))
        s.continued(DEP + "d2", "h-pause", "CONTINUE")
        result = s.engine.promote_if_ready(ready)
    assert result is not None and result.action == "promote"
    assert result.message.startswith("continued service deployment d2: ECS shifts production")


@pytest.mark.parametrize("code", ["ClientException", "InvalidParameterException"])
def test_promote_if_ready_keeps_following_when_the_hook_left_meanwhile(code: str) -> None:
    s = Stubs()
    ready = view(dep(hooks=[PAUSE]))
    with s.active():
        s.described(dep(hooks=[PAUSE]))
        s.error("continue_service_deployment", code)
        s.described(dep(hooks=[dict(PAUSE, status="SUCCEEDED")]))
        assert s.engine.promote_if_ready(ready) is None
        # still awaiting after the refusal: the refusal is the user's to see
        s.described(dep(hooks=[PAUSE]))
        s.error("continue_service_deployment", code)
        s.described(dep(hooks=[PAUSE]))
        with pytest.raises(AwsCallError) as caught:
            s.engine.promote_if_ready(ready)
    assert caught.value.code == code


def test_promote_if_ready_passes_on_other_errors() -> None:
    s = Stubs()
    with s.active():
        s.described(dep(hooks=[PAUSE]))
        s.error("continue_service_deployment", "AccessDeniedException")
        with pytest.raises(AwsCallError):
            s.engine.promote_if_ready(view(dep(hooks=[PAUSE])))


def test_finish_in_the_bake_says_when_it_ends_and_what_shortens_it() -> None:
    # ECS has no call that ends a bake (module docstring): finish refuses, usefully
    s = Stubs()
    with s.active():
        s.listed("d2")
        s.described(dep(stage="BAKE_TIME", updatedAt=T0 + timedelta(minutes=1, seconds=5)))
        assert refusal(s.engine.finish) == (
            (
                "cannot finish service deployment d2 early: production already serves green and "
                "blue is kept for the bake, but ECS has no call that ends a bake (ContinueService"
                "Deployment acts on a paused lifecycle hook only, StopServiceDeployment rolls back)"
                "; it ends at about 08:16:05 UTC"
            ),
            (
                "to shorten the bake of later releases, set deployment.ecs.bake_minutes (0 for "
                "none) in bluegreen.toml and run `bluegreen deploy`: it sets the service's "
                "deployment configuration with UpdateService, which starts no deployment, and the "
                "next release bakes that long"
            ),
        )
    s = Stubs()
    with s.active():
        s.listed("d2")
        s.described(dep(stage="CLEAN_UP"))
        message, _ = refusal(s.engine.finish)
    assert message.endswith("StopServiceDeployment rolls back)")


def test_finish_outside_the_bake() -> None:
    s = Stubs()
    with s.active():
        s.listed("d2")
        s.described(dep(hooks=[PAUSE]))
        assert refusal(s.engine.finish) == (
            (
                "cannot finish: service deployment d2 is IN_PROGRESS (waiting-for-reroute, paused "
                "at POST_TEST_TRAFFIC_SHIFT), not in the bake"
            ),
            "`bluegreen promote` shifts production to green; `bluegreen rollback` drops it",
        )


# ---- rollback during a deployment -------------------------------------------------------


def test_rollback_at_the_pause_continues_with_rollback() -> None:
    s = Stubs()
    with s.active():
        s.listed("d2")
        s.described(dep(hooks=[PAUSE]))
        s.continued(DEP + "d2", "h-pause", "ROLLBACK")
        result = s.engine.rollback()
    assert (result.action, result.deployment_id) == ("rollback", DEP + "d2")
    assert result.message == (
        "rolled back service deployment d2 at its pause (ContinueServiceDeployment "
        "ROLLBACK): production stays on blue and ECS stops green's tasks"
    )


@pytest.mark.parametrize(
    ("status", "stage", "where"),
    [
        ("PENDING", "", "(queued) with rollback: production stays on"),
        ("IN_PROGRESS", "SCALE_UP", "(installing) with rollback: production stays on"),
        (
            "IN_PROGRESS",
            "PRODUCTION_TRAFFIC_SHIFT",
            "(shifting) with rollback: production returns to",
        ),
        ("IN_PROGRESS", "BAKE_TIME", "(bake-time) with rollback: production returns to"),
    ],
)
def test_rollback_in_progress_stops_with_rollback(status: str, stage: str, where: str) -> None:
    # STOP: stopType ROLLBACK
    s = Stubs()
    with s.active():
        s.listed("d2")
        s.described(dep(status=status, stage=stage))
        s.stub["ecs"].add_response(
            "stop_service_deployment",
            {"serviceDeploymentArn": DEP + "d2"},
            {"serviceDeploymentArn": DEP + "d2", "stopType": "ROLLBACK"},
        )
        result = s.engine.rollback()
    assert (result.action, result.deployment_id) == ("rollback", DEP + "d2")
    assert result.message == (
        f"stopped service deployment d2 {where} blue and ECS stops green's tasks"
    )


@pytest.mark.parametrize(
    ("status", "reason", "said"),
    [
        ("ROLLBACK_SUCCESSFUL", "Alarm a", "already ROLLBACK_SUCCESSFUL (Alarm a)"),
        ("STOPPED", None, "already STOPPED"),
        ("ROLLBACK_IN_PROGRESS", None, "already ROLLBACK_IN_PROGRESS"),
    ],
)
def test_rollback_of_an_ended_deployment_is_refused(
    status: str, reason: str | None, said: str
) -> None:
    s = Stubs()
    with s.active():
        s.listed("d2")
        s.described(dep(status=status, statusReason=reason))
        assert refusal(s.engine.rollback) == (
            (
                f"cannot roll back: service deployment d2 is {said}: there is nothing in "
                "progress to stop"
            ),
            (
                "see `bluegreen status` for what production serves; to release an earlier commit, "
                "revert and push"
            ),
        )


# ---- rollback after success: redeploy the replaced revision ------------------------------


def _succeeded(s: Stubs, **more: Any) -> None:
    s.listed("d2")
    s.described(dep(status="SUCCESSFUL", stage="CLEAN_UP", **more))


def test_rollback_of_the_first_deployment_is_refused() -> None:
    s = Stubs()
    with s.active():
        s.listed("d1")
        s.described(dep("d1", status="SUCCESSFUL", stage="CLEAN_UP", sources=False))
        assert refusal(s.engine.rollback) == (
            (
                "cannot roll back: service deployment d1 is the service's first deployment; there "
                "is no earlier release to return to"
            ),
            "revert the commit and push: the pipeline releases the reverted code",
        )


def test_rollback_of_a_revision_ecs_no_longer_describes_is_refused() -> None:
    s = Stubs()
    with s.active():
        _succeeded(s)
        s.revisions([REV + "111"], [{"serviceRevisionArn": REV + "111"}])
        assert refusal(s.engine.rollback) == (
            (
                f"cannot roll back: ECS no longer describes the revision {REV}111 that service "
                "deployment d2 replaced"
            ),
            "revert the commit and push: the pipeline releases the reverted code",
        )
    s = Stubs()
    with s.active():
        _succeeded(s)
        s.revisions([REV + "111"], [])
        with pytest.raises(StateError):
            s.engine.rollback()


def test_rollback_to_an_inactive_task_definition_is_refused() -> None:
    # ECS developer guide, "Deregistering an Amazon ECS task definition revision"
    s = Stubs()
    with s.active():
        _succeeded(s)
        s.revisions(
            [REV + "111"], [{"serviceRevisionArn": REV + "111", "taskDefinition": TD + "1"}]
        )
        s.stub["ecs"].add_response(
            "describe_task_definition",
            {"taskDefinition": {"taskDefinitionArn": TD + "1", "status": "INACTIVE"}},
            {"taskDefinition": TD + "1"},
        )
        assert refusal(s.engine.rollback) == (
            (
                "cannot roll back: the previous release's task definition (app:1) is INACTIVE, so "
                "ECS cannot start tasks from it"
            ),
            "revert the commit and push: the pipeline builds and releases it again",
        )


def _redeploys(s: Stubs, current: str = "", status: str | None = "ACTIVE") -> None:
    _succeeded(s)
    s.revisions([REV + "111"], [{"serviceRevisionArn": REV + "111", "taskDefinition": TD + "1"}])
    described: dict[str, Any] = {"taskDefinitionArn": TD + "1"}
    if status is not None:
        described["status"] = status
    s.stub["ecs"].add_response(
        "describe_task_definition", {"taskDefinition": described}, {"taskDefinition": TD + "1"}
    )
    s.listed("d1", "d2")
    s.stub["ecs"].add_response(
        "update_service",
        {"service": {"currentServiceDeployment": current} if current else {}},
        {"cluster": "c", "service": "s", "taskDefinition": TD + "1"},
    )


def test_rollback_after_success_redeploys_the_replaced_revision() -> None:
    # REVISIONS: the source revision's taskDefinition; UpdateService starts a deployment
    s = Stubs()
    with s.active():
        _redeploys(s, current=DEP + "d3")
        result = s.engine.rollback()
    assert result.to_dict() == {
        "action": "rollback",
        "deployment_id": DEP + "d2",
        "message": "service deployment d2 had succeeded: started service deployment d3, "
        "which deploys app:1 (the release it replaced) again; when it pauses (green on "
        ":8080), `bluegreen promote` moves production to it",
        "started_deployment": DEP + "d3",
        "revision": TD + "1",
        "phase": "queued",
        "promoted": False,
    }


def test_the_started_deployment_is_found_by_listing_when_the_answer_names_an_old_one() -> None:
    # LIST createdAt.after: ECS's clock of the listing before the call, a second early
    s = Stubs()
    slept: list[float] = []
    with s.active():
        _redeploys(s, current=DEP + "d2")
        after = {"createdAt": {"after": datetime(2026, 12, 1, 8, 19, 59, tzinfo=UTC)}}
        s.listed("d1", "d2", **after)
        s.listed("d2", "d3", "d4", **after)
        result = s.engine.rollback(sleep=slept.append)
    assert result.started == DEP + "d3"  # the oldest new one
    assert slept == [5.0]


def test_rollback_gives_up_when_no_new_deployment_appears() -> None:
    s = Stubs()
    slept: list[float] = []
    with s.active():
        _redeploys(s)
        after = {"createdAt": {"after": datetime(2026, 12, 1, 8, 19, 59, tzinfo=UTC)}}
        for _ in range(24):
            s.listed("d2", **after)
        refused = refusal(lambda: s.engine.rollback(sleep=slept.append))
    assert slept == [5.0] * 23  # FOUND_ATTEMPTS looks, 5 s apart, no sleep after the last
    assert refused == (
        "UpdateService was accepted, but ECS lists no new service deployment for s after "
        "120 s, so the rollback cannot be followed",
        "see the service's Deployments tab in the ECS console, then `bluegreen status`; "
        "when the new deployment pauses, `bluegreen promote` moves production",
    )


def test_without_the_services_clock_the_new_deployment_is_looked_for_unfiltered() -> None:
    s = Stubs()
    engine = s.engine
    with s.active():
        s.listed("d3", "d1")
        assert engine._started_by_update({}, {DEP + "d1"}, None, lambda _: None) == DEP + "d3"


def test_a_followed_rollback_is_promoted_at_its_pause_until_production_moves() -> None:
    s = Stubs()
    ui = Ui()
    slept: list[float] = []
    with s.active():
        _redeploys(s, current=DEP + "d3")
        s.described(dep("d3", status="PENDING", stage=""))
        s.described(dep("d3", status="PENDING", stage=""))  # the same line: said once
        s.described(dep("d3", hooks=[PAUSE]))
        s.described(dep("d3", hooks=[PAUSE]))  # promote_if_ready reads it again
        s.continued(DEP + "d3", "h-pause", "CONTINUE")
        s.described(dep("d3", stage="BAKE_TIME"))
        result = s.engine.rollback(follow=True, ui=ui, sleep=slept.append, interval=7.0)
    assert slept == [7.0, 7.0, 7.0]
    assert ui.lines == [
        "service deployment d2 had succeeded: started service deployment d3, which deploys "
        "app:1 (the release it replaced) again",
        "rollback service deployment d3: PENDING (queued)",
        "rollback service deployment d3: IN_PROGRESS (waiting-for-reroute, paused at "
        "POST_TEST_TRAFFIC_SHIFT)",
        "rollback service deployment d3 is paused: continuing it, as you asked to roll back",
        "rollback service deployment d3: IN_PROGRESS (bake-time, BAKE_TIME)",
    ]
    assert result.to_dict() == {
        "action": "rollback",
        "deployment_id": DEP + "d2",
        "message": "production (:80) serves app:1 again (service deployment d3)",
        "started_deployment": DEP + "d3",
        "revision": TD + "1",
        "phase": "bake-time",
        "promoted": True,
    }


@pytest.mark.parametrize(
    ("status", "reason", "said"),
    [
        ("ROLLBACK_SUCCESSFUL", "Alarm a", "ended ROLLBACK_SUCCESSFUL (Alarm a)"),
        ("ROLLBACK_FAILED", None, "ended ROLLBACK_FAILED"),
    ],
)
def test_a_followed_rollback_that_fails_says_where_production_stays(
    status: str, reason: str | None, said: str
) -> None:
    s = Stubs()
    with s.active():
        _redeploys(s, current=DEP + "d3")
        s.described(dep("d3", status=status, statusReason=reason))
        assert refusal(lambda: s.engine.rollback(follow=True, sleep=lambda _: None)) == (
            (
                f"the rollback service deployment d3 {said}; production stays where service "
                "deployment d2 put it"
            ),
            "see the service's Deployments tab in the ECS console",
        )


def test_a_followed_rollback_that_succeeds_unpaused_was_not_promoted() -> None:
    s = Stubs()
    with s.active():
        _redeploys(s, current=DEP + "d3")
        s.described(dep("d3", status="SUCCESSFUL", stage="CLEAN_UP"))
        result = s.engine.rollback(follow=True, sleep=lambda _: None)
    assert (result.phase, result.promoted) == ("succeeded", False)


# ---- the service's creation, and the deploy step's deployment ---------------------------


def test_continue_creation_continues_the_first_deployment_at_its_pause() -> None:
    # WORKFLOW: the creation's deployment goes through the hooks; it has no source revision
    s = Stubs()
    with s.active():
        s.listed("d1", "d2")  # d1 oldest
        s.described(dep("d1", hooks=[PAUSE], sources=False))
        s.continued(DEP + "d1", "h-pause", "CONTINUE")
        result = s.engine.continue_creation()
    assert result is not None
    assert (result.action, result.deployment_id) == ("promote", DEP + "d1")
    assert result.message == (
        "continued service deployment d1, the service's creation, at its pause "
        "(POST_TEST_TRAFFIC_SHIFT): nothing serves production yet, so there is nothing to "
        "hold it for; it still bakes 15 min (deployment.ecs.bake_minutes) before it ends "
        "and CloudFormation completes the service stack"
    )


@pytest.mark.parametrize("bake", [0, None])
def test_continue_creation_without_a_bake_says_nothing_of_one(bake: int | None) -> None:
    s = Stubs()
    d = dep("d1", hooks=[PAUSE], sources=False)
    d["deploymentConfiguration"]["bakeTimeInMinutes"] = bake
    if bake is None:
        del d["deploymentConfiguration"]["bakeTimeInMinutes"]
    with s.active():
        s.listed("d1")
        s.described(d)
        s.continued(DEP + "d1", "h-pause", "CONTINUE")
        result = s.engine.continue_creation()
    assert result is not None
    assert result.message.endswith("so there is nothing to hold it for")


def test_continue_creation_has_nothing_to_do_otherwise() -> None:
    s = Stubs()
    with s.active():
        s.none_listed()
        assert s.engine.continue_creation() is None
        s.listed("d1")
        s.described(dep("d1", hooks=[PAUSE]))  # has a source: not the creation
        assert s.engine.continue_creation() is None
        s.listed("d1")
        s.described(dep("d1", hooks=[], sources=False))  # not paused
        assert s.engine.continue_creation() is None
        s.listed("d1")
        s.described(dep("d1", hooks=[PAUSE], sources=False))
        s.error("continue_service_deployment", "InvalidParameterException")
        assert s.engine.continue_creation() is None  # no longer awaiting
        s.listed("d1")
        s.described(dep("d1", hooks=[PAUSE], sources=False))
        s.error("continue_service_deployment", "ClientException")
        with pytest.raises(AwsCallError):
            s.engine.continue_creation()


def _build(s: Stubs, started: datetime | None) -> None:
    s.stub["codebuild"].add_response(
        "batch_get_builds",
        {"builds": [{"id": "p:1", **({"startTime": started} if started else {})}]},
        {"ids": ["p:1"]},
    )


def test_following_is_the_deployment_the_build_started() -> None:
    # the deploy step's build (BatchGetBuilds startTime) starts the newest deployment
    s = Stubs()
    with s.active():
        assert s.engine.following("d-123") is None  # not a build id: asks nothing
        for started, expected in (
            (T0, True),
            (T0 - timedelta(seconds=1), True),
            (T0 + timedelta(seconds=1), False),
        ):
            _build(s, started)
            s.listed("d2")
            s.described(dep())
            s.revisions([REV + "222", REV + "111"], [])
            found = s.engine.following("p:1")
            assert (found is not None) is expected
            if found is not None:
                assert found.id == DEP + "d2"
        _build(s, None)
        s.listed("d2")
        s.described(dep())
        s.revisions([REV + "222", REV + "111"], [])
        assert s.engine.following("p:1") is None
        _build(s, T0)
        s.listed("d2")
        s.described(dep(status="SUCCESSFUL", stage="CLEAN_UP"))
        s.revisions([REV + "222", REV + "111"], [])
        assert s.engine.following("p:1") is None  # over: not the step's to follow


def test_following_without_a_deployment_or_creation_time() -> None:
    s = Stubs()
    with s.active():
        _build(s, T0)
        s.none_listed()
        assert s.engine.following("p:1") is None
        _build(s, T0)
        s.listed("d2")
        d = dep()
        del d["createdAt"]
        s.described(d)
        s.revisions([REV + "222", REV + "111"], [])
        assert s.engine.following("p:1") is None


def test_the_engines_words() -> None:
    s = Stubs()
    assert s.engine.scope() == "service s"
    assert (s.engine.name, s.engine.noun, s.engine.creation_deploys) == (
        "ecs",
        "Service deployment",
        True,
    )
    assert s.engine.absent == "" and s.engine._read_at is None and s.engine._listed_at is None
    assert s.engine.service == {}
    assert [c for c, _ in EcsEngine.commands] == ["promote", "rollback"]


# ---- answers that leave optional members out (the ECS, ELBv2 and CodeBuild models
# mark them optional) -----------------------------------------------------------------


@pytest.mark.parametrize(("verb", "said"), [("promote", "promote"), ("finish", "finish")])
def test_each_command_on_a_service_without_deployments(verb: str, said: str) -> None:
    s = Stubs()
    with s.active():
        s.none_listed()
        message, _ = refusal(getattr(s.engine, verb))
    assert message == f"cannot {said}: the service s has no service deployments yet"


def test_the_ending_of_a_deployment_without_a_status() -> None:
    s = Stubs()
    with s.active():
        s.described({"serviceDeploymentArn": DEP + "d9"})
        ending = s.engine.ending(DEP + "d9")
    assert (ending.status, ending.outcome, ending.reason, ending.alarms) == ("", "", "", ())


def test_following_a_build_codebuild_does_not_list() -> None:
    s = Stubs()
    with s.active():
        s.stub["codebuild"].add_response("batch_get_builds", {}, {"ids": ["p:1"]})
        s.listed("d2")
        s.described(dep())
        s.revisions([REV + "222", REV + "111"], [])
        assert s.engine.following("p:1") is None


def test_forwards_of_rules_without_actions() -> None:
    s = Stubs(production_rule=RULE + "p")
    with s.active():
        s.stub["elbv2"].add_response("describe_rules", {}, {"RuleArns": [RULE + "p"]})
        assert s.engine.forwards() == {}
        s.stub["elbv2"].add_response(
            "describe_rules", {"Rules": [{"RuleArn": RULE + "p"}]}, {"RuleArns": [RULE + "p"]}
        )
        assert s.engine.forwards() == {"production": []}


def test_rollback_redeploys_the_first_source_revision_of_several() -> None:
    # SD: sourceServiceRevisions lists every revision that served before (several when
    # an earlier deployment had not finished); the first is the one production was on
    s = Stubs()
    d = dep(status="SUCCESSFUL", stage="CLEAN_UP")
    d["sourceServiceRevisions"] = [{"arn": REV + "111"}, {"arn": REV + "000"}]
    with s.active():
        s.listed("d2")
        s.described(d)
        s.revisions([REV + "111"], [{"serviceRevisionArn": REV + "111"}])
        message, _ = refusal(s.engine.rollback)
    assert f"the revision {REV}111 that" in message


def test_a_task_definition_described_without_a_status_is_taken_as_active() -> None:
    # DescribeTaskDefinition's status is optional in the model; ACTIVE is the default state
    s = Stubs()
    with s.active():
        _redeploys(s, current=DEP + "d3", status=None)
        assert s.engine.rollback().started == DEP + "d3"


def test_an_answer_without_service_deployments_is_refused_the_same() -> None:
    # DescribeServiceDeployments: serviceDeployments is optional (failures list instead)
    s = Stubs()
    with s.active():
        s.stub["ecs"].add_response(
            "describe_service_deployments",
            {"failures": [{"arn": DEP + "gone", "reason": "MISSING"}]},
            {"serviceDeploymentArns": [DEP + "gone"]},
        )
        message, _ = refusal(lambda: s.engine.deployment(DEP + "gone"))
    assert message == f"ECS does not describe service deployment {DEP}gone"


def test_a_followed_rollback_polls_every_ten_seconds_by_default() -> None:
    s = Stubs()
    slept: list[float] = []
    with s.active():
        _redeploys(s, current=DEP + "d3")
        s.described(dep("d3", status="PENDING", stage=""))
        s.described(dep("d3", status="SUCCESSFUL", stage="CLEAN_UP"))
        s.engine.rollback(follow=True, sleep=slept.append)
    assert slept == [10.0]


@pytest.fixture
def tokyo(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This machine's time zone is Asia/Tokyo (UTC+9)."""
    import time

    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("tokyo")
def test_the_bake_end_is_said_in_utc_whatever_this_machines_time_zone() -> None:
    # botocore parses ECS's epoch timestamps in the local zone (tzlocal); the commands
    # say "UTC"
    from dateutil.tz import tzlocal

    updated = datetime.fromtimestamp((T0 + timedelta(minutes=1, seconds=5)).timestamp(), tzlocal())
    assert updated.utcoffset() == timedelta(hours=9)
    s = Stubs()
    with s.active():
        s.listed("d2")
        s.described(dep(stage="BAKE_TIME", updatedAt=updated))
        message, _ = refusal(s.engine.finish)
    assert "; it ends at about 08:16:05 UTC" in message
    clock = ecs_engine._service_clock({"ResponseMetadata": {"HTTPHeaders": {"date": DATE}}})
    assert clock is not None and clock.utcoffset() == timedelta(0)
    assert clock.isoformat() == "2026-12-01T08:20:00+00:00"


def test_a_listing_page_without_service_deployments_lists_none() -> None:
    # LIST: serviceDeployments is optional in the answer
    s = Stubs()
    with s.active():
        s.stub["ecs"].add_response(
            "list_service_deployments", {}, {"cluster": "c", "service": "s", "maxResults": 100}
        )
        assert s.engine.status() is None
