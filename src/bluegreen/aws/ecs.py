"""ECS: the service with its task sets, and task definitions.

bluegreen never changes task sets itself: on a CODE_DEPLOY service CodeDeploy owns them
(UpdateServicePrimaryTaskSet is documented for the EXTERNAL controller only, ECS API
reference), so a rollback is a CodeDeploy deployment (:mod:`bluegreen.engine.codedeploy`).
"""

from __future__ import annotations

import re
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


def task_definitions(
    ecs: Any, arns: Iterable[str], memo: dict[str, Any] | None = None
) -> dict[str, dict[str, Any]]:
    """One DescribeTaskDefinition per distinct ARN (a service has two at most in a release).

    With ``memo`` (:attr:`bluegreen.aws.session.Clients.memo`), a revision's ARN
    (``family:revision``) is described once: a revision never changes, an update is a
    new revision (ECS developer guide, "Updating an Amazon ECS task definition using the
    console": "To update a task definition, create a task definition revision"). Its
    ``status`` (ACTIVE/INACTIVE) does change: ask :func:`describe_task_definition`.
    """
    found: dict[str, dict[str, Any]] = {}
    for arn in sorted(set(arns)):
        if not arn or arn in found:
            continue
        key = f"task-definition {arn}"
        if memo is not None and key in memo:
            found[arn] = memo[key]
            continue
        found[arn] = call(ecs, "describe_task_definition", taskDefinition=arn)["taskDefinition"]
        if memo is not None and _REVISION.search(arn):
            memo[key] = found[arn]
    return found


_REVISION = re.compile(r":task-definition/[^:/]+:[0-9]+$")
"""A task definition revision's ARN (not a family's, which means its latest revision)."""


def describe_task_definition(ecs: Any, arn: str) -> dict[str, Any]:
    """One task definition (with its ``status``: ACTIVE, INACTIVE, DELETE_IN_PROGRESS)."""
    found: dict[str, Any] = call(ecs, "describe_task_definition", taskDefinition=arn)[
        "taskDefinition"
    ]
    return found
