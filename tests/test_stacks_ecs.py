"""Semantic tests of the stacks with deployment.engine = "ecs" (ECS built-in blue/green),
read back from the YAML that gets deployed (tests/test_stacks.py does the same for the
CodeDeploy engine; tests/test_lint.py lints both)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from configs import CONFIGS, ECS_CONFIGS

from bluegreen import config as config_mod
from bluegreen.config import deploy_step_minutes
from bluegreen.names import Names, Outputs
from bluegreen.stacks import build
from bluegreen.stacks import verification as verify_stacks


def templates(text: str) -> tuple[Any, dict[str, dict[str, Any]]]:
    config = config_mod.parse(text)
    return config, {s.key: yaml.safe_load(s.to_yaml()) for s in build(config)}


def of_type(template: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_}


@pytest.fixture(scope="module", params=sorted(ECS_CONFIGS))
def system(request: pytest.FixtureRequest) -> tuple[Any, dict[str, dict[str, Any]]]:
    return templates(ECS_CONFIGS[request.param])


def test_the_service_has_the_ecs_controller_and_its_deployment_configuration(
    system: Any,
) -> None:
    config, stacks = system
    service = stacks["service"]["Resources"]["Service"]["Properties"]
    settings = config.deployment.ecs
    assert service["DeploymentController"] == {"Type": "ECS"}
    deployment = service["DeploymentConfiguration"]
    assert deployment["Strategy"] == settings.strategy
    assert deployment["BakeTimeInMinutes"] == settings.bake_minutes
    assert deployment["DeploymentCircuitBreaker"] == {
        "Enable": True,
        "Rollback": config.deployment.auto_rollback,
    }
    if settings.strategy == "LINEAR":
        assert deployment["LinearConfiguration"] == {
            "StepPercent": settings.step_percent,
            "StepBakeTimeInMinutes": settings.step_bake_minutes,
        }
    else:
        assert "LinearConfiguration" not in deployment
    if settings.strategy == "CANARY":
        assert deployment["CanaryConfiguration"] == {
            "CanaryPercent": settings.canary_percent,
            "CanaryBakeTimeInMinutes": settings.canary_bake_minutes,
        }
    else:
        assert "CanaryConfiguration" not in deployment
    # reroute = "manual": a PAUSE hook after the test traffic shift whose timeout
    # (wait_minutes) rolls back; "auto": no hook (ECS API reference,
    # DeploymentLifecycleHook; PAUSE is not allowed at TEST_TRAFFIC_SHIFT or
    # PRODUCTION_TRAFFIC_SHIFT)
    # issue 11: with checks, the verify hook (AWS_LAMBDA) at the same stage, first; its
    # timeout rolls back too (stacks/verification.py; tests/test_stacks_verify.py)
    hooks = []
    if verify_stacks.has_hook(config):
        hooks.append(
            {
                "TargetType": "AWS_LAMBDA",
                "HookTargetArn": {"Fn::GetAtt": ["VerifyHookFunction", "Arn"]},
                "RoleArn": {"Fn::GetAtt": ["VerifyHookInvokeRole", "Arn"]},
                "LifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
                "TimeoutConfiguration": {
                    "TimeoutInMinutes": verify_stacks.ecs_hook_timeout_minutes(config),
                    "Action": "ROLLBACK",
                },
            }
        )
    if config.deployment.reroute == "manual":
        hooks.append(
            {
                "TargetType": "PAUSE",
                "LifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
                "TimeoutConfiguration": {
                    "TimeoutInMinutes": config.deployment.wait_minutes,
                    "Action": "ROLLBACK",
                },
            }
        )
    assert deployment.get("LifecycleHooks", []) == hooks
    alarms = verify_stacks.alarm_names(config)
    if alarms:
        assert deployment["Alarms"] == {
            "AlarmNames": alarms,
            "Enable": True,
            "Rollback": config.deployment.auto_rollback,
        }
    else:
        assert "Alarms" not in deployment


def test_listener_rules_and_the_advanced_configuration(system: Any) -> None:
    _, stacks = system
    resources = stacks["service"]["Resources"]
    rules = of_type(stacks["service"], "AWS::ElasticLoadBalancingV2::ListenerRule")
    assert sorted(rules) == ["ProductionListenerRule", "TestListenerRule"]
    for name, listener in (("Production", "ProductionListener"), ("Test", "TestListener")):
        rule = rules[f"{name}ListenerRule"]["Properties"]
        assert rule["ListenerArn"] == {"Ref": listener}
        assert rule["Priority"] == 1
        assert rule["Conditions"] == [
            {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/*"]}}
        ]
        # both target groups on the rule (ECS requires them associated), forward only
        assert rule["Actions"] == [
            {
                "Type": "forward",
                "ForwardConfig": {
                    "TargetGroups": [
                        {"TargetGroupArn": {"Ref": "BlueTargetGroup"}, "Weight": 100},
                        {"TargetGroupArn": {"Ref": "GreenTargetGroup"}, "Weight": 0},
                    ]
                },
            }
        ]
    (balancer,) = resources["Service"]["Properties"]["LoadBalancers"]
    assert balancer["TargetGroupArn"] == {"Ref": "BlueTargetGroup"}
    assert balancer["AdvancedConfiguration"] == {
        "AlternateTargetGroupArn": {"Ref": "GreenTargetGroup"},
        "ProductionListenerRule": {"Ref": "ProductionListenerRule"},
        "TestListenerRule": {"Ref": "TestListenerRule"},
        "RoleArn": {"Fn::GetAtt": ["LoadBalancerInfrastructureRole", "Arn"]},
    }


def test_the_infrastructure_role_is_scoped_to_this_system(system: Any) -> None:
    _, stacks = system
    role = stacks["service"]["Resources"]["LoadBalancerInfrastructureRole"]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": ["ecs.amazonaws.com"]},
            "Action": ["sts:AssumeRole"],
        }
    ]
    (policy,) = role["Policies"]
    granted = {
        action: statement["Resource"]
        for statement in policy["PolicyDocument"]["Statement"]
        for action in statement["Action"]
    }
    # The actions of AmazonECSInfrastructureRolePolicyForLoadBalancers, nothing more;
    # only the Describe* reads (no resource-level permissions) on "*".
    assert granted == {
        "elasticloadbalancing:DescribeListeners": ["*"],
        "elasticloadbalancing:DescribeRules": ["*"],
        "elasticloadbalancing:DescribeTargetGroups": ["*"],
        "elasticloadbalancing:DescribeTargetHealth": ["*"],
        "elasticloadbalancing:RegisterTargets": [
            {"Ref": "BlueTargetGroup"},
            {"Ref": "GreenTargetGroup"},
        ],
        "elasticloadbalancing:DeregisterTargets": [
            {"Ref": "BlueTargetGroup"},
            {"Ref": "GreenTargetGroup"},
        ],
        "elasticloadbalancing:ModifyListener": [
            {"Ref": "ProductionListener"},
            {"Ref": "TestListener"},
        ],
        "elasticloadbalancing:ModifyRule": [
            {"Ref": "ProductionListenerRule"},
            {"Ref": "TestListenerRule"},
        ],
    }


def test_the_pipeline_deploys_with_its_own_step_and_no_codedeploy(system: Any) -> None:
    config, stacks = system
    pipeline = stacks["pipeline"]
    assert not [
        r for r in pipeline["Resources"].values() if r["Type"].startswith("AWS::CodeDeploy")
    ]
    assert Outputs.CODEDEPLOY_APPLICATION not in pipeline["Outputs"]
    project = pipeline["Resources"]["DeployProject"]["Properties"]
    assert project["Name"] == Names.of(config).deploy_project
    assert project["TimeoutInMinutes"] == deploy_step_minutes(config.deployment)
    variables = {v["Name"]: v["Value"] for v in project["Environment"]["EnvironmentVariables"]}
    assert variables["WAIT_FOR_BAKE"] == str(config.deployment.ecs.pipeline_waits_for_bake).lower()
    (stage,) = [
        s
        for s in pipeline["Resources"]["Pipeline"]["Properties"]["Stages"]
        if s["Name"] == "Deploy"
    ]
    (action,) = stage["Actions"]
    assert action["ActionTypeId"] == {
        "Category": "Build",
        "Owner": "AWS",
        "Provider": "CodeBuild",
        "Version": "1",
    }
    assert action["Configuration"]["ProjectName"] == {"Ref": "DeployProject"}
    assert [a["Name"] for a in action["InputArtifacts"]] == [
        "AppBuildOutput",
        "RouterBuildOutput",
    ]


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_the_codedeploy_engine_has_no_listener_rules_or_infrastructure_role(name: str) -> None:
    _, stacks = templates(CONFIGS[name])
    service = stacks["service"]
    assert not of_type(service, "AWS::ElasticLoadBalancingV2::ListenerRule")
    assert "LoadBalancerInfrastructureRole" not in service["Resources"]
    assert service["Resources"]["Service"]["Properties"]["DeploymentController"] == {
        "Type": "CODE_DEPLOY"
    }
    assert "DeployProject" not in stacks["pipeline"]["Resources"]
