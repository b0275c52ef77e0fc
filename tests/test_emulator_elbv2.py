"""The emulated ELBv2: target health on the simulated clock, weighted forwards, refusals.

Sources: ALB guide "Health checks for your target groups" (awsdocs/
elb-application-load-balancers-user-guide target-group-health-checks.md: states,
reason codes, thresholds), "Deregistration delay" (load-balancer-target-groups.md), the
API model (botocore elbv2 2015-12-01).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError
from emulator_system import REGION, T0

from bluegreen.emulator import Emulator
from bluegreen.emulator.services.elbv2 import ProbeResult, TargetRef


@pytest.fixture
def aws() -> Iterator[Emulator]:
    with Emulator(REGION, start=T0) as emulator:
        yield emulator


class Balancer:
    """A VPC with two subnets, an ALB, and target groups created on demand."""

    def __init__(self, aws: Emulator, delay: int = 30) -> None:
        self.aws = aws
        self.clients = aws.clients()
        ec2 = self.clients.ec2
        self.vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        self.subnets = [
            ec2.create_subnet(VpcId=self.vpc, CidrBlock=cidr, AvailabilityZone=zone)["Subnet"][
                "SubnetId"
            ]
            for cidr, zone in (("10.0.0.0/18", f"{REGION}a"), ("10.0.64.0/18", f"{REGION}c"))
        ]
        # A third subnet in a zone the load balancer does not have.
        ec2.create_subnet(VpcId=self.vpc, CidrBlock="10.0.128.0/18", AvailabilityZone=f"{REGION}d")
        self.elbv2 = self.clients.elbv2
        self.alb = self.elbv2.create_load_balancer(Name="alb", Subnets=self.subnets)[
            "LoadBalancers"
        ][0]["LoadBalancerArn"]
        self.delay = delay

    def group(self, name: str) -> str:
        arn: str = self.elbv2.create_target_group(
            Name=name,
            Protocol="HTTP",
            Port=80,
            VpcId=self.vpc,
            TargetType="ip",
            HealthCheckPath="/health",
            HealthCheckIntervalSeconds=15,
            HealthyThresholdCount=2,
            UnhealthyThresholdCount=3,
        )["TargetGroups"][0]["TargetGroupArn"]
        self.elbv2.modify_target_group_attributes(
            TargetGroupArn=arn,
            Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": str(self.delay)}],
        )
        return arn

    def listener(self, *groups: tuple[str, int]) -> str:
        arn: str = self.elbv2.create_listener(
            LoadBalancerArn=self.alb,
            Protocol="HTTP",
            Port=80,
            DefaultActions=[_forward(*groups)],
        )["Listeners"][0]["ListenerArn"]
        return arn

    def health(self, group: str, **kwargs: Any) -> list[tuple[str, str, str]]:
        found = self.elbv2.describe_target_health(TargetGroupArn=group, **kwargs)
        return [
            (
                d["Target"]["Id"],
                d["TargetHealth"]["State"],
                d["TargetHealth"].get("Reason", ""),
            )
            for d in found["TargetHealthDescriptions"]
        ]


def _forward(*groups: tuple[str, int]) -> dict[str, Any]:
    return {
        "Type": "forward",
        "ForwardConfig": {
            "TargetGroups": [{"TargetGroupArn": arn, "Weight": weight} for arn, weight in groups]
        },
    }


def test_a_new_target_is_initial_until_it_passes_the_healthy_threshold_of_checks(
    aws: Emulator,
) -> None:
    # ALB guide: initial (Elb.RegistrationInProgress | Elb.InitialHealthChecking) until
    # the target passes HealthyThresholdCount (2) checks sent every 15 s; then healthy.
    lb = Balancer(aws)
    group = lb.group("g")
    lb.listener((group, 1))
    lb.elbv2.register_targets(TargetGroupArn=group, Targets=[{"Id": "10.0.0.50", "Port": 80}])
    assert lb.health(group) == [("10.0.0.50", "initial", "Elb.RegistrationInProgress")]
    aws.sleep(10)  # timing.ELB_REGISTRATION
    assert lb.health(group) == [("10.0.0.50", "initial", "Elb.InitialHealthChecking")]
    aws.sleep(29)  # first check at 25 s: one pass is not enough
    assert lb.health(group) == [("10.0.0.50", "initial", "Elb.InitialHealthChecking")]
    aws.sleep(1)  # second check at 40 s
    assert lb.health(group) == [("10.0.0.50", "healthy", "")]


def test_a_group_no_listener_uses_is_unused_and_not_checked_until_a_listener_forwards(
    aws: Emulator,
) -> None:
    # ALB guide: unused / Target.NotInUse when "the target group is not used in a listener
    # rule"; no health check is sent before "you ... specify its target group in a
    # listener rule".
    lb = Balancer(aws)
    group = lb.group("g")
    probes: list[str] = []

    def prober(target: TargetRef, at: datetime) -> ProbeResult:
        probes.append(target.id)
        return ProbeResult(True)

    lb.elbv2.register_targets(TargetGroupArn=group, Targets=[{"Id": "10.0.0.50", "Port": 80}])
    aws.service("elbv2").set_prober(group, "10.0.0.50", 80, prober)
    aws.sleep(300)
    assert lb.health(group) == [("10.0.0.50", "unused", "Target.NotInUse")]
    assert probes == []
    lb.listener((group, 1))
    aws.sleep(1)
    assert lb.health(group)[0][1] == "initial"
    aws.sleep(30)
    assert lb.health(group) == [("10.0.0.50", "healthy", "")]
    assert probes == ["10.0.0.50", "10.0.0.50"]


def test_a_group_forwarded_to_with_weight_0_is_in_use_and_its_weights_are_kept(
    aws: Emulator,
) -> None:
    # A weight-0 group stays in the forward as written (CodeDeploy leaves {new:100,
    # old:0}: traveloka/terraform-aws-alb-single-listener PR #44), and is health-checked.
    lb = Balancer(aws)
    blue, green = lb.group("blue"), lb.group("green")
    listener = lb.listener((blue, 100), (green, 0))
    action = lb.elbv2.describe_listeners(ListenerArns=[listener])["Listeners"][0]["DefaultActions"][
        0
    ]
    weights = {g["TargetGroupArn"]: g["Weight"] for g in action["ForwardConfig"]["TargetGroups"]}
    assert weights == {blue: 100, green: 0}
    lb.elbv2.register_targets(TargetGroupArn=green, Targets=[{"Id": "10.0.0.60", "Port": 80}])
    aws.sleep(40)
    assert lb.health(green) == [("10.0.0.60", "healthy", "")]


def test_a_target_in_a_zone_the_load_balancer_lacks_is_unused(aws: Emulator) -> None:
    # ALB guide, Target.NotInUse: "Target is in an Availability Zone that is not enabled
    # for the load balancer". 10.0.128.0/18 is the subnet in zone d.
    lb = Balancer(aws)
    group = lb.group("g")
    lb.listener((group, 1))
    lb.elbv2.register_targets(
        TargetGroupArn=group,
        Targets=[{"Id": "10.0.128.20", "Port": 80}, {"Id": "10.0.0.20", "Port": 80}],
    )
    aws.sleep(60)
    assert sorted(lb.health(group)) == [
        ("10.0.0.20", "healthy", ""),
        ("10.0.128.20", "unused", "Target.NotInUse"),
    ]
    described = lb.elbv2.describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"]
    unused = next(d for d in described if d["Target"]["Id"] == "10.0.128.20")
    assert unused["TargetHealth"]["Description"] == (
        "Target is in an Availability Zone that is not enabled for the load balancer"
    )


def test_a_failing_target_turns_unhealthy_after_the_unhealthy_threshold_and_recovers(
    aws: Emulator,
) -> None:
    # ALB guide: UnhealthyThresholdCount (3) consecutive failures take a target out of
    # service; HealthyThresholdCount (2) consecutive successes put it back.
    lb = Balancer(aws)
    group = lb.group("g")
    lb.listener((group, 1))
    answers = {"ok": True}

    def prober(target: TargetRef, at: datetime) -> ProbeResult:
        if answers["ok"]:
            return ProbeResult(True)
        return ProbeResult(False, 502, "Target.ResponseCodeMismatch")

    aws.service("elbv2").set_prober(group, "10.0.0.50", 80, prober)
    lb.elbv2.register_targets(TargetGroupArn=group, Targets=[{"Id": "10.0.0.50", "Port": 80}])
    aws.sleep(40)
    assert lb.health(group) == [("10.0.0.50", "healthy", "")]
    answers["ok"] = False
    aws.sleep(30)  # two failures: still healthy
    assert lb.health(group) == [("10.0.0.50", "healthy", "")]
    aws.sleep(15)
    assert lb.health(group) == [("10.0.0.50", "unhealthy", "Target.ResponseCodeMismatch")]
    described = lb.elbv2.describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"]
    assert (
        described[0]["TargetHealth"]["Description"]
        == "Health checks failed with these codes: [502]"
    )
    answers["ok"] = True
    aws.sleep(30)
    assert lb.health(group) == [("10.0.0.50", "healthy", "")]


def test_a_deregistered_target_drains_for_the_delay_then_is_gone(aws: Emulator) -> None:
    # "The initial state of a deregistering target is draining ... the status of the
    # target is displayed as draining until the deregistration delay timeout expires"
    # (load-balancer-target-groups.md); here deregistration_delay.timeout_seconds = 30.
    lb = Balancer(aws, delay=30)
    group = lb.group("g")
    lb.listener((group, 1))
    lb.elbv2.register_targets(TargetGroupArn=group, Targets=[{"Id": "10.0.0.50", "Port": 80}])
    aws.sleep(40)
    lb.elbv2.deregister_targets(TargetGroupArn=group, Targets=[{"Id": "10.0.0.50", "Port": 80}])
    assert lb.health(group) == [("10.0.0.50", "draining", "Target.DeregistrationInProgress")]
    aws.sleep(29)
    assert lb.health(group) == [("10.0.0.50", "draining", "Target.DeregistrationInProgress")]
    aws.sleep(1)
    assert lb.health(group) == []
    asked = lb.health(group, Targets=[{"Id": "10.0.0.50", "Port": 80}])
    assert asked == [("10.0.0.50", "unused", "Target.NotRegistered")]


def test_deregistering_a_target_the_group_does_not_hold_is_refused(aws: Emulator) -> None:
    lb = Balancer(aws)
    group = lb.group("g")
    with pytest.raises(ClientError) as caught:
        lb.elbv2.deregister_targets(TargetGroupArn=group, Targets=[{"Id": "10.0.0.99", "Port": 80}])
    assert caught.value.response["Error"]["Code"] == "InvalidTarget"
    lb.elbv2.register_targets(TargetGroupArn=group, Targets=[{"Id": "10.0.0.99", "Port": 80}])
    lb.elbv2.deregister_targets(TargetGroupArn=group, Targets=[{"Id": "10.0.0.99", "Port": 80}])


def test_an_unknown_target_group_is_refused(aws: Emulator) -> None:
    lb = Balancer(aws)
    missing = lb.group("g").replace("/g/", "/gone/")
    with pytest.raises(ClientError) as caught:
        lb.elbv2.describe_target_health(TargetGroupArn=missing)
    assert caught.value.response["Error"]["Code"] == "TargetGroupNotFound"
    assert caught.value.response["Error"]["Message"] == "One or more target groups not found"


@pytest.mark.parametrize("weight", [0, 999])
def test_forward_weights_from_0_to_999_are_accepted(aws: Emulator, weight: int) -> None:
    lb = Balancer(aws)
    listener = lb.listener((lb.group("a"), 1), (lb.group("b"), 1))
    lb.elbv2.modify_listener(
        ListenerArn=listener,
        DefaultActions=[_forward((lb.group("c"), weight), (lb.group("d"), 1))],
    )


@pytest.mark.parametrize("weight", [-1, 1000])
def test_forward_weights_outside_0_to_999_are_refused(aws: Emulator, weight: int) -> None:
    # ALB guide, forward actions: each target group weight is a value from 0 to 999.
    lb = Balancer(aws)
    a, b = lb.group("a"), lb.group("b")
    listener = lb.listener((a, 1), (b, 1))
    with pytest.raises(ClientError) as caught:
        lb.elbv2.modify_listener(
            ListenerArn=listener, DefaultActions=[_forward((a, weight), (b, 1))]
        )
    error = caught.value.response["Error"]
    assert error["Code"] == "ValidationError"
    assert "defaultActions.1.member.forwardConfig.targetGroups.1.member.weight" in error["Message"]
    weights = lb.elbv2.describe_listeners(ListenerArns=[listener])["Listeners"][0][
        "DefaultActions"
    ][0]["ForwardConfig"]["TargetGroups"]
    assert [g["Weight"] for g in weights] == [1, 1]  # nothing changed


def test_a_target_group_a_listener_forwards_to_cannot_be_deleted(aws: Emulator) -> None:
    lb = Balancer(aws)
    group = lb.group("g")
    listener = lb.listener((group, 1))
    with pytest.raises(ClientError) as caught:
        lb.elbv2.delete_target_group(TargetGroupArn=group)
    assert caught.value.response["Error"]["Code"] == "ResourceInUse"
    lb.elbv2.delete_listener(ListenerArn=listener)
    lb.elbv2.delete_target_group(TargetGroupArn=group)
    assert lb.elbv2.describe_target_groups()["TargetGroups"] == []
