"""ECS: the service with its task sets, task definitions, and the primary task set."""

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


def update_primary_task_set(ecs: Any, cluster: str, service: str, task_set: str) -> None:
    call(
        ecs,
        "update_service_primary_task_set",
        cluster=cluster,
        service=service,
        primaryTaskSet=task_set,
    )
