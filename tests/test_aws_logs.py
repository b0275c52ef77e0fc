"""aws/logs.py against the emulated CloudWatch Logs: following a group as lines arrive,
late ones included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bluegreen.aws import logs as logs_mod
from bluegreen.emulator import Emulator

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
GROUP = "/ecs/app"


def _put(client: object, stream: str, at: datetime, message: str) -> None:
    client.put_log_events(  # type: ignore[attr-defined]
        logGroupName=GROUP,
        logStreamName=stream,
        logEvents=[{"timestamp": int(at.timestamp() * 1000), "message": message}],
    )


def test_follow_shows_a_line_that_arrives_after_newer_ones_once() -> None:
    # PutLogEvents takes timestamps in the past (API reference: up to 14 days), so a task
    # whose router flushes late writes lines older than the newest one already shown.
    with Emulator("ap-northeast-1", start=T0) as aws:
        client = aws.client("logs")
        client.create_log_group(logGroupName=GROUP)
        for stream in ("a", "b"):
            client.create_log_stream(logGroupName=GROUP, logStreamName=stream)
        _put(client, "a", T0 + timedelta(seconds=10), "first")
        _put(client, "a", T0 + timedelta(seconds=20), "second")
        polls: list[str] = []

        def sleep(seconds: float) -> None:
            if not polls:  # between the first and second poll, task b flushes late
                _put(client, "b", T0 + timedelta(seconds=15), "late")
            polls.append("slept")
            aws.sleep(seconds)

        shown = [
            event.message
            for event in logs_mod.follow(
                client,
                GROUP,
                timedelta(minutes=5),
                sleep=sleep,
                now=lambda: T0 + timedelta(seconds=30),
                polls=3,
            )
        ]
    assert shown == ["first", "second", "late"]


def test_follow_does_not_reach_back_beyond_its_window() -> None:
    with Emulator("ap-northeast-1", start=T0) as aws:
        client = aws.client("logs")
        client.create_log_group(logGroupName=GROUP)
        client.create_log_stream(logGroupName=GROUP, logStreamName="a")
        _put(client, "a", T0 + timedelta(seconds=100), "new")
        late = T0 + timedelta(seconds=100) - timedelta(milliseconds=logs_mod.LATE_MILLIS + 1)

        def sleep(seconds: float) -> None:
            _put(client, "a", late, "too late")

        shown = [
            event.message
            for event in logs_mod.follow(
                client,
                GROUP,
                timedelta(minutes=5),
                sleep=sleep,
                now=lambda: T0 + timedelta(seconds=110),
                polls=2,
            )
        ]
    # the first poll (from 5 minutes back) would have shown it; the later ones reach back
    # LATE_MILLIS only
    assert shown == ["new"]


def test_an_event_reads_every_field_filter_log_events_may_leave_out() -> None:
    # FilteredLogEvent's fields are all optional in the CloudWatch Logs API reference
    # (FilterLogEvents); a message keeps its text without the trailing newline.
    empty = logs_mod._event({})
    assert (empty.event_id, empty.stream, empty.message) == ("", "", "")
    assert empty.timestamp == datetime(1970, 1, 1, tzinfo=UTC)
    full = logs_mod._event(
        {"eventId": "e1", "timestamp": 1_000, "logStreamName": "s", "message": "line\n"}
    )
    assert (full.event_id, full.stream, full.message) == ("e1", "s", "line")
    assert full.timestamp == datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC)
