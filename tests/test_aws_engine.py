"""The CodeDeploy engine (phases, promote, finish, rollback while in progress and their
refusals, service_refs), release, logs, and the error translation, against stubbed
clients. Rollback after a succeeded deployment is in test_aws_rollback.py.

Every stubbed AWS behaviour names its source in a comment; the short names used below:

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
- STOP: CodeDeploy user guide, "Stop a deployment with CodeDeploy" and "Deployments on an
  Amazon ECS compute platform" (Stopped and failed deployments: StopDeployment answers
  Succeeded or Pending); StopDeploymentOutput in the botocore model.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import ANY
from codedeploy_stubs import auto_group, manual_group
from test_aws_support import (
    ACTIVE,
    APP,
    BLUE_TG,
    DG,
    GREEN_TG,
    PIPELINE,
    PIPELINE_OUTPUTS,
    PREFIX,
    SERVICE_OUTPUTS,
    Stubs,
    deployment,
    missing_stack,
    refs,
    service,
    stack,
    task_set,
)

from bluegreen import config as config_mod
from bluegreen import engine
from bluegreen.aws import codedeploy as codedeploy_mod
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


def select(s: Stubs, task_sets: list[dict[str, object]] | None = None) -> engine.DeploymentEngine:
    refs(s)
    service(s, BOTH if task_sets is None else task_sets)
    return engine.select(s.clients, CFG)


def expect_continue(s: Stubs, deployment_id: str, wait_type: str) -> None:
    """The engine continues ``deployment_id`` past its ``wait_type`` wait (READY: accepted
    when the deployment is Ready; ContinueDeploymentOutput is empty, botocore model)."""
    s.add(
        "codedeploy",
        "continue_deployment",
        {},
        {"deploymentId": deployment_id, "deploymentWaitType": wait_type},
    )


def expect_stop(s: Stubs, deployment_id: str, answer: dict[str, object]) -> None:
    """The engine stops ``deployment_id`` with CodeDeploy's automatic rollback (STOP)."""
    s.add(
        "codedeploy",
        "stop_deployment",
        answer,
        {"deploymentId": deployment_id, "autoRollbackEnabled": True},
    )


def no_deployments(s: Stubs) -> None:
    """latest_deployment on a group that never deployed: every ListDeployments is empty
    (none active, none in the recent window, none at all)."""
    s.add(
        "codedeploy",
        "list_deployments",
        {"deployments": []},
        {"applicationName": APP, "deploymentGroupName": DG, "includeOnlyStatuses": ACTIVE},
    )
    s.add(
        "codedeploy",
        "list_deployments",
        {"deployments": []},
        {"applicationName": APP, "deploymentGroupName": DG, "createTimeRange": ANY},
    )
    s.add(
        "codedeploy",
        "list_deployments",
        {"deployments": []},
        {"applicationName": APP, "deploymentGroupName": DG},
    )


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


# ---- promote / finish / rollback in progress ------------------------------------------------


def test_promote_continues_a_deployment_waiting_for_reroute() -> None:
    s = Stubs()
    e = select(s)
    deployment(s, "d-WAIT00001", "Ready", 5, target_status="Ready")  # READY
    expect_continue(s, "d-WAIT00001", "READY_WAIT")
    result = e.promote()
    s.done()
    assert result.deployment_id == "d-WAIT00001"
    assert "rerouting production (:80)" in result.message


def test_promote_refuses_while_installing() -> None:
    s = Stubs()
    e = select(s)
    deployment(s, "d-INST00001", "InProgress", 1, running="Install")  # ECS_STEPS
    with pytest.raises(StateError) as info:
        e.promote()
    s.done()
    assert str(info.value).startswith(
        "cannot promote: deployment d-INST00001 is InProgress (installing, Install in progress), "
        "not waiting for reroute"
    )


def test_promote_waits_for_the_ready_status_not_the_lifecycle_heuristic() -> None:
    # The test-traffic hooks are done but CodeDeploy still reports InProgress: READY says
    # ContinueDeployment would be refused, so promote does not call it (m10). The group
    # waits for a manual reroute (STOP_DEPLOYMENT, GetDeploymentGroup in the model).
    s = Stubs()
    e = select(s)
    deployment(s, "d-WAIT00001", "InProgress", 5)
    s.add(
        "codedeploy",
        "get_deployment_group",
        {"deploymentGroupInfo": manual_group()},
        {"applicationName": APP, "deploymentGroupName": DG},
    )
    with pytest.raises(StateError) as info:
        e.promote()
    s.done()
    assert "CodeDeploy does not report it Ready for reroute yet" in info.value.message
    assert info.value.hint == "run `bluegreen promote` again in a few seconds"


def test_promote_refuses_when_the_group_reroutes_by_itself() -> None:
    # CONTINUE_DEPLOYMENT: CodeDeploy reroutes at once (DeploymentReadyOption, model).
    s = Stubs()
    e = select(s)
    deployment(s, "d-AUTO00001", "InProgress", 5)
    s.add(
        "codedeploy",
        "get_deployment_group",
        {"deploymentGroupInfo": auto_group()},
        {"applicationName": APP, "deploymentGroupName": DG},
    )
    with pytest.raises(StateError, match="reroutes production by itself"):
        e.promote()
    s.done()


def test_promote_says_try_again_when_codedeploy_answers_not_ready() -> None:
    # READY: the status can flip between our read and the call.
    s = Stubs()
    e = select(s)
    deployment(s, "d-WAIT00001", "Ready", 5, target_status="Ready")
    s.error(
        "codedeploy",
        "continue_deployment",
        "DeploymentIsNotInReadyStateException",
        "The deployment does not have a status of Ready and can't continue yet",
        {"deploymentId": "d-WAIT00001", "deploymentWaitType": "READY_WAIT"},
    )
    with pytest.raises(StateError) as info:
        e.promote()
    s.done()
    assert (
        info.value.message
        == "cannot promote yet: CodeDeploy says deployment d-WAIT00001 is not Ready"
    )


def test_promote_refuses_without_any_deployment() -> None:
    s = Stubs()
    e = select(s)
    no_deployments(s)
    with pytest.raises(StateError, match="has no deployments yet") as info:
        e.promote()
    s.done()
    assert info.value.hint == "start one with `bluegreen release`"


@pytest.mark.parametrize(
    "code", ["ApplicationDoesNotExistException", "DeploymentGroupDoesNotExistException"]
)
def test_without_the_pipeline_stack_there_is_no_deployment_group(code: str) -> None:
    # ListDeployments' errors in the model when the application or the group does not
    # exist: the pipeline stack (which holds both) is missing.
    s = Stubs()
    stack(s, f"{PREFIX}-service", "UPDATE_COMPLETE", SERVICE_OUTPUTS)
    missing_stack(s, f"{PREFIX}-pipeline")
    service(s, BOTH)
    e = engine.select(s.clients, CFG)
    for _ in range(2):
        s.error(
            "codedeploy",
            "list_deployments",
            code,
            "No application found for name: sample3-dev-app",
            {"applicationName": APP, "deploymentGroupName": DG, "includeOnlyStatuses": ACTIVE},
        )
    assert e.status() is None
    assert e.absent == (
        "no deployment group yet: sample3-dev-app/sample3-dev-deployment-group (the pipeline "
        "stack sample3-dev-pipeline is not deployed in ap-northeast-1)"
    )
    with pytest.raises(StateError) as info:
        e.rollback()
    s.done()
    assert info.value.message.startswith("cannot roll back: no deployment group yet")
    assert info.value.hint is not None and "`bluegreen deploy`" in info.value.hint
    assert "release" not in info.value.hint


def test_promote_finds_the_active_deployment_whatever_the_history_order() -> None:
    # ListDeployments promises no order: in a long history the waiting deployment need
    # not be among the first 25 ids of the first page. It is found by status instead.
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
    # ROADMAP_269: target Succeeded while the deployment is InProgress = termination wait.
    deployment(s, "d-TERM00001", "InProgress", 8, target_status="Succeeded", weights=(0, 100))
    expect_continue(s, "d-TERM00001", "TERMINATION_WAIT")
    assert "terminating the original (blue) task set" in e.finish().message
    s.done()


def test_finish_refuses_while_waiting_for_reroute() -> None:
    s = Stubs()
    e = select(s)
    deployment(s, "d-WAIT00001", "Ready", 5)  # READY
    with pytest.raises(StateError, match="not in the termination wait") as info:
        e.finish()
    s.done()  # nothing was continued
    assert "bluegreen promote" in str(info.value)


def test_rollback_in_progress_stops_with_auto_rollback() -> None:
    s = Stubs()
    e = select(s)
    deployment(s, "d-SHIFT0001", "InProgress", 6, running="AllowTraffic", weights=(50, 50))
    expect_stop(s, "d-SHIFT0001", {"status": "Pending", "statusMessage": "Stopping"})  # STOP
    result = e.rollback()
    s.done()
    assert result.message.startswith(
        "stopped deployment d-SHIFT0001 (shifting) with rollback: production returns to the "
        "original task set"
    )


def test_rollback_during_termination_wait_uses_codedeploy() -> None:
    # ROADMAP_269: the deployment is still in progress during the termination wait, so
    # StopDeployment(autoRollbackEnabled) applies (STOP: "Stop and roll back deployment").
    s = Stubs()
    e = select(s)
    deployment(s, "d-TERM00001", "InProgress", 8, target_status="Succeeded", weights=(0, 100))
    expect_stop(s, "d-TERM00001", {"status": "Pending"})
    assert "production returns to the original task set" in e.rollback().message
    s.done()


def test_rollback_refuses_an_already_stopped_deployment() -> None:
    s = Stubs()
    e = select(s)
    # STATUS_ENUM: Stopped is final; errorInformation is DeploymentInfo's (model).
    deployment(s, "d-STOP00001", "Stopped", 3, error=("DEPLOYMENT_STOPPED", "stopped by user"))
    with pytest.raises(StateError, match="already Stopped"):
        e.rollback()
    s.done()  # nothing was stopped or created


# ---- select and the stacks it reads ------------------------------------------------------


def test_select_refuses_a_rolling_service() -> None:
    s = Stubs()
    refs(s)
    service(s, [], controller="ECS")
    with pytest.raises(StateError, match="not blue/green"):
        engine.select(s.clients, CFG)


def test_select_before_deploy_names_the_region() -> None:
    # DescribeStacks on a missing stack: ValidationError "Stack with id X does not exist"
    # (CloudFormation API reference, DescribeStacks).
    s = Stubs()
    missing_stack(s, f"{PREFIX}-service")
    with pytest.raises(StateError) as info:
        engine.select(s.clients, CFG)
    s.done()
    assert (
        info.value.message
        == "the service stack sample3-dev-service does not exist in ap-northeast-1"
    )
    assert info.value.hint == (
        "check --region and project.region (ap-northeast-1 is the one used); if it is right, "
        "create the stacks with `bluegreen deploy`"
    )


@pytest.mark.parametrize(
    ("status", "message", "hint"),
    [
        (
            "CREATE_IN_PROGRESS",
            "is being created (CREATE_IN_PROGRESS) and has no outputs yet",
            "wait until `bluegreen deploy` has finished it",
        ),
        (
            "REVIEW_IN_PROGRESS",
            "has not been created yet (REVIEW_IN_PROGRESS: its change set was never executed)",
            "run `bluegreen deploy` to create it",
        ),
        (
            "ROLLBACK_COMPLETE",
            "failed to create (ROLLBACK_COMPLETE: The following resource(s) failed to create: "
            "[Service].)",
            "(it deletes the failed stack and creates it again)",
        ),
        (
            "ROLLBACK_IN_PROGRESS",
            "failed to create (ROLLBACK_IN_PROGRESS: The following resource(s) failed to "
            "create: [Service].)",
            "wait for the rollback to end",
        ),
        (
            "DELETE_IN_PROGRESS",
            "is being deleted or failed to delete (DELETE_IN_PROGRESS)",
            "let `bluegreen destroy` finish",
        ),
    ],
)
def test_a_service_stack_without_outputs_says_why(status: str, message: str, hint: str) -> None:
    # CloudFormation user guide, "Stack status codes": a stack being created, waiting for
    # its change set (REVIEW_IN_PROGRESS) or rolled back after a failed create is listed by
    # DescribeStacks without outputs.
    s = Stubs()
    reason = (
        "The following resource(s) failed to create: [Service]."
        if status.startswith("ROLLBACK")
        else ""
    )
    stack(s, f"{PREFIX}-service", status, {}, reason=reason)
    with pytest.raises(StateError) as info:
        engine.service_refs(s.clients, CFG)
    s.done()
    assert (
        info.value.message == f"the service stack sample3-dev-service in ap-northeast-1 {message}"
    )
    assert info.value.hint is not None and hint in info.value.hint


def test_service_refs_reads_both_stacks() -> None:
    s = Stubs()
    stack(s, f"{PREFIX}-service", "UPDATE_COMPLETE", SERVICE_OUTPUTS)
    stack(s, f"{PREFIX}-pipeline", "UPDATE_COMPLETE", PIPELINE_OUTPUTS)
    found = engine.service_refs(s.clients, CFG)
    s.done()
    assert (found.application, found.deployment_group, found.pipeline_deployed) == (APP, DG, True)
    assert found.target_groups == (BLUE_TG, GREEN_TG) and found.region == "ap-northeast-1"


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
