"""The service stack's part of issue 11: the hook function, its prober, and the alarms.

Resources (only when ``verify`` asks for them, so the seed's template is unchanged):

- ``VerifyHookFunction`` named ``CodeDeployHook_<prefix>-verify``: CodeDeploy's
  AfterAllowTestTraffic hook (named in appspec.yml) and the ECS engine's
  POST_TEST_TRAFFIC_SHIFT lifecycle hook, one code (:mod:`bluegreen.verification.hook`)
  inline in the template (no S3 object, no account id). The name fits the only functions
  the deployment group's role may invoke: AWSCodeDeployRoleForECSLimited allows
  lambda:InvokeFunction on ``arn:aws:lambda:*:*:function:CodeDeployHook_*`` (AWS managed
  policy reference, AWSCodeDeployRoleForECSLimited).
- ``VerifyProberFunction`` (test_cidrs narrowed): the same code inside the VPC
  (:mod:`bluegreen.verification.network` explains the path and its cost).
- Six CloudWatch alarms (``verify.alarms.enabled``): 5xx answers, unhealthy targets and
  the p95 response time of each target group (the new revision is behind one of them,
  and which one alternates between releases). Metrics of the AWS/ApplicationELB
  namespace with the LoadBalancer and TargetGroup dimensions: HTTPCode_Target_5XX_Count
  (statistic Sum), UnHealthyHostCount (Maximum), TargetResponseTime (seconds, percentile
  statistics); "Elastic Load Balancing reports metrics to CloudWatch only when requests
  are flowing through the load balancer" and health-check requests are excluded, so no
  data is "not breaching" (CloudWatch metrics for your Application Load Balancer,
  https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from troposphere import GetAtt, Ref, Sub, Template, awslambda, cloudwatch, ec2, iam
from troposphere import elasticloadbalancingv2 as elb

from bluegreen.config import (
    LAMBDA_MAX_TIMEOUT_SECONDS,
    LOAD_BALANCER_ALARMS,
    TARGET_GROUP_ALARMS,
    Config,
    verify_seconds,
)
from bluegreen.names import Names
from bluegreen.stacks.common import arn, log_group
from bluegreen.stacks.iam import allow, service_role
from bluegreen.verification import network, package

HOOK_STAGE = "POST_TEST_TRAFFIC_SHIFT"
"""ECS runs the hook when "The test traffic shift is complete. The green service revision
handles 100% of the test traffic" (DeploymentLifecycleHook.lifecycleStages, ECS API
reference); CodeDeploy's counterpart is AfterAllowTestTraffic ("Use to run tasks after
the test listener serves traffic to the replacement task set": AppSpec 'hooks' section
for an Amazon ECS deployment)."""

CODEDEPLOY_HOOK_EVENT = "AfterAllowTestTraffic"

LAMBDA_MEMORY_MB = 128
"""The hook only waits on sockets: the smallest memory size is enough."""

_ALARM_KINDS = tuple(TARGET_GROUP_ALARMS)


def hook_function_name(names: Names) -> str:
    """``CodeDeployHook_<prefix>-verify``: 15 + at most 26 + 7 characters, within Lambda's
    64 (the prefix is bounded by the target group names' 32)."""
    return f"CodeDeployHook_{names.prefix}-verify"


def prober_function_name(names: Names) -> str:
    return f"{names.prefix}-verify-prober"


def hook_log_group(names: Names) -> str:
    return f"/bluegreen/{names.prefix}/verify"


def prober_log_group(names: Names) -> str:
    return f"/bluegreen/{names.prefix}/verify-prober"


def stack_alarm_names(config: Config) -> list[str]:
    """The alarms the service stack creates (none unless verify.alarms.enabled)."""
    if not config.verify.alarms.enabled:
        return []
    names = Names.of(config)
    return [
        *(f"{names.prefix}-{color}-{kind}" for color in ("blue", "green") for kind in _ALARM_KINDS),
        *(f"{names.prefix}-{kind}" for kind in LOAD_BALANCER_ALARMS),
    ]


def alarm_names(config: Config) -> list[str]:
    """Every alarm a release watches: the stack's, then the user's existing ones."""
    return [*stack_alarm_names(config), *config.verify.alarms.existing]


def has_hook(config: Config) -> bool:
    """Whether releases run the hook (there are checks)."""
    return bool(config.verify.checks)


def timeout_seconds(config: Config) -> int:
    """The functions' timeout: the warm-up and the checks' worst case and a minute, at
    most Lambda's 900 s. With ECS a longer run continues in the next invocation
    (IN_PROGRESS)."""
    return min(LAMBDA_MAX_TIMEOUT_SECONDS, verify_seconds(config) + 60)


def ecs_hook_timeout_minutes(config: Config) -> int:
    """How long ECS waits for the hook to finish: every request at its limit, the
    callbacks between invocations, and ten minutes of room."""
    verify = config.verify
    worst = verify_seconds(config)
    invocations = math.ceil(worst / max(1, timeout_seconds(config) - 60)) if worst else 1
    return math.ceil((worst + invocations * verify.callback_seconds) / 60) + 10


@dataclass
class Verification:
    """What the rest of the service stack wires: the hook, ECS's role to invoke it, the
    alarms the service's deployments watch."""

    hook: awslambda.Function | None = None
    invoke_role: iam.Role | None = None
    alarms: list[cloudwatch.Alarm] = field(default_factory=list)


def add_verification(
    t: Template,
    config: Config,
    *,
    load_balancer: elb.LoadBalancer,
    target_groups: dict[str, elb.TargetGroup],
    test_listener: elb.Listener,
    subnets: list[ec2.Subnet],
    vpc: ec2.VPC,
    task_security_group: ec2.SecurityGroup,
) -> Verification:
    """Add the hook, the prober and the alarms ``config.verify`` asks for."""
    names = Names.of(config)
    result = Verification()
    result.alarms = _alarms(t, config, load_balancer, target_groups)
    if not has_hook(config):
        return result
    ecs = config.deployment.engine == "ecs"
    code = awslambda.Code(ZipFile=package.source(config))
    timeout = timeout_seconds(config)
    hook_logs = t.add_resource(
        log_group("VerifyHookLogGroup", hook_log_group(names), config.logs.retention_days)
    )
    statements = [allow(["logs:CreateLogStream", "logs:PutLogEvents"], [GetAtt(hook_logs, "Arn")])]
    if not ecs:
        # Reporting the hook's result. The action's resource is the deployment group
        # (Service Authorization Reference, AWS CodeDeploy: PutLifecycleEventHookExecution
        # Status, resource type deploymentgroup; emulator/actions.py authorizes it so).
        statements.append(
            allow(
                ["codedeploy:PutLifecycleEventHookExecutionStatus"],
                [
                    arn(
                        "codedeploy",
                        f"deploymentgroup:{names.codedeploy_application}/{names.deployment_group}",
                    )
                ],
            )
        )
    else:
        # Telling the service's creation (the bootstrap container, nothing to roll back
        # to) from a release: hook.first_revision reads the service deployment the event
        # names. Resource: arn:...:service-deployment/<cluster>/<service>/<id> (Service
        # Authorization Reference, Amazon ECS, as for the deploy step in stacks/pipeline.py).
        statements.append(
            allow(
                ["ecs:DescribeServiceDeployments"],
                [arn("ecs", f"service-deployment/{names.cluster}/{names.service}/*")],
            )
        )
    # Both paths read the test listener's target group health: the warm-up waits for a
    # healthy target (hook.warm_up), the prober sends to the healthy ones. Describe* of
    # Elastic Load Balancing take no resource (iam.WILDCARD_ACTIONS).
    environment: dict[str, object] = {"BLUEGREEN_TEST_LISTENER_ARN": Ref(test_listener)}
    statements.append(
        allow(
            ["elasticloadbalancing:DescribeRules", "elasticloadbalancing:DescribeTargetHealth"],
            ["*"],
        )
    )
    if network.mode(config) == "direct":
        port = config.listeners.test_port
        environment["BLUEGREEN_TEST_URL"] = Sub(
            "http://${" + load_balancer.title + ".DNSName}" + ("" if port == 80 else f":{port}")
        )
    else:
        prober_code = awslambda.Code(ZipFile=package.source(None))
        prober = _prober(t, config, names, prober_code, timeout, subnets, vpc, task_security_group)
        environment["BLUEGREEN_PROBER"] = Ref(prober)
        statements.append(allow(["lambda:InvokeFunction"], [GetAtt(prober, "Arn")]))
    # No confused-deputy condition: the Lambda developer guide's execution-role page
    # ("Defining Lambda function permissions with an execution role") shows the trust
    # policy without one.
    role = t.add_resource(
        service_role(
            "VerifyHookRole",
            "lambda.amazonaws.com",
            "bluegreen verify hook: check the new revision, report the result",
            statements=statements,
        )
    )
    result.hook = t.add_resource(
        _function(
            "VerifyHookFunction",
            hook_function_name(names),
            "bluegreen: HTTP checks of the new revision through the test listener",
            code,
            role,
            timeout,
            hook_logs,
            Environment=awslambda.Environment(Variables=environment),
        )
    )
    if ecs:
        # The role ECS assumes to invoke a Lambda lifecycle hook (DeploymentLifecycleHook
        # .roleArn: "grants Amazon ECS permission to call Lambda functions on your behalf";
        # ECS developer guide, "Permissions required for Lambda functions in Amazon ECS
        # blue/green deployments"): lambda:InvokeFunction on this function only.
        result.invoke_role = t.add_resource(
            service_role(
                "VerifyHookInvokeRole",
                "ecs.amazonaws.com",
                "ECS built-in blue/green: invoke the verify hook",
                statements=[allow(["lambda:InvokeFunction"], [GetAtt(result.hook, "Arn")])],
            )
        )
    return result


def _prober(
    t: Template,
    config: Config,
    names: Names,
    code: awslambda.Code,
    timeout: int,
    subnets: list[ec2.Subnet],
    vpc: ec2.VPC,
    task_security_group: ec2.SecurityGroup,
) -> awslambda.Function:
    """The in-VPC copy of the hook that requests the new tasks directly."""
    port = config.app.port
    prober_sg = t.add_resource(
        ec2.SecurityGroup(
            "VerifyProberSecurityGroup",
            GroupDescription=f"{names.prefix} verify prober: the app port of the tasks only",
            VpcId=Ref(vpc),
            SecurityGroupEgress=[
                ec2.SecurityGroupRule(
                    IpProtocol="tcp",
                    FromPort=port,
                    ToPort=port,
                    DestinationSecurityGroupId=Ref(task_security_group),
                    Description="the app port of the tasks",
                )
            ],
        )
    )
    t.add_resource(
        ec2.SecurityGroupIngress(
            "TaskIngressFromVerifyProber",
            GroupId=Ref(task_security_group),
            IpProtocol="tcp",
            FromPort=port,
            ToPort=port,
            SourceSecurityGroupId=Ref(prober_sg),
            Description="app port from the verify prober",
        )
    )
    logs = t.add_resource(
        log_group("VerifyProberLogGroup", prober_log_group(names), config.logs.retention_days)
    )
    # The network-interface actions Lambda needs to attach a function to a VPC, as the AWS
    # managed policy AWSLambdaVPCAccessExecutionRole grants them, on "*" (Lambda developer
    # guide, "Giving Lambda functions access to resources in an Amazon VPC": execution
    # role permissions; these EC2 actions take no resource-level scope for this use).
    role = t.add_resource(
        service_role(
            "VerifyProberRole",
            "lambda.amazonaws.com",
            "bluegreen verify prober: reach the new tasks inside the VPC",
            statements=[
                allow(["logs:CreateLogStream", "logs:PutLogEvents"], [GetAtt(logs, "Arn")]),
                allow(
                    [
                        "ec2:CreateNetworkInterface",
                        "ec2:DescribeNetworkInterfaces",
                        "ec2:DescribeSubnets",
                        "ec2:DeleteNetworkInterface",
                        "ec2:AssignPrivateIpAddresses",
                        "ec2:UnassignPrivateIpAddresses",
                    ],
                    ["*"],
                ),
            ],
        )
    )
    return t.add_resource(
        _function(
            "VerifyProberFunction",
            prober_function_name(names),
            "bluegreen: the verify hook's checks, sent to the new tasks in the VPC",
            code,
            role,
            timeout,
            logs,
            VpcConfig=awslambda.VPCConfig(
                SubnetIds=[Ref(s) for s in subnets], SecurityGroupIds=[Ref(prober_sg)]
            ),
        )
    )


def _function(
    logical_id: str,
    name: str,
    description: str,
    code: Any,
    role: Any,
    timeout: int,
    logs: Any,
    **more: Any,
) -> awslambda.Function:
    """One of the verification's functions: the package's runtime and handler, its role,
    its log group, LAMBDA_MEMORY_MB, and what else ``more`` gives it."""
    return awslambda.Function(
        logical_id,
        FunctionName=name,
        Description=description,
        Runtime=package.RUNTIME,
        Handler=package.HANDLER,
        Code=code,
        Role=GetAtt(role, "Arn"),
        Timeout=timeout,
        MemorySize=LAMBDA_MEMORY_MB,
        LoggingConfig=awslambda.LoggingConfig(LogGroup=Ref(logs)),
        **more,
    )


def _alarms(
    t: Template,
    config: Config,
    load_balancer: elb.LoadBalancer,
    target_groups: dict[str, elb.TargetGroup],
) -> list[cloudwatch.Alarm]:
    if not config.verify.alarms.enabled:
        return []
    settings = config.verify.alarms
    names = Names.of(config)
    made = []
    for color in ("Blue", "Green"):
        group = target_groups[color]
        dimensions = [
            cloudwatch.MetricDimension(
                Name="LoadBalancer", Value=GetAtt(load_balancer, "LoadBalancerFullName")
            ),
            cloudwatch.MetricDimension(
                Name="TargetGroup", Value=GetAtt(group, "TargetGroupFullName")
            ),
        ]
        common = {
            "Namespace": "AWS/ApplicationELB",
            "Dimensions": dimensions,
            "Period": 60,
            "TreatMissingData": "notBreaching",
        }
        specs = {
            "5xx": {
                "MetricName": "HTTPCode_Target_5XX_Count",
                "Statistic": "Sum",
                "EvaluationPeriods": TARGET_GROUP_ALARMS["5xx"],
                "Threshold": settings.http_5xx_per_minute,
                "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                "AlarmDescription": f"{settings.http_5xx_per_minute} or more 5xx answers "
                f"from the {color.lower()} targets in a minute",
            },
            "unhealthy": {
                "MetricName": "UnHealthyHostCount",
                "Statistic": "Maximum",
                "EvaluationPeriods": TARGET_GROUP_ALARMS["unhealthy"],
                "DatapointsToAlarm": TARGET_GROUP_ALARMS["unhealthy"],
                "Threshold": settings.unhealthy_hosts,
                "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                "AlarmDescription": f"{settings.unhealthy_hosts} or more unhealthy "
                f"{color.lower()} targets for two minutes",
            },
            "p95": {
                "MetricName": "TargetResponseTime",
                "ExtendedStatistic": "p95",
                "EvaluationPeriods": TARGET_GROUP_ALARMS["p95"],
                "DatapointsToAlarm": TARGET_GROUP_ALARMS["p95"],
                # TargetResponseTime is in seconds.
                "Threshold": settings.p95_latency_ms / 1000,
                "ComparisonOperator": "GreaterThanThreshold",
                "AlarmDescription": f"p95 response time of the {color.lower()} targets "
                f"above {settings.p95_latency_ms} ms for three minutes",
            },
        }
        for kind in _ALARM_KINDS:
            made.append(
                t.add_resource(
                    cloudwatch.Alarm(
                        f"Verify{color}{kind.capitalize()}Alarm".replace("5xx", "Http5xx"),
                        AlarmName=f"{names.prefix}-{color.lower()}-{kind}",
                        **common,
                        **specs[kind],
                    )
                )
            )
    # The load balancer's own 5xx (502/503/504: a target that reset the connection, hung
    # past the idle timeout or was gone), which HTTPCode_Target_5XX_Count does not count;
    # ECS recommends it for deployment alarms (config.LOAD_BALANCER_ALARMS). Its only
    # dimension is LoadBalancer (ALB user guide, "CloudWatch metrics for your Application
    # Load Balancer"), so it speaks for the new revision once all production is on it.
    # Reported only when non-zero, like the targets' 5xx: missing data is not breaching.
    made.append(
        t.add_resource(
            cloudwatch.Alarm(
                "VerifyLoadBalancerHttp5xxAlarm",
                AlarmName=f"{names.prefix}-elb-5xx",
                Namespace="AWS/ApplicationELB",
                MetricName="HTTPCode_ELB_5XX_Count",
                Dimensions=[
                    cloudwatch.MetricDimension(
                        Name="LoadBalancer", Value=GetAtt(load_balancer, "LoadBalancerFullName")
                    )
                ],
                Statistic="Sum",
                Period=60,
                EvaluationPeriods=LOAD_BALANCER_ALARMS["elb-5xx"],
                Threshold=settings.http_5xx_per_minute,
                ComparisonOperator="GreaterThanOrEqualToThreshold",
                TreatMissingData="notBreaching",
                AlarmDescription=f"{settings.http_5xx_per_minute} or more 5xx answered by "
                "the load balancer itself (502/503/504) in a minute",
            )
        )
    )
    return made
