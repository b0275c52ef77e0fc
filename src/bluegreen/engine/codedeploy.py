"""The CodeDeploy blue/green engine (ECS service with the CODE_DEPLOY controller).

How a CodeDeploy ECS deployment reads from the API, and what each command does (the
sources are named where the behaviour is relied on):

- Lifecycle of the ECS target, in order (CodeDeploy user guide, "Deployments on an Amazon
  ECS compute platform"): BeforeInstall, Install, AfterInstall, AllowTestTraffic,
  AfterAllowTestTraffic, BeforeAllowTraffic, AllowTraffic, AfterAllowTraffic. Without a
  test listener the two test-traffic events are absent (the ECS developer guide's
  blue/green tutorial shows get-deployment-target with six events). Then the termination
  wait, then the original task set is removed.
- Waiting for reroute: the deployment status is ``Ready``. That is the only state in
  which ContinueDeployment(READY_WAIT), the console's "Reroute traffic", is accepted
  (botocore model: DeploymentIsNotInReadyStateException, "The deployment does not have a
  status of Ready and can't continue yet"). ``promote`` and every promotion made on the
  user's behalf act on that status only, never on the lifecycle heuristic of
  :func:`phase_of`, which is for display. A deployment group whose
  deploymentReadyOption.actionOnTimeout is CONTINUE_DEPLOYMENT reroutes by itself and is
  never promoted.
- Termination wait: CodeDeploy marks the ECS target ``Succeeded`` and keeps the
  deployment in progress until the wait ends; only then is the deployment ``Succeeded``
  (AWS's explanation in aws/containers-roadmap#269: ``instanceTerminationWaitTimeStarted``
  is not reliable for ECS, "the deployment starts waiting (if configured) immediately
  after marking the target status as Succeeded", track the target status). ``finish`` =
  ContinueDeployment(TERMINATION_WAIT), the console's "Terminate original task set".
- ``rollback`` while the deployment is in progress, *including the termination wait*
  (the deployment is still in progress then, containers-roadmap#269), is
  StopDeployment(autoRollbackEnabled=true), the console's "Stop and roll back
  deployment" (user guide, "Stop a deployment with CodeDeploy"). For ECS, "CodeDeploy
  implements rollbacks by rerouting traffic from the replacement task set to the
  original task set" (user guide, "Deployments on an Amazon ECS compute platform",
  Redeployments and deployment rollbacks), keeping its own records consistent.
- ``rollback`` once the deployment reads ``Succeeded`` goes through CodeDeploy too: a new
  deployment of the previous release's revision (CreateDeployment with the AppSpec of the
  group's previous Succeeded deployment, as ``aws ecs deploy`` creates its deployments).
  The user guide, "Redeploy and roll back a deployment with CodeDeploy": a manual
  rollback is "creating a new deployment that uses any previously deployed application
  revision". bluegreen never moves listeners or primary task sets itself: ECS documents
  UpdateServicePrimaryTaskSet for the EXTERNAL controller only, and listeners moved
  behind CodeDeploy's back can point production at tasks CodeDeploy is deleting.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

from bluegreen.aws import codedeploy, console, ecs, elb
from bluegreen.aws.errors import AwsCallError
from bluegreen.engine import (
    ActionResult,
    DeploymentView,
    Ending,
    LifecycleStep,
    Phase,
    Progress,
    QuietProgress,
    ServiceRefs,
    Sleep,
    TrafficSet,
    short_name,
)
from bluegreen.errors import StateError

if TYPE_CHECKING:
    from bluegreen.aws.session import Clients

_TEST_TRAFFIC = ("AllowTestTraffic", "AfterAllowTestTraffic")
_INSTALL = ("Install", "AfterInstall")
_TRAFFIC = ("BeforeAllowTraffic", "AllowTraffic", "AfterAllowTraffic")
_DONE = ("Succeeded", "Skipped")
_NOT_STARTED = (None, "Pending", "Unknown")
_MOVED = (Phase.TERMINATION_WAIT, Phase.SUCCEEDED)

ROLLBACK_NOTE = "bluegreen rollback of {current}: redeploys the revision of {source}"
"""The description of the deployments ``rollback`` creates. It records which release
they copy, so a rollback of a rollback returns to the release before that one."""
_ROLLBACK_SOURCE = re.compile(r"^bluegreen rollback of d-\w+: redeploys the revision of (d-\w+)")


def phase_of(deployment: dict[str, Any], target: dict[str, Any] | None) -> Phase:
    """The phase of a CodeDeploy ECS deployment from its status and its ECS target.

    The deployment status decides when it is final, queued or Ready; otherwise the ECS
    target and its lifecycle events say how far an in-progress deployment got (display
    only: actions check the status, see the module docstring).
    """
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
    events = {e.get("lifecycleEventName", ""): e.get("status") for e in _events(target)}
    target_status = (target or {}).get("status", "")
    if target_status == "Ready":
        return Phase.WAITING
    if target_status == "Succeeded" or deployment.get("instanceTerminationWaitTimeStarted"):
        # The termination wait starts once the target is Succeeded (containers-roadmap#269).
        return Phase.TERMINATION_WAIT
    if any(events.get(e) not in _NOT_STARTED for e in _TRAFFIC):
        # Production is moving or has moved; the termination wait has not started yet.
        return Phase.SHIFTING
    # Reroute comes after the test-traffic events, or after the install events when
    # there is no test listener (no test-traffic events at all).
    before_reroute = [e for e in _TEST_TRAFFIC if e in events] or [e for e in _INSTALL]
    if all(events.get(e) in _DONE for e in before_reroute):
        return Phase.WAITING
    return Phase.INSTALLING


def _events(target: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not target:
        return []
    found: list[dict[str, Any]] = target.get("lifecycleEvents", [])
    return found


def _green_group(target: dict[str, Any] | None) -> str:
    """The replacement (GREEN) task set's target group name in an ECS target."""
    return next((t.target_group for t in _traffic_sets(target) if t.label == "green"), "")


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


def alarms_of(deployment: dict[str, Any]) -> list[str]:
    """The alarms that stopped ``deployment``: errorInformation code ALARM_ACTIVE, whose
    message ends "Activated alarms: <name> <name>" (AWS's text, as recorded from real
    deployments; bluegreen.emulator.services.codedeploy.ALARM_ACTIVE)."""
    info = deployment.get("errorInformation") or {}
    if info.get("code") != "ALARM_ACTIVE":
        return []
    message = str(info.get("message") or "")
    _, _, named = message.partition("Activated alarms:")
    return re.findall(r"<([^<>]+)>", named)


def task_definition_of(revision: dict[str, Any] | None) -> str:
    """The TaskDefinition ARN an ECS AppSpec revision names ('' if it names none).

    An ECS AppSpec is ``Resources: [{TargetService: {Type: AWS::ECS::Service, Properties:
    {TaskDefinition: ARN, LoadBalancerInfo: {...}}}}]`` in YAML or JSON (user guide,
    "AppSpec 'resources' section for Amazon ECS deployments"); keys are matched without
    regard to case, as ``aws ecs deploy`` does. Only an AppSpecContent revision can name
    one: a ``String`` revision is for "Lambda deployments only" (botocore codedeploy
    model, RevisionLocation), and S3 or GitHub ones are not read here.
    """
    if not revision or revision.get("revisionType") != "AppSpecContent":
        return ""
    holder = revision.get("appSpecContent") or {}
    import yaml

    try:
        spec = yaml.safe_load(str(holder.get("content", "")))
    except yaml.YAMLError:
        return ""
    resources = _key(spec, "resources")
    for resource in resources if isinstance(resources, list) else []:
        if not isinstance(resource, dict):
            continue
        for body in resource.values():
            found = _key(_key(body, "properties"), "taskdefinition")
            if isinstance(found, str) and found:
                return found
    return ""


def _key(mapping: Any, name: str) -> Any:
    if not isinstance(mapping, dict):
        return None
    for key, value in mapping.items():
        if str(key).lower() == name:
            return value
    return None


class CodeDeployEngine:
    """Blue/green by CodeDeploy; see the module docstring for the state rules."""

    name = "codedeploy"
    noun = "Deployment"
    creation_deploys = False
    commands: tuple[tuple[str, str], ...] = (
        ("promote", "production to green; then finish or rollback"),
    )
    """The commands that end a release's waits, as a banner lists them."""

    def __init__(self, clients: Clients, refs: ServiceRefs, service: dict[str, Any]) -> None:
        self._clients = clients
        self.refs = refs
        self.service = service
        self.absent = ""
        self._group: dict[str, Any] | None = None
        self._contents: dict[str, dict[str, Any]] = {}  # AppSpec revisions by sha256

    # -- reading ----------------------------------------------------------------------
    def _latest(self) -> tuple[dict[str, Any], dict[str, Any] | None] | None:
        client = self._clients.codedeploy
        try:
            found = codedeploy.latest_deployment(
                client, self.refs.application, self.refs.deployment_group
            )
        except AwsCallError as exc:
            if exc.code not in codedeploy.MISSING:
                raise
            self.absent = self._missing_text()
            return None
        self.absent = ""
        if found is None:
            return None
        return found, codedeploy.ecs_target(client, found["deploymentId"])

    def _missing_text(self) -> str:
        refs = self.refs
        where = f" in {refs.region}" if refs.region else ""
        if not refs.pipeline_deployed and refs.pipeline_stack:
            why = f"the pipeline stack {refs.pipeline_stack} is not deployed{where}"
        else:
            why = f"CodeDeploy does not know it{where}"
        return f"no deployment group yet: {refs.application}/{refs.deployment_group} ({why})"

    def status(self) -> DeploymentView | None:
        latest = self._latest()
        if latest is None:
            return None
        return self._view(*latest)

    def deployment(self, deployment_id: str) -> DeploymentView:
        """One deployment by id (the one a command started and follows)."""
        client = self._clients.codedeploy
        info = codedeploy.get_deployment(client, deployment_id)
        return self._view(info, codedeploy.ecs_target(client, deployment_id))

    def forwards(self) -> dict[str, list[tuple[str, int]]]:
        """CodeDeploy moves the listeners' default actions (their ARNs: the stack's
        outputs)."""
        refs = self.refs
        arns = [a for a in (refs.production_listener, refs.test_listener) if a]
        described = elb.describe_listeners(self._clients.elbv2, arns) if arns else {}
        found: dict[str, list[tuple[str, int]]] = {}
        for role, arn in (("production", refs.production_listener), ("test", refs.test_listener)):
            if arn in described:
                found[role] = elb.forwards(described[arn])
        return found

    def following(self, external_id: str) -> DeploymentView | None:
        """The CodeDeployToECS action's external execution id is the deployment id."""
        if not external_id.startswith("d-"):
            return None
        view = self.status()
        return view if view is not None and view.id == external_id else None

    def _view(self, deployment: dict[str, Any], target: dict[str, Any] | None) -> DeploymentView:
        return DeploymentView(
            engine=self.name,
            id=deployment["deploymentId"],
            status=deployment.get("status", ""),
            phase=phase_of(deployment, target),
            created=deployment.get("createTime"),
            lifecycle=[
                LifecycleStep(
                    e.get("lifecycleEventName", ""), e.get("status", ""), e.get("endTime")
                )
                for e in _events(target)
            ],
            task_sets=_traffic_sets(target),
            error=_error(deployment),
            auto_reroute=codedeploy.reroutes_automatically(
                deployment.get("blueGreenDeploymentConfiguration")
            ),
            **self._alarms_view(deployment, target),
        )

    def _alarms_view(
        self, deployment: dict[str, Any], target: dict[str, Any] | None
    ) -> dict[str, Any]:
        """The alarms that stopped the deployment, or for a rollback deployment those that
        stopped the one it rolls back (one more GetDeployment, for rollbacks only), and
        the target group of the new revision they judged: the stopped deployment's GREEN
        task set's (ECSTarget.taskSetsInfo taskSetLabel GREEN is the replacement task set:
        CodeDeploy API reference, ECSTaskSet; its target group, for alarms only)."""
        triggering = str(
            (deployment.get("rollbackInfo") or {}).get("rollbackTriggeringDeploymentId") or ""
        )
        if not triggering:
            alarms = alarms_of(deployment)
            return {"alarms": alarms, "new_target_group": _green_group(target) if alarms else ""}
        try:
            rolled_back = codedeploy.get_deployment(self._clients.codedeploy, triggering)
        except AwsCallError:
            rolled_back = {}
        alarms = alarms_of(rolled_back)
        group = ""
        if alarms:
            try:
                group = _green_group(codedeploy.ecs_target(self._clients.codedeploy, triggering))
            except AwsCallError:
                group = ""
        return {"alarms": alarms, "rollback_of": triggering, "new_target_group": group}

    def _current(self, verb: str) -> tuple[DeploymentView, dict[str, Any]]:
        """The latest deployment (its view and CodeDeploy's record); StateError if none."""
        latest = self._latest()
        if latest is None:
            if self.absent:
                raise StateError(
                    f"cannot {verb}: {self.absent}",
                    hint="run `bluegreen deploy`: the pipeline stack holds the CodeDeploy "
                    "application and deployment group",
                )
            raise StateError(
                f"cannot {verb}: the deployment group {self.refs.deployment_group} has no "
                "deployments yet",
                hint="start one with `bluegreen release`",
            )
        return self._view(*latest), latest[0]

    def _require_phase(self, verb: str, phase: Phase, expected: str) -> DeploymentView:
        """The latest deployment, which must be in ``phase`` (described as ``expected``)."""
        view, _ = self._current(verb)
        if view.phase != phase:
            raise StateError(
                f"cannot {verb}: deployment {view.id} is {_describe(view)}, not {expected}",
                hint=_hint(view),
            )
        return view

    def reroutes_automatically(self, view: DeploymentView) -> bool:
        """Whether CodeDeploy reroutes ``view``'s deployment by itself: from the
        deployment's own blue/green configuration, else from its deployment group's."""
        if view.auto_reroute is not None:
            return view.auto_reroute
        if self._group is None:
            self._group = codedeploy.deployment_group(
                self._clients.codedeploy, self.refs.application, self.refs.deployment_group
            )
        found = codedeploy.reroutes_automatically(
            self._group.get("blueGreenDeploymentConfiguration")
        )
        return bool(found)

    # -- acting -----------------------------------------------------------------------
    def promote(self) -> ActionResult:
        view, _ = self._current("promote")
        if not view.ready:
            if view.phase == Phase.WAITING:
                # The lifecycle events say green is ready, CodeDeploy does not (yet).
                if self.reroutes_automatically(view):
                    raise StateError(
                        f"cannot promote: deployment {view.id} reroutes production by "
                        "itself (the deployment group continues without waiting)",
                        hint="follow it with `bluegreen status --watch`",
                    )
                raise StateError(
                    f"cannot promote yet: deployment {view.id} is {_describe(view)}; "
                    "CodeDeploy does not report it Ready for reroute yet",
                    hint="run `bluegreen promote` again in a few seconds",
                )
            raise StateError(
                f"cannot promote: deployment {view.id} is {_describe(view)}, not waiting "
                "for reroute",
                hint=_hint(view),
            )
        try:
            codedeploy.continue_deployment(self._clients.codedeploy, view.id, "READY_WAIT")
        except AwsCallError as exc:
            if exc.code != codedeploy.NOT_READY:
                raise
            raise StateError(
                f"cannot promote yet: CodeDeploy says deployment {view.id} is not Ready",
                hint="run `bluegreen promote` again in a few seconds",
            ) from exc
        return self._promoted(view.id)

    def _promoted(self, deployment_id: str) -> ActionResult:
        return ActionResult(
            "promote",
            deployment_id,
            f"rerouting production (:{self.refs.production_port}) to the green task set of "
            f"deployment {deployment_id}; follow with `bluegreen status --watch`",
        )

    def promote_if_ready(self, view: DeploymentView) -> ActionResult | None:
        if not view.ready or self.reroutes_automatically(view):
            return None
        try:
            codedeploy.continue_deployment(self._clients.codedeploy, view.id, "READY_WAIT")
        except AwsCallError as exc:
            if exc.code == codedeploy.NOT_READY:
                return None  # not Ready (any more, or yet): keep following
            raise
        return self._promoted(view.id)

    def finish(self) -> ActionResult:
        view = self._require_phase("finish", Phase.TERMINATION_WAIT, "in the termination wait")
        codedeploy.continue_deployment(self._clients.codedeploy, view.id, "TERMINATION_WAIT")
        return ActionResult(
            "finish",
            view.id,
            f"terminating the original (blue) task set of deployment {view.id} now; "
            "rollback is no longer possible once it is gone",
        )

    def rollback(
        self,
        *,
        follow: bool = False,
        ui: Progress | None = None,
        sleep: Sleep = time.sleep,
        interval: float = 10.0,
    ) -> ActionResult:
        view, info = self._current("roll back")
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
            return self._redeploy_previous(
                view, info, follow, ui or QuietProgress(), sleep, interval
            )
        raise StateError(
            f"cannot roll back: deployment {view.id} is already {view.status}"
            + (f" ({view.error})" if view.error else "")
            + ": it is over, so there is nothing to stop (CodeDeploy rolls a failed "
            "deployment back only when the deployment group's auto-rollback is on)",
            hint="see `bluegreen status` for what production serves; to release an "
            "earlier commit, revert and push",
        )

    # -- rollback after success --------------------------------------------------------
    def previous_release(self, current: dict[str, Any]) -> dict[str, Any] | None:
        """The Succeeded deployment whose revision production served before ``current``'s.

        Walking back from ``current``: a deployment that only copies an earlier release
        (a bluegreen rollback, named in its description, or a CodeDeploy rollback
        deployment, which redeploys the release before the one that triggered it,
        RollbackInfo in the API reference) stands for that release, so rolling back a
        rollback goes one release further back instead of forward again. Deployments of
        the same revision as ``current`` are skipped.
        """
        client = self._clients.codedeploy
        created = current.get("createTime")
        if created is None:
            return None
        history = codedeploy.succeeded_before(
            client, self.refs.application, self.refs.deployment_group, created
        )
        by_id = {d["deploymentId"]: d for d in history}
        revision = task_definition_of(self._revision(current))
        origin = _origin(current, by_id, history)
        for candidate in history:
            if candidate["deploymentId"] == current["deploymentId"]:
                continue
            if candidate["createTime"] >= origin["createTime"]:
                continue
            if revision and task_definition_of(self._revision(candidate)) == revision:
                continue
            return candidate
        return None

    def _revision(self, deployment: dict[str, Any]) -> dict[str, Any]:
        """A deployment's revision with its AppSpec content (GetDeployment leaves it out:
        aws.codedeploy.with_content), read once per revision; {} when CodeDeploy lists no
        revision or no longer knows it."""
        located: dict[str, Any] = deployment.get("revision") or {}
        sha = str((located.get("appSpecContent") or {}).get("sha256") or "")
        if sha and sha in self._contents:
            return self._contents[sha]
        try:
            full = codedeploy.with_content(self._clients.codedeploy, self.refs.application, located)
        except AwsCallError as exc:
            if exc.code != "RevisionDoesNotExistException":
                raise
            full = {}
        if sha:
            self._contents[sha] = full
        return full

    def _redeploy_previous(
        self,
        view: DeploymentView,
        current: dict[str, Any],
        follow: bool,
        ui: Progress,
        sleep: Sleep,
        interval: float,
    ) -> ActionResult:
        previous = self.previous_release(current)
        if previous is None:
            raise StateError(
                f"cannot roll back: deployment {view.id} {self._first_release_text(current)}; "
                "there is no earlier release to return to (before the first release the "
                "service ran the bootstrap placeholder)",
                hint="revert the commit and push: the pipeline releases the reverted code "
                "(or start it with `bluegreen release`)",
            )
        source = previous["deploymentId"]
        revision = self._revision(previous)
        if not revision.get("revisionType"):
            raise StateError(
                f"cannot roll back: CodeDeploy lists no revision for deployment {source}, "
                "the previous release, so there is nothing to redeploy",
                hint="revert the commit and push: the pipeline releases the reverted code",
            )
        task_definition = task_definition_of(revision)
        self._check_task_definition(task_definition, source)
        shown = short_name(task_definition) or "its revision"
        try:
            started = codedeploy.create_deployment(
                self._clients.codedeploy,
                self.refs.application,
                self.refs.deployment_group,
                revision,
                ROLLBACK_NOTE.format(current=view.id, source=source),
            )
        except AwsCallError as exc:
            # One deployment at a time per deployment group (CodeDeploy quotas, "Maximum
            # number of concurrent deployments to a deployment group: 1"); CreateDeployment
            # refuses another with DeploymentLimitExceededException (its error list).
            if exc.code != "DeploymentLimitExceededException":
                raise
            raise StateError(
                f"cannot roll back: another deployment of {self.refs.deployment_group} "
                "started meanwhile (a pipeline run?), and CodeDeploy runs one at a time",
                hint="see `bluegreen status`; `bluegreen rollback` stops that one",
            ) from exc
        intro = (
            f"deployment {view.id} had succeeded: started deployment {started}, which "
            f"redeploys {shown} (the release of deployment {source}) through CodeDeploy"
        )
        if not follow:
            return ActionResult(
                "rollback",
                view.id,
                intro + "; " + self._next_steps(),
                started=started,
                revision=task_definition,
                phase=str(Phase.QUEUED),
            )
        ui.step(intro)
        return self._follow_rollback(view.id, started, task_definition, ui, sleep, interval)

    def _first_release_text(self, current: dict[str, Any]) -> str:
        copied = _ROLLBACK_SOURCE.match(str(current.get("description") or ""))
        if copied:
            return f"redeploys the first release (deployment {copied.group(1)})"
        return f"is the first release of deployment group {self.refs.deployment_group}"

    def _check_task_definition(self, task_definition: str, source: str) -> None:
        """Refuse before creating anything when the revision's task definition is gone:
        an INACTIVE revision cannot run new tasks (ECS developer guide, "Deregistering an
        Amazon ECS task definition revision")."""
        if not task_definition:
            return
        try:
            found = ecs.describe_task_definition(self._clients.ecs, task_definition)
        except AwsCallError as exc:
            # DescribeTaskDefinition's errors (botocore model): ClientException for a
            # task definition it cannot describe, such as one deleted since.
            if exc.code != "ClientException":
                raise
            found = {"status": "missing"}
        status = str(found.get("status", "ACTIVE"))
        if status != "ACTIVE":
            raise StateError(
                f"cannot roll back: the task definition of the previous release "
                f"({short_name(task_definition)}, deployment {source}) is {status}, so ECS "
                "cannot start tasks from it",
                hint="revert the commit and push: the pipeline builds and releases it again",
            )

    def _next_steps(self) -> str:
        if self._group is None:
            self._group = codedeploy.deployment_group(
                self._clients.codedeploy, self.refs.application, self.refs.deployment_group
            )
        automatic = codedeploy.reroutes_automatically(
            self._group.get("blueGreenDeploymentConfiguration")
        )
        if automatic:
            return (
                "CodeDeploy moves production once its tasks are healthy; follow with "
                "`bluegreen status --watch`"
            )
        return (
            f"when it waits for reroute (green on :{self.refs.test_port}), `bluegreen "
            f"promote` moves production (:{self.refs.production_port}) to it; follow with "
            "`bluegreen status --watch`"
        )

    def _follow_rollback(
        self,
        current: str,
        started: str,
        task_definition: str,
        ui: Progress,
        sleep: Sleep,
        interval: float,
    ) -> ActionResult:
        shown = short_name(task_definition) or "the previous release"
        printed = ""
        promoted = False
        while True:
            view = self.deployment(started)
            line = f"rollback deployment {started}: {_describe(view)}"
            if line != printed:
                ui.step(line)
                printed = line
            if view.phase in (Phase.FAILED, Phase.STOPPED):
                raise StateError(
                    f"the rollback deployment {started} {view.status.lower()}"
                    + (f" ({view.error})" if view.error else "")
                    + f"; production stays where deployment {current} put it",
                    hint=f"see {console.deployment(self._clients.region, started)}",
                )
            if view.phase in _MOVED:
                return ActionResult(
                    "rollback",
                    current,
                    f"production (:{self.refs.production_port}) serves {shown} again "
                    f"(deployment {started}); the replaced tasks are kept for the "
                    "termination wait: `bluegreen finish` removes them now",
                    started=started,
                    revision=task_definition,
                    phase=str(view.phase),
                    promoted=promoted,
                )
            if not promoted and self.promote_if_ready(view) is not None:
                promoted = True
                ui.step(
                    f"rollback deployment {started} waits for reroute: promoting it, as you "
                    f"asked to roll back (production :{self.refs.production_port} moves to "
                    f"{shown})"
                )
            sleep(interval)

    def scope(self) -> str:
        return self.refs.deployment_group

    def ending(self, deployment_id: str) -> Ending:
        """GetDeployment's status; a deployment CodeDeploy rolled back names the rollback
        deployment in ``rollbackInfo.rollbackDeploymentId``, and a rollback deployment is
        created by ``codeDeployRollback`` (CodeDeploy API reference, DeploymentInfo) or
        by ``bluegreen rollback`` (its description, ROLLBACK_NOTE)."""
        info = codedeploy.get_deployment(self._clients.codedeploy, deployment_id)
        state = str(info.get("status", ""))
        reason = str((info.get("errorInformation") or {}).get("message") or "")
        ours = ROLLBACK_NOTE.split("{", 1)[0]
        rollback = info.get("creator") == "codeDeployRollback" or str(
            info.get("description") or ""
        ).startswith(ours)
        if state == "Succeeded":
            outcome = "succeeded"
        elif (info.get("rollbackInfo") or {}).get("rollbackDeploymentId"):
            outcome = "rolled back"
        elif state == "Stopped":
            outcome = "stopped"
        elif state == "Failed":
            outcome = "failed"
        else:
            outcome = ""
        return Ending(state, outcome, reason, rollback, tuple(alarms_of(info)))

    def continue_creation(self) -> ActionResult | None:
        """A CODE_DEPLOY service is created with its first task set, no deployment (ECS
        developer guide, "Blue/green deployment with CodeDeploy"): nothing to continue."""
        return None

    def console_link(self, deployment_id: str) -> str:
        return console.deployment(self._clients.region, deployment_id)


def _origin(
    deployment: dict[str, Any], by_id: dict[str, dict[str, Any]], history: list[dict[str, Any]]
) -> dict[str, Any]:
    """The deployment that first released what ``deployment`` deploys (itself unless it
    is a rollback that copies an earlier release)."""
    seen: set[str] = set()
    while deployment["deploymentId"] not in seen:
        seen.add(deployment["deploymentId"])
        match = _ROLLBACK_SOURCE.match(str(deployment.get("description") or ""))
        source: dict[str, Any] | None = by_id.get(match.group(1)) if match else None
        if source is None:
            trigger = (deployment.get("rollbackInfo") or {}).get("rollbackTriggeringDeploymentId")
            if trigger and trigger in by_id:
                source = _before(by_id[trigger], history)
            elif trigger:
                # The triggering deployment failed or was stopped, so it is not among
                # the Succeeded ones: the release before it is the newest older one.
                source = _before(deployment, history)
        if source is None:
            return deployment
        deployment = source
    return deployment


def _before(deployment: dict[str, Any], history: list[dict[str, Any]]) -> dict[str, Any] | None:
    created = deployment.get("createTime")
    for candidate in history:  # newest first
        if created is not None and candidate["createTime"] < created:
            return candidate
    return None


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
