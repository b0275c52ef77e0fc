"""Every AWS resource name, derived from the config in this one place.

``Names(config)`` gives the physical names (stacks, repositories, cluster, service, load
balancer, target groups, build projects, CodeDeploy application and deployment group,
pipeline, log groups) and the CloudFormation output keys that later stacks and the
operating commands read. ``naming_problems(config)`` checks the derived names against
AWS rules so a config that would fail at deploy time fails at load time instead, naming
the config key to change.

Resources whose names AWS must keep unique per account or globally and that nobody types
(the artifact bucket, IAM roles) are left for CloudFormation to name; their names are
read from stack outputs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bluegreen.config import Config

# Placeholders in the application repository's taskdef.json and appspec.yml.
# CodeDeployToECS replaces <IMAGE1_NAME>/<IMAGE2_NAME> from each build's imageDetail.json
# and <TASK_DEFINITION> in appspec.yml; the app build replaces the stack-derived ones.
APP_IMAGE_PLACEHOLDER = "IMAGE1_NAME"
ROUTER_IMAGE_PLACEHOLDER = "IMAGE2_NAME"
TASK_DEFINITION_PLACEHOLDER = "<TASK_DEFINITION>"
TASK_ROLE_PLACEHOLDER = "<TASK_ROLE_ARN>"
EXECUTION_ROLE_PLACEHOLDER = "<EXECUTION_ROLE_ARN>"
REGION_PLACEHOLDER = "<AWS_REGION>"


class Outputs:
    """CloudFormation output keys (exported as ``<stack>-<key>``)."""

    # source stack
    REPOSITORY_NAME = "RepositoryName"
    REPOSITORY_ARN = "RepositoryArn"
    REPOSITORY_CLONE_URL = "RepositoryCloneUrlHttp"
    APP_IMAGE_REPOSITORY_NAME = "AppImageRepositoryName"
    APP_IMAGE_REPOSITORY_URI = "AppImageRepositoryUri"
    APP_IMAGE_REPOSITORY_ARN = "AppImageRepositoryArn"
    ROUTER_IMAGE_REPOSITORY_NAME = "RouterImageRepositoryName"
    ROUTER_IMAGE_REPOSITORY_URI = "RouterImageRepositoryUri"
    ROUTER_IMAGE_REPOSITORY_ARN = "RouterImageRepositoryArn"
    # service stack
    VPC_ID = "VpcId"
    LOAD_BALANCER_DNS = "LoadBalancerDnsName"
    LOAD_BALANCER_ARN = "LoadBalancerArn"
    PRODUCTION_LISTENER_ARN = "ProductionListenerArn"
    TEST_LISTENER_ARN = "TestListenerArn"
    BLUE_TARGET_GROUP_ARN = "BlueTargetGroupArn"
    GREEN_TARGET_GROUP_ARN = "GreenTargetGroupArn"
    BLUE_TARGET_GROUP_NAME = "BlueTargetGroupName"
    GREEN_TARGET_GROUP_NAME = "GreenTargetGroupName"
    CLUSTER_NAME = "ClusterName"
    CLUSTER_ARN = "ClusterArn"
    SERVICE_NAME = "ServiceName"
    SERVICE_ARN = "ServiceArn"
    TASK_ROLE_ARN = "TaskRoleArn"
    EXECUTION_ROLE_ARN = "ExecutionRoleArn"
    APP_LOG_GROUP = "AppLogGroupName"
    ROUTER_LOG_GROUP = "RouterLogGroupName"
    PRODUCTION_URL = "ProductionUrl"
    TEST_URL = "TestUrl"
    # service stack, engine "ecs" (ECS built-in blue/green)
    PRODUCTION_RULE_ARN = "ProductionListenerRuleArn"
    TEST_RULE_ARN = "TestListenerRuleArn"
    INFRASTRUCTURE_ROLE_ARN = "LoadBalancerInfrastructureRoleArn"
    # service stack, engine "ecs" with [verify] checks: what the service's Lambda
    # lifecycle hook names, read by `deploy` to set it with UpdateService (aws/owned.py)
    VERIFY_HOOK_ARN = "VerifyHookFunctionArn"
    VERIFY_HOOK_INVOKE_ROLE_ARN = "VerifyHookInvokeRoleArn"
    # pipeline stack
    PIPELINE_NAME = "PipelineName"
    ARTIFACT_BUCKET = "ArtifactBucketName"
    CODEDEPLOY_APPLICATION = "CodeDeployApplicationName"
    DEPLOYMENT_GROUP = "DeploymentGroupName"
    APP_BUILD_PROJECT = "AppBuildProjectName"
    ROUTER_BUILD_PROJECT = "RouterBuildProjectName"
    DEPLOY_PROJECT = "DeployProjectName"  # engine "ecs": the Deploy step

    @classmethod
    def of_engine(cls, engine: str) -> frozenset[str]:
        """The outputs the stacks of one deployment.engine export: each engine's own
        (CodeDeploy's application and group; ECS's rules, role and deploy step) and the
        common rest."""
        every = {v for k, v in vars(cls).items() if k.isupper()} - ECS_HOOK_OUTPUTS
        return frozenset(
            every - (ECS_ONLY_OUTPUTS if engine == "codedeploy" else CODEDEPLOY_ONLY_OUTPUTS)
        )


ECS_ONLY_OUTPUTS = frozenset(
    {
        Outputs.PRODUCTION_RULE_ARN,
        Outputs.TEST_RULE_ARN,
        Outputs.INFRASTRUCTURE_ROLE_ARN,
        Outputs.DEPLOY_PROJECT,
    }
)
ECS_HOOK_OUTPUTS = frozenset({Outputs.VERIFY_HOOK_ARN, Outputs.VERIFY_HOOK_INVOKE_ROLE_ARN})
"""Outputs of the service stack under engine "ecs" with [verify] checks only (not in
:meth:`Outputs.of_engine`)."""
CODEDEPLOY_ONLY_OUTPUTS = frozenset({Outputs.CODEDEPLOY_APPLICATION, Outputs.DEPLOYMENT_GROUP})


@dataclass(frozen=True)
class Names:
    """Physical names for one config. Pure: same config, same names."""

    project: str
    environment: str
    app_container: str
    router_container: str
    source_repository: str

    @classmethod
    def of(cls, config: Config) -> Names:
        return cls(
            project=config.project.name,
            environment=config.project.environment,
            app_container=config.app.name,
            router_container=config.router.name,
            source_repository=config.source.repository,
        )

    @property
    def prefix(self) -> str:
        return f"{self.project}-{self.environment}"

    # stacks, in deploy order
    @property
    def source_stack(self) -> str:
        return f"{self.prefix}-source"

    @property
    def service_stack(self) -> str:
        return f"{self.prefix}-service"

    @property
    def pipeline_stack(self) -> str:
        return f"{self.prefix}-pipeline"

    @property
    def stacks(self) -> tuple[str, str, str]:
        return (self.source_stack, self.service_stack, self.pipeline_stack)

    def export(self, stack: str, output: str) -> str:
        """The export name of ``output`` of ``stack`` (read with Fn::ImportValue)."""
        return f"{stack}-{output}"

    # source
    @property
    def codecommit_repository(self) -> str:
        return f"{self.prefix}-{self.source_repository}"

    @property
    def app_image_repository(self) -> str:
        return f"{self.prefix}-{self.app_container}"

    @property
    def router_image_repository(self) -> str:
        return f"{self.prefix}-{self.router_container}"

    # service
    @property
    def cluster(self) -> str:
        return f"{self.prefix}-cluster"

    @property
    def service(self) -> str:
        return f"{self.prefix}-service"

    @property
    def task_family(self) -> str:
        return f"{self.prefix}-task"

    @property
    def load_balancer(self) -> str:
        return f"{self.prefix}-alb"

    @property
    def blue_target_group(self) -> str:
        return f"{self.prefix}-blue"

    @property
    def green_target_group(self) -> str:
        return f"{self.prefix}-green"

    @property
    def app_log_group(self) -> str:
        return f"/bluegreen/{self.prefix}/{self.app_container}"

    @property
    def router_log_group(self) -> str:
        return f"/bluegreen/{self.prefix}/{self.router_container}"

    # pipeline
    @property
    def app_build_project(self) -> str:
        return f"{self.prefix}-{self.app_container}-build"

    @property
    def router_build_project(self) -> str:
        return f"{self.prefix}-{self.router_container}-build"

    @property
    def app_build_log_group(self) -> str:
        return f"/bluegreen/{self.prefix}/{self.app_container}-build"

    @property
    def router_build_log_group(self) -> str:
        return f"/bluegreen/{self.prefix}/{self.router_container}-build"

    @property
    def deploy_project(self) -> str:
        """Engine "ecs": the CodeBuild project of the pipeline's Deploy step."""
        return f"{self.prefix}-deploy"

    @property
    def deploy_log_group(self) -> str:
        return f"/bluegreen/{self.prefix}/deploy"

    @property
    def codedeploy_application(self) -> str:
        return f"{self.prefix}-app"

    @property
    def deployment_group(self) -> str:
        return f"{self.prefix}-deployment-group"

    @property
    def pipeline(self) -> str:
        return f"{self.prefix}-pipeline"

    @property
    def source_rule(self) -> str:
        """The EventBridge rule that starts the pipeline on a push. Named, so the
        pipeline-start role's trust policy can name the rule's ARN (aws:SourceArn)
        without a reference cycle between the rule and its role."""
        return f"{self.prefix}-source-push"


# (what, limit, pattern, which config keys make it up)
_ALB_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$")
_ECR_NAME = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$")
_CODEBUILD_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_RULE_NAME = re.compile(r"^[.\-_A-Za-z0-9]+$")
_PREFIX_KEYS = "project.name + project.environment"


def naming_problems(config: Config) -> list[tuple[str, str]]:
    """(config key, message) for every derived name that breaks an AWS rule."""
    names = Names.of(config)
    problems: list[tuple[str, str]] = []

    def check(what: str, name: str, limit: int, pattern: re.Pattern[str] | None, keys: str) -> None:
        if len(name) > limit:
            problems.append(
                (
                    keys,
                    f"the {what} name {name!r} is {len(name)} characters; AWS allows at most "
                    f"{limit}: shorten {keys}",
                )
            )
        elif pattern is not None and not pattern.match(name):
            problems.append((keys, f"the {what} name {name!r} breaks AWS naming rules"))

    check("load balancer", names.load_balancer, 32, _ALB_NAME, _PREFIX_KEYS)
    check("target group", names.green_target_group, 32, _ALB_NAME, _PREFIX_KEYS)
    check("target group", names.blue_target_group, 32, _ALB_NAME, _PREFIX_KEYS)
    check(
        "ECR repository", names.app_image_repository, 256, _ECR_NAME, _PREFIX_KEYS + " + app.name"
    )
    check(
        "ECR repository",
        names.router_image_repository,
        256,
        _ECR_NAME,
        _PREFIX_KEYS + " + router.name",
    )
    check(
        "CodeCommit repository",
        names.codecommit_repository,
        100,
        None,
        _PREFIX_KEYS + " + source.repository",
    )
    check(
        "CodeBuild project",
        names.router_build_project,
        150,
        _CODEBUILD_NAME,
        _PREFIX_KEYS + " + router.name",
    )
    check(
        "CodeBuild project",
        names.app_build_project,
        150,
        _CODEBUILD_NAME,
        _PREFIX_KEYS + " + app.name",
    )
    check("ECS cluster", names.cluster, 255, None, _PREFIX_KEYS)
    check("pipeline", names.pipeline, 100, None, _PREFIX_KEYS)
    check("deployment group", names.deployment_group, 100, None, _PREFIX_KEYS)
    # EventBridge rule names: 1-64 of [.-_A-Za-z0-9] (EventBridge API reference, PutRule).
    check("EventBridge rule", names.source_rule, 64, _RULE_NAME, _PREFIX_KEYS)
    # Stack names: letters, digits, hyphens, at most 128; exports "<stack>-<Output>" at most 255.
    check("stack", names.pipeline_stack, 128, None, _PREFIX_KEYS)
    # Fargate task family: up to 255 letters, digits, '-' and '_'.
    check("task definition family", names.task_family, 255, None, _PREFIX_KEYS)
    return problems
