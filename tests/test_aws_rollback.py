"""``rollback`` after a deployment succeeded: a new CodeDeploy deployment of the previous
release, never listeners or task sets moved by hand.

Stubbed behaviour and its source:

- A manual rollback is "creating a new deployment that uses any previously deployed
  application revision"; rolled-back deployments are "new deployments, with new
  deployment IDs" (CodeDeploy user guide, "Redeploy and roll back a deployment with
  CodeDeploy"). CreateDeployment takes applicationName, deploymentGroupName, revision
  (a RevisionLocation) and description, and answers with deploymentId (API reference,
  CreateDeployment; botocore model).
- GetDeployment/BatchGetDeployments return each deployment's ``revision``, the AppSpec
  naming the task definition, container and port (API reference, DeploymentInfo and
  AppSpecContent; user guide, "AppSpec 'resources' section for Amazon ECS deployments"),
  and ``rollbackInfo.rollbackTriggeringDeploymentId`` on a CodeDeploy rollback
  deployment (API reference, RollbackInfo).
- ListDeployments filters by includeOnlyStatuses and createTimeRange (model).
- DescribeTaskDefinition reports ``status`` ACTIVE or INACTIVE; an INACTIVE revision
  cannot run new tasks (ECS developer guide, "Deregistering an Amazon ECS task
  definition revision").
- The new deployment goes through the ECS lifecycle (user guide, "Deployments on an
  Amazon ECS compute platform"), waits for reroute with status Ready when the group's
  actionOnTimeout is STOP_DEPLOYMENT, and accepts ContinueDeployment(READY_WAIT) only
  then (botocore model, DeploymentIsNotInReadyStateException); the termination wait is
  target Succeeded with the deployment InProgress (aws/containers-roadmap#269).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from codedeploy_stubs import (
    appspec,
    auto_group,
    ecs_target,
    get,
    group,
    info,
    latest_finished,
    manual_group,
    succeeded_history,
)
from test_aws_support import APP, BLUE_TG, DG, GREEN_TG, T0, TD, Stubs, refs, service, task_set

from bluegreen import config as config_mod
from bluegreen import engine
from bluegreen.errors import StateError

CFG = config_mod.Config()
DONE = T0  # the succeeded deployment rollback starts from
PREV = T0 - timedelta(days=1)
OLDEST = T0 - timedelta(days=2)
SWAPPED = [
    task_set("ecs-svc/2222", "PRIMARY", 4, GREEN_TG),
    task_set("ecs-svc/1111", "ACTIVE", 3, BLUE_TG),
]


class Lines:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def step(self, message: str) -> None:
        self.lines.append(message)


def select(s: Stubs) -> engine.DeploymentEngine:
    refs(s)
    service(s, SWAPPED)
    return engine.select(s.clients, CFG)


def task_definition(s: Stubs, revision: int, status: str = "ACTIVE") -> None:
    s.add(
        "ecs",
        "describe_task_definition",
        {
            "taskDefinition": {
                "taskDefinitionArn": f"{TD}:{revision}",
                "family": "sample3-dev-task",
                "revision": revision,
                "status": status,
            }
        },
        {"taskDefinition": f"{TD}:{revision}"},
    )


def create(s: Stubs, revision: int, description: str, new_id: str = "d-ROLL00001") -> None:
    s.add(
        "codedeploy",
        "create_deployment",
        {"deploymentId": new_id},
        {
            "applicationName": APP,
            "deploymentGroupName": DG,
            "revision": appspec(revision),
            "description": description,
        },
    )


def continue_ready(s: Stubs, dep_id: str, error: str = "") -> None:
    params = {"deploymentId": dep_id, "deploymentWaitType": "READY_WAIT"}
    if error:
        s.error("codedeploy", "continue_deployment", error, "not Ready", params)
    else:
        s.add("codedeploy", "continue_deployment", {}, params)


def progress(
    s: Stubs, status: str, done: int, target: str = "InProgress", running: str = ""
) -> None:
    """One look at the rollback deployment d-ROLL00001 (GetDeployment + its target)."""
    get(s, info("d-ROLL00001", status, T0 + timedelta(minutes=1), 3))
    ecs_target(s, "d-ROLL00001", done, target, running)


def start(s: Stubs) -> None:
    """d-DONE00002 (rev 4) succeeded after d-PREV00001 (rev 3): the rollback target."""
    current = info("d-DONE00002", "Succeeded", DONE, 4)
    previous = info("d-PREV00001", "Succeeded", PREV, 3)
    latest_finished(s, current, previous)
    succeeded_history(s, DONE, [previous, current])
    task_definition(s, 3)
    create(s, 3, "bluegreen rollback of d-DONE00002: redeploys the revision of d-PREV00001")


def test_rollback_after_success_starts_a_codedeploy_deployment_of_the_previous_release() -> None:
    s = Stubs()
    e = select(s)
    start(s)
    group(s, manual_group())  # to say what happens next

    result = e.rollback()

    s.done()  # no listener modified, no primary task set changed
    assert (result.deployment_id, result.started) == ("d-DONE00002", "d-ROLL00001")
    assert result.revision == f"{TD}:3" and not result.promoted
    assert result.message == (
        "deployment d-DONE00002 had succeeded: started deployment d-ROLL00001, which redeploys "
        "sample3-dev-task:3 (the release of deployment d-PREV00001) through CodeDeploy; when it "
        "waits for reroute (green on :8080), `bluegreen promote` moves production (:80) to it; "
        "follow with `bluegreen status --watch`"
    )


def test_rollback_follows_and_promotes_the_rollback_deployment() -> None:
    s = Stubs()
    e = select(s)
    start(s)
    progress(s, "InProgress", 1, running="Install")
    progress(s, "InProgress", 5)  # the heuristic reads WAITING: not promoted yet
    progress(s, "Ready", 5, target="Ready")
    group(s, manual_group())
    continue_ready(s, "d-ROLL00001")
    progress(s, "InProgress", 6, running="AllowTraffic")
    progress(s, "InProgress", 8, target="Succeeded")
    ui = Lines()
    naps: list[float] = []

    result = e.rollback(follow=True, ui=ui, sleep=naps.append, interval=5.0)

    s.done()
    assert result.promoted and result.phase == "termination-wait"
    assert naps == [5.0] * 4
    assert result.message == (
        "production (:80) serves sample3-dev-task:3 again (deployment d-ROLL00001); the replaced "
        "tasks are kept for the termination wait: `bluegreen finish` removes them now"
    )
    assert ui.lines == [
        "deployment d-DONE00002 had succeeded: started deployment d-ROLL00001, which redeploys "
        "sample3-dev-task:3 (the release of deployment d-PREV00001) through CodeDeploy",
        "rollback deployment d-ROLL00001: InProgress (installing, Install in progress)",
        "rollback deployment d-ROLL00001: InProgress (waiting-for-reroute)",
        "rollback deployment d-ROLL00001: Ready (waiting-for-reroute)",
        "rollback deployment d-ROLL00001 waits for reroute: promoting it, as you asked to roll "
        "back (production :80 moves to sample3-dev-task:3)",
        "rollback deployment d-ROLL00001: InProgress (shifting, AllowTraffic in progress)",
        "rollback deployment d-ROLL00001: InProgress (termination-wait)",
    ]


def test_following_a_rollback_keeps_going_when_codedeploy_says_not_ready() -> None:
    s = Stubs()
    e = select(s)
    start(s)
    progress(s, "Ready", 5, target="Ready")
    group(s, manual_group())
    continue_ready(s, "d-ROLL00001", "DeploymentIsNotInReadyStateException")
    progress(s, "Ready", 5, target="Ready")
    continue_ready(s, "d-ROLL00001")
    progress(s, "Succeeded", 8, target="Succeeded")

    result = e.rollback(follow=True, ui=Lines(), sleep=lambda _: None)

    s.done()
    assert result.promoted and result.phase == "succeeded"


def test_following_a_rollback_never_promotes_a_group_that_reroutes_by_itself() -> None:
    s = Stubs()
    e = select(s)
    start(s)
    progress(s, "Ready", 5, target="Ready")
    group(s, auto_group())
    progress(s, "InProgress", 8, target="Succeeded")

    result = e.rollback(follow=True, ui=Lines(), sleep=lambda _: None)

    s.done()  # no ContinueDeployment
    assert not result.promoted and result.phase == "termination-wait"


def test_a_failed_rollback_deployment_is_an_error() -> None:
    s = Stubs()
    e = select(s)
    start(s)
    get(
        s,
        info(
            "d-ROLL00001",
            "Failed",
            T0,
            3,
            error=("HEALTH_CONSTRAINTS", "The ECS tasks failed the health checks"),
        ),
    )
    ecs_target(s, "d-ROLL00001", 1, "Failed")

    with pytest.raises(StateError) as info_:
        e.rollback(follow=True, ui=Lines(), sleep=lambda _: None)

    s.done()
    assert info_.value.message == (
        "the rollback deployment d-ROLL00001 failed (HEALTH_CONSTRAINTS: The ECS tasks failed the "
        "health checks); production stays where deployment d-DONE00002 put it"
    )


def test_a_previous_release_without_a_revision_is_refused() -> None:
    # DeploymentInfo.revision is optional in the model; without it CreateDeployment would
    # fail with RevisionRequiredException, so nothing is created.
    s = Stubs()
    e = select(s)
    current = info("d-DONE00002", "Succeeded", DONE, 4)
    previous = info("d-PREV00001", "Succeeded", PREV, 3)
    del previous["revision"]
    latest_finished(s, current, previous)
    succeeded_history(s, DONE, [previous, current])
    with pytest.raises(StateError, match="lists no revision for deployment d-PREV00001"):
        e.rollback()
    s.done()


def test_a_deployment_started_meanwhile_is_named() -> None:
    # CodeDeploy quotas: one concurrent deployment per deployment group; CreateDeployment
    # lists DeploymentLimitExceededException among its errors (model).
    s = Stubs()
    e = select(s)
    current = info("d-DONE00002", "Succeeded", DONE, 4)
    previous = info("d-PREV00001", "Succeeded", PREV, 3)
    latest_finished(s, current, previous)
    succeeded_history(s, DONE, [previous, current])
    task_definition(s, 3)
    s.error(
        "codedeploy",
        "create_deployment",
        "DeploymentLimitExceededException",
        "The number of allowed deployments was exceeded.",
    )
    with pytest.raises(StateError, match="another deployment of sample3-dev-deployment-group"):
        e.rollback()
    s.done()


def test_rollback_refuses_the_first_release() -> None:
    # Formerly test_rollback_refuses_when_old_tasks_are_gone: after a success there is no
    # "old tasks" path any more; with no earlier release there is nothing to redeploy.
    s = Stubs()
    e = select(s)
    current = info("d-DONE00001", "Succeeded", DONE, 2)
    latest_finished(s, current)
    succeeded_history(s, DONE, [current])

    with pytest.raises(StateError) as info_:
        e.rollback()

    s.done()  # nothing was created
    assert info_.value.message == (
        "cannot roll back: deployment d-DONE00001 is the first release of deployment group "
        "sample3-dev-deployment-group; there is no earlier release to return to (before the "
        "first release the service ran the bootstrap placeholder)"
    )
    assert info_.value.hint is not None and info_.value.hint.startswith("revert the commit")


def test_rolling_back_a_rollback_goes_one_release_further_back() -> None:
    # rev 2 (d-OLD), rev 3 (d-PREV), then rollback d-BACK redeployed rev 2's revision.
    # Rolling d-BACK back must return to the release before rev 2, not forward to rev 3.
    s = Stubs()
    e = select(s)
    oldest = info("d-ZERO00001", "Succeeded", OLDEST - timedelta(days=1), 1)
    old = info("d-OLD000001", "Succeeded", OLDEST, 2)
    previous = info("d-PREV00001", "Succeeded", PREV, 3)
    back = info(
        "d-BACK00001",
        "Succeeded",
        DONE,
        2,
        description="bluegreen rollback of d-PREV00001: redeploys the revision of d-OLD000001",
    )
    latest_finished(s, back, old, previous, oldest)
    succeeded_history(s, DONE, [previous, back, oldest, old])
    task_definition(s, 1)
    create(s, 1, "bluegreen rollback of d-BACK00001: redeploys the revision of d-ZERO00001")
    group(s, manual_group())

    result = e.rollback()

    s.done()
    assert result.revision == f"{TD}:1"


def test_rolling_back_a_rollback_of_the_first_release_is_refused() -> None:
    s = Stubs()
    e = select(s)
    first = info("d-FRST00001", "Succeeded", PREV, 2)
    back = info(
        "d-BACK00001",
        "Succeeded",
        DONE,
        2,
        description="bluegreen rollback of d-SCND00001: redeploys the revision of d-FRST00001",
    )
    latest_finished(s, back, first)
    succeeded_history(s, DONE, [first, back])

    with pytest.raises(
        StateError, match="redeploys the first release \\(deployment d-FRST00001\\)"
    ):
        e.rollback()
    s.done()


def test_a_codedeploy_rollback_deployment_stands_for_the_release_before_its_trigger() -> None:
    # d-FAIL (rev 4) failed and CodeDeploy's rollback deployment d-AUTO redeployed rev 3
    # (RollbackInfo). Rolling d-AUTO back returns to rev 2, the release before rev 3.
    s = Stubs()
    e = select(s)
    old = info("d-OLD000001", "Succeeded", OLDEST, 2)
    previous = info("d-PREV00001", "Succeeded", PREV, 3)
    auto = info("d-AUTO00001", "Succeeded", DONE, 3, triggered_by="d-FAIL00001")
    latest_finished(s, auto, previous, old)
    succeeded_history(s, DONE, [auto, previous, old])
    task_definition(s, 2)
    create(s, 2, "bluegreen rollback of d-AUTO00001: redeploys the revision of d-OLD000001")
    group(s, manual_group())

    assert e.rollback().revision == f"{TD}:2"
    s.done()


def test_a_previous_release_on_the_same_task_definition_is_skipped() -> None:
    # A redeploy of the same revision (same task definition ARN) is not a release to
    # return to; the one before it is.
    s = Stubs()
    e = select(s)
    old = info("d-OLD000001", "Succeeded", OLDEST, 3)
    same = info("d-SAME00001", "Succeeded", PREV, 4)
    current = info("d-DONE00002", "Succeeded", DONE, 4)
    latest_finished(s, current, same, old)
    succeeded_history(s, DONE, [same, old, current])
    task_definition(s, 3)
    create(s, 3, "bluegreen rollback of d-DONE00002: redeploys the revision of d-OLD000001")
    group(s, auto_group())

    result = e.rollback()

    s.done()
    assert result.message.endswith(
        "through CodeDeploy; CodeDeploy moves production once its tasks are healthy; follow "
        "with `bluegreen status --watch`"
    )


@pytest.mark.parametrize("status", ["INACTIVE", "DELETE_IN_PROGRESS"])
def test_rollback_refuses_a_deregistered_task_definition(status: str) -> None:
    s = Stubs()
    e = select(s)
    current = info("d-DONE00002", "Succeeded", DONE, 4)
    previous = info("d-PREV00001", "Succeeded", PREV, 3)
    latest_finished(s, current, previous)
    succeeded_history(s, DONE, [previous, current])
    task_definition(s, 3, status)

    with pytest.raises(StateError) as info_:
        e.rollback()

    s.done()  # no CreateDeployment
    assert info_.value.message == (
        "cannot roll back: the task definition of the previous release (sample3-dev-task:3, "
        f"deployment d-PREV00001) is {status}, so ECS cannot start tasks from it"
    )


def test_the_appspec_names_the_task_definition_in_yaml_or_json() -> None:
    from bluegreen.engine.codedeploy import task_definition_of

    assert task_definition_of(appspec(7)) == f"{TD}:7"
    as_json: dict[str, Any] = {
        "revisionType": "AppSpecContent",
        "appSpecContent": {
            "content": '{"version": 0.0, "resources": [{"TargetService": {"type": '
            '"AWS::ECS::Service", "properties": {"taskDefinition": "arn:x:9", '
            '"loadBalancerInfo": {"containerName": "webapp", "containerPort": 80}}}}]}'
        },
    }
    assert task_definition_of(as_json) == "arn:x:9"
    s3 = {"revisionType": "S3", "s3Location": {"bucket": "b", "key": "k", "bundleType": "YAML"}}
    assert task_definition_of(s3) == ""
    broken = {"revisionType": "AppSpecContent", "appSpecContent": {"content": "a: [b"}}
    assert task_definition_of(broken) == ""
