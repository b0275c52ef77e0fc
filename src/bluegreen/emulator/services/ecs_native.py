"""Amazon ECS built-in blue/green (deployment controller ECS, strategy BLUE_GREEN, LINEAR
or CANARY): service deployments that ECS runs by itself, on the simulated clock.

:class:`NativeDeployments` is owned by the emulated ECS (:mod:`bluegreen.emulator.services
.ecs`), which hands it CreateService and UpdateService of such a service and the four
operations of the deployment API. What it does, with the sources:

- **A service deployment per change.** CreateService, and an UpdateService that changes
  the task definition (or forces a new deployment), start one. Its ARN is
  ``arn:aws:ecs:<region>:<account>:service-deployment/<cluster>/<service>/<id>`` and the
  revision it deploys ``...:service-revision/<cluster>/<service>/<id>`` (ECS developer
  guide, "View service history using Amazon ECS service deployments"; the CLI example
  of "Continuing service deployments").
- **The lifecycle, in order** (ECS developer guide, "Amazon ECS blue/green service
  deployments workflow"; DeploymentLifecycleHook.lifecycleStages, ECS API reference):
  RECONCILE_SERVICE (only when more than one revision is active), PRE_SCALE_UP,
  SCALE_UP (the green revision's tasks start on the target group production does not
  use), POST_SCALE_UP, TEST_TRAFFIC_SHIFT (the test listener rule forwards to green),
  POST_TEST_TRAFFIC_SHIFT, then PRE_PRODUCTION_TRAFFIC_SHIFT and PRODUCTION_TRAFFIC_SHIFT
  at every step of a linear or canary shift (once for BLUE_GREEN),
  POST_PRODUCTION_TRAFFIC_SHIFT, BAKE_TIME (bakeTimeInMinutes: both revisions run, so a
  rollback is instant), CLEAN_UP (blue's tasks stop). ``ServiceDeployment.lifecycleStage``
  has no PRE_PRODUCTION_TRAFFIC_SHIFT value in botocore's model
  (ServiceDeploymentLifecycleStage), so during that stage the deployment reports
  POST_TEST_TRAFFIC_SHIFT before the first shift and PRODUCTION_TRAFFIC_SHIFT between
  steps (the stage it is between; conservative, not documented).
- **Traffic moves through the listener rules** named in the service's
  ``loadBalancers[].advancedConfiguration``, with ModifyRule calls made as the
  infrastructure role for load balancers (``roleArn``), so the role's policy decides them
  as on AWS (ECS developer guide, "Amazon ECS infrastructure IAM role for load
  balancers"). A rule becomes a weighted forward to both target groups. ECS does not
  document the weights it writes for a fractional percentage; the emulator writes the
  percentages times ten (0.1 % is 1 against 999), within the ALB's 0-999 range (ALB
  guide, "Forward actions").
- **PAUSE hooks** wait in ``AWAITING_ACTION`` until ContinueServiceDeployment (action
  CONTINUE, the default, or ROLLBACK) or until ``timeoutConfiguration.timeoutInMinutes``
  (default 1440), then take ``timeoutConfiguration.action`` (default ROLLBACK), status
  TIMED_OUT (ECS API reference, DeploymentLifecycleHookTimeoutConfiguration; ECS
  developer guide, "Pause lifecycle hooks"). ContinueServiceDeployment needs the hook
  ``AWAITING_ACTION`` and the deployment ``IN_PROGRESS`` (ContinueServiceDeployment API
  reference); otherwise InvalidParameterException (ECS publishes no message text: the
  wording is the emulator's). AWS_LAMBDA hooks are not emulated: a deployment that
  reaches one fails, saying so (issue 9 will invoke them), at TEST_TRAFFIC_SHIFT and
  PRODUCTION_TRAFFIC_SHIFT too; a PAUSE hook at those two stages is refused with
  InvalidParameterException ("PAUSE hooks cannot be configured at TEST_TRAFFIC_SHIFT or
  PRODUCTION_TRAFFIC_SHIFT stages": DeploymentLifecycleHook.lifecycleStages). Whether
  ECS runs those stages' hooks again during a rollback is not documented in the stored
  sources (not emulated).
- **ListServiceDeployments** pages with ``nextToken`` (maxResults 1-100, default 20) and
  documents no order: newest first here, but ``oldest_first``, ``page_size`` and
  ``listing_delay`` let a test list oldest first, in short pages, or a new deployment
  only some time after the call that started it, so code relying on any of these fails.
- **Rollback** (StopServiceDeployment with stopType ROLLBACK, "even if you didn't
  configure the service deployment for the rollback option"; ContinueServiceDeployment
  ROLLBACK; a hook timeout with action ROLLBACK; the circuit breaker with rollback):
  ROLLBACK_IN_PROGRESS, both rules back to blue, green's tasks stopped,
  ROLLBACK_SUCCESSFUL, with ``rollback`` {reason, startedAt, serviceRevisionArn}
  (ServiceDeployment, ECS API reference). A deployment with no previous revision (the
  service's first) cannot go back: ROLLBACK_FAILED (conservative, not documented).
  StopServiceDeployment moves a PENDING or IN_PROGRESS deployment to ROLLBACK_REQUESTED
  and answers a STOP_REQUESTED, ROLLBACK_REQUESTED or ROLLBACK_IN_PROGRESS one with its
  ARN, changing nothing (ECS developer guide, "Stopping Amazon ECS service deployments");
  a deployment that has ended is ConflictException ("conflict in the current state of
  the resource"; text the emulator's). stopType ABORT
  is in botocore's enum but "The valid values are ROLLBACK" (StopServiceDeployment API
  reference): refused with InvalidParameterException.
- **Circuit breaker.** With ``deploymentCircuitBreaker.enable``, green tasks that fail to
  start trip it at the documented threshold (half the desired count, at least 3, at most
  200: ECS developer guide, "How the Amazon ECS deployment circuit breaker detects
  failures"); with ``rollback`` it rolls back, otherwise the deployment ends STOPPED.
- **Deployment alarms.** With ``deploymentConfiguration.alarms`` enabled, ECS reads the
  alarms (evaluated by the emulated CloudWatch, :mod:`bluegreen.emulator.alarms`) every
  minute from the start of the deployment through its bake; one going into ALARM rolls the
  deployment back with ``rollback``, otherwise it ends STOPPED; one already in ALARM when
  the deployment starts turns the watch off for that deployment (see ``_watch_alarms``:
  documented for rolling updates, assumed for blue/green); ``alarms`` of the
  ServiceDeployment shows MONITORING, TRIGGERED (with ``triggeredAlarmNames``) or
  MONITORING_COMPLETE (ECS developer guide, "How CloudWatch alarms detect Amazon ECS
  deployment failures"; ServiceDeploymentAlarms, ECS API reference).
- **A new deployment while one is in progress** waits (PENDING) until the one in progress
  has rolled back, which it is asked to do. ECS documents no exact behaviour for blue/green
  here; rolling back first keeps production on a revision that finished a deployment
  (conservative).

The revisions run as task sets of the emulated ECS (its scheduler, health checks and
target registration), one per revision, as ECS's own bookkeeping; DescribeServices
therefore lists them under ``taskSets``, which AWS shows only for EXTERNAL and
CODE_DEPLOY services (a known difference of the emulator).
"""

from __future__ import annotations

import base64
import hashlib
import math
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bluegreen.emulator import internal, timing
from bluegreen.emulator.clock import Body, Step, Until, Wait
from bluegreen.emulator.service import Params, Result, ServiceError

if TYPE_CHECKING:
    from bluegreen.emulator.services.ecs import Ecs

STRATEGIES = frozenset({"BLUE_GREEN", "LINEAR", "CANARY"})
"""deploymentConfiguration.strategy values ECS shifts traffic for itself."""

ACTIVE = frozenset({"PENDING", "IN_PROGRESS", "ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS"})
"""ServiceDeploymentStatus values of a deployment that has not ended."""

SHIFT_STAGES = frozenset({"TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT"})
"""The stages that take AWS_LAMBDA hooks only (DeploymentLifecycleHook.lifecycleStages)."""

DEFAULT_HOOK_TIMEOUT_MINUTES = 1440
"""DeploymentLifecycleHookTimeoutConfiguration.timeoutInMinutes default (API reference)."""

LINEAR_DEFAULTS = (10.0, 6)
"""LinearConfiguration defaults: stepPercent 10, stepBakeTimeInMinutes 6 (API reference)."""

CANARY_DEFAULTS = (5.0, 10)
"""CanaryConfiguration defaults: canaryPercent 5, canaryBakeTimeInMinutes 10 (API reference)."""

STAGE_PAUSE = timing.duration(
    "ecs.native.stage",
    5,
    "ECS moving from one lifecycle stage of a service deployment to the next",
    "modelled: ECS documents no per-stage duration",
)
TRAFFIC_SHIFT = timing.duration(
    "ecs.native.traffic_shift",
    10,
    "ECS rewriting a listener rule's weights (one traffic shift step)",
    "modelled: ECS documents no duration; ModifyRule applies at once (ALB guide)",
)

ALARM_POLL = timing.duration(
    "ecs.native.alarm_poll",
    60,
    "how often ECS reads a service deployment's CloudWatch alarms",
    'not documented (ECS developer guide, "How CloudWatch alarms detect Amazon ECS deployment '
    'failures": ECS sets the deployment to failed "when it detects that a specified '
    'CloudWatch alarm has gone into the ALARM state"); CloudWatch evaluates a 60-second '
    "alarm once a minute",
)

Checked = Generator[Step, Any, bool]
"""A part of a deployment's process that returns whether the deployment may go on."""


@dataclass
class Hook:
    """One lifecycle hook at one stage of one deployment (DeploymentLifecycleHookDetail)."""

    hook_id: str
    target_type: str
    target_arn: str
    stage: str
    status: str = "IN_PROGRESS"
    expires_at: datetime | None = None
    timeout_action: str = "ROLLBACK"
    action: str = ""  # what ContinueServiceDeployment asked for

    def describe(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "hookId": self.hook_id,
            "targetType": self.target_type,
            "status": self.status,
            "timeoutAction": self.timeout_action,
        }
        if self.target_arn:
            found["targetArn"] = self.target_arn
        if self.expires_at is not None:
            found["expiresAt"] = self.expires_at
        return found


@dataclass
class Revision:
    arn: str
    task_definition: str
    task_set_id: str
    target_group: str


@dataclass
class Deployment:
    arn: str
    service_key: str
    service_arn: str
    cluster_arn: str
    created: datetime
    target: Revision
    source: Revision | None
    config: dict[str, Any]
    status: str = "PENDING"
    status_reason: str = ""
    stage: str = ""
    started: datetime | None = None
    finished: datetime | None = None
    stopped: datetime | None = None
    updated: datetime | None = None
    hooks: list[Hook] = field(default_factory=list)
    rollback: dict[str, Any] | None = None
    rollback_reason: str = ""  # set when a rollback is requested
    production_weight: float = 0.0  # green's percent of production traffic
    test_weight: float = 0.0
    process: Any = None  # the clock process that runs it
    alarm_status: str = ""  # ServiceDeploymentAlarms.status ("" when it watches none)
    triggered: list[str] = field(default_factory=list)  # alarms found in ALARM
    ignored: list[str] = field(default_factory=list)  # in ALARM at its start: not watched

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    def brief(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "serviceDeploymentArn": self.arn,
            "serviceArn": self.service_arn,
            "clusterArn": self.cluster_arn,
            "createdAt": self.created,
            "targetServiceRevisionArn": self.target.arn,
            "status": self.status,
        }
        if self.started:
            found["startedAt"] = self.started
        if self.finished:
            found["finishedAt"] = self.finished
        if self.status_reason:
            found["statusReason"] = self.status_reason
        return found


class NativeDeployments:
    """The service deployments of the emulated ECS's built-in blue/green services."""

    def __init__(self, ecs: Ecs) -> None:
        self.ecs = ecs
        self.deployments: dict[str, Deployment] = {}
        self._by_service: dict[str, list[Deployment]] = {}
        self._made = 0
        self.listing_delay = 0.0
        """Simulated seconds before ListServiceDeployments lists a new deployment (0: at
        once). Nothing documents how soon ECS lists a deployment after the UpdateService
        that started it (AWS-engineer review of issue 10, E3); a test sets a delay so that
        code which reads the list right after the call shows its fault."""
        self.oldest_first = False
        """ListServiceDeployments' order. ECS documents none (ListServiceDeployments, ECS
        API reference: "up to 20 results and a nextToken", nothing on order); the emulator
        lists newest first unless a test asks for oldest first, so code relying on one
        order fails there."""
        self.page_size: int | None = None
        """At most this many deployments a ListServiceDeployments page (None: maxResults,
        default 20). "If you provided maxResults, it's possible the number of results is
        fewer than maxResults" (ListServiceDeployments request, nextToken, botocore's ECS
        model): a test sets a small page so that code reading one page shows its fault."""
        self.faults: dict[str, str] = {}
        """Injected failures for rehearsals: lifecycle stage -> the message the next
        deployment that reaches it rolls back with, as a Lambda hook at that stage that
        returns FAILED makes ECS roll back (ECS developer guide, "Lambda hooks for Amazon
        ECS service deployments"). Taken once, by a deployment that replaces a running
        revision (not by the service's creation)."""

    # ------------------------------------------------------------------ what ecs.py asks
    @staticmethod
    def applies(controller: str, params: Params, svc: Any = None) -> bool:
        """Whether ECS runs this service's deployments with its built-in blue/green."""
        if controller != "ECS":
            return False
        configuration = params.get("deploymentConfiguration")
        if configuration is None and svc is not None:
            configuration = getattr(svc, "deployment_configuration", None)
        return str((configuration or {}).get("strategy", "")) in STRATEGIES

    def created(self, svc: Any, params: Params) -> None:
        """CreateService of a built-in blue/green service: its first deployment."""
        self._validate(params)
        svc.load_balancers = list(params.get("loadBalancers") or [])
        if params.get("taskDefinition"):
            self._start(svc, str(params["taskDefinition"]))

    def updated(self, svc: Any, params: Params) -> Result:
        """UpdateService of a built-in blue/green service."""
        from bluegreen.emulator.services.ecs import _UPDATABLE

        self._validate(params, svc)
        for key, attribute in _UPDATABLE.items():
            if key in params:
                setattr(svc, attribute, params[key])
        if params.get("loadBalancers") is not None:
            svc.load_balancers = list(params["loadBalancers"])
        if params.get("desiredCount") is not None:
            svc.desired_count = int(params["desiredCount"])
        backend = self.ecs._backend()
        wanted = params.get("taskDefinition")
        current = self._current_task_definition(svc)
        if wanted is not None:
            from bluegreen.emulator.services.ecs import moto_errors

            with moto_errors():
                wanted = backend.describe_task_definition(str(wanted)).arn
        if (wanted is not None and wanted != current) or params.get("forceNewDeployment"):
            self._start(svc, str(wanted or current))
        self.ecs._refresh(svc)
        return {"service": svc}

    # ---------------------------------------------------------------------- operations
    def list_deployments(self, params: Params) -> Result:
        svc = self.ecs.get_service(str(params.get("cluster", "default")), str(params["service"]))
        statuses = set(params.get("status") or [])
        window = params.get("createdAt") or {}
        after, before = _aware(window.get("after")), _aware(window.get("before"))
        history = self._by_service.get(self._key(svc), [])
        listed_by = self.ecs.now() - timedelta(seconds=self.listing_delay)
        found = [
            d
            for d in (history if self.oldest_first else list(reversed(history)))
            if (not statuses or d.status in statuses)
            and (after is None or d.created >= after)
            and (before is None or d.created <= before)
            and d.created <= listed_by
        ]
        limit = int(params.get("maxResults") or 20)
        if not 1 <= limit <= 100:
            # maxResults: "This value can be between 1 and 100" (botocore's ECS model).
            raise ServiceError("InvalidParameterException", "maxResults must be between 1 and 100.")
        if self.page_size is not None:
            limit = min(limit, self.page_size)
        start = int(params.get("nextToken") or 0)
        page = found[start : start + limit]
        result: dict[str, Any] = {"serviceDeployments": [d.brief() for d in page]}
        if start + limit < len(found):
            result["nextToken"] = str(start + limit)
        return result

    def describe(self, params: Params) -> Result:
        arns = list(params.get("serviceDeploymentArns") or [])
        if len(arns) > 20:
            # "You can specify a maximum of 20 ARNs" (DescribeServiceDeployments).
            raise ServiceError("InvalidParameterException", "You can specify a maximum of 20 ARNs.")
        found, failures = [], []
        for arn in arns:
            deployment = self.deployments.get(arn)
            if deployment is None:
                failures.append({"arn": arn, "reason": "MISSING"})
            else:
                found.append(self._describe(deployment))
        return {"serviceDeployments": found, "failures": failures}

    def stop(self, params: Params) -> Result:
        deployment = self._deployment(str(params["serviceDeploymentArn"]))
        stop_type = str(params.get("stopType") or "ROLLBACK")
        if stop_type != "ROLLBACK":
            raise ServiceError(
                "InvalidParameterException",
                f"stopType {stop_type} is not supported; the valid value is ROLLBACK.",
            )
        # A deployment PENDING or IN_PROGRESS "moves to the ROLLBACK_REQUESTED state, and
        # then the rollback operation starts"; STOP_REQUESTED "continues to stop";
        # ROLLBACK_REQUESTED and ROLLBACK_IN_PROGRESS "continue the rollback operation"
        # (ECS developer guide, "Stopping Amazon ECS service deployments",
        # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stop-service-deployment.html).
        if deployment.status in ("STOP_REQUESTED", "ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS"):
            return {"serviceDeploymentArn": deployment.arn}
        if deployment.status not in ("PENDING", "IN_PROGRESS"):
            raise ServiceError(
                "ConflictException",
                f"The service deployment is {deployment.status} and cannot be stopped.",
            )
        self._request_rollback(deployment, "Service deployment rolled back by user request.")
        return {"serviceDeploymentArn": deployment.arn}

    def continue_(self, params: Params) -> Result:
        deployment = self._deployment(str(params["serviceDeploymentArn"]))
        hook_id = str(params["hookId"])
        hook = next((h for h in deployment.hooks if h.hook_id == hook_id), None)
        if hook is None:
            raise ServiceError(
                "InvalidParameterException",
                f"The lifecycle hook {hook_id} does not exist in this service deployment.",
            )
        if deployment.status != "IN_PROGRESS" or hook.status != "AWAITING_ACTION":
            raise ServiceError(
                "InvalidParameterException",
                f"The lifecycle hook {hook_id} is {hook.status} and the service deployment "
                f"is {deployment.status}; only a hook AWAITING_ACTION of a deployment "
                "IN_PROGRESS can be continued.",
            )
        hook.action = str(params.get("action") or "CONTINUE")
        deployment.updated = self.ecs.now()
        return {"serviceDeploymentArn": deployment.arn}

    # -------------------------------------------------------------------- the deployment
    def _start(self, svc: Any, task_definition: str) -> Deployment:
        key = self._key(svc)
        history = self._by_service.setdefault(key, [])
        running = [d for d in history if d.active]
        for previous in running:
            self._request_rollback(
                previous, "Service deployment rolled back because a newer deployment started."
            )
        source = self._serving_revision(svc)
        self._made += 1
        digest = hashlib.sha256(f"{svc.arn}/{self._made}".encode()).hexdigest()
        ident = str(int(digest[:15], 16))[:19]
        prefix = f"arn:aws:ecs:{self.ecs.region}:{self.ecs.account_id}"
        where = f"{svc.cluster_name}/{svc.name}"
        lb = self._load_balancer(svc)
        blue_group = source.target_group if source else ""
        groups = [
            lb.get("targetGroupArn", ""),
            self._advanced(lb).get("alternateTargetGroupArn", ""),
        ]
        green_group = next((g for g in groups if g and g != blue_group), groups[0])
        now = self.ecs.now()
        deployment = Deployment(
            arn=f"{prefix}:service-deployment/{where}/{ident}",
            service_key=key,
            service_arn=svc.arn,
            cluster_arn=svc.cluster_arn,
            created=now,
            updated=now,
            target=Revision(
                f"{prefix}:service-revision/{where}/{ident}", task_definition, "", green_group
            ),
            source=source,
            config=dict(getattr(svc, "deployment_configuration", None) or {}),
        )
        history.append(deployment)
        self.deployments[deployment.arn] = deployment
        deployment.process = self.ecs.emulator.clock.spawn(
            f"ecs service deployment {ident}", self._run(svc, deployment)
        )
        if _alarm_names(deployment.config):
            deployment.alarm_status = "MONITORING"
            self.ecs.emulator.clock.spawn(
                f"ecs service deployment alarms {ident}", self._watch_alarms(svc, deployment)
            )
        elif (deployment.config.get("alarms") or {}).get("alarmNames"):
            deployment.alarm_status = "DISABLED"
        return deployment

    def _watch_alarms(self, svc: Any, d: Deployment) -> Body:
        """deploymentConfiguration.alarms, read while the deployment runs, its bake
        included, until CLEAN_UP (ECS developer guide, "How CloudWatch alarms detect Amazon
        ECS deployment failures": ECS "set[s] the deployment to failed when it detects that
        a specified CloudWatch alarm has gone into the ALARM state" and, with rollback,
        rolls back "to the last completed deployment"; the bake time is the period "during
        which Amazon ECS continues to monitor the alarm"). ECS reads them with its
        service-linked role, whose policy allows cloudwatch:DescribeAlarms (not evaluated
        here: the emulator asks its CloudWatch directly).

        An alarm already in ALARM when the deployment begins turns the watch off for that
        deployment: "If an alarm is in the ALARM state at the beginning of a deployment,
        Amazon ECS will not monitor alarms for the duration of that deployment (Amazon ECS
        ignores the alarm configuration). This behavior address the case where you want to
        start a new deployment to fix an initial deployment failure" (same page, the
        awsdocs/amazon-ecs-developer-guide deployment-alarm-failure.md; aws/copilot-cli
        rollback_alarms, PR #4512). ECS so reacts to an alarm *going into* ALARM during the
        deployment, never to one found there at its start. Uncertain: that page predates ECS
        blue/green deployments (it says alarms are for the rolling controller only) and AWS
        documents nothing newer for BLUE_GREEN; the emulator applies the same rule there. The
        beginning is when the deployment leaves PENDING (the start ECS records as
        startedAt). Which ServiceDeploymentAlarms.status ECS then reports is not documented:
        the emulator says DISABLED (the alarms do not act) and lists the alarms it found in
        ALARM in ``ignored``."""
        settings = d.config.get("alarms") or {}
        names = _alarm_names(d.config)
        watched: Any = self.ecs.emulator.services["cloudwatch"]
        alarms = watched.alarms
        yield Until(lambda: d.status != "PENDING")
        if d.status == "IN_PROGRESS":
            at_start = alarms.states(names)
            already = [n for n in names if at_start.get(n) == "ALARM"]
            if already:
                d.alarm_status, d.ignored = "DISABLED", already
                return None
        while d.status == "IN_PROGRESS" and d.stage != "CLEAN_UP":
            states = alarms.states(names)
            active = [n for n in names if states.get(n) == "ALARM"]
            if active:
                d.alarm_status, d.triggered = "TRIGGERED", active
                # ECS publishes no statusReason text for this case: the emulator's wording.
                reason = (
                    "Service deployment failed: CloudWatch alarm(s) "
                    + ", ".join(active)
                    + " in ALARM state."
                )
                if settings.get("rollback"):
                    self._request_rollback(d, reason)
                else:
                    self._stop(d, reason)
                return None
            yield Until(
                lambda: d.status != "IN_PROGRESS" or d.stage == "CLEAN_UP", timeout=ALARM_POLL
            )
        if d.alarm_status == "MONITORING":
            d.alarm_status = "MONITORING_COMPLETE"
        return None

    def _stop(self, d: Deployment, reason: str) -> None:
        """The deployment fails without a rollback: it ends STOPPED where it is (traffic
        and both revisions as they are), as a circuit breaker without rollback leaves it."""
        if d.process is not None:
            d.process.cancel()
        now = self.ecs.now()
        d.status, d.status_reason, d.stopped, d.finished, d.updated = (
            "STOPPED",
            reason,
            now,
            now,
            now,
        )

    def _run(self, svc: Any, d: Deployment) -> Body:
        yield Until(lambda: not any(o.active for o in self._others(d)))
        d.started = self.ecs.now()
        if d.rollback_reason:  # stopped while PENDING: ROLLBACK_REQUESTED, then rolled back
            return (yield from self._roll_back(svc, d))
        d.status = "IN_PROGRESS"
        lb = self._load_balancer(svc)
        container_name = lb.get("containerName")
        container_port = lb.get("containerPort")
        reconcile = d.source is not None and len(self._active_sets(svc)) > 1
        if reconcile and not (yield from self._stage(d, "RECONCILE_SERVICE")):
            return (yield from self._roll_back(svc, d))
        for stage in ("PRE_SCALE_UP",):
            if not (yield from self._stage(d, stage)):
                return (yield from self._roll_back(svc, d))
        self._enter(d, "SCALE_UP")
        green = self.ecs.create_task_set(
            svc.cluster_name,
            svc.name,
            d.target.task_definition,
            target_group_arn=d.target.target_group or None,
            started_by="ecs-deployment",
            container_name=container_name,
            container_port=container_port,
        )
        d.target.task_set_id = green.id
        healthy = yield Until(lambda: self._green_ready(svc, d) or bool(d.rollback_reason))
        if not healthy or d.rollback_reason:
            return (yield from self._roll_back(svc, d))
        for stage in ("POST_SCALE_UP",):
            if not (yield from self._stage(d, stage)):
                return (yield from self._roll_back(svc, d))
        self._enter(d, "TEST_TRAFFIC_SHIFT")
        if not self._shift(svc, d, test=100.0):
            return (yield from self._roll_back(svc, d))
        yield Wait(TRAFFIC_SHIFT)
        if not (yield from self._hooks(d, "TEST_TRAFFIC_SHIFT")):
            return (yield from self._roll_back(svc, d))
        if not (yield from self._stage(d, "POST_TEST_TRAFFIC_SHIFT")):
            return (yield from self._roll_back(svc, d))
        for index, (percent, bake) in enumerate(self._steps(d)):
            if not (
                yield from self._stage(
                    d,
                    "PRE_PRODUCTION_TRAFFIC_SHIFT",
                    reported="POST_TEST_TRAFFIC_SHIFT"
                    if index == 0
                    else "PRODUCTION_TRAFFIC_SHIFT",
                )
            ):
                return (yield from self._roll_back(svc, d))
            self._enter(d, "PRODUCTION_TRAFFIC_SHIFT")
            if not self._shift(svc, d, production=percent):
                return (yield from self._roll_back(svc, d))
            yield Wait(TRAFFIC_SHIFT)
            if not (yield from self._hooks(d, "PRODUCTION_TRAFFIC_SHIFT")):
                return (yield from self._roll_back(svc, d))
            if bake and not (yield from self._hold(d, bake)):
                return (yield from self._roll_back(svc, d))
        if not (yield from self._stage(d, "POST_PRODUCTION_TRAFFIC_SHIFT")):
            return (yield from self._roll_back(svc, d))
        self._enter(d, "BAKE_TIME")
        bake = float(d.config.get("bakeTimeInMinutes") or 0) * 60
        if not (yield from self._hold(d, bake)):
            return (yield from self._roll_back(svc, d))
        self._enter(d, "CLEAN_UP")
        for found in self._active_sets(svc):
            if found.id != d.target.task_set_id:
                self.ecs.delete_task_set(svc.cluster_name, svc.name, found.id)
        balancers = list(svc.load_balancers or [])
        self.ecs.make_primary(svc.cluster_name, svc.name, d.target.task_set_id)
        svc.load_balancers = balancers  # the service keeps its advancedConfiguration
        yield Wait(STAGE_PAUSE)
        now = self.ecs.now()
        d.status, d.finished, d.updated = "SUCCESSFUL", now, now
        d.status_reason = "Service deployment completed successfully."
        return None

    def _others(self, d: Deployment) -> list[Deployment]:
        return [
            o
            for o in self._by_service.get(d.service_key, [])
            if o is not d and o.created <= d.created
        ]

    def _steps(self, d: Deployment) -> list[tuple[float, float]]:
        """(green's production percent, seconds to bake after it) per shift step."""
        strategy = str(d.config.get("strategy", "BLUE_GREEN"))
        if d.source is None:
            return [(100.0, 0.0)]
        if strategy == "LINEAR":
            linear = d.config.get("linearConfiguration") or {}
            step = float(linear.get("stepPercent") or LINEAR_DEFAULTS[0])
            bake = float(linear.get("stepBakeTimeInMinutes", LINEAR_DEFAULTS[1])) * 60
            steps: list[tuple[float, float]] = []
            percent = 0.0
            while percent + step < 100.0 - 1e-9:
                percent = round(percent + step, 1)
                steps.append((percent, bake))
            return [*steps, (100.0, 0.0)]
        if strategy == "CANARY":
            canary = d.config.get("canaryConfiguration") or {}
            percent = float(canary.get("canaryPercent") or CANARY_DEFAULTS[0])
            bake = float(canary.get("canaryBakeTimeInMinutes", CANARY_DEFAULTS[1])) * 60
            return [(percent, bake), (100.0, 0.0)]
        return [(100.0, 0.0)]

    def _stage(self, d: Deployment, stage: str, reported: str | None = None) -> Checked:
        """Enter ``stage`` and run its hooks; False when the deployment must roll back."""
        self._enter(d, reported or stage)
        yield Wait(STAGE_PAUSE)
        if d.rollback_reason:
            return False
        fault = self.faults.pop(stage, None) if d.source is not None else None
        if fault is not None:
            d.rollback_reason = (
                f"Service deployment rolled back: lifecycle hook at {stage} failed ({fault})."
            )
            return False
        return (yield from self._hooks(d, stage))

    def _hooks(self, d: Deployment, stage: str) -> Checked:
        """Run the hooks configured at ``stage``; False when the deployment must roll
        back. TEST_TRAFFIC_SHIFT and PRODUCTION_TRAFFIC_SHIFT take hooks too ("You can
        use a lifecycle hook for this stage", DeploymentLifecycleHook.lifecycleStages,
        botocore's ECS model), run once their shift is made (PRODUCTION_TRAFFIC_SHIFT "is
        invoked at every traffic shift step"); PAUSE hooks are refused there
        (:meth:`_validate`)."""
        for index, spec in enumerate(d.config.get("lifecycleHooks") or []):
            if stage not in (spec.get("lifecycleStages") or []):
                continue
            target_type = str(spec.get("targetType") or "AWS_LAMBDA")
            digest = hashlib.sha256(f"{d.arn}/{stage}/{index}".encode()).hexdigest()
            timeout = spec.get("timeoutConfiguration") or {}
            minutes = int(timeout.get("timeoutInMinutes") or DEFAULT_HOOK_TIMEOUT_MINUTES)
            # Pause hook ids look like "ecs-pause-e7tK9G_WRJqNF_EOMjztDXfKenlJuEUVjsNStf4WLKw"
            # (ECS developer guide, "Pause hooks for Amazon ECS service deployments").
            token = base64.urlsafe_b64encode(bytes.fromhex(digest)).decode().rstrip("=")
            hook = Hook(
                hook_id=f"ecs-pause-{token}" if target_type == "PAUSE" else token,
                target_type=target_type,
                target_arn=str(spec.get("hookTargetArn") or ""),
                stage=stage,
                timeout_action=str(timeout.get("action") or "ROLLBACK"),
            )
            d.hooks.append(hook)
            if target_type != "PAUSE":
                # A Lambda hook: its code runs where the emulator has it (bluegreen's
                # verify hook: bluegreen.verification.emulated), else it fails.
                from bluegreen.verification import emulated

                outcome, reason = yield from emulated.ecs_lambda_hook(
                    self.ecs.emulator, spec, _hook_payload(d, stage, hook.hook_id), minutes
                )
                hook.status = outcome
                if outcome == "SUCCEEDED" or (
                    outcome == "TIMED_OUT" and hook.timeout_action != "ROLLBACK"
                ):
                    continue
                d.rollback_reason = (
                    f"lifecycle hook {hook.hook_id} ({target_type}) failed: {reason}"
                )
                return False
            hook.status = "AWAITING_ACTION"
            hook.expires_at = self.ecs.now() + timedelta(minutes=minutes)
            acted = yield Until(_acted_on(hook, d), timeout=minutes * 60)
            if d.rollback_reason and not hook.action:
                hook.status = "FAILED"
                return False
            if not acted:
                hook.status = "TIMED_OUT"
                if hook.timeout_action == "ROLLBACK":
                    d.rollback_reason = (
                        f"Service deployment rolled back because lifecycle hook {hook.hook_id} "
                        f"timed out after {minutes} minutes."
                    )
                    return False
                continue
            if hook.action == "ROLLBACK":
                hook.status = "SUCCEEDED"
                d.rollback_reason = (
                    f"Service deployment rolled back by ContinueServiceDeployment ROLLBACK on "
                    f"lifecycle hook {hook.hook_id}."
                )
                return False
            hook.status = "SUCCEEDED"
        return True

    def _hold(self, d: Deployment, seconds: float) -> Checked:
        """Bake for ``seconds`` unless a rollback is requested; False if one is."""
        if seconds <= 0:
            return not d.rollback_reason
        interrupted = yield Until(lambda: bool(d.rollback_reason), timeout=seconds)
        return not interrupted

    def _roll_back(self, svc: Any, d: Deployment) -> Body:
        now = self.ecs.now()
        reason = d.rollback_reason or "Service deployment rolled back."
        if d.source is None:
            d.status, d.status_reason, d.finished, d.updated = (
                "ROLLBACK_FAILED",
                f"{reason} There is no previous service revision to roll back to.",
                now,
                now,
            )
            return None
        d.status, d.status_reason, d.updated = "ROLLBACK_IN_PROGRESS", reason, now
        d.rollback = {"reason": reason, "startedAt": now, "serviceRevisionArn": d.source.arn}
        self._shift(svc, d, production=0.0, test=0.0)
        yield Wait(TRAFFIC_SHIFT)
        if d.target.task_set_id:
            for found in self._active_sets(svc):
                if found.id == d.target.task_set_id:
                    self.ecs.delete_task_set(svc.cluster_name, svc.name, found.id)
        now = self.ecs.now()
        d.status, d.stopped, d.finished, d.updated = "ROLLBACK_SUCCESSFUL", now, now, now
        return None

    def _request_rollback(self, d: Deployment, reason: str) -> None:
        if d.rollback_reason or not d.active:
            return
        d.rollback_reason = reason
        if d.status in ("PENDING", "IN_PROGRESS"):
            d.status = "ROLLBACK_REQUESTED"
        d.updated = self.ecs.now()

    def _enter(self, d: Deployment, stage: str) -> None:
        d.stage, d.updated = stage, self.ecs.now()

    def _green_ready(self, svc: Any, d: Deployment) -> bool:
        found = next((t for t in svc.task_sets if t.id == d.target.task_set_id), None)
        if found is None:
            return False
        if self._breaker_tripped(svc, found):
            breaker = d.config.get("deploymentCircuitBreaker") or {}
            reason = "Service deployment failed: the deployment circuit breaker was triggered."
            if breaker.get("rollback"):
                d.rollback_reason = reason
            return True
        return getattr(found, "stabilityStatus", "") == "STEADY_STATE"

    def _breaker_tripped(self, svc: Any, found: Any) -> bool:
        breaker = (getattr(svc, "deployment_configuration", None) or {}).get(
            "deploymentCircuitBreaker"
        ) or {}
        if not breaker.get("enable"):
            return False
        threshold = min(200, max(3, math.ceil(0.5 * int(svc.desired_count or 0))))
        return self._failure_count(found) >= threshold

    def _failure_count(self, task_set: Any) -> int:
        """Tasks of green that failed to start, or that failed the load balancer's health
        checks: the circuit breaker applies to blue/green deployments too ("Both methods
        only support rolling update deployment and blue/green deployment types": ECS
        developer guide, "Amazon ECS deployment failure detection") and counts a task that
        does not pass "the dependent health checks" (AWS re:Post knowledge center,
        ecs-deployment-roll-back-failure: only a task that passed them and then stopped
        may not count)."""
        arn = task_set.task_set_arn
        return max(self.ecs._failures.get(arn, 0), self.ecs.health_failures.get(arn, 0))

    def _shift(
        self, svc: Any, d: Deployment, *, production: float | None = None, test: float | None = None
    ) -> bool:
        """Rewrite the rules as the infrastructure role; False (and a rollback reason) if
        ELBv2 refuses."""
        from botocore.exceptions import ClientError

        lb = self._load_balancer(svc)
        advanced = self._advanced(lb)
        role = str(advanced.get("roleArn") or "")
        blue = d.source.target_group if d.source else ""
        green = d.target.target_group
        client = internal.client(self.ecs.emulator, "elbv2", role)
        for rule, percent in (
            (advanced.get("productionListenerRule"), production),
            (advanced.get("testListenerRule"), test),
        ):
            if not rule or percent is None or not blue or blue == green:
                continue
            try:
                client.modify_rule(RuleArn=rule, Actions=[_forward(blue, green, percent)])
            except ClientError as exc:
                error = exc.response.get("Error", {})
                d.rollback_reason = (
                    f"Service deployment rolled back: Elastic Load Balancing refused "
                    f"{role}'s ModifyRule ({error.get('Code')}: {error.get('Message')})."
                )
                return False
        if production is not None:
            d.production_weight = production
        if test is not None:
            d.test_weight = test
        return True

    # ------------------------------------------------------------------------- reading
    def _describe(self, d: Deployment) -> dict[str, Any]:
        svc = self.ecs._backend().services.get(d.service_key)
        found = d.brief()
        found.pop("targetServiceRevisionArn", None)
        found["updatedAt"] = d.updated
        if d.stopped:
            found["stoppedAt"] = d.stopped
        found["targetServiceRevision"] = self._summary(
            svc, d.target, d.production_weight, d.test_weight
        )
        found["sourceServiceRevisions"] = (
            [self._summary(svc, d.source, 100.0 - d.production_weight, 100.0 - d.test_weight)]
            if d.source
            else []
        )
        if d.stage:
            found["lifecycleStage"] = d.stage
        if d.hooks:
            found["lifecycleHookDetails"] = [h.describe() for h in d.hooks]
        configuration = {k: v for k, v in d.config.items()}
        if configuration:
            found["deploymentConfiguration"] = configuration
        if d.rollback:
            found["rollback"] = d.rollback
        if d.alarm_status:
            found["alarms"] = {
                "status": d.alarm_status,
                "alarmNames": list((d.config.get("alarms") or {}).get("alarmNames") or []),
                "triggeredAlarmNames": list(d.triggered),
            }
        breaker = d.config.get("deploymentCircuitBreaker") or {}
        if breaker:
            failures = 0
            if svc is not None and d.target.task_set_id:
                task_set = next((t for t in svc.task_sets if t.id == d.target.task_set_id), None)
                if task_set is not None:
                    failures = self._failure_count(task_set)
            found["deploymentCircuitBreaker"] = {
                "status": "MONITORING" if d.active else "DISABLED",
                "failureCount": failures,
                "threshold": min(
                    200, max(3, math.ceil(0.5 * int(getattr(svc, "desired_count", 0) or 0)))
                ),
            }
        return found

    def _summary(
        self, svc: Any, revision: Revision, production: float, test: float
    ) -> dict[str, Any]:
        running = pending = requested = 0
        if svc is not None and revision.task_set_id:
            task_set = next((t for t in svc.task_sets if t.id == revision.task_set_id), None)
            if task_set is not None:
                running = int(task_set.running_count)
                pending = int(task_set.pending_count)
                requested = int(task_set.computed_desired_count)
        return {
            "arn": revision.arn,
            "requestedTaskCount": requested,
            "runningTaskCount": running,
            "pendingTaskCount": pending,
            "requestedProductionTrafficWeight": production,
            "requestedTestTrafficWeight": test,
        }

    def describe_revisions(self, params: Params) -> Result:
        """DescribeServiceRevisions: what each revision runs (ServiceRevision, ECS API
        reference); an unknown ARN is a failure with reason MISSING."""
        found, failures = [], []
        for arn in list(params.get("serviceRevisionArns") or []):
            deployment = next((d for d in self.deployments.values() if d.target.arn == arn), None)
            if deployment is None:
                failures.append({"arn": arn, "reason": "MISSING"})
                continue
            revision: dict[str, Any] = {
                "serviceRevisionArn": arn,
                "serviceArn": deployment.service_arn,
                "clusterArn": deployment.cluster_arn,
                "taskDefinition": deployment.target.task_definition,
                "createdAt": deployment.created,
            }
            if deployment.target.target_group:
                # "The resolved load balancer configuration for a service revision. This
                # includes information about which target groups serve traffic and which
                # listener rules direct traffic to them" (ServiceRevision
                # .resolvedConfiguration.loadBalancers, ServiceRevisionLoadBalancer, ECS
                # API reference): the target group the revision's tasks run behind.
                svc = self.ecs._backend().services.get(deployment.service_key)
                lb = self._load_balancer(svc) if svc is not None else {}
                rule = self._advanced(lb).get("productionListenerRule")
                revision["resolvedConfiguration"] = {
                    "loadBalancers": [
                        {
                            "targetGroupArn": deployment.target.target_group,
                            **({"productionListenerRule": rule} if rule else {}),
                        }
                    ]
                }
            found.append(revision)
        return {"serviceRevisions": found, "failures": failures}

    # --------------------------------------------------------------------------- helpers
    def _deployment(self, arn: str) -> Deployment:
        found = self.deployments.get(arn)
        if found is None:
            raise ServiceError(
                "ServiceDeploymentNotFoundException",
                f"The service deployment {arn} does not exist.",
            )
        return found

    def _key(self, svc: Any) -> str:
        return f"{svc.cluster_name}:{svc.name}"

    def _load_balancer(self, svc: Any) -> dict[str, Any]:
        found = list(getattr(svc, "load_balancers", None) or [])
        return dict(found[0]) if found else {}

    @staticmethod
    def _advanced(lb: dict[str, Any]) -> dict[str, Any]:
        return dict(lb.get("advancedConfiguration") or {})

    def _active_sets(self, svc: Any) -> list[Any]:
        return [t for t in svc.task_sets if t.status != "DRAINING"]

    def _current_task_definition(self, svc: Any) -> str:
        serving = self._serving_revision(svc)
        return serving.task_definition if serving else str(svc.task_definition or "")

    def _serving_revision(self, svc: Any) -> Revision | None:
        """The revision of the service's last successful deployment (production's)."""
        for d in reversed(self._by_service.get(self._key(svc), [])):
            if d.status == "SUCCESSFUL":
                return d.target
            if d.status in ("ROLLBACK_SUCCESSFUL",) and d.source is not None:
                return d.source
        return None

    def _validate(self, params: Params, svc: Any = None) -> None:
        """The checks ECS makes before it accepts a built-in blue/green service."""
        configuration = params.get("deploymentConfiguration") or {}
        strategy = str(configuration.get("strategy") or "")
        for key, wanted in (("linearConfiguration", "LINEAR"), ("canaryConfiguration", "CANARY")):
            if configuration.get(key) and strategy != wanted:
                # "Only valid when the deployment strategy is LINEAR" / "... is CANARY"
                # (DeploymentConfiguration, botocore's ECS model). Text the emulator's.
                raise ServiceError(
                    "InvalidParameterException",
                    f"{key} is only valid when the deployment strategy is {wanted}.",
                )
        for hook in configuration.get("lifecycleHooks") or []:
            if str(hook.get("targetType") or "AWS_LAMBDA") == "AWS_LAMBDA" and not hook.get(
                "hookTargetArn"
            ):
                # hookTargetArn: "You must provide this parameter when configuring an
                # AWS_LAMBDA lifecycle hook" (DeploymentLifecycleHook, botocore's ECS
                # model). Text the emulator's: ECS publishes none.
                raise ServiceError(
                    "InvalidParameterException",
                    "hookTargetArn must be provided for an AWS_LAMBDA lifecycle hook.",
                )
            stages = set(hook.get("lifecycleStages") or []) & SHIFT_STAGES
            if str(hook.get("targetType") or "AWS_LAMBDA") == "PAUSE" and stages:
                # "PAUSE hooks cannot be configured at TEST_TRAFFIC_SHIFT or
                # PRODUCTION_TRAFFIC_SHIFT stages. These stages are only valid for
                # AWS_LAMBDA hooks." (DeploymentLifecycleHook.lifecycleStages, botocore's
                # ECS model). Text the emulator's: ECS publishes none.
                raise ServiceError(
                    "InvalidParameterException",
                    "PAUSE lifecycle hooks cannot be configured at "
                    + " or ".join(sorted(stages))
                    + "; these stages are only valid for AWS_LAMBDA hooks.",
                )
        balancers = params.get("loadBalancers")
        if balancers is None and svc is not None:
            balancers = getattr(svc, "load_balancers", None)
        for lb in balancers or []:
            advanced = lb.get("advancedConfiguration") or {}
            missing = [
                key
                for key in ("alternateTargetGroupArn", "productionListenerRule", "roleArn")
                if not advanced.get(key)
            ]
            if missing:
                # The ALB resources a blue/green service needs: an alternate target group,
                # a production listener rule and the infrastructure role (ECS developer
                # guide, "Application Load Balancer resources for blue/green, linear, and
                # canary deployments"). Text the emulator's: ECS publishes none.
                raise ServiceError(
                    "InvalidParameterException",
                    "advancedConfiguration must name "
                    + ", ".join(missing)
                    + " for a service with a BLUE_GREEN, LINEAR or CANARY deployment strategy.",
                )


def _alarm_names(config: dict[str, Any]) -> list[str]:
    """The alarms a deployment watches: deploymentConfiguration.alarms, when enabled."""
    settings = config.get("alarms") or {}
    if not settings.get("enable"):
        return []
    return [str(n) for n in settings.get("alarmNames") or []]


def _aware(moment: Any) -> datetime | None:
    """A request's timestamp as an aware UTC datetime (the parser may give naive UTC)."""
    if not isinstance(moment, datetime):
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _hook_payload(d: Deployment, stage: str, execution: str) -> dict[str, Any]:
    """What ECS passes a Lambda hook (ECS developer guide, "Lambda hooks for Amazon ECS
    service deployments", common payload structure): at the top level ``executionId``,
    ``lifecycleStage``, ``resourceArn`` (the service deployment) and ``executionDetails``
    with the service, the target revision and the traffic weights by revision; the hook's
    ``hookDetails`` are added by the caller. The weights are given as the deployment holds
    them; AWS's own POST_TEST_TRAFFIC_SHIFT example shows them empty, so a hook must not
    depend on them (bluegreen's asks DescribeServiceDeployments)."""
    source = d.source.arn if d.source else ""
    weights = {"test": d.test_weight, "production": d.production_weight}
    return {
        "executionId": execution,
        "lifecycleStage": stage,
        "resourceArn": d.arn,
        "executionDetails": {
            "serviceArn": d.service_arn,
            "targetServiceRevisionArn": d.target.arn,
            **{
                f"{kind}TrafficWeights": {
                    **({source: 100 - weight} if source else {}),
                    d.target.arn: weight,
                }
                for kind, weight in weights.items()
            },
        },
    }


def _acted_on(hook: Hook, d: Deployment) -> Callable[[], bool]:
    """The wait of a PAUSE hook: someone continued it, or the deployment rolls back."""
    return lambda: bool(hook.action or d.rollback_reason)


def _forward(blue: str, green: str, percent: float) -> dict[str, Any]:
    """A weighted forward sending ``percent`` of the traffic to green (see the docstring)."""
    if percent <= 0:
        weights = (1, 0)
    elif percent >= 100:
        weights = (0, 1)
    else:
        weights = (min(999, round((100 - percent) * 10)), min(999, round(percent * 10)))
    return {
        "Type": "forward",
        "ForwardConfig": {
            "TargetGroups": [
                {"TargetGroupArn": blue, "Weight": weights[0]},
                {"TargetGroupArn": green, "Weight": weights[1]},
            ]
        },
    }
