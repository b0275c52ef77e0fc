"""CodeDeploy: the deployment group's deployments, their ECS target, continue, stop, create.

Only the calls the blue/green engine needs. What the code relies on, with its source:

- ListDeployments promises no order and pages with ``nextToken`` (CodeDeploy API
  reference, ListDeployments; botocore's paginator for it), so every listing here pages
  through to the end and picks by ``createTime``, never by position.
- BatchGetDeployments takes at most 25 ids ("The maximum number of deployment IDs you can
  specify is 25", API reference and botocore model, BatchGetDeploymentsInput), so ids are
  fetched in chunks of 25.
- The deployment a command acts on is looked up by status first: the group's active
  deployment, from ListDeployments filtered with ``includeOnlyStatuses``. Only when none
  is active is the newest finished one taken, looked for first among the deployments
  created in the last :data:`RECENT` (``createTimeRange``, which keeps a long history
  from costing one BatchGetDeployments per 25 deployments on every ``status`` poll), and
  in the whole history only when that window is empty.
- A deployment's ``revision`` (GetDeployment / BatchGetDeployments) is a RevisionLocation,
  the same shape CreateDeployment takes; for ECS it is the AppSpec, usually as
  ``AppSpecContent`` naming the TaskDefinition ARN, container and port (API reference,
  RevisionLocation and AppSpecContent; CodeDeploy user guide, "AppSpec 'resources'
  section for Amazon ECS deployments"). Redeploying it is a manual rollback (user guide,
  "Redeploy and roll back a deployment with CodeDeploy": "creating a new deployment that
  uses any previously deployed application revision"). GetDeployment (and the same
  DeploymentInfo in BatchGetDeployments) leaves the AppSpec itself out: "The content
  property of the appSpecContent object in the returned revision is always null. Use
  GetApplicationRevision and the sha256 property of the returned appSpecContent object to
  get the content of the deployment's AppSpec file" (GetDeployment, API reference), so
  :func:`with_content` reads it that way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from bluegreen.aws.errors import AwsCallError, call, pages

FINAL_STATUSES = ("Succeeded", "Failed", "Stopped")
"""The DeploymentStatus values a deployment ends in (botocore's DeploymentSuccessful
waiter accepts exactly these three as the end of a deployment)."""

ACTIVE_STATUSES = ["Created", "Queued", "InProgress", "Baking", "Ready"]
"""Every DeploymentStatus that is not final (the botocore model's enum minus
:data:`FINAL_STATUSES`; the tests derive the same list from the model)."""

BATCH_LIMIT = 25
"""BatchGetDeployments: "The maximum number of deployment IDs you can specify is 25"."""

RECENT = timedelta(days=30)
"""The window looked at first for the newest finished deployment."""

MISSING = frozenset({"ApplicationDoesNotExistException", "DeploymentGroupDoesNotExistException"})
"""ListDeployments' errors (botocore model) when the pipeline stack, which holds the
CodeDeploy application and deployment group, was never deployed or was deleted."""

NOT_READY = "DeploymentIsNotInReadyStateException"
"""ContinueDeployment(READY_WAIT) refuses with this unless the deployment's status is
``Ready`` ("The deployment does not have a status of Ready and can't continue yet",
botocore model)."""

Now = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def deployment_ids(
    codedeploy: Any,
    application: str,
    group: str,
    *,
    statuses: list[str] | None = None,
    created: dict[str, datetime] | None = None,
) -> list[str]:
    """Every id ListDeployments returns for the group, all pages, in no particular order."""
    kwargs: dict[str, Any] = {"applicationName": application, "deploymentGroupName": group}
    if statuses is not None:
        kwargs["includeOnlyStatuses"] = statuses
    if created is not None:
        kwargs["createTimeRange"] = created
    ids: list[str] = []
    for page in pages(codedeploy, "list_deployments", **kwargs):
        ids.extend(page.get("deployments", []))
    return list(dict.fromkeys(ids))


def deployments(codedeploy: Any, ids: Iterable[str]) -> list[dict[str, Any]]:
    """The deployments' infos, fetched :data:`BATCH_LIMIT` ids per BatchGetDeployments."""
    wanted = list(ids)
    found: list[dict[str, Any]] = []
    for start in range(0, len(wanted), BATCH_LIMIT):
        chunk = wanted[start : start + BATCH_LIMIT]
        found.extend(
            call(codedeploy, "batch_get_deployments", deploymentIds=chunk).get(
                "deploymentsInfo", []
            )
        )
    return found


def newest(infos: Iterable[dict[str, Any]]) -> dict[str, Any] | None:
    """The deployment created last (None for none)."""
    listed = [i for i in infos if i.get("createTime") is not None]
    if not listed:
        return None
    return max(listed, key=lambda info: info["createTime"])


def latest_deployment(
    codedeploy: Any, application: str, group: str, *, now: Now = _utcnow
) -> dict[str, Any] | None:
    """The group's active deployment, else its newest finished one; None if it never
    deployed (see the module docstring for how each is found)."""
    active = deployment_ids(codedeploy, application, group, statuses=ACTIVE_STATUSES)
    if active:
        return newest(deployments(codedeploy, active))
    recent = deployment_ids(codedeploy, application, group, created={"start": now() - RECENT})
    ids = recent or deployment_ids(codedeploy, application, group)
    return newest(deployments(codedeploy, ids)) if ids else None


def succeeded_before(
    codedeploy: Any, application: str, group: str, before: datetime
) -> list[dict[str, Any]]:
    """Every Succeeded deployment of the group created up to ``before``, newest first."""
    ids = deployment_ids(
        codedeploy,
        application,
        group,
        statuses=["Succeeded"],
        created={"end": before},
    )
    infos = [i for i in deployments(codedeploy, ids) if i.get("createTime") is not None]
    return sorted(infos, key=lambda info: info["createTime"], reverse=True)


def get_deployment(codedeploy: Any, deployment_id: str) -> dict[str, Any]:
    info: dict[str, Any] = call(codedeploy, "get_deployment", deploymentId=deployment_id)[
        "deploymentInfo"
    ]
    return info


def deployment_group(codedeploy: Any, application: str, group: str) -> dict[str, Any]:
    """The deployment group's configuration (GetDeploymentGroup's deploymentGroupInfo)."""
    info: dict[str, Any] = call(
        codedeploy,
        "get_deployment_group",
        applicationName=application,
        deploymentGroupName=group,
    ).get("deploymentGroupInfo", {})
    return info


def reroutes_automatically(blue_green: dict[str, Any] | None) -> bool | None:
    """Whether a blueGreenDeploymentConfiguration reroutes production by itself: its
    deploymentReadyOption.actionOnTimeout is CONTINUE_DEPLOYMENT ("Register new instances
    with the load balancer immediately", botocore model, DeploymentReadyOption) rather
    than STOP_DEPLOYMENT (wait for ContinueDeployment). None when it does not say."""
    action = ((blue_green or {}).get("deploymentReadyOption") or {}).get("actionOnTimeout")
    if action is None:
        return None
    return bool(action == "CONTINUE_DEPLOYMENT")


def ecs_target(codedeploy: Any, deployment_id: str) -> dict[str, Any] | None:
    """The deployment's ECS target (lifecycle events, task sets with traffic weights);
    None while the deployment has not started (a deployment just created, a rollback
    deployment CodeDeploy queues: ListDeploymentTargets answers
    DeploymentNotStartedException then, botocore codedeploy model)."""
    try:
        listed = call(codedeploy, "list_deployment_targets", deploymentId=deployment_id)
    except AwsCallError as exc:
        if exc.code == "DeploymentNotStartedException":
            return None
        raise
    ids: list[str] = listed.get("targetIds", [])
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


def with_content(codedeploy: Any, application: str, revision: dict[str, Any]) -> dict[str, Any]:
    """``revision`` (as GetDeployment gives it) with its AppSpec content; unchanged when it
    already has it or is not an AppSpecContent revision. Raises AwsCallError
    (RevisionDoesNotExistException) when CodeDeploy no longer knows it."""
    spec = revision.get("appSpecContent") or {}
    if revision.get("revisionType") != "AppSpecContent" or spec.get("content"):
        return revision
    if not spec.get("sha256"):
        return revision
    answer = call(
        codedeploy,
        "get_application_revision",
        applicationName=application,
        revision={"revisionType": "AppSpecContent", "appSpecContent": {"sha256": spec["sha256"]}},
    )
    found: dict[str, Any] = answer.get("revision") or revision
    return found


def create_deployment(
    codedeploy: Any, application: str, group: str, revision: dict[str, Any], description: str
) -> str:
    """Deploy ``revision`` (a RevisionLocation) through the group; returns the new id."""
    deployment_id: str = call(
        codedeploy,
        "create_deployment",
        applicationName=application,
        deploymentGroupName=group,
        revision=revision,
        description=description,
    )["deploymentId"]
    return deployment_id
