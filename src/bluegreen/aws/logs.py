"""CloudWatch Logs: the app's logs (routed by FireLens) and the log router's own.

``fetch`` reads a time window with FilterLogEvents across all streams of the group.
``follow`` keeps polling from the last timestamp seen; FilterLogEvents returns events at
that timestamp again, so events are de-duplicated by eventId (only ids at or after the
last timestamp are remembered, keeping memory flat while tailing for hours).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bluegreen.aws.errors import AwsCallError, call
from bluegreen.errors import StateError, UsageError

Sleep = Callable[[float], None]
Now = Callable[[], datetime]

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


@dataclass(frozen=True)
class LogEvent:
    event_id: str
    timestamp: datetime
    stream: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {
            "timestamp": self.timestamp.isoformat().replace("+00:00", "Z"),
            "stream": self.stream,
            "message": self.message,
            "event_id": self.event_id,
        }


# The longest CloudWatch Logs retention: older events cannot exist.
_LONGEST = timedelta(days=3653)


def parse_since(text: str) -> timedelta:
    """``30s``, ``10m``, ``2h``, ``1d`` -> timedelta; anything else is a UsageError."""
    match = _DURATION.match(text)
    window = None
    if match and len(match.group(1)) <= 9 and int(match.group(1)) > 0:
        window = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    if window is None or window > _LONGEST:
        raise UsageError(
            f"--since {text!r} is not a duration from 1s to {_LONGEST.days}d",
            hint="use a positive number and a unit: 30s, 10m, 2h or 1d",
        )
    return window


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _event(raw: dict[str, Any]) -> LogEvent:
    return LogEvent(
        event_id=raw.get("eventId", ""),
        timestamp=datetime.fromtimestamp(raw.get("timestamp", 0) / 1000, tz=UTC),
        stream=raw.get("logStreamName", ""),
        message=str(raw.get("message", "")).rstrip("\n"),
    )


def _pages(logs: Any, group: str, start_ms: int) -> Iterator[LogEvent]:
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"logGroupName": group, "startTime": start_ms}
        if token:
            kwargs["nextToken"] = token
        try:
            page = call(logs, "filter_log_events", **kwargs)
        except AwsCallError as exc:
            if exc.code == "ResourceNotFoundException":
                # FilterLogEvents on a missing group: ResourceNotFoundException
                # (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html).
                # Log groups are regional: name the region, a wrong one reads the same.
                region = getattr(getattr(logs, "meta", None), "region_name", None) or "?"
                raise StateError(
                    f"log group {group} does not exist in {region}",
                    hint=f"check --region / project.region (now {region}); in the right "
                    "region, run `bluegreen deploy` first (the service stack creates it)",
                ) from exc
            raise
        for raw in page.get("events", []):
            yield _event(raw)
        token = page.get("nextToken")
        if not token:
            return


def service_now(logs: Any, group: str) -> datetime:
    """The time by CloudWatch Logs' own clock: the ``Date`` header of its answer (every
    HTTP response carries one, RFC 9110), so ``--since`` measures the service's window
    even when this machine's clock is off. The local clock when the header is missing."""
    from email.utils import parsedate_to_datetime

    answer = call(logs, "describe_log_groups", logGroupNamePrefix=group, limit=1)
    header = answer.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
    if header:
        try:
            return parsedate_to_datetime(str(header)).astimezone(UTC)
        except (TypeError, ValueError):
            pass
    return datetime.now(UTC)


def fetch(logs: Any, group: str, since: timedelta, *, now: Now | None = None) -> list[LogEvent]:
    """Every event of ``group`` from ``since`` ago until now, oldest first."""
    moment = (now or (lambda: datetime.now(UTC)))()
    events = list(_pages(logs, group, _millis(moment - since)))
    # Stable, on the timestamp only: within one millisecond FilterLogEvents' own order
    # (ingestion time, then PutLogEvents request: API reference, "FilterLogEvents") is the
    # right one; eventId is an opaque string, not a sequence.
    events.sort(key=lambda e: e.timestamp)
    return events


LATE_MILLIS = 30_000
"""How far back ``follow`` looks for lines that arrived late: FireLens routes by Fluent
Bit, which flushes every few seconds (its Flush setting) and retries failed sends."""


def follow(
    logs: Any,
    group: str,
    since: timedelta,
    *,
    sleep: Sleep = time.sleep,
    interval: float = 2.0,
    now: Now | None = None,
    polls: int | None = None,
) -> Iterator[LogEvent]:
    """Yield events as they arrive, forever (or ``polls`` times, for tests)."""
    moment = (now or (lambda: datetime.now(UTC)))()
    start = _millis(moment - since)
    newest = start
    seen: dict[str, int] = {}
    done = 0
    while polls is None or done < polls:
        batch = sorted(_pages(logs, group, start), key=lambda e: e.timestamp)
        for event in batch:
            if event.event_id in seen:
                continue
            stamp = _millis(event.timestamp)
            seen[event.event_id] = stamp
            newest = max(newest, stamp)
            yield event
        # A line can reach CloudWatch after newer ones (another task's FireLens flush;
        # PutLogEvents takes timestamps up to 14 days old, API reference), so the next
        # poll reaches back LATE_MILLIS before the newest line seen; the ids seen in that
        # window are kept so nothing is printed twice.
        start = max(start, newest - LATE_MILLIS)
        seen = {k: v for k, v in seen.items() if v >= start}
        done += 1
        if polls is None or done < polls:
            sleep(interval)
