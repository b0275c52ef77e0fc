"""Stack 2, service: network, load balancer, ECS cluster and the CODE_DEPLOY service.

Network choice: two *public* subnets, and tasks get a public IP (AssignPublicIp
ENABLED). Tasks pull public images (the bootstrap images from ECR Public), pull the
built images from ECR and ship logs to CloudWatch Logs; with a public IP they reach
those endpoints through the internet gateway, so the stack needs no NAT gateway (about
USD 35 a month each, per AZ) and no VPC endpoints. Only the ALB's security group may
reach the task port, so the public IP exposes nothing. Private subnets with a NAT
gateway are the choice for production hardening; the VPC leaves half its range free
for them.

With ``deployment.engine = "codedeploy"`` the ECS service is created with
DeploymentController CODE_DEPLOY on the *blue* target group, with both listeners
forwarding to blue (weight 100) and green (weight 0), so the load balancer health-checks
green from the first release on (see ``_default_action``). From then on CodeDeploy owns
the task set, the listeners' weights and the task definition: a later stack update must
not change the task definition (CloudFormation cannot update a CODE_DEPLOY service's task
definition). Hence the stack's task definition is a bootstrap revision (see
:mod:`bluegreen.stacks.bootstrap`) that keeps the service healthy until the first
pipeline run replaces it.

With ``deployment.engine = "ecs"`` (Amazon ECS built-in blue/green) the service has
DeploymentController ECS and a DeploymentConfiguration (strategy BLUE_GREEN, LINEAR or
CANARY, the bake, and with reroute = "manual" a PAUSE lifecycle hook after the test
traffic shift whose timeout rolls back). ECS shifts traffic by rewriting listener
*rules*, not a listener's default action: the service's load balancer names the
production and test rules, the alternate target group and an infrastructure role ECS
assumes to call Elastic Load Balancing (LoadBalancers[].AdvancedConfiguration; ECS
developer guide, "Application Load Balancer resources for blue/green, linear, and
canary deployments"). Each listener gets one rule matching every path at priority 1,
forwarding to blue with weight 100 and green with weight 0, so both target groups are
associated with the rules as ECS requires ("Both targetGroup and alternateTargetGroup
must be associated with the productionListenerRule or testListenerRule": ECS developer
guide, "Migrating from a CodeDeploy blue/green to an Amazon ECS blue/green service
deployment"), and every action is a forward (blue/green "is not supported" on listeners
whose rules mix forward and non-forward actions: same ALB page, Limitations). ECS owns
the rules' weights and the service's task definition from then on
(:mod:`bluegreen.aws.owned` keeps them out of stack updates: aws/aws-cdk#36649).
"""

from __future__ import annotations

import ipaddress

from awacs.aws import ArnLike
from troposphere import GetAtt, GetAZs, Ref, Select, Sub, Tags, Template, ec2, ecs
from troposphere import elasticloadbalancingv2 as elb

from bluegreen.appkit import app_dropped_capabilities
from bluegreen.config import Config
from bluegreen.names import Names, Outputs
from bluegreen.stacks import bootstrap
from bluegreen.stacks import verification as verify_stacks
from bluegreen.stacks.common import add_output, arn, log_group
from bluegreen.stacks.iam import allow, assumed_for, service_role
from bluegreen.stacks.verification import Verification

RULE_PRIORITY = 1
"""The priority of the one rule on each listener (ALB: 1 is evaluated first)."""

ALL_PATHS = "/*"
"""The rules' condition: every request (a rule needs a condition; the default action
cannot be named as ECS's production or test rule)."""

PAUSE_STAGE = "POST_TEST_TRAFFIC_SHIFT"
"""Where reroute = "manual" pauses: the test traffic shift is complete and green serves
all test traffic (DeploymentLifecycleHook.lifecycleStages, ECS API reference). PAUSE
hooks "cannot be configured at TEST_TRAFFIC_SHIFT or PRODUCTION_TRAFFIC_SHIFT"."""

PAUSE_TIMEOUT_ACTION = "ROLLBACK"
"""What ECS does when nobody promotes within deployment.wait_minutes: roll back, as the
CodeDeploy engine's STOP_DEPLOYMENT does (DeploymentLifecycleHookTimeoutConfiguration
.action, ECS API reference)."""


def deployment_configuration(
    config: Config, verification: Verification | None = None
) -> ecs.DeploymentConfiguration:
    """The ECS service's DeploymentConfiguration for engine "ecs" (see the module
    docstring); :mod:`bluegreen.aws.owned` applies a change of it with UpdateService.
    ``verification``: the verify hook and alarms (:mod:`bluegreen.stacks.verification`)."""
    deployment = config.deployment
    settings = deployment.ecs
    props: dict[str, object] = {
        "Strategy": settings.strategy,
        # "You must provide this parameter when you use the BLUE_GREEN deployment
        # strategy" (DeploymentConfiguration.bakeTimeInMinutes, ECS API reference).
        "BakeTimeInMinutes": settings.bake_minutes,
        # Failure detection with rollback: "Both methods only support rolling update
        # deployment and blue/green deployment types" (ECS developer guide, "Amazon ECS
        # deployment failure detection").
        "DeploymentCircuitBreaker": ecs.DeploymentCircuitBreaker(
            Enable=True, Rollback=deployment.auto_rollback
        ),
    }
    if settings.strategy == "LINEAR":
        props["LinearConfiguration"] = ecs.LinearConfiguration(
            StepPercent=settings.step_percent, StepBakeTimeInMinutes=settings.step_bake_minutes
        )
    elif settings.strategy == "CANARY":
        props["CanaryConfiguration"] = ecs.CanaryConfiguration(
            CanaryPercent=settings.canary_percent,
            CanaryBakeTimeInMinutes=settings.canary_bake_minutes,
        )
    hooks = []
    if verification is not None and verification.hook is not None:
        assert verification.invoke_role is not None
        # The checks run at the same stage as the PAUSE of reroute = "manual": "You can
        # configure both Lambda hooks and pause hooks at the same lifecycle stage. Both
        # hooks must complete before the deployment proceeds to the next stage" (ECS
        # developer guide, "Lifecycle hooks for Amazon ECS service deployments"), so
        # production never moves before the checks pass, even on an early promote.
        hooks.append(
            ecs.DeploymentLifecycleHook(
                TargetType="AWS_LAMBDA",
                HookTargetArn=GetAtt(verification.hook, "Arn"),
                RoleArn=GetAtt(verification.invoke_role, "Arn"),
                LifecycleStages=[verify_stacks.HOOK_STAGE],
                TimeoutConfiguration=ecs.HookTimeoutConfig(
                    TimeoutInMinutes=verify_stacks.ecs_hook_timeout_minutes(config),
                    Action=PAUSE_TIMEOUT_ACTION,
                ),
            )
        )
    if deployment.reroute == "manual":
        hooks.append(
            ecs.DeploymentLifecycleHook(
                TargetType="PAUSE",
                LifecycleStages=[PAUSE_STAGE],
                TimeoutConfiguration=ecs.HookTimeoutConfig(
                    TimeoutInMinutes=deployment.wait_minutes, Action=PAUSE_TIMEOUT_ACTION
                ),
            )
        )
    if hooks:
        props["LifecycleHooks"] = hooks
    alarms = verify_stacks.alarm_names(config)
    if alarms:
        # ECS deployment alarms: "When the alarms are generated, Amazon ECS sets the service
        # deployment to failed. Set the rollback parameter to have Amazon ECS to roll back"
        # (DeploymentAlarms, ECS API reference); with blue/green ECS watches them through
        # the bake ("Amazon ECS ... monitors the alarms during the bake time": ECS developer
        # guide, "Amazon ECS blue/green deployments").
        props["Alarms"] = ecs.DeploymentAlarms(
            AlarmNames=alarms, Enable=True, Rollback=deployment.auto_rollback
        )
    return ecs.DeploymentConfiguration(**props)


HEALTH_CHECK_GRACE_SECONDS = 60
"""How long ECS ignores failing ALB health checks of a starting task."""

DEREGISTRATION_DELAY_SECONDS = 30
"""Draining time of a deregistered target (the ALB default of 300 s slows every shift)."""

LOAD_BALANCER_ATTRIBUTES = {
    # Drop header fields whose names are not valid HTTP tokens instead of passing them to
    # the app (request smuggling and header confusion; checkov CKV_AWS_131). The app reads
    # no non-standard header. ELBv2 load balancer attributes:
    # https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#load-balancer-attributes
    "routing.http.drop_invalid_header_fields.enabled": "true",
}

SUBNET_COUNT = 2


def subnet_cidrs(vpc_cidr: str) -> list[str]:
    """Two subnets, each a quarter of the VPC; the other half stays free for later."""
    network = ipaddress.ip_network(vpc_cidr)
    quarters = network.subnets(prefixlen_diff=2)
    return [str(next(quarters)) for _ in range(SUBNET_COUNT)]


def _url(load_balancer: elb.LoadBalancer, port: int) -> Sub:
    suffix = "" if port == 80 else f":{port}"
    return Sub("http://${" + load_balancer.title + ".DNSName}" + suffix)


def build_service(config: Config) -> Template:
    """The service stack's template."""
    names = Names.of(config)
    stack = names.service_stack
    listeners = config.listeners
    hc = config.health_check
    native = config.deployment.engine == "ecs"
    t = Template(
        Description=(
            f"bluegreen {names.prefix}: VPC, ALB (:{listeners.production_port} production, "
            f":{listeners.test_port} test), ECS Fargate service under "
            + ("ECS built-in blue/green" if native else "CodeDeploy blue/green")
        )
    )

    # --- network -------------------------------------------------------------------
    vpc = t.add_resource(
        ec2.VPC(
            "Vpc",
            CidrBlock=config.network.vpc_cidr,
            EnableDnsHostnames=True,
            EnableDnsSupport=True,
            Tags=Tags(Name=names.prefix),
        )
    )
    gateway = t.add_resource(ec2.InternetGateway("InternetGateway", Tags=Tags(Name=names.prefix)))
    attachment = t.add_resource(
        ec2.VPCGatewayAttachment(
            "InternetGatewayAttachment", VpcId=Ref(vpc), InternetGatewayId=Ref(gateway)
        )
    )
    route_table = t.add_resource(
        ec2.RouteTable("PublicRouteTable", VpcId=Ref(vpc), Tags=Tags(Name=f"{names.prefix}-public"))
    )
    t.add_resource(
        ec2.Route(
            "PublicDefaultRoute",
            DependsOn=attachment.title,
            RouteTableId=Ref(route_table),
            DestinationCidrBlock="0.0.0.0/0",
            GatewayId=Ref(gateway),
        )
    )
    subnets = []
    for index, cidr in enumerate(subnet_cidrs(config.network.vpc_cidr)):
        subnet = t.add_resource(
            ec2.Subnet(
                f"PublicSubnet{index + 1}",
                VpcId=Ref(vpc),
                CidrBlock=cidr,
                AvailabilityZone=Select(index, GetAZs("")),
                MapPublicIpOnLaunch=True,
                Tags=Tags(Name=f"{names.prefix}-public-{index + 1}"),
            )
        )
        t.add_resource(
            ec2.SubnetRouteTableAssociation(
                f"PublicSubnet{index + 1}RouteTableAssociation",
                SubnetId=Ref(subnet),
                RouteTableId=Ref(route_table),
            )
        )
        subnets.append(subnet)

    # --- security groups -----------------------------------------------------------
    alb_ingress = [
        ec2.SecurityGroupRule(
            IpProtocol="tcp",
            FromPort=listeners.production_port,
            ToPort=listeners.production_port,
            CidrIp="0.0.0.0/0",
            Description="production listener",
        )
    ]
    alb_ingress += [
        ec2.SecurityGroupRule(
            IpProtocol="tcp",
            FromPort=listeners.test_port,
            ToPort=listeners.test_port,
            CidrIp=cidr,
            Description="test listener (green before reroute)",
        )
        for cidr in listeners.test_cidrs
    ]
    alb_sg = t.add_resource(
        ec2.SecurityGroup(
            "LoadBalancerSecurityGroup",
            GroupDescription=f"{names.load_balancer}: production and test listeners",
            VpcId=Ref(vpc),
            SecurityGroupIngress=alb_ingress,
            Tags=Tags(Name=f"{names.prefix}-alb"),
        )
    )
    task_sg = t.add_resource(
        ec2.SecurityGroup(
            "TaskSecurityGroup",
            GroupDescription=f"{names.service}: app port from the load balancer only",
            VpcId=Ref(vpc),
            SecurityGroupIngress=[
                ec2.SecurityGroupRule(
                    IpProtocol="tcp",
                    FromPort=config.app.port,
                    ToPort=config.app.port,
                    SourceSecurityGroupId=Ref(alb_sg),
                    Description="app port from the ALB",
                )
            ],
            Tags=Tags(Name=f"{names.prefix}-task"),
        )
    )

    # --- load balancer -------------------------------------------------------------
    load_balancer = t.add_resource(
        elb.LoadBalancer(
            "LoadBalancer",
            DependsOn=attachment.title,
            Name=names.load_balancer,
            Scheme="internet-facing",
            Type="application",
            Subnets=[Ref(s) for s in subnets],
            SecurityGroups=[Ref(alb_sg)],
            LoadBalancerAttributes=[
                elb.LoadBalancerAttributes(Key=key, Value=value)
                for key, value in LOAD_BALANCER_ATTRIBUTES.items()
            ],
        )
    )
    target_groups = {}
    for color, name in (("Blue", names.blue_target_group), ("Green", names.green_target_group)):
        target_groups[color] = t.add_resource(
            elb.TargetGroup(
                f"{color}TargetGroup",
                Name=name,
                TargetType="ip",
                Protocol="HTTP",
                Port=config.app.port,
                VpcId=Ref(vpc),
                HealthCheckEnabled=True,
                HealthCheckProtocol="HTTP",
                HealthCheckPath=hc.path,
                HealthCheckIntervalSeconds=hc.interval_seconds,
                HealthCheckTimeoutSeconds=hc.timeout_seconds,
                HealthyThresholdCount=hc.healthy_threshold,
                UnhealthyThresholdCount=hc.unhealthy_threshold,
                Matcher=elb.Matcher(HttpCode="200"),
                TargetGroupAttributes=[
                    elb.TargetGroupAttribute(
                        Key="deregistration_delay.timeout_seconds",
                        Value=str(DEREGISTRATION_DELAY_SECONDS),
                    )
                ],
            )
        )
    blue = target_groups["Blue"]
    green = target_groups["Green"]
    listener_resources = {}
    for role, port in (("Production", listeners.production_port), ("Test", listeners.test_port)):
        listener_resources[role] = t.add_resource(
            elb.Listener(
                f"{role}Listener",
                # Both listeners depend on both target groups, so a stack delete removes
                # the listeners before either group. CodeDeploy moves the listeners to
                # green after an odd number of releases, and DeleteTargetGroup refuses a
                # group a listener still forwards to (ResourceInUse; ELBv2 API reference,
                # DeleteTargetGroup). CloudFormation deletes in reverse dependency order:
                # https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-dependson.html
                # Engine "codedeploy" refers to both groups in its default action; engine
                # "ecs" names only blue there, so green is an explicit DependsOn (a
                # DependsOn a Ref already makes is cfn-lint W3005).
                **({"DependsOn": [green.title]} if native else {}),
                LoadBalancerArn=Ref(load_balancer),
                Port=port,
                Protocol="HTTP",
                DefaultActions=[_default_action(native, blue, green)],
            )
        )
    production = listener_resources["Production"]
    test = listener_resources["Test"]
    rules: dict[str, elb.ListenerRule] = {}
    if native:
        for role_name, listener in (("Production", production), ("Test", test)):
            rules[role_name] = t.add_resource(
                elb.ListenerRule(
                    f"{role_name}ListenerRule",
                    ListenerArn=Ref(listener),
                    Priority=RULE_PRIORITY,
                    Conditions=[
                        elb.Condition(
                            Field="path-pattern",
                            PathPatternConfig=elb.PathPatternConfig(Values=[ALL_PATHS]),
                        )
                    ],
                    Actions=[
                        elb.ListenerRuleAction(
                            Type="forward",
                            ForwardConfig=elb.ForwardConfig(
                                TargetGroups=[
                                    elb.TargetGroupTuple(TargetGroupArn=Ref(blue), Weight=100),
                                    elb.TargetGroupTuple(TargetGroupArn=Ref(green), Weight=0),
                                ]
                            ),
                        )
                    ],
                )
            )

    # --- logs ------------------------------------------------------------------------
    app_logs = t.add_resource(
        log_group("AppLogGroup", names.app_log_group, config.logs.retention_days)
    )
    router_logs = t.add_resource(
        log_group("RouterLogGroup", names.router_log_group, config.logs.retention_days)
    )

    # --- roles -----------------------------------------------------------------------
    task_role = t.add_resource(
        service_role(
            "TaskRole",
            "ecs-tasks.amazonaws.com",
            "Task role: the FireLens router writes the app's logs to its log group",
            statements=[
                allow(
                    ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                    [GetAtt(app_logs, "Arn")],
                )
            ],
            # ECS documents aws:SourceAccount and aws:SourceArn for the task role's trust,
            # with the ARN as a wildcard over the account's ECS resources in the Region
            # ("Using aws:SourceArn to specify a specific cluster is not currently
            # supported"): Amazon ECS Developer Guide, "Amazon ECS task IAM role",
            # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html
            trust_condition=assumed_for(arn("ecs", "*"), ArnLike),
        )
    )
    image_repositories = [
        arn("ecr", f"repository/{names.app_image_repository}"),
        arn("ecr", f"repository/{names.router_image_repository}"),
    ]
    # No confused-deputy condition on the execution role's trust: the ECS page for this
    # role ("Amazon ECS task execution IAM role",
    # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html)
    # shows a trust policy without one and documents no aws:SourceAccount/aws:SourceArn
    # for the agent that assumes it (only the task role page does). A key the ECS and
    # Fargate agents do not send would stop every task from pulling its image.
    execution_role = t.add_resource(
        service_role(
            "ExecutionRole",
            "ecs-tasks.amazonaws.com",
            "Task execution role: pull the built images, write the router's own logs",
            statements=[
                allow(["ecr:GetAuthorizationToken"], ["*"]),
                allow(
                    [
                        "ecr:BatchCheckLayerAvailability",
                        "ecr:BatchGetImage",
                        "ecr:GetDownloadUrlForLayer",
                    ],
                    image_repositories,
                ),
                allow(
                    ["logs:CreateLogStream", "logs:PutLogEvents"],
                    [GetAtt(router_logs, "Arn")],
                ),
            ],
        )
    )

    # --- cluster, task definition, service ----------------------------------------------
    cluster = t.add_resource(
        ecs.Cluster(
            "Cluster",
            ClusterName=names.cluster,
            ClusterSettings=[ecs.ClusterSetting(Name="containerInsights", Value="enabled")],
        )
    )
    app_container = ecs.ContainerDefinition(
        Name=config.app.name,
        Image=bootstrap.BOOTSTRAP_APP_IMAGE,
        Essential=True,
        Command=bootstrap.app_command(config.app.port, hc.path),
        # The inline server writes nothing (python -B: no bytecode caches), so its root
        # file system is read-only (Security Hub ECS.5,
        # https://docs.aws.amazon.com/securityhub/latest/userguide/ecs-controls.html#ecs-5).
        ReadonlyRootFilesystem=True,
        # The same capabilities as the app's own taskdef.json (every default one dropped
        # but NET_BIND_SERVICE for a port below 1024), and no root for a higher port: the
        # stock image's python has no file capability, so only root binds a low port.
        LinuxParameters=ecs.LinuxParameters(
            Capabilities=ecs.KernelCapabilities(Drop=app_dropped_capabilities(config))
        ),
        **({"User": bootstrap.NOBODY} if config.app.port >= 1024 else {}),
        PortMappings=[ecs.PortMapping(ContainerPort=config.app.port, Protocol="tcp")],
        MemoryReservation=bootstrap.app_memory_reservation(config.task.memory),
        DependsOn=[ecs.ContainerDependency(ContainerName=config.router.name, Condition="START")],
        LogConfiguration=ecs.LogConfiguration(
            LogDriver="awsfirelens",
            Options={
                "Name": "cloudwatch_logs",
                "region": Ref("AWS::Region"),
                "log_group_name": names.app_log_group,
                "log_stream_prefix": f"{config.app.name}/",
                "auto_create_group": "false",
            },
        ),
    )
    # The router keeps a writable root file system. The aws-for-fluent-bit image as a
    # FireLens router on Fargate fails at start-up with readonlyRootFilesystem
    # (fluent/fluent-bit#7308, aws-for-fluent-bit:stable on ECS Fargate), its init variant
    # writes its generated files under /init and a volume over /init hides the image's
    # own scripts (aws/aws-for-fluent-bit#824, #928), and AWS documents no read-only mode
    # for FireLens. Untested here, so not switched on for the router.
    router_container = ecs.ContainerDefinition(
        Name=config.router.name,
        Image=bootstrap.BOOTSTRAP_ROUTER_IMAGE,
        Essential=True,
        MemoryReservation=bootstrap.ROUTER_MEMORY_RESERVATION,
        FirelensConfiguration=ecs.FirelensConfiguration(
            Type="fluentbit", Options={"enable-ecs-log-metadata": "true"}
        ),
        LogConfiguration=ecs.LogConfiguration(
            LogDriver="awslogs",
            Options={
                "awslogs-group": Ref(router_logs),
                "awslogs-region": Ref("AWS::Region"),
                "awslogs-stream-prefix": config.router.name,
            },
        ),
    )
    task_definition = t.add_resource(
        ecs.TaskDefinition(
            "TaskDefinition",
            Family=names.task_family,
            Cpu=str(config.task.cpu),
            Memory=str(config.task.memory),
            NetworkMode="awsvpc",
            RequiresCompatibilities=["FARGATE"],
            RuntimePlatform=ecs.RuntimePlatform(
                OperatingSystemFamily="LINUX", CpuArchitecture="X86_64"
            ),
            TaskRoleArn=GetAtt(task_role, "Arn"),
            ExecutionRoleArn=GetAtt(execution_role, "Arn"),
            ContainerDefinitions=[app_container, router_container],
        )
    )
    verification = verify_stacks.add_verification(
        t,
        config,
        load_balancer=load_balancer,
        target_groups=target_groups,
        test_listener=test,
        subnets=subnets,
        vpc=vpc,
        task_security_group=task_sg,
    )
    load_balancer_target = ecs.LoadBalancer(
        ContainerName=config.app.name,
        ContainerPort=config.app.port,
        TargetGroupArn=Ref(blue),
    )
    service_props: dict[str, object] = {}
    infrastructure_role = None
    if native:
        infrastructure_role = t.add_resource(infrastructure_role_for(blue, green, rules))
        load_balancer_target.AdvancedConfiguration = ecs.AdvancedConfiguration(
            AlternateTargetGroupArn=Ref(green),
            ProductionListenerRule=Ref(rules["Production"]),
            TestListenerRule=Ref(rules["Test"]),
            RoleArn=GetAtt(infrastructure_role, "Arn"),
        )
        service_props["DeploymentConfiguration"] = deployment_configuration(config, verification)
    service = t.add_resource(
        ecs.Service(
            "Service",
            # With engine "ecs" the rules are dependencies through their Refs below; the
            # alarms a deployment watches exist before the service names them.
            DependsOn=[
                production.title,
                test.title,
                *(a.title for a in verification.alarms if native),
            ],
            ServiceName=names.service,
            Cluster=Ref(cluster),
            TaskDefinition=Ref(task_definition),
            DesiredCount=config.task.desired_count,
            LaunchType="FARGATE",
            DeploymentController=ecs.DeploymentController(Type="ECS" if native else "CODE_DEPLOY"),
            HealthCheckGracePeriodSeconds=HEALTH_CHECK_GRACE_SECONDS,
            NetworkConfiguration=ecs.NetworkConfiguration(
                AwsvpcConfiguration=ecs.AwsvpcConfiguration(
                    AssignPublicIp="ENABLED",
                    Subnets=[Ref(s) for s in subnets],
                    SecurityGroups=[Ref(task_sg)],
                )
            ),
            LoadBalancers=[load_balancer_target],
            **service_props,
        )
    )

    # --- outputs -----------------------------------------------------------------------
    def out(key: str, value: object, description: str) -> None:
        add_output(t, names, stack, key, value, description)

    out(Outputs.VPC_ID, Ref(vpc), "VPC")
    out(Outputs.LOAD_BALANCER_DNS, GetAtt(load_balancer, "DNSName"), "ALB DNS name")
    out(Outputs.LOAD_BALANCER_ARN, Ref(load_balancer), "ALB ARN")
    out(Outputs.PRODUCTION_LISTENER_ARN, Ref(production), "production listener ARN")
    out(Outputs.TEST_LISTENER_ARN, Ref(test), "test listener ARN")
    out(Outputs.BLUE_TARGET_GROUP_ARN, Ref(blue), "blue target group ARN")
    out(Outputs.GREEN_TARGET_GROUP_ARN, Ref(green), "green target group ARN")
    # Literal names (not GetAtt TargetGroupName): the same value, known without a deploy.
    out(Outputs.BLUE_TARGET_GROUP_NAME, names.blue_target_group, "blue target group name")
    out(Outputs.GREEN_TARGET_GROUP_NAME, names.green_target_group, "green target group name")
    out(Outputs.CLUSTER_NAME, Ref(cluster), "ECS cluster name")
    out(Outputs.CLUSTER_ARN, GetAtt(cluster, "Arn"), "ECS cluster ARN")
    out(Outputs.SERVICE_NAME, GetAtt(service, "Name"), "ECS service name")
    out(Outputs.SERVICE_ARN, Ref(service), "ECS service ARN")
    out(Outputs.TASK_ROLE_ARN, GetAtt(task_role, "Arn"), "task role (taskdef.json taskRoleArn)")
    out(
        Outputs.EXECUTION_ROLE_ARN,
        GetAtt(execution_role, "Arn"),
        "task execution role (taskdef.json executionRoleArn)",
    )
    out(Outputs.APP_LOG_GROUP, Ref(app_logs), "app container logs (via FireLens)")
    out(Outputs.ROUTER_LOG_GROUP, Ref(router_logs), "log router's own logs")
    out(Outputs.PRODUCTION_URL, _url(load_balancer, listeners.production_port), "production URL")
    out(
        Outputs.TEST_URL,
        _url(load_balancer, listeners.test_port),
        "test URL (green before reroute)",
    )
    if native:
        assert infrastructure_role is not None
        out(Outputs.PRODUCTION_RULE_ARN, Ref(rules["Production"]), "production listener rule")
        out(Outputs.TEST_RULE_ARN, Ref(rules["Test"]), "test listener rule")
        out(
            Outputs.INFRASTRUCTURE_ROLE_ARN,
            GetAtt(infrastructure_role, "Arn"),
            "ECS infrastructure role for load balancers",
        )
        if verification.hook is not None and verification.invoke_role is not None:
            # What the service's lifecycle hook names: `deploy` reads them to set the
            # hook with UpdateService on a live service (aws/owned.py), whose entry in
            # this template stays as deployed.
            out(Outputs.VERIFY_HOOK_ARN, GetAtt(verification.hook, "Arn"), "verify hook")
            out(
                Outputs.VERIFY_HOOK_INVOKE_ROLE_ARN,
                GetAtt(verification.invoke_role, "Arn"),
                "the role ECS invokes the verify hook with",
            )
    return t


def _default_action(native: bool, blue: elb.TargetGroup, green: elb.TargetGroup) -> elb.Action:
    """A listener's default action: blue serves.

    Engine "codedeploy": a weighted forward {blue: 100, green: 0} from the first deploy,
    the shape CodeDeploy itself leaves after every deployment since 2022 ({new: 100, old:
    0}, "so future deployments ... pass ELB Health Checks during the Install phase as the
    forward rule would exist between the ELB and the replacement target group": the
    CodeDeploy team's note quoted in traveloka/terraform-aws-alb-single-listener PR #47;
    PR #44; terraform-aws-modules/terraform-aws-alb PR #269 starts CodeDeploy blue/green
    listeners the same way, 100/0). A group behind no listener is not health-checked (its
    targets are ``unused``, Target.NotInUse: "Health checks for Application Load Balancer
    target groups", ALB guide; ELBv2 API reference, TargetHealth), so with a plain forward
    to blue the FIRST release's green tasks would pass Install unchecked and CodeDeploy
    could complete with unhealthy tasks (aws/containers-roadmap#1941). A weight-0 group in
    a forward is in use ("Health checks are performed on all targets registered to a
    target group that is specified in a listener rule", ALB guide, "Target groups for
    your Application Load Balancers"), so green is health-checked from the start and a
    broken first release fails Install even with reroute = "auto". A stack update keeps
    the deployed action (:mod:`bluegreen.aws.owned`): CodeDeploy owns the weights.

    Engine "ecs": the rules route (every path, weighted 100/0); the default action is
    never reached and stays a plain forward to blue.
    """
    if native:
        return elb.Action(Type="forward", TargetGroupArn=Ref(blue))
    return elb.Action(
        Type="forward",
        ForwardConfig=elb.ForwardConfig(
            TargetGroups=[
                elb.TargetGroupTuple(TargetGroupArn=Ref(blue), Weight=100),
                elb.TargetGroupTuple(TargetGroupArn=Ref(green), Weight=0),
            ]
        ),
    )


def infrastructure_role_for(
    blue: elb.TargetGroup, green: elb.TargetGroup, rules: dict[str, elb.ListenerRule]
) -> object:
    """The role ECS assumes to move traffic (AdvancedConfiguration.roleArn).

    Least privilege: the actions of the AWS managed policy
    AmazonECSInfrastructureRolePolicyForLoadBalancers (version 6: the four Describe*
    reads on "*", RegisterTargets/DeregisterTargets on target groups, ModifyListener on
    listeners, ModifyRule on listener rules; AWS Managed Policy Reference,
    https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonECSInfrastructureRolePolicyForLoadBalancers.html),
    each scoped to this system's two target groups, two listeners and two rules instead
    of every one in the account. The trust policy is the one the ECS guide gives ("Amazon
    ECS infrastructure IAM role for load balancers",
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/AmazonECSInfrastructureRolePolicyForLoadBalancers.html):
    ecs.amazonaws.com, with no confused-deputy condition, since the page documents none.
    """
    listeners = [r.properties["ListenerArn"] for r in rules.values()]
    return service_role(
        "LoadBalancerInfrastructureRole",
        "ecs.amazonaws.com",
        "ECS built-in blue/green: move the listener rules' weights and register tasks",
        statements=[
            allow(
                [
                    "elasticloadbalancing:DescribeListeners",
                    "elasticloadbalancing:DescribeRules",
                    "elasticloadbalancing:DescribeTargetGroups",
                    "elasticloadbalancing:DescribeTargetHealth",
                ],
                ["*"],
            ),
            allow(
                ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"],
                [Ref(blue), Ref(green)],
            ),
            allow(["elasticloadbalancing:ModifyListener"], listeners),
            allow(["elasticloadbalancing:ModifyRule"], [Ref(r) for r in rules.values()]),
        ],
    )
