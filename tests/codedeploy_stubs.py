"""CodeDeploy stub pieces shared by the engine, first-release and rollback tests.

Each answer's shape is checked by botocore's Stubber against the service model; what it
stands for, and where AWS documents it, is said on each helper.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from botocore.stub import ANY
from test_aws_support import ACTIVE, APP, CLUSTER, DG, PREFIX, SERVICE, TD, Stubs

LIFECYCLE = (
    "BeforeInstall",
    "Install",
    "AfterInstall",
    "AllowTestTraffic",
    "AfterAllowTestTraffic",
    "BeforeAllowTraffic",
    "AllowTraffic",
    "AfterAllowTraffic",
)
"""CodeDeploy user guide, "Deployments on an Amazon ECS compute platform": the events of
an ECS deployment with a test listener, in the order they run."""


def manual_group() -> dict[str, Any]:
    """GetDeploymentGroup's blue/green options for reroute = "manual" (what the pipeline
    stack synthesizes: STOP_DEPLOYMENT with a wait; DeploymentReadyOption in the model)."""
    return {
        "blueGreenDeploymentConfiguration": {
            "deploymentReadyOption": {"actionOnTimeout": "STOP_DEPLOYMENT", "waitTimeInMinutes": 10}
        }
    }


def auto_group() -> dict[str, Any]:
    """The same for reroute = "auto" (CONTINUE_DEPLOYMENT: reroute at once, no wait)."""
    return {
        "blueGreenDeploymentConfiguration": {
            "deploymentReadyOption": {"actionOnTimeout": "CONTINUE_DEPLOYMENT"}
        }
    }


def group(s: Stubs, info: dict[str, Any]) -> None:
    s.add(
        "codedeploy",
        "get_deployment_group",
        {"deploymentGroupInfo": info},
        {"applicationName": APP, "deploymentGroupName": DG},
    )


def appspec(revision: int) -> dict[str, Any]:
    """The RevisionLocation of a pipeline release: the AppSpec with the registered task
    definition's ARN, the container and its port (user guide, "AppSpec 'resources'
    section for Amazon ECS deployments"), as AppSpecContent with its SHA-256 (API
    reference, AppSpecContent; ``aws ecs deploy`` sends the same form)."""
    content = (
        "version: 0.0\n"
        "Resources:\n"
        "  - TargetService:\n"
        "      Type: AWS::ECS::Service\n"
        "      Properties:\n"
        f'        TaskDefinition: "{TD}:{revision}"\n'
        "        LoadBalancerInfo:\n"
        '          ContainerName: "webapp"\n'
        "          ContainerPort: 80\n"
        '        PlatformVersion: "LATEST"\n'
    )
    return {
        "revisionType": "AppSpecContent",
        "appSpecContent": {
            "content": content,
            "sha256": hashlib.sha256(content.encode()).hexdigest(),
        },
    }


def info(
    dep_id: str,
    status: str,
    created: datetime,
    revision: int,
    *,
    description: str = "",
    triggered_by: str = "",
    blue_green: dict[str, Any] | None = None,
    error: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """A DeploymentInfo (GetDeployment / BatchGetDeployments). ``triggered_by`` marks a
    CodeDeploy rollback deployment (RollbackInfo.rollbackTriggeringDeploymentId)."""
    found: dict[str, Any] = {
        "deploymentId": dep_id,
        "applicationName": APP,
        "deploymentGroupName": DG,
        "status": status,
        "createTime": created,
        "computePlatform": "ECS",
        "revision": appspec(revision),
    }
    if description:
        found["description"] = description
    if triggered_by:
        found["rollbackInfo"] = {"rollbackTriggeringDeploymentId": triggered_by}
    if blue_green is not None:
        found["blueGreenDeploymentConfiguration"] = blue_green
    if error:
        found["errorInformation"] = {"code": error[0], "message": error[1]}
    return found


def ecs_target(
    s: Stubs,
    dep_id: str,
    done: int,
    status: str = "InProgress",
    running: str = "",
    events: tuple[str, ...] = LIFECYCLE,
) -> None:
    """ListDeploymentTargets + GetDeploymentTarget: the service's ECS target (target id
    ``cluster:service``, as in the ECS developer guide's blue/green tutorial)."""
    target_id = f"{CLUSTER}:{SERVICE}"
    s.add(
        "codedeploy",
        "list_deployment_targets",
        {"targetIds": [target_id]},
        {"deploymentId": dep_id},
    )
    lifecycle = [
        {
            "lifecycleEventName": name,
            "status": "Succeeded" if i < done else ("InProgress" if name == running else "Pending"),
        }
        for i, name in enumerate(events)
    ]
    s.add(
        "codedeploy",
        "get_deployment_target",
        {
            "deploymentTarget": {
                "deploymentTargetType": "ECSTarget",
                "ecsTarget": {
                    "deploymentId": dep_id,
                    "targetId": target_id,
                    "status": status,
                    "lifecycleEvents": lifecycle,
                    "taskSetsInfo": [
                        {
                            "identifer": "ecs-svc/1111",
                            "taskSetLabel": "Blue",
                            "status": "PRIMARY",
                            "trafficWeight": 100.0,
                            "targetGroup": {"name": f"{PREFIX}-blue"},
                        }
                    ],
                },
            }
        },
        {"deploymentId": dep_id, "targetId": target_id},
    )


def latest_finished(s: Stubs, latest: dict[str, Any], *others: dict[str, Any]) -> None:
    """latest_deployment when none is active: ListDeployments filtered by the active
    statuses is empty, the recent window lists ``latest`` and ``others`` (in no order,
    API reference), one BatchGetDeployments; then ``latest``'s ECS target, all eight
    events Succeeded and the target Succeeded (the ECS tutorial's final output)."""
    s.add(
        "codedeploy",
        "list_deployments",
        {"deployments": []},
        {"applicationName": APP, "deploymentGroupName": DG, "includeOnlyStatuses": ACTIVE},
    )
    listed = [*others, latest]
    s.add(
        "codedeploy",
        "list_deployments",
        {"deployments": [d["deploymentId"] for d in listed]},
        {"applicationName": APP, "deploymentGroupName": DG, "createTimeRange": ANY},
    )
    s.add(
        "codedeploy",
        "batch_get_deployments",
        {"deploymentsInfo": listed},
        {"deploymentIds": [d["deploymentId"] for d in listed]},
    )
    done = len(LIFECYCLE) if latest["status"] == "Succeeded" else 3
    ecs_target(s, latest["deploymentId"], done, latest["status"])


def succeeded_history(s: Stubs, before: datetime, history: list[dict[str, Any]]) -> None:
    """The group's Succeeded deployments created up to ``before`` (ListDeployments with
    includeOnlyStatuses and createTimeRange.end, then one BatchGetDeployments)."""
    ids = [d["deploymentId"] for d in history]
    s.add(
        "codedeploy",
        "list_deployments",
        {"deployments": ids},
        {
            "applicationName": APP,
            "deploymentGroupName": DG,
            "includeOnlyStatuses": ["Succeeded"],
            "createTimeRange": {"end": before},
        },
    )
    if ids:
        s.add(
            "codedeploy",
            "batch_get_deployments",
            {"deploymentsInfo": history},
            {"deploymentIds": ids},
        )


def get(s: Stubs, found: dict[str, Any]) -> None:
    """GetDeployment of one deployment."""
    s.add(
        "codedeploy",
        "get_deployment",
        {"deploymentInfo": found},
        {"deploymentId": found["deploymentId"]},
    )
