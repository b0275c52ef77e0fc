"""aws/logs.py: --since's accepted range, reading a window, a missing group, the service's
clock, and following.

Against the emulated CloudWatch Logs (its clock starts at T0 and its answers carry that
time in the Date header, as every HTTP response does, RFC 9110). FilterLogEvents pages
with nextToken only past 10,000 events or 1 MB (CloudWatch Logs API reference,
FilterLogEvents), too many to write here, so paging is queued on botocore Stubber.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from test_aws_support import Stubs

from bluegreen.aws import logs
from bluegreen.aws.errors import AwsCallError
from bluegreen.emulator import Emulator
from bluegreen.errors import StateError, UsageError

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
GROUP = "/ecs/app"


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def test_since_takes_up_to_nine_digits_and_says_what_it_takes() -> None:
    assert logs.parse_since(" 000000001s ") == timedelta(seconds=1)
    assert logs.parse_since("1 m") == timedelta(minutes=1)
    for bad in ("0000000001s", "0m", "3654d", "87673h", "1.5h", ""):
        with pytest.raises(UsageError) as info:
            logs.parse_since(bad)
        assert info.value.message == f"--since {bad!r} is not a duration from 1s to 3653d"
        assert info.value.hint == "use a positive number and a unit: 30s, 10m, 2h or 1d"
    assert logs.parse_since("87672h") == timedelta(days=3653)


def test_an_event_document() -> None:
    event = logs._event(
        {"eventId": "e1", "timestamp": 1_500, "logStreamName": "s", "message": "hi\n\n"}
    )
    assert event.to_dict() == {
        "timestamp": "1970-01-01T00:00:01.500000Z",
        "stream": "s",
        "message": "hi",
        "event_id": "e1",
    }


def _emulated(aws: Emulator) -> Any:
    client = aws.client("logs")
    client.create_log_group(logGroupName=GROUP)
    for stream in ("a", "b"):
        client.create_log_stream(logGroupName=GROUP, logStreamName=stream)
    return client


def _put(client: Any, stream: str, at: datetime, message: str) -> None:
    client.put_log_events(
        logGroupName=GROUP,
        logStreamName=stream,
        logEvents=[{"timestamp": _millis(at), "message": message}],
    )


def test_fetch_reads_the_window_oldest_first_across_streams() -> None:
    with Emulator("ap-northeast-1", start=T0) as aws:
        client = _emulated(aws)
        _put(client, "a", T0 - timedelta(minutes=10, milliseconds=1), "too old")
        _put(client, "a", T0 - timedelta(minutes=10), "edge")
        _put(client, "b", T0 - timedelta(minutes=2), "b first")
        _put(client, "a", T0 - timedelta(minutes=1), "a later")
        found = logs.fetch(client, GROUP, timedelta(minutes=10), now=lambda: T0)
        assert logs.service_now(client, GROUP) == T0
    assert [(e.stream, e.message) for e in found] == [
        ("a", "edge"),
        ("b", "b first"),
        ("a", "a later"),
    ]
    assert found[0].timestamp == T0 - timedelta(minutes=10)


def test_a_missing_group_names_the_region() -> None:
    with Emulator("ap-northeast-1", start=T0) as aws:
        client = aws.client("logs")
        with pytest.raises(StateError) as info:
            logs.fetch(client, "/nothing", timedelta(minutes=1))
    assert info.value.message == "log group /nothing does not exist in ap-northeast-1"
    assert info.value.hint == (
        "check --region / project.region (now ap-northeast-1); in the right region, run "
        "`bluegreen deploy` first (the service stack creates it)"
    )


def test_pages_are_read_to_the_end_and_other_errors_pass() -> None:
    """Every page is read, an empty one that still carries a nextToken included
    (FilterLogEvents API reference: "This operation can return empty results while there
    are more log events available through the token"). A later page may hold an older line:
    PutLogEvents takes events up to 14 days old (PutLogEvents API reference), so a line
    ingested late sorts after newer ones; fetch gives them oldest first whatever the order
    of the pages."""
    s = Stubs()
    start = _millis(T0 - timedelta(seconds=30))
    first = {"eventId": "1", "timestamp": start + 2, "logStreamName": "a", "message": "two"}
    late = {"eventId": "2", "timestamp": start + 1, "logStreamName": "b", "message": "one"}
    asked = {"logGroupName": GROUP, "startTime": start}
    s.add("logs", "filter_log_events", {"events": [first], "nextToken": "t1"}, asked)
    s.add(
        "logs", "filter_log_events", {"events": [], "nextToken": "t2"}, {**asked, "nextToken": "t1"}
    )
    s.add("logs", "filter_log_events", {"events": [late]}, {**asked, "nextToken": "t2"})
    found = logs.fetch(s.client("logs"), GROUP, timedelta(seconds=30), now=lambda: T0)
    assert [(e.message, e.stream) for e in found] == [("one", "b"), ("two", "a")]
    s.error("logs", "filter_log_events", "AccessDeniedException", "no")
    with pytest.raises(AwsCallError) as info:
        logs.fetch(s.client("logs"), GROUP, timedelta(seconds=30), now=lambda: T0)
    assert info.value.code == "AccessDeniedException"
    assert info.value.message == "access denied: your credentials may not call logs:FilterLogEvents"
    s.done()


def test_the_local_clock_when_the_answer_has_no_usable_date() -> None:
    s = Stubs()
    s.add(
        "logs",
        "describe_log_groups",
        {"logGroups": []},
        {"logGroupNamePrefix": GROUP, "limit": 1},
    )
    before = datetime.now(UTC)
    assert before <= logs.service_now(s.client("logs"), GROUP) <= datetime.now(UTC)
    s.done()


def test_follow_polls_as_often_as_asked_and_sleeps_between_polls() -> None:
    with Emulator("ap-northeast-1", start=T0) as aws:
        client = _emulated(aws)
        _put(client, "a", T0 - timedelta(seconds=5), "one")
        slept: list[float] = []

        def sleep(seconds: float) -> None:
            slept.append(seconds)
            _put(client, "b", T0 + timedelta(seconds=len(slept)), f"after sleep {len(slept)}")

        shown = [
            e.message
            for e in logs.follow(
                client,
                GROUP,
                timedelta(minutes=1),
                sleep=sleep,
                interval=0.5,
                now=lambda: T0,
                polls=3,
            )
        ]
    assert slept == [0.5, 0.5]  # none after the last poll
    assert shown == ["one", "after sleep 1", "after sleep 2"]


def test_follow_reaches_back_exactly_late_millis() -> None:
    # The second poll starts LATE_MILLIS before the newest line seen: a line written at
    # exactly that moment is shown, one a millisecond earlier is not.
    with Emulator("ap-northeast-1", start=T0) as aws:
        client = _emulated(aws)
        newest = T0 + timedelta(minutes=5)
        _put(client, "a", newest, "newest")
        edge = newest - timedelta(milliseconds=logs.LATE_MILLIS)

        slept: list[float] = []

        def sleep(seconds: float) -> None:
            slept.append(seconds)  # the default interval: 2 s between polls
            _put(client, "b", edge, "at the edge")
            _put(client, "b", edge - timedelta(milliseconds=1), "just before")

        shown = [
            e.message
            for e in logs.follow(
                client, GROUP, timedelta(hours=1), sleep=sleep, now=lambda: newest, polls=2
            )
        ]
    assert shown == ["newest", "at the edge"]
    assert slept == [2.0]


def test_a_line_at_the_reach_back_edge_is_not_shown_twice() -> None:
    # FilterLogEvents' startTime is inclusive (API reference: "Events with a timestamp
    # before this time are not returned"): the next poll gets the edge line again.
    with Emulator("ap-northeast-1", start=T0) as aws:
        client = _emulated(aws)
        newest = T0 + timedelta(minutes=5)
        _put(client, "a", newest - timedelta(milliseconds=logs.LATE_MILLIS), "edge")
        _put(client, "a", newest, "newest")
        shown = [
            e.message
            for e in logs.follow(
                client, GROUP, timedelta(hours=1), sleep=aws.sleep, now=lambda: newest, polls=2
            )
        ]
    assert shown == ["edge", "newest"]
