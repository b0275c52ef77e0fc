"""[verify.alarms] end to end: the stacks' alarms, the emulated CloudWatch evaluating them
from ALB metrics, and the ECS engine's deployment alarms rolling a release back during
its bake (ECS developer guide, "How CloudWatch alarms detect Amazon ECS deployment
failures"); `bluegreen status` names the alarm. The stacks are the real synthesized
templates, created through the emulated CloudFormation; releases start as the pipeline's
deploy step starts them (tests/ecs_support.py).

The metrics are put with PutMetricData as the load balancer would publish them
(AWS/ApplicationELB, dimensions LoadBalancer and TargetGroup: ALB user guide, "CloudWatch
metrics for your Application Load Balancer").
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ecs_support import CLUSTER, ECS_CONFIG, SERVICE, create_service_stacks, release
from emulated import Emulated, wired

from bluegreen import config as config_mod
from bluegreen.emulator import Emulator

ALARMS = "[verify.alarms]\nenabled = true\n"
ECS_ALARMS = ECS_CONFIG + 'reroute = "auto"\n[deployment.ecs]\nbake_minutes = 10\n' + ALARMS


@pytest.fixture
def native(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Emulated]:
    config = config_mod.parse(ECS_ALARMS)
    with wired(tmp_path, monkeypatch, capsys, config) as system:
        create_service_stacks(system, config)
        yield system


def _latest(aws: Emulator) -> dict[str, Any]:
    ecs = aws.client("ecs")
    arn = ecs.list_service_deployments(cluster=CLUSTER, service=SERVICE)["serviceDeployments"][0][
        "serviceDeploymentArn"
    ]
    found: dict[str, Any] = ecs.describe_service_deployments(serviceDeploymentArns=[arn])[
        "serviceDeployments"
    ][0]
    return found


def _green(aws: Emulator, task_definition: str) -> tuple[str, list[dict[str, str]]]:
    """The target group the release's tasks are in, and its metrics' dimensions."""
    service = aws.client("ecs").describe_services(cluster=CLUSTER, services=[SERVICE])["services"][
        0
    ]
    task_set = next(t for t in service["taskSets"] if t["taskDefinition"] == task_definition)
    group = task_set["loadBalancers"][0]["targetGroupArn"]
    balancer = aws.client("elbv2").describe_target_groups(TargetGroupArns=[group])["TargetGroups"][
        0
    ]["LoadBalancerArns"][0]
    return group.split("/")[1], [
        {"Name": "LoadBalancer", "Value": balancer.split(":loadbalancer/")[1]},
        {"Name": "TargetGroup", "Value": group.split(":", 5)[5]},
    ]


def _answers_5xx(aws: Emulator, dimensions: list[dict[str, str]], count: float) -> None:
    aws.client("cloudwatch").put_metric_data(
        Namespace="AWS/ApplicationELB",
        MetricData=[
            {
                "MetricName": "HTTPCode_Target_5XX_Count",
                "Dimensions": dimensions,
                "Value": count,
                "Timestamp": aws.now(),
            }
        ],
    )


def _serving(aws: Emulator) -> str:
    """The one target group production forwards to."""
    (serving,) = [name for name, weight in _production(aws).items() if weight > 0]
    return serving


def _production(aws: Emulator) -> dict[str, int]:
    outputs = aws.client("cloudformation").describe_stacks(StackName="sample3-dev-service")[
        "Stacks"
    ][0]["Outputs"]
    rule = next(o["OutputValue"] for o in outputs if o["OutputKey"] == "ProductionListenerRuleArn")
    found = aws.client("elbv2").describe_rules(RuleArns=[rule])["Rules"][0]
    groups = found["Actions"][0]["ForwardConfig"]["TargetGroups"]
    return {g["TargetGroupArn"].split("/")[1]: int(g["Weight"]) for g in groups}


def test_a_breaching_metric_in_the_bake_rolls_the_release_back(native: Emulated) -> None:
    aws = native.aws
    revision = release(aws, "two")
    native.until(lambda: _latest(aws).get("lifecycleStage") == "BAKE_TIME")
    green, dimensions = _green(aws, revision)
    assert _serving(aws) == green
    assert _latest(aws)["alarms"]["status"] == "MONITORING"
    _answers_5xx(aws, dimensions, 20)  # default threshold: 5 a minute
    native.until(lambda: _latest(aws)["status"] == "ROLLBACK_SUCCESSFUL", limit=600)
    found = _latest(aws)
    color = green.rsplit("-", 1)[1]
    alarm = f"sample3-dev-{color}-5xx"
    assert found["alarms"]["status"] == "TRIGGERED"
    assert found["alarms"]["triggeredAlarmNames"] == [alarm]
    assert alarm in found["rollback"]["reason"]
    assert _serving(aws) != green
    # The alarm's state change is in CloudWatch's history, at a minute boundary.
    history = aws.client("cloudwatch").describe_alarm_history(
        AlarmName=alarm, HistoryItemType="StateUpdate"
    )["AlarmHistoryItems"]
    assert history[0]["HistorySummary"] == "Alarm updated from OK to ALARM"
    # status names the alarm that rolled the release back.
    shown = native.cli("status", "--output", "json")
    assert shown.code == 0, shown.err
    deployment = json.loads(shown.out)["deployment"]
    assert deployment["alarms"] == [alarm]
    # ... and that it judged the new revision: its target group is the release's.
    assert deployment["new_target_group"] == green
    assert deployment["alarm_subjects"] == [{"alarm": alarm, "watches": green, "revision": "new"}]
    text = native.cli("status")
    assert f"rolled back by alarm {alarm}" in text.out
    assert f"{alarm} (target group {green}: the new revision's)" in text.out


def test_the_load_balancers_own_5xx_in_the_bake_rolls_the_release_back(
    native: Emulated,
) -> None:
    """502/503/504 answered by the load balancer itself (HTTPCode_ELB_5XX_Count, dimension
    LoadBalancer only: ALB user guide) trip the stack's load-balancer alarm, which ECS
    recommends for deployment alarms; status says it watched the load balancer."""
    aws = native.aws
    revision = release(aws, "two")
    native.until(lambda: _latest(aws).get("lifecycleStage") == "BAKE_TIME")
    _, dimensions = _green(aws, revision)
    balancer = [d for d in dimensions if d["Name"] == "LoadBalancer"]
    aws.client("cloudwatch").put_metric_data(
        Namespace="AWS/ApplicationELB",
        MetricData=[
            {
                "MetricName": "HTTPCode_ELB_5XX_Count",
                "Dimensions": balancer,
                "Value": 20,
                "Timestamp": aws.now(),
            }
        ],
    )
    native.until(lambda: _latest(aws)["status"] == "ROLLBACK_SUCCESSFUL", limit=600)
    assert _latest(aws)["alarms"]["triggeredAlarmNames"] == ["sample3-dev-elb-5xx"]
    text = native.cli("status")
    assert "rolled back by alarm sample3-dev-elb-5xx" in text.out
    assert "sample3-dev-elb-5xx (the load balancer: both revisions' traffic)" in text.out


def test_a_quiet_metric_lets_the_release_finish(native: Emulated) -> None:
    aws = native.aws
    revision = release(aws, "two")
    native.until(lambda: _latest(aws).get("lifecycleStage") == "BAKE_TIME")
    green, dimensions = _green(aws, revision)
    _answers_5xx(aws, dimensions, 2)  # under the threshold
    native.until(lambda: _latest(aws)["status"] == "SUCCESSFUL", limit=1200)
    found = _latest(aws)
    assert found["alarms"] == {
        "status": "MONITORING_COMPLETE",
        "alarmNames": found["deploymentConfiguration"]["alarms"]["alarmNames"],
        "triggeredAlarmNames": [],
    }
    assert _serving(aws) == green


def _state(aws: Emulator, alarm: str) -> str:
    found = aws.client("cloudwatch").describe_alarms(AlarmNames=[alarm])["MetricAlarms"]
    return str(found[0]["StateValue"])


def test_an_alarm_already_in_alarm_when_the_release_starts_is_not_watched(
    native: Emulated,
) -> None:
    """ECS developer guide, "How CloudWatch alarms detect Amazon ECS deployment failures":
    "If an alarm is in the ALARM state at the beginning of a deployment, Amazon ECS will not
    monitor alarms for the duration of that deployment" (the fix for an incident gets
    through). Production's target group answers 5xx; its alarm goes to ALARM; the release
    that follows finishes, and a later alarm during it changes nothing."""
    aws = native.aws
    service = aws.client("ecs").describe_services(cluster=CLUSTER, services=[SERVICE])["services"][
        0
    ]
    serving = service["taskSets"][0]["taskDefinition"]
    blue, dimensions = _green(aws, serving)  # the group production is on now
    alarm = f"sample3-dev-{blue.rsplit('-', 1)[1]}-5xx"
    _answers_5xx(aws, dimensions, 20)
    native.until(lambda: _state(aws, alarm) == "ALARM", limit=300)
    revision = release(aws, "two")
    native.until(lambda: _latest(aws).get("lifecycleStage") == "BAKE_TIME")
    green, green_dimensions = _green(aws, revision)
    _answers_5xx(aws, green_dimensions, 20)  # would roll back a watched deployment
    native.until(lambda: _latest(aws)["status"] == "SUCCESSFUL", limit=1200)
    found = _latest(aws)
    assert found["alarms"]["status"] == "DISABLED"
    assert found["alarms"]["triggeredAlarmNames"] == []
    went = aws.client("cloudwatch").describe_alarm_history(
        AlarmName=f"sample3-dev-{green.rsplit('-', 1)[1]}-5xx", HistoryItemType="StateUpdate"
    )["AlarmHistoryItems"]
    assert "Alarm updated from OK to ALARM" in [h["HistorySummary"] for h in went]
    assert _serving(aws) == green


def test_ecs_refuses_deployment_alarms_on_a_codedeploy_service(native: Emulated) -> None:
    from botocore.exceptions import ClientError

    ecs = native.aws.client("ecs")
    with pytest.raises(ClientError) as caught:
        ecs.create_service(
            cluster=CLUSTER,
            serviceName="other",
            deploymentController={"type": "CODE_DEPLOY"},
            deploymentConfiguration={
                "alarms": {"alarmNames": ["x"], "enable": True, "rollback": True}
            },
        )
    assert caught.value.response["Error"]["Code"] == "InvalidParameterException"
    assert "ECS deployment controller" in caught.value.response["Error"]["Message"]
    ecs.create_service(
        cluster=CLUSTER, serviceName="other", deploymentController={"type": "CODE_DEPLOY"}
    )
    with pytest.raises(ClientError) as caught:
        ecs.update_service(
            cluster=CLUSTER,
            service="other",
            deploymentConfiguration={
                "alarms": {"alarmNames": ["x"], "enable": True, "rollback": True}
            },
        )
    assert caught.value.response["Error"]["Code"] == "InvalidParameterException"
    # Disabled alarms are no use of the method: accepted.
    ecs.update_service(
        cluster=CLUSTER,
        service="other",
        deploymentConfiguration={
            "alarms": {"alarmNames": ["x"], "enable": False, "rollback": False}
        },
    )


_MINE = {"AlarmsLimitExceededException"}


def _alarm_refusals(aws: Emulator) -> list[Any]:
    """The refusals this issue added: CodeDeploy's alarm limit, ECS's deployment alarms on
    a non-ECS controller."""
    return [
        r
        for r in aws.refusals
        if r.code in _MINE or (r.code == "InvalidParameterException" and "alarms" in r.message)
    ]


def test_bluegreens_ecs_stacks_never_trip_the_alarm_refusals(native: Emulated) -> None:
    assert _alarm_refusals(native.aws) == []
    service = native.aws.client("ecs").describe_services(cluster=CLUSTER, services=[SERVICE])[
        "services"
    ][0]
    assert service["deploymentConfiguration"]["alarms"]["enable"] is True


def test_bluegreens_codedeploy_stacks_with_the_most_alarms_never_trip_the_refusals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bluegreen.config import MAX_ALARMS

    own = ["mine-1", "mine-2", "mine-3"]
    config = config_mod.parse(ALARMS + f"existing = {json.dumps(own)}\n")
    assert config.verify.alarms.count() == MAX_ALARMS
    with wired(tmp_path, monkeypatch, capsys, config) as system:
        cloudwatch = system.aws.client("cloudwatch")
        for name in own:
            cloudwatch.put_metric_alarm(
                AlarmName=name,
                Namespace="Custom",
                MetricName="Errors",
                Statistic="Sum",
                Period=60,
                EvaluationPeriods=1,
                Threshold=1,
                ComparisonOperator="GreaterThanOrEqualToThreshold",
            )
        done = system.cli("deploy", "--yes")
        assert done.code == 0, done.err
        group = system.aws.client("codedeploy").get_deployment_group(
            applicationName="sample3-dev-app", deploymentGroupName="sample3-dev-deployment-group"
        )["deploymentGroupInfo"]
        assert len(group["alarmConfiguration"]["alarms"]) == MAX_ALARMS
        # CODE_DEPLOY service: the deployment alarms are the group's, not the service's.
        service = system.aws.client("ecs").describe_services(cluster=CLUSTER, services=[SERVICE])[
            "services"
        ][0]
        assert "alarms" not in (service.get("deploymentConfiguration") or {})
        assert _alarm_refusals(system.aws) == []


def test_the_rehearsal_shows_alarm_state_changes_as_rows() -> None:
    from bluegreen.config import Config
    from bluegreen.rehearse.story import Options, run

    result = run(Options(Config.model_validate({"verify": {"alarms": {"enabled": True}}})))
    assert result.succeeded
    rows = [s for r in result.releases for s in r.steps if s.kind == "alarm"]
    # The stack's seven alarms leave INSUFFICIENT_DATA together once CloudWatch first
    # evaluates them (TreatMissingData notBreaching: no traffic is good): one row.
    assert [row.event for row in rows] == [
        "alarms sample3-dev-blue-5xx, sample3-dev-blue-p95, sample3-dev-blue-unhealthy, "
        "sample3-dev-elb-5xx, sample3-dev-green-5xx, sample3-dev-green-p95, "
        "sample3-dev-green-unhealthy: "
        "INSUFFICIENT_DATA → OK"
    ]
    assert rows[0].seconds % 60 == 0  # at an evaluation, not at the read
    assert rows[0].to_dict()["kind"] == "alarm"


@pytest.mark.parametrize(
    ("label", "whose"),
    [("Green", ": the new revision's"), ("Blue", ": production's, the previous revision")],
)
def test_codedeploy_stops_the_first_release_in_its_termination_wait_on_alarm(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    label: str,
    whose: str,
) -> None:
    """bluegreen's own CodeDeploy stacks: `deploy` leaves the first release in its
    termination wait (production on the new revision, the original kept); 5xx answers
    from the new revision's target group trip the stack's alarm, CodeDeploy stops the
    deployment and rolls it back, and `status` names the alarm and its target group. With
    the 5xx on the original's group (Blue: where production was when the release started,
    the previous revision) the release is stopped all the same (CodeDeploy watches every
    alarm of the group: "If any of the specified alarms are activated, the deployment
    stops", CodeDeploy user guide, "Monitoring deployments with CloudWatch alarms"), and
    status says the alarm judged the previous revision (review A2)."""
    config = config_mod.parse(ALARMS)
    with wired(tmp_path, monkeypatch, capsys, config) as system:
        aws = system.aws
        done = system.cli("deploy", "--yes")
        assert done.code == 0, done.err
        codedeploy = aws.client("codedeploy")
        (first,) = codedeploy.list_deployments(
            applicationName="sample3-dev-app", deploymentGroupName="sample3-dev-deployment-group"
        )["deployments"]
        info = codedeploy.get_deployment(deploymentId=first)["deploymentInfo"]
        assert info["status"] == "InProgress"  # the termination wait
        target = codedeploy.get_deployment_target(
            deploymentId=first, targetId=f"{CLUSTER}:{SERVICE}"
        )["deploymentTarget"]["ecsTarget"]
        green = next(t for t in target["taskSetsInfo"] if t["taskSetLabel"] == "Green")
        new_group = green["targetGroup"]["name"]
        watched = next(t for t in target["taskSetsInfo"] if t["taskSetLabel"] == label)
        group_name = watched["targetGroup"]["name"]
        group = aws.client("elbv2").describe_target_groups(Names=[group_name])["TargetGroups"][0]
        (alb,) = aws.client("elbv2").describe_load_balancers()["LoadBalancers"]
        balancer = alb["LoadBalancerArn"].split(":loadbalancer/")[1]
        dimensions = [
            {"Name": "LoadBalancer", "Value": balancer},
            {"Name": "TargetGroup", "Value": group["TargetGroupArn"].split(":", 5)[5]},
        ]
        _answers_5xx(aws, dimensions, 30)
        system.until(
            lambda: (
                codedeploy.get_deployment(deploymentId=first)["deploymentInfo"]["status"]
                == "Stopped"
            ),
            limit=300,
        )
        info = codedeploy.get_deployment(deploymentId=first)["deploymentInfo"]
        alarm = f"sample3-dev-{group_name.rsplit('-', 1)[1]}-5xx"
        assert info["errorInformation"]["code"] == "ALARM_ACTIVE"
        assert info["errorInformation"]["message"].endswith(f"Activated alarms: <{alarm}>")
        assert info["rollbackInfo"]["rollbackDeploymentId"]
        # status reads the latest deployment: CodeDeploy's rollback deployment, which
        # names the alarm that stopped the release it rolls back.
        rollback = info["rollbackInfo"]["rollbackDeploymentId"]
        system.until(
            lambda: (
                codedeploy.get_deployment(deploymentId=rollback)["deploymentInfo"]["status"]
                == "Succeeded"
            ),
            limit=300,
        )
        shown = system.cli("status")
        assert shown.code == 0, shown.err
        # it says it is a rollback, of which deployment, and what production runs again
        # (review U5: a bare "Succeeded" under the failure read as the release's own)
        assert f"deployment {rollback} (rollback of {first}): Succeeded" in shown.out
        assert "  production back on sample3-dev-task:1\n" in shown.out
        assert f"rolled back by alarm {alarm}" in shown.out
        as_json = json.loads(system.cli("status", "--output", "json").out)["deployment"]
        assert (as_json["id"], as_json["alarms"]) == (rollback, [alarm])
        assert as_json["new_target_group"] == new_group
        assert f"    {alarm} (target group {group_name}{whose})" in shown.out


def test_the_rehearsal_says_whose_revision_an_alarm_in_alarm_judged() -> None:
    """An alarm row going into ALARM names the alarm's target group and its role (green:
    the new revision; blue: production's previous one, which stops every release while it
    lasts: review A2), read from the alarm's own TargetGroup dimension."""
    from bluegreen.config import Config
    from bluegreen.rehearse.recorder import Recorder

    config = Config.model_validate({"verify": {"alarms": {"enabled": True}}})
    with Emulator("us-east-1") as aws:
        cloudwatch = aws.client("cloudwatch")
        balancer = {"Name": "LoadBalancer", "Value": "app/sample3-dev-alb/1"}
        for color in ("blue", "green"):
            cloudwatch.put_metric_alarm(
                AlarmName=f"sample3-dev-{color}-5xx",
                Namespace="AWS/ApplicationELB",
                MetricName="HTTPCode_Target_5XX_Count",
                Dimensions=[
                    balancer,
                    {"Name": "TargetGroup", "Value": f"targetgroup/sample3-dev-{color}/2"},
                ],
                Statistic="Sum",
                Period=60,
                EvaluationPeriods=1,
                Threshold=5,
                ComparisonOperator="GreaterThanOrEqualToThreshold",
            )
        cloudwatch.put_metric_alarm(
            AlarmName="sample3-dev-elb-5xx",
            Namespace="AWS/ApplicationELB",
            MetricName="HTTPCode_ELB_5XX_Count",
            Dimensions=[balancer],
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=5,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
        )
        recorder = Recorder(aws, config, lambda _: None)
        # The second release: the new revision is behind sample3-dev-blue.
        recorder._roles = {"sample3-dev-blue": "green", "sample3-dev-green": "blue"}
        assert recorder._judged(["sample3-dev-blue-5xx"]) == (
            " (on green (sample3-dev-blue), the new revision)"
        )
        assert recorder._judged(["sample3-dev-green-5xx"]) == (
            " (on blue (sample3-dev-green), production's previous revision)"
        )
        assert recorder._judged(["sample3-dev-elb-5xx"]) == (
            " (on the load balancer (both revisions' traffic))"
        )
