"""CodeDeploy: the deployment group's deployments, their ECS target, continue and stop.

Only the calls the blue/green engine needs. ListDeployments promises no order and pages
through the group's whole history, so the deployment a command acts on is looked up by
status first: the group's active deployment (CodeDeploy runs at most one per deployment
group) from a ListDeployments filtered with includeOnlyStatuses. Only when none is active
is the newest of the first unfiltered page taken (by createTime, from one
BatchGetDeployments of at most 25 ids), for ``status`` to show the last result.
"""

from __future__ import annotations

from typing import Any

from bluegreen.aws.errors import call

ACTIVE_STATUSES = ["Created", "Queued", "InProgress", "Baking", "Ready"]
"""Every DeploymentStatus that is not final (Succeeded, Failed, Stopped)."""


def latest_deployment(codedeploy: Any, application: str, group: str) -> dict[str, Any] | None:
    """The active deployment of the group, else the newest of the first page of its
    history; None if it never deployed."""
    ids: list[str] = call(
        codedeploy,
        "list_deployments",
        applicationName=application,
        deploymentGroupName=group,
        includeOnlyStatuses=ACTIVE_STATUSES,
    ).get("deployments", [])
    if not ids:
        ids = call(
            codedeploy,
            "list_deployments",
            applicationName=application,
            deploymentGroupName=group,
        ).get("deployments", [])
    if not ids:
        return None
    infos: list[dict[str, Any]] = call(
        codedeploy, "batch_get_deployments", deploymentIds=ids[:25]
    ).get("deploymentsInfo", [])
    if not infos:
        return None
    return max(infos, key=lambda d: d.get("createTime") or 0)


def get_deployment(codedeploy: Any, deployment_id: str) -> dict[str, Any]:
    info: dict[str, Any] = call(codedeploy, "get_deployment", deploymentId=deployment_id)[
        "deploymentInfo"
    ]
    return info


def ecs_target(codedeploy: Any, deployment_id: str) -> dict[str, Any] | None:
    """The deployment's ECS target (lifecycle events, task sets with traffic weights)."""
    ids: list[str] = call(codedeploy, "list_deployment_targets", deploymentId=deployment_id).get(
        "targetIds", []
    )
    if not ids:
        return None
    target = call(
        codedeploy, "get_deployment_target", deploymentId=deployment_id, targetId=ids[0]
    ).get("deploymentTarget", {})
    ecs: dict[str, Any] | None = target.get("ecsTarget")
    return ecs


def continue_deployment(codedeploy: Any, deployment_id: str, wait_type: str) -> None:
    """End a wait now: READY_WAIT reroutes production, TERMINATION_WAIT removes blue."""
    call(
        codedeploy,
        "continue_deployment",
        deploymentId=deployment_id,
        deploymentWaitType=wait_type,
    )


def stop_deployment(codedeploy: Any, deployment_id: str) -> dict[str, Any]:
    """Stop the deployment and let CodeDeploy roll back to the original task set."""
    return call(codedeploy, "stop_deployment", deploymentId=deployment_id, autoRollbackEnabled=True)
