"""Every derived AWS name, the outputs each engine's stacks export, and which config key
naming_problems blames when a derived name breaks an AWS rule."""

from __future__ import annotations

from typing import Any

import pytest
from configs import config_error

from bluegreen import config, stacks
from bluegreen.names import (
    ECS_HOOK_OUTPUTS,
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


# What only one engine's stacks export, written out: CodeDeploy's application and
# deployment group; ECS built-in blue/green's listener rules, the load balancer role it
# passes to ECS, and the pipeline's Deploy step project. The verify hook's two outputs
# exist only under "ecs" with [verify] checks.
OWN_OUTPUTS = {
    "codedeploy": {"CodeDeployApplicationName", "DeploymentGroupName"},
    "ecs": {
        "ProductionListenerRuleArn",
        "TestListenerRuleArn",
        "LoadBalancerInfrastructureRoleArn",
        "DeployProjectName",
    },
}
HOOK_OUTPUTS = {"VerifyHookFunctionArn", "VerifyHookInvokeRoleArn"}


def synthesized_outputs(engine: str, checks: list[dict[str, Any]]) -> set[str]:
    """The Outputs keys of every stack synthesized for one engine (no branch checks, whose
    project output belongs to stacks/branches.py, not to Outputs)."""
    cfg = config.from_dict(
        {"deployment": {"engine": engine}, "builds": {"branches": []}, "verify": {"checks": checks}}
    )
    return {key for stack in stacks.build(cfg) for key in stack.template.to_dict()["Outputs"]}


@pytest.mark.parametrize("engine", ["codedeploy", "ecs"])
def test_each_engine_exports_what_its_synthesized_stacks_output(engine: str) -> None:
    made = synthesized_outputs(engine, [])
    assert Outputs.of_engine(engine) == made
    other = ({"codedeploy", "ecs"} - {engine}).pop()
    assert made - synthesized_outputs(other, []) == OWN_OUTPUTS[engine]
    assert not made & (OWN_OUTPUTS[other] | HOOK_OUTPUTS)
    assert {"PipelineName", "ClusterName", "ProductionUrl"} <= made


@pytest.mark.parametrize(("engine", "hooked"), [("ecs", HOOK_OUTPUTS), ("codedeploy", set[str]())])
def test_verify_checks_add_the_hook_outputs_under_ecs_only(engine: str, hooked: set[str]) -> None:
    # of_engine leaves the hook's outputs out: ECS_HOOK_OUTPUTS names them for readers
    # (aws/owned.py) that find them only when the service stack has them.
    assert ECS_HOOK_OUTPUTS == HOOK_OUTPUTS
    made = synthesized_outputs(engine, [{"path": "/"}])
    assert made == Outputs.of_engine(engine) | hooked


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
    assert config_error(data).problems == [(key, message)]


# The accepted edge of the same limits (botocore's models: codebuild 2016-10-06
# ProjectName max 150, codecommit 2015-04-13 RepositoryName max 100). "sample3-dev-" is
# 12 characters and "-build" 6, so a 132-character app or router name makes a
# 150-character project name and an 88-character repository a 100-character one.
@pytest.mark.parametrize(
    ("data", "name", "length"),
    [
        ({"router": {"name": "r" * 132}}, "router_build_project", 150),
        ({"app": {"name": "a" * 132}}, "app_build_project", 150),
        ({"source": {"repository": "r" * 88}}, "codecommit_repository", 100),
    ],
)
def test_a_derived_name_at_the_limit_is_accepted(
    data: dict[str, Any], name: str, length: int
) -> None:
    cfg = config.from_dict(data)
    assert len(getattr(Names.of(cfg), name)) == length
    assert naming_problems(cfg) == []
