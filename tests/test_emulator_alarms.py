"""CloudWatch alarms on the emulator's clock, and the deployments that watch them.

Sources: E1 CloudWatch user guide, "Evaluating an alarm" and "Avoiding premature
transitions to alarm state" (AlarmThatSendsEmail.html); E2 "Configuring how CloudWatch
alarms treat missing data" (alarms-and-missing-data.html); C1 CodeDeploy user guide,
"Monitor deployments with CloudWatch alarms in CodeDeploy" and "Redeploy and roll back a
deployment with CodeDeploy"; C2 CodeDeploy API reference, AlarmConfiguration ("A maximum of
10 alarms"), AlarmsLimitExceededException (botocore's model).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from emulator_system import GROUP, REGION, T0, System, build

from bluegreen.emulator import Emulator
from bluegreen.emulator.alarms import Spec, evaluate, percentile
from bluegreen.emulator.services.codedeploy import ALARM_ACTIVE
from bluegreen.engine.codedeploy import alarms_of

NAMESPACE = "AWS/ApplicationELB"
AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _points(*values: float | None) -> list[tuple[datetime, float | None]]:
    return [(AT + timedelta(minutes=i), v) for i, v in enumerate(values)]


def _spec(**fields: Any) -> Spec:
    base: dict[str, Any] = {
        "period": 60,
        "evaluation_periods": 3,
        "threshold": 5.0,
        "comparison": "GreaterThanOrEqualToThreshold",
        "statistic": "Sum",
    }
    return Spec(**{**base, **fields})


# ------------------------------------------------------------------ the evaluator's edges


def test_m_of_n_alarms_at_m_breaching_datapoints_and_not_one_below() -> None:
    spec = _spec(evaluation_periods=3, datapoints_to_alarm=2)
    # The evaluation range is N + 2 periods; the most recent N real points decide (E2).
    assert evaluate(spec, _points(0, 0, 9, 0, 9), "OK").state == "ALARM"
    assert evaluate(spec, _points(9, 9, 0, 0, 9), "OK").state == "OK"  # only 1 of the last 3
    verdict = evaluate(spec, _points(0, 0, 6, 0, 7), "OK")
    assert verdict.reason.startswith("Threshold Crossed: 2 out of the last 3 datapoints [7.0 (")
    assert verdict.reason.endswith(
        "were greater than or equal to the threshold (5.0) "
        "(minimum 2 datapoints for OK -> ALARM transition)."
    )


def test_the_threshold_edge_follows_the_comparison_operator() -> None:
    at_threshold = _points(None, None, 5, 5, 5)
    assert evaluate(_spec(), at_threshold, "OK").state == "ALARM"
    assert evaluate(_spec(comparison="GreaterThanThreshold"), at_threshold, "OK").state == "OK"


def test_all_missing_follows_treat_missing_data() -> None:
    nothing = _points(None, None, None, None, None)
    assert evaluate(_spec(), nothing, "OK").state == "INSUFFICIENT_DATA"  # default: missing
    assert evaluate(_spec(treat_missing="breaching"), nothing, "OK").state == "ALARM"
    assert evaluate(_spec(treat_missing="notBreaching"), nothing, "ALARM").state == "OK"
    kept = evaluate(_spec(treat_missing="ignore"), nothing, "ALARM")
    assert kept.state is None  # E2: ignore keeps the current state


def test_few_real_points_are_completed_with_the_missing_data_setting() -> None:
    one_breach = _points(None, None, None, None, 9)
    three_of_three = _spec(evaluation_periods=3)
    # breaching: two missing points fill in as breaching: 3 of 3.
    assert evaluate(_spec(treat_missing="breaching"), one_breach, "OK").state == "ALARM"
    # notBreaching: they fill in as good: 1 of 3.
    assert evaluate(_spec(treat_missing="notBreaching"), one_breach, "OK").state == "OK"
    # missing: the newest breaching point is 1 period old, less than M=3: no premature alarm.
    assert evaluate(three_of_three, one_breach, "OK").state == "OK"
    # E1's premature transition: the oldest breaching point of the last N is at least M
    # old and every later point breaches or is missing.
    assert evaluate(three_of_three, _points(None, None, 9, None, None), "OK").state == "ALARM"
    assert evaluate(three_of_three, _points(None, None, 9, 0, None), "OK").state == "OK"
    # With N real points in the range, the missing-data setting does not matter (E2).
    plenty = _points(9, None, 9, None, 9)
    assert evaluate(_spec(treat_missing="notBreaching"), plenty, "OK").state == "ALARM"


# E2's two tables, verbatim (CloudWatch user guide, "How alarm state is evaluated when data
# is missing"; the last revision in awsdocs/amazon-cloudwatch-user-guide,
# doc_source/AlarmThatSendsEmail.md at b355497): Evaluation Periods 3, an evaluation range
# of 5, the most recent point on the right; 0 non-breaching, X breaching, - missing. The
# columns: MISSING, IGNORE, BREACHING, NOT BREACHING; "retain" is "Retain current state".
AWS_TABLES: dict[int, list[tuple[str, tuple[str, str, str, str]]]] = {
    3: [  # Datapoints to Alarm 3
        ("0 - X - X", ("OK", "OK", "OK", "OK")),
        ("0 - - - -", ("OK", "OK", "OK", "OK")),
        ("- - - - -", ("INSUFFICIENT_DATA", "retain", "ALARM", "OK")),
        ("0 X X - X", ("ALARM", "ALARM", "ALARM", "ALARM")),
        ("- - X - -", ("ALARM", "retain", "ALARM", "OK")),
    ],
    2: [  # Datapoints to Alarm 2: "a 2 out of 3, M out of N alarm"
        ("0 - X - X", ("ALARM", "ALARM", "ALARM", "ALARM")),
        ("0 0 X 0 X", ("ALARM", "ALARM", "ALARM", "ALARM")),
        ("0 - X - -", ("OK", "OK", "ALARM", "OK")),
        ("- - - - 0", ("OK", "OK", "ALARM", "OK")),
        ("- - - X -", ("ALARM", "retain", "ALARM", "OK")),
    ],
}
MODES = ("missing", "ignore", "breaching", "notBreaching")


@pytest.mark.parametrize(
    ("m", "row", "mode", "expected"),
    [
        (m, row, mode, states[i])
        for m, rows in AWS_TABLES.items()
        for row, states in rows
        for i, mode in enumerate(MODES)
    ],
)
@pytest.mark.parametrize("current", ["OK", "ALARM", "INSUFFICIENT_DATA"])
def test_the_evaluator_reproduces_every_row_of_aws_tables(
    m: int, row: str, mode: str, expected: str, current: str
) -> None:
    spec = _spec(period=300, datapoints_to_alarm=m, threshold=1.0, treat_missing=mode)
    value = {"0": 0.0, "X": 5.0, "-": None}
    points = [(AT + timedelta(minutes=5 * i), value[c]) for i, c in enumerate(row.split())]
    assert len(points) == spec.range_periods == 5
    verdict = evaluate(spec, points, current)
    got = current if verdict.state is None else verdict.state
    assert got == (current if expected == "retain" else expected)
    if expected == "retain":
        assert verdict.state is None  # kept, not re-decided


def test_p95_is_the_nearest_rank_of_the_raw_values() -> None:
    values = [float(v) for v in range(1, 101)]  # 1 .. 100
    assert percentile(values, "p95") == 95.0
    assert percentile(values, "p99.9") == 100.0
    assert percentile([3.0], "p95") == 3.0
    assert percentile([], "p95") is None


def test_statistics_of_raw_values_and_statistic_sets() -> None:
    from types import SimpleNamespace

    from bluegreen.emulator.alarms import statistic

    raw = [SimpleNamespace(value=v) for v in (1.0, 3.0)]
    summed = SimpleNamespace(sample_count=4.0, sum=20.0, min=2.0, max=8.0)
    single = SimpleNamespace(sample_count=1.0, sum=9.0, min=9.0, max=9.0)
    both = [*raw, summed]
    assert statistic(_spec(statistic="Sum"), both) == 24.0
    assert statistic(_spec(statistic="SampleCount"), both) == 6.0
    assert statistic(_spec(statistic="Average"), both) == 4.0
    assert statistic(_spec(statistic="Minimum"), both) == 1.0
    assert statistic(_spec(statistic="Maximum"), both) == 8.0
    assert statistic(_spec(statistic="Sum"), []) is None
    # A percentile needs raw values: a statistic set counts only with SampleCount 1 or
    # Minimum == Maximum (GetMetricStatistics API reference).
    p95 = _spec(statistic="", extended_statistic="p95")
    assert statistic(p95, [*raw, summed]) == 3.0
    assert statistic(p95, [*raw, single]) == 9.0


# -------------------------------------------------------- through CloudWatch's own API


@pytest.fixture
def aws() -> Iterator[Emulator]:
    with Emulator(REGION, start=T0) as emulator:
        yield emulator


def _put(aws: Emulator, metric: str, dimensions: list[dict[str, str]], *values: float) -> None:
    aws.client("cloudwatch").put_metric_data(
        Namespace=NAMESPACE,
        MetricData=[
            {"MetricName": metric, "Dimensions": dimensions, "Value": v, "Timestamp": aws.now()}
            for v in values
        ],
    )


def _alarm(aws: Emulator, name: str) -> dict[str, Any]:
    found: dict[str, Any] = aws.client("cloudwatch").describe_alarms(AlarmNames=[name])[
        "MetricAlarms"
    ][0]
    return found


def test_a_p95_alarm_changes_state_on_the_clock_and_keeps_its_history(aws: Emulator) -> None:
    cloudwatch = aws.client("cloudwatch")
    dims = [{"Name": "TargetGroup", "Value": "targetgroup/green/1"}]
    cloudwatch.put_metric_alarm(
        AlarmName="latency",
        Namespace=NAMESPACE,
        MetricName="TargetResponseTime",
        Dimensions=dims,
        ExtendedStatistic="p95",
        Period=60,
        EvaluationPeriods=2,
        DatapointsToAlarm=2,
        Threshold=1.0,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching",
    )
    # PutMetricAlarm: a new alarm is INSUFFICIENT_DATA (moto would say OK).
    assert _alarm(aws, "latency")["StateValue"] == "INSUFFICIENT_DATA"
    aws.sleep(60)
    assert _alarm(aws, "latency")["StateValue"] == "OK"
    # Two minutes whose p95 is above 1 s (95 fast answers would keep it below).
    for _ in range(2):
        _put(aws, "TargetResponseTime", dims, *([0.1] * 90 + [2.0] * 10))
        aws.sleep(60)
    aws.sleep(60)
    alarm = _alarm(aws, "latency")
    assert alarm["StateValue"] == "ALARM"
    assert "2 out of the last 2 datapoints [2.0 (" in alarm["StateReason"]
    changed = alarm["StateUpdatedTimestamp"]
    # It changed when the second minute ended, not when it was read.
    assert changed < aws.now()
    assert changed.second == 0
    history = cloudwatch.describe_alarm_history(AlarmName="latency")["AlarmHistoryItems"]
    assert [h["HistorySummary"] for h in history] == [
        "Alarm updated from OK to ALARM",
        "Alarm updated from INSUFFICIENT_DATA to OK",
    ]
    assert json.loads(history[0]["HistoryData"])["newState"]["stateValue"] == "ALARM"
    # 95 fast answers out of 100: the p95 is fast, the alarm goes back to OK once the
    # slow minutes leave the evaluation range.
    _put(aws, "TargetResponseTime", dims, *([0.1] * 95 + [2.0] * 5))
    aws.sleep(600)
    assert _alarm(aws, "latency")["StateValue"] == "OK"


def test_a_metric_is_its_whole_set_of_dimensions(aws: Emulator) -> None:
    cloudwatch = aws.client("cloudwatch")
    dims = [
        {"Name": "LoadBalancer", "Value": "app/alb/1"},
        {"Name": "TargetGroup", "Value": "targetgroup/green/1"},
    ]
    cloudwatch.put_metric_alarm(
        AlarmName="5xx",
        Namespace=NAMESPACE,
        MetricName="HTTPCode_Target_5XX_Count",
        Dimensions=dims,
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=5,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="notBreaching",
    )
    _put(aws, "HTTPCode_Target_5XX_Count", dims[1:], 50)  # the target group alone
    aws.sleep(120)
    assert _alarm(aws, "5xx")["StateValue"] == "OK"
    _put(aws, "HTTPCode_Target_5XX_Count", dims, 3, 3)  # a sum of 6 in one minute
    aws.sleep(60)
    assert _alarm(aws, "5xx")["StateValue"] == "ALARM"


# --------------------------------------------------------------- CodeDeploy's alarms


def _alarmed_system(aws: Emulator, *, ignore_poll_failure: bool = False) -> System:
    system = build(
        aws,
        ready="CONTINUE_DEPLOYMENT",
        termination_minutes=10,
        rollback_events=("DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"),
    )
    aws.client("cloudwatch").put_metric_alarm(
        AlarmName="green-5xx",
        Namespace=NAMESPACE,
        MetricName="HTTPCode_Target_5XX_Count",
        Dimensions=_green_dimensions(system),
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=5,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="notBreaching",
    )
    system.clients.codedeploy.update_deployment_group(
        applicationName="demo-app",
        currentDeploymentGroupName=GROUP,
        alarmConfiguration={
            "enabled": True,
            "ignorePollAlarmFailure": ignore_poll_failure,
            "alarms": [{"name": "green-5xx"}],
        },
    )
    return system


def _green_dimensions(system: System) -> list[dict[str, str]]:
    # TargetGroup's value is the ARN's suffix: targetgroup/demo-green/<id>.
    return [{"Name": "TargetGroup", "Value": system.green.split(":", 5)[5]}]


def _in_termination_wait(system: System, deployment: str) -> None:
    system.wait_for(
        lambda: (
            system.deployment(deployment)["status"] == "InProgress"
            and system.target(deployment)["status"] == "Succeeded"
        ),
        step=5,
    )


def test_an_alarm_in_the_termination_wait_stops_the_deployment_and_rolls_back(
    aws: Emulator,
) -> None:
    system = _alarmed_system(aws)
    deployment = system.deploy(system.register(system.app_image))
    _in_termination_wait(system, deployment)
    assert system.forwards(system.production) == {"demo-green": 100, "demo-blue": 0}
    # Green answers 5xx under production traffic: 20 in a minute.
    _put(aws, "HTTPCode_Target_5XX_Count", _green_dimensions(system), 20)
    system.wait_for(
        lambda: system.deployment(deployment)["status"] == "Stopped", step=10, limit=300
    )
    info = system.deployment(deployment)
    assert info["errorInformation"] == {
        "code": "ALARM_ACTIVE",
        "message": ALARM_ACTIVE + "<green-5xx>",
    }
    rollback = info["rollbackInfo"]["rollbackDeploymentId"]
    system.wait_for(lambda: system.deployment(rollback)["status"] == "Succeeded", step=5)
    assert system.forwards(system.production) == {"demo-blue": 100, "demo-green": 0}
    assert info["errorInformation"]["message"].startswith("One or more alarms have been activated")
    # bluegreen's CodeDeploy engine names the alarm (status, the rehearsal's summary).
    assert alarms_of(info) == ["green-5xx"]


def test_a_quiet_metric_lets_the_deployment_succeed(aws: Emulator) -> None:
    system = _alarmed_system(aws)
    deployment = system.deploy(system.register(system.app_image))
    _in_termination_wait(system, deployment)
    _put(aws, "HTTPCode_Target_5XX_Count", _green_dimensions(system), 1)  # under 5 a minute
    system.wait_for(lambda: system.deployment(deployment)["status"] == "Succeeded", step=30)
    assert "errorInformation" not in system.deployment(deployment)
    assert system.forwards(system.production) == {"demo-green": 100, "demo-blue": 0}


def test_alarms_that_cannot_be_read_stop_the_deployment_unless_ignored(aws: Emulator) -> None:
    system = _alarmed_system(aws)
    iam = aws.client("iam")
    role = system.codedeploy_role.rsplit("/", 1)[1]
    deny = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "cloudwatch:DescribeAlarms", "Resource": "*"}],
    }
    iam.put_role_policy(RoleName=role, PolicyName="no-alarms", PolicyDocument=json.dumps(deny))
    deployment = system.deploy(system.register(system.app_image))
    system.wait_for(lambda: system.deployment(deployment)["status"] == "Stopped", step=1, limit=60)
    error = system.deployment(deployment)["errorInformation"]
    assert error["code"] == "ALARM_ACTIVE"
    assert "AccessDenied" in error["message"]
    # ignorePollAlarmFailure: the deployment goes on.
    system.clients.codedeploy.update_deployment_group(
        applicationName="demo-app",
        currentDeploymentGroupName=GROUP,
        alarmConfiguration={
            "enabled": True,
            "ignorePollAlarmFailure": True,
            "alarms": [{"name": "green-5xx"}],
        },
    )
    aws.sleep(300)  # the stopped deployment's rollback ends
    again = system.deploy(system.register(system.app_image))
    system.wait_for(lambda: system.deployment(again)["status"] == "Succeeded", step=30)


def test_more_than_10_alarms_are_refused(aws: Emulator) -> None:
    system = build(aws, wait=False)
    too_many = {"enabled": True, "alarms": [{"name": f"a{i}"} for i in range(11)]}
    with pytest.raises(ClientError) as caught:
        system.clients.codedeploy.update_deployment_group(
            applicationName="demo-app",
            currentDeploymentGroupName=GROUP,
            alarmConfiguration=too_many,
        )
    assert caught.value.response["Error"] == {
        "Code": "AlarmsLimitExceededException",
        "Message": "The maximum number of alarms for a deployment group (10) was exceeded.",
    }
    ten = {"enabled": True, "alarms": [{"name": f"a{i}"} for i in range(10)]}
    system.clients.codedeploy.update_deployment_group(
        applicationName="demo-app", currentDeploymentGroupName=GROUP, alarmConfiguration=ten
    )


def test_set_alarm_state_stops_a_deployment_until_the_next_evaluation(aws: Emulator) -> None:
    # SetAlarmState: the state holds until the alarm's next evaluation; a person (or a
    # rehearsal) can trip a watched alarm by hand.
    system = _alarmed_system(aws)
    cloudwatch = aws.client("cloudwatch")
    deployment = system.deploy(system.register(system.app_image))
    _in_termination_wait(system, deployment)
    cloudwatch.set_alarm_state(AlarmName="green-5xx", StateValue="ALARM", StateReason="by hand")
    system.wait_for(lambda: system.deployment(deployment)["status"] == "Stopped", step=10, limit=90)
    assert alarms_of(system.deployment(deployment)) == ["green-5xx"]
    aws.sleep(120)
    assert _alarm(aws, "green-5xx")["StateValue"] == "OK"  # no data: notBreaching
    summaries = [
        h["HistorySummary"]
        for h in cloudwatch.describe_alarm_history(
            AlarmName="green-5xx", ScanBy="TimestampAscending"
        )["AlarmHistoryItems"]
    ]
    assert summaries[-2:] == ["Alarm updated from OK to ALARM", "Alarm updated from ALARM to OK"]
    with pytest.raises(ClientError) as caught:
        cloudwatch.set_alarm_state(AlarmName="nope", StateValue="ALARM", StateReason="x")
    assert caught.value.response["Error"]["Code"] == "ResourceNotFound"
