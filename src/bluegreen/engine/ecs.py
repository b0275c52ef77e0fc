"""The ECS built-in blue/green engine (deployment controller ECS, strategy BLUE_GREEN,
LINEAR or CANARY).

How a service deployment reads from the API, and what each command does (the calls and
shapes are botocore's ECS model; the behaviour's sources are named where relied on):

- The deployments: ListServiceDeployments (every page, sorted here by ``createdAt``: it
  returns "up to 20 results and a nextToken" and documents no order, ListServiceDeployments
  request, maxResults, botocore's ECS model) and DescribeServiceDeployments
  (at most 20 ARNs a call): ``status`` (PENDING, IN_PROGRESS, SUCCESSFUL, STOPPED,
  STOP_REQUESTED, ROLLBACK_REQUESTED, ROLLBACK_IN_PROGRESS, ROLLBACK_SUCCESSFUL,
  ROLLBACK_FAILED), ``lifecycleStage``, ``lifecycleHookDetails`` (``hookId``, ``status``
  AWAITING_ACTION ... , ``expiresAt``, ``timeoutAction``), the target and source
  revisions with their requested production and test traffic weights, ``rollback``
  (ECS API reference, ServiceDeployment; ECS developer guide, "View service history
  using Amazon ECS service deployments").
- Waiting for reroute: a PAUSE hook at POST_TEST_TRAFFIC_SHIFT is AWAITING_ACTION (the
  stacks put it there with reroute = "manual"). ``promote`` is ContinueServiceDeployment
  with action CONTINUE, which ECS accepts only for a hook AWAITING_ACTION of a deployment
  IN_PROGRESS (ContinueServiceDeployment API reference; ECS developer guide, "Pause
  lifecycle hooks").
- ``rollback`` while paused: ContinueServiceDeployment with action ROLLBACK; while the
  deployment is otherwise in progress (test shift, production shift, the bake):
  StopServiceDeployment with stopType ROLLBACK, which "rolls back the service deployment
  to the previous service revision ... even if you didn't configure the service
  deployment for the rollback option" (StopServiceDeployment API reference). After the
  deployment succeeded: UpdateService with the task definition of the revision it
  replaced (DescribeServiceRevisions), a new deployment through the same lifecycle.
- ``finish`` (end the bake now): ECS has no call for it. ContinueServiceDeployment acts
  on a paused hook only, and StopServiceDeployment rolls back. So ``finish`` refuses,
  saying when the bake ends and which setting shortens it (deployment.ecs.bake_minutes;
  "bakeTimeInMinutes": the time both revisions keep running after production moved,
  ECS API reference, DeploymentConfiguration).
- Weights: the production and test listener rules (the service stack's outputs), read
  with DescribeRules, are what the load balancer does now; the deployment's requested
  weights are what ECS is moving to.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bluegreen.aws import ecs
from bluegreen.aws.elb import target_group_name
from bluegreen.aws.errors import AwsCallError, call
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

STAGES = (
    "RECONCILE_SERVICE",
    "PRE_SCALE_UP",
    "SCALE_UP",
    "POST_SCALE_UP",
    "TEST_TRAFFIC_SHIFT",
    "POST_TEST_TRAFFIC_SHIFT",
    "PRODUCTION_TRAFFIC_SHIFT",
    "POST_PRODUCTION_TRAFFIC_SHIFT",
    "BAKE_TIME",
    "CLEAN_UP",
)
"""ServiceDeployment.lifecycleStage values in the order ECS goes through them (botocore's
ServiceDeploymentLifecycleStage; the order: ECS developer guide, "Amazon ECS blue/green
service deployments workflow")."""

_INSTALLING = frozenset(STAGES[:6])
_SHIFTING = frozenset({"PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT"})
_BAKING = frozenset({"BAKE_TIME", "CLEAN_UP"})
_ROLLING_BACK = frozenset({"ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS", "STOP_REQUESTED"})
BAKE_PHASE = "bake-time"
"""How the commands name the phase of the BAKE_TIME (and CLEAN_UP) stages."""
PAUSE_STAGE = "POST_TEST_TRAFFIC_SHIFT"
"""Where the stacks' PAUSE hook waits (bluegreen.stacks.service.PAUSE_STAGE)."""

LIST_PAGE = 100
"""ListServiceDeployments maxResults: "This value can be between 1 and 100" (botocore)."""

FOUND_ATTEMPTS = 24
FOUND_INTERVAL = 5.0
"""How long (24 looks, 5 s apart: the deploy step's bound, bluegreen.stacks.pipeline
DEPLOYMENT_FOUND_ATTEMPTS) rollback looks for the service deployment its UpdateService
started: nothing documents that ListServiceDeployments lists it as soon as the call
returns."""


def phase_of(deployment: dict[str, Any]) -> Phase:
    """The deployment's phase, in the terms the commands share with CodeDeploy."""
    status = str(deployment.get("status", ""))
    stage = str(deployment.get("lifecycleStage", ""))
    if status == "PENDING":
        return Phase.QUEUED
    if status == "SUCCESSFUL":
        return Phase.SUCCEEDED
    if status in ("ROLLBACK_FAILED",):
        return Phase.FAILED
    if status in _ROLLING_BACK or status in ("STOPPED", "ROLLBACK_SUCCESSFUL"):
        return Phase.STOPPED
    if _awaiting(deployment):
        return Phase.WAITING
    if stage in _BAKING:
        return Phase.TERMINATION_WAIT
    if stage in _SHIFTING:
        return Phase.SHIFTING
    return Phase.INSTALLING


def _awaiting(deployment: dict[str, Any]) -> dict[str, Any] | None:
    """The PAUSE hook awaiting action, if the deployment is paused."""
    if deployment.get("status") != "IN_PROGRESS":
        return None
    for hook in deployment.get("lifecycleHookDetails") or []:
        if hook.get("status") == "AWAITING_ACTION":
            found: dict[str, Any] = hook
            return found
    return None


def _lifecycle(deployment: dict[str, Any]) -> list[LifecycleStep]:
    """Each stage up to now (Succeeded, the current one InProgress) and each hook."""
    stage = str(deployment.get("lifecycleStage", ""))
    status = str(deployment.get("status", ""))
    done = status == "SUCCESSFUL"
    steps: list[LifecycleStep] = []
    if stage in STAGES:
        for name in STAGES[1 : STAGES.index(stage) + 1]:
            current = name == stage and not done
            steps.append(LifecycleStep(name, "InProgress" if current else "Succeeded"))
        stopped = status in _ROLLING_BACK or status.startswith("ROLLBACK") or status == "STOPPED"
        if stopped and steps:  # none when it stopped in RECONCILE_SERVICE
            steps[-1] = LifecycleStep(stage, "Stopped")
    names: set[str] = set()
    for hook in deployment.get("lifecycleHookDetails") or []:
        name = _hook_name(hook)
        if name in names:  # two hooks of one kind: their ids tell them apart
            name += f" {hook.get('hookId', '')}"
        names.add(name)
        steps.append(LifecycleStep(name, str(hook.get("status", ""))))
    return steps


def _hook_name(hook: dict[str, Any]) -> str:
    """A hook as a person knows it, not by its generated hookId (review U16): ``hook
    pause``, ``hook verify``, or ``hook <function name>`` from its targetArn (ECS API reference,
    DeploymentLifecycleHookDetail: hookId, targetType, targetArn, status)."""
    kind = str(hook.get("targetType", ""))
    if kind == "PAUSE":
        return "hook pause"
    target = str(hook.get("targetArn") or "")
    if kind == "AWS_LAMBDA" and ":function:" in target:
        function = target.split(":function:", 1)[1].split(":", 1)[0]
        if function.startswith("CodeDeployHook_") and function.endswith("-verify"):
            # bluegreen's [verify] hook (stacks.verification.hook_function_name): by its role,
            # not its CodeDeploy-policy name, under the ECS engine
            return "hook verify"
        return f"hook {function}"
    return f"hook {kind} {hook.get('hookId', '')}".rstrip()


class EcsEngine:
    """Blue/green by ECS itself; see the module docstring for the state rules."""

    name = "ecs"
    noun = "Service deployment"
    creation_deploys = True
    commands: tuple[tuple[str, str], ...] = (
        ("promote", "continue the pause: production to green"),
        ("rollback", "back to blue (paused, shifting or baking)"),
    )
    """The commands that end a release's waits: no `finish` (see :meth:`finish`)."""

    def __init__(self, clients: Clients, refs: ServiceRefs, service: dict[str, Any]) -> None:
        self._clients = clients
        self.refs = refs
        self.service = service
        self.absent = ""
        self._read_at: datetime | None = None
        """When ECS answered the last DescribeServiceDeployments, by its own clock."""
        self._listed_at: datetime | None = None
        """When ECS answered the last ListServiceDeployments, by its own clock."""

    # -- reading ----------------------------------------------------------------------
    def _list(self, **filters: Any) -> list[dict[str, Any]]:
        """The service's deployments, newest first: every page (``nextToken``; botocore
        has no paginator for ListServiceDeployments), sorted by ``createdAt`` here since
        ECS documents no order. ``self._listed_at``: ECS's clock at the first page."""
        found: list[dict[str, Any]] = []
        token: str | None = None
        seen: set[str] = set()
        while True:
            answer = call(
                self._clients.ecs,
                "list_service_deployments",
                cluster=self.refs.cluster,
                service=self.refs.service,
                maxResults=LIST_PAGE,
                **filters,
                **({"nextToken": token} if token else {}),
            )
            if token is None:
                self._listed_at = _service_clock(answer)
            found += answer.get("serviceDeployments", [])
            token = answer.get("nextToken") or None
            if token is None or token in seen:
                break
            seen.add(token)
        return sorted(
            found,
            key=lambda d: d.get("createdAt") or datetime.min.replace(tzinfo=UTC),
            reverse=True,
        )

    def _describe(self, arn: str) -> dict[str, Any]:
        answer = call(
            self._clients.ecs, "describe_service_deployments", serviceDeploymentArns=[arn]
        )
        self._read_at = _service_clock(answer)
        for found in answer.get("serviceDeployments", []):
            described: dict[str, Any] = found
            return described
        raise StateError(
            f"ECS does not describe service deployment {arn}",
            hint="see the service's Deployments tab in the ECS console",
        )

    def _latest(self) -> dict[str, Any] | None:
        listed = self._list()
        return self._describe(listed[0]["serviceDeploymentArn"]) if listed else None

    def status(self) -> DeploymentView | None:
        latest = self._latest()
        return self._view(latest, self._target_groups(latest)) if latest is not None else None

    def _target_groups(self, d: dict[str, Any]) -> dict[str, str]:
        """Service revision ARN -> the name of the target group it runs behind, for the
        deployment's target and source revisions: DescribeServiceRevisions (at most 20
        ARNs a call), ``resolvedConfiguration.loadBalancers[].targetGroupArn``, "The
        resolved load balancer configuration for a service revision. This includes
        information about which target groups serve traffic" (ServiceRevision,
        ServiceRevisionLoadBalancer, ECS API reference). So ``status`` labels the target
        groups blue (the source revision's, where production was when the deployment
        started) and green (the target's) for the whole deployment, as CodeDeploy labels
        its task sets, instead of by where production is now. A revision ECS does not
        resolve is left out (status then labels by production's weights)."""
        wanted = [
            str(r.get("arn", ""))
            for r in [
                d.get("targetServiceRevision") or {},
                *(d.get("sourceServiceRevisions") or []),
            ]
            if r.get("arn")
        ][:20]
        if not wanted:
            return {}
        try:
            answer = call(
                self._clients.ecs, "describe_service_revisions", serviceRevisionArns=wanted
            )
        except AwsCallError as exc:
            # A reader allowed the deployments but not their revisions: labels by the
            # weights (status's fallback) rather than no status at all. ECS says so with
            # AccessDeniedException (DescribeServiceRevisions' errors, botocore's model).
            if exc.code == "AccessDeniedException":
                return {}
            raise
        found: dict[str, str] = {}
        for revision in answer.get("serviceRevisions") or []:
            resolved = (revision.get("resolvedConfiguration") or {}).get("loadBalancers") or []
            group = next(
                (str(lb["targetGroupArn"]) for lb in resolved if lb.get("targetGroupArn")), ""
            )
            if group:
                found[str(revision.get("serviceRevisionArn", ""))] = target_group_name(group)
        return found

    def deployment(self, arn: str) -> DeploymentView:
        return self._view(self._describe(arn))

    def scope(self) -> str:
        return f"service {self.refs.service}"

    def ending(self, deployment_id: str) -> Ending:
        """ServiceDeployment.status: SUCCESSFUL; ROLLBACK_SUCCESSFUL (production back on
        the source revision; ``rollback.reason`` says why); ROLLBACK_FAILED; STOPPED (ECS
        API reference, ServiceDeployment)."""
        d = self._describe(deployment_id)
        state = str(d.get("status", ""))
        reason = str((d.get("rollback") or {}).get("reason") or d.get("statusReason") or "")
        outcome = {
            "SUCCESSFUL": "succeeded",
            "ROLLBACK_SUCCESSFUL": "rolled back",
            "ROLLBACK_FAILED": "failed",
            "STOPPED": "stopped",
        }.get(state, "")
        return Ending(
            state, outcome, "" if outcome == "succeeded" else reason, alarms=tuple(_triggered(d))
        )

    def continue_creation(self) -> ActionResult | None:
        """CreateService starts the service's first service deployment, and it goes
        through the lifecycle hooks too (ECS developer guide, "Amazon ECS blue/green
        service deployments workflow"; a hook "must pass the first deployment, when there
        is no blue revision": choisungwook/portfolio#1261). Whether CloudFormation's
        create waits on it is not documented for PAUSE hooks; it waits on the deployment
        and its hooks for updates ("running lifecycle hooks can extend deployment time"
        toward CloudFormation's 36-hour limit: AWS::ECS::Service CanaryConfiguration,
        CloudFormation template reference) and Terraform's provider waits for the hooks
        on creation (hashicorp/terraform-provider-aws#43434: "Ensures lifecycle hooks
        complete during creation"). Either way the pause must not hold the stack or time
        out into a rollback that has no revision to return to, and nothing serves
        production yet: continue it."""
        listed = self._list()
        if not listed:
            return None
        first = self._describe(str(listed[-1]["serviceDeploymentArn"]))
        hook = _awaiting(first)
        if hook is None or first.get("sourceServiceRevisions"):
            return None
        view = self._view(first)
        try:
            self._continue(view, hook, "CONTINUE")
        except AwsCallError as exc:
            if exc.code == "InvalidParameterException":
                return None  # no longer awaiting action
            raise
        # The creation goes on through the production shift and its bake
        # (bakeTimeInMinutes, ServiceDeployment.deploymentConfiguration), and
        # CloudFormation's create waits for it to end: say so, or the wait looks like a
        # hang (review U8).
        bake = (first.get("deploymentConfiguration") or {}).get("bakeTimeInMinutes")
        then = (
            f"; it still bakes {bake:g} min (deployment.ecs.bake_minutes) before it ends and "
            "CloudFormation completes the service stack"
            if isinstance(bake, int | float) and bake
            else ""
        )
        return ActionResult(
            "promote",
            view.id,
            f"continued {_name(view)}, the service's creation, at its pause ({PAUSE_STAGE}): "
            f"nothing serves production yet, so there is nothing to hold it for{then}",
        )

    def following(self, external_id: str) -> DeploymentView | None:
        """The deploy step (a CodeBuild build, id ``<project>:<uuid>``; BatchGetBuilds
        gives its startTime) starts the service's newest deployment and waits for it;
        None while it has not started one."""
        if ":" not in external_id:
            return None
        builds = call(self._clients.codebuild, "batch_get_builds", ids=[external_id])
        started = next((b.get("startTime") for b in builds.get("builds", [])), None)
        view = self.status()
        if view is None or not view.phase.active or started is None or view.created is None:
            return None
        # Only a deployment created after the build started is the step's own (an older
        # one still in progress, such as the service's creation, is not).
        return view if view.created >= started else None

    def _view(self, d: dict[str, Any], groups: dict[str, str] | None = None) -> DeploymentView:
        """The deployment as the commands share it; ``groups``: each revision's target
        group name (:meth:`_target_groups`), where the caller read them."""
        groups = groups or {}
        target = d.get("targetServiceRevision") or {}
        sources = d.get("sourceServiceRevisions") or []
        sets = [
            TrafficSet(
                task_set_id=short_name(str(target.get("arn", ""))),
                label="green",
                status="TARGET",
                weight=float(target.get("requestedProductionTrafficWeight") or 0.0),
                target_group=groups.get(str(target.get("arn", "")), ""),
                desired=int(target.get("requestedTaskCount") or 0),
                running=int(target.get("runningTaskCount") or 0),
            )
        ]
        for source in sources:
            sets.append(
                TrafficSet(
                    task_set_id=short_name(str(source.get("arn", ""))),
                    label="blue",
                    status="SOURCE",
                    weight=float(source.get("requestedProductionTrafficWeight") or 0.0),
                    target_group=groups.get(str(source.get("arn", "")), ""),
                    desired=int(source.get("requestedTaskCount") or 0),
                    running=int(source.get("runningTaskCount") or 0),
                )
            )
        config = d.get("deploymentConfiguration") or {}
        bake_ends = None
        if d.get("lifecycleStage") == "BAKE_TIME" and d.get("updatedAt"):
            # An estimate: no AWS page says when BAKE_TIME began. ServiceDeployment
            # .updatedAt is only "the time the service deployment was last updated" (ECS
            # API reference); the move to BAKE_TIME is such an update, but a later one
            # would move the estimate. So the commands say "about" (finish: "it ends at
            # about", status: "bake: ends about").
            # In UTC, as the commands print it: botocore reads ECS's epoch timestamps in
            # this machine's time zone (tzlocal).
            bake_ends = (
                d["updatedAt"] + timedelta(minutes=int(config.get("bakeTimeInMinutes") or 0))
            ).astimezone(UTC)
        error = str((d.get("rollback") or {}).get("reason") or "")
        if not error and d.get("status") not in ("SUCCESSFUL", "IN_PROGRESS", "PENDING"):
            error = str(d.get("statusReason") or "")
        hooks = config.get("lifecycleHooks") or []
        phase = phase_of(d)
        return DeploymentView(
            engine=self.name,
            id=str(d.get("serviceDeploymentArn", "")),
            status=str(d.get("status", "")),
            phase=phase,
            # ECS's name for the stage where both revisions run after production moved
            # (ServiceDeploymentLifecycleStage BAKE_TIME, DeploymentConfiguration
            # .bakeTimeInMinutes, ECS API reference), rather than CodeDeploy's.
            phase_name=BAKE_PHASE if phase == Phase.TERMINATION_WAIT else "",
            created=d.get("createdAt"),
            lifecycle=_lifecycle(d),
            task_sets=sets,
            error=error,
            auto_reroute=not any(h.get("targetType") == "PAUSE" for h in hooks),
            paused=_awaiting(d) is not None,
            bake_ends=bake_ends,
            bake_left=(
                max(0.0, (bake_ends - self._read_at).total_seconds())
                if bake_ends is not None and self._read_at is not None
                else None
            ),
            alarms=_triggered(d),
            # The target revision is the new one; its group, where status read it.
            new_target_group=sets[0].target_group if _triggered(d) else "",
            weights={
                "production": float(target.get("requestedProductionTrafficWeight") or 0.0),
                "test": float(target.get("requestedTestTrafficWeight") or 0.0),
            },
        )

    def _current(self, verb: str) -> dict[str, Any]:
        latest = self._latest()
        if latest is None:
            raise StateError(
                f"cannot {verb}: the service {self.refs.service} has no service deployments yet",
                hint="start one with `bluegreen release`",
            )
        return latest

    def forwards(self) -> dict[str, list[tuple[str, int]]]:
        """ "production"/"test" -> the listener rule's (target group ARN, weight) forwards now
        (DescribeRules: ECS rewrites the rules' weighted forwards)."""
        arns = [a for a in (self.refs.production_rule, self.refs.test_rule) if a]
        if not arns:
            return {}
        answer = call(self._clients.elbv2, "describe_rules", RuleArns=arns)
        found: dict[str, list[tuple[str, int]]] = {}
        for rule in answer.get("Rules", []):
            role = "production" if rule.get("RuleArn") == self.refs.production_rule else "test"
            pairs: list[tuple[str, int]] = []
            for action in rule.get("Actions", []):
                forward = action.get("ForwardConfig") or {}
                for group in forward.get("TargetGroups") or []:
                    pairs.append((str(group["TargetGroupArn"]), int(group.get("Weight", 1))))
                if not forward and action.get("TargetGroupArn"):
                    pairs.append((str(action["TargetGroupArn"]), 1))
            found[role] = pairs
        return found

    # -- acting -----------------------------------------------------------------------
    def promote(self) -> ActionResult:
        d = self._current("promote")
        view = self._view(d)
        hook = _awaiting(d)
        if hook is None:
            if view.auto_reroute and view.phase.active:
                raise StateError(
                    f"cannot promote: {_name(view)} moves production by itself (no PAUSE "
                    'hook: deployment.reroute is "auto")',
                    hint="follow it with `bluegreen status --watch`",
                )
            raise StateError(
                f"cannot promote: {_name(view)} is {_describe(view)}, not paused for reroute",
                hint=_hint(view),
            )
        self._continue(view, hook, "CONTINUE")
        return self._promoted(view)

    def _continue(self, view: DeploymentView, hook: dict[str, Any], action: str) -> None:
        call(
            self._clients.ecs,
            "continue_service_deployment",
            serviceDeploymentArn=view.id,
            hookId=str(hook["hookId"]),
            action=action,
        )

    def _promoted(self, view: DeploymentView) -> ActionResult:
        return ActionResult(
            "promote",
            view.id,
            f"continued {_name(view)}: ECS shifts production (:{self.refs.production_port}) "
            "to green; follow with `bluegreen status --watch`",
        )

    def promote_if_ready(self, view: DeploymentView) -> ActionResult | None:
        if not view.ready:
            return None
        d = self._describe(view.id)
        hook = _awaiting(d)
        if hook is None:
            return None
        try:
            self._continue(view, hook, "CONTINUE")
        except AwsCallError as exc:
            # The hook may have left AWAITING_ACTION since it was read (someone promoted
            # or rolled back, or it timed out). ECS documents no error for that: the call
            # needs the hook AWAITING_ACTION ("The pause hook must be in AWAITING_ACTION
            # status", ECS developer guide, "Continuing service deployments"), and its
            # documented errors include ClientException and InvalidParameterException
            # (botocore's ECS model). So on either, read the deployment again: keep
            # following if the hook no longer awaits action, raise otherwise.
            if exc.code not in ("ClientException", "InvalidParameterException"):
                raise
            if _awaiting(self._describe(view.id)) is not None:
                raise
            return None
        return self._promoted(view)

    def finish(self) -> ActionResult:
        view = self._view(self._current("finish"))
        when = ""
        if view.bake_ends is not None:
            when = f"; it ends at about {view.bake_ends:%H:%M:%S} UTC"
        if view.phase != Phase.TERMINATION_WAIT:
            raise StateError(
                f"cannot finish: {_name(view)} is {_describe(view)}, not in the bake",
                hint=_hint(view),
            )
        raise StateError(
            f"cannot finish {_name(view)} early: production already serves green and blue "
            "is kept for the bake, but ECS has no call that ends a bake (ContinueService"
            "Deployment acts on a paused lifecycle hook only, StopServiceDeployment rolls "
            f"back){when}",
            hint="to shorten the bake of later releases, set deployment.ecs.bake_minutes "
            "(0 for none) in bluegreen.toml and run `bluegreen deploy`: it sets the "
            "service's deployment configuration with UpdateService, which starts no "
            "deployment, and the next release bakes that long",
        )

    def rollback(
        self,
        *,
        follow: bool = False,
        ui: Progress | None = None,
        sleep: Sleep = time.sleep,
        interval: float = 10.0,
    ) -> ActionResult:
        d = self._current("roll back")
        view = self._view(d)
        hook = _awaiting(d)
        if hook is not None:
            self._continue(view, hook, "ROLLBACK")
            return ActionResult(
                "rollback",
                view.id,
                f"rolled back {_name(view)} at its pause (ContinueServiceDeployment "
                f"ROLLBACK): production stays on blue and ECS stops green's tasks",
            )
        if view.status in ("PENDING", "IN_PROGRESS"):
            call(
                self._clients.ecs,
                "stop_service_deployment",
                serviceDeploymentArn=view.id,
                stopType="ROLLBACK",
            )
            where = (
                "production stays on"
                if view.phase in (Phase.QUEUED, Phase.INSTALLING)
                else "production returns to"
            )
            return ActionResult(
                "rollback",
                view.id,
                f"stopped {_name(view)} ({view.phase_text}) with rollback: {where} blue and ECS "
                "stops green's tasks",
            )
        if view.phase == Phase.SUCCEEDED:
            return self._redeploy_previous(view, d, follow, ui or QuietProgress(), sleep, interval)
        raise StateError(
            f"cannot roll back: {_name(view)} is already {view.status}"
            + (f" ({view.error})" if view.error else "")
            + ": there is nothing in progress to stop",
            hint="see `bluegreen status` for what production serves; to release an "
            "earlier commit, revert and push",
        )

    def _redeploy_previous(
        self,
        view: DeploymentView,
        d: dict[str, Any],
        follow: bool,
        ui: Progress,
        sleep: Sleep,
        interval: float,
    ) -> ActionResult:
        sources = [str(s.get("arn", "")) for s in d.get("sourceServiceRevisions") or []]
        if not sources:
            raise StateError(
                f"cannot roll back: {_name(view)} is the service's first deployment; there "
                "is no earlier release to return to",
                hint="revert the commit and push: the pipeline releases the reverted code",
            )
        answer = call(
            self._clients.ecs, "describe_service_revisions", serviceRevisionArns=sources[:1]
        )
        revisions = answer.get("serviceRevisions") or []
        task_definition = str(revisions[0].get("taskDefinition", "")) if revisions else ""
        if not task_definition:
            raise StateError(
                f"cannot roll back: ECS no longer describes the revision {sources[0]} that "
                f"{_name(view)} replaced",
                hint="revert the commit and push: the pipeline releases the reverted code",
            )
        described = ecs.describe_task_definition(self._clients.ecs, task_definition)
        if str(described.get("status", "ACTIVE")) != "ACTIVE":
            raise StateError(
                f"cannot roll back: the previous release's task definition "
                f"({short_name(task_definition)}) is {described.get('status')}, so ECS cannot "
                "start tasks from it",
                hint="revert the commit and push: the pipeline builds and releases it again",
            )
        known = {str(d.get("serviceDeploymentArn", "")) for d in self._list()}
        since = self._listed_at
        answer = call(
            self._clients.ecs,
            "update_service",
            cluster=self.refs.cluster,
            service=self.refs.service,
            taskDefinition=task_definition,
        )
        started = self._started_by_update(answer, known, since, sleep)
        intro = (
            f"{_name(view)} had succeeded: started service deployment {short_name(started)}, "
            f"which deploys {short_name(task_definition)} (the release it replaced) again"
        )
        if not follow:
            return ActionResult(
                "rollback",
                view.id,
                intro
                + "; when it pauses (green on :"
                + f"{self.refs.test_port}), `bluegreen promote` moves production to it",
                started=started,
                revision=task_definition,
                phase=str(Phase.QUEUED),
            )
        ui.step(intro)
        printed, promoted = "", False
        while True:
            current = self.deployment(started)
            line = f"rollback {_name(current)}: {_describe(current)}"
            if line != printed:
                ui.step(line)
                printed = line
            if current.phase in (Phase.FAILED, Phase.STOPPED):
                raise StateError(
                    f"the rollback {_name(current)} ended {current.status}"
                    + (f" ({current.error})" if current.error else "")
                    + f"; production stays where {_name(view)} put it",
                    hint="see the service's Deployments tab in the ECS console",
                )
            if current.phase in (Phase.TERMINATION_WAIT, Phase.SUCCEEDED):
                return ActionResult(
                    "rollback",
                    view.id,
                    f"production (:{self.refs.production_port}) serves "
                    f"{short_name(task_definition)} again ({_name(current)})",
                    started=started,
                    revision=task_definition,
                    phase=current.phase_text,
                    promoted=promoted,
                )
            if not promoted and self.promote_if_ready(current) is not None:
                promoted = True
                ui.step(
                    f"rollback {_name(current)} is paused: continuing it, as you asked to roll back"
                )
            sleep(interval)

    def _started_by_update(
        self, answer: dict[str, Any], known: set[str], since: datetime | None, sleep: Sleep
    ) -> str:
        """The service deployment an UpdateService started: the response's
        ``service.currentServiceDeployment`` ("The ARN of the current service
        deployment", Service, botocore's ECS model) when it is a new one; otherwise the
        first deployment listed that was not listed before the call, looked for with
        ``createdAt.after`` the time ECS answered that listing (ListServiceDeployments,
        CreatedAt: "Include service deployments in the result that were created after
        this time"), within FOUND_ATTEMPTS. Never an older deployment: raises
        StateError if none appears."""
        current = str((answer.get("service") or {}).get("currentServiceDeployment") or "")
        if current and current not in known:
            return current
        window: dict[str, Any] = {}
        if since is not None:
            # ECS's own clock (the listing's Date header), a second early for its
            # resolution.
            window = {"createdAt": {"after": since - timedelta(seconds=1)}}
        for attempt in range(FOUND_ATTEMPTS):
            fresh = [d for d in self._list(**window) if d["serviceDeploymentArn"] not in known]
            if fresh:
                return str(fresh[-1]["serviceDeploymentArn"])  # the oldest new one
            if attempt + 1 < FOUND_ATTEMPTS:
                sleep(FOUND_INTERVAL)
        raise StateError(
            "UpdateService was accepted, but ECS lists no new service deployment for "
            f"{self.refs.service} after {FOUND_ATTEMPTS * FOUND_INTERVAL:g} s, so the "
            "rollback cannot be followed",
            hint="see the service's Deployments tab in the ECS console, then `bluegreen "
            "status`; when the new deployment pauses, `bluegreen promote` moves production",
        )


def _service_clock(answer: dict[str, Any]) -> datetime | None:
    """The time by ECS's own clock: the ``Date`` header every HTTP response carries (RFC
    9110), so the bake left is measured as the service counts it, whatever this
    machine's clock says (as ``logs --since`` does, aws/logs.py service_now)."""
    from email.utils import parsedate_to_datetime

    header = answer.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
    if not header:
        return None
    try:
        return parsedate_to_datetime(str(header)).astimezone(UTC)
    except (TypeError, ValueError):
        return None


def _name(view: DeploymentView) -> str:
    return f"service deployment {short_name(view.id)}"


def _describe(view: DeploymentView) -> str:
    running = next((s for s in view.lifecycle if s.status == "InProgress"), None)
    text = f"{view.status} ({view.phase_text}"
    if view.paused:
        text += f", paused at {PAUSE_STAGE}"
    elif running is not None:
        text += f", {running.name}"
    return text + ")"


def _hint(view: DeploymentView) -> str:
    if view.phase in (Phase.QUEUED, Phase.INSTALLING):
        return "wait until green serves the test listener (`bluegreen status --watch`)"
    if view.phase == Phase.WAITING:
        return "`bluegreen promote` shifts production to green; `bluegreen rollback` drops it"
    if view.phase == Phase.SHIFTING:
        return "traffic is shifting; `bluegreen rollback` stops and reverts it"
    if view.phase == Phase.TERMINATION_WAIT:
        return "the bake runs; `bluegreen rollback` returns production to blue"
    return "start a new release with `bluegreen release`"


def _triggered(d: dict[str, Any]) -> list[str]:
    """The deployment alarms ECS found in ALARM (ServiceDeployment.alarms,
    ServiceDeploymentAlarms.triggeredAlarmNames: ECS API reference)."""
    return [str(n) for n in (d.get("alarms") or {}).get("triggeredAlarmNames") or []]
