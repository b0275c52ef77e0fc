"""ECS: the service with its task sets, and task definitions.

bluegreen never changes task sets itself: on a CODE_DEPLOY service CodeDeploy owns them
(UpdateServicePrimaryTaskSet is documented for the EXTERNAL controller only, ECS API
reference), so a rollback is a CodeDeploy deployment (:mod:`bluegreen.engine.codedeploy`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bluegreen.aws.errors import call


def describe_service(ecs: Any, cluster: str, service: str) -> dict[str, Any] | None:
    """The service (with ``taskSets``), or None when it is missing or INACTIVE."""
    answer = call(ecs, "describe_services", cluster=cluster, services=[service])
    for found in answer.get("services", []):
        if found.get("status") != "INACTIVE":
            described: dict[str, Any] = found
            return described
    return None


def task_definitions(ecs: Any, arns: Iterable[str]) -> dict[str, dict[str, Any]]:
    """One DescribeTaskDefinition per distinct ARN (a service has two at most in a release)."""
    found: dict[str, dict[str, Any]] = {}
    for arn in sorted(set(arns)):
        if arn and arn not in found:
            found[arn] = call(ecs, "describe_task_definition", taskDefinition=arn)["taskDefinition"]
    return found


def describe_task_definition(ecs: Any, arn: str) -> dict[str, Any]:
    """One task definition (with its ``status``: ACTIVE, INACTIVE, DELETE_IN_PROGRESS)."""
    found: dict[str, Any] = call(ecs, "describe_task_definition", taskDefinition=arn)[
        "taskDefinition"
    ]
    return found
