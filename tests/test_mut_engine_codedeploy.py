"""The CodeDeploy blue/green engine, call by call: the requests each command makes
(botocore's Stubber checks them against the CodeDeploy model) and the sentences users read.

Stubbed rather than emulated: these pin exact requests and CodeDeploy answers in every
state (including error shapes and histories the emulated CodeDeploy cannot be brought to
cheaply); the same commands run end to end against the emulated AWS in
test_e2e_operations.py, test_e2e_story.py and test_aws_rollback.py.

Sources, by short name:

- INFO: CodeDeploy API reference, DeploymentInfo (status, createTime, errorInformation
  code/message, rollbackInfo.rollbackDeploymentId/rollbackTriggeringDeploymentId,
  creator codeDeployRollback, description, revision, blueGreenDeploymentConfiguration).
- TARGET: CodeDeploy API reference, ECSTarget and ECSTaskSet (lifecycleEvents, status,
  taskSetsInfo: identifer [sic], taskSetLabel BLUE/GREEN, trafficWeight, targetGroup
  .name, desiredCount, runningCount, status PRIMARY/ACTIVE/DRAINING).
- STEPS: CodeDeploy user guide, "Deployments on an Amazon ECS compute platform"
  (https://docs.aws.amazon.com/codedeploy/latest/userguide/deployment-steps-ecs.html).
- CONTINUE: ContinueDeployment (deploymentWaitType READY_WAIT / TERMINATION_WAIT;
  DeploymentIsNotInReadyStateException), API reference and botocore model.
- STOP: StopDeployment (autoRollbackEnabled), API reference.
- CREATE: CreateDeployment (applicationName, deploymentGroupName, revision,
  description; DeploymentLimitExceededException), API reference.
- APPSPEC: CodeDeploy user guide, "AppSpec 'resources' section for Amazon ECS
  deployments" (Resources[].TargetService.Properties.TaskDefinition).
- ALARM: the errorInformation ALARM_ACTIVE message as CodeDeploy words it ("One or
  more alarms have been activated according to the Amazon CloudWatch metrics you
  selected, and the affected deployments have been stopped. Activated alarms: <name>"),
  as a real deployment's get-deployment output quotes it in a public repository:
  https://github.com/chrispsheehan/aws-serverless-github-deploy (README.md, earlier
  versions: a CI log's ErrorCode ALARM_ACTIVE / ErrorMessage table, one alarm). That
  several alarms are each in <...> separated by a space is not in that output; no
  public AWS page words this message.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.stub import ANY
from engine_stubs import Stubs, Ui, refs, refusal
from test_aws_support import ACTIVE

from bluegreen.aws.errors import AwsCallError
from bluegreen.engine import DeploymentView, LifecycleStep, Phase, TrafficSet
from bluegreen.engine import codedeploy as cd
from bluegreen.engine.codedeploy import CodeDeployEngine

APP, DG = "app", "dg"
GROUP = {"applicationName": APP, "deploymentGroupName": DG}
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
TD = "arn:aws:ecs:ap-northeast-1:123456789012:task-definition/web:"
LISTENER = "arn:aws:elasticloadbalancing:ap-northeast-1:123456789012:listener/app/lb/1/"
TG = "arn:aws:elasticloadbalancing:ap-northeast-1:123456789012:targetgroup/"
INSTALLED = (
    "BeforeInstall",
    "Install",
    "AfterInstall",
    "AllowTestTraffic",
    "AfterAllowTestTraffic",
)
EVENTS = (*INSTALLED, "BeforeAllowTraffic", "AllowTraffic", "AfterAllowTraffic")  # STEPS


def engine(s: Stubs, **more: Any) -> CodeDeployEngine:
    group = {
        "application": APP,
        "deployment_group": DG,
        "production_listener": LISTENER + "p",
        "test_listener": LISTENER + "t",
        "region": "ap-northeast-1",
        "pipeline_stack": "p-pipeline",
    }
    return CodeDeployEngine(s.clients, refs(**group | more), {})


def info(
    ident: str = "d-2", status: str = "InProgress", minutes: int = 0, **more: Any
) -> dict[str, Any]:
    return {
        "deploymentId": ident,
        "status": status,
        "createTime": T0 + timedelta(minutes=minutes),
    } | more


ALLOW_TRAFFIC = EVENTS.index("AllowTraffic")


def task_sets(done: int, running: str) -> tuple[tuple[str, float], tuple[str, float]]:
    """(status, trafficWeight) of the original (BLUE) and replacement (GREEN) task sets
    when ``done`` lifecycle events have succeeded and ``running`` is in progress.

    STEPS, "What happens during an Amazon ECS deployment": at AllowTraffic "production
    traffic is rerouted from the original task set to the replacement task set"; TARGET:
    PRIMARY "indicates the task set is serving production traffic", trafficWeight is "the
    percentage of traffic served by this task set". While AllowTraffic runs, production is
    split (CodeDeployDefault.ECSCanary10Percent5Minutes's first increment, 10 %; the
    original stays PRIMARY until the shift ends, as the emulated CodeDeploy does it with
    UpdateServicePrimaryTaskSet); once AllowTraffic has succeeded (the termination wait
    included) the replacement is PRIMARY at 100 % and the original ACTIVE at 0 % until it
    is removed."""
    if done > ALLOW_TRAFFIC:
        return ("ACTIVE", 0.0), ("PRIMARY", 100.0)
    if running == "AllowTraffic":
        return ("PRIMARY", 90.0), ("ACTIVE", 10.0)
    return ("PRIMARY", 100.0), ("ACTIVE", 0.0)


def ecs_target(
    done: int = 5, status: str = "InProgress", running: str = "", **more: Any
) -> dict[str, Any]:
    """An ECSTarget (TARGET) whose lifecycle events, task sets and weights follow the
    phase: the first ``done`` events Succeeded, ``running`` InProgress (STEPS)."""
    (blue_status, blue_weight), (green_status, green_weight) = task_sets(done, running)
    return {
        "status": status,
        "lifecycleEvents": [
            {
                "lifecycleEventName": name,
                "status": "Succeeded"
                if i < done
                else ("InProgress" if name == running else "Pending"),
                **({"endTime": T0 + timedelta(seconds=i)} if i < done else {}),
            }
            for i, name in enumerate(EVENTS)
        ],
        "taskSetsInfo": [
            {
                "identifer": "ecs-svc/1",
                "taskSetLabel": "Blue",
                "status": blue_status,
                "trafficWeight": blue_weight,
                "targetGroup": {"name": "tg-blue"},
                "desiredCount": 2,
                "runningCount": 2,
            },
            {
                "identifer": "ecs-svc/2",
                "taskSetLabel": "Green",
                "status": green_status,
                "trafficWeight": green_weight,
                "targetGroup": {"name": "tg-green"},
                "desiredCount": 2,
                # STEPS: Install "sets up the replacement task set"; until it has
                # succeeded, one of its two tasks runs.
                "runningCount": 2 if done > EVENTS.index("Install") else 1,
            },
        ],
    } | more


def got(s: Stubs, found: dict[str, Any]) -> None:
    """GetDeployment of ``found``'s deploymentId answers ``found`` (INFO)."""
    s.add(
        "codedeploy",
        "get_deployment",
        {"deploymentInfo": found},
        {"deploymentId": found["deploymentId"]},
    )


def target_of(s: Stubs, ident: str, target: dict[str, Any] | None) -> None:
    """ListDeploymentTargets + GetDeploymentTarget (or not started yet)."""
    if target is None:
        s.error(
            "codedeploy",
            "list_deployment_targets",
            "DeploymentNotStartedException",
            "not started",
            {"deploymentId": ident},
        )
        return
    s.add("codedeploy", "list_deployment_targets", {"targetIds": ["c:s"]}, {"deploymentId": ident})
    s.add(
        "codedeploy",
        "get_deployment_target",
        {"deploymentTarget": {"deploymentTargetType": "ECSTarget", "ecsTarget": target}},
        {"deploymentId": ident, "targetId": "c:s"},
    )


def latest(s: Stubs, found: dict[str, Any], target: dict[str, Any] | None = None) -> None:
    """The group's latest deployment is ``found`` (active, else the newest finished one)."""
    active = found["status"] in ACTIVE
    s.add(
        "codedeploy",
        "list_deployments",
        {"deployments": [found["deploymentId"]] if active else []},
        dict(GROUP, includeOnlyStatuses=ACTIVE),
    )
    if not active:
        s.add(
            "codedeploy",
            "list_deployments",
            {"deployments": [found["deploymentId"]]},
            dict(GROUP, createTimeRange={"start": ANY}),
        )
    s.add(
        "codedeploy",
        "batch_get_deployments",
        {"deploymentsInfo": [found]},
        {"deploymentIds": [found["deploymentId"]]},
    )
    target_of(s, found["deploymentId"], target)


def never_deployed(s: Stubs) -> None:
    s.add(
        "codedeploy",
        "list_deployments",
        {"deployments": []},
        dict(GROUP, includeOnlyStatuses=ACTIVE),
    )
    s.add(
        "codedeploy",
        "list_deployments",
        {"deployments": []},
        dict(GROUP, createTimeRange={"start": ANY}),
    )
    s.add("codedeploy", "list_deployments", {"deployments": []}, GROUP)


def group_config(s: Stubs, action: str | None) -> None:
    blue_green = {"deploymentReadyOption": {"actionOnTimeout": action}} if action else {}
    s.add(
        "codedeploy",
        "get_deployment_group",
        {"deploymentGroupInfo": {"blueGreenDeploymentConfiguration": blue_green}},
        GROUP,
    )


def ready_option(action: str) -> dict[str, Any]:
    return {
        "blueGreenDeploymentConfiguration": {"deploymentReadyOption": {"actionOnTimeout": action}}
    }


# ---- pure parts: task sets, errors, alarms, AppSpec --------------------------------------


def test_task_sets_read_from_the_ecs_target() -> None:
    # TARGET: taskSetsInfo (the API spells the id field "identifer")
    sets = cd._traffic_sets(ecs_target(1, running="Install"))
    assert sets == [
        TrafficSet("ecs-svc/1", "blue", "PRIMARY", 100.0, "tg-blue", 2, 2),
        TrafficSet("ecs-svc/2", "green", "ACTIVE", 0.0, "tg-green", 2, 1),
    ]
    assert cd._traffic_sets({"taskSetsInfo": [{}]}) == [TrafficSet("", "", "", 0.0, "", 0, 0)]
    assert cd._traffic_sets(None) == []
    assert cd._green_group(ecs_target()) == "tg-green"
    assert cd._green_group({"taskSetsInfo": ecs_target()["taskSetsInfo"][:1]}) == ""


@pytest.mark.parametrize(
    ("error", "text"),
    [
        (
            {"code": "HEALTH_CONSTRAINTS", "message": "too few healthy"},
            "HEALTH_CONSTRAINTS: too few healthy",
        ),
        ({"code": "TIMEOUT"}, "TIMEOUT"),
        ({"message": "it broke"}, "it broke"),
        ({}, ""),
        (None, ""),
    ],
)
def test_the_error_reads_code_and_message(error: dict[str, str] | None, text: str) -> None:
    assert cd._error({"errorInformation": error}) == text


@pytest.mark.parametrize(
    ("error", "alarms"),
    [
        (
            {
                "code": "ALARM_ACTIVE",
                "message": "One or more alarms have been activated according to the Amazon "
                "CloudWatch metrics you selected, and the affected deployments have been "
                "stopped. Activated alarms: <p-5xx> <p-latency>",
            },
            ["p-5xx", "p-latency"],
        ),
        ({"code": "ALARM_ACTIVE", "message": "<not-this> Activated alarms: <a>"}, ["a"]),
        ({"code": "ALARM_ACTIVE", "message": "no list <x>"}, []),
        ({"code": "ALARM_ACTIVE"}, []),
        ({"code": "TIMEOUT", "message": "Activated alarms: <a>"}, []),
        (None, []),
    ],
)
def test_alarms_are_the_ones_alarm_active_names(
    error: dict[str, str] | None, alarms: list[str]
) -> None:
    # ALARM
    assert cd.alarms_of({"errorInformation": error}) == alarms


YAML_SPEC = f"""version: 0.0
Resources:
  - TargetService:
      Type: AWS::ECS::Service
      Properties:
        TaskDefinition: "{TD}3"
        LoadBalancerInfo:
          ContainerName: app
          ContainerPort: 80
"""


@pytest.mark.parametrize(
    ("revision", "found"),
    [
        ({"revisionType": "AppSpecContent", "appSpecContent": {"content": YAML_SPEC}}, TD + "3"),
        (
            {
                "revisionType": "AppSpecContent",
                "appSpecContent": {
                    "content": '{"resources": [{"svc": '
                    '{"properties": {"taskDefinition": "td:1"}}}]}'
                },
            },
            "td:1",
        ),
        (
            {
                "revisionType": "AppSpecContent",
                "appSpecContent": {
                    "content": "Resources: [x, {A: {Properties: {TaskDefinition: ''}}}, "
                    "{B: {Properties: {TaskDefinition: 7}}}, {C: {Properties: "
                    "{TaskDefinition: td:2}}}]"
                },
            },
            "td:2",
        ),
        ({"revisionType": "AppSpecContent", "appSpecContent": {"content": "Resources: ["}}, ""),
        ({"revisionType": "AppSpecContent", "appSpecContent": {"content": "Resources: 3"}}, ""),
        ({"revisionType": "AppSpecContent", "appSpecContent": {"content": "[1, 2]"}}, ""),
        ({"revisionType": "AppSpecContent"}, ""),
        ({"revisionType": "String", "string": {"content": YAML_SPEC}}, ""),
        ({}, ""),
        (None, ""),
    ],
)
def test_the_task_definition_an_appspec_names(revision: dict[str, Any] | None, found: str) -> None:
    # APPSPEC: keys matched without regard to case; only AppSpecContent revisions
    assert cd.task_definition_of(revision) == found


@pytest.mark.parametrize(
    ("phase", "hint"),
    [
        (
            Phase.QUEUED,
            "wait until the green tasks serve the test listener (`bluegreen status --watch`)",
        ),
        (
            Phase.INSTALLING,
            "wait until the green tasks serve the test listener (`bluegreen status --watch`)",
        ),
        (
            Phase.WAITING,
            "`bluegreen promote` shifts production to green; `bluegreen rollback` drops it",
        ),
        (Phase.SHIFTING, "traffic is shifting; `bluegreen rollback` stops and reverts it"),
        (
            Phase.TERMINATION_WAIT,
            "`bluegreen finish` removes blue now; `bluegreen rollback` returns to blue",
        ),
        (Phase.SUCCEEDED, "start a new release with `bluegreen release`"),
        (Phase.FAILED, "start a new release with `bluegreen release`"),
    ],
)
def test_each_phases_hint(phase: Phase, hint: str) -> None:
    assert cd._hint(DeploymentView("codedeploy", "d-1", "InProgress", phase)) == hint


def test_describe_names_the_event_in_progress() -> None:
    steps = [LifecycleStep("Install", "Succeeded"), LifecycleStep("AfterInstall", "InProgress")]
    running = DeploymentView("codedeploy", "d-1", "InProgress", Phase.INSTALLING, lifecycle=steps)
    assert cd._describe(running) == "InProgress (installing, AfterInstall in progress)"
    idle = DeploymentView("codedeploy", "d-1", "Ready", Phase.WAITING, lifecycle=steps[:1])
    assert cd._describe(idle) == "Ready (waiting-for-reroute)"


# ---- reading -----------------------------------------------------------------------------


def test_status_of_an_in_progress_deployment() -> None:
    s = Stubs()
    found = info(
        # INFO: code is one of CodeDeploy's ErrorCode enum (botocore's model)
        errorInformation={"code": "HEALTH_CONSTRAINTS", "message": "y"},
        **ready_option("STOP_DEPLOYMENT"),
    )
    latest(s, found, ecs_target(3, running="AllowTestTraffic"))
    view = engine(s).status()
    s.done()
    assert view is not None
    assert (view.engine, view.id, view.status, view.phase) == (
        "codedeploy",
        "d-2",
        "InProgress",
        Phase.INSTALLING,
    )
    assert view.created == T0
    assert view.lifecycle[0] == LifecycleStep("BeforeInstall", "Succeeded", T0)
    assert view.lifecycle[3] == LifecycleStep("AllowTestTraffic", "InProgress", None)
    assert [t.label for t in view.task_sets] == ["blue", "green"]
    assert view.error == "HEALTH_CONSTRAINTS: y"
    assert view.auto_reroute is False
    assert view.alarms == [] and view.new_target_group == "" and view.rollback_of == ""


@pytest.mark.parametrize(
    ("status", "target", "phase", "sets"),
    [
        (
            "Ready",
            ecs_target(5, status="Ready"),
            Phase.WAITING,
            [("blue", "PRIMARY", 100.0, 2), ("green", "ACTIVE", 0.0, 2)],
        ),
        (
            "InProgress",
            ecs_target(6, running="AllowTraffic"),
            Phase.SHIFTING,
            [("blue", "PRIMARY", 90.0, 2), ("green", "ACTIVE", 10.0, 2)],
        ),
        (
            "InProgress",
            ecs_target(8, status="Succeeded"),
            Phase.TERMINATION_WAIT,
            [("blue", "ACTIVE", 0.0, 2), ("green", "PRIMARY", 100.0, 2)],
        ),
    ],
)
def test_status_shows_which_task_set_serves_production_in_each_phase(
    status: str, target: dict[str, Any], phase: Phase, sets: list[tuple[str, str, float, int]]
) -> None:
    # STEPS: production moves to the replacement (GREEN) task set at AllowTraffic; in the
    # termination wait (target Succeeded, containers-roadmap#269) green serves it all and
    # the original is kept, unserved, until it is removed. TARGET: status, trafficWeight.
    s = Stubs()
    latest(s, info(status=status), target)
    view = engine(s).status()
    s.done()
    assert view is not None and view.phase == phase
    assert [(t.label, t.status, t.weight, t.running) for t in view.task_sets] == sets
    # `status --json` says the same
    assert [
        (t["label"], t["status"], t["traffic_weight"]) for t in view.to_dict()["task_sets"]
    ] == [x[:3] for x in sets]


def test_status_of_a_deployment_not_started_yet() -> None:
    s = Stubs()
    latest(s, info(status="Created"), None)
    view = engine(s).status()
    s.done()
    assert view is not None and view.phase == Phase.QUEUED and view.lifecycle == []
    assert view.auto_reroute is None


def test_status_when_the_group_never_deployed() -> None:
    s = Stubs()
    never_deployed(s)
    e = engine(s)
    assert e.status() is None
    assert e.absent == ""
    never_deployed(s)
    assert refusal(e.promote, s) == (
        "cannot promote: the deployment group dg has no deployments yet",
        "start one with `bluegreen release`",
    )


@pytest.mark.parametrize(
    ("code", "more", "absent"),
    [
        (
            "ApplicationDoesNotExistException",
            {"pipeline_deployed": False},
            "no deployment group yet: app/dg (the pipeline stack p-pipeline is not "
            "deployed in ap-northeast-1)",
        ),
        (
            "DeploymentGroupDoesNotExistException",
            {},
            "no deployment group yet: app/dg (CodeDeploy does not know it in ap-northeast-1)",
        ),
        (
            "DeploymentGroupDoesNotExistException",
            {"pipeline_deployed": False, "pipeline_stack": "", "region": ""},
            "no deployment group yet: app/dg (CodeDeploy does not know it)",
        ),
    ],
)
def test_status_says_why_there_is_no_deployment_group(
    code: str, more: dict[str, Any], absent: str
) -> None:
    s = Stubs()
    s.error(
        "codedeploy", "list_deployments", code, "missing", dict(GROUP, includeOnlyStatuses=ACTIVE)
    )
    e = engine(s, **more)
    assert e.status() is None
    assert e.absent == absent
    s.error(
        "codedeploy", "list_deployments", code, "missing", dict(GROUP, includeOnlyStatuses=ACTIVE)
    )
    assert refusal(e.finish, s) == (
        f"cannot finish: {absent}",
        (
            "run `bluegreen deploy`: the pipeline stack holds the CodeDeploy application and "
            "deployment group"
        ),
    )
    # found again: the absence is forgotten
    latest(s, info(), ecs_target())
    assert e.status() is not None and e.absent == ""
    s.error(
        "codedeploy",
        "list_deployments",
        "AccessDeniedException",
        "no",
        dict(GROUP, includeOnlyStatuses=ACTIVE),
    )
    with pytest.raises(AwsCallError):
        e.status()
    s.done()


def test_following_is_the_deployment_the_action_names() -> None:
    s = Stubs()
    e = engine(s)
    assert e.following("p:build-1") is None  # not a deployment id: asks nothing
    latest(s, info(), ecs_target())
    found = e.following("d-2")
    assert found is not None and found.id == "d-2"
    latest(s, info(), ecs_target())
    assert e.following("d-1") is None
    never_deployed(s)
    assert e.following("d-2") is None
    s.done()


def test_forwards_reads_both_listeners() -> None:
    s = Stubs()
    s.add(
        "elbv2",
        "describe_listeners",
        {
            "Listeners": [
                {
                    "ListenerArn": LISTENER + "p",
                    "DefaultActions": [{"Type": "forward", "TargetGroupArn": TG + "blue/1"}],
                },
            ]
        },
        {"ListenerArns": [LISTENER + "p", LISTENER + "t"]},
    )
    assert engine(s).forwards() == {"production": [(TG + "blue/1", 100)]}
    s.add("elbv2", "describe_listeners", {"Listeners": []}, {"ListenerArns": [LISTENER + "t"]})
    assert engine(s, production_listener="").forwards() == {}
    assert engine(s, production_listener="", test_listener="").forwards() == {}
    s.done()


# ---- promote ------------------------------------------------------------------------------


def test_promote_a_ready_deployment_reroutes() -> None:
    # CONTINUE: READY_WAIT is accepted in status Ready only
    s = Stubs()
    latest(s, info(status="Ready"), ecs_target(5, status="Ready"))
    s.add(
        "codedeploy",
        "continue_deployment",
        {},
        {"deploymentId": "d-2", "deploymentWaitType": "READY_WAIT"},
    )
    result = engine(s).promote()
    s.done()
    assert result.to_dict() == {
        "action": "promote",
        "deployment_id": "d-2",
        "message": "rerouting production (:80) to the green task set of deployment d-2; "
        "follow with `bluegreen status --watch`",
        "started_deployment": None,
        "revision": None,
        "phase": None,
        "promoted": False,
    }


def test_promote_when_codedeploy_answers_not_ready() -> None:
    s = Stubs()
    latest(s, info(status="Ready"), ecs_target(5))
    s.error(
        "codedeploy", "continue_deployment", "DeploymentIsNotInReadyStateException", "not ready"
    )
    assert refusal(engine(s).promote, s) == (
        "cannot promote yet: CodeDeploy says deployment d-2 is not Ready",
        "run `bluegreen promote` again in a few seconds",
    )
    latest(s, info(status="Ready"), ecs_target(5))
    s.error("codedeploy", "continue_deployment", "AccessDeniedException", "no")
    with pytest.raises(AwsCallError):
        engine(s).promote()
    s.done()


def test_promote_before_codedeploy_reports_ready() -> None:
    # The events say installed (phase WAITING, for display) but the status is InProgress.
    s = Stubs()
    latest(s, info(**ready_option("STOP_DEPLOYMENT")), ecs_target(5))
    assert refusal(engine(s).promote, s) == (
        (
            "cannot promote yet: deployment d-2 is InProgress (waiting-for-reroute); CodeDeploy "
            "does not report it Ready for reroute yet"
        ),
        "run `bluegreen promote` again in a few seconds",
    )
    latest(s, info(), ecs_target(5))
    group_config(s, "CONTINUE_DEPLOYMENT")
    assert refusal(engine(s).promote, s) == (
        (
            "cannot promote: deployment d-2 reroutes production by itself (the deployment group "
            "continues without waiting)"
        ),
        "follow it with `bluegreen status --watch`",
    )


def test_promote_refuses_other_phases_with_their_hint() -> None:
    s = Stubs()
    latest(s, info(), ecs_target(3, running="AllowTestTraffic"))
    message, hint = refusal(engine(s).promote, s)
    assert message == (
        "cannot promote: deployment d-2 is InProgress (installing, AllowTestTraffic in "
        "progress), not waiting for reroute"
    )
    assert hint.startswith("wait until the green tasks serve")


def test_reroutes_automatically_asks_the_group_once_when_the_deployment_does_not_say() -> None:
    s = Stubs()
    e = engine(s)
    view = DeploymentView("codedeploy", "d-2", "Ready", Phase.WAITING)
    assert e.reroutes_automatically(
        DeploymentView("codedeploy", "d", "Ready", Phase.WAITING, auto_reroute=True)
    )
    group_config(s, None)
    assert e.reroutes_automatically(view) is False
    assert e.reroutes_automatically(view) is False  # read once
    s.done()


def test_promote_if_ready() -> None:
    s = Stubs()
    e = engine(s)
    ready = DeploymentView("codedeploy", "d-2", "Ready", Phase.WAITING, auto_reroute=False)
    assert (
        e.promote_if_ready(
            DeploymentView("codedeploy", "d-2", "InProgress", Phase.WAITING, auto_reroute=False)
        )
        is None
    )
    assert (
        e.promote_if_ready(
            DeploymentView("codedeploy", "d-2", "Ready", Phase.WAITING, auto_reroute=True)
        )
        is None
    )
    s.error(
        "codedeploy", "continue_deployment", "DeploymentIsNotInReadyStateException", "not ready"
    )
    assert e.promote_if_ready(ready) is None
    s.error("codedeploy", "continue_deployment", "AccessDeniedException", "no")
    with pytest.raises(AwsCallError):
        e.promote_if_ready(ready)
    s.add(
        "codedeploy",
        "continue_deployment",
        {},
        {"deploymentId": "d-2", "deploymentWaitType": "READY_WAIT"},
    )
    result = e.promote_if_ready(ready)
    s.done()
    assert result is not None and result.action == "promote" and result.deployment_id == "d-2"


# ---- finish -------------------------------------------------------------------------------


def test_finish_in_the_termination_wait_terminates_blue() -> None:
    # CONTINUE: TERMINATION_WAIT; the wait starts once the target is Succeeded (STEPS)
    s = Stubs()
    latest(s, info(), ecs_target(8, status="Succeeded"))
    s.add(
        "codedeploy",
        "continue_deployment",
        {},
        {"deploymentId": "d-2", "deploymentWaitType": "TERMINATION_WAIT"},
    )
    result = engine(s).finish()
    s.done()
    assert (result.action, result.deployment_id) == ("finish", "d-2")
    assert result.message == (
        "terminating the original (blue) task set of deployment d-2 now; rollback is no "
        "longer possible once it is gone"
    )


def test_finish_outside_the_termination_wait() -> None:
    s = Stubs()
    latest(s, info(status="Ready"), ecs_target(5, status="Ready"))
    assert refusal(engine(s).finish, s) == (
        "cannot finish: deployment d-2 is Ready (waiting-for-reroute), not in the termination wait",
        "`bluegreen promote` shifts production to green; `bluegreen rollback` drops it",
    )


# ---- rollback during a deployment ---------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "target", "where"),
    [
        ("Created", None, "(queued) with rollback: production stays on"),
        (
            "InProgress",
            ecs_target(2, running="AfterInstall"),
            "(installing) with rollback: production stays on",
        ),
        (
            "Ready",
            ecs_target(5, status="Ready"),
            "(waiting-for-reroute) with rollback: production stays on",
        ),
        (
            "InProgress",
            ecs_target(6, running="AllowTraffic"),
            "(shifting) with rollback: production returns to",
        ),
        (
            "InProgress",
            ecs_target(8, status="Succeeded"),
            "(termination-wait) with rollback: production returns to",
        ),
    ],
)
def test_rollback_stops_an_active_deployment_with_rollback(
    status: str, target: dict[str, Any] | None, where: str
) -> None:
    # STOP: autoRollbackEnabled, in every active phase including the termination wait.
    # "production returns to the original task set" once production has moved is not in
    # StopDeployment's API reference; it rests on two sources together: STEPS
    # ("Redeployments and deployment rollbacks": "CodeDeploy implements rollbacks by
    # rerouting traffic from the replacement task set to the original task set", which
    # is removed only after all events succeed) and aws/containers-roadmap#269 (AWS's
    # answer: in the termination wait the target is Succeeded while the deployment is
    # not, so it can still be stopped). No AWS page states the termination-wait case in
    # one sentence. Against the emulated CodeDeploy the listener is read after such a
    # rollback (the emulated CodeDeploy models exactly this reading):
    # test_rehearse.py::test_a_rollback_in_the_termination_wait_returns_production_to_blue;
    # test_e2e_operations.py::test_rollbacks_walk_back_through_the_releases (release 4).
    s = Stubs()
    latest(s, info(status=status), target)
    s.add(
        "codedeploy",
        "stop_deployment",
        {"status": "Pending", "statusMessage": "Stopping"},
        {"deploymentId": "d-2", "autoRollbackEnabled": True},
    )
    result = engine(s).rollback()
    s.done()
    assert (result.action, result.deployment_id) == ("rollback", "d-2")
    assert result.message == (
        f"stopped deployment d-2 {where} the original task set and CodeDeploy removes the "
        "replacement (Stopping)"
    )
    s = Stubs()
    latest(s, info(status=status), target)
    s.add("codedeploy", "stop_deployment", {}, {"deploymentId": "d-2", "autoRollbackEnabled": True})
    assert engine(s).rollback().message.endswith("removes the replacement")


@pytest.mark.parametrize(
    ("status", "error", "said"),
    [
        ("Failed", {"code": "TIMEOUT", "message": "late"}, "already Failed (TIMEOUT: late)"),
        ("Stopped", None, "already Stopped"),
    ],
)
def test_rollback_of_a_deployment_that_is_over(
    status: str, error: dict[str, str] | None, said: str
) -> None:
    s = Stubs()
    latest(s, info(status=status, **({"errorInformation": error} if error else {})), ecs_target(3))
    assert refusal(engine(s).rollback, s) == (
        (
            f"cannot roll back: deployment d-2 is {said}: it is over, so there is nothing to "
            "stop (CodeDeploy rolls a failed deployment back only when the deployment group's "
            "auto-rollback is on)"
        ),
        (
            "see `bluegreen status` for what production serves; to release an earlier commit, "
            "revert and push"
        ),
    )


# ---- rollback after success: redeploy the previous release ---------------------------------


def spec(revision: int) -> dict[str, Any]:
    return {
        "revisionType": "AppSpecContent",
        "appSpecContent": {
            "content": YAML_SPEC.replace(f"{TD}3", f"{TD}{revision}"),
            "sha256": f"sha{revision}",
        },
    }


def succeeded(ident: str, minutes: int, revision: int | None, **more: Any) -> dict[str, Any]:
    return info(
        ident, "Succeeded", minutes, **({"revision": spec(revision)} if revision else {}), **more
    )


def history(s: Stubs, current: dict[str, Any], older: list[dict[str, Any]]) -> None:
    """succeeded_before(current.createTime): the group's Succeeded deployments."""
    ids = [d["deploymentId"] for d in older]
    s.add(
        "codedeploy",
        "list_deployments",
        {"deployments": ids},
        dict(
            GROUP, includeOnlyStatuses=["Succeeded"], createTimeRange={"end": current["createTime"]}
        ),
    )
    if ids:
        s.add(
            "codedeploy",
            "batch_get_deployments",
            {"deploymentsInfo": older},
            {"deploymentIds": ids},
        )


def test_previous_release_skips_the_same_revision_and_copies_of_releases() -> None:
    s = Stubs()
    e = engine(s)
    current = succeeded("d-5", 50, 4)
    same = succeeded("d-4", 40, 4)  # the same revision, deployed again
    copy = succeeded(
        "d-3", 30, 1, description="bluegreen rollback of d-2x: redeploys the revision of d-1"
    )
    two = succeeded("d-2", 20, 2)
    one = succeeded("d-1", 10, 1)
    history(s, current, [current, same, two, one])
    assert e.previous_release(current) == two
    # a rollback that copied d-1 stands for d-1: the release before it is none
    history(s, copy, [copy, two, one])
    assert e.previous_release(copy) is None
    assert e.previous_release({"deploymentId": "d-9"}) is None  # no createTime: none
    s.done()


def test_previous_release_of_a_codedeploy_rollback_deployment() -> None:
    # INFO: a rollback deployment (rollbackTriggeringDeploymentId) redeploys the release
    # before the one that triggered it
    s = Stubs()
    e = engine(s)
    two = succeeded("d-2", 20, 2)
    one = succeeded("d-1", 10, 1)
    zero = succeeded("d-0", 5, 7)
    rolled = succeeded("d-4", 40, 1, rollbackInfo={"rollbackTriggeringDeploymentId": "d-2"})
    history(s, rolled, [rolled, two, one, zero])
    assert e.previous_release(rolled) == zero
    failed_trigger = succeeded("d-4", 40, 2, rollbackInfo={"rollbackTriggeringDeploymentId": "d-3"})
    history(s, failed_trigger, [failed_trigger, two, one])
    # d-3 failed: not Succeeded; d-4 redeploys d-2's release; before that, d-1
    assert e.previous_release(failed_trigger) == one
    s.done()


def test_origin_follows_chains_and_stops_on_a_loop() -> None:
    a = succeeded(
        "d-a", 30, 1, description="bluegreen rollback of d-x: redeploys the revision of d-b"
    )
    b = succeeded(
        "d-b", 20, 1, description="bluegreen rollback of d-y: redeploys the revision of d-a"
    )
    by_id = {"d-a": a, "d-b": b}
    # A loop (each names the other as the release it copies) has no first release: the
    # walk stops when it comes back to where it started and answers that deployment.
    assert cd._origin(a, by_id, [a, b]) == a
    assert cd._origin(b, by_id, [a, b]) == b
    c = succeeded("d-c", 10, 1)
    d = succeeded(
        "d-d", 40, 1, description="bluegreen rollback of d-z: redeploys the revision of d-c"
    )
    assert cd._origin(d, {"d-c": c, "d-d": d}, [d, c]) == c
    assert cd._origin(d, {"d-d": d}, [d]) == d  # the copied release is not Succeeded-listed
    first = succeeded("d-f", 40, 1, rollbackInfo={"rollbackTriggeringDeploymentId": "d-g"})
    assert cd._origin(first, {"d-f": first}, [first]) == first  # nothing before it
    assert cd._before({"createTime": None}, [c]) is None
    assert cd._before(c, [d, c]) is None


def redeploy_setup(
    s: Stubs, *, content: bool = True, status: str | None = "ACTIVE"
) -> dict[str, Any]:
    current = succeeded("d-5", 50, 4)
    latest(s, current, ecs_target(8, status="Succeeded"))
    previous = succeeded("d-2", 20, 2)
    if not content:
        previous["revision"] = {
            "revisionType": "AppSpecContent",
            "appSpecContent": {"sha256": "sha2"},
        }
    history(s, current, [current, previous])
    if not content:
        s.add(
            "codedeploy",
            "get_application_revision",
            {"revision": spec(2)},
            {
                "applicationName": APP,
                "revision": {
                    "revisionType": "AppSpecContent",
                    "appSpecContent": {"sha256": "sha2"},
                },
            },
        )
    s.add(
        "ecs",
        "describe_task_definition",
        {
            "taskDefinition": {"taskDefinitionArn": TD + "2"}
            | ({"status": status} if status else {})
        },
        {"taskDefinition": TD + "2"},
    )
    return previous


def created(s: Stubs) -> None:
    s.add(
        "codedeploy",
        "create_deployment",
        {"deploymentId": "d-6"},
        dict(
            GROUP,
            revision=spec(2),
            description="bluegreen rollback of d-5: redeploys the revision of d-2",
        ),
    )


@pytest.mark.parametrize(
    ("action", "steps"),
    [
        (
            "STOP_DEPLOYMENT",
            "when it waits for reroute (green on :8080), `bluegreen promote` moves production "
            "(:80) to it; follow with `bluegreen status --watch`",
        ),
        (
            "CONTINUE_DEPLOYMENT",
            "CodeDeploy moves production once its tasks are healthy; follow with "
            "`bluegreen status --watch`",
        ),
    ],
)
def test_rollback_after_success_redeploys_the_previous_revision(action: str, steps: str) -> None:
    # CREATE: the previous release's AppSpec revision, described so a rollback of a
    # rollback can go one release further back
    s = Stubs()
    redeploy_setup(s, content=False)
    created(s)
    group_config(s, action)
    result = engine(s).rollback()
    s.done()
    assert result.to_dict() == {
        "action": "rollback",
        "deployment_id": "d-5",
        "message": "deployment d-5 had succeeded: started deployment d-6, which redeploys "
        f"web:2 (the release of deployment d-2) through CodeDeploy; {steps}",
        "started_deployment": "d-6",
        "revision": TD + "2",
        "phase": "queued",
        "promoted": False,
    }


def test_rollback_to_an_inactive_task_definition_is_refused() -> None:
    s = Stubs()
    redeploy_setup(s, status="INACTIVE")
    assert refusal(engine(s).rollback, s) == (
        (
            "cannot roll back: the task definition of the previous release (web:2, deployment "
            "d-2) is INACTIVE, so ECS cannot start tasks from it"
        ),
        "revert the commit and push: the pipeline builds and releases it again",
    )


def test_rollback_to_a_deleted_task_definition_is_refused() -> None:
    s = Stubs()
    current = succeeded("d-5", 50, 4)
    latest(s, current, ecs_target(8, status="Succeeded"))
    history(s, current, [current, succeeded("d-2", 20, 2)])
    s.error(
        "ecs", "describe_task_definition", "ClientException", "Unable to describe task definition."
    )
    message, _ = refusal(engine(s).rollback, s)
    assert "(web:2, deployment d-2) is missing, so ECS cannot start tasks from it" in message
    latest(s, current, ecs_target(8, status="Succeeded"))
    history(s, current, [current, succeeded("d-2", 20, 2)])
    s.error("ecs", "describe_task_definition", "AccessDeniedException", "no")
    with pytest.raises(AwsCallError):
        engine(s).rollback()
    s.done()


def test_rollback_when_another_deployment_started_meanwhile() -> None:
    # CREATE: DeploymentLimitExceededException, one deployment at a time per group
    s = Stubs()
    redeploy_setup(s)
    s.error("codedeploy", "create_deployment", "DeploymentLimitExceededException", "busy")
    assert refusal(engine(s).rollback, s) == (
        (
            "cannot roll back: another deployment of dg started meanwhile (a pipeline run?), "
            "and CodeDeploy runs one at a time"
        ),
        "see `bluegreen status`; `bluegreen rollback` stops that one",
    )
    redeploy_setup(s)
    s.error("codedeploy", "create_deployment", "InvalidRevisionException", "bad")
    with pytest.raises(AwsCallError):
        engine(s).rollback()
    s.done()


def test_rollback_of_the_first_release_is_refused() -> None:
    s = Stubs()
    current = succeeded("d-5", 50, 4)
    latest(s, current, ecs_target(8, status="Succeeded"))
    history(s, current, [current])
    assert refusal(engine(s).rollback, s) == (
        (
            "cannot roll back: deployment d-5 is the first release of deployment group dg; "
            "there is no earlier release to return to (before the first release the service "
            "ran the bootstrap placeholder)"
        ),
        (
            "revert the commit and push: the pipeline releases the reverted code (or start it "
            "with `bluegreen release`)"
        ),
    )
    copy = succeeded(
        "d-5", 50, 4, description="bluegreen rollback of d-4: redeploys the revision of d-1"
    )
    latest(s, copy, ecs_target(8, status="Succeeded"))
    history(s, copy, [copy])
    message, _ = refusal(engine(s).rollback, s)
    assert message.startswith(
        "cannot roll back: deployment d-5 redeploys the first release (deployment d-1); "
        "there is no earlier"
    )


def test_rollback_to_a_release_without_a_revision_is_refused() -> None:
    s = Stubs()
    current = succeeded("d-5", 50, 4)
    latest(s, current, ecs_target(8, status="Succeeded"))
    gone = info(
        "d-2",
        "Succeeded",
        20,
        revision={"revisionType": "AppSpecContent", "appSpecContent": {"sha256": "old"}},
    )
    history(s, current, [current, gone])
    s.error("codedeploy", "get_application_revision", "RevisionDoesNotExistException", "gone")
    assert refusal(engine(s).rollback, s) == (
        (
            "cannot roll back: CodeDeploy lists no revision for deployment d-2, the previous "
            "release, so there is nothing to redeploy"
        ),
        "revert the commit and push: the pipeline releases the reverted code",
    )


def test_a_revision_codedeploy_cannot_read_is_passed_on() -> None:
    s = Stubs()
    e = engine(s)
    s.error("codedeploy", "get_application_revision", "AccessDeniedException", "no")
    with pytest.raises(AwsCallError):
        e._revision(
            {"revision": {"revisionType": "AppSpecContent", "appSpecContent": {"sha256": "x"}}}
        )
    # read once per sha256
    s.add("codedeploy", "get_application_revision", {"revision": spec(2)})
    located = {"revision": {"revisionType": "AppSpecContent", "appSpecContent": {"sha256": "y"}}}
    assert e._revision(located) == spec(2)
    assert e._revision(located) == spec(2)
    assert e._revision({}) == {}
    s.done()


def test_a_followed_rollback_is_promoted_when_ready_until_production_moves() -> None:
    s = Stubs()
    redeploy_setup(s)
    created(s)
    ui = Ui()
    slept: list[float] = []
    for status, target in (
        ("Created", None),
        ("Created", None),
        ("Ready", ecs_target(5, status="Ready")),
        ("InProgress", ecs_target(6, running="AllowTraffic")),
        # the termination wait: d-6's replacement (web:2) is PRIMARY at 100 % (task_sets)
        ("InProgress", ecs_target(8, status="Succeeded")),
    ):
        got(s, info("d-6", status, 60))
        target_of(s, "d-6", target)
        if status == "Ready":
            group_config(s, "STOP_DEPLOYMENT")
            s.add(
                "codedeploy",
                "continue_deployment",
                {},
                {"deploymentId": "d-6", "deploymentWaitType": "READY_WAIT"},
            )
    result = engine(s).rollback(follow=True, ui=ui, sleep=slept.append, interval=3.0)
    s.done()
    assert slept == [3.0] * 4
    assert ui.lines == [
        "deployment d-5 had succeeded: started deployment d-6, which redeploys web:2 (the "
        "release of deployment d-2) through CodeDeploy",
        "rollback deployment d-6: Created (queued)",
        "rollback deployment d-6: Ready (waiting-for-reroute)",
        "rollback deployment d-6 waits for reroute: promoting it, as you asked to roll back "
        "(production :80 moves to web:2)",
        "rollback deployment d-6: InProgress (shifting, AllowTraffic in progress)",
        "rollback deployment d-6: InProgress (termination-wait)",
    ]
    assert result.to_dict() == {
        "action": "rollback",
        "deployment_id": "d-5",
        "message": "production (:80) serves web:2 again (deployment d-6); the replaced tasks "
        "are kept for the termination wait: `bluegreen finish` removes them now",
        "started_deployment": "d-6",
        "revision": TD + "2",
        "phase": "termination-wait",
        "promoted": True,
    }


@pytest.mark.parametrize(
    ("status", "error", "said"),
    [
        ("Failed", {"code": "TIMEOUT", "message": "late"}, "failed (TIMEOUT: late)"),
        ("Stopped", None, "stopped"),
    ],
)
def test_a_followed_rollback_that_ends_badly(
    status: str, error: dict[str, str] | None, said: str
) -> None:
    s = Stubs()
    redeploy_setup(s)
    created(s)
    got(s, info("d-6", status, 60, **({"errorInformation": error} if error else {})))
    target_of(s, "d-6", ecs_target(3))
    assert refusal(lambda: engine(s).rollback(follow=True, sleep=lambda _: None), s) == (
        f"the rollback deployment d-6 {said}; production stays where deployment d-5 put it",
        (
            "see "
            "https://ap-northeast-1.console.aws.amazon.com/codesuite/codedeploy/deployments/d-6?region=ap-northeast-1"
        ),
    )


# ---- how a deployment ended, and the alarms behind it --------------------------------------


@pytest.mark.parametrize(
    ("more", "outcome", "rollback"),
    [
        ({"status": "Succeeded"}, "succeeded", False),
        (
            {"status": "Failed", "rollbackInfo": {"rollbackDeploymentId": "d-9"}},
            "rolled back",
            False,
        ),
        (
            {"status": "Stopped", "rollbackInfo": {"rollbackDeploymentId": "d-9"}},
            "rolled back",
            False,
        ),
        ({"status": "Stopped", "rollbackInfo": {}}, "stopped", False),
        ({"status": "Failed"}, "failed", False),
        ({"status": "InProgress", "creator": "codeDeployRollback"}, "", True),
        (
            {
                "status": "Succeeded",
                "description": "bluegreen rollback of d-1: redeploys the revision of d-0",
            },
            "succeeded",
            True,
        ),
        ({"status": "Succeeded", "description": "a bluegreen rollback of d-1"}, "succeeded", False),
        ({"status": "Succeeded", "description": "bluegreen release of abc123"}, "succeeded", False),
    ],
)
def test_ending(more: dict[str, Any], outcome: str, rollback: bool) -> None:
    # INFO: rollbackInfo.rollbackDeploymentId, creator codeDeployRollback
    s = Stubs()
    found = (
        info("d-2", errorInformation={"code": "ALARM_ACTIVE", "message": "Activated alarms: <a>"})
        | more
    )
    got(s, found)
    ending = engine(s).ending("d-2")
    s.done()
    assert (ending.status, ending.outcome, ending.rollback) == (more["status"], outcome, rollback)
    assert ending.reason == "Activated alarms: <a>" and ending.alarms == ("a",)


def test_alarms_of_a_stopped_deployment_name_its_green_target_group() -> None:
    s = Stubs()
    stopped = info(
        status="Stopped",
        errorInformation={"code": "ALARM_ACTIVE", "message": "Activated alarms: <p-5xx>"},
    )
    latest(s, stopped, ecs_target(6))
    view = engine(s).status()
    assert view is not None and view.alarms == ["p-5xx"] and view.new_target_group == "tg-green"
    assert view.to_dict()["new_target_group"] == "tg-green"
    s.done()


def test_alarms_of_a_rollback_deployment_are_those_of_the_deployment_it_rolls_back() -> None:
    s = Stubs()
    rolling = info("d-3", rollbackInfo={"rollbackTriggeringDeploymentId": "d-2"})
    triggering = info(
        "d-2",
        "Stopped",
        errorInformation={"code": "ALARM_ACTIVE", "message": "Activated alarms: <x>"},
    )
    latest(s, rolling, ecs_target(2))
    got(s, triggering)
    target_of(s, "d-2", ecs_target(6))
    view = engine(s).status()
    assert view is not None
    assert (view.alarms, view.rollback_of, view.new_target_group) == (["x"], "d-2", "tg-green")
    # the triggering deployment unreadable: no alarms; its target unreadable: no group
    latest(s, rolling, ecs_target(2))
    s.error("codedeploy", "get_deployment", "DeploymentDoesNotExistException", "gone")
    view = engine(s).status()
    assert view is not None and (view.alarms, view.rollback_of, view.new_target_group) == (
        [],
        "d-2",
        "",
    )
    latest(s, rolling, ecs_target(2))
    got(s, triggering)
    s.error("codedeploy", "list_deployment_targets", "AccessDeniedException", "no")
    view = engine(s).status()
    assert view is not None and (view.alarms, view.new_target_group) == (["x"], "")
    latest(s, rolling, ecs_target(2))
    got(s, info("d-2", "Stopped"))
    view = engine(s).status()
    assert view is not None and (view.alarms, view.new_target_group) == ([], "")
    s.done()


def test_the_engines_words() -> None:
    s = Stubs()
    e = engine(s)
    assert e.scope() == "dg"
    assert (e.name, e.noun, e.creation_deploys, e.absent) == ("codedeploy", "Deployment", False, "")
    assert e.continue_creation() is None
    assert e.console_link("d-1") == (
        ""
        "https://ap-northeast-1.console.aws.amazon.com/codesuite/codedeploy/deployments/d-1?region=ap-northeast-1"
    )
    assert [c for c, _ in CodeDeployEngine.commands] == ["promote"]


def test_a_task_definition_described_without_a_status_is_taken_as_active() -> None:
    # DescribeTaskDefinition's status is optional in the model; ACTIVE is the default state
    s = Stubs()
    redeploy_setup(s, status=None)
    created(s)
    group_config(s, "STOP_DEPLOYMENT")
    assert engine(s).rollback().started == "d-6"
    s.done()


def test_forwards_names_each_listener_by_its_role() -> None:
    s = Stubs()
    forward = [{"Type": "forward", "TargetGroupArn": TG + "green/1"}]
    s.add(
        "elbv2",
        "describe_listeners",
        {"Listeners": [{"ListenerArn": LISTENER + "t", "DefaultActions": forward}]},
        {"ListenerArns": [LISTENER + "p", LISTENER + "t"]},
    )
    assert engine(s).forwards() == {"test": [(TG + "green/1", 100)]}
    s.done()


def test_a_followed_rollback_of_a_revision_naming_no_task_definition() -> None:
    # APPSPEC: an AppSpec whose TargetService names no TaskDefinition; CodeDeploy moves
    # production by itself here (CONTINUE_DEPLOYMENT), so nothing is promoted
    s = Stubs()
    current = succeeded("d-5", 50, 4)
    latest(s, current, ecs_target(8, status="Succeeded"))
    bare = {
        "revisionType": "AppSpecContent",
        "appSpecContent": {"content": "Resources: [{TargetService: {Properties: {}}}]"},
    }
    previous = info("d-2", "Succeeded", 20, revision=bare)
    history(s, current, [current, previous])
    s.add(
        "codedeploy",
        "create_deployment",
        {"deploymentId": "d-6"},
        dict(
            GROUP, revision=bare, description=cd.ROLLBACK_NOTE.format(current="d-5", source="d-2")
        ),
    )
    got(s, info("d-6", "Succeeded", 60))
    target_of(s, "d-6", ecs_target(8, status="Succeeded"))
    ui = Ui()
    result = engine(s).rollback(follow=True, ui=ui, sleep=lambda _: None)
    s.done()
    assert ui.lines[0] == (
        "deployment d-5 had succeeded: started deployment d-6, which redeploys its revision "
        "(the release of deployment d-2) through CodeDeploy"
    )
    assert result.message.startswith("production (:80) serves the previous release again")
    assert (result.revision, result.phase, result.promoted) == ("", "succeeded", False)
    assert result.to_dict()["promoted"] is False


def test_ending_without_status_or_message_makes_none_up() -> None:
    # INFO: status and errorInformation.message are optional members
    s = Stubs()
    got(s, {"deploymentId": "d-2", "errorInformation": {"code": "TIMEOUT"}})
    ending = engine(s).ending("d-2")
    s.done()
    assert (ending.status, ending.outcome, ending.reason) == ("", "", "")


def test_previous_release_when_the_current_revision_cannot_be_read() -> None:
    # A deployment whose revision CodeDeploy no longer lists (no revision member): the
    # same-revision check cannot help, so the release it stands for decides alone
    s = Stubs()
    e = engine(s)
    two = succeeded("d-2", 20, 2)
    one = succeeded("d-1", 10, 1)
    # a CodeDeploy rollback of the failed d-3 (not among the Succeeded) redeploys d-2's
    # release: the one before is d-1
    rolled = info("d-4", "Succeeded", 40, rollbackInfo={"rollbackTriggeringDeploymentId": "d-3"})
    history(s, rolled, [rolled, two, one])
    assert e.previous_release(rolled) == one
    # a bluegreen rollback copying d-1 stands for d-1: nothing before it, not d-1 itself
    copy = info(
        "d-3", "Succeeded", 30, description=cd.ROLLBACK_NOTE.format(current="d-2", source="d-1")
    )
    history(s, copy, [copy, two, one])
    assert e.previous_release(copy) is None
    s.done()


def test_a_followed_rollback_polls_every_ten_seconds_by_default() -> None:
    s = Stubs()
    redeploy_setup(s)
    created(s)
    for status, target in (("Created", None), ("Succeeded", ecs_target(8, status="Succeeded"))):
        got(s, info("d-6", status, 60))
        target_of(s, "d-6", target)
    slept: list[float] = []
    engine(s).rollback(follow=True, sleep=slept.append)
    s.done()
    assert slept == [10.0]


def test_rollback_of_a_group_without_deployments() -> None:
    s = Stubs()
    never_deployed(s)
    message, _ = refusal(engine(s).rollback, s)
    assert message == "cannot roll back: the deployment group dg has no deployments yet"


def test_revisions_without_a_sha256_are_not_confused() -> None:
    # RevisionLocation: only AppSpecContent revisions carry a sha256; the others (S3,
    # GitHub) are returned as they are, each its own
    s = Stubs()
    e = engine(s)
    first = {"revisionType": "S3", "s3Location": {"bucket": "b", "key": "one.zip"}}
    second = {"revisionType": "S3", "s3Location": {"bucket": "b", "key": "two.zip"}}
    assert e._revision({"revision": first}) == first
    assert e._revision({"revision": second}) == second
    s.done()


def test_a_deployment_described_without_optional_members_reads_empty() -> None:
    # INFO / TARGET: status, lifecycleEventName and the event status are optional members
    s = Stubs()
    got(s, {"deploymentId": "d-1"})
    target_of(s, "d-1", {"status": "InProgress", "lifecycleEvents": [{}]})
    view = engine(s).deployment("d-1")
    s.done()
    assert (view.id, view.status, view.lifecycle) == ("d-1", "", [LifecycleStep("", "", None)])


@pytest.mark.parametrize(
    ("deployment", "target", "phase"),
    [
        # READY: the deployment status Ready decides, whatever the target says (or before
        # ListDeploymentTargets lists one)
        ({"status": "Ready"}, None, Phase.WAITING),
        ({"status": "Ready"}, ecs_target(2, running="AllowTestTraffic"), Phase.WAITING),
        # READY: TargetStatus Ready decides too, before any event is listed
        ({"status": "InProgress"}, {"status": "Ready", "lifecycleEvents": []}, Phase.WAITING),
        # INFO: instanceTerminationWaitTimeStarted, "the wait period set for the
        # termination of instances in the original environment has started"
        (
            {"status": "InProgress", "instanceTerminationWaitTimeStarted": True},
            ecs_target(8),
            Phase.TERMINATION_WAIT,
        ),
        (
            {"status": "InProgress", "instanceTerminationWaitTimeStarted": False},
            ecs_target(8),
            Phase.SHIFTING,
        ),
        # TARGET: lifecycleEvents is optional
        ({"status": "InProgress"}, {"status": "Pending"}, Phase.INSTALLING),
    ],
)
def test_phase_where_status_target_and_events_disagree(
    deployment: dict[str, Any], target: dict[str, Any] | None, phase: Phase
) -> None:
    assert cd.phase_of(deployment, target) == phase
    assert cd._events({"status": "Pending"}) == []
