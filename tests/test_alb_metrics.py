"""The load balancer's CloudWatch metrics, from the requests its listeners really served.

The scaffold's service stack runs in an emulated account with the data plane on; requests
go through the production listener's local server; a simulated minute later the emulated
CloudWatch holds the AWS/ApplicationELB metrics the stack's alarms watch, with AWS's
names, dimensions and units ("CloudWatch metrics for your Application Load Balancer",
https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html),
read back through the CloudWatch API (GetMetricStatistics, ListMetrics).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dataplane_support import (
    BLUE,
    T0,
    create_service_stack,
    get,
    health_states,
    listener_address,
    plane_fixture,  # noqa: F401 (the plane fixture)
    until,
)

from bluegreen.config import Config
from bluegreen.emulator import Emulator
from bluegreen.stacks import build


def _dimensions(aws: Emulator) -> list[dict[str, str]]:
    elbv2 = aws.client("elbv2")
    group = elbv2.describe_target_groups(Names=[BLUE])["TargetGroups"][0]["TargetGroupArn"]
    balancer = elbv2.describe_load_balancers()["LoadBalancers"][0]["LoadBalancerArn"]
    return [
        # "targetgroup/<name>/<id>" and "app/<name>/<id>": the final portion of each ARN.
        {"Name": "TargetGroup", "Value": group.split(":", 5)[5]},
        {"Name": "LoadBalancer", "Value": balancer.split(":loadbalancer/", 1)[1]},
    ]


def _statistics(aws: Emulator, metric: str, dimensions: list[dict[str, str]], **kw: Any) -> Any:
    return aws.client("cloudwatch").get_metric_statistics(
        Namespace="AWS/ApplicationELB",
        MetricName=metric,
        Dimensions=dimensions,
        StartTime=T0,
        EndTime=aws.now() + timedelta(minutes=5),
        Period=3600,
        **kw,
    )["Datapoints"]


def test_requests_served_become_the_metrics_the_alarms_watch(plane: Emulator) -> None:
    create_service_stack(plane)
    until(plane, lambda: health_states(plane) == ["healthy"])
    address = listener_address(plane, 80)
    answers = [get(address)[0] for _ in range(4)] + [get(address, "/health")[0]]
    assert answers == [200] * 5
    plane.sleep(61)  # the minute is over: the load balancer has sent its metrics
    dimensions = _dimensions(plane)

    [count] = _statistics(plane, "RequestCount", dimensions, Statistics=["Sum"])
    assert (count["Sum"], count["Unit"]) == (5.0, "Count")
    [ok] = _statistics(
        plane, "HTTPCode_Target_2XX_Count", dimensions, Statistics=["Sum", "Maximum"]
    )
    assert (ok["Sum"], ok["Maximum"]) == (5.0, 1.0)  # "Minimum, Maximum, Average all return 1"
    assert _statistics(plane, "HTTPCode_Target_5XX_Count", dimensions, Statistics=["Sum"]) == []
    [latency] = _statistics(
        plane, "TargetResponseTime", dimensions, Statistics=["SampleCount", "Maximum"]
    )
    # One value a request, in seconds: percentiles (the p95 alarm) can be computed.
    assert latency["SampleCount"] == 5.0 and latency["Unit"] == "Seconds"
    assert 0 < latency["Maximum"] < 10
    [healthy] = _statistics(plane, "HealthyHostCount", dimensions, Statistics=["Maximum"])
    [unhealthy] = _statistics(plane, "UnHealthyHostCount", dimensions, Statistics=["Maximum"])
    assert (healthy["Maximum"], unhealthy["Maximum"]) == (1.0, 0.0)

    # Exactly the series the stack's alarms name (namespace, metric, both dimensions).
    listed = plane.client("cloudwatch").list_metrics(Namespace="AWS/ApplicationELB")["Metrics"]
    names = {m["MetricName"] for m in listed}
    assert names >= {"RequestCount", "HTTPCode_Target_2XX_Count", "TargetResponseTime"}
    assert all(
        sorted(d["Name"] for d in m["Dimensions"]) == ["LoadBalancer", "TargetGroup"]
        for m in listed
    )
    config = Config.model_validate({"verify": {"alarms": {"enabled": True}}})
    service = next(s for s in build(config) if s.key == "service")
    alarms = [
        r["Properties"]
        for r in service.template.to_dict()["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
    ]
    watched = {a["MetricName"]: a.get("Statistic") or a.get("ExtendedStatistic") for a in alarms}
    assert watched == {
        "HTTPCode_Target_5XX_Count": "Sum",  # published once a target answers 5xx
        "UnHealthyHostCount": "Maximum",
        "TargetResponseTime": "p95",
        # published once the load balancer itself answers 5xx; per load balancer only
        "HTTPCode_ELB_5XX_Count": "Sum",
    }
    assert {"UnHealthyHostCount", "TargetResponseTime"} <= names
    for alarm in alarms:
        assert (alarm["Namespace"], alarm["Period"]) == ("AWS/ApplicationELB", 60)
        expected = ["LoadBalancer"]
        if alarm["MetricName"] != "HTTPCode_ELB_5XX_Count":
            expected.append("TargetGroup")
        assert sorted(d["Name"] for d in alarm["Dimensions"]) == expected
