"""aws/verification.py: what ``status`` shows of the checks (the hook's log lines, latest
run only) and of the alarms (their states and what each watches).

Against the emulated CloudWatch Logs and CloudWatch: DescribeLogStreams ordered by
LastEventTime, descending, gives the stream written last; GetLogEvents with
startFromHead=False gives its last events (CloudWatch Logs API reference); DescribeAlarms
answers MetricAlarms with StateValue, Namespace and Dimensions (CloudWatch API reference;
a new alarm is INSUFFICIENT_DATA until evaluated). A target group's metric dimension is
TargetGroup = "targetgroup/<name>/<id>" (ALB user guide, "CloudWatch metrics for your
Application Load Balancer").
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from test_aws_support import CONFIG_TOML

from bluegreen import config as config_mod
from bluegreen.aws import verification
from bluegreen.aws.session import Clients
from bluegreen.aws.verification import LOAD_BALANCER, VerificationView
from bluegreen.emulator import Emulator

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
REGION = "ap-northeast-1"
GROUP = "/bluegreen/sample3-dev/verify"


@pytest.fixture
def aws() -> Iterator[Emulator]:
    with Emulator(REGION, start=T0) as emulator:
        yield emulator


def _line(result: Any) -> str:
    return f"bluegreen-check {json.dumps(result)}"


def _write(client: Any, stream: str, lines: list[str], offset: int = 0) -> None:
    client.create_log_stream(logGroupName=GROUP, logStreamName=stream)
    client.put_log_events(
        logGroupName=GROUP,
        logStreamName=stream,
        logEvents=[
            {
                "timestamp": int((T0 + timedelta(seconds=offset + n)).timestamp() * 1000),
                "message": m,
            }
            for n, m in enumerate(lines)
        ],
    )


def test_no_group_or_no_stream_is_no_run(aws: Emulator) -> None:
    client = aws.client("logs")
    assert verification.latest_run(client, GROUP) == ([], "", [])
    client.create_log_group(logGroupName=GROUP)
    assert verification.latest_run(client, GROUP) == ([], "", [])
    assert verification.latest_checks(client, GROUP) == []


def test_the_latest_stream_from_its_latest_first_request(aws: Emulator) -> None:
    client = aws.client("logs")
    client.create_log_group(logGroupName=GROUP)
    _write(client, "older", [_line({"number": 1, "of": 1, "ok": True})])
    first = {"number": 1, "of": 2, "ok": False}
    again = {"number": 1, "of": 2, "ok": True}
    second = {"number": 2, "of": 2, "ok": True}
    _write(
        client,
        "newer",
        [
            "START RequestId: 1",  # Lambda's own line
            _line(first),
            "bluegreen-check{not a result}",
            "bluegreen-check not json",
            _line([1, 2]),  # not an object
            _line(again),  # a second invocation in the same stream starts here
            "  " + _line(second) + "  ",
        ],
        offset=10,
    )
    results, run, logged = verification.latest_run(client, GROUP)
    start = int((T0 + timedelta(seconds=15)).timestamp() * 1000)
    assert results == [again, second]
    assert run == f"newer@{start}"
    assert logged == [start, start + 1000]


def test_a_warmup_or_a_skip_starts_a_run_and_a_first_request_after_warmup_continues_it(
    aws: Emulator,
) -> None:
    client = aws.client("logs")
    client.create_log_group(logGroupName=GROUP)
    warmup = {"warmup": "ready after 3 s"}
    first = {"number": 1, "of": 1, "ok": True}
    _write(client, "s", [_line({"number": 1, "of": 1}), _line(warmup), _line(first)])
    assert verification.latest_checks(client, GROUP) == [warmup, first]
    skipped = {"skipped": "no checks"}
    _write(client, "t", [_line(first), _line(skipped)], offset=60)
    assert verification.latest_checks(client, GROUP) == [skipped]


def test_what_an_alarm_watches() -> None:
    assert (
        verification.watched_by(
            {"Dimensions": [{"Name": "TargetGroup", "Value": "targetgroup/app-green/123"}]}
        )
        == "app-green"
    )
    assert verification.watched_by({"Dimensions": [{"Name": "TargetGroup", "Value": "odd"}]}) == (
        "odd"
    )
    lb = [{"Name": "LoadBalancer", "Value": "app/alb/1"}]
    assert (
        verification.watched_by({"Namespace": "AWS/ApplicationELB", "Dimensions": lb})
        == LOAD_BALANCER
    )
    assert verification.watched_by({"Namespace": "Custom", "Dimensions": lb}) == ""
    assert verification.watched_by({"Namespace": "AWS/ApplicationELB"}) == ""
    assert verification.watched_by({}) == ""


def test_whose_revision_each_stopping_alarm_watches() -> None:
    watches = {"a-new": "green", "a-old": "blue", "a-lb": LOAD_BALANCER}
    assert verification.alarm_subjects(["a-new", "a-old", "a-lb", "a-other"], "green", watches) == [
        ("a-new", "green", "new"),
        ("a-old", "blue", "previous"),
        ("a-lb", LOAD_BALANCER, "both"),
        ("a-other", "", ""),
    ]
    assert verification.alarm_subjects(["a-new"], "", watches) == [("a-new", "green", "")]


def test_subject_text() -> None:
    assert verification.subject_text("x", LOAD_BALANCER, "both") == (
        "x (the load balancer: both revisions' traffic)"
    )
    assert verification.subject_text("x", "", "") == "x"
    assert verification.subject_text("x", "g", "new") == "x (target group g: the new revision's)"
    assert verification.subject_text("x", "b", "previous") == (
        "x (target group b: production's, the previous revision)"
    )
    assert verification.subject_text("x", "b", "") == "x (target group b)"


def test_check_rows() -> None:
    assert verification.check_line({"warmup": "ready"}) == ["", "warm-up", "ready"]
    assert verification.check_line({"skipped": "none"}) == ["", "skipped", "none"]
    assert verification.check_line(
        {"number": 2, "of": 3, "request": "GET /", "ok": True, "status": 200, "latency_ms": 12}
    ) == ["2/3", "GET /", "pass 200", "12 ms"]
    assert verification.check_line({"request": "GET /", "ok": False, "status": 0}) == [
        "",
        "GET /",
        "FAIL -",
        "",
    ]
    failed = {"request": "GET /", "ok": False, "status": 500, "reason": "expected 200"}
    assert verification.check_line(failed)[-1] == "expected 200"
    assert verification.check_line({**failed, "body": "oops"})[-1] == ("expected 200; body 'oops'")
    assert verification.check_line({**failed, "body": ""})[-1] == "expected 200; an empty body"


VERIFY = """
[[verify.checks]]
path = "/"
[verify.alarms]
enabled = true
existing = ["shop-slo", "gone-alarm"]
"""


def test_collect_reads_the_checks_and_each_alarm_s_state(aws: Emulator) -> None:
    clients = Clients.from_factory(aws.client, REGION)
    assert verification.collect(clients, config_mod.parse(CONFIG_TOML)) is None
    config = config_mod.parse(CONFIG_TOML + VERIFY)
    logs = aws.client("logs")
    logs.create_log_group(logGroupName=GROUP)
    result = {"number": 1, "of": 1, "ok": True}
    _write(logs, "s", [_line(result)])
    cloudwatch = aws.client("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName="sample3-dev-green-5xx",
        Namespace="AWS/ApplicationELB",
        MetricName="HTTPCode_Target_5XX_Count",
        Dimensions=[{"Name": "TargetGroup", "Value": "targetgroup/sample3-dev-green/1"}],
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    cloudwatch.put_metric_alarm(
        AlarmName="shop-slo",
        Namespace="Custom",
        MetricName="Latency",
        Statistic="Average",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanThreshold",
    )
    cloudwatch.set_alarm_state(AlarmName="shop-slo", StateValue="ALARM", StateReason="test")
    view = verification.collect(clients, config)
    assert view is not None
    names = dict(view.alarms)
    assert names["sample3-dev-green-5xx"] == "INSUFFICIENT_DATA"
    assert names["shop-slo"] == "ALARM"
    assert names["gone-alarm"] == "missing"
    assert names["sample3-dev-blue-5xx"] == "missing"
    assert [n for n, _ in view.alarms][-2:] == ["shop-slo", "gone-alarm"]
    assert view.watches == {"sample3-dev-green-5xx": "sample3-dev-green"}
    assert view.checks == [result]
    assert view.logged == [int(T0.timestamp() * 1000)]
    assert view.to_dict()["alarms"][-2:] == [
        {"name": "shop-slo", "state": "ALARM", "watches": None},
        {"name": "gone-alarm", "state": "missing", "watches": None},
    ]
    assert view.to_dict()["checks"] == [result]


def test_collect_with_alarms_only_reads_no_logs(aws: Emulator) -> None:
    clients = Clients.from_factory(aws.client, REGION)
    config = config_mod.parse(CONFIG_TOML + '[verify.alarms]\nexisting = ["shop-slo"]\n')
    view = verification.collect(clients, config)
    assert view == VerificationView([], [("shop-slo", "missing")], "", [], {})


def test_only_the_last_200_events_of_the_stream_are_read(aws: Emulator) -> None:
    # GetLogEvents with limit=200 and startFromHead=False: the stream's last 200 events.
    client = aws.client("logs")
    client.create_log_group(logGroupName=GROUP)
    lines = [_line({"number": n, "of": 201, "ok": True}) for n in range(1, 202)]
    _write(client, "long", lines)
    results, run, logged = verification.latest_run(client, GROUP)
    assert [r["number"] for r in results] == list(range(2, 202))
    second = int((T0 + timedelta(seconds=1)).timestamp() * 1000)
    assert run == f"long@{second}"
    assert logged[0] == second and len(logged) == 200


def test_a_stream_without_check_lines_is_no_run(aws: Emulator) -> None:
    client = aws.client("logs")
    client.create_log_group(logGroupName=GROUP)
    _write(client, "lambda", ["START RequestId: 1", "END RequestId: 1"])
    assert verification.latest_run(client, GROUP) == ([], "", [])
