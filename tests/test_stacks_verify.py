"""Issue 11's resources in the synthesized templates, read back from the YAML that gets
deployed: the hook function (one code for both engines), its prober, the alarms and
their wiring (tests/test_lint.py lints the same configs, tests/configs.py)."""

from __future__ import annotations

import fnmatch
import re
from typing import Any

import pytest
import yaml
from configs import CONFIGS, ECS_CONFIGS

from bluegreen import appkit
from bluegreen import config as config_mod
from bluegreen.aws.cfn import TEMPLATE_BODY_LIMIT
from bluegreen.names import Names
from bluegreen.stacks import build
from bluegreen.stacks import verification as verify_stacks
from bluegreen.verification import package

# AWSCodeDeployRoleForECSLimited's lambda:InvokeFunction resource (AWS managed policy
# reference, AWSCodeDeployRoleForECSLimited, policy version 1): the only functions the
# deployment group's role may invoke.
LIMITED_POLICY_FUNCTIONS = "arn:aws:lambda:*:*:function:CodeDeployHook_*"


def templates(text: str) -> tuple[config_mod.Config, dict[str, dict[str, Any]], dict[str, str]]:
    config = config_mod.parse(text)
    stacks = build(config)
    texts = {s.key: s.to_yaml() for s in stacks}
    return config, {k: yaml.safe_load(v) for k, v in texts.items()}, texts


def of_type(template: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_}


def statements(role: dict[str, Any]) -> list[tuple[list[str], list[Any]]]:
    policies = role["Properties"].get("Policies") or []
    return [
        (s["Action"], s["Resource"]) for p in policies for s in p["PolicyDocument"]["Statement"]
    ]


def test_the_seeds_config_adds_nothing() -> None:
    _, stacks, _ = templates("")
    service = stacks["service"]
    assert not of_type(service, "AWS::Lambda::Function")
    assert not of_type(service, "AWS::CloudWatch::Alarm")
    group = next(iter(of_type(stacks["pipeline"], "AWS::CodeDeploy::DeploymentGroup").values()))
    assert "AlarmConfiguration" not in group["Properties"]
    assert "Hooks" not in appkit.render(config_mod.parse(""))["appspec.yml"]


@pytest.mark.parametrize(
    "name", ["verify-direct", "verify-prober", "ecs-verify-prober", "ecs-verify-direct-auto"]
)
def test_the_hook_function(name: str) -> None:
    text = {**CONFIGS, **ECS_CONFIGS}[name]
    config, stacks, texts = templates(text)
    names = Names.of(config)
    service = stacks["service"]
    function = service["Resources"]["VerifyHookFunction"]["Properties"]
    # the CodeDeploy role (the Limited managed policy) may invoke it: its ARN matches
    arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function['FunctionName']}"
    assert fnmatch.fnmatchcase(arn, LIMITED_POLICY_FUNCTIONS)
    assert len(function["FunctionName"]) <= 64
    assert function["FunctionName"] == verify_stacks.hook_function_name(names)
    # one code for both engines: hook.py after checks.py, and the config's checks
    assert function["Code"] == {"ZipFile": package.source(config)}
    assert function["Handler"] == "index.handler" and function["Runtime"] == "python3.12"
    namespace: dict[str, Any] = {}
    exec(compile(function["Code"]["ZipFile"], "index.py", "exec"), namespace)  # noqa: S102
    assert namespace["PLAN"]["checks"] == [c.model_dump() for c in config.verify.checks]
    assert 60 < function["Timeout"] <= 900
    assert function["LoggingConfig"] == {"LogGroup": {"Ref": "VerifyHookLogGroup"}}
    # reproducible, no account id, within CloudFormation's template body limit
    assert texts["service"] == templates(text)[2]["service"]
    assert not re.search(r"\b\d{12}\b", texts["service"])
    assert len(texts["service"].encode()) <= TEMPLATE_BODY_LIMIT
    # least privilege: its log group, and per engine and network path what it calls
    role = service["Resources"]["VerifyHookRole"]
    granted = dict((tuple(a), r) for a, r in statements(role))
    assert granted[("logs:CreateLogStream", "logs:PutLogEvents")] == [
        {"Fn::GetAtt": ["VerifyHookLogGroup", "Arn"]}
    ]
    ecs = config.deployment.engine == "ecs"
    report = ("codedeploy:PutLifecycleEventHookExecutionStatus",)
    if ecs:
        assert report not in granted  # ECS reads the returned hookStatus
        invoke = service["Resources"]["VerifyHookInvokeRole"]
        trust = invoke["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
        assert trust["Principal"] == {"Service": ["ecs.amazonaws.com"]}
        assert statements(invoke) == [
            (["lambda:InvokeFunction"], [{"Fn::GetAtt": ["VerifyHookFunction", "Arn"]}])
        ]
    else:
        group = f"deploymentgroup:{names.codedeploy_application}/{names.deployment_group}"
        assert granted[report] == [
            {
                "Fn::Sub": "arn:${AWS::Partition}:codedeploy:${AWS::Region}:${AWS::AccountId}:"
                + group
            }
        ]
        appspec = yaml.safe_load(appkit.render(config)["appspec.yml"])
        assert appspec["Hooks"] == [{"AfterAllowTestTraffic": function["FunctionName"]}]
    if ecs:
        # the hook tells the service's creation from a release (hook.first_revision)
        assert granted[("ecs:DescribeServiceDeployments",)] == [
            {
                "Fn::Sub": "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:"
                f"service-deployment/{names.cluster}/{names.service}/*"
            }
        ]
    variables = function["Environment"]["Variables"]
    # both paths read the test listener's group health (the warm-up; the prober's targets)
    assert variables.pop("BLUEGREEN_TEST_LISTENER_ARN") == {"Ref": "TestListener"}
    assert granted[
        ("elasticloadbalancing:DescribeRules", "elasticloadbalancing:DescribeTargetHealth")
    ] == ["*"]
    if "0.0.0.0/0" in config.listeners.test_cidrs:
        port = config.listeners.test_port
        suffix = "" if port == 80 else f":{port}"
        assert variables == {
            "BLUEGREEN_TEST_URL": {"Fn::Sub": "http://${LoadBalancer.DNSName}" + suffix}
        }
        assert "VerifyProberFunction" not in service["Resources"]
        assert len(granted) == 3
    else:
        assert variables == {"BLUEGREEN_PROBER": {"Ref": "VerifyProberFunction"}}
        assert granted[("lambda:InvokeFunction",)] == [
            {"Fn::GetAtt": ["VerifyProberFunction", "Arn"]}
        ]


def test_the_prober_reaches_only_the_tasks_app_port() -> None:
    config, stacks, _ = templates(ECS_CONFIGS["ecs-verify-prober"])
    resources = stacks["service"]["Resources"]
    prober = resources["VerifyProberFunction"]["Properties"]
    assert prober["Handler"] == "index.handler"
    assert prober["Code"] == {"ZipFile": package.source(None)}  # prober.py: one request
    assert "PLAN" not in prober["Code"]["ZipFile"]
    assert prober["VpcConfig"] == {
        "SubnetIds": [{"Ref": "PublicSubnet1"}, {"Ref": "PublicSubnet2"}],
        "SecurityGroupIds": [{"Ref": "VerifyProberSecurityGroup"}],
    }
    port = config.app.port
    group = resources["VerifyProberSecurityGroup"]["Properties"]
    assert "SecurityGroupIngress" not in group
    (egress,) = group["SecurityGroupEgress"]
    assert (egress["FromPort"], egress["ToPort"]) == (port, port)
    assert egress["DestinationSecurityGroupId"] == {"Ref": "TaskSecurityGroup"}
    ingress = resources["TaskIngressFromVerifyProber"]["Properties"]
    assert ingress["GroupId"] == {"Ref": "TaskSecurityGroup"}
    assert ingress["SourceSecurityGroupId"] == {"Ref": "VerifyProberSecurityGroup"}
    assert (ingress["FromPort"], ingress["ToPort"]) == (port, port)
    # the test listener stays closed to everyone but test_cidrs
    alb = resources["LoadBalancerSecurityGroup"]["Properties"]["SecurityGroupIngress"]
    test = [r["CidrIp"] for r in alb if r["FromPort"] == config.listeners.test_port]
    assert test == config.listeners.test_cidrs


def test_ecs_hook_timeout_covers_long_checks_and_their_callbacks() -> None:
    """100 requests at 30 s and 99 pauses of 1 s = 3099 s of checks, more than one
    invocation (900 s): ECS invokes the hook again after callback_seconds, and the hook's
    timeout leaves room."""
    config = config_mod.parse(ECS_CONFIGS["ecs-verify-prober"])
    assert config.verify.worst_case_seconds() == 3099
    assert verify_stacks.timeout_seconds(config) == 900
    # the warm-up (the default health check, 5 s x 3) first: 3114 s; ceil(3114 / 840) = 4
    # invocations, 4 x 20 s of callbacks: ceil(3194 / 60) = 54 minutes, and 10 minutes of
    # room
    assert config_mod.verify_seconds(config) == 3114
    assert verify_stacks.ecs_hook_timeout_minutes(config) == 54 + 10


@pytest.mark.parametrize("name", ["verify-direct", "ecs-verify-prober"])
def test_alarms_on_both_target_groups_and_their_wiring(name: str) -> None:
    config, stacks, _ = templates({**CONFIGS, **ECS_CONFIGS}[name])
    settings = config.verify.alarms
    alarms = of_type(stacks["service"], "AWS::CloudWatch::Alarm")
    assert len(alarms) == 7
    # The load balancer's own 5xx: LoadBalancer is the metric's only dimension (ALB user
    # guide, "CloudWatch metrics for your Application Load Balancer").
    elb = alarms["VerifyLoadBalancerHttp5xxAlarm"]["Properties"]
    assert elb["MetricName"] == "HTTPCode_ELB_5XX_Count"
    assert elb["Dimensions"] == [
        {"Name": "LoadBalancer", "Value": {"Fn::GetAtt": ["LoadBalancer", "LoadBalancerFullName"]}}
    ]
    assert (elb["Statistic"], elb["Period"], elb["EvaluationPeriods"]) == ("Sum", 60, 1)
    assert elb["TreatMissingData"] == "notBreaching"
    assert elb["Threshold"] == settings.http_5xx_per_minute
    assert elb["AlarmName"] == f"{Names.of(config).prefix}-elb-5xx"
    found = {}
    for name, alarm in alarms.items():
        if name == "VerifyLoadBalancerHttp5xxAlarm":
            continue
        p = alarm["Properties"]
        dimensions = {d["Name"]: d["Value"] for d in p["Dimensions"]}
        assert dimensions["LoadBalancer"] == {
            "Fn::GetAtt": ["LoadBalancer", "LoadBalancerFullName"]
        }
        group = dimensions["TargetGroup"]["Fn::GetAtt"]
        assert group[1] == "TargetGroupFullName"
        assert p["Namespace"] == "AWS/ApplicationELB" and p["Period"] == 60
        assert p["TreatMissingData"] == "notBreaching"
        statistic = p.get("Statistic") or p["ExtendedStatistic"]
        found[(group[0], p["MetricName"])] = (statistic, p["Threshold"], p["AlarmName"])
    for color in ("Blue", "Green"):
        tg = f"{color}TargetGroup"
        prefix = f"{Names.of(config).prefix}-{color.lower()}"
        assert found[(tg, "HTTPCode_Target_5XX_Count")] == (
            "Sum",
            settings.http_5xx_per_minute,
            f"{prefix}-5xx",
        )
        assert found[(tg, "UnHealthyHostCount")] == (
            "Maximum",
            settings.unhealthy_hosts,
            f"{prefix}-unhealthy",
        )
        assert found[(tg, "TargetResponseTime")] == (
            "p95",
            settings.p95_latency_ms / 1000,
            f"{prefix}-p95",
        )
    names = verify_stacks.alarm_names(config)
    assert set(names[:7]) == {a["Properties"]["AlarmName"] for a in alarms.values()}
    assert names[7:] == settings.existing
    if config.deployment.engine == "ecs":
        service = stacks["service"]["Resources"]["Service"]
        assert service["Properties"]["DeploymentConfiguration"]["Alarms"]["AlarmNames"] == names
        assert set(alarms) <= set(service["DependsOn"])
    else:
        (group,) = of_type(stacks["pipeline"], "AWS::CodeDeploy::DeploymentGroup").values()
        assert group["Properties"]["AlarmConfiguration"] == {
            "Enabled": True,
            "Alarms": [{"Name": n} for n in names],
            "IgnorePollAlarmFailure": settings.ignore_poll_failure,
        }
        assert (
            "DEPLOYMENT_STOP_ON_ALARM" in group["Properties"]["AutoRollbackConfiguration"]["Events"]
        )


def test_existing_alarms_alone_are_wired_without_stack_alarms() -> None:
    config, stacks, _ = templates('[verify.alarms]\nexisting = ["mine"]\n')
    assert not of_type(stacks["service"], "AWS::CloudWatch::Alarm")
    (group,) = of_type(stacks["pipeline"], "AWS::CodeDeploy::DeploymentGroup").values()
    assert group["Properties"]["AlarmConfiguration"]["Alarms"] == [{"Name": "mine"}]


def test_the_largest_verify_config_stays_within_the_template_body_limit() -> None:
    """The checks at their size limit, the prober (the code twice), every alarm with the
    longest names, the longest project prefix: still within 51,200 bytes."""
    checks: list[config_mod.CheckConfig] = []
    while True:
        candidate = [*checks, config_mod.CheckConfig(path="/" + "p" * 150, body="b" * 40)]
        if config_mod.checks_size(candidate) > config_mod.MAX_CHECKS_SIZE or len(candidate) > 10:
            break
        checks = candidate
    if len(checks) < 10:  # top up to the size limit with one more check's body
        body = ""
        while True:
            filler = config_mod.CheckConfig(path="/q", body=body + "b")
            if config_mod.checks_size([*checks, filler]) > config_mod.MAX_CHECKS_SIZE:
                break
            body += "b"
        if body:
            checks = [*checks, config_mod.CheckConfig(path="/q", body=body)]
    inline = ", ".join(
        f'{{ path = "{c.path}", body = "{c.body}", count = 1, max_latency_ms = 1000 }}'
        for c in checks
    )
    text = f"""
[project]
name = "abcdefghijklmnopqrs"
environment = "prod"
[listeners]
test_cidrs = ["203.0.113.0/24"]
[deployment]
engine = "ecs"
[verify]
checks = [{inline}]
[verify.alarms]
enabled = true
existing = {[str(n) * 255 for n in range(3)]!r}
""".replace("'", '"')
    config, _, texts = templates(text)
    # within one minimal check (about 80 characters written out) of the limit
    assert config_mod.checks_size(config.verify.checks) > config_mod.MAX_CHECKS_SIZE - 100
    assert len(texts["service"].encode()) <= TEMPLATE_BODY_LIMIT
