"""The emulated CodeDeploy: ECS blue/green deployments through the real API, on the clock.

Sources: D1 CodeDeploy user guide, "Deployments on an Amazon ECS compute platform"
(awsdocs/aws-codedeploy-user-guide deployment-steps-ecs.md); D2 AppSpec hooks for ECS
(reference-appspec-file-structure-hooks.md); D3 the ECS tutorial's get-deployment-target
output (awsdocs/amazon-ecs-developer-guide create-blue-green.md); D4 the API model
(botocore codedeploy 2014-10-06); aws/containers-roadmap#269 (the termination wait).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from emulator_system import APP, CLUSTER, GROUP, REGION, SERVICE, T0, System, build

from bluegreen.emulator import Emulator
from bluegreen.engine import Phase
from bluegreen.engine.codedeploy import phase_of

ALL_EVENTS = [
    "BeforeInstall",
    "Install",
    "AfterInstall",
    "AllowTestTraffic",
    "AfterAllowTestTraffic",
    "BeforeAllowTraffic",
    "AllowTraffic",
    "AfterAllowTraffic",
]


@pytest.fixture
def aws() -> Iterator[Emulator]:
    with Emulator(REGION, start=T0) as emulator:
        yield emulator


@pytest.fixture
def system(aws: Emulator) -> System:
    return build(aws)


def _error(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = caught.value.response["Error"]
    return str(error["Code"]), str(error["Message"])


def _phase(system: System, deployment_id: str) -> Phase:
    return phase_of(system.deployment(deployment_id), system.target(deployment_id))


def _sets(system: System) -> list[tuple[str, str, int]]:
    """(status, target group name, running count) of the service's task sets."""
    names = {system.blue: "demo-blue", system.green: "demo-green"}
    return sorted(
        (ts["status"], names[ts["loadBalancers"][0]["targetGroupArn"]], ts["runningCount"])
        for ts in system.task_sets()
    )


def _new_release(system: System) -> str:
    return system.deploy(system.register(system.app_image))


# ------------------------------------------------------------ the whole deployment


def test_a_blue_green_deployment_walks_every_step_with_its_listeners_and_task_sets(
    system: System,
) -> None:
    deployment = _new_release(system)
    # Created first (D4), then InProgress; BeforeInstall runs at once.
    info = system.deployment(deployment)
    assert info["status"] == "Created"
    assert info["creator"] == "user"
    assert info["deploymentConfigName"] == "CodeDeployDefault.ECSAllAtOnce"
    assert info["revision"]["appSpecContent"]["sha256"]
    with pytest.raises(ClientError) as caught:
        system.clients.codedeploy.list_deployment_targets(deploymentId=deployment)
    assert _error(caught)[0] == "DeploymentNotStartedException"
    system.aws.sleep(1)
    assert system.deployment(deployment)["status"] == "InProgress"
    assert system.clients.codedeploy.list_deployment_targets(deploymentId=deployment)[
        "targetIds"
    ] == [f"{CLUSTER}:{SERVICE}"]
    assert [
        e["lifecycleEventName"] for e in system.target(deployment)["lifecycleEvents"]
    ] == ALL_EVENTS

    # Install: the replacement task set on the group production does not serve (D1).
    system.aws.sleep(2)
    assert system.events(deployment)["Install"] == "InProgress"
    assert _phase(system, deployment) == Phase.INSTALLING
    assert _sets(system) == [("ACTIVE", "demo-green", 0), ("PRIMARY", "demo-blue", 1)]

    # Ready: test traffic on green (kept as a weighted forward with blue at 0), production
    # on blue, waiting for ContinueDeployment (STOP_DEPLOYMENT, 10 minutes).
    took = system.wait_for(lambda: system.deployment(deployment)["status"] == "Ready", step=1)
    assert 60 < took < 200  # Fargate start-up of the replacement (timing.py)
    assert system.target(deployment)["status"] == "Ready"
    assert _phase(system, deployment) == Phase.WAITING
    assert system.forwards(system.production) == {"demo-blue": 100}
    assert system.forwards(system.test) == {"demo-green": 100, "demo-blue": 0}
    events = system.events(deployment)
    assert [events[e] for e in ALL_EVENTS] == ["Succeeded"] * 5 + ["Pending"] * 3
    target = system.target(deployment)
    assert target["targetArn"].endswith(f"service/{CLUSTER}/{SERVICE}")
    infos = {i["taskSetLabel"]: i for i in target["taskSetsInfo"]}
    assert infos["Blue"] == {
        "identifer": system.primary()["id"],  # [sic]: D4's member name
        "desiredCount": 1,
        "pendingCount": 0,
        "runningCount": 1,
        "status": "PRIMARY",
        "trafficWeight": 100.0,
        "targetGroup": {"name": "demo-blue"},
        "taskSetLabel": "Blue",
    }
    assert (infos["Green"]["status"], infos["Green"]["trafficWeight"]) == ("ACTIVE", 0.0)
    assert infos["Green"]["targetGroup"] == {"name": "demo-green"}

    # Reroute: production to green, the replacement PRIMARY; then the termination wait:
    # the target Succeeded while the deployment stays InProgress (containers-roadmap#269).
    system.clients.codedeploy.continue_deployment(
        deploymentId=deployment, deploymentWaitType="READY_WAIT"
    )
    system.wait_for(lambda: system.target(deployment)["status"] == "Succeeded", step=1)
    info = system.deployment(deployment)
    assert info["status"] == "InProgress"
    assert info["instanceTerminationWaitTimeStarted"] is False  # the bug #269 reports
    assert _phase(system, deployment) == Phase.TERMINATION_WAIT
    assert system.forwards(system.production) == {"demo-green": 100, "demo-blue": 0}
    assert system.forwards(system.test) == {"demo-green": 100, "demo-blue": 0}
    assert _sets(system) == [("ACTIVE", "demo-blue", 1), ("PRIMARY", "demo-green", 1)]
    assert {
        i["taskSetLabel"]: i["trafficWeight"] for i in system.target(deployment)["taskSetsInfo"]
    } == {
        "Blue": 0.0,
        "Green": 100.0,
    }

    # 15 minutes later the original task set is deleted and the deployment Succeeded.
    system.aws.sleep(14 * 60)
    assert system.deployment(deployment)["status"] == "InProgress"
    system.aws.sleep(60)
    info = system.deployment(deployment)
    assert info["status"] == "Succeeded"
    assert _phase(system, deployment) == Phase.SUCCEEDED
    assert info["completeTime"] > info["startTime"] > info["createTime"]
    # DRAINING: its task deregisters and drains (DEACTIVATING is not RUNNING).
    assert _sets(system) == [("DRAINING", "demo-blue", 0), ("PRIMARY", "demo-green", 1)]
    system.aws.sleep(60)  # deregistration delay (30 s), then the tasks stop
    assert _sets(system) == [("PRIMARY", "demo-green", 1)]
    group = system.clients.codedeploy.get_deployment_group(
        applicationName=APP, deploymentGroupName=GROUP
    )["deploymentGroupInfo"]
    assert group["lastSuccessfulDeployment"]["deploymentId"] == deployment
    assert group["targetRevision"] == info["revision"]


def test_the_next_deployment_replaces_green_with_blue(system: System) -> None:
    # D1: "the target group associated with the current deployment's original task set is
    # associated with the next deployment's replacement task set".
    first = _new_release(system)
    system.wait_for(lambda: system.deployment(first)["status"] == "Ready", step=5)
    system.clients.codedeploy.continue_deployment(deploymentId=first)
    system.wait_for(lambda: system.target(first)["status"] == "Succeeded", step=5)
    system.clients.codedeploy.continue_deployment(
        deploymentId=first, deploymentWaitType="TERMINATION_WAIT"
    )
    system.aws.sleep(1)
    assert system.deployment(first)["status"] == "Succeeded"
    system.aws.sleep(60)
    second = _new_release(system)
    system.wait_for(lambda: system.deployment(second)["status"] == "Ready", step=5)
    # The weight-0 blue group is behind the listeners, so blue's new targets were
    # health-checked during Install (PR #44: "so future deployments ... pass ELB Health
    # Checks during the Install phase").
    assert system.forwards(system.test) == {"demo-blue": 100, "demo-green": 0}
    assert system.forwards(system.production) == {"demo-green": 100, "demo-blue": 0}
    assert _sets(system) == [("ACTIVE", "demo-blue", 1), ("PRIMARY", "demo-green", 1)]
    assert system.deployment(second)["previousRevision"] == system.deployment(first)["revision"]


def test_without_a_test_listener_the_test_traffic_events_are_absent(aws: Emulator) -> None:
    # D3's output without a test listener lists no AllowTestTraffic or
    # AfterAllowTestTraffic; CONTINUE_DEPLOYMENT reroutes at once (no Ready status).
    system = build(aws, test_listener=False, ready="CONTINUE_DEPLOYMENT", termination_minutes=0)
    deployment = _new_release(system)
    statuses: set[str] = set()
    system.wait_for(
        lambda: (
            statuses.add(system.deployment(deployment)["status"])
            or system.deployment(deployment)["status"] == "Succeeded"
        ),
        step=1,
    )
    assert "Ready" not in statuses
    assert list(system.events(deployment)) == [
        "BeforeInstall",
        "Install",
        "AfterInstall",
        "BeforeAllowTraffic",
        "AllowTraffic",
        "AfterAllowTraffic",
    ]
    assert system.forwards(system.production) == {"demo-green": 100, "demo-blue": 0}


# ------------------------------------------------------------------- refusals


def test_continue_deployment_is_refused_unless_the_deployment_is_ready(system: System) -> None:
    # D4 ContinueDeployment: DeploymentIsNotInReadyStateException "The deployment does
    # not have a status of Ready and can't continue yet." (aws-fidelity m10).
    deployment = _new_release(system)
    system.aws.sleep(10)  # Install in progress
    with pytest.raises(ClientError) as caught:
        system.clients.codedeploy.continue_deployment(
            deploymentId=deployment, deploymentWaitType="READY_WAIT"
        )
    assert _error(caught) == (
        "DeploymentIsNotInReadyStateException",
        "The deployment does not have a status of Ready and can't continue yet.",
    )
    with pytest.raises(ClientError) as caught:
        system.clients.codedeploy.continue_deployment(
            deploymentId=deployment, deploymentWaitType="TERMINATION_WAIT"
        )
    assert _error(caught)[0] == "DeploymentIsNotInReadyStateException"
    system.wait_for(lambda: system.deployment(deployment)["status"] == "Ready", step=1)
    system.clients.codedeploy.continue_deployment(
        deploymentId=deployment, deploymentWaitType="READY_WAIT"
    )
    system.aws.sleep(1)
    assert system.deployment(deployment)["status"] == "InProgress"


def test_a_second_deployment_while_one_is_active_is_refused(system: System) -> None:
    # One active deployment per group; CircleCI-Public/aws-ecs-orb#181 quotes the text.
    first = _new_release(system)
    with pytest.raises(ClientError) as caught:
        _new_release(system)
    assert _error(caught) == (
        "DeploymentLimitExceededException",
        f"The Deployment Group '{GROUP}' already has an active Deployment '{first}'",
    )
    system.clients.codedeploy.stop_deployment(deploymentId=first, autoRollbackEnabled=False)
    assert _new_release(system) != first


def test_continue_and_stop_are_refused_once_a_deployment_is_complete(system: System) -> None:
    deployment = _new_release(system)
    system.clients.codedeploy.stop_deployment(deploymentId=deployment, autoRollbackEnabled=False)
    for call in (
        lambda: system.clients.codedeploy.stop_deployment(deploymentId=deployment),
        lambda: system.clients.codedeploy.continue_deployment(deploymentId=deployment),
    ):
        with pytest.raises(ClientError) as caught:
            call()
        assert _error(caught)[0] == "DeploymentAlreadyCompletedException"


def test_batch_get_deployments_takes_at_most_25_ids(system: System) -> None:
    # D4 BatchGetDeploymentsInput: "The maximum number of deployment IDs you can specify is 25."
    deployment = _new_release(system)
    ids = [deployment] + [f"d-MISSING{i:02d}" for i in range(24)]
    found = system.clients.codedeploy.batch_get_deployments(deploymentIds=ids)["deploymentsInfo"]
    assert [d["deploymentId"] for d in found] == [deployment]
    with pytest.raises(ClientError) as caught:
        system.clients.codedeploy.batch_get_deployments(deploymentIds=[*ids, "d-MISSING99"])
    assert _error(caught)[0] == "BatchLimitExceededException"


def _failing_release(system: System) -> str:
    """A deployment whose AppSpec names a container the task definition lacks: it fails in
    BeforeInstall after ~1 s, so many can be made quickly."""
    appspec = {
        "Resources": [
            {
                "TargetService": {
                    "Type": "AWS::ECS::Service",
                    "Properties": {
                        "TaskDefinition": system.task_definition,
                        "LoadBalancerInfo": {"ContainerName": "nope", "ContainerPort": 80},
                    },
                }
            }
        ]
    }
    deployment_id: str = system.clients.codedeploy.create_deployment(
        applicationName=APP,
        deploymentGroupName=GROUP,
        revision={
            "revisionType": "AppSpecContent",
            "appSpecContent": {"content": json.dumps(appspec)},
        },
    )["deploymentId"]
    system.aws.sleep(2)
    return deployment_id


def test_a_deployment_that_fails_in_before_install_is_not_rolled_back(system: System) -> None:
    # D2 BeforeInstall: "A rollback is not possible at this point."
    deployment = _failing_release(system)
    info = system.deployment(deployment)
    assert info["status"] == "Failed"
    assert info["errorInformation"]["code"] == "INVALID_REVISION"
    assert "rollbackInfo" not in info
    assert system.events(deployment)["BeforeInstall"] == "Failed"
    assert _sets(system) == [("PRIMARY", "demo-blue", 1)]


def test_list_deployments_filters_by_status_and_time_and_pages(system: System) -> None:
    codedeploy = system.clients.codedeploy
    made = [_failing_release(system) for _ in range(101)]
    active = _new_release(system)
    page = codedeploy.list_deployments(applicationName=APP, deploymentGroupName=GROUP)
    assert len(page["deployments"]) == 100 and "nextToken" in page
    rest = codedeploy.list_deployments(
        applicationName=APP, deploymentGroupName=GROUP, nextToken=page["nextToken"]
    )
    assert "nextToken" not in rest
    assert sorted(page["deployments"] + rest["deployments"]) == sorted([*made, active])
    assert page["deployments"][0] == active  # newest first
    running = codedeploy.list_deployments(
        applicationName=APP,
        deploymentGroupName=GROUP,
        includeOnlyStatuses=["Created", "InProgress", "Ready"],
    )
    assert running["deployments"] == [active]
    window = codedeploy.list_deployments(
        applicationName=APP,
        deploymentGroupName=GROUP,
        createTimeRange={"start": system.deployment(made[-1])["createTime"]},
    )
    assert window["deployments"] == [active, made[-1]]
    with pytest.raises(ClientError) as caught:
        codedeploy.list_deployments(
            applicationName=APP,
            deploymentGroupName=GROUP,
            createTimeRange={"start": T0 + timedelta(days=1), "end": T0},
        )
    assert _error(caught)[0] == "InvalidTimeRangeException"
    with pytest.raises(ClientError) as caught:
        codedeploy.list_deployments(applicationName=APP)
    assert _error(caught)[0] == "DeploymentGroupNameRequiredException"


# ------------------------------------------------------------- stop and roll back


def test_stop_with_rollback_during_the_reroute_wait(system: System) -> None:
    # D1: a rollback is a new deployment with its own ID that reroutes traffic to the
    # original task set; the replacement is removed.
    deployment = _new_release(system)
    system.wait_for(lambda: system.deployment(deployment)["status"] == "Ready", step=5)
    answer = system.clients.codedeploy.stop_deployment(
        deploymentId=deployment, autoRollbackEnabled=True
    )
    assert answer["status"] == "Succeeded"
    info = system.deployment(deployment)
    assert info["status"] == "Stopped"
    assert info["errorInformation"]["code"] == "MANUAL_STOP"
    rollback_id = info["rollbackInfo"]["rollbackDeploymentId"]
    assert rollback_id != deployment
    rollback = system.deployment(rollback_id)
    assert rollback["creator"] == "codeDeployRollback"
    assert rollback["rollbackInfo"]["rollbackTriggeringDeploymentId"] == deployment
    system.wait_for(lambda: system.deployment(rollback_id)["status"] == "Succeeded", step=1)
    assert system.forwards(system.test) == {"demo-blue": 100, "demo-green": 0}
    assert system.forwards(system.production) == {"demo-blue": 100}  # never moved
    system.aws.sleep(60)
    assert _sets(system) == [("PRIMARY", "demo-blue", 1)]
    assert _phase(system, deployment) == Phase.STOPPED


def test_stop_with_rollback_during_the_termination_wait(system: System) -> None:
    deployment = _new_release(system)
    system.wait_for(lambda: system.deployment(deployment)["status"] == "Ready", step=5)
    system.clients.codedeploy.continue_deployment(deploymentId=deployment)
    system.wait_for(lambda: system.target(deployment)["status"] == "Succeeded", step=1)
    assert system.forwards(system.production) == {"demo-green": 100, "demo-blue": 0}
    system.clients.codedeploy.stop_deployment(deploymentId=deployment, autoRollbackEnabled=True)
    rollback_id = system.deployment(deployment)["rollbackInfo"]["rollbackDeploymentId"]
    system.wait_for(lambda: system.deployment(rollback_id)["status"] == "Succeeded", step=1)
    assert system.forwards(system.production) == {"demo-blue": 100, "demo-green": 0}
    assert system.forwards(system.test) == {"demo-blue": 100, "demo-green": 0}
    system.aws.sleep(60)
    assert _sets(system) == [("PRIMARY", "demo-blue", 1)]
    assert system.deployment(deployment)["status"] == "Stopped"


def test_stop_without_rollback_leaves_the_components_as_they_are(system: System) -> None:
    # D1: without rollbacks "components remain in their current state".
    deployment = _new_release(system)
    system.wait_for(lambda: system.deployment(deployment)["status"] == "Ready", step=5)
    system.clients.codedeploy.stop_deployment(deploymentId=deployment, autoRollbackEnabled=False)
    assert "rollbackInfo" not in system.deployment(deployment)
    system.aws.sleep(60)
    assert system.forwards(system.test) == {"demo-green": 100, "demo-blue": 0}
    assert _sets(system) == [("ACTIVE", "demo-green", 1), ("PRIMARY", "demo-blue", 1)]


def test_the_reroute_wait_running_out_stops_the_deployment(system: System) -> None:
    # D4 DeploymentReadyOption STOP_DEPLOYMENT: "If traffic rerouting is not started
    # before the end of the specified wait period, the deployment status is changed to
    # Stopped." (10 minutes here)
    deployment = _new_release(system)
    system.wait_for(lambda: system.deployment(deployment)["status"] == "Ready", step=1)
    system.aws.sleep(10 * 60 - 1)
    assert system.deployment(deployment)["status"] == "Ready"
    system.aws.sleep(1)
    info = system.deployment(deployment)
    assert info["status"] == "Stopped"
    assert info["errorInformation"]["code"] == "TIMEOUT"
    assert system.forwards(system.production) == {"demo-blue": 100}


def test_a_replacement_that_never_starts_fails_install_after_an_hour_and_rolls_back(
    system: System,
) -> None:
    # CircleCI-Public/aws-ecs-orb#134: Install times out after 60 minutes; the group's
    # autoRollbackConfiguration has DEPLOYMENT_FAILURE, so a rollback deployment removes
    # the replacement.
    missing = system.register(system.app_image.replace(":v1", ":never-pushed"))
    deployment = system.deploy(missing)
    system.aws.sleep(59 * 60)
    assert system.deployment(deployment)["status"] == "InProgress"
    system.aws.sleep(2 * 60)
    info = system.deployment(deployment)
    assert info["status"] == "Failed"
    assert info["errorInformation"] == {
        "code": "ECS_UPDATE_ERROR",
        "message": "The deployment timed out while waiting for the replacement task set to "
        "become healthy. This time out period is 60 minutes.",
    }
    assert system.events(deployment)["Install"] == "Failed"
    rollback = system.deployment(info["rollbackInfo"]["rollbackDeploymentId"])
    assert rollback["creator"] == "codeDeployRollback"
    system.aws.sleep(120)
    assert _sets(system) == [("PRIMARY", "demo-blue", 1)]


def _green_fails_its_health_checks(system: System) -> None:
    """Every health check of a target in green answers 500 (blue's keep passing)."""
    from bluegreen.emulator.services.elbv2 import ProbeResult, TargetRef

    elb = system.aws.service("elbv2")
    passing = elb.default_prober

    def prober(target: TargetRef, when: Any) -> ProbeResult:
        if target.target_group_arn != system.green:
            answer: ProbeResult = passing(target, when)
            return answer
        return ProbeResult(
            ok=False,
            status=500,
            reason="Target.ResponseCodeMismatch",
            description="Health checks failed with these codes: [500]",
        )

    elb.default_prober = prober


def test_a_replacement_behind_no_listener_passes_install_unchecked(aws: Emulator) -> None:
    """What AWS reportedly does on a first release when the listeners forward to blue
    alone: green is behind no listener, its targets are ``unused`` (Target.NotInUse, ALB
    guide "Health checks for Application Load Balancer target groups"), so Install has
    no ELB health to wait for (the CodeDeploy team's note in traveloka/terraform-aws-alb-
    single-listener#47) and unhealthy tasks get through (aws/containers-roadmap#1941)."""
    system = build(aws)
    _green_fails_its_health_checks(system)
    deployment = _new_release(system)
    system.aws.sleep(60)
    system.wait_for(lambda: system.events(deployment)["Install"] == "Succeeded", step=5)
    # Install passed with green never health-checked: only AllowTestTraffic put it
    # behind a listener, and its first checks are still under way (or failing).
    replacement = system.clients.elbv2.describe_target_health(TargetGroupArn=system.green)
    states = {d["TargetHealth"]["State"] for d in replacement["TargetHealthDescriptions"]}
    assert states and "healthy" not in states
    assert system.forwards(system.test) == {"demo-green": 100, "demo-blue": 0}


def test_a_replacement_behind_a_listener_at_weight_0_must_pass_its_health_checks(
    aws: Emulator,
) -> None:
    """With green in the listeners' forward at weight 0 (CodeDeploy's own shape after a
    deployment since 2022; bluegreen's stacks from the first deploy), the load balancer
    health-checks it and Install waits for it to be healthy ("future deployments ... pass
    ELB Health Checks during the Install phase", traveloka/terraform-aws-alb-single-
    listener#47): an unhealthy replacement fails Install after its hour and is rolled
    back, without a request from either listener."""
    system = build(aws, weighted=True)
    assert system.forwards(system.production) == {"demo-blue": 100, "demo-green": 0}
    _green_fails_its_health_checks(system)
    deployment = _new_release(system)
    system.aws.sleep(5 * 60)
    # The load balancer checked green and ECS replaced the task that failed.
    ecs = system.clients.ecs
    stopped = ecs.list_tasks(cluster=CLUSTER, serviceName=SERVICE, desiredStatus="STOPPED")
    reasons = [
        str(t.get("stoppedReason", ""))
        for t in ecs.describe_tasks(cluster=CLUSTER, tasks=stopped["taskArns"])["tasks"]
    ]
    assert any(r.startswith("Task failed ELB health checks") for r in reasons), reasons
    assert system.events(deployment)["Install"] == "InProgress"
    system.aws.sleep(57 * 60)
    info = system.deployment(deployment)
    assert info["status"] == "Failed"
    assert info["errorInformation"]["message"].startswith(
        "The deployment timed out while waiting for the replacement task set to become healthy"
    )
    for listener in (system.production, system.test):
        assert system.forwards(listener).get("demo-green", 0) == 0
    system.aws.sleep(120)
    assert _sets(system) == [("PRIMARY", "demo-blue", 1)]


# --------------------------------------------------------------- traffic shifting


def _shift_weights(system: System, deployment: str, until: float) -> list[tuple[float, int]]:
    """(seconds after AllowTraffic began, green's production weight) at each change."""
    system.clients.codedeploy.continue_deployment(deploymentId=deployment)
    system.wait_for(lambda: system.events(deployment)["AllowTraffic"] == "InProgress", step=0.5)
    start = system.aws.clock.seconds
    seen: list[tuple[float, int]] = []
    while system.aws.clock.seconds - start <= until:
        weight = system.forwards(system.production).get("demo-green", 0)
        if not seen or seen[-1][1] != weight:
            seen.append((system.aws.clock.seconds - start, weight))
        system.aws.sleep(30)
    return seen


def test_a_canary_configuration_shifts_10_percent_then_the_rest_after_5_minutes(
    aws: Emulator,
) -> None:
    # D4 TimeBasedCanary: "shifts traffic ... in two increments"; ECSCanary10Percent5Minutes.
    system = build(aws, config="CodeDeployDefault.ECSCanary10Percent5Minutes")
    deployment = _new_release(system)
    system.wait_for(lambda: system.deployment(deployment)["status"] == "Ready", step=5)
    assert _shift_weights(system, deployment, 400) == [(0.0, 10), (300.0, 100)]
    assert system.forwards(system.production) == {"demo-green": 100, "demo-blue": 0}


def test_a_linear_configuration_shifts_10_percent_every_minute(aws: Emulator) -> None:
    # D4 TimeBasedLinear: "equal increments, with an equal number of minutes between each
    # increment"; ECSLinear10PercentEvery1Minutes: 10 % at once, 100 % after 9 minutes.
    system = build(aws, config="CodeDeployDefault.ECSLinear10PercentEvery1Minutes")
    deployment = _new_release(system)
    system.wait_for(lambda: system.deployment(deployment)["status"] == "Ready", step=5)
    assert _shift_weights(system, deployment, 600) == [(60.0 * i, 10 * (i + 1)) for i in range(10)]


def test_the_predefined_ecs_configurations(system: System) -> None:
    codedeploy = system.clients.codedeploy
    names = codedeploy.list_deployment_configs()["deploymentConfigsList"]
    assert {
        "CodeDeployDefault.ECSAllAtOnce",
        "CodeDeployDefault.ECSLinear10PercentEvery1Minutes",
        "CodeDeployDefault.ECSLinear10PercentEvery3Minutes",
        "CodeDeployDefault.ECSCanary10Percent5Minutes",
        "CodeDeployDefault.ECSCanary10Percent15Minutes",
    } <= set(names)
    canary = codedeploy.get_deployment_config(
        deploymentConfigName="CodeDeployDefault.ECSCanary10Percent15Minutes"
    )["deploymentConfigInfo"]
    assert canary["computePlatform"] == "ECS"
    assert canary["trafficRoutingConfig"] == {
        "type": "TimeBasedCanary",
        "timeBasedCanary": {"canaryPercentage": 10, "canaryInterval": 15},
    }
    codedeploy.create_deployment_config(
        deploymentConfigName="half",
        computePlatform="ECS",
        trafficRoutingConfig={
            "type": "TimeBasedCanary",
            "timeBasedCanary": {"canaryPercentage": 50, "canaryInterval": 2},
        },
    )
    assert "half" in codedeploy.list_deployment_configs()["deploymentConfigsList"]
    with pytest.raises(ClientError) as caught:
        codedeploy.get_deployment_config(deploymentConfigName="nope")
    assert _error(caught)[0] == "DeploymentConfigDoesNotExistException"


# ------------------------------------------------------------------------- hooks


def _with_hook(system: System, function: str) -> str:
    appspec = {
        "Resources": [
            {
                "TargetService": {
                    "Type": "AWS::ECS::Service",
                    "Properties": {
                        "TaskDefinition": system.register(system.app_image),
                        "LoadBalancerInfo": {"ContainerName": "webapp", "ContainerPort": 80},
                    },
                }
            }
        ],
        "Hooks": [{"AfterAllowTestTraffic": function}],
    }
    deployment_id: str = system.clients.codedeploy.create_deployment(
        applicationName=APP,
        deploymentGroupName=GROUP,
        revision={
            "revisionType": "AppSpecContent",
            "appSpecContent": {"content": json.dumps(appspec)},
        },
    )["deploymentId"]
    return deployment_id


def test_a_hook_naming_a_missing_function_fails_the_deployment_at_its_event(system: System) -> None:
    deployment = _with_hook(system, "no-such-function")
    system.wait_for(
        lambda: (
            system.deployment(deployment)["status"] != "InProgress"
            and system.deployment(deployment)["status"] != "Created"
        ),
        step=5,
    )
    info = system.deployment(deployment)
    assert info["status"] == "Failed"
    assert info["errorInformation"]["code"] == "INVALID_LAMBDA_FUNCTION"
    assert "no-such-function" in info["errorInformation"]["message"]
    assert system.events(deployment)["AfterAllowTestTraffic"] == "Failed"
    # DEPLOYMENT_FAILURE is a rollback event of the group: test traffic goes back to blue.
    rollback = info["rollbackInfo"]["rollbackDeploymentId"]
    system.wait_for(lambda: system.deployment(rollback)["status"] == "Succeeded", step=1)
    assert system.forwards(system.test) == {"demo-blue": 100, "demo-green": 0}


def test_a_hook_of_unknown_code_fails_saying_the_emulator_cannot_run_it(system: System) -> None:
    role = system.clients.iam.create_role(
        RoleName="hook",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    system.clients.awslambda = system.aws.client("lambda")
    system.clients.awslambda.create_function(
        FunctionName="validate",
        Runtime="python3.12",
        Role=role,
        Handler="index.handler",
        Code={"ZipFile": _zip("def handler(event, context):\n    return None\n")},
    )
    deployment = _with_hook(system, "validate")
    system.wait_for(lambda: system.deployment(deployment)["status"] == "Failed", step=5)
    info = system.deployment(deployment)
    assert info["errorInformation"]["code"] == "HOOK_EXECUTION_FAILURE"
    # tests/test_hooks.py plays hooks (registered code, declared plays).
    assert (
        "the emulator cannot run Lambda function validate's code"
        in (info["errorInformation"]["message"])
    )


def _zip(source: str) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", source)
    return buffer.getvalue()


# ------------------------------------------------------- applications and groups


def test_create_deployment_group_checks_its_ecs_references(system: System) -> None:
    codedeploy = system.clients.codedeploy
    base: dict[str, Any] = codedeploy.get_deployment_group(
        applicationName=APP, deploymentGroupName=GROUP
    )["deploymentGroupInfo"]
    keep = (
        "serviceRoleArn",
        "deploymentStyle",
        "blueGreenDeploymentConfiguration",
        "loadBalancerInfo",
        "ecsServices",
        "autoRollbackConfiguration",
    )
    args = {k: base[k] for k in keep}

    def create(name: str, **changes: Any) -> tuple[str, str] | None:
        try:
            codedeploy.create_deployment_group(
                applicationName=APP, deploymentGroupName=name, **{**args, **changes}
            )
        except ClientError as exc:
            return str(exc.response["Error"]["Code"]), str(exc.response["Error"]["Message"])
        return None

    system.clients.ecs.create_service(cluster=CLUSTER, serviceName="rolling", desiredCount=0)
    assert create("a", ecsServices=[{"clusterName": CLUSTER, "serviceName": "rolling"}]) == (
        "InvalidECSServiceException",
        "Deployment group's ECS service must be configured for a CODE_DEPLOY deployment "
        "controller.",
    )
    absent = create("b", ecsServices=[{"clusterName": CLUSTER, "serviceName": "absent"}])
    assert absent is not None and absent[0] == "InvalidECSServiceException"
    pair = dict(args["loadBalancerInfo"]["targetGroupPairInfoList"][0])
    same = {**pair, "targetGroups": [{"name": "demo-blue"}, {"name": "demo-blue"}]}
    assert create("c", loadBalancerInfo={"targetGroupPairInfoList": [same]}) == (
        "InvalidTargetGroupPairException",
        "Target group pair must have distinct target groups.",
    )
    gone = {**pair, "targetGroups": [{"name": "demo-blue"}, {"name": "demo-gone"}]}
    missing = create("d", loadBalancerInfo={"targetGroupPairInfoList": [gone]})
    assert missing is not None and missing[0] == "InvalidTargetGroupPairException"
    # hashicorp/terraform-provider-aws#9653 quotes this refusal.
    assert create(
        "e",
        blueGreenDeploymentConfiguration={
            "deploymentReadyOption": {
                "actionOnTimeout": "CONTINUE_DEPLOYMENT",
                "waitTimeInMinutes": 5,
            }
        },
    ) == (
        "InvalidBlueGreenDeploymentConfigurationException",
        "Deployment ready action cannot be set to 'CONTINUE_DEPLOYMENT' when timeout is specified",
    )
    other = system.clients.iam.create_role(
        RoleName="not-codedeploy",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    assert create("f", serviceRoleArn=other) == (
        "InvalidRoleException",
        f"AWS CodeDeploy does not have the permissions required to assume the role {other}.",
    )
    assert create("g") is None
    names = codedeploy.list_deployment_groups(applicationName=APP)["deploymentGroups"]
    assert names == [GROUP, "g"]
    with pytest.raises(ClientError) as caught:
        codedeploy.create_deployment_group(applicationName=APP, deploymentGroupName="g", **args)
    assert _error(caught)[0] == "DeploymentGroupAlreadyExistsException"


def test_applications_and_groups_can_be_read_updated_and_deleted(system: System) -> None:
    codedeploy = system.clients.codedeploy
    app = codedeploy.get_application(applicationName=APP)["application"]
    assert (app["applicationName"], app["computePlatform"]) == (APP, "ECS")
    assert codedeploy.list_applications()["applications"] == [APP]
    codedeploy.update_deployment_group(
        applicationName=APP,
        currentDeploymentGroupName=GROUP,
        deploymentConfigName="CodeDeployDefault.ECSCanary10Percent5Minutes",
    )
    group = codedeploy.get_deployment_group(applicationName=APP, deploymentGroupName=GROUP)[
        "deploymentGroupInfo"
    ]
    assert group["deploymentConfigName"] == "CodeDeployDefault.ECSCanary10Percent5Minutes"
    codedeploy.delete_deployment_group(applicationName=APP, deploymentGroupName=GROUP)
    codedeploy.delete_deployment_group(applicationName=APP, deploymentGroupName=GROUP)  # no error
    with pytest.raises(ClientError) as caught:
        codedeploy.get_deployment_group(applicationName=APP, deploymentGroupName=GROUP)
    assert _error(caught) == (
        "DeploymentGroupDoesNotExistException",
        f"No Deployment Group found for name: {GROUP}",
    )
    codedeploy.delete_application(applicationName=APP)
    with pytest.raises(ClientError) as caught:
        codedeploy.get_application(applicationName=APP)
    assert _error(caught) == (
        "ApplicationDoesNotExistException",
        f"No application found for name: {APP}",
    )


def test_applications_and_groups_take_tags(system: System) -> None:
    codedeploy = system.clients.codedeploy
    arn = f"arn:aws:codedeploy:{REGION}:123456789012:deploymentgroup:{APP}/{GROUP}"
    codedeploy.tag_resource(ResourceArn=arn, Tags=[{"Key": "team", "Value": "blue"}])
    assert codedeploy.list_tags_for_resource(ResourceArn=arn)["Tags"] == [
        {"Key": "team", "Value": "blue"}
    ]
    codedeploy.untag_resource(ResourceArn=arn, TagKeys=["team"])
    assert codedeploy.list_tags_for_resource(ResourceArn=arn)["Tags"] == []


def test_a_listener_deleted_under_a_deployment_fails_it(system: System) -> None:
    # A deployment whose listener disappears fails in the event that needed it (the
    # emulator never crashes on it); CodeDeploy quotes the ELB error.
    deployment = _new_release(system)
    system.aws.sleep(10)
    system.clients.elbv2.delete_listener(ListenerArn=system.test)
    system.wait_for(lambda: system.deployment(deployment)["status"] == "Failed", step=5)
    info = system.deployment(deployment)
    assert info["errorInformation"]["code"] == "ELASTIC_LOAD_BALANCING_INVALID"
    assert system.events(deployment)["AllowTestTraffic"] == "Failed"


def test_bluegreens_engine_operates_the_emulated_deployment(system: System) -> None:
    # The operating commands' engine (promote, finish, rollback, status) against the
    # emulated CodeDeploy instead of canned responses.
    from bluegreen.engine import ServiceRefs
    from bluegreen.engine.codedeploy import CodeDeployEngine

    refs = ServiceRefs(
        cluster=CLUSTER,
        service=SERVICE,
        application=APP,
        deployment_group=GROUP,
        production_listener=system.production,
        test_listener=system.test,
        target_groups=(system.blue, system.green),
        production_port=80,
        test_port=8080,
    )

    def engine() -> CodeDeployEngine:
        return CodeDeployEngine(system.clients, refs, system.service())

    first = _new_release(system)
    system.wait_for(lambda: system.deployment(first)["status"] == "Ready", step=5)
    view = engine().status()
    assert view is not None and (view.id, view.phase) == (first, Phase.WAITING)
    assert {s.label: s.weight for s in view.task_sets} == {"blue": 100.0, "green": 0.0}
    engine().promote()
    system.wait_for(lambda: engine().status().phase == Phase.TERMINATION_WAIT, step=1)  # type: ignore[union-attr]
    engine().finish()
    system.aws.sleep(1)
    assert engine().status().phase == Phase.SUCCEEDED  # type: ignore[union-attr]

    second = _new_release(system)
    system.wait_for(lambda: system.deployment(second)["status"] == "Ready", step=5)
    system.clients.codedeploy.continue_deployment(deploymentId=second)
    system.wait_for(lambda: engine().status().phase == Phase.TERMINATION_WAIT, step=1)  # type: ignore[union-attr]
    result = engine().rollback()
    assert result.deployment_id == second
    rollback = system.deployment(second)["rollbackInfo"]["rollbackDeploymentId"]
    system.wait_for(lambda: system.deployment(rollback)["status"] == "Succeeded", step=1)
    # Production is back on the first release's green group, which served it before.
    assert system.forwards(system.production) == {"demo-green": 100, "demo-blue": 0}


def test_a_deployments_appspec_is_read_through_get_application_revision(system: System) -> None:
    # GetDeployment: "The content property of the appSpecContent object in the returned
    # revision is always null. Use GetApplicationRevision and the sha256 property of the
    # returned appSpecContent object to get the content" (API reference).
    deployment = _new_release(system)
    located = system.deployment(deployment)["revision"]
    assert located["revisionType"] == "AppSpecContent"
    assert "content" not in located["appSpecContent"]
    codedeploy = system.clients.codedeploy
    answer = codedeploy.get_application_revision(applicationName=APP, revision=located)
    content = answer["revision"]["appSpecContent"]["content"]
    assert "TaskDefinition" in content
    assert answer["revisionInfo"]["deploymentGroups"] == [GROUP]
    unknown = {"revisionType": "AppSpecContent", "appSpecContent": {"sha256": "0" * 64}}
    with pytest.raises(ClientError) as caught:
        codedeploy.get_application_revision(applicationName=APP, revision=unknown)
    assert _error(caught)[0] == "RevisionDoesNotExistException"
