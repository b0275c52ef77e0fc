"""``status``: the pipeline, the deployment, the listeners, the task sets, in one read.

The number of API calls is bounded whatever the number of tasks: one describe_stacks
per stack for the names, get_pipeline_state + list_pipeline_executions, the engine's
deployment (one filtered ListDeployments; when none is active a 30-day one and only then
an unbounded one, each paged; one BatchGetDeployments per 25 ids; the target; for a
rollback deployment one GetDeployment of the deployment it rolls back), one
describe_listeners for both listeners,
one describe_target_health per target group (two), one describe_services (task sets)
and one describe_task_definition per distinct task definition (at most two during a
release). Nothing is called per task.

Blue and green: during a deployment the engine labels them, for the whole deployment
(production shift and bake included): CodeDeploy labels its task sets (BLUE the
original, GREEN the replacement); the ECS engine labels the source service revision's
target group blue and the target revision's green (one DescribeServiceRevisions more).
Otherwise *blue* is the target group production forwards to (the heaviest weight) and
*green* the other one of the pair.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bluegreen import engine as engine_mod
from bluegreen.aws import builds, ecs, elb, pipeline, verification
from bluegreen.aws.errors import AwsCallError
from bluegreen.aws.verification import VerificationView, alarm_subjects
from bluegreen.engine import DeploymentEngine, DeploymentView, Phase
from bluegreen.names import Names

if TYPE_CHECKING:
    from bluegreen.aws.session import Clients
    from bluegreen.config import Config

ROLES = (
    "blue: the revision production serves (during a release: served when it began), "
    "green: the new one"
)
"""What blue and green mean, the same under both engines (the module docstring): shown
by ``status`` and the rehearsal next to the target groups, whose names stay while the
roles move to the new revision when a release ends (review U6)."""


@dataclass(frozen=True)
class ActionView:
    name: str
    status: str
    summary: str = ""
    external_id: str = ""
    error: str = ""
    changed: datetime | None = None
    """When CodePipeline recorded the status (latestExecution.lastStatusChange)."""


@dataclass(frozen=True)
class StageView:
    name: str
    status: str  # of the latest execution; "NotStarted" when it has not reached the stage
    actions: list[ActionView] = field(default_factory=list)


@dataclass(frozen=True)
class PipelineView:
    name: str
    execution_id: str = ""
    status: str = ""
    started: datetime | None = None
    revision: str = ""
    revision_summary: str = ""
    stages: list[StageView] = field(default_factory=list)


@dataclass(frozen=True)
class ListenerView:
    role: str  # production or test
    port: int
    forwards: list[tuple[str, int]]  # (target group name, weight percent)


@dataclass(frozen=True)
class TargetGroupView:
    name: str
    label: str  # blue or green
    health: dict[str, int]


@dataclass(frozen=True)
class TaskSetView:
    id: str
    status: str  # PRIMARY, ACTIVE, DRAINING
    label: str  # blue, green or "" when unknown
    task_definition: str  # family:revision
    images: list[tuple[str, str]]  # (container, image tag)
    running: int
    desired: int
    pending: int
    target_group: str


@dataclass(frozen=True)
class SystemStatus:
    pipeline: PipelineView | None
    deployment: DeploymentView | None
    listeners: list[ListenerView]
    target_groups: list[TargetGroupView]
    task_sets: list[TaskSetView]
    deployment_note: str = ""  # why there is no deployment to show (no deployment group)
    verification: VerificationView | None = None  # [verify]'s checks and alarms (issue 11)

    def _deployment_dict(self) -> dict[str, Any] | None:
        """The deployment, and for alarms that stopped it what each watched and whose
        revision that was (aws/verification.alarm_subjects)."""
        if self.deployment is None:
            return None
        found = self.deployment.to_dict()
        if self.deployment.alarms:
            watches = self.verification.watches if self.verification else {}
            found["alarm_subjects"] = [
                {"alarm": name, "watches": watched or None, "revision": whose or None}
                for name, watched, whose in alarm_subjects(
                    self.deployment.alarms, self.deployment.new_target_group, watches
                )
            ]
        return found

    def to_dict(self) -> dict[str, Any]:
        p = self.pipeline
        return {
            "pipeline": None
            if p is None
            else {
                "name": p.name,
                "execution_id": p.execution_id,
                "status": p.status,
                "started": p.started.isoformat() if p.started else None,
                "revision": p.revision,
                "revision_summary": p.revision_summary,
                "stages": [
                    {
                        "name": s.name,
                        "status": s.status,
                        "actions": [
                            {
                                "name": a.name,
                                "status": a.status,
                                "summary": a.summary,
                                "external_id": a.external_id,
                                "error": a.error,
                            }
                            for a in s.actions
                        ],
                    }
                    for s in p.stages
                ],
            },
            "deployment": self._deployment_dict(),
            "deployment_note": self.deployment_note or None,
            "listeners": [
                {
                    "role": listener.role,
                    "port": listener.port,
                    "forwards": [{"target_group": n, "weight": w} for n, w in listener.forwards],
                }
                for listener in self.listeners
            ],
            "target_groups": [
                {"name": g.name, "label": g.label, "health": g.health} for g in self.target_groups
            ],
            "task_sets": [
                {
                    "id": t.id,
                    "status": t.status,
                    "label": t.label,
                    "task_definition": t.task_definition,
                    "images": {c: tag for c, tag in t.images},
                    "running": t.running,
                    "desired": t.desired,
                    "pending": t.pending,
                    "target_group": t.target_group,
                }
                for t in self.task_sets
            ],
            **({"verify": self.verification.to_dict()} if self.verification else {}),
        }


def collect(clients: Clients, config: Config) -> SystemStatus:
    """Read everything ``status`` shows (see the module docstring for the call budget)."""
    names = Names.of(config)
    engine = engine_mod.select(clients, config)
    deployment = engine.status()
    return SystemStatus(
        pipeline=pipeline_view(
            clients.codepipeline,
            names.pipeline,
            explain=lambda build: builds.last_output(clients.codebuild, clients.logs, build),
        ),
        deployment=deployment,
        deployment_note=engine.absent,
        **_traffic(clients, engine, deployment),
        verification=verification.collect(clients, config),
    )


def pipeline_view(
    codepipeline: Any, name: str, explain: Callable[[str], str] | None = None
) -> PipelineView | None:
    """The latest execution stage by stage (None when the pipeline does not exist).

    A CodeBuild action that failed on a command has CodeBuild's context as its error,
    "Error while executing command: <command>. Reason: ...", where <command> may be a
    whole script (the ECS engine's deploy step): then it is cut to one line, with the
    last line the build printed (``explain(build id)``), where the script says what went
    wrong (:func:`bluegreen.aws.builds.one_line`). A one-line command's error stays
    CodeBuild's text."""
    try:
        latest = pipeline.latest_execution(codepipeline, name)
        stages = pipeline.state(codepipeline, name)
    except AwsCallError as exc:
        if exc.code == "PipelineNotFoundException":
            return None
        raise
    if latest is None:
        return PipelineView(
            name=name, stages=[StageView(s["stageName"], "NotStarted") for s in stages]
        )
    execution_id = latest.get("pipelineExecutionId", "")
    revision, summary = "", ""
    for source in latest.get("sourceRevisions", []):
        revision = source.get("revisionId", "")
        summary = source.get("revisionSummary", "")
        break
    views = []
    for stage in stages:
        current = stage.get("latestExecution", {})
        same = current.get("pipelineExecutionId") == execution_id
        actions = []
        for action in stage.get("actionStates", []):
            last = action.get("latestExecution", {})
            # An ActionExecution carries no pipelineExecutionId (botocore's codepipeline
            # model; botocore drops keys the model lacks): its stage's says whose it is.
            mine = same
            error = last.get("errorDetails", {}) if mine else {}
            message = str(error.get("message", ""))
            external = (last.get("externalExecutionId") or "") if mine else ""
            if builds.is_script_error(message):
                output = explain(external) if explain and external else ""
                message = builds.one_line(message, output)
            actions.append(
                ActionView(
                    name=action.get("actionName", ""),
                    # an action of this execution that never ran (a later runOrder
                    # after a failure) has no latestExecution status
                    status=(last.get("status") or "NotStarted") if mine else "NotStarted",
                    summary=(last.get("summary") or "") if mine else "",
                    external_id=(last.get("externalExecutionId") or "") if mine else "",
                    error=message,
                    changed=last.get("lastStatusChange") if mine else None,
                )
            )
        views.append(
            StageView(
                name=stage.get("stageName", ""),
                status=current.get("status", "") if same else "NotStarted",
                actions=actions,
            )
        )
    return PipelineView(
        name=name,
        execution_id=execution_id,
        status=latest.get("status", ""),
        started=latest.get("startTime"),
        revision=revision,
        revision_summary=summary,
        stages=views,
    )


def _traffic(
    clients: Clients, engine: DeploymentEngine, deployment: DeploymentView | None
) -> dict[str, Any]:
    refs = engine.refs
    elbv2 = clients.elbv2
    # Where each listener sends its traffic, as the engine moves it (CodeDeploy: the
    # listeners' default actions; ECS: the listener rules ECS rewrites).
    forwards = engine.forwards()
    listeners: list[ListenerView] = []
    production: list[tuple[str, int]] = []
    for role, port in (("production", refs.production_port), ("test", refs.test_port)):
        pairs = forwards.get(role)
        if pairs is None:
            continue
        total = sum(w for _, w in pairs) or 1
        percent = [(tg, round(100 * w / total)) for tg, w in pairs]
        if role == "production":
            production = percent
        listeners.append(
            ListenerView(role, port, [(elb.target_group_name(t), w) for t, w in percent])
        )

    labels = _labels(refs.target_groups, production, deployment)
    groups = [
        TargetGroupView(
            elb.target_group_name(arn), labels.get(arn, ""), elb.target_health(elbv2, arn)
        )
        for arn in refs.target_groups
    ]

    service = engine.service
    raw_sets = service.get("taskSets", [])
    definitions = ecs.task_definitions(
        clients.ecs, (t.get("taskDefinition", "") for t in raw_sets), getattr(clients, "memo", None)
    )
    task_sets = []
    for raw in raw_sets:
        tg = next((lb.get("targetGroupArn", "") for lb in raw.get("loadBalancers", [])), "")
        definition = definitions.get(raw.get("taskDefinition", ""), {})
        task_sets.append(
            TaskSetView(
                id=raw.get("id", ""),
                status=raw.get("status", ""),
                label=labels.get(tg, ""),
                task_definition=_family_revision(raw.get("taskDefinition", "")),
                images=[
                    (c.get("name", ""), image_tag(c.get("image", "")))
                    for c in definition.get("containerDefinitions", [])
                ],
                running=int(raw.get("runningCount", 0)),
                desired=int(raw.get("computedDesiredCount", 0)),
                pending=int(raw.get("pendingCount", 0)),
                target_group=elb.target_group_name(tg) if tg else "",
            )
        )
    order = {"PRIMARY": 0, "ACTIVE": 1, "DRAINING": 2}
    task_sets.sort(key=lambda t: (order.get(t.status, 3), t.id))
    return {"listeners": listeners, "target_groups": groups, "task_sets": task_sets}


def _labels(
    groups: tuple[str, ...],
    production: list[tuple[str, int]],
    deployment: DeploymentView | None,
) -> dict[str, str]:
    """Target group ARN -> blue/green (see the module docstring)."""
    by_name = {elb.target_group_name(arn): arn for arn in groups}
    labels: dict[str, str] = {}
    if deployment is not None and deployment.phase.active and deployment.phase != Phase.QUEUED:
        for ts in deployment.task_sets:
            arn = by_name.get(ts.target_group)
            if arn and ts.label in ("blue", "green"):
                labels[arn] = ts.label
        if len(labels) == len(groups):
            return labels
    labels = {}
    serving = max(production, key=lambda p: p[1])[0] if production else ""
    for arn in groups:
        labels[arn] = "blue" if arn == serving else "green"
    return labels


def _family_revision(arn: str) -> str:
    return arn.rsplit("/", 1)[-1] if arn else ""


def image_tag(image: str) -> str:
    """The tag (or short digest) of an image reference; the whole name if it has neither."""
    if "@" in image:
        digest = image.split("@", 1)[1]
        return digest.split(":", 1)[-1][:12]
    last = image.rsplit("/", 1)[-1]
    if ":" in last:
        return last.split(":", 1)[1]
    return "latest"
