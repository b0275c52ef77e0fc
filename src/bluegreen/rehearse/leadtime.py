"""A release's lead time, read back from what the emulated AWS recorded.

Two figures per release: **push to production** (from the push, or deploy's first commit,
to the moment the production listener forwards to the new revision) and **push to done**
(to the end of the pipeline execution: the deployment over, blue terminated, the Deploy
action succeeded). Each is the sum of its *parts*: consecutive intervals between the
moments the APIs report, read with the same calls ``bluegreen status`` and ``release``
make (ListPipelineExecutions, ListActionExecutions, BatchGetBuilds, GetDeployment,
GetDeploymentTarget) and the listener changes the rehearsal's timeline recorded. Each
part lists what it is made of (and adds up to it: a last ``remainder`` item holds the
clock's seconds the others do not account for, negative when items marked
``upper_bound`` were not used up): the emulator's durations
(:data:`bluegreen.emulator.timing.DURATIONS`, each with its source and its basis:
documented by AWS, observed in a public report, or modelled) and the config values it
waits for (health check, reroute wait, termination wait). So the figures are measured
on the simulated clock, and every second of them is explained by a named, sourced
duration or a setting.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bluegreen.rehearse.clock import EPOCH, span

if TYPE_CHECKING:
    from bluegreen.config import Config
    from bluegreen.rehearse.model import Release

_PHASE_KEYS = {
    "SUBMITTED": "",
    "QUEUED": "codebuild.queued",
    "PROVISIONING": "codebuild.provisioning",
    "DOWNLOAD_SOURCE": "codebuild.download_source",
    "INSTALL": "codebuild.install",
    "PRE_BUILD": "codebuild.pre_build",
    "BUILD": "codebuild.build",
    "POST_BUILD": "codebuild.post_build",
    "UPLOAD_ARTIFACTS": "codebuild.upload_artifacts",
    "FINALIZING": "codebuild.finalizing",
}

_INSTALL_KEYS = (
    "ecs.fargate_provisioning",
    "ecs.image_pull",
    "ecs.container_start",
    "elb.registration",
)
"""What Install waits for: a Fargate task started from nothing, registered with the
green target group as it enters ACTIVATING (ecs.activating runs alongside the target's
registration, so it adds nothing), then its health checks (config)."""


@dataclass(frozen=True)
class Part:
    """One interval of a lead time: from ``start`` to ``end`` (seconds since T+0)."""

    what: str
    start: float
    end: float
    made_of: tuple[dict[str, Any], ...] = ()

    @property
    def seconds(self) -> float:
        return _round(self.end - self.start)

    def to_dict(self) -> dict[str, Any]:
        return {
            "what": self.what,
            "start_seconds": _round(self.start),
            "seconds": self.seconds,
            "made_of": [*(dict(item) for item in self.made_of), *self._remainder()],
        }

    def _remainder(self) -> list[dict[str, Any]]:
        """The item that makes ``made_of`` add up to the part (review U9): the clock's
        seconds the listed items do not account for (positive: what the part also waited
        for, such as deploy creating the stacks before the pipeline's first execution), or
        by which it fell short of them (negative: the items marked ``upper_bound``, a
        poll's interval or the checks' worst case, were not used up). None when they
        already add up."""
        listed = sum(float(item.get("seconds") or 0.0) for item in self.made_of)
        rest = _round(self.seconds - listed)
        if rest == 0:
            return []
        if rest > 0:
            what = (
                "the stacks' creation by deploy (CloudFormation; the timeline's deploy rows)"
                if self.what.startswith("deploy creates the stacks")
                else "the wait for the other moments this part ends at (not a duration of its own)"
            )
        else:
            what = "the upper bounds above not used up (a poll answered sooner, checks faster "
            what += "than their worst case)"
        return [
            {
                "remainder": True,
                "seconds": rest,
                "what": what,
                "source": "the emulated clock: this part's seconds minus the items above",
            }
        ]


@dataclass(frozen=True)
class LeadTime:
    """A release's two lead times and their parts (``production``/``done`` None: the
    release never got there, such as one rolled back before production moved)."""

    pushed: float
    production: float | None
    done: float | None
    parts: tuple[Part, ...] = field(default_factory=tuple)

    def _upto(self, moment: float | None) -> list[Part]:
        if moment is None:
            return []
        return [p for p in self.parts if p.end <= moment + 1e-9]

    @property
    def to_production(self) -> float | None:
        return None if self.production is None else _round(self.production - self.pushed)

    @property
    def to_done(self) -> float | None:
        return None if self.done is None else _round(self.done - self.pushed)

    def to_dict(self) -> dict[str, Any]:
        def figure(moment: float | None, seconds: float | None) -> dict[str, Any] | None:
            if moment is None or seconds is None:
                return None
            return {
                "seconds": seconds,
                "span": span(int(round(seconds))),
                "parts": [p.to_dict() for p in self._upto(moment)],
            }

        return {
            "pushed_seconds": _round(self.pushed),
            "production_seconds": None if self.production is None else _round(self.production),
            "done_seconds": None if self.done is None else _round(self.done),
            "push_to_production": figure(self.production, self.to_production),
            "push_to_done": figure(self.done, self.to_done),
        }


def config_timing(config: Config) -> dict[str, Any]:
    """The settings a release's lead time depends on, with what each one does."""
    from bluegreen.stacks.service import DEREGISTRATION_DELAY_SECONDS

    hc = config.health_check
    deployment = config.deployment
    ecs = deployment.engine == "ecs"
    return {
        "health_check": {
            "interval_seconds": hc.interval_seconds,
            "timeout_seconds": hc.timeout_seconds,
            "healthy_threshold": hc.healthy_threshold,
            "unhealthy_threshold": hc.unhealthy_threshold,
            "new_target_healthy_seconds": hc.interval_seconds * hc.healthy_threshold,
            "source": "bluegreen.toml [health_check]; a new target is counted healthy after "
            "interval x healthy threshold here (an upper bound: the ECS developer guide, "
            '"Optimize load balancer health check parameters", says a newly registered '
            "target needs one passing check)",
        },
        "reroute": deployment.reroute,
        "wait_minutes": deployment.wait_minutes if deployment.reroute == "manual" else None,
        "termination_wait_minutes": (
            deployment.ecs.bake_minutes if ecs else deployment.termination_wait_minutes
        ),
        "termination_wait_key": (
            "deployment.ecs.bake_minutes" if ecs else "deployment.termination_wait_minutes"
        ),
        "deregistration_delay": {
            "seconds": DEREGISTRATION_DELAY_SECONDS,
            "source": "the service stack's target groups (TargetGroupAttributes "
            "deregistration_delay.timeout_seconds); the ALB default is 300 s (ALB guide, "
            '"Edit target group attributes", Deregistration delay: "By default, Elastic '
            'Load Balancing waits 300 seconds")',
            "documented_default_seconds": 300,
        },
        "checks": len(config.verify.checks),
        "verify_interval_seconds": config.verify.interval_seconds,
    }


# ------------------------------------------------------------------------------ reading


def measure(clients: Any, config: Config, release: Release, pipeline: str) -> LeadTime | None:
    """The release's lead time from the emulated AWS's records (None: nothing to measure,
    such as a release whose pipeline never started)."""
    pushed = _pushed(release)
    if pushed is None:
        return None
    execution = _execution(clients, pipeline, release.execution, pushed)
    if execution is None:
        return None
    moments: list[tuple[float, str, tuple[dict[str, Any], ...]]] = []
    add = moments.append
    started = _seconds(execution.get("startTime"))
    if started is not None:
        add(
            (
                started,
                _start_what(release, config),
                _items("codecommit.push_seen", "events.delivery"),
            )
        )
    details = _call(
        clients.codepipeline,
        "list_action_executions",
        pipelineName=pipeline,
        filter={"pipelineExecutionId": execution["pipelineExecutionId"]},
    ).get("actionExecutionDetails", [])
    production: float | None = None
    for detail in sorted(details, key=lambda d: _seconds(d.get("startTime")) or 0.0):
        name = f"{detail.get('stageName')}/{detail.get('actionName')}"
        begun = _seconds(detail.get("startTime"))
        ended = _seconds(detail.get("lastUpdateTime"))
        if begun is None:
            continue
        add((begun, f"{name}: CodePipeline starts the action", _items("codepipeline.job_poll")))
        provider = ((detail.get("input") or {}).get("actionTypeId") or {}).get("provider")
        external = ((detail.get("output") or {}).get("executionResult") or {}).get(
            "externalExecutionId"
        )
        if provider == "CodeBuild" and external:
            moments.extend(_build(clients, name, str(external)))
        elif provider in ("CodeDeployToECS", "ECS") and release.deployment_id:
            found, production = _deployment(clients, config, release, name)
            moments.extend(found)
        elif provider in ("CodeCommit", "CodeStarSourceConnection"):
            if ended is not None and detail.get("status") == "Succeeded":
                add(
                    (
                        ended,
                        f"{name}: the commit archived to the artifact bucket",
                        _items("codepipeline.source"),
                    )
                )
            continue
        if ended is not None and detail.get("status") in ("Succeeded", "Failed"):
            add(
                (
                    ended,
                    f"{name}: CodePipeline sees it end (it polls the job)",
                    _items("codepipeline.job_poll"),
                )
            )
    done = None
    if execution.get("status") in ("Succeeded", "Failed", "Stopped"):
        done = _seconds(execution.get("lastUpdateTime"))
    ecs = config.deployment.engine == "ecs"
    if production is None:
        production = _production(release, pushed)
    if production is not None:
        add(
            (
                production,
                f"production :{config.listeners.production_port} forwards to the new revision",
                _ecs_production(config) if ecs else _items("codedeploy.event"),
            )
        )
    if ecs and release.deployment_id and done is not None:
        finished = _ecs_finished(clients, str(release.deployment_id))
        if finished is not None and finished > done:
            # The Deploy build ends when production has moved (BAKE_TIME), unless
            # deployment.ecs.pipeline_waits_for_bake: the release is done when the
            # service deployment is (the bake over, blue's tasks stopped: CLEAN_UP).
            minutes = config.deployment.ecs.bake_minutes
            add(
                (
                    finished,
                    f"the bake ({minutes} min), then ECS stops blue's tasks and the service "
                    "deployment succeeds",
                    (
                        _setting(
                            "deployment.ecs.bake_minutes",
                            float(minutes * 60),
                            "both revisions kept after the shift, so a rollback is instant",
                        ),
                    ),
                )
            )
            done = finished
    # The moments on the parts' 0.1 s grid, so each figure is exactly the sum of its parts.
    pushed = _round(pushed)
    production = None if production is None else _round(production)
    done = None if done is None else _round(done)
    return LeadTime(pushed, production, done, tuple(_parts(pushed, moments, done)))


def _ecs_production(config: Config) -> tuple[dict[str, Any], ...]:
    """What the ECS engine's deploy build waits for before production moves: green's
    tasks start and pass their health checks, the stages of the service deployment (the
    test traffic shift, its hook), the production shift."""
    return (*_install(config), *_items("ecs.native.stage", "ecs.native.traffic_shift"))


def _install(config: Config) -> tuple[dict[str, Any], ...]:
    """Green's tasks start (Fargate, image pull, container) and pass the load balancer's
    health checks: CodeDeploy's Install, and the first stages of an ECS deployment."""
    hc = config.health_check
    return (
        *_items(*_INSTALL_KEYS),
        _setting(
            "health_check.interval_seconds x health_check.healthy_threshold",
            float(hc.interval_seconds * hc.healthy_threshold),
            "the new target's health checks before it counts as healthy",
        ),
    )


def _ecs_finished(clients: Any, arn: str) -> float | None:
    answer = _call(clients.ecs, "describe_service_deployments", serviceDeploymentArns=[arn])
    for found in answer.get("serviceDeployments", []):
        return _seconds(found.get("finishedAt"))
    return None


def _parts(
    pushed: float, moments: list[tuple[float, str, tuple[dict[str, Any], ...]]], done: float | None
) -> list[Part]:
    """Consecutive parts from the push to the last moment (to ``done`` when known): each
    part ends at a moment and is named by it; moments at the same time merge."""
    # At equal times the production moment names the part (it is what the figure is of).
    ordered = sorted(
        ((_round(m[0]), m[1], m[2]) for m in moments if m[0] >= pushed),
        key=lambda m: (m[0], not m[1].startswith("production :")),
    )
    if done is not None:
        ordered = [m for m in ordered if m[0] <= done + 1e-9]
    parts: list[Part] = []
    at = pushed
    for moment, what, made_of in ordered:
        if _round(moment - at) <= 0:
            continue
        parts.append(Part(what, at, moment, made_of))
        at = moment
    if done is not None and _round(done - at) > 0:
        parts.append(Part("the pipeline execution ends", at, done, _items("codepipeline.job_poll")))
    return parts


def _pushed(release: Release) -> float | None:
    """The push: the release's `git push` row, or deploy's first commit (release 1)."""
    for step in release.steps:
        if step.kind == "operation" and step.event == "git push":
            return float(step.seconds)
    for step in release.steps:
        if "committed" in step.detail and " files to " in step.detail:
            return float(step.seconds)
    return None


def _start_what(release: Release, config: Config) -> str:
    if release.number == 1 or not any(s.event == "git push" for s in release.steps):
        return "deploy creates the stacks; the pipeline's creation starts its first execution"
    if config.source.provider == "codecommit":
        return "the push starts the pipeline (CodeCommit's event, EventBridge's rule)"
    return f"the push starts the pipeline ({config.source.provider}'s push, its V2 trigger)"


def _execution(
    clients: Any, pipeline: str, execution_id: str, pushed: float
) -> dict[str, Any] | None:
    summaries = _call(clients.codepipeline, "list_pipeline_executions", pipelineName=pipeline).get(
        "pipelineExecutionSummaries", []
    )
    if execution_id:
        return next((s for s in summaries if s.get("pipelineExecutionId") == execution_id), None)
    after = [s for s in summaries if (_seconds(s.get("startTime")) or 0.0) >= pushed]
    return min(after, key=lambda s: _seconds(s.get("startTime")) or 0.0) if after else None


def _build(
    clients: Any, name: str, build_id: str
) -> list[tuple[float, str, tuple[dict[str, Any], ...]]]:
    builds = _call(clients.codebuild, "batch_get_builds", ids=[build_id]).get("builds", [])
    if not builds:
        return []
    build = builds[0]
    begun, ended = _seconds(build.get("startTime")), _seconds(build.get("endTime"))
    found: list[tuple[float, str, tuple[dict[str, Any], ...]]] = []
    if begun is not None:
        found.append((begun, f"{name}: StartBuild", ()))
    if ended is None:
        return found
    phases: list[tuple[str, float | None, dict[str, Any]]] = []
    for phase in build.get("phases") or []:
        kind = str(phase.get("phaseType"))
        key = _PHASE_KEYS.get(kind, "")
        seconds = phase.get("durationInSeconds")
        if not key or seconds is None:
            continue
        if key == "codebuild.build" and not _built(build):
            key = "codebuild.build_without_image"
        found_item = _item(key)
        found_item["seconds"] = float(seconds)
        phases.append((kind, _seconds(phase.get("endTime")), found_item))
    if not name.startswith("Deploy/"):
        items = tuple(item for _kind, _end, item in phases)
        found.append((ended, f"{name}: the build ({build.get('projectName')})", items))
        return found
    # The ECS engine's deploy build (stacks/pipeline.py DEPLOY_BUILDSPEC): its BUILD phase
    # registers the task definition, calls UpdateService and waits for ECS's service
    # deployment, so production moves during it; its phases are moments of their own.
    before = tuple(item for kind, _end, item in phases if kind in _BEFORE_BUILD)
    build_end = next((end for kind, end, _item in phases if kind == "BUILD"), None)
    if build_end is not None:
        starts = [end for kind, end, _item in phases if kind == "PRE_BUILD" and end is not None]
        if starts:
            found.append((starts[0], f"{name}: the deploy build starts", before))
        found.append(
            (
                build_end,
                f"{name}: the deploy build waits until ECS's service deployment has moved "
                "production (BAKE_TIME) and ends its BUILD phase",
                _items("ecs.native.stage"),
            )
        )
    after = tuple(item for kind, _end, item in phases if kind not in _BEFORE_BUILD | {"BUILD"})
    found.append((ended, f"{name}: the deploy build finishes", after))
    return found


_BEFORE_BUILD = {"QUEUED", "PROVISIONING", "DOWNLOAD_SOURCE", "INSTALL", "PRE_BUILD"}


def _built(build: dict[str, Any]) -> bool:
    for variable in build.get("exportedEnvironmentVariables") or []:
        if variable.get("name") == "IMAGE_BUILT":
            return str(variable.get("value")) != "no"
    return True


def _deployment(
    clients: Any, config: Config, release: Release, name: str
) -> tuple[list[tuple[float, str, tuple[dict[str, Any], ...]]], float | None]:
    """The CodeDeploy deployment's moments: created, each lifecycle event's start and end
    (with what it waits for), the production shift, complete."""
    found: list[tuple[float, str, tuple[dict[str, Any], ...]]] = []
    if config.deployment.engine != "codedeploy":
        return found, None
    deployment_id = str(release.deployment_id)
    info = _call(clients.codedeploy, "get_deployment", deploymentId=deployment_id).get(
        "deploymentInfo", {}
    )
    created = _seconds(info.get("createTime"))
    if created is not None:
        found.append(
            (
                created,
                f"{name}: CodePipeline creates the deployment",
                _items("codepipeline.job_poll"),
            )
        )
    begun = _seconds(info.get("startTime"))
    if begun is not None:
        found.append((begun, "CodeDeploy starts the deployment", _items("codedeploy.start")))
    events: list[dict[str, Any]] = []
    with contextlib.suppress(Exception):
        targets = _call(clients.codedeploy, "list_deployment_targets", deploymentId=deployment_id)
        for target_id in targets.get("targetIds", [])[:1]:
            target = _call(
                clients.codedeploy,
                "get_deployment_target",
                deploymentId=deployment_id,
                targetId=target_id,
            ).get("deploymentTarget", {})
            events = list((target.get("ecsTarget") or {}).get("lifecycleEvents") or [])
    production: float | None = None
    previous = ""
    for event in events:
        event_name = str(event.get("lifecycleEventName"))
        start, end = _seconds(event.get("startTime")), _seconds(event.get("endTime"))
        if start is not None:
            found.append((start, _between(previous, event_name, config), _gap(previous, config)))
            if event_name == "AllowTraffic":
                # Production moves in AllowTraffic, the event between BeforeAllowTraffic
                # ("before traffic is shifted to the replacement task set") and
                # AfterAllowTraffic ("after the second target group serves traffic to the
                # replacement task set"): CodeDeploy User Guide, AppSpec 'hooks' section
                # for an Amazon ECS deployment. The emulated CodeDeploy moves it as the
                # event begins (all at once, or a canary's or linear shift's first step).
                production = start
        if end is not None:
            found.append(
                (
                    end,
                    f"{event_name}: {_event_what(event_name, config)}",
                    _event_items(event_name, config),
                )
            )
        previous = event_name
    completed = _seconds(info.get("completeTime"))
    if completed is not None:
        minutes = config.deployment.termination_wait_minutes
        found.append(
            (
                completed,
                f"the termination wait ({minutes} min), then blue's task set "
                "is deleted and the deployment succeeds",
                (
                    _setting(
                        "deployment.termination_wait_minutes",
                        minutes * 60,
                        "blue's tasks kept after the shift, so a rollback is instant",
                    ),
                ),
            )
        )
    return found, production


def _between(previous: str, event: str, config: Config) -> str:
    if previous == "AfterAllowTestTraffic" and config.deployment.reroute == "manual":
        return (
            "the reroute wait: green serves the test listener until `bluegreen promote` "
            "(the rehearsal promotes when its next status read sees the deployment Ready)"
        )
    return f"CodeDeploy moves on to {event}"


def _gap(previous: str, config: Config) -> tuple[dict[str, Any], ...]:
    if previous == "AfterAllowTestTraffic" and config.deployment.reroute == "manual":
        return (
            _setting(
                "deployment.wait_minutes",
                float(config.deployment.wait_minutes * 60),
                "the longest green waits for promote; a person's reaction is not modelled",
            ),
        )
    return _items("codedeploy.event")


def _event_what(event: str, config: Config) -> str:
    if event == "Install":
        return "green's tasks start (Fargate), register and pass their health checks"
    if event == "AfterAllowTestTraffic" and config.verify.checks:
        return f"the verify hook runs {len(config.verify.checks)} check(s) on the test listener"
    if event == "AllowTestTraffic":
        return "the test listener forwards to green"
    if event == "AllowTraffic":
        return "green's task set becomes primary"
    return "a lifecycle event"


def _event_items(event: str, config: Config) -> tuple[dict[str, Any], ...]:
    if event == "Install":
        # The first release's too: the listeners forward {blue: 100, green: 0} from the
        # first deploy (bluegreen.stacks.service), so green's targets are health-checked
        # while it installs (a group behind no listener would be "unused",
        # Target.NotInUse, and Install would wait for the tasks alone).
        return _install(config)
    if event == "AfterAllowTestTraffic" and config.verify.checks:
        return (
            _setting(
                "verify.checks",
                float(config.verify.worst_case_seconds()),
                "the checks' requests (each within max_latency_ms) and "
                "verify.interval_seconds between them: the longest they may take",
            ),
        )
    return _items("codedeploy.event")


def _production(release: Release, after: float) -> float | None:
    """When the production listener first forwarded to the new revision after ``after``:
    the timeline's row of the listener change (recorded when ModifyListener/ModifyRule
    happened, not at the next status read)."""
    for step in release.steps:
        if step.seconds >= after and step.event.startswith("production :"):
            return float(step.seconds)
    return None


# ------------------------------------------------------------------------------ helpers


_UPPER_BOUNDS = {
    "codepipeline.job_poll",
    "codecommit.push_seen",
    "codepipeline.source_polling",
    "cloudformation.stabilization_poll",
    "verify.checks",
    "deployment.wait_minutes",
}
"""Items that are the longest a wait may take (a poll's interval, the checks' worst case,
the reroute window), not what it took: marked ``upper_bound`` in ``made_of``."""


def _item(key: str) -> dict[str, Any]:
    from bluegreen.emulator import timing

    found = timing.DURATIONS.get(key)
    if found is None:
        return {"duration": key, "seconds": None, "what": "", "source": "", "documented": False}
    return {"duration": key, **found.to_dict(), **_bound(key)}


def _bound(key: str) -> dict[str, Any]:
    return {"upper_bound": True} if key in _UPPER_BOUNDS else {}


def _items(*keys: str) -> tuple[dict[str, Any], ...]:
    return tuple(_item(key) for key in keys)


def _setting(key: str, seconds: float, what: str) -> dict[str, Any]:
    return {
        "setting": key,
        "seconds": seconds,
        "what": what,
        "source": "bluegreen.toml",
        **_bound(key),
    }


def _seconds(value: Any) -> float | None:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=EPOCH.tzinfo)
        return float((value - EPOCH).total_seconds())
    return None


def _round(value: float) -> float:
    return round(value, 1)


def _call(client: Any, method: str, **kwargs: Any) -> dict[str, Any]:
    from bluegreen.aws.errors import call

    return call(client, method, **kwargs)
