"""Deployment engines: who shifts traffic from blue to green, behind one small interface.

Commands (status, promote, finish, rollback, release) never branch on the engine: they
ask :func:`select` for the engine that runs the live service and call its four methods.
They are CodeDeploy blue/green (an ECS service with the CODE_DEPLOY deployment
controller, :mod:`bluegreen.engine.codedeploy`) and ECS built-in blue/green (deployment
controller ECS with strategy BLUE_GREEN, LINEAR or CANARY, :mod:`bluegreen.engine.ecs`).

Vocabulary used everywhere: during a deployment *blue* is the original (the task set /
target group / service revision production was on when the deployment started) and
*green* the replacement being deployed, tested on the test listener and then moved to
production; the labels hold for the whole deployment, production shift included (CodeDeploy
names its task sets so, taskSetLabel BLUE/GREEN; ECS: the source and target service
revisions). Between deployments blue is what production serves.

Where an engine's methods need to report progress (``rollback`` following the deployment
it started), they take a :class:`Progress` (any object with ``step(message)``, such as
the release UI) and a ``sleep`` seam, as :mod:`bluegreen.aws.release` does.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from bluegreen.aws import cfn
from bluegreen.aws import ecs as aws_ecs
from bluegreen.aws.errors import call
from bluegreen.errors import StateError
from bluegreen.names import Names, Outputs

if TYPE_CHECKING:
    from bluegreen.aws.session import Clients
    from bluegreen.config import Config


Sleep = Callable[[float], None]


class Progress(Protocol):
    """Where an engine reports what it is doing, one line at a time (stderr in the CLI)."""

    def step(self, message: str) -> None: ...


class QuietProgress:
    """A Progress that reports nothing."""

    def step(self, message: str) -> None:
        """Report nothing."""


def short_name(arn: str) -> str:
    """The part of an ARN after its last ``/``: ``arn:...:task-definition/family:3`` ->
    ``family:3``, a service deployment's id; empty for an empty ARN."""
    return arn.rsplit("/", 1)[-1] if arn else ""


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
    ended: datetime | None = None
    """When the engine recorded the step's end (CodeDeploy: the lifecycle event's
    endTime, LifecycleEvent in the API reference); None when it gives none."""


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
    auto_reroute: bool | None = None  # reroutes by itself (None: the deployment does not say)
    paused: bool | None = None
    """ECS: a PAUSE hook awaits action (None: the engine reports readiness by status)."""
    bake_ends: datetime | None = None
    """ECS: when the bake ends, an estimate: the deployment's last update (updatedAt,
    taken as the start of BAKE_TIME, which no AWS page states) plus the bake minutes."""
    bake_left: float | None = None
    """ECS: seconds of the bake left, by the service's clock (its answer's Date header)."""
    weights: dict[str, float] = field(default_factory=dict)
    """ECS: green's requested percent of "production" and "test" traffic."""
    alarms: list[str] = field(default_factory=list)
    """The CloudWatch alarms that stopped or rolled back the deployment (CodeDeploy:
    errorInformation ALARM_ACTIVE; ECS: ServiceDeployment.alarms.triggeredAlarmNames); for
    a CodeDeploy rollback deployment, those that stopped the deployment it rolls back."""
    rollback_of: str = ""
    """CodeDeploy: the deployment this one rolls back (rollbackInfo
    .rollbackTriggeringDeploymentId), if it is a rollback deployment."""
    new_target_group: str = ""
    """With ``alarms``: the target group of the new revision of the deployment they
    stopped (CodeDeploy: its GREEN task set's; ECS: its target service revision's), to tell
    an alarm on the new revision from one on production's, the previous revision's."""
    phase_name: str = ""
    """The engine's own word for the phase where it differs from the shared one (ECS:
    ``bake-time`` for its BAKE_TIME lifecycle stage, which CodeDeploy calls the
    termination wait); empty: the phase's own word."""

    @property
    def phase_text(self) -> str:
        """The phase as the commands show it: the engine's word for it."""
        return self.phase_name or str(self.phase)

    @property
    def ready(self) -> bool:
        """The engine itself reports the deployment waiting for reroute (CodeDeploy: the
        deployment status is ``Ready``, the only state ContinueDeployment(READY_WAIT)
        accepts; ECS: a PAUSE hook is AWAITING_ACTION, the only state
        ContinueServiceDeployment accepts). The phase may also read WAITING from
        lifecycle events, for display."""
        if self.paused is not None:
            return self.paused
        return self.status == "Ready"

    def to_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "engine": self.engine,
            "id": self.id,
            "status": self.status,
            "phase": self.phase_text,
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
            # The same keys whatever the engine (None, {} where it reports none: CodeDeploy
            # has no bake, and its traffic split is in task_sets' traffic_weight).
            "bake_ends": self.bake_ends.isoformat() if self.bake_ends else None,
            "bake_seconds_left": None if self.bake_left is None else int(self.bake_left),
            "green_traffic_percent": dict(self.weights),
        }
        if self.alarms:
            found["alarms"] = list(self.alarms)
            found["new_target_group"] = self.new_target_group or None
        return found


@dataclass(frozen=True)
class ActionResult:
    """What promote/finish/rollback did, in one sentence, and to which deployment.

    A rollback that redeploys the previous release also names the deployment it started
    (``started``), the revision it redeploys (``revision``, the task definition), where
    that deployment was when the command returned (``phase``) and whether the command
    promoted it (``promoted``).
    """

    action: str
    deployment_id: str
    message: str
    started: str = ""
    revision: str = ""
    phase: str = ""
    promoted: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "deployment_id": self.deployment_id,
            "message": self.message,
            "started_deployment": self.started or None,
            "revision": self.revision or None,
            "phase": self.phase or None,
            "promoted": self.promoted,
        }


@dataclass(frozen=True)
class Ending:
    """How a deployment ended (or that it has not yet), in the terms the rehearsal and
    the release report share across engines."""

    status: str
    """The engine's own status word (CodeDeploy: Succeeded, Stopped ...; ECS: SUCCESSFUL,
    ROLLBACK_SUCCESSFUL ...)."""
    outcome: str
    """``succeeded``, ``rolled back`` (production went back to blue), ``stopped``,
    ``failed``; empty while the deployment runs."""
    reason: str = ""
    """Why it did not succeed, as the engine says."""
    rollback: bool = False
    """The deployment itself rolls another back (CodeDeploy's rollback deployment, or
    the one ``bluegreen rollback`` started)."""
    alarms: tuple[str, ...] = ()
    """The CloudWatch alarms that stopped or rolled it back (see DeploymentView.alarms)."""


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
    region: str = ""
    pipeline_stack: str = ""
    pipeline_deployed: bool = True  # the pipeline stack exists and has its outputs
    production_rule: str = ""  # ECS engine: the listener rules ECS shifts traffic on
    test_rule: str = ""


class DeploymentEngine(Protocol):
    """What every engine offers; each method refuses with StateError in the wrong state."""

    name: str
    refs: ServiceRefs
    service: dict[str, Any]
    noun: str
    """What the engine calls one deployment ("Deployment", "Service deployment")."""
    creation_deploys: bool
    """Creating the service is itself a deployment that may wait for reroute (ECS), so
    ``deploy`` calls :meth:`continue_creation` while it creates the stacks."""
    commands: tuple[tuple[str, str], ...]
    """The commands that end a release's waits under this engine, with what each does
    (``bluegreen sandbox``'s banner: :func:`commands_of`)."""
    absent: str
    """After :meth:`status` returned None: why there is no deployment to show when the
    reason is that the engine's own resources do not exist yet (CodeDeploy: no deployment
    group, the pipeline stack is missing); empty when it simply never deployed."""

    def status(self) -> DeploymentView | None:
        """The current deployment, or the last one; None if the service never deployed
        (or the engine's resources do not exist yet: see ``absent``)."""
        ...

    def forwards(self) -> dict[str, list[tuple[str, int]]]:
        """ "production"/"test" -> (target group ARN, weight) of what the load balancer
        forwards now, where this engine moves traffic; a missing listener is left out."""
        ...

    def scope(self) -> str:
        """What a deployment deploys to, in the engine's terms (CodeDeploy: the deployment
        group; ECS: the service)."""
        ...

    def ending(self, deployment_id: str) -> Ending:
        """How ``deployment_id`` ended, or that it runs still (outcome empty)."""
        ...

    def continue_creation(self) -> ActionResult | None:
        """When the service's creation is itself a deployment that waits for reroute
        (ECS: its first service deployment paused by the PAUSE hook), continue it: nothing
        serves production yet, so there is nothing to protect. None: nothing to do."""
        ...

    def following(self, external_id: str) -> DeploymentView | None:
        """The deployment that the pipeline's in-progress Deploy action runs, given the
        action's external execution id (CodeDeploy: the deployment id; ECS engine: the
        deploy step's build id); None when it is not (yet) this engine's deployment."""
        ...

    def promote(self) -> ActionResult:
        """Shift production to green now (end the wait before reroute)."""
        ...

    def promote_if_ready(self, view: DeploymentView) -> ActionResult | None:
        """Promote ``view``'s deployment if the engine reports it waiting for reroute and
        does not reroute by itself; None (nothing done) otherwise, including when the
        engine answers that it is not ready yet. For commands that follow a deployment
        and promote it on the user's behalf (deploy's first release, rollback)."""
        ...

    def finish(self) -> ActionResult:
        """Remove blue now (end the termination wait)."""
        ...

    def rollback(
        self,
        *,
        follow: bool = False,
        ui: Progress | None = None,
        sleep: Sleep = time.sleep,
        interval: float = 10.0,
    ) -> ActionResult:
        """Put production back on the previous release.

        During a deployment: stop it and let the engine route back to blue. After a
        deployment succeeded: deploy the previous release again through the engine;
        with ``follow``, report its progress to ``ui`` and promote it when it waits for
        reroute, until production serves it.
        """
        ...


def service_refs(clients: Clients, config: Config) -> ServiceRefs:
    """Read the service and pipeline stack outputs; StateError when the service stack has
    none, saying why (missing in this region, still being created, failed)."""
    names = Names.of(config)
    client = clients.cloudformation
    region = clients.region
    described = cfn.describe_stack(client, names.service_stack)
    service = cfn.outputs_of(described)
    if not service:
        raise _no_service_outputs(names.service_stack, described, region)
    pipeline_stack = cfn.describe_stack(client, names.pipeline_stack)
    pipeline = cfn.outputs_of(pipeline_stack)
    return _refs(
        service,
        pipeline,
        cluster=names.cluster,
        service_name=names.service,
        application=names.codedeploy_application,
        deployment_group=names.deployment_group,
        ports=(config.listeners.production_port, config.listeners.test_port),
        region=region,
        pipeline_stack=names.pipeline_stack,
    )


def _refs(
    service: dict[str, str],
    pipeline: dict[str, str],
    *,
    cluster: str,
    service_name: str,
    application: str,
    deployment_group: str,
    ports: tuple[int, int],
    region: str,
    pipeline_stack: str,
) -> ServiceRefs:
    """ServiceRefs from the service and pipeline stacks' outputs (the names given: where
    an output is missing)."""
    groups = tuple(
        arn
        for arn in (
            service.get(Outputs.BLUE_TARGET_GROUP_ARN, ""),
            service.get(Outputs.GREEN_TARGET_GROUP_ARN, ""),
        )
        if arn
    )
    return ServiceRefs(
        cluster=service.get(Outputs.CLUSTER_NAME, cluster),
        service=service.get(Outputs.SERVICE_NAME, service_name),
        application=pipeline.get(Outputs.CODEDEPLOY_APPLICATION, application),
        deployment_group=pipeline.get(Outputs.DEPLOYMENT_GROUP, deployment_group),
        production_listener=service.get(Outputs.PRODUCTION_LISTENER_ARN, ""),
        test_listener=service.get(Outputs.TEST_LISTENER_ARN, ""),
        target_groups=groups,
        production_port=ports[0],
        test_port=ports[1],
        region=region,
        pipeline_stack=pipeline_stack,
        pipeline_deployed=bool(pipeline),
        production_rule=service.get(Outputs.PRODUCTION_RULE_ARN, ""),
        test_rule=service.get(Outputs.TEST_RULE_ARN, ""),
    )


@dataclass(frozen=True)
class LiveSystem:
    """A bluegreen system found in the account (:func:`discover`)."""

    engine: DeploymentEngine
    pipeline: str
    """Its pipeline's name ("" while its pipeline stack has no outputs)."""


def discover(clients: Clients) -> list[LiveSystem]:
    """The engine of every bluegreen system in the account and region, found by its
    service stack's outputs (``<prefix>-service`` with a cluster and a service; its
    pipeline stack ``<prefix>-pipeline``), for a reader that has no bluegreen.toml (the
    sandbox watches whatever is deployed on it). A service that does not exist (yet), or
    runs no blue/green, is left out. The listener ports are not in the outputs: 0."""
    stacks: dict[str, dict[str, str]] = {}
    token: str | None = None
    for _ in range(100):  # DescribeStacks pages (NextToken); bounded
        page = call(
            clients.cloudformation, "describe_stacks", **({"NextToken": token} if token else {})
        )
        for stack in page.get("Stacks", []):
            stacks[str(stack["StackName"])] = cfn.outputs_of(stack)
        token = page.get("NextToken")
        if not token:
            break
    found: list[LiveSystem] = []
    for name, outputs in sorted(stacks.items()):
        if not name.endswith("-service") or Outputs.SERVICE_NAME not in outputs:
            continue
        if Outputs.CLUSTER_NAME not in outputs:
            continue
        prefix = name[: -len("-service")]
        pipeline = stacks.get(f"{prefix}-pipeline", {})
        refs = _refs(
            outputs,
            pipeline,
            cluster=outputs[Outputs.CLUSTER_NAME],
            service_name=outputs[Outputs.SERVICE_NAME],
            application="",
            deployment_group="",
            ports=(0, 0),
            region=clients.region,
            pipeline_stack=f"{prefix}-pipeline",
        )
        described = aws_ecs.describe_service(clients.ecs, refs.cluster, refs.service)
        if described is None:
            continue
        try:
            engine = _engine_for(clients, refs, described)
        except StateError:
            continue
        found.append(LiveSystem(engine, pipeline.get(Outputs.PIPELINE_NAME, "")))
    return found


# CloudFormation stack states (CloudFormation user guide, "Stack status codes"): a stack
# has its outputs once a create or update completes; before that, or after a failed
# create, DescribeStacks lists the stack without outputs.
_FAILED_CREATE = {"CREATE_FAILED", "ROLLBACK_IN_PROGRESS", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED"}


def _no_service_outputs(stack: str, described: dict[str, Any] | None, region: str) -> StateError:
    """Why the service stack has no outputs, and what to do about it."""
    if described is None:
        return StateError(
            f"the service stack {stack} does not exist in {region}",
            hint=f"check --region and project.region ({region} is the one used); "
            "if it is right, create the stacks with `bluegreen deploy`",
        )
    status = str(described.get("StackStatus", ""))
    reason = str(described.get("StackStatusReason") or "")
    where = f"the service stack {stack} in {region}"
    if status == "REVIEW_IN_PROGRESS":
        return StateError(
            f"{where} has not been created yet (REVIEW_IN_PROGRESS: its change set was "
            "never executed)",
            hint="run `bluegreen deploy` to create it",
        )
    if status in _FAILED_CREATE:
        because = f": {reason}" if reason else ""
        hint = (
            "wait for the rollback to end, then run `bluegreen deploy` again"
            if status == "ROLLBACK_IN_PROGRESS"
            else "see its events in the CloudFormation console, fix the cause and run "
            "`bluegreen deploy` again"
            + (
                " (it deletes the failed stack and creates it again)"
                if status == "ROLLBACK_COMPLETE"
                else " (after `bluegreen destroy` removes the failed stack)"
            )
        )
        return StateError(f"{where} failed to create ({status}{because})", hint=hint)
    if status.startswith("DELETE_"):
        return StateError(
            f"{where} is being deleted or failed to delete ({status})",
            hint="let `bluegreen destroy` finish, then `bluegreen deploy` creates it again",
        )
    if status.endswith("_IN_PROGRESS"):
        return StateError(
            f"{where} is being created ({status}) and has no outputs yet",
            hint="wait until `bluegreen deploy` has finished it, then try again",
        )
    return StateError(
        f"{where} has no outputs ({status})",
        hint="run `bluegreen deploy` to bring it up to date",
    )


def planned(config: Config) -> tuple[str, str]:
    """What the configured engine deploys to and how, in its own terms, before anything
    exists (the rehearsal's summary): CodeDeploy's deployment group and deployment
    configuration, or the ECS service and its strategy."""
    names = Names.of(config)
    deployment = config.deployment
    if deployment.engine != "ecs":
        return names.deployment_group, deployment.config
    settings = deployment.ecs
    how = f"ECS {settings.strategy}"
    if settings.strategy == "LINEAR":
        how += f" {settings.step_percent:g} % every {settings.step_bake_minutes} min"
    elif settings.strategy == "CANARY":
        how += f" {settings.canary_percent:g} % for {settings.canary_bake_minutes} min"
    if deployment.reroute == "manual":
        how += f", PAUSE hook at {_PAUSE_STAGE} ({deployment.wait_minutes} min, then ROLLBACK)"
    how += f", bake {settings.bake_minutes} min"
    return f"service {names.service}", how


_PAUSE_STAGE = "POST_TEST_TRAFFIC_SHIFT"  # bluegreen.stacks.service.PAUSE_STAGE


def deployments_console(region: str, config: Config, pipeline_outputs: dict[str, str]) -> str:
    """Where the configured engine's deployments are seen in the console: CodeDeploy's
    deployment group, or the ECS service's Deployments tab."""
    from bluegreen.aws import console

    names = Names.of(config)
    if config.deployment.engine == "ecs":
        return console.service_deployments(region, names.cluster, names.service)
    return console.deployment_group(
        region,
        pipeline_outputs.get(Outputs.CODEDEPLOY_APPLICATION, names.codedeploy_application),
        pipeline_outputs.get(Outputs.DEPLOYMENT_GROUP, names.deployment_group),
    )


def commands_of(engine: str) -> tuple[tuple[str, str], ...]:
    """The commands that end a release's waits under the configured deployment.engine
    (its class's ``commands``), before anything is deployed."""
    if engine == "ecs":
        from bluegreen.engine.ecs import EcsEngine

        return EcsEngine.commands
    from bluegreen.engine.codedeploy import CodeDeployEngine

    return CodeDeployEngine.commands


def creation_engine(clients: Clients, config: Config) -> DeploymentEngine | None:
    """The engine of the service as it is being created, named from the config (its
    stack has no outputs yet); None while ECS does not describe the service yet."""
    names = Names.of(config)
    described = aws_ecs.describe_service(clients.ecs, names.cluster, names.service)
    if described is None:
        return None
    refs = ServiceRefs(
        cluster=names.cluster,
        service=names.service,
        application=names.codedeploy_application,
        deployment_group=names.deployment_group,
        production_listener="",
        test_listener="",
        target_groups=(),
        production_port=config.listeners.production_port,
        test_port=config.listeners.test_port,
        region=clients.region,
    )
    return _engine_for(clients, refs, described)


def select(clients: Clients, config: Config) -> DeploymentEngine:
    """The engine that runs the live service, chosen from its deployment controller."""
    refs = service_refs(clients, config)
    described = aws_ecs.describe_service(clients.ecs, refs.cluster, refs.service)
    if described is None:
        raise StateError(
            f"the ECS service {refs.service} does not exist in cluster {refs.cluster}",
            hint="run `bluegreen deploy` to create it",
        )
    return _engine_for(clients, refs, described)


def _engine_for(clients: Clients, refs: ServiceRefs, described: dict[str, Any]) -> DeploymentEngine:
    controller = described.get("deploymentController", {}).get("type", "ECS")
    if controller == "CODE_DEPLOY":
        from bluegreen.engine.codedeploy import CodeDeployEngine

        return CodeDeployEngine(clients, refs, described)
    strategy = described.get("deploymentConfiguration", {}).get("strategy", "")
    if controller == "ECS" and strategy in ("BLUE_GREEN", "LINEAR", "CANARY"):
        from bluegreen.engine.ecs import EcsEngine

        return EcsEngine(clients, refs, described)
    raise StateError(
        f"{refs.service} uses the {controller} deployment controller"
        + (f" with strategy {strategy}" if strategy else "")
        + ", not blue/green",
        hint="deploy the service stack with `bluegreen deploy` (deployment.engine sets "
        'CODE_DEPLOY for "codedeploy", built-in blue/green for "ecs")',
    )
