"""Every derived AWS name, the outputs each engine's stacks export, and which config key
naming_problems blames when a derived name breaks an AWS rule."""

from __future__ import annotations

from typing import Any

import pytest

from bluegreen import config
from bluegreen.errors import ConfigError
from bluegreen.names import (
    CODEDEPLOY_ONLY_OUTPUTS,
    ECS_HOOK_OUTPUTS,
    ECS_ONLY_OUTPUTS,
    Names,
    Outputs,
    naming_problems,
)


def test_every_name_of_one_config() -> None:
    cfg = config.from_dict(
        {
            "project": {"name": "shop", "environment": "prod"},
            "source": {"repository": "storefront"},
            "app": {"name": "web", "directory": "web"},
            "router": {"name": "logs", "directory": "logs"},
        }
    )
    names = Names.of(cfg)
    assert names == Names("shop", "prod", "web", "logs", "storefront")
    assert {
        "prefix": names.prefix,
        "stacks": names.stacks,
        "codecommit_repository": names.codecommit_repository,
        "app_image_repository": names.app_image_repository,
        "router_image_repository": names.router_image_repository,
        "cluster": names.cluster,
        "service": names.service,
        "task_family": names.task_family,
        "load_balancer": names.load_balancer,
        "blue_target_group": names.blue_target_group,
        "green_target_group": names.green_target_group,
        "app_log_group": names.app_log_group,
        "router_log_group": names.router_log_group,
        "app_build_project": names.app_build_project,
        "router_build_project": names.router_build_project,
        "app_build_log_group": names.app_build_log_group,
        "router_build_log_group": names.router_build_log_group,
        "deploy_project": names.deploy_project,
        "deploy_log_group": names.deploy_log_group,
        "codedeploy_application": names.codedeploy_application,
        "deployment_group": names.deployment_group,
        "pipeline": names.pipeline,
        "source_rule": names.source_rule,
        "export": names.export(names.source_stack, Outputs.REPOSITORY_ARN),
    } == {
        "prefix": "shop-prod",
        "stacks": ("shop-prod-source", "shop-prod-service", "shop-prod-pipeline"),
        "codecommit_repository": "shop-prod-storefront",
        "app_image_repository": "shop-prod-web",
        "router_image_repository": "shop-prod-logs",
        "cluster": "shop-prod-cluster",
        "service": "shop-prod-service",
        "task_family": "shop-prod-task",
        "load_balancer": "shop-prod-alb",
        "blue_target_group": "shop-prod-blue",
        "green_target_group": "shop-prod-green",
        "app_log_group": "/bluegreen/shop-prod/web",
        "router_log_group": "/bluegreen/shop-prod/logs",
        "app_build_project": "shop-prod-web-build",
        "router_build_project": "shop-prod-logs-build",
        "app_build_log_group": "/bluegreen/shop-prod/web-build",
        "router_build_log_group": "/bluegreen/shop-prod/logs-build",
        "deploy_project": "shop-prod-deploy",
        "deploy_log_group": "/bluegreen/shop-prod/deploy",
        "codedeploy_application": "shop-prod-app",
        "deployment_group": "shop-prod-deployment-group",
        "pipeline": "shop-prod-pipeline",
        "source_rule": "shop-prod-source-push",
        "export": "shop-prod-source-RepositoryArn",
    }


def test_each_engine_exports_its_own_outputs_and_the_common_ones() -> None:
    every = {v for k, v in vars(Outputs).items() if k.isupper()}
    codedeploy = Outputs.of_engine("codedeploy")
    ecs = Outputs.of_engine("ecs")
    assert codedeploy == every - ECS_ONLY_OUTPUTS - ECS_HOOK_OUTPUTS
    assert ecs == every - CODEDEPLOY_ONLY_OUTPUTS - ECS_HOOK_OUTPUTS
    assert {"CodeDeployApplicationName", "DeploymentGroupName"} <= codedeploy - ecs
    assert {"ProductionListenerRuleArn", "DeployProjectName"} <= ecs - codedeploy
    # The verify hook's outputs exist only with [verify] checks: neither set holds them.
    assert not (codedeploy | ecs) & {"VerifyHookFunctionArn", "VerifyHookInvokeRoleArn"}
    assert {"PipelineName", "ClusterName", "ProductionUrl"} <= codedeploy & ecs
    assert len(codedeploy) == len(every) - 6 and len(ecs) == len(every) - 4


# The config keys a problem blames are the ones that make the name up (the user shortens
# or renames those): CodeBuild ProjectName at most 150 characters (botocore codebuild
# model), ECR repository names lowercase alphanumerics joined by single separators.
PREFIX = "project.name + project.environment"


@pytest.mark.parametrize(
    ("data", "key", "message"),
    [
        (
            {"router": {"name": "r" * 133}},
            f"{PREFIX} + router.name",
            "the CodeBuild project name 'sample3-dev-" + "r" * 133 + "-build' is 151 "
            f"characters; AWS allows at most 150: shorten {PREFIX} + router.name",
        ),
        (
            {"app": {"name": "a" * 133}},
            f"{PREFIX} + app.name",
            "the CodeBuild project name 'sample3-dev-" + "a" * 133 + "-build' is 151 "
            f"characters; AWS allows at most 150: shorten {PREFIX} + app.name",
        ),
        (
            {"router": {"name": "router_"}},
            f"{PREFIX} + router.name",
            "the ECR repository name 'sample3-dev-router_' breaks AWS naming rules",
        ),
        (
            {"source": {"repository": "r" * 89}},
            f"{PREFIX} + source.repository",
            "the CodeCommit repository name 'sample3-dev-" + "r" * 89 + "' is 101 characters; "
            f"AWS allows at most 100: shorten {PREFIX} + source.repository",
        ),
    ],
)
def test_a_derived_name_problem_blames_the_keys_that_make_it(
    data: dict[str, Any], key: str, message: str
) -> None:
    assert naming_problems(config.Config.model_validate(data)) == [(key, message)]
    with pytest.raises(ConfigError) as info:
        config.from_dict(data)
    assert info.value.problems == [(key, message)]
