"""bluegreen's release check: the Lambda function both engines run after test traffic.

This module and :mod:`bluegreen.verification.checks` are the function's code, shipped as
one file (``index.py``, standard library and the runtime's boto3 only;
:mod:`bluegreen.verification.package` joins them and appends the config's PLAN). It sends
the configured HTTP requests to the new revision and judges each answer (status, body
text or pattern, latency), stopping at the first failure.

- CodeDeploy (AppSpec ``AfterAllowTestTraffic``): the event carries ``DeploymentId`` and
  ``LifecycleEventHookExecutionId``; the function reports ``Succeeded`` or ``Failed`` with
  PutLifecycleEventHookExecutionStatus, and CodeDeploy invokes it once ("Each hook is
  executed once per deployment"; CodeDeploy User Guide, "AppSpec 'hooks' section for an
  Amazon ECS deployment", and the API reference of PutLifecycleEventHookExecutionStatus:
  "only Succeeded and Failed can be passed successfully"). Every check runs in that one
  invocation (config: VERIFY_BUDGET_SECONDS).
- ECS (lifecycle hook at POST_TEST_TRAFFIC_SHIFT): the function returns ``{"hookStatus":
  "SUCCEEDED" | "FAILED" | "IN_PROGRESS"}``; with IN_PROGRESS ECS invokes it again after
  ``callBackDelay`` seconds and passes back the ``hookDetails`` returned with it (ECS
  developer guide, "Lambda hooks for Amazon ECS service deployments": "hookStatus values",
  "Passing state with hookDetails"). Checks that outlast one invocation continue there.
- Prober mode (test_cidrs narrowed): each request is sent by the prober function inside
  the VPC (:mod:`bluegreen.verification.prober`) to one of the new tasks' addresses,
  which this function reads from the test listener's target group
  (:mod:`bluegreen.verification.network`); the judging stays here.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from typing import Any

from bluegreen.verification.checks import (
    LOG_MARK,
    Clock,
    Opener,
    Steps,
    drive,
    failure,
    open_url,
    requests_of,
    run_steps,
)

PLAN: dict[str, Any] = {}
"""The checks and where to send them; the package sets it from bluegreen.toml."""

REPORT_MARGIN_SECONDS = 30.0
"""Time an invocation keeps for reporting after its last request."""


def verdict(results: list[dict[str, Any]], number: int, plan: dict[str, Any]) -> str:
    """ "Failed" (a check failed), "Succeeded" (all sent and passed) or "InProgress"."""
    if any(not result["ok"] for result in results):
        return "Failed"
    return "Succeeded" if number >= len(requests_of(plan["checks"])) else "InProgress"


def _remaining(context: Any) -> float:
    """Seconds this invocation may still use (Lambda context object)."""
    getter = getattr(context, "get_remaining_time_in_millis", None)
    return getter() / 1000.0 if getter else 60.0


def _bases(plan: dict[str, Any], clients: Any) -> list[str]:
    """Where the requests go: the test listener's URL, or (prober mode) the addresses of
    the healthy targets of the group the test listener forwards to."""
    if plan.get("url"):
        return [str(plan["url"])]
    return [f"http://{target}" for target in targets(plan, clients)]


def test_group(elb: Any, listener_arn: str) -> str:
    """The target group behind the test listener's rule with the most weight: green after
    the test traffic shift, under both engines (CodeDeploy moves the listener's default
    action, ECS the test rule's weights)."""
    rules = elb.describe_rules(ListenerArn=listener_arn)["Rules"]
    rules.sort(
        key=lambda rule: (
            bool(rule.get("IsDefault")),
            int(rule["Priority"]) if str(rule.get("Priority")).isdigit() else 0,
        )
    )
    weights: dict[str, int] = {}
    for action in rules[0].get("Actions") or []:
        forward = action.get("ForwardConfig") or {}
        for group in forward.get("TargetGroups") or []:
            weights[group["TargetGroupArn"]] = int(group.get("Weight", 1))
        if action.get("TargetGroupArn"):
            weights.setdefault(action["TargetGroupArn"], 1)
    return max(sorted(weights), key=lambda arn: weights[arn])


def targets(plan: dict[str, Any], clients: Any) -> list[str]:
    """``ip:port`` of the healthy targets of :func:`test_group`."""
    elb = clients.elbv2
    group = test_group(elb, plan["test_listener_arn"])
    health = elb.describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"]
    return sorted(
        f"{t['Target']['Id']}:{t['Target'].get('Port', plan.get('port', 80))}"
        for t in health
        if (t.get("TargetHealth") or {}).get("State") == "healthy"
    )


class _Remote:
    """The prober's answer as a response (status, body, the prober's own latency)."""

    def __init__(self, answer: dict[str, Any]) -> None:
        self.status = int(answer["status"])
        self.seconds = float(answer["seconds"])
        self._body = str(answer.get("body", "")).encode()

    def read(self, limit: int = -1) -> bytes:
        return self._body if limit < 0 else self._body[:limit]

    def __enter__(self) -> _Remote:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def prober_opener(clients: Any, function: str) -> Opener:
    """Send each request through the prober function inside the VPC (one invocation a
    request, RequestResponse)."""

    def opener(request: Any, timeout: float) -> Any:
        payload = {"url": request.full_url, "method": request.get_method(), "timeout": timeout}
        answer = json.loads(
            clients.awslambda.invoke(FunctionName=function, Payload=json.dumps(payload).encode())[
                "Payload"
            ].read()
        )
        if "error" in answer:
            raise OSError(answer["error"])
        return _Remote(answer)

    return opener


FIRST_REVISION = "the service's first revision (the stack's bootstrap): nothing to roll back to"


def execution_details(event: dict[str, Any]) -> dict[str, Any]:
    """The deployment's details in an ECS hook event: ``executionDetails`` (ECS developer
    guide, "Lambda hooks for Amazon ECS service deployments", common payload structure:
    top-level executionId, lifecycleStage, resourceArn, executionDetails, hookDetails). An
    earlier version of that page ("Lifecycle hooks for Amazon ECS service deployments",
    lifecycle payloads) listed serviceArn, targetServiceRevisionArn and the weights at the
    top level, so an event without ``executionDetails`` is read as that shape."""
    details = event.get("executionDetails")
    return details if isinstance(details, dict) else event


def first_revision(event: dict[str, Any], clients: Any) -> bool:
    """Whether an ECS hook event is the service's creation. That deployment runs the
    stack's bootstrap container, not the app the checks are written for, and has no
    revision to roll back to ("FAILED - Amazon ECS rolls back the deployment to the last
    successful service revision"), so failing it would fail the service stack.

    The production weights (a map of service revision ARN to percent) tell it when they
    name the target revision alone; AWS's own POST_TEST_TRAFFIC_SHIFT example shows them
    empty, so otherwise the service deployment (``resourceArn``) is read: a creation has
    no source revision (DescribeServiceDeployments, ServiceDeployment.sourceServiceRevisions:
    "The currently deployed workload configuration")."""
    details = execution_details(event)
    weights = details.get("productionTrafficWeights") or {}
    target = details.get("targetServiceRevisionArn")
    if weights and target:
        return set(weights) == {target}
    deployment = event.get("resourceArn")
    if not deployment or clients is None:
        return False
    found = clients.ecs.describe_service_deployments(serviceDeploymentArns=[deployment])
    deployments = found.get("serviceDeployments") or []
    return bool(deployments) and not deployments[0].get("sourceServiceRevisions")


WARMUP_PAUSE_SECONDS = 5.0
"""Pause between two looks at the new targets' health during the warm-up."""


def warm_up(
    plan: dict[str, Any], clients: Any, deadline: float, clock: Clock, log: Callable[[str], None]
) -> Steps:
    """Wait until the test listener's target group has a healthy target, at most the
    plan's ``warmup_seconds`` (the health check's interval x (healthy threshold + 1)).

    The load balancer "routes requests only to the healthy targets" (ALB user guide,
    "Health checks for Application Load Balancer target groups"), and a group that was
    behind no listener has not been checked (Target.NotInUse), so right after the test
    traffic shift the test listener may answer 503 for a while: ECS, whose test rule
    moves first, and a CodeDeploy system whose listeners were deployed as a plain forward
    to blue (before they were {blue: 100, green: 0}: green behind no listener until its
    first release's test traffic shift).
    Checks sent then would judge the load balancer, not the revision. Returns whether a
    healthy target showed; if none does, the checks run anyway (and the load balancer's
    answer fails them)."""
    until = min(deadline, clock() + float(plan.get("warmup_seconds", 0)))
    while True:
        if targets(plan, clients):
            return True
        if clock() + WARMUP_PAUSE_SECONDS > until:
            log(LOG_MARK + " " + json.dumps({"warmup": "no healthy target yet"}))
            return False
        yield WARMUP_PAUSE_SECONDS


def execute_steps(
    event: dict[str, Any],
    remaining: float,
    clients: Any,
    plan: dict[str, Any],
    opener: Opener = open_url,
    clock: Clock = time.monotonic,
    log: Callable[[str], None] = print,
    timer: Clock | None = None,
) -> Steps:
    """The function for one event, with ``remaining`` seconds to use (see the module
    docstring), as steps that yield their pauses (:func:`execute` sleeps through them)."""
    seconds = max(0.0, remaining - REPORT_MARGIN_SECONDS)
    deadline = clock() + seconds
    ecs = "DeploymentId" not in event
    try:
        first = ecs and first_revision(event, clients)
    except Exception:  # noqa: BLE001 - unread, the checks decide (and say what they saw)
        first = False
    if first:
        log(LOG_MARK + " " + json.dumps({"skipped": FIRST_REVISION}))
        return {"hookStatus": "SUCCEEDED"}
    details = event.get("hookDetails") or {} if ecs else {}
    start = int(details.get("next", 0)) if isinstance(details, dict) else 0
    try:
        if start == 0 and plan.get("test_listener_arn"):
            yield from warm_up(plan, clients, deadline, clock, log)
        if plan.get("prober"):
            opener = prober_opener(clients, str(plan["prober"]))
        bases = _bases(plan, clients)
        if not bases:
            raise LookupError("no healthy target behind the test listener")
        results, number = yield from run_steps(
            bases, plan, start, deadline, opener, clock, log, timer
        )
    except Exception as error:  # noqa: BLE001 - a hook that cannot check must fail
        results, number = [{"ok": False, "reason": f"cannot run the checks: {error}"}], start
        log(LOG_MARK + " " + json.dumps(results[0], sort_keys=True))
    status = verdict(results, number, plan)
    if not ecs:
        if status == "InProgress":  # CodeDeploy gives one invocation: out of time fails
            status = "Failed"
            log(LOG_MARK + " " + json.dumps({"ok": False, "reason": "out of time"}))
        clients.codedeploy.put_lifecycle_event_hook_execution_status(
            deploymentId=event["DeploymentId"],
            lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
            status=status,
        )
        answer: dict[str, Any] = {"status": status, "results": results}
        failed = [result for result in results if not result["ok"]]
        if failed:
            answer["reason"] = failure(failed[0])
        elif status == "Failed":
            answer["reason"] = "out of time: the checks outlast one invocation"
        return answer
    reply: dict[str, Any] = {"hookStatus": status.upper().replace("INPROGRESS", "IN_PROGRESS")}
    if status == "InProgress":
        reply["callBackDelay"] = int(plan.get("callback_seconds", 30))
        reply["hookDetails"] = {"next": number}
    return reply


def execute(
    event: dict[str, Any],
    remaining: float,
    clients: Any,
    plan: dict[str, Any] | None = None,
    opener: Opener = open_url,
    clock: Clock = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """:func:`execute_steps` on Lambda: it sleeps through the pauses."""
    steps = execute_steps(
        event, remaining, clients, PLAN if plan is None else plan, opener, clock, log
    )
    answer: dict[str, Any] = drive(steps, sleep)
    return answer


class _Clients:
    """boto3 clients, made when first used (the prober needs none)."""

    def __getattr__(self, name: str) -> Any:
        import boto3  # in the Lambda Python runtime

        client = boto3.client({"awslambda": "lambda"}.get(name, name))
        setattr(self, name, client)
        return client


ENVIRONMENT = {
    "url": "BLUEGREEN_TEST_URL",
    "test_listener_arn": "BLUEGREEN_TEST_LISTENER_ARN",
    "prober": "BLUEGREEN_PROBER",
}
"""Plan entries the template fills in (names and ARNs known only once deployed)."""


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point (``index.handler``)."""
    plan = dict(PLAN)
    plan.update({key: os.environ.get(name, "") for key, name in ENVIRONMENT.items()})
    return execute(event, _remaining(context), _Clients(), plan)
