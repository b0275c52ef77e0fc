"""The CodeDeploy blue/green engine (ECS service with the CODE_DEPLOY controller).

How a CodeDeploy ECS deployment reads from the API, and what each command does:

- Lifecycle of the ECS target: BeforeInstall, Install, AfterInstall, AllowTestTraffic,
  AfterAllowTestTraffic, (wait before reroute), BeforeAllowTraffic, AllowTraffic,
  AfterAllowTraffic, then the termination wait, then the original task set is deleted.
- Waiting for reroute: the deployment status is ``Ready`` (or the target is ``Ready``, or
  the test-traffic hooks are done and BeforeAllowTraffic has not started). ``promote`` =
  ContinueDeployment(READY_WAIT), the console's "Reroute traffic".
- Termination wait: CodeDeploy marks the ECS target ``Succeeded`` and keeps the
  deployment in progress until the wait ends; only then is the deployment ``Succeeded``
  (AWS's explanation in aws/containers-roadmap#269: ``instanceTerminationWaitTimeStarted``
  is not reliable for ECS, track the target status). ``finish`` =
  ContinueDeployment(TERMINATION_WAIT), the console's "Terminate original task set".
- ``rollback`` while the deployment is in progress, *including the termination wait*, is
  StopDeployment(autoRollbackEnabled=true), the console's "Stop and roll back": CodeDeploy
  itself routes production and test back to the original task set and removes the
  replacement, keeping its own records consistent. This is the safe path and covers
  "after traffic shifted while the old tasks still live".
- If the deployment already reads ``Succeeded`` but an original task set is still ACTIVE
  (the short window while CodeDeploy removes it), CodeDeploy can no longer roll back.
  Only then bluegreen reroutes itself, guarded: the original task set must be ACTIVE with
  all its tasks running and at least one healthy target in its target group; then both
  listeners are pointed at its target group (that is what moves traffic) and the task set
  is made primary (UpdateServicePrimaryTaskSet; AWS documents it for the EXTERNAL
  controller, so if ECS rejects it on a CODE_DEPLOY service, the listeners have still
  been moved and the refusal is reported). Anything less is refused: routing production
  to tasks that are draining or unhealthy would be an outage.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bluegreen.aws import codedeploy, console, ecs, elb
from bluegreen.aws.errors import AwsCallError
from bluegreen.engine import (
    ActionResult,
    DeploymentView,
    LifecycleStep,
    Phase,
    ServiceRefs,
    TrafficSet,
)
from bluegreen.errors import StateError

if TYPE_CHECKING:
    from bluegreen.aws.session import Clients

_TEST_TRAFFIC_DONE = ("AllowTestTraffic", "AfterAllowTestTraffic")
_DONE = ("Succeeded", "Skipped")


def phase_of(deployment: dict[str, Any], target: dict[str, Any] | None) -> Phase:
    """The phase of a CodeDeploy ECS deployment from its status and its ECS target."""
    status = deployment.get("status", "")
    if status == "Succeeded":
        return Phase.SUCCEEDED
    if status == "Failed":
        return Phase.FAILED
    if status == "Stopped":
        return Phase.STOPPED
    if status == "Ready":
        return Phase.WAITING
    if status in ("Created", "Queued"):
        return Phase.QUEUED
    events = {e.get("lifecycleEventName", ""): e.get("status", "") for e in _events(target)}
    target_status = (target or {}).get("status", "")
    if target_status == "Ready":
        return Phase.WAITING
    if target_status == "Succeeded" or deployment.get("instanceTerminationWaitTimeStarted"):
        return Phase.TERMINATION_WAIT
    if events.get("AfterAllowTraffic") in _DONE:
        return Phase.TERMINATION_WAIT
    if any(events.get(e) not in (None, "Pending") for e in ("BeforeAllowTraffic", "AllowTraffic")):
        return Phase.SHIFTING
    if all(events.get(e) in _DONE for e in _TEST_TRAFFIC_DONE):
        return Phase.WAITING
    return Phase.INSTALLING


def _events(target: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not target:
        return []
    found: list[dict[str, Any]] = target.get("lifecycleEvents", [])
    return found


def _traffic_sets(target: dict[str, Any] | None) -> list[TrafficSet]:
    sets = []
    for info in (target or {}).get("taskSetsInfo", []):
        sets.append(
            TrafficSet(
                task_set_id=info.get("identifer", ""),
                label=str(info.get("taskSetLabel", "")).lower(),
                status=info.get("status", ""),
                weight=float(info.get("trafficWeight", 0.0)),
                target_group=info.get("targetGroup", {}).get("name", ""),
                desired=int(info.get("desiredCount", 0)),
                running=int(info.get("runningCount", 0)),
            )
        )
    return sets


def _error(deployment: dict[str, Any]) -> str:
    info = deployment.get("errorInformation") or {}
    if not info:
        return ""
    return f"{info.get('code', '')}: {info.get('message', '')}".strip(": ")


class CodeDeployEngine:
    """Blue/green by CodeDeploy; see the module docstring for the state rules."""

    name = "codedeploy"

    def __init__(self, clients: Clients, refs: ServiceRefs, service: dict[str, Any]) -> None:
        self._clients = clients
        self.refs = refs
        self.service = service

    # -- reading ----------------------------------------------------------------------
    def _latest(self) -> tuple[dict[str, Any], dict[str, Any] | None] | None:
        client = self._clients.codedeploy
        found = codedeploy.latest_deployment(
            client, self.refs.application, self.refs.deployment_group
        )
        if found is None:
            return None
        return found, codedeploy.ecs_target(client, found["deploymentId"])

    def status(self) -> DeploymentView | None:
        latest = self._latest()
        if latest is None:
            return None
        return self._view(*latest)

    def _view(self, deployment: dict[str, Any], target: dict[str, Any] | None) -> DeploymentView:
        return DeploymentView(
            engine=self.name,
            id=deployment["deploymentId"],
            status=deployment.get("status", ""),
            phase=phase_of(deployment, target),
            created=deployment.get("createTime"),
            lifecycle=[
                LifecycleStep(e.get("lifecycleEventName", ""), e.get("status", ""))
                for e in _events(target)
            ],
            task_sets=_traffic_sets(target),
            error=_error(deployment),
        )

    def _require(self, verb: str) -> DeploymentView:
        view = self.status()
        if view is None:
            raise StateError(
                f"cannot {verb}: the deployment group {self.refs.deployment_group} has no "
                "deployments yet",
                hint="start one with `bluegreen release`",
            )
        return view

    def _require_phase(self, verb: str, phase: Phase, expected: str) -> DeploymentView:
        """The latest deployment, which must be in ``phase`` (described as ``expected``)."""
        view = self._require(verb)
        if view.phase != phase:
            raise StateError(
                f"cannot {verb}: deployment {view.id} is {_describe(view)}, not {expected}",
                hint=_hint(view),
            )
        return view

    # -- acting -----------------------------------------------------------------------
    def promote(self) -> ActionResult:
        view = self._require_phase("promote", Phase.WAITING, "waiting for reroute")
        codedeploy.continue_deployment(self._clients.codedeploy, view.id, "READY_WAIT")
        return ActionResult(
            "promote",
            view.id,
            f"rerouting production (:{self.refs.production_port}) to the green task set of "
            f"deployment {view.id}; follow with `bluegreen status --watch`",
        )

    def finish(self) -> ActionResult:
        view = self._require_phase("finish", Phase.TERMINATION_WAIT, "in the termination wait")
        codedeploy.continue_deployment(self._clients.codedeploy, view.id, "TERMINATION_WAIT")
        return ActionResult(
            "finish",
            view.id,
            f"terminating the original (blue) task set of deployment {view.id} now; "
            "rollback is no longer possible once it is gone",
        )

    def rollback(self) -> ActionResult:
        view = self._require("roll back")
        if view.phase.active:
            answer = codedeploy.stop_deployment(self._clients.codedeploy, view.id)
            where = (
                "production stays on"
                if view.phase in (Phase.QUEUED, Phase.INSTALLING, Phase.WAITING)
                else "production returns to"
            )
            note = answer.get("statusMessage", "")
            return ActionResult(
                "rollback",
                view.id,
                f"stopped deployment {view.id} ({view.phase}) with rollback: {where} the "
                f"original task set and CodeDeploy removes the replacement"
                + (f" ({note})" if note else ""),
            )
        if view.phase == Phase.SUCCEEDED:
            return self._reroute_to_original(view)
        raise StateError(
            f"cannot roll back: deployment {view.id} is already {view.status}"
            + (f" ({view.error})" if view.error else "")
            + "; production is on the original task set",
            hint="see `bluegreen status`",
        )

    def _reroute_to_original(self, view: DeploymentView) -> ActionResult:
        task_sets = self.service.get("taskSets", [])
        primary = next((t for t in task_sets if t.get("status") == "PRIMARY"), None)
        originals = [t for t in task_sets if t.get("status") == "ACTIVE"]
        if primary is None or not originals:
            raise StateError(
                f"cannot roll back: deployment {view.id} succeeded and the original task set "
                "is gone (the termination wait is over)",
                hint="release the previous version instead: revert the commit and push, "
                "then `bluegreen release`",
            )
        original = originals[0]
        group = _target_group(original)
        running = int(original.get("runningCount", 0))
        wanted = int(original.get("computedDesiredCount", 0))
        if not group or running < 1 or running < wanted:
            raise StateError(
                f"cannot roll back: the original task set {original.get('id')} runs "
                f"{running}/{wanted} tasks; routing production to it would be an outage",
                hint="release the previous version instead (revert, push, `bluegreen release`)",
            )
        elbv2 = self._clients.elbv2
        health = elb.target_health(elbv2, group)
        if health.get("healthy", 0) < 1:
            raise StateError(
                f"cannot roll back: target group {elb.target_group_name(group)} of the original "
                f"task set has no healthy targets ({_health_text(health)})",
                hint="release the previous version instead (revert, push, `bluegreen release`)",
            )
        for listener in (self.refs.production_listener, self.refs.test_listener):
            if listener:
                elb.forward_to(elbv2, listener, group)
        note = ""
        try:
            ecs.update_primary_task_set(
                self._clients.ecs, self.refs.cluster, self.refs.service, original["id"]
            )
        except AwsCallError as exc:
            note = (
                f"; ECS refused to make it the primary task set ({exc.message}), so the next "
                "release starts from the current primary"
            )
        return ActionResult(
            "rollback",
            view.id,
            f"deployment {view.id} had succeeded: pointed production (:"
            f"{self.refs.production_port}) and test (:{self.refs.test_port}) at "
            f"{elb.target_group_name(group)}, served by the original task set "
            f"{original.get('id')} ({original.get('taskDefinition', '').rsplit('/', 1)[-1]})"
            + note,
        )

    def console_link(self, deployment_id: str) -> str:
        return console.deployment(self._clients.region, deployment_id)


def _target_group(task_set: dict[str, Any]) -> str:
    for lb in task_set.get("loadBalancers", []):
        if lb.get("targetGroupArn"):
            arn: str = lb["targetGroupArn"]
            return arn
    return ""


def _health_text(health: dict[str, int]) -> str:
    return ", ".join(f"{state} {count}" for state, count in health.items()) or "no targets"


def _describe(view: DeploymentView) -> str:
    running = next((s for s in view.lifecycle if s.status == "InProgress"), None)
    text = f"{view.status} ({view.phase}"
    if running is not None:
        text += f", {running.name} in progress"
    return text + ")"


def _hint(view: DeploymentView) -> str:
    if view.phase in (Phase.QUEUED, Phase.INSTALLING):
        return "wait until the green tasks serve the test listener (`bluegreen status --watch`)"
    if view.phase == Phase.WAITING:
        return "`bluegreen promote` shifts production to green; `bluegreen rollback` drops it"
    if view.phase == Phase.SHIFTING:
        return "traffic is shifting; `bluegreen rollback` stops and reverts it"
    if view.phase == Phase.TERMINATION_WAIT:
        return "`bluegreen finish` removes blue now; `bluegreen rollback` returns to blue"
    return "start a new release with `bluegreen release`"
