"""bluegreen's release check: the Lambda function both engines run after test traffic.

This module is the function's code, shipped as-is (``index.py``, standard library and the
runtime's boto3 only; :mod:`bluegreen.verification.package` appends the config's PLAN).
It sends the configured HTTP requests to the new revision and judges each answer
(status, body text or pattern, latency), stopping at the first failure.

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
- Prober (``{"probe": ...}``): the same checks against given task addresses, run by the
  copy of this function inside the VPC when the test listener is closed to the internet
  (see :mod:`bluegreen.verification.network`).

Every request and its result is logged as one JSON line starting with
``bluegreen-check``, which ``bluegreen status`` reads back from the function's log group.
"""

from __future__ import annotations

import json
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

PLAN: dict[str, Any] = {}
"""The checks and where to send them; the package sets it from bluegreen.toml."""

LOG_MARK = "bluegreen-check"
REPORT_MARGIN_SECONDS = 30.0
"""Time an invocation keeps for reporting after its last request."""

Opener = Callable[[urllib.request.Request, float], Any]
Clock = Callable[[], float]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A check judges the answer it gets: a 301 is a 301, not the page it points to."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def _open(request: urllib.request.Request, timeout: float) -> Any:
    return _OPENER.open(request, timeout=timeout)


def requests_of(checks: list[dict[str, Any]]) -> list[int]:
    """The order requests are sent in: each check's index, ``count`` times."""
    return [index for index, check in enumerate(checks) for _ in range(int(check["count"]))]


def probe(
    base: str,
    check: dict[str, Any],
    opener: Opener = _open,
    clock: Clock = time.monotonic,
) -> dict[str, Any]:
    """Send one check's request to ``base`` (scheme, host and port) and judge the answer."""
    limit = int(check["max_latency_ms"]) / 1000.0
    request = urllib.request.Request(
        base + str(check["path"]),
        method=str(check["method"]),
        headers={"User-Agent": "bluegreen-verify"},
    )
    result: dict[str, Any] = {"request": f"{check['method']} {check['path']}"}
    started = clock()
    body = b""
    try:
        with opener(request, limit) as answer:
            status = int(answer.status)
            body = answer.read(1_000_000)
    except urllib.error.HTTPError as error:  # 4xx/5xx answers are answers
        status = int(error.code)
        body = error.read(1_000_000) if error.fp is not None else b""
    except (OSError, ValueError) as error:  # refused, reset, timed out, bad URL
        result.update(ok=False, status=0, latency_ms=round((clock() - started) * 1000))
        result["reason"] = f"no answer: {error}"
        return result
    latency = clock() - started
    result.update(status=status, latency_ms=round(latency * 1000))
    text = body.decode("utf-8", "replace")
    reason = ""
    if status != int(check["status"]):
        reason = f"status {status}, expected {check['status']}"
    elif check.get("body") and str(check["body"]) not in text:
        reason = f"body does not contain {check['body']!r}"
    elif check.get("body_pattern") and not re.search(str(check["body_pattern"]), text):
        reason = f"body does not match {check['body_pattern']!r}"
    elif latency > limit:
        reason = f"took {round(latency * 1000)} ms, limit {check['max_latency_ms']} ms"
    result.update(ok=not reason, reason=reason)
    return result


def run(
    bases: list[str],
    plan: dict[str, Any],
    start: int,
    deadline: float,
    opener: Opener = _open,
    clock: Clock = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    log: Callable[[str], None] = print,
) -> tuple[list[dict[str, Any]], int]:
    """Send the plan's requests from number ``start`` on, spread over ``bases`` in turn,
    until all are sent, one fails, or ``deadline`` (a ``clock`` value) is near.

    Returns the results and the number of the next request to send. Bounded: at most
    every planned request once, each within its latency limit, and the pauses between.
    """
    checks: list[dict[str, Any]] = plan["checks"]
    order = requests_of(checks)
    interval = float(plan.get("interval_seconds", 0))
    results: list[dict[str, Any]] = []
    number = start
    while number < len(order):
        check = checks[order[number]]
        if clock() + int(check["max_latency_ms"]) / 1000.0 + interval > deadline:
            break
        if number > start and interval:
            sleep(interval)
        base = bases[number % len(bases)]
        result = probe(base, check, opener, clock)
        result.update(number=number + 1, of=len(order), check=order[number] + 1)
        log(LOG_MARK + " " + json.dumps(result, sort_keys=True))
        results.append(result)
        number += 1
        if not result["ok"]:
            break
    return results, number


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


def targets(plan: dict[str, Any], clients: Any) -> list[str]:
    """``ip:port`` of the healthy targets behind the test listener's rule with the most
    weight: green after the test traffic shift, under both engines (CodeDeploy moves the
    listener's default action, ECS the test rule's weights)."""
    elb = clients.elbv2
    rules = elb.describe_rules(ListenerArn=plan["test_listener_arn"])["Rules"]
    rules.sort(key=lambda rule: (rule.get("IsDefault", False), str(rule.get("Priority"))))
    weights: dict[str, int] = {}
    for action in rules[0].get("Actions") or []:
        forward = action.get("ForwardConfig") or {}
        for group in forward.get("TargetGroups") or []:
            weights[group["TargetGroupArn"]] = int(group.get("Weight", 1))
        if action.get("TargetGroupArn"):
            weights.setdefault(action["TargetGroupArn"], 1)
    group = max(sorted(weights), key=lambda arn: weights[arn])
    health = elb.describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"]
    return sorted(
        f"{t['Target']['Id']}:{t['Target'].get('Port', plan.get('port', 80))}"
        for t in health
        if (t.get("TargetHealth") or {}).get("State") == "healthy"
    )


def _probe_remote(plan: dict[str, Any], clients: Any, start: int, seconds: float) -> Any:
    """Run the checks through the prober function inside the VPC and return its answer."""
    payload = {"probe": {"targets": targets(plan, clients), "start": start, "seconds": seconds}}
    answer = clients.awslambda.invoke(
        FunctionName=plan["prober"], Payload=json.dumps(payload).encode()
    )
    return json.loads(answer["Payload"].read())


def execute(
    event: dict[str, Any],
    remaining: float,
    clients: Any,
    plan: dict[str, Any] | None = None,
    opener: Opener = _open,
    clock: Clock = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """The function for one event, with ``remaining`` seconds to use (see module doc)."""
    plan = PLAN if plan is None else plan
    seconds = max(0.0, remaining - REPORT_MARGIN_SECONDS)
    if "probe" in event:  # the prober inside the VPC
        spec = event["probe"]
        bases = [f"http://{target}" for target in spec["targets"]]
        if not bases:
            return {"results": [{"ok": False, "reason": "no healthy target"}], "next": 0}
        budget = min(seconds, float(spec.get("seconds", seconds)))
        results, number = run(
            bases, plan, int(spec.get("start", 0)), clock() + budget, opener, clock, sleep, log
        )
        return {"results": results, "next": number}
    ecs = "DeploymentId" not in event
    details = event.get("hookDetails") or {} if ecs else {}
    start = int(details.get("next", 0)) if isinstance(details, dict) else 0
    try:
        if plan.get("prober"):
            remote = _probe_remote(plan, clients, start, seconds)
            results, number = list(remote["results"]), int(remote["next"])
            for result in results:  # one log group tells the whole story (status reads it)
                log(LOG_MARK + " " + json.dumps(result, sort_keys=True))
        else:
            bases = _bases(plan, clients)
            results, number = run(bases, plan, start, clock() + seconds, opener, clock, sleep, log)
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
        return {"status": status, "results": results}
    reply: dict[str, Any] = {"hookStatus": status.upper().replace("INPROGRESS", "IN_PROGRESS")}
    if status == "InProgress":
        reply["callBackDelay"] = int(plan.get("callback_seconds", 30))
        reply["hookDetails"] = {"next": number}
    return reply


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
