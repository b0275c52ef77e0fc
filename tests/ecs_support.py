"""The ECS engine's system in the emulated account, for end-to-end tests (no tests here)."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from botocore.exceptions import ClientError
from emulated import Emulated
from engine_stubs import refs

from bluegreen.config import Config
from bluegreen.emulator import Emulator
from bluegreen.names import Names
from bluegreen.stacks import build

ECS_CONFIG = '[deployment]\nengine = "ecs"\n'
CLUSTER = "sample3-dev-cluster"
SERVICE = "sample3-dev-service"

# What RegisterTaskDefinition takes back from DescribeTaskDefinition's answer.
_REGISTERED = (
    "family",
    "containerDefinitions",
    "cpu",
    "memory",
    "networkMode",
    "requiresCompatibilities",
    "executionRoleArn",
    "taskRoleArn",
)


def release(aws: Emulator, tag: str) -> str:
    """What the pipeline's deploy step does: register a revision (the running one with
    RELEASE=tag), UpdateService. Returns the new revision's ARN."""
    ecs = aws.client("ecs")
    current = ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    definition = ecs.describe_task_definition(taskDefinition=current["taskDefinition"])[
        "taskDefinition"
    ]
    body = {k: definition[k] for k in _REGISTERED if k in definition}
    body["containerDefinitions"][0]["environment"] = [{"name": "RELEASE", "value": tag}]
    arn = str(ecs.register_task_definition(**body)["taskDefinition"]["taskDefinitionArn"])
    ecs.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=arn)
    return arn


def stubbed_engine(ecs_client: Any = None) -> Any:
    """The ECS engine of service "s" in cluster "c" over ``ecs_client`` (a Stubber's)."""
    from bluegreen.engine.ecs import EcsEngine

    return EcsEngine(SimpleNamespace(ecs=ecs_client), refs(), {})  # type: ignore[arg-type]


def create_service_stacks(emulated: Emulated, config: Config) -> None:
    """The source and service stacks created through the emulated CloudFormation (no
    pipeline: a test releases as the deploy step does)."""
    aws = emulated.aws
    aws.client("iam").create_service_linked_role(AWSServiceName="ecs.amazonaws.com")
    cfn = aws.client("cloudformation")
    for stack in build(config)[:2]:
        cfn.create_stack(
            StackName=stack.name,
            TemplateBody=stack.to_yaml(),
            Capabilities=["CAPABILITY_NAMED_IAM"],
        )
        emulated.until(_created_continuing(aws, config, stack.name))


def _created_continuing(aws: Emulator, config: Config, name: str) -> Callable[[], bool]:
    """The stack is created; meanwhile the service's creation (its first service
    deployment, which the PAUSE hook of reroute = "manual" holds and CloudFormation's
    create waits on: emulator/cloudformation/resources/compute.py) is continued at its
    pause, as `bluegreen deploy` does (DeploymentEngine.continue_creation)."""
    names = Names.of(config)

    def check() -> bool:
        status = aws.client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]
        if status["StackStatus"] == "CREATE_COMPLETE":
            return True
        ecs = aws.client("ecs")
        try:
            listed = ecs.list_service_deployments(cluster=names.cluster, service=names.service)
        except ClientError:
            return False  # no service yet
        for summary in listed["serviceDeployments"]:
            found = ecs.describe_service_deployments(
                serviceDeploymentArns=[summary["serviceDeploymentArn"]]
            )["serviceDeployments"][0]
            for hook in found.get("lifecycleHookDetails", []):
                if hook["status"] == "AWAITING_ACTION":
                    ecs.continue_service_deployment(
                        serviceDeploymentArn=found["serviceDeploymentArn"], hookId=hook["hookId"]
                    )
        return False

    return check
