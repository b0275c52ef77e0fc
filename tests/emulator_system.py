"""A small blue/green system built through the emulated AWS's API, for the ECS, ELBv2,
CodeDeploy and Logs emulator tests: the shape of bluegreen's service and pipeline stacks
(a VPC with two public subnets, an ALB with a production and a test listener, two target
groups, a CODE_DEPLOY ECS service on Fargate running the scaffold's task definition with
its FireLens log router, a CodeDeploy ECS application and deployment group), made with the
calls CloudFormation would make.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bluegreen.appkit import render
from bluegreen.config import Config
from bluegreen.emulator import Emulator

T0 = datetime(2021, 9, 19, 1, 0, tzinfo=UTC)
REGION = "ap-northeast-1"
ACCOUNT = "123456789012"
CLUSTER = "demo-cluster"
SERVICE = "demo-service"
APP = "demo-app"
GROUP = "demo-group"
APP_LOGS = "/bluegreen/sample3-dev/webapp"
ROUTER_LOGS = "/bluegreen/sample3-dev/log-router"


def trust(service: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
            ],
        }
    )


@dataclass
class System:
    aws: Emulator
    clients: Any
    vpc: str = ""
    subnets: list[str] = field(default_factory=list)
    task_sg: str = ""
    alb: str = ""
    blue: str = ""
    green: str = ""
    production: str = ""
    test: str = ""
    task_definition: str = ""
    execution_role: str = ""
    task_role: str = ""
    codedeploy_role: str = ""
    app_image: str = ""
    router_image: str = ""

    # -- reading -----------------------------------------------------------------------
    def service(self) -> dict[str, Any]:
        found: dict[str, Any] = self.clients.ecs.describe_services(
            cluster=CLUSTER, services=[SERVICE]
        )["services"][0]
        return found

    def task_sets(self) -> list[dict[str, Any]]:
        return list(self.service()["taskSets"])

    def primary(self) -> dict[str, Any]:
        return next(ts for ts in self.task_sets() if ts["status"] == "PRIMARY")

    def forwards(self, listener: str) -> dict[str, int]:
        """{target group name: weight} of a listener's default forward action."""
        described = self.clients.elbv2.describe_listeners(ListenerArns=[listener])["Listeners"][0]
        action = described["DefaultActions"][0]
        groups = (action.get("ForwardConfig") or {}).get("TargetGroups")
        if groups:
            return {_name(g["TargetGroupArn"]): int(g["Weight"]) for g in groups}
        return {_name(action["TargetGroupArn"]): 100}

    def health(self, group: str) -> list[tuple[str, str]]:
        found = self.clients.elbv2.describe_target_health(TargetGroupArn=group)
        return [
            (d["TargetHealth"]["State"], d["TargetHealth"].get("Reason", ""))
            for d in found["TargetHealthDescriptions"]
        ]

    def deployment(self, deployment_id: str) -> dict[str, Any]:
        info: dict[str, Any] = self.clients.codedeploy.get_deployment(deploymentId=deployment_id)[
            "deploymentInfo"
        ]
        return info

    def target(self, deployment_id: str) -> dict[str, Any]:
        found: dict[str, Any] = self.clients.codedeploy.get_deployment_target(
            deploymentId=deployment_id, targetId=f"{CLUSTER}:{SERVICE}"
        )["deploymentTarget"]["ecsTarget"]
        return found

    def events(self, deployment_id: str) -> dict[str, str]:
        return {
            e["lifecycleEventName"]: e["status"]
            for e in self.target(deployment_id)["lifecycleEvents"]
        }

    def wait_for(self, condition: Any, limit: float = 7200, step: float = 5) -> float:
        """Advance the clock until ``condition()`` holds; the simulated seconds it took."""
        start = self.aws.clock.seconds
        while not condition():
            if self.aws.clock.seconds - start > limit:
                raise AssertionError(f"condition not met within {limit} s of simulated time")
            self.aws.sleep(step)
        return self.aws.clock.seconds - start

    # -- acting ------------------------------------------------------------------------
    def register(self, image: str) -> str:
        """Register the scaffold's task definition with ``image`` as the app."""
        body = json.loads(render(Config())["taskdef.json"])
        body["taskRoleArn"] = self.task_role
        body["executionRoleArn"] = self.execution_role
        for container in body["containerDefinitions"]:
            if container["image"] == "<IMAGE1_NAME>":
                container["image"] = image
            elif container["image"] == "<IMAGE2_NAME>":
                container["image"] = self.router_image
            options = container.get("logConfiguration", {}).get("options", {})
            for key, value in list(options.items()):
                if value == "<AWS_REGION>":
                    options[key] = REGION
        arn: str = self.clients.ecs.register_task_definition(**body)["taskDefinition"][
            "taskDefinitionArn"
        ]
        return arn

    def deploy(self, task_definition: str, **extra: Any) -> str:
        appspec = {
            "version": 0.0,
            "Resources": [
                {
                    "TargetService": {
                        "Type": "AWS::ECS::Service",
                        "Properties": {
                            "TaskDefinition": task_definition,
                            "LoadBalancerInfo": {"ContainerName": "webapp", "ContainerPort": 80},
                            "PlatformVersion": "LATEST",
                        },
                    }
                }
            ],
        }
        deployment_id: str = self.clients.codedeploy.create_deployment(
            applicationName=APP,
            deploymentGroupName=GROUP,
            revision={
                "revisionType": "AppSpecContent",
                "appSpecContent": {"content": json.dumps(appspec)},
            },
            **extra,
        )["deploymentId"]
        return deployment_id


def _name(arn: str) -> str:
    return arn.split(":targetgroup/", 1)[1].split("/", 1)[0]


def push_image(
    aws: Emulator, clients: Any, repository: str, tag: str, files: dict[str, bytes]
) -> str:
    """Push an image to ECR (moto) and remember the files it was built from."""
    try:
        uri = clients.ecr.create_repository(repositoryName=repository)["repository"][
            "repositoryUri"
        ]
    except clients.ecr.exceptions.RepositoryAlreadyExistsException:
        uri = clients.ecr.describe_repositories(repositoryNames=[repository])["repositories"][0][
            "repositoryUri"
        ]
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"digest": "sha256:" + f"{len(files):064x}", "size": 1},
            "layers": [],
        }
    )
    clients.ecr.put_image(repositoryName=repository, imageManifest=manifest, imageTag=tag)
    aws.images[f"{uri}:{tag}"] = files
    return f"{uri}:{tag}"


def scaffold_images() -> tuple[dict[str, bytes], dict[str, bytes]]:
    """The app's and the router's build contexts from the scaffold."""
    files = render(Config())
    app = {
        k.removeprefix("webapp/"): v.encode() for k, v in files.items() if k.startswith("webapp/")
    }
    router = {
        k.removeprefix("firelens/"): v.encode()
        for k, v in files.items()
        if k.startswith("firelens/")
    }
    return app, router


def build(
    aws: Emulator,
    *,
    test_listener: bool = True,
    ready: str = "STOP_DEPLOYMENT",
    wait_minutes: int = 10,
    termination_minutes: int = 15,
    config: str = "CodeDeployDefault.ECSAllAtOnce",
    rollback_events: tuple[str, ...] = ("DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_REQUEST"),
    desired: int = 1,
    grace: int = 60,
    deregistration_delay: int = 30,
    wait: bool = True,
    weighted: bool = False,
) -> System:
    """The system, with the first task set running and healthy (the clock advanced)
    unless ``wait`` is false (the clock still at T0, the first task provisioning).

    ``weighted``: the listeners forward {blue: 100, green: 0} (as bluegreen's stacks do),
    instead of a plain forward to blue that leaves green behind no listener."""
    clients = aws.clients()
    system = System(aws, clients)
    ec2 = clients.ec2
    system.vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=system.vpc, EnableDnsHostnames={"Value": True})
    zones = [f"{REGION}a", f"{REGION}c"]
    system.subnets = [
        ec2.create_subnet(VpcId=system.vpc, CidrBlock=cidr, AvailabilityZone=zone)["Subnet"][
            "SubnetId"
        ]
        for cidr, zone in (("10.0.0.0/18", zones[0]), ("10.0.64.0/18", zones[1]))
    ]
    alb_sg = ec2.create_security_group(GroupName="alb", Description="alb", VpcId=system.vpc)[
        "GroupId"
    ]
    system.task_sg = ec2.create_security_group(
        GroupName="task", Description="task", VpcId=system.vpc
    )["GroupId"]

    iam = clients.iam
    # What bluegreen's deploy creates first (aws-fidelity B2): ECS's service-linked role.
    iam.create_service_linked_role(AWSServiceName="ecs.amazonaws.com")
    system.execution_role = iam.create_role(
        RoleName="exec", AssumeRolePolicyDocument=trust("ecs-tasks.amazonaws.com")
    )["Role"]["Arn"]
    system.task_role = iam.create_role(
        RoleName="task", AssumeRolePolicyDocument=trust("ecs-tasks.amazonaws.com")
    )["Role"]["Arn"]
    system.codedeploy_role = iam.create_role(
        RoleName="codedeploy", AssumeRolePolicyDocument=trust("codedeploy.amazonaws.com")
    )["Role"]["Arn"]
    # These fixtures test the services, not IAM: the roles may do anything (IAM's
    # evaluation of the stacks' own roles: tests/test_iam_enforced.py).
    everything = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
        }
    )
    for name in ("exec", "task", "codedeploy"):
        iam.put_role_policy(RoleName=name, PolicyName="all", PolicyDocument=everything)

    logs = clients.logs
    logs.create_log_group(logGroupName=APP_LOGS)
    logs.create_log_group(logGroupName=ROUTER_LOGS)

    app_files, router_files = scaffold_images()
    system.app_image = push_image(aws, clients, "sample3-dev-webapp", "v1", app_files)
    system.router_image = push_image(aws, clients, "sample3-dev-log-router", "v1", router_files)

    elbv2 = clients.elbv2
    system.alb = elbv2.create_load_balancer(
        Name="demo-alb", Subnets=system.subnets, SecurityGroups=[alb_sg], Type="application"
    )["LoadBalancers"][0]["LoadBalancerArn"]
    groups = []
    for name in ("demo-blue", "demo-green"):
        arn = elbv2.create_target_group(
            Name=name,
            Protocol="HTTP",
            Port=80,
            VpcId=system.vpc,
            TargetType="ip",
            HealthCheckPath="/health",
            HealthCheckIntervalSeconds=15,
            HealthyThresholdCount=2,
            UnhealthyThresholdCount=3,
        )["TargetGroups"][0]["TargetGroupArn"]
        elbv2.modify_target_group_attributes(
            TargetGroupArn=arn,
            Attributes=[
                {"Key": "deregistration_delay.timeout_seconds", "Value": str(deregistration_delay)}
            ],
        )
        groups.append(arn)
    system.blue, system.green = groups
    action: dict[str, Any] = {"Type": "forward", "TargetGroupArn": system.blue}
    if weighted:
        action = {
            "Type": "forward",
            "ForwardConfig": {
                "TargetGroups": [
                    {"TargetGroupArn": system.blue, "Weight": 100},
                    {"TargetGroupArn": system.green, "Weight": 0},
                ]
            },
        }
    system.production = elbv2.create_listener(
        LoadBalancerArn=system.alb, Protocol="HTTP", Port=80, DefaultActions=[action]
    )["Listeners"][0]["ListenerArn"]
    if test_listener:
        system.test = elbv2.create_listener(
            LoadBalancerArn=system.alb, Protocol="HTTP", Port=8080, DefaultActions=[action]
        )["Listeners"][0]["ListenerArn"]

    ecs = clients.ecs
    ecs.create_cluster(clusterName=CLUSTER)
    system.task_definition = system.register(system.app_image)
    ecs.create_service(
        cluster=CLUSTER,
        serviceName=SERVICE,
        taskDefinition=system.task_definition,
        desiredCount=desired,
        launchType="FARGATE",
        deploymentController={"type": "CODE_DEPLOY"},
        healthCheckGracePeriodSeconds=grace,
        loadBalancers=[
            {"targetGroupArn": system.blue, "containerName": "webapp", "containerPort": 80}
        ],
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": system.subnets,
                "securityGroups": [system.task_sg],
                "assignPublicIp": "ENABLED",
            }
        },
    )

    codedeploy = clients.codedeploy
    codedeploy.create_application(applicationName=APP, computePlatform="ECS")
    pair: dict[str, Any] = {
        "targetGroups": [{"name": "demo-blue"}, {"name": "demo-green"}],
        "prodTrafficRoute": {"listenerArns": [system.production]},
    }
    if test_listener:
        pair["testTrafficRoute"] = {"listenerArns": [system.test]}
    ready_option: dict[str, Any] = {"actionOnTimeout": ready}
    if ready == "STOP_DEPLOYMENT":
        ready_option["waitTimeInMinutes"] = wait_minutes
    codedeploy.create_deployment_group(
        applicationName=APP,
        deploymentGroupName=GROUP,
        serviceRoleArn=system.codedeploy_role,
        deploymentConfigName=config,
        deploymentStyle={
            "deploymentType": "BLUE_GREEN",
            "deploymentOption": "WITH_TRAFFIC_CONTROL",
        },
        blueGreenDeploymentConfiguration={
            "deploymentReadyOption": ready_option,
            "terminateBlueInstancesOnDeploymentSuccess": {
                "action": "TERMINATE",
                "terminationWaitTimeInMinutes": termination_minutes,
            },
        },
        autoRollbackConfiguration={
            "enabled": bool(rollback_events),
            "events": list(rollback_events),
        },
        ecsServices=[{"clusterName": CLUSTER, "serviceName": SERVICE}],
        loadBalancerInfo={"targetGroupPairInfoList": [pair]},
    )
    if wait:
        system.wait_for(
            lambda: (
                system.primary()["runningCount"] == desired
                and all(state == "healthy" for state, _ in system.health(system.blue))
                and len(system.health(system.blue)) == desired
            )
        )
    return system
