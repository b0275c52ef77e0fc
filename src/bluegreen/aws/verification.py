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
from bluegreen.verification.checks import LOG_MARK, several

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

    def to_dict(self) -> dict[str, Any]:
        return {
            "checks": self.checks,
            "alarms": [{"name": name, "state": state} for name, state in self.alarms],
        }


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
    if names:
        found = {
            alarm["AlarmName"]: alarm["StateValue"]
            for alarm in clients.cloudwatch.describe_alarms(AlarmNames=names).get(
                "MetricAlarms", []
            )
        }
        alarms = [(name, found.get(name, "missing")) for name in names]
    return VerificationView(checks, alarms, run, logged)


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
            reason += f"; body {result['body']!r}" if result["body"] else "; empty body"
        row.append(reason)
    return row
