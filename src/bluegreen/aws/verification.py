"""What ``bluegreen status`` shows of issue 11: the latest checks and the alarms' states.

The checks are the hook function's log lines (``bluegreen-check {json}``, one per request:
:mod:`bluegreen.verification.checks`) in its log group, read from the stream written last
(DescribeLogStreams ordered by LastEventTime, descending; GetLogEvents). A stream may hold
several invocations (Lambda reuses an execution environment and its stream), so the lines
shown start at the latest first request. The alarms are DescribeAlarms of the names the
stacks wire into the deployments (:func:`bluegreen.stacks.verification.alarm_names`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from bluegreen.config import Config
from bluegreen.names import Names
from bluegreen.stacks import verification as verify_stacks
from bluegreen.verification.checks import LOG_MARK, body_words, several

MAX_EVENTS = 200
"""Log events read from the latest stream (the checks of one release are at most
10 checks x 100 requests, but status shows the recent ones)."""


@dataclass(frozen=True)
class VerificationView:
    checks: list[dict[str, Any]] = field(default_factory=list)
    alarms: list[tuple[str, str]] = field(default_factory=list)  # (name, state)
    run: str = ""
    """Which run of the hook ``checks`` are (its log stream and first event's time): two
    runs with the same results are still two runs. Not part of ``to_dict``."""
    logged: list[int] = field(default_factory=list)
    """When each of ``checks`` was logged (epoch milliseconds). Not part of ``to_dict``."""
    watches: dict[str, str] = field(default_factory=dict)
    """Alarm name -> what its metric is of: a target group's name (its ``TargetGroup``
    dimension), LOAD_BALANCER (an AWS/ApplicationELB metric of the load balancer alone), or
    absent (another metric)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "checks": self.checks,
            "alarms": [
                {"name": name, "state": state, "watches": self.watches.get(name)}
                for name, state in self.alarms
            ],
        }


LOAD_BALANCER = "the load balancer"


def watched_by(alarm: dict[str, Any]) -> str:
    """What a MetricAlarm (DescribeAlarms) watches: the target group's name from its
    TargetGroup dimension ("targetgroup/<name>/<id>", TargetGroupFullName: ALB user guide,
    "CloudWatch metrics for your Application Load Balancer"), LOAD_BALANCER for an
    AWS/ApplicationELB metric with only the LoadBalancer dimension, "" otherwise."""
    dimensions = {d.get("Name"): str(d.get("Value", "")) for d in alarm.get("Dimensions") or []}
    group = dimensions.get("TargetGroup", "")
    if group:
        parts = group.split("/")
        return parts[1] if len(parts) >= 2 else group
    if alarm.get("Namespace") == "AWS/ApplicationELB" and "LoadBalancer" in dimensions:
        return LOAD_BALANCER
    return ""


def alarm_subjects(
    alarms: list[str], new_group: str, watches: dict[str, str]
) -> list[tuple[str, str, str]]:
    """(alarm, what it watches, whose revision) for the alarms that stopped a release:
    ``new`` (the new revision's target group), ``previous`` (the other target group: the
    one production was on, serving the previous revision: an alarm there stops every
    release while it lasts, the fix's too), ``both`` (the load balancer: the previous
    revision until production moved, the new one after) or ``""`` (unknown)."""
    found = []
    for name in alarms:
        watched = watches.get(name, "")
        if watched == LOAD_BALANCER:
            whose = "both"
        elif watched and new_group:
            whose = "new" if watched == new_group else "previous"
        else:
            whose = ""
        found.append((name, watched, whose))
    return found


def subject_text(name: str, watched: str, whose: str) -> str:
    """``sample3-dev-blue-5xx (target group sample3-dev-blue: production's, the previous
    revision)``."""
    if whose == "both":
        return f"{name} ({LOAD_BALANCER}: both revisions' traffic)"
    if not watched:
        return name
    role = {
        "new": ": the new revision's",
        "previous": ": production's, the previous revision",
    }.get(whose, "")
    return f"{name} (target group {watched}{role})"


def collect(clients: Any, config: Config) -> VerificationView | None:
    """The latest checks and the alarms, or None when [verify] asks for neither."""
    if not config.verify.enabled:
        return None
    checks: list[dict[str, Any]] = []
    run, logged = "", list[int]()
    if verify_stacks.has_hook(config):
        group = verify_stacks.hook_log_group(Names.of(config))
        checks, run, logged = latest_run(clients.logs, group)
    names = verify_stacks.alarm_names(config)
    alarms: list[tuple[str, str]] = []
    watches: dict[str, str] = {}
    if names:
        described = clients.cloudwatch.describe_alarms(AlarmNames=names).get("MetricAlarms", [])
        found = {alarm["AlarmName"]: alarm["StateValue"] for alarm in described}
        watches = {a["AlarmName"]: w for a in described if (w := watched_by(a))}
        alarms = [(name, found.get(name, "missing")) for name in names]
    return VerificationView(checks, alarms, run, logged, watches)


def latest_checks(logs: Any, group: str) -> list[dict[str, Any]]:
    """The check results of the latest run of the hook (see the module docstring)."""
    return latest_run(logs, group)[0]


def latest_run(logs: Any, group: str) -> tuple[list[dict[str, Any]], str, list[int]]:
    """The check results of the latest run of the hook, the run's identity (its log
    stream and the time of its first line) and when each result was logged (epoch
    milliseconds); ([], "", []) when there is none."""
    try:
        streams = logs.describe_log_streams(
            logGroupName=group, orderBy="LastEventTime", descending=True, limit=1
        )["logStreams"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return [], "", []
        raise
    if not streams:
        return [], "", []
    stream = str(streams[0]["logStreamName"])
    events = logs.get_log_events(
        logGroupName=group,
        logStreamName=streams[0]["logStreamName"],
        limit=MAX_EVENTS,
        startFromHead=False,
    )["events"]
    results: list[dict[str, Any]] = []
    logged: list[int] = []
    started = ""
    for event in events:
        message = str(event.get("message", "")).strip()
        if not message.startswith(LOG_MARK + " "):
            continue
        try:
            result = json.loads(message[len(LOG_MARK) + 1 :])
        except ValueError:
            continue
        if not isinstance(result, dict):
            continue
        # A run starts with its warm-up line (if it waited) or its first request.
        after_warmup = bool(results) and "warmup" in results[-1]
        if (
            "warmup" in result
            or "skipped" in result
            or (result.get("number") == 1 and not after_warmup)
        ):
            results, logged = [], []
        if not results:
            started = str(event.get("timestamp", ""))
        results.append(result)
        logged.append(int(event.get("timestamp", 0)))
    return results, f"{stream}@{started}" if results else "", logged


def check_line(result: dict[str, Any]) -> list[str]:
    """One row of the checks table: number, request, result, latency, reason."""
    if "warmup" in result:
        return ["", "warm-up", str(result["warmup"])]
    if "skipped" in result:
        return ["", "skipped", str(result["skipped"])]
    number = f"{result['number']}/{result['of']}" if "number" in result else ""
    request = str(result.get("request", ""))
    if several(result):  # which check, then which of its requests
        number = f"{result['check']}/{result['checks']}"
        request += f" ({result['repeat']}/{result['count']})"
    outcome = "pass" if result.get("ok") else "FAIL"
    status = str(result.get("status", "")) if result.get("status") else "-"
    latency = f"{result['latency_ms']} ms" if "latency_ms" in result else ""
    row = [number, request, f"{outcome} {status}", latency]
    if result.get("reason"):
        reason = str(result["reason"])
        if "body" in result:  # what came back (a failed answer's start)
            reason += f"; {'body ' if result['body'] else ''}{body_words(result)}"
        row.append(reason)
    return row
