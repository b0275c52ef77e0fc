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
- Prober mode (test_cidrs narrowed): the checks are sent by the prober function inside
  the VPC (checks.py alone, :func:`~bluegreen.verification.checks.probe_handler`), which
  this function invokes with the new tasks' addresses
  (:mod:`bluegreen.verification.network`); its results are logged here too.
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
    open_url,
    requests_of,
    run,
    serve_probe,
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


def targets(plan: dict[str, Any], clients: Any) -> list[str]:
    """``ip:port`` of the healthy targets behind the test listener's rule with the most
    weight: green after the test traffic shift, under both engines (CodeDeploy moves the
    listener's default action, ECS the test rule's weights)."""
    elb = clients.elbv2
    rules = elb.describe_rules(ListenerArn=plan["test_listener_arn"])["Rules"]
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
    group = max(sorted(weights), key=lambda arn: weights[arn])
    health = elb.describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"]
    return sorted(
        f"{t['Target']['Id']}:{t['Target'].get('Port', plan.get('port', 80))}"
        for t in health
        if (t.get("TargetHealth") or {}).get("State") == "healthy"
    )


def _probe_remote(plan: dict[str, Any], clients: Any, start: int, seconds: float) -> Any:
    """Run the checks through the prober function inside the VPC and return its answer."""
    checks = {key: plan[key] for key in ("checks", "interval_seconds")}
    payload = {
        "probe": {"targets": targets(plan, clients), "start": start, "seconds": seconds},
        "plan": checks,
    }
    answer = clients.awslambda.invoke(
        FunctionName=plan["prober"], Payload=json.dumps(payload).encode()
    )
    return json.loads(answer["Payload"].read())


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
    """The function for one event, with ``remaining`` seconds to use (see module doc)."""
    plan = PLAN if plan is None else plan
    seconds = max(0.0, remaining - REPORT_MARGIN_SECONDS)
    if "probe" in event:  # the prober's event, run in process (tests, the rehearsal)
        return serve_probe(event, seconds, opener, clock, sleep, log)
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
