"""Deployment engines: who shifts traffic from blue to green, behind one small interface.

Commands (status, promote, finish, rollback, release) never branch on the engine: they
ask :func:`select` for the engine that runs the live service and call its four methods.
Today that is CodeDeploy blue/green (an ECS service with the CODE_DEPLOY deployment
controller). ECS built-in blue/green (deployment controller ECS with strategy BLUE_GREEN,
ContinueServiceDeployment) is the next engine; a service using it is recognised and
refused with a clear message until it exists.

Vocabulary used everywhere: *blue* is the task set / target group serving production
(the original), *green* the replacement being deployed and tested on the test listener.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from bluegreen.aws import cfn, ecs
from bluegreen.errors import StateError
from bluegreen.names import Names, Outputs

if TYPE_CHECKING:
    from bluegreen.aws.session import Clients
    from bluegreen.config import Config


class Phase(StrEnum):
    """Where a blue/green deployment is, in the terms a person acts on."""

    QUEUED = "queued"
    INSTALLING = "installing"  # green task set starting, test traffic hooks
    WAITING = "waiting-for-reroute"  # green on the test listener; `promote` shifts production
    SHIFTING = "shifting"  # production moving to green
    TERMINATION_WAIT = "termination-wait"  # green serves; blue kept for a quick rollback
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    STOPPED = "stopped"

    @property
    def active(self) -> bool:
        return self not in (Phase.SUCCEEDED, Phase.FAILED, Phase.STOPPED)


@dataclass(frozen=True)
class LifecycleStep:
    name: str
    status: str


@dataclass(frozen=True)
class TrafficSet:
    """A task set as the engine sees it during a deployment: label and traffic weight."""

    task_set_id: str
    label: str  # blue or green
    status: str  # PRIMARY, ACTIVE, DRAINING
    weight: float  # percent of production traffic
    target_group: str
    desired: int
    running: int


@dataclass(frozen=True)
class DeploymentView:
    """The current or last deployment of the service."""

    engine: str
    id: str
    status: str  # the engine's own status word (CodeDeploy: InProgress, Ready, ...)
    phase: Phase
    created: datetime | None = None
    lifecycle: list[LifecycleStep] = field(default_factory=list)
    task_sets: list[TrafficSet] = field(default_factory=list)
    error: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "id": self.id,
            "status": self.status,
            "phase": str(self.phase),
            "created": self.created.isoformat() if self.created else None,
            "lifecycle": [{"event": s.name, "status": s.status} for s in self.lifecycle],
            "task_sets": [
                {
                    "id": t.task_set_id,
                    "label": t.label,
                    "status": t.status,
                    "traffic_weight": t.weight,
                    "target_group": t.target_group,
                    "desired": t.desired,
                    "running": t.running,
                }
                for t in self.task_sets
            ],
            "error": self.error,
        }


@dataclass(frozen=True)
class ActionResult:
    """What promote/finish/rollback did, in one sentence, and to which deployment."""

    action: str
    deployment_id: str
    message: str


@dataclass(frozen=True)
class ServiceRefs:
    """The live names and ARNs the engines and ``status`` work with (from stack outputs)."""

    cluster: str
    service: str
    application: str
    deployment_group: str
    production_listener: str
    test_listener: str
    target_groups: tuple[str, ...]
    production_port: int
    test_port: int


class DeploymentEngine(Protocol):
    """What every engine offers; each method refuses with StateError in the wrong state."""

    name: str
    refs: ServiceRefs
    service: dict[str, Any]

    def status(self) -> DeploymentView | None:
        """The current deployment, or the last one; None if the service never deployed."""
        ...

    def promote(self) -> ActionResult:
        """Shift production to green now (end the wait before reroute)."""
        ...

    def finish(self) -> ActionResult:
        """Remove blue now (end the termination wait)."""
        ...

    def rollback(self) -> ActionResult:
        """Put production back on blue and drop green."""
        ...


def service_refs(clients: Clients, config: Config) -> ServiceRefs:
    """Read the service and pipeline stack outputs; StateError if not deployed yet."""
    names = Names.of(config)
    client = clients.cloudformation
    service = cfn.outputs(client, names.service_stack)
    if not service:
        raise StateError(
            f"the service stack {names.service_stack} does not exist",
            hint="run `bluegreen deploy` first",
        )
    pipeline = cfn.outputs(client, names.pipeline_stack)
    groups = tuple(
        arn
        for arn in (
            service.get(Outputs.BLUE_TARGET_GROUP_ARN, ""),
            service.get(Outputs.GREEN_TARGET_GROUP_ARN, ""),
        )
        if arn
    )
    return ServiceRefs(
        cluster=service.get(Outputs.CLUSTER_NAME, names.cluster),
        service=service.get(Outputs.SERVICE_NAME, names.service),
        application=pipeline.get(Outputs.CODEDEPLOY_APPLICATION, names.codedeploy_application),
        deployment_group=pipeline.get(Outputs.DEPLOYMENT_GROUP, names.deployment_group),
        production_listener=service.get(Outputs.PRODUCTION_LISTENER_ARN, ""),
        test_listener=service.get(Outputs.TEST_LISTENER_ARN, ""),
        target_groups=groups,
        production_port=config.listeners.production_port,
        test_port=config.listeners.test_port,
    )


def select(clients: Clients, config: Config) -> DeploymentEngine:
    """The engine that runs the live service, chosen from its deployment controller."""
    refs = service_refs(clients, config)
    described = ecs.describe_service(clients.ecs, refs.cluster, refs.service)
    if described is None:
        raise StateError(
            f"the ECS service {refs.service} does not exist in cluster {refs.cluster}",
            hint="run `bluegreen deploy` to create it",
        )
    controller = described.get("deploymentController", {}).get("type", "ECS")
    if controller == "CODE_DEPLOY":
        from bluegreen.engine.codedeploy import CodeDeployEngine

        return CodeDeployEngine(clients, refs, described)
    strategy = described.get("deploymentConfiguration", {}).get("strategy", "")
    if controller == "ECS" and strategy == "BLUE_GREEN":
        raise StateError(
            f"{refs.service} uses ECS built-in blue/green, which bluegreen does not operate yet",
            hint="use the ECS console or aws ecs continue-service-deployment for now",
        )
    raise StateError(
        f"{refs.service} uses the {controller} deployment controller, not blue/green",
        hint="deploy the service stack with `bluegreen deploy` (it sets CODE_DEPLOY)",
    )
