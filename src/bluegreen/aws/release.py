"""``release``: start the pipeline (the console's "Release change") and follow it.

Following reads the execution's status and the pipeline state (stage and action
statuses) every few seconds and reports only what changed. It ends when the execution
ends, or when the Deploy action's CodeDeploy deployment is waiting for reroute (its
status is ``Ready``): the pipeline stays in progress then, and a person decides
(``promote`` or ``rollback``). The Deploy action's ``externalExecutionId`` is the
CodeDeploy deployment id (``d-...``), which is how the deployment is recognised.

GetPipelineState gives each stage's latest execution with its ``pipelineExecutionId``,
but each action's latest execution (``ActionExecution``) has no pipeline execution id
(CodePipeline API reference, ActionState / ActionExecution / StageExecution; botocore's
codepipeline model): an action the new execution has not reached yet still shows the
previous execution's run. Following skips an action whose ``lastStatusChange`` is
earlier than the execution's ``startTime`` (ListPipelineExecutions,
PipelineExecutionSummary), so only this execution's action states are reported.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from bluegreen import engine as engine_mod
from bluegreen.aws import console, pipeline
from bluegreen.aws.errors import call
from bluegreen.engine import DeploymentEngine, Phase
from bluegreen.errors import StateError
from bluegreen.names import Names

if TYPE_CHECKING:
    from bluegreen.aws.session import Clients
    from bluegreen.config import Config

Sleep = Callable[[float], None]

FINISHED = {"Succeeded", "Failed", "Stopped", "Superseded", "Cancelled"}
FAILED = {"Failed", "Stopped", "Cancelled"}
FIRST_EXECUTION_POLLS = 6
"""How often deploy looks for the pipeline's first run before giving up (one interval apart)."""
MOVED = frozenset({Phase.TERMINATION_WAIT, Phase.SUCCEEDED})
"""Phases in which production serves the new release (the first release ends there)."""


class ReleaseUI(Protocol):
    def step(self, message: str) -> None: ...


@dataclass
class ReleaseResult:
    pipeline: str
    execution_id: str
    status: str  # the execution's status when we stopped following
    link: str
    waiting_deployment: str = ""
    failed_action: str = ""
    error: str = ""
    followed: bool = True
    deployment_phase: str = ""
    promoted: bool = False
    held: str = ""
    """Why deploy did not promote the first release (its tasks fail the load balancer's
    health check behind the test listener): it stopped the deployment instead, and
    ``error`` says so once the execution has failed."""

    @property
    def failed(self) -> bool:
        return self.status in FAILED

    def to_dict(self) -> dict[str, Any]:
        return {
            "pipeline": self.pipeline,
            "execution_id": self.execution_id,
            "status": self.status,
            "console": self.link,
            "waiting_deployment": self.waiting_deployment or None,
            "failed_action": self.failed_action or None,
            "error": self.error or None,
            "deployment_phase": self.deployment_phase or None,
            "promoted": self.promoted,
        }


def release(
    clients: Clients,
    config: Config,
    ui: ReleaseUI,
    *,
    follow: bool = True,
    sleep: Sleep = time.sleep,
    interval: float = 10.0,
) -> ReleaseResult:
    """Start the pipeline and, unless ``follow`` is False, follow it (module docstring)."""
    name = Names.of(config).pipeline
    execution_id = pipeline.start(clients.codepipeline, name)
    ui.step(f"started {name} execution {execution_id}")
    if not follow:
        link = console.pipeline_execution(clients.region, name, execution_id)
        return ReleaseResult(name, execution_id, "InProgress", link, followed=False)
    return follow_execution(clients, config, ui, execution_id, sleep=sleep, interval=interval)


def follow_execution(
    clients: Clients,
    config: Config,
    ui: ReleaseUI,
    execution_id: str,
    *,
    promote: bool = False,
    sleep: Sleep = time.sleep,
    interval: float = 10.0,
    engine: DeploymentEngine | None = None,
) -> ReleaseResult:
    """Follow one pipeline execution, reporting what changed, until it ends or its
    deployment waits for reroute (the engine reports it ready: CodeDeploy status
    ``Ready``, never the lifecycle heuristic alone).

    With ``promote`` (deploy's first release, see :func:`first_release`) it does not
    stop there: it promotes the deployment once it is ready (unless the deployment group
    reroutes by itself) and follows on until production has moved to it (termination
    wait or succeeded).
    """
    name = Names.of(config).pipeline
    client = clients.codepipeline
    link = console.pipeline_execution(clients.region, name, execution_id)
    result = ReleaseResult(name, execution_id, "InProgress", link)
    printed: dict[str, str] = {}
    since = _started(client, name, execution_id)
    creating = promote  # the first release: the service's creation may still be paused
    while True:
        status = pipeline.execution(client, name, execution_id).get("status", "")
        stages = _this_execution(pipeline.state(client, name), execution_id, since)
        for line_key, text in _changes(stages, execution_id):
            if printed.get(line_key) != text:
                printed[line_key] = text
                ui.step(text)
        if status in FINISHED:
            result.status = status
            if status in FAILED:
                result.failed_action, result.error = _failure(stages, execution_id)
                if result.held:
                    result.error = f"deploy did not promote it: {result.held}"
            return result
        external = _deploying(stages, execution_id)
        if creating:
            # Before the first release deploys, continue the service's creation if it
            # waits at a pause (DeploymentEngine.continue_creation; deploy tries while
            # it creates the stacks, this covers a pause reached after them).
            if engine is None:
                engine = engine_mod.select(clients, config)
            if external or not engine.creation_deploys:
                creating = False
            else:
                action = engine.continue_creation()
                if action is not None:
                    creating = False
                    ui.step(action.message)
        if external:
            if engine is None:
                engine = engine_mod.select(clients, config)
            view = engine.following(external)
            deployment_id = view.id if view is not None else ""
            if view is not None:
                result.deployment_phase = view.phase_text
                if not promote and view.ready:
                    result.status = status
                    result.waiting_deployment = deployment_id
                    return result
                if promote and view.phase in MOVED:
                    result.status = status
                    return result
                if promote and not result.promoted and not result.held and view.ready:
                    verdict, why = replacement_health(clients, engine)
                    if verdict == UNHEALTHY:
                        result.held = why
                        stopped = engine.rollback()
                        ui.step(f"not promoting the first release: {why}; {stopped.message}")
                    elif verdict == HEALTHY:
                        promoted = engine.promote_if_ready(view)
                        if promoted is not None:
                            result.promoted = True
                            result.waiting_deployment = deployment_id
                            ui.step(
                                "promoted the first release (blue was the bootstrap "
                                "placeholder): " + promoted.message
                            )
        sleep(interval)


def first_release(
    clients: Clients,
    config: Config,
    ui: ReleaseUI,
    *,
    sleep: Sleep = time.sleep,
    interval: float = 10.0,
    engine: DeploymentEngine | None = None,
) -> ReleaseResult:
    """Follow the pipeline's first run (started when the pipeline was created) until
    production serves the first release, promoting it when it waits for reroute.

    Promoting needs no person here: production serves only the bootstrap placeholder,
    so there is nothing on blue to protect. It is promoted only when CodeDeploy reports
    it ``Ready`` and the deployment group does not reroute by itself; a promotion
    CodeDeploy refuses as not ready yet is tried again on the next poll. Later releases
    wait for ``bluegreen promote`` as configured.
    """
    name = Names.of(config).pipeline
    # CodePipeline starts a run when it creates the pipeline (CodePipeline user guide,
    # "Start a pipeline in CodePipeline": trigger CreatePipeline); it can take a moment
    # to be listed.
    latest = pipeline.latest_execution(clients.codepipeline, name)
    if latest is None:
        ui.step(
            f"waiting for the pipeline's first run ({name}, started when the pipeline was "
            f"created) to be listed; checking every {interval:g} s ..."
        )
    for _ in range(FIRST_EXECUTION_POLLS - 1):
        if latest is not None:
            break
        sleep(interval)
        latest = pipeline.latest_execution(clients.codepipeline, name)
    if latest is None:
        waited = interval * (FIRST_EXECUTION_POLLS - 1)
        raise StateError(
            f"the stacks are deployed, but pipeline {name} has not listed a first run after "
            f"{waited:g} s, so there is no release to follow",
            hint="start the first release with `bluegreen release` (or push to "
            f"{config.source.branch}), then follow it with `bluegreen status --watch`",
        )
    execution_id = str(latest["pipelineExecutionId"])
    ui.step(f"following the first release: {name} execution {execution_id}")
    if engine is None:
        engine = engine_mod.select(clients, config)
    return follow_execution(
        clients,
        config,
        ui,
        execution_id,
        promote=True,
        sleep=sleep,
        interval=interval,
        engine=engine,
    )


HEALTHY, UNHEALTHY, PENDING = "healthy", "unhealthy", "pending"

FAILED_HEALTH_CHECKS = "Task failed ELB health checks"
"""How ECS's stoppedReason starts for a task it stopped because its load balancer target
failed the health check: "Task failed ELB health checks in (target-group <arn>)", as
Copilot's deploy progress shows it (gist.github.com/efekarakus/
fe4afc1ab8b54835d27e47e253f46254, "Stopped Tasks Reason")."""


def replacement_health(clients: Clients, engine: DeploymentEngine) -> tuple[str, str]:
    """Whether the tasks the test listener serves pass the load balancer's health check:
    (HEALTHY, ""), (UNHEALTHY, why) or (PENDING, "") while it is still checking.

    deploy promotes the first release on its own (production serves only the bootstrap
    placeholder), so it asks this first. A replacement target group that no listener uses
    has its targets ``unused`` (``Target.NotInUse``: "The target group is not used by any
    load balancer", ELBv2 API reference, TargetHealth), and then Install requires no
    health check of its tasks -- the CodeDeploy team's note quoted in traveloka/
    terraform-aws-alb-single-listener#47 ("allows future deployments to be required to
    pass ELB Health Checks during the Install phase as the forward rule would exist
    between the ELB and the replacement target group") -- and a deployment completes with
    unhealthy replacement tasks (aws/containers-roadmap#1941). bluegreen's CodeDeploy
    listeners forward {blue: 100, green: 0} from the first deploy
    (:mod:`bluegreen.stacks.service`), so Install already waits for the first release's
    tasks to be healthy; this check still catches what fails after Install (a task that
    stops answering, or that ECS stopped: "Task failed ELB health checks in
    (target-group ...)"), and a system whose listeners a stack deployed before then.

    UNHEALTHY when a target of the group is ``unhealthy`` (its reason code and
    description, DescribeTargetHealth), or when ECS stopped a task of the replacement's
    task definition for failing the check since the deployment began; HEALTHY when every
    target is ``healthy``; PENDING otherwise (initial, draining, not registered yet).
    """
    refs = engine.refs
    live = [arn for arn, weight in (engine.forwards().get("test") or []) if weight]
    if len(live) != 1:
        return PENDING, ""
    group = live[0]
    port = refs.test_port
    name = group.split("/")[-2] if group.count("/") >= 2 else group
    answer = call(clients.elbv2, "describe_target_health", TargetGroupArn=group)
    states = [d.get("TargetHealth", {}) for d in answer.get("TargetHealthDescriptions", [])]
    for state in states:
        if state.get("State") == "unhealthy":
            reason = state.get("Reason", "")
            text = state.get("Description", "")
            return UNHEALTHY, (
                f"its tasks fail the load balancer's health check behind the test listener "
                f":{port} (target group {name}: {reason}" + (f", {text}" if text else "") + ")"
            )
    stopped = _failed_health_checks(clients, engine, group)
    if stopped:
        return UNHEALTHY, (
            f"its tasks fail the load balancer's health check behind the test listener "
            f":{port}: ECS stopped {stopped}"
        )
    if states and all(s.get("State") == "healthy" for s in states):
        return HEALTHY, ""
    return PENDING, ""


def _failed_health_checks(clients: Clients, engine: DeploymentEngine, group: str) -> str:
    """The stoppedReason of a task of the service that ECS stopped for failing the load
    balancer's health check in ``group`` (the newest), or "": only the replacement's
    tasks were ever registered in the group of a first release's test listener."""
    refs = engine.refs
    arns = call(
        clients.ecs,
        "list_tasks",
        cluster=refs.cluster,
        serviceName=refs.service,
        desiredStatus="STOPPED",
    ).get("taskArns", [])
    if not arns:
        return ""
    tasks = call(clients.ecs, "describe_tasks", cluster=refs.cluster, tasks=arns[:100]).get(
        "tasks", []
    )
    failed = [
        t
        for t in tasks
        if str(t.get("stoppedReason", "")).startswith(FAILED_HEALTH_CHECKS)
        and group in str(t.get("stoppedReason", ""))
    ]
    if not failed:
        return ""
    newest = max(failed, key=lambda t: str(t.get("stoppedAt", "")))
    task_id = str(newest.get("taskArn", "")).rsplit("/", 1)[-1]
    return f"task {task_id}: {newest.get('stoppedReason')}"


EXECUTIONS_LOOKED_AT = 20
"""How many of the newest executions :func:`_started` looks through for the one followed."""


def _started(codepipeline: Any, name: str, execution_id: str) -> datetime | None:
    """When the execution started (ListPipelineExecutions lists the newest first, each
    with its ``startTime``); None if it is not among the newest listed."""
    summaries = call(
        codepipeline,
        "list_pipeline_executions",
        pipelineName=name,
        maxResults=EXECUTIONS_LOOKED_AT,
    ).get("pipelineExecutionSummaries", [])
    for summary in summaries:
        started = summary.get("startTime")
        if summary.get("pipelineExecutionId") == execution_id and isinstance(started, datetime):
            return started
    return None


def _this_execution(
    stages: list[dict[str, Any]], execution_id: str, since: datetime | None
) -> list[dict[str, Any]]:
    """The stages of ``execution_id`` (its ``pipelineExecutionId``), each without the
    actions whose latest run changed before the execution started: an earlier
    execution's (module docstring). Without a start time, the stages as they are."""
    kept = []
    for stage in stages:
        if not _mine(stage, execution_id):
            continue
        if since is not None:
            actions = [
                action
                for action in stage.get("actionStates", [])
                if not _before(action.get("latestExecution", {}).get("lastStatusChange"), since)
            ]
            stage = {**stage, "actionStates": actions}
        kept.append(stage)
    return kept


def _before(changed: Any, since: datetime) -> bool:
    return isinstance(changed, datetime) and changed < since


def _mine(stage: dict[str, Any], execution_id: str) -> bool:
    return bool(stage.get("latestExecution", {}).get("pipelineExecutionId") == execution_id)


def _changes(stages: list[dict[str, Any]], execution_id: str) -> list[tuple[str, str]]:
    lines = []
    for stage in stages:
        if not _mine(stage, execution_id):
            continue
        name = stage.get("stageName", "")
        for action in stage.get("actionStates", []):
            last = action.get("latestExecution", {})
            status = last.get("status", "")
            if not status:
                continue
            text = f"{name}/{action.get('actionName', '')}: {status}"
            external = last.get("externalExecutionId") or ""
            if external and status == "InProgress":
                text += f" ({external})"
            lines.append((f"{name}/{action.get('actionName', '')}", text))
    return lines


def _deploying(stages: list[dict[str, Any]], execution_id: str) -> str:
    """The external execution id of an in-progress action of this execution's Deploy
    stage, if any (a CodeDeploy deployment id, or the ECS engine's deploy build id); the
    engine says which deployment it runs (``DeploymentEngine.following``)."""
    for stage in stages:
        if not _mine(stage, execution_id) or stage.get("stageName") != "Deploy":
            continue
        for action in stage.get("actionStates", []):
            last = action.get("latestExecution", {})
            external = last.get("externalExecutionId") or ""
            if last.get("status") == "InProgress" and external:
                return str(external)
    return ""


def _failure(stages: list[dict[str, Any]], execution_id: str) -> tuple[str, str]:
    for stage in stages:
        if not _mine(stage, execution_id):
            continue
        for action in stage.get("actionStates", []):
            last = action.get("latestExecution", {})
            if last.get("status") == "Failed":
                details = last.get("errorDetails", {})
                message = details.get("message") or last.get("summary") or "failed"
                return f"{stage.get('stageName')}/{action.get('actionName')}", str(message)
    return "", ""
